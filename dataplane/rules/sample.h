// A sample: what a fetch returns and a converter takes and gives (HAProxy's `struct sample`,
// doc/configuration.txt section 7.3). Strings are views: into the request head, into the
// configuration, or into the worker's per-evaluation arena (rules::Arena) where a converter
// wrote them. Nothing here allocates.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace sluice::rules {

// HAProxy's sample types (SMP_T_*), in its order of "width".
enum class SmpType : uint8_t { kAny, kBool, kSint, kIpv4, kIpv6, kStr, kBin, kMeth };

struct Sample {
  SmpType type = SmpType::kAny;
  int64_t sint = 0;       // kBool (0/1), kSint, kMeth (http::Method)
  uint8_t addr[16] = {};  // kIpv4 (first 4 bytes), kIpv6
  std::string_view str;   // kStr, kBin, kMeth (the method's text)

  static Sample Int(int64_t v) noexcept {
    Sample s;
    s.type = SmpType::kSint;
    s.sint = v;
    return s;
  }
  static Sample Bool(bool v) noexcept {
    Sample s;
    s.type = SmpType::kBool;
    s.sint = v ? 1 : 0;
    return s;
  }
  static Sample Str(std::string_view v) noexcept {
    Sample s;
    s.type = SmpType::kStr;
    s.str = v;
    return s;
  }
  static Sample Ip(const uint8_t* a, bool v6) noexcept {
    Sample s;
    s.type = v6 ? SmpType::kIpv6 : SmpType::kIpv4;
    std::memcpy(s.addr, a, v6 ? 16 : 4);
    return s;
  }
};

// Bytes a converter may write during one evaluation (a rule, a log field). When it is full a
// converter fails, and the sample is missing, as HAProxy's trash chunk would overflow.
inline constexpr uint32_t kArenaBytes = 16384;

class Arena {
 public:
  // Room for `n` bytes, or nullptr when the arena is full.
  char* Take(uint32_t n) noexcept {
    if (n > kArenaBytes - used_) return nullptr;
    char* p = buf_ + used_;
    used_ += n;
    return p;
  }
  // Gives back the unused tail of the last Take (`p` + `used` is where it ends now).
  void Trim(const char* p, uint32_t used) noexcept {
    used_ = static_cast<uint32_t>(p - buf_) + used;
  }
  void Reset() noexcept { used_ = 0; }
  uint32_t used() const noexcept { return used_; }

 private:
  uint32_t used_ = 0;
  char buf_[kArenaBytes];
};

}  // namespace sluice::rules
