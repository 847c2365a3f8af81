// The text forms of samples (dataplane/rules/sample_text.h).
#include "dataplane/rules/sample_text.h"

namespace sluice::rules {

uint32_t WriteInt(int64_t v, char* out) noexcept {
  char buf[24];
  uint32_t n = 0;
  uint64_t u = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  do {
    buf[n++] = static_cast<char>('0' + u % 10);
    u /= 10;
  } while (u);
  uint32_t k = 0;
  if (v < 0) out[k++] = '-';
  while (n) out[k++] = buf[--n];
  return k;
}

uint32_t WriteIpv4(const uint8_t* a, char* out) noexcept {
  uint32_t k = 0;
  for (int i = 0; i < 4; ++i) {
    if (i) out[k++] = '.';
    k += WriteInt(a[i], out + k);
  }
  return k;
}

// RFC 5952: lower-case hex, the longest run of two or more zero groups as "::".
uint32_t WriteIpv6(const uint8_t* a, char* out) noexcept {
  uint16_t g[8];
  for (int i = 0; i < 8; ++i) g[i] = static_cast<uint16_t>(a[2 * i] << 8 | a[2 * i + 1]);
  int best = -1, best_len = 0;
  for (int i = 0; i < 8;) {
    if (g[i]) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && !g[j]) ++j;
    if (j - i > best_len && j - i >= 2) {
      best = i;
      best_len = j - i;
    }
    i = j;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  uint32_t k = 0;
  for (int i = 0; i < 8; ++i) {
    if (i == best) {
      out[k++] = ':';
      out[k++] = ':';
      i += best_len - 1;
      continue;
    }
    if (i && i != best + best_len) out[k++] = ':';
    bool started = false;
    for (int sh = 12; sh >= 0; sh -= 4) {
      const int d = g[i] >> sh & 0xf;
      if (d || started || sh == 0) {
        out[k++] = kHex[d];
        started = true;
      }
    }
  }
  return k;
}

bool ParseIpv4(std::string_view s, uint8_t* out) noexcept {
  int part = 0;
  uint32_t v = 0;
  bool digit = false;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == '.') {
      if (!digit || v > 255 || part > 3) return false;
      out[part++] = static_cast<uint8_t>(v);
      v = 0;
      digit = false;
      continue;
    }
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + static_cast<uint32_t>(s[i] - '0');
    digit = true;
    if (v > 255) return false;
  }
  return part == 4;
}

int HexDigit(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool ParseIpv6(std::string_view s, uint8_t* out) noexcept {
  uint16_t g[8] = {};
  int n = 0, gap = -1;
  size_t i = 0;
  if (s.size() >= 2 && s[0] == ':' && s[1] == ':') {
    gap = 0;
    i = 2;
  } else if (!s.empty() && s[0] == ':') {
    return false;
  }
  while (i < s.size()) {
    if (n >= 8) return false;
    // An IPv4 tail.
    const size_t end = s.find(':', i);
    const std::string_view tok = s.substr(i, end == std::string_view::npos ? s.npos : end - i);
    if (tok.find('.') != std::string_view::npos) {
      uint8_t v4[4];
      if (end != std::string_view::npos || n > 6 || !ParseIpv4(tok, v4)) return false;
      g[n++] = static_cast<uint16_t>(v4[0] << 8 | v4[1]);
      g[n++] = static_cast<uint16_t>(v4[2] << 8 | v4[3]);
      i = s.size();
      break;
    }
    if (tok.empty() || tok.size() > 4) return false;
    uint32_t v = 0;
    for (const char c : tok) {
      const int d = HexDigit(c);
      if (d < 0) return false;
      v = v << 4 | static_cast<uint32_t>(d);
    }
    g[n++] = static_cast<uint16_t>(v);
    if (end == std::string_view::npos) {
      i = s.size();
      break;
    }
    i = end + 1;
    if (i < s.size() && s[i] == ':') {
      if (gap >= 0) return false;
      gap = n;
      ++i;
    } else if (i == s.size()) {
      return false;
    }
  }
  if (gap < 0 && n != 8) return false;
  if (gap >= 0 && n > 7) return false;
  uint16_t full[8] = {};
  if (gap >= 0) {
    for (int k = 0; k < gap; ++k) full[k] = g[k];
    const int tail = n - gap;
    for (int k = 0; k < tail; ++k) full[8 - tail + k] = g[gap + k];
  } else {
    for (int k = 0; k < 8; ++k) full[k] = g[k];
  }
  for (int k = 0; k < 8; ++k) {
    out[2 * k] = static_cast<uint8_t>(full[k] >> 8);
    out[2 * k + 1] = static_cast<uint8_t>(full[k]);
  }
  return true;
}

bool ParseInt(std::string_view s, int64_t* out) noexcept {
  size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  bool neg = false;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) neg = s[i++] == '-';
  int64_t v = 0;  // HAProxy: text without digits is 0
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
    if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, s[i] - '0', &v)) {
      v = INT64_MAX;  // saturated, as HAProxy's read_int64()
    }
    ++i;
  }
  *out = neg ? -v : v;
  return true;
}

}  // namespace sluice::rules
