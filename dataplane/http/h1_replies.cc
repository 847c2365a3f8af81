// HAProxy 2.6's error answers (h1_replies.h).
#include "dataplane/http/h1_replies.h"

namespace sluice::http {
namespace {

#define SLUICE_REPLY(status, length, body)                                      \
  "HTTP/1.1 " status "\r\ncontent-length: " length "\r\ncache-control: no-cache\r\n" \
  "content-type: text/html\r\nconnection: close\r\n\r\n" body

constexpr std::string_view k400 = SLUICE_REPLY(
    "400 Bad request", "90",
    "<html><body><h1>400 Bad request</h1>\nYour browser sent an invalid request.\n"
    "</body></html>\n");
constexpr std::string_view k403 = SLUICE_REPLY(
    "403 Forbidden", "93",
    "<html><body><h1>403 Forbidden</h1>\nRequest forbidden by administrative rules.\n"
    "</body></html>\n");
constexpr std::string_view k408 = SLUICE_REPLY(
    "408 Request Time-out", "110",
    "<html><body><h1>408 Request Time-out</h1>\nYour browser didn't send a complete request "
    "in time.\n</body></html>\n");
constexpr std::string_view k500 = SLUICE_REPLY(
    "500 Internal Server Error", "97",
    "<html><body><h1>500 Internal Server Error</h1>\nAn internal server error occurred.\n"
    "</body></html>\n");
constexpr std::string_view k502 = SLUICE_REPLY(
    "502 Bad Gateway", "107",
    "<html><body><h1>502 Bad Gateway</h1>\nThe server returned an invalid or incomplete "
    "response.\n</body></html>\n");
constexpr std::string_view k503 = SLUICE_REPLY(
    "503 Service Unavailable", "107",
    "<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this "
    "request.\n</body></html>\n");
constexpr std::string_view k504 = SLUICE_REPLY(
    "504 Gateway Time-out", "92",
    "<html><body><h1>504 Gateway Time-out</h1>\nThe server didn't respond in time.\n"
    "</body></html>\n");

#undef SLUICE_REPLY

}  // namespace

std::string_view ErrorReply(uint16_t code) noexcept {
  switch (code) {
    case 400:
      return k400;
    case 403:
      return k403;
    case 408:
      return k408;
    case 502:
      return k502;
    case 503:
      return k503;
    case 504:
      return k504;
    default:
      return k500;
  }
}

}  // namespace sluice::http
