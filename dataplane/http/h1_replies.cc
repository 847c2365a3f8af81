// HAProxy 2.6's error answers (h1_replies.h), as captured from Debian's haproxy 2.6.12
// (tests/integration/data/h1_haproxy_notes.md, section a).
#include "dataplane/http/h1_replies.h"

namespace sluice::http {
namespace {

// The raw form: what HAProxy's HTTP/1 layer sends itself before a request exists.
#define SLUICE_RAW(status, length, connection, body)                                       \
  "HTTP/1.1 " status "\r\nContent-length: " length "\r\nCache-Control: no-cache\r\n" connection \
  "Content-Type: text/html\r\n\r\n" body

// The stream's form: lower-case names and no Connection field (the client may stay).
#define SLUICE_HTX(status, length, body) \
  "HTTP/1.1 " status "\r\ncontent-length: " length                       \
  "\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n" body

constexpr std::string_view kRaw400 = SLUICE_RAW(
    "400 Bad request", "90", "Connection: close\r\n",
    "<html><body><h1>400 Bad request</h1>\nYour browser sent an invalid request.\n"
    "</body></html>\n");
constexpr std::string_view kRaw408 = SLUICE_RAW(
    "408 Request Time-out", "110", "Connection: close\r\n",
    "<html><body><h1>408 Request Time-out</h1>\nYour browser didn't send a complete request "
    "in time.\n</body></html>\n");
constexpr std::string_view kRaw422 = SLUICE_RAW(
    "422 Unprocessable Content", "116", "",
    "<html><body><h1>422 Unprocessable Content</h1>\nThe server cannot process the contained "
    "instructions.\n</body></html>\n");
constexpr std::string_view k403 = SLUICE_HTX(
    "403 Forbidden", "93",
    "<html><body><h1>403 Forbidden</h1>\nRequest forbidden by administrative rules.\n"
    "</body></html>\n");
constexpr std::string_view k500 = SLUICE_HTX(
    "500 Internal Server Error", "97",
    "<html><body><h1>500 Internal Server Error</h1>\nAn internal server error occurred.\n"
    "</body></html>\n");
constexpr std::string_view k502 = SLUICE_HTX(
    "502 Bad Gateway", "107",
    "<html><body><h1>502 Bad Gateway</h1>\nThe server returned an invalid or incomplete "
    "response.\n</body></html>\n");
constexpr std::string_view k503 = SLUICE_HTX(
    "503 Service Unavailable", "107",
    "<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this "
    "request.\n</body></html>\n");
constexpr std::string_view k504 = SLUICE_HTX(
    "504 Gateway Time-out", "92",
    "<html><body><h1>504 Gateway Time-out</h1>\nThe server didn't respond in time.\n"
    "</body></html>\n");
constexpr std::string_view k405 = SLUICE_HTX(
    "405 Method Not Allowed", "146",
    "<html><body><h1>405 Method Not Allowed</h1>\nA request was made of a resource using a "
    "request method not supported by that resource\n</body></html>\n");
constexpr std::string_view k410 = SLUICE_HTX(
    "410 Gone", "114",
    "<html><body><h1>410 Gone</h1>\nThe resource is no longer available and will not be "
    "available again.\n</body></html>\n");
constexpr std::string_view k429 = SLUICE_HTX(
    "429 Too Many Requests", "117",
    "<html><body><h1>429 Too Many Requests</h1>\nYou have sent too many requests in a given "
    "amount of time.\n</body></html>\n");

#undef SLUICE_RAW
#undef SLUICE_HTX

}  // namespace

std::string_view ReasonPhrase(uint16_t code) noexcept {
  switch (code) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 203: return "Non-Authoritative Information";
    case 204: return "No Content";
    case 205: return "Reset Content";
    case 206: return "Partial Content";
    case 300: return "Multiple Choices";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 421: return "Misdirected Request";
    case 422: return "Unprocessable Content";
    case 425: return "Too Early";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Other";
  }
}

bool IsRawReply(uint16_t code) noexcept { return code == 400 || code == 408 || code == 422; }

std::string_view ErrorReply(uint16_t code) noexcept {
  switch (code) {
    case 400:
      return kRaw400;
    case 408:
      return kRaw408;
    case 422:
      return kRaw422;
    case 403:
      return k403;
    case 405:
      return k405;
    case 410:
      return k410;
    case 429:
      return k429;
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
