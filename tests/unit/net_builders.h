// Frame builders for the L2/L3 unit tests: well-formed frames that each test then breaks in
// one way. Byte vectors, written field by field from the RFCs (not with DPDK's structs, so the
// parser is checked against an independent writer).
#pragma once

#include <cstdint>
#include <vector>

#include "dataplane/net/addr.h"

namespace sluice::testing {

using Bytes = std::vector<uint8_t>;

uint16_t InetChecksum(const uint8_t* p, size_t len, uint32_t sum = 0);

Bytes Eth(const net::MacAddr& dst, const net::MacAddr& src, uint16_t type, const Bytes& payload);
Bytes EthVlan(const net::MacAddr& dst, const net::MacAddr& src, uint16_t vid, uint16_t type,
              const Bytes& payload);
Bytes Arp(uint16_t op, const net::MacAddr& sha, net::Ipv4Addr sip, const net::MacAddr& tha,
          net::Ipv4Addr tip);
// IPv4 header (20 bytes, valid checksum) + payload.
Bytes Ipv4(net::Ipv4Addr src, net::Ipv4Addr dst, uint8_t proto, const Bytes& payload,
           uint8_t ttl = 64);
void FixIpv4Checksum(Bytes& ip);
Bytes IcmpEcho(uint8_t type, uint16_t id, uint16_t seq, size_t data_len);
// IPv6 header + payload; the ICMPv6 checksum (when proto is 58) is filled in.
Bytes Ipv6(const net::Ipv6Addr& src, const net::Ipv6Addr& dst, uint8_t next, const Bytes& payload,
           uint8_t hop_limit = 64);
void FixIcmp6Checksum(Bytes& ip6);
Bytes Icmp6Echo(uint8_t type, uint16_t id, uint16_t seq, size_t data_len);
// NS (135) or NA (136) with an optional link-layer address option (type 1 or 2).
Bytes NdMessage(uint8_t type, uint8_t flags, const net::Ipv6Addr& target, int opt_type,
                const net::MacAddr& mac);

net::Ipv4Addr V4(const char* s);
net::Ipv6Addr V6(const char* s);
net::MacAddr Mac(const char* s);

}  // namespace sluice::testing
