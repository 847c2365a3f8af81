// HAProxy 2.6's built-in error answers, as its HTTP/1 output puts them on the wire (captured
// from Debian's haproxy 2.6: tests/integration/data/h1_haproxy_notes.md), byte for byte.
#pragma once

#include <cstdint>
#include <string_view>

namespace sluice::http {

// The whole answer for `code` (400, 403, 405, 408, 410, 422, 429, 500, 502, 503, 504); 500's
// for any other.
// 400, 408 and 422 come in the raw form HAProxy's HTTP/1 layer sends before a request exists
// (then the connection closes); the others in the form of an answer to a request, after
// which the client connection may carry the next request.
std::string_view ErrorReply(uint16_t code) noexcept;
bool IsRawReply(uint16_t code) noexcept;
// The reason phrase HAProxy writes for `code` (http_get_reason()); "Other" when unknown.
std::string_view ReasonPhrase(uint16_t code) noexcept;

}  // namespace sluice::http
