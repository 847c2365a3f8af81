// Inside dataplane/rules: the text forms of samples (integers, addresses) that the casts,
// the converters and the log fields share, and the converter step itself. Nothing allocates.
#pragma once

#include <cstdint>
#include <string_view>

#include "dataplane/rules/expr.h"

namespace sluice::rules {

inline char Lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }
inline char Upper(char c) noexcept { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; }

// Decimal text of `v` into `out` (at least 20 bytes); returns the length.
uint32_t WriteInt(int64_t v, char* out) noexcept;
// Dotted quad (at least 15 bytes) / RFC 5952 text (at least 39 bytes); returns the length.
uint32_t WriteIpv4(const uint8_t* a, char* out) noexcept;
uint32_t WriteIpv6(const uint8_t* a, char* out) noexcept;
bool ParseIpv4(std::string_view s, uint8_t* out) noexcept;
bool ParseIpv6(std::string_view s, uint8_t* out) noexcept;
// 0-15, or -1 when `c` is not a hex digit.
int HexDigit(char c) noexcept;
// HAProxy's string to integer cast: optional blanks and sign, then digits; trailing bytes
// are ignored; no digit is a failure.
bool ParseInt(std::string_view s, int64_t* out) noexcept;

// Applies one converter to `s` in place: false when it fails (the sample is then missing).
bool DoConv(const Step& st, Sample& s, Ctx& c) noexcept;
// The TLS fetches (rules_tls.cc): ssl_fc*, ssl_c*.
bool TlsFetch(Fetch f, Ctx& c, Sample* out) noexcept;

}  // namespace sluice::rules
