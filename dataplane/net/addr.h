// Address vocabulary shared by the data plane and the configuration: MAC, IPv4 and IPv6
// addresses kept in network byte order, and prefixes. Plain types, no allocation.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>

namespace sluice::net {

struct MacAddr {
  std::array<uint8_t, 6> b{};
  bool IsBroadcast() const {
    return b == std::array<uint8_t, 6>{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  }
  bool IsMulticast() const { return (b[0] & 1) != 0; }
  bool IsZero() const { return b == std::array<uint8_t, 6>{}; }
  friend bool operator==(const MacAddr&, const MacAddr&) = default;
};

// IPv4 address, network byte order in `be`.
struct Ipv4Addr {
  uint32_t be = 0;
  uint32_t Host() const { return __builtin_bswap32(be); }
  static Ipv4Addr FromHost(uint32_t h) { return Ipv4Addr{__builtin_bswap32(h)}; }
  friend bool operator==(const Ipv4Addr&, const Ipv4Addr&) = default;
};

struct Ipv6Addr {
  std::array<uint8_t, 16> b{};
  bool IsMulticast() const { return b[0] == 0xff; }
  bool IsUnspecified() const { return b == std::array<uint8_t, 16>{}; }
  bool IsLoopback() const {
    std::array<uint8_t, 16> lo{};
    lo[15] = 1;
    return b == lo;
  }
  // ff02::1:ffXX:XXXX for this address (RFC 4291 section 2.7.1).
  Ipv6Addr SolicitedNode() const {
    Ipv6Addr s;
    s.b = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff, b[13], b[14], b[15]};
    return s;
  }
  friend bool operator==(const Ipv6Addr&, const Ipv6Addr&) = default;
};

struct IpAddr {
  bool is_v6 = false;
  Ipv4Addr v4;
  Ipv6Addr v6;
  friend bool operator==(const IpAddr&, const IpAddr&) = default;
};

struct IpPrefix {
  IpAddr addr;
  uint8_t length = 0;
  friend bool operator==(const IpPrefix&, const IpPrefix&) = default;
};

// The 16-byte form used by flow keys (an IPv4 address in the first 4 bytes, zeros after).
inline void ToBytes(const IpAddr& a, uint8_t* out) {
  std::memset(out, 0, 16);
  if (a.is_v6) {
    std::memcpy(out, a.v6.b.data(), 16);
  } else {
    std::memcpy(out, &a.v4.be, 4);
  }
}
inline IpAddr FromBytes(const uint8_t* b, bool is_v6) {
  IpAddr a;
  a.is_v6 = is_v6;
  if (is_v6) {
    std::memcpy(a.v6.b.data(), b, 16);
  } else {
    std::memcpy(&a.v4.be, b, 4);
  }
  return a;
}

// True when `a` lies inside `p` (same family).
inline bool PrefixContains(const IpPrefix& p, const IpAddr& a) {
  if (p.addr.is_v6 != a.is_v6) return false;
  const uint8_t* x = a.is_v6 ? a.v6.b.data() : reinterpret_cast<const uint8_t*>(&a.v4.be);
  const uint8_t* y =
      p.addr.is_v6 ? p.addr.v6.b.data() : reinterpret_cast<const uint8_t*>(&p.addr.v4.be);
  unsigned bits = p.length;
  for (unsigned i = 0; bits > 0; ++i) {
    const unsigned take = bits >= 8 ? 8 : bits;
    const auto mask = static_cast<uint8_t>(0xff00u >> take);
    if ((x[i] & mask) != (y[i] & mask)) return false;
    bits -= take;
  }
  return true;
}

}  // namespace sluice::net
