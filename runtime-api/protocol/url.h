// Slow path. URL pieces the HTTP front doors share (the REST router, the Prometheus
// exporter's query, the statistics page's options and admin form): %XX decoding and the
// '&'-separated pairs of a query or form body.
#pragma once

#include <string>
#include <string_view>

namespace sluice::cli {

// Decodes %XX escapes, and '+' as a space when `plus_is_space` (queries and forms). False
// for a bad escape ("%4", "%zz") or one that decodes to a NUL byte.
bool UrlDecode(std::string_view in, bool plus_is_space, std::string* out);

// Calls fn(key, value, has_value) for each non-empty pair of "a=1&b&c=3", undecoded; a pair
// without '=' has no value ("b": has_value false, value empty).
template <class Fn>
void ForEachPair(std::string_view s, Fn&& fn) {
  while (!s.empty()) {
    const size_t amp = s.find('&');
    const std::string_view pair = s.substr(0, amp);
    s = amp == std::string_view::npos ? std::string_view() : s.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    if (eq == std::string_view::npos) {
      fn(pair, std::string_view(), false);
    } else {
      fn(pair.substr(0, eq), pair.substr(eq + 1), true);
    }
  }
}

}  // namespace sluice::cli
