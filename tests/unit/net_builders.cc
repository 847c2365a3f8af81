#include "tests/unit/net_builders.h"

#include "dataplane/net/addr_text.h"

#include <cstring>

namespace sluice::testing {

namespace {
void Put16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}
void PutBytes(Bytes& b, const uint8_t* p, size_t n) { b.insert(b.end(), p, p + n); }
}  // namespace

uint16_t InetChecksum(const uint8_t* p, size_t len, uint32_t sum) {
  for (size_t i = 0; i + 1 < len; i += 2) sum += static_cast<uint32_t>(p[i] << 8 | p[i + 1]);
  if (len & 1) sum += static_cast<uint32_t>(p[len - 1] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

Bytes Eth(const net::MacAddr& dst, const net::MacAddr& src, uint16_t type, const Bytes& payload) {
  Bytes b;
  PutBytes(b, dst.b.data(), 6);
  PutBytes(b, src.b.data(), 6);
  Put16(b, type);
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

Bytes EthVlan(const net::MacAddr& dst, const net::MacAddr& src, uint16_t vid, uint16_t type,
              const Bytes& payload) {
  Bytes inner;
  Put16(inner, vid);
  Put16(inner, type);
  inner.insert(inner.end(), payload.begin(), payload.end());
  return Eth(dst, src, 0x8100, inner);
}

Bytes Arp(uint16_t op, const net::MacAddr& sha, net::Ipv4Addr sip, const net::MacAddr& tha,
          net::Ipv4Addr tip) {
  Bytes b;
  Put16(b, 1);
  Put16(b, 0x0800);
  b.push_back(6);
  b.push_back(4);
  Put16(b, op);
  PutBytes(b, sha.b.data(), 6);
  PutBytes(b, reinterpret_cast<const uint8_t*>(&sip.be), 4);
  PutBytes(b, tha.b.data(), 6);
  PutBytes(b, reinterpret_cast<const uint8_t*>(&tip.be), 4);
  return b;
}

void FixIpv4Checksum(Bytes& ip) {
  const size_t ihl = (ip[0] & 0x0f) * 4u;
  ip[10] = ip[11] = 0;
  const uint16_t c = InetChecksum(ip.data(), ihl);
  ip[10] = static_cast<uint8_t>(c >> 8);
  ip[11] = static_cast<uint8_t>(c);
}

Bytes Ipv4(net::Ipv4Addr src, net::Ipv4Addr dst, uint8_t proto, const Bytes& payload, uint8_t ttl) {
  Bytes b;
  b.push_back(0x45);
  b.push_back(0);
  Put16(b, static_cast<uint16_t>(20 + payload.size()));
  Put16(b, 0x1234);
  Put16(b, 0x4000);  // DF
  b.push_back(ttl);
  b.push_back(proto);
  Put16(b, 0);
  PutBytes(b, reinterpret_cast<const uint8_t*>(&src.be), 4);
  PutBytes(b, reinterpret_cast<const uint8_t*>(&dst.be), 4);
  b.insert(b.end(), payload.begin(), payload.end());
  FixIpv4Checksum(b);
  return b;
}

Bytes IcmpEcho(uint8_t type, uint16_t id, uint16_t seq, size_t data_len) {
  Bytes b;
  b.push_back(type);
  b.push_back(0);
  Put16(b, 0);
  Put16(b, id);
  Put16(b, seq);
  for (size_t i = 0; i < data_len; ++i) b.push_back(static_cast<uint8_t>(i));
  const uint16_t c = InetChecksum(b.data(), b.size());
  b[2] = static_cast<uint8_t>(c >> 8);
  b[3] = static_cast<uint8_t>(c);
  return b;
}

void FixIcmp6Checksum(Bytes& ip6) {
  const size_t plen = static_cast<size_t>(ip6[4] << 8 | ip6[5]);
  if (ip6.size() < 40 + 4 || ip6[6] != 58) return;
  ip6[42] = ip6[43] = 0;
  uint32_t sum = 0;
  for (size_t i = 8; i < 40; i += 2) sum += static_cast<uint32_t>(ip6[i] << 8 | ip6[i + 1]);
  sum += static_cast<uint32_t>(plen);
  sum += 58;
  const size_t avail = ip6.size() - 40 < plen ? ip6.size() - 40 : plen;
  const uint16_t c = InetChecksum(ip6.data() + 40, avail, sum);
  ip6[42] = static_cast<uint8_t>(c >> 8);
  ip6[43] = static_cast<uint8_t>(c);
}

Bytes Ipv6(const net::Ipv6Addr& src, const net::Ipv6Addr& dst, uint8_t next, const Bytes& payload,
           uint8_t hop_limit) {
  Bytes b;
  b.push_back(0x60);
  b.push_back(0);
  Put16(b, 0);
  Put16(b, static_cast<uint16_t>(payload.size()));
  b.push_back(next);
  b.push_back(hop_limit);
  PutBytes(b, src.b.data(), 16);
  PutBytes(b, dst.b.data(), 16);
  b.insert(b.end(), payload.begin(), payload.end());
  FixIcmp6Checksum(b);
  return b;
}

Bytes Icmp6Echo(uint8_t type, uint16_t id, uint16_t seq, size_t data_len) {
  Bytes b;
  b.push_back(type);
  b.push_back(0);
  Put16(b, 0);
  Put16(b, id);
  Put16(b, seq);
  for (size_t i = 0; i < data_len; ++i) b.push_back(static_cast<uint8_t>(i));
  return b;
}

Bytes NdMessage(uint8_t type, uint8_t flags, const net::Ipv6Addr& target, int opt_type,
                const net::MacAddr& mac) {
  Bytes b;
  b.push_back(type);
  b.push_back(0);
  Put16(b, 0);
  b.push_back(flags);
  b.push_back(0);
  b.push_back(0);
  b.push_back(0);
  PutBytes(b, target.b.data(), 16);
  if (opt_type > 0) {
    b.push_back(static_cast<uint8_t>(opt_type));
    b.push_back(1);
    PutBytes(b, mac.b.data(), 6);
  }
  return b;
}

net::Ipv4Addr V4(const char* s) { return *net::ParseIpv4(s); }
net::Ipv6Addr V6(const char* s) { return *net::ParseIpv6(s); }
net::MacAddr Mac(const char* s) { return *net::ParseMac(s); }

}  // namespace sluice::testing
