// Internal to dataplane/tcp: header layout, flags and checksums shared by input and output.
#pragma once

#include <rte_byteorder.h>
#include <rte_ip.h>

#include <cstdint>
#include <cstring>

#include "dataplane/tcp/syncookie.h"

namespace sluice::tcp {

inline constexpr uint8_t kFin = 0x01;
inline constexpr uint8_t kSyn = 0x02;
inline constexpr uint8_t kRst = 0x04;
inline constexpr uint8_t kPsh = 0x08;
inline constexpr uint8_t kAck = 0x10;
inline constexpr uint32_t kTcpHeaderLen = 20;

inline uint16_t Ld16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
inline uint32_t Ld32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 |
         static_cast<uint32_t>(p[2]) << 8 | p[3];
}
inline void St16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
inline void St32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

// The one's-complement sum of the pseudo-header (RFC 9293 section 3.1; RFC 8200 section
// 8.1) for a segment from `src` to `dst`, not folded.
inline uint32_t PseudoHeaderSum(const uint8_t* src, const uint8_t* dst, bool v6, uint32_t tcp_len) {
  uint32_t sum = 0;
  const unsigned n = v6 ? 16 : 4;
  sum = __rte_raw_cksum(src, n, sum);
  sum = __rte_raw_cksum(dst, n, sum);
  const uint32_t be_len = rte_cpu_to_be_32(tcp_len);
  sum = __rte_raw_cksum(&be_len, 4, sum);
  const uint32_t be_proto = rte_cpu_to_be_32(6);
  sum = __rte_raw_cksum(&be_proto, 4, sum);
  return sum;
}

// Checksum over the pseudo-header and `len` bytes of segment; 0xffff when it verifies.
inline uint16_t SegmentSum(const uint8_t* src, const uint8_t* dst, bool v6, const void* seg,
                           uint32_t len) {
  uint32_t sum = PseudoHeaderSum(src, dst, v6, len);
  sum = __rte_raw_cksum(seg, len, sum);
  return __rte_raw_cksum_reduce(sum);
}

}  // namespace sluice::tcp
