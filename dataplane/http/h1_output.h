// Writing an HTTP/1.1 head on the worker's fast path: the rewritten head of a message that
// is forwarded (start line, the fields kept, the fields added) into a bounded buffer, with
// no allocation. The body never passes through here (DESIGN.md section 7).
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

#include "dataplane/http/h1.h"

namespace sluice::http {

class HeadWriter {
 public:
  HeadWriter(uint8_t* out, uint32_t cap) noexcept : out_(out), cap_(cap) {}

  void Raw(std::string_view s) noexcept {
    if (len_ + s.size() > cap_) {
      overflow_ = true;
      return;
    }
    std::memcpy(out_ + len_, s.data(), s.size());
    len_ += static_cast<uint32_t>(s.size());
  }
  // The start line as parsed, ended by CRLF (a bare LF becomes CRLF).
  void StartLine(const uint8_t* head, const MessageHead& h, bool request) noexcept;
  // `name: value` CRLF, the name in lower case (HAProxy 2.6 writes every HTTP/1 field name
  // so); a folded value's line ends become spaces.
  void Field(std::string_view name, std::string_view value, bool folded = false) noexcept;
  void Field(const uint8_t* head, const HeaderField& f) noexcept {
    Field(f.name.In(head), f.value.In(head), f.folded);
  }
  void End() noexcept { Raw("\r\n"); }

  bool overflow() const noexcept { return overflow_; }
  uint32_t size() const noexcept { return len_; }
  const uint8_t* data() const noexcept { return out_; }

 private:
  uint8_t* out_;
  uint32_t cap_;
  uint32_t len_ = 0;
  bool overflow_ = false;
};

// Writes `v` in decimal into `buf` (at least 20 bytes); returns the digits.
std::string_view Decimal(uint64_t v, char* buf) noexcept;

}  // namespace sluice::http
