// TCP options: parsing and building MSS (RFC 9293 section 3.7.1), window scale and
// timestamps (RFC 7323), SACK-permitted and SACK blocks (RFC 2018). Bounded, no allocation.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sluice::tcp {

inline constexpr uint8_t kOptEnd = 0;
inline constexpr uint8_t kOptNop = 1;
inline constexpr uint8_t kOptMss = 2;
inline constexpr uint8_t kOptWindowScale = 3;
inline constexpr uint8_t kOptSackPermitted = 4;
inline constexpr uint8_t kOptSack = 5;
inline constexpr uint8_t kOptTimestamp = 8;
inline constexpr unsigned kMaxSackBlocks = 4;
inline constexpr uint8_t kMaxWindowScale = 14;  // RFC 7323 section 2.3
inline constexpr size_t kMaxOptionsLen = 40;

struct SackBlock {
  uint32_t left = 0;   // first sequence number of the block
  uint32_t right = 0;  // sequence number just past it
};

struct TcpOptions {
  bool has_mss = false;
  uint16_t mss = 0;
  bool has_wscale = false;
  uint8_t wscale = 0;  // clamped to 14 as RFC 7323 requires
  bool sack_permitted = false;
  bool has_timestamp = false;
  uint32_t ts_val = 0;
  uint32_t ts_ecr = 0;
  uint8_t nsack = 0;
  SackBlock sack[kMaxSackBlocks];
};

enum class OptionsStatus : uint8_t {
  kOk,
  kTruncated,  // an option's length runs past the header (RFC 9293: drop the segment)
  kBadLength,  // a known option with the wrong length, or a length below 2
};

// Parses the options area of a TCP header (`len` bytes, at most 40). Unknown options are
// skipped by their length. On an error `out` holds what was parsed before it.
OptionsStatus ParseOptions(const uint8_t* p, size_t len, TcpOptions* out) noexcept;

// Writes the options in `opt` (those flagged present, SACK blocks up to what fits) padded
// with NOPs to a multiple of 4 bytes; returns the length written (<= 40, <= `cap`).
// Layout follows common practice so middleboxes see familiar shapes:
//   MSS | NOP NOP SACK-permitted... | NOP NOP timestamps | NOP window scale | NOP NOP SACK
size_t BuildOptions(const TcpOptions& opt, uint8_t* out, size_t cap) noexcept;

}  // namespace sluice::tcp
