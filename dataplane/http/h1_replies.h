// HAProxy 2.6's built-in error answers, as its HTTP/1 output puts them on the wire (captured
// from Debian's haproxy 2.6: tests/integration/data/h1_haproxy_notes.md), byte for byte.
#pragma once

#include <cstdint>
#include <string_view>

namespace sluice::http {

// The whole answer for `code` (400, 403, 408, 500, 502, 503, 504); 500's for any other.
std::string_view ErrorReply(uint16_t code) noexcept;

}  // namespace sluice::http
