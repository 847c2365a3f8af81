// The scan of a health check's answer for `http-check expect string` (check.cc): the head's
// lines are walked for Content-Length and the blank line that ends them, then the body is
// matched against the text with a Knuth-Morris-Pratt table, one byte at a time, so that an
// answer cut anywhere across segments is matched as a whole and no body is kept. The answer
// is outside input: tests/fuzz/check_body_fuzz.cc checks the matching against a plain search.
#pragma once

#include <cstdint>
#include <cstring>

namespace sluice::check {

// next[i]: the length of the longest proper prefix of text[0..i] that is also its suffix
// (where a match goes on after a mismatch). The control plane fills it with the text.
inline void KmpTable(const char* text, uint8_t len, uint8_t* next) noexcept {
  if (len) next[0] = 0;
  for (uint8_t i = 1, k = 0; i < len; ++i) {
    while (k > 0 && text[i] != text[k]) k = next[k - 1];
    if (text[i] == text[k]) ++k;
    next[i] = k;
  }
}

struct BodyMatch {
  bool in_body = false;    // past the head's blank line
  bool found = false;      // the text was seen
  uint8_t matched = 0;     // bytes of the text matched so far
  uint8_t line_len = 0;    // the current head line's first bytes, lower-cased, CRs left out
  char line[24] = {};
  int64_t body_left = -1;  // Content-Length still to come; -1: until the close

  // One byte of the answer, from its status line on; true once the outcome is known (the
  // text was seen, or the body's Content-Length bytes are in).
  bool Feed(char c, const char* text, uint8_t len, const uint8_t* next) noexcept {
    if (!in_body) {
      if (c != '\n') {
        if (c != '\r' && line_len < sizeof line) {
          line[line_len++] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
        }
        return false;
      }
      if (line_len == 0) {  // the blank line: the body follows
        in_body = true;
        if (len == 0) found = true;
        return found || body_left == 0;
      }
      ContentLength();
      line_len = 0;
      return false;
    }
    if (len == 0) return true;
    while (matched > 0 && c != text[matched]) matched = next[matched - 1];
    if (c == text[matched]) ++matched;
    if (matched == len) found = true;
    if (body_left > 0) --body_left;
    return found || body_left == 0;
  }

 private:
  void ContentLength() noexcept {
    constexpr char kName[] = "content-length:";
    constexpr uint8_t kLen = sizeof kName - 1;
    if (line_len <= kLen || std::memcmp(line, kName, kLen) != 0) return;
    int64_t v = 0;
    bool digits = false;
    for (uint8_t j = kLen; j < line_len; ++j) {
      if (line[j] >= '0' && line[j] <= '9') {
        v = v * 10 + (line[j] - '0');
        digits = true;
      } else if (line[j] != ' ' && line[j] != '\t') {
        break;
      }
    }
    if (digits) body_left = v;
  }
};

}  // namespace sluice::check
