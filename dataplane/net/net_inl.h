// Small helpers of the L2/L3 fast path shared by input and output. Internal to net/.
#pragma once

#include <rte_ip.h>

#include <cstdint>
#include <cstring>

#include "dataplane/net/addr.h"

namespace sluice::net {

inline constexpr uint32_t kIcmp6HeaderLen = 4;
inline constexpr uint32_t kIcmp6EchoLen = 8;
inline constexpr uint32_t kNdMessageLen = 24;     // NS and NA without options
inline constexpr uint32_t kNdLinkAddrOptLen = 8;  // a link-layer address option
inline constexpr uint8_t kIcmp6EchoRequest = 128;
inline constexpr uint8_t kIcmp6EchoReply = 129;
inline constexpr uint8_t kNdNeighSolicit = 135;
inline constexpr uint8_t kNdNeighAdvert = 136;
inline constexpr uint8_t kNdOptSourceLinkAddr = 1;
inline constexpr uint8_t kNdOptTargetLinkAddr = 2;

inline Ipv6Addr LoadV6(const uint8_t* p) {
  Ipv6Addr a;
  std::memcpy(a.b.data(), p, 16);
  return a;
}

inline Ipv6Addr AllNodes() {
  Ipv6Addr a;
  a.b = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  return a;
}

// 33:33 + the low 32 bits of the group (RFC 2464 section 7).
inline MacAddr MulticastMac(const Ipv6Addr& group) {
  MacAddr m;
  m.b = {0x33, 0x33, group.b[12], group.b[13], group.b[14], group.b[15]};
  return m;
}

// Sources no host may use (RFC 1122 section 3.2.1.3, RFC 1812 section 5.3.7): 0/8,
// loopback, multicast and class E, limited broadcast.
inline bool IsBadV4Source(Ipv4Addr a) {
  const uint8_t first = static_cast<uint8_t>(a.Host() >> 24);
  return first == 0 || first == 127 || first >= 224;
}

inline void SetIcmp6Checksum(rte_ipv6_hdr* ip6, uint8_t* l4, uint16_t cksum) {
  (void)ip6;
  std::memcpy(l4 + 2, &cksum, 2);
}

// Walks ND options (RFC 4861 section 4.6): every option must have a non-zero length and lie
// within the message. Records the link-layer address option of `want_type` (which must be
// exactly 8 bytes long for Ethernet).
inline bool ParseNdOptions(const uint8_t* p, uint32_t len, uint8_t want_type, MacAddr* mac,
                           bool* found) {
  *found = false;
  while (len > 0) {
    if (len < 2) return false;
    const uint32_t opt_len = p[1] * 8u;
    if (opt_len == 0 || opt_len > len) return false;
    if (p[0] == want_type) {
      if (opt_len != kNdLinkAddrOptLen) return false;
      std::memcpy(mac->b.data(), p + 2, 6);
      *found = true;
    }
    p += opt_len;
    len -= opt_len;
  }
  return true;
}

}  // namespace sluice::net
