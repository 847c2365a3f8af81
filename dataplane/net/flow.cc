#include "dataplane/net/flow.h"

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_thash.h>

#include <cstring>

namespace sluice::net {

const uint8_t FlowSteering::kRssKey[kRssKeySize] = {
    0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
    0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
    0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

FlowSteering::FlowSteering(uint16_t workers, uint16_t local_port_min, uint16_t local_port_max)
    : workers_(workers ? workers : 1),
      local_port_min_(local_port_min),
      local_port_max_(local_port_max) {
  for (unsigned i = 0; i < kRetaSize; ++i) reta_[i] = static_cast<uint16_t>(i % workers_);
}

uint16_t FlowSteering::OwnerOfClientV4(uint32_t src_be) const noexcept {
  uint32_t tuple = rte_be_to_cpu_32(src_be);
  uint32_t hash = rte_softrss(&tuple, 1, kRssKey);
  return reta_[hash % kRetaSize];
}

uint16_t FlowSteering::OwnerOfClientV6(const uint8_t* src) const noexcept {
  uint32_t tuple[4];
  for (unsigned i = 0; i < 4; ++i) {
    uint32_t w;
    std::memcpy(&w, src + 4 * i, 4);
    tuple[i] = rte_be_to_cpu_32(w);
  }
  uint32_t hash = rte_softrss(tuple, 4, kRssKey);
  return reta_[hash % kRetaSize];
}

uint16_t FlowSteering::OwnerOfClient(const IpAddr& client) const noexcept {
  return client.is_v6 ? OwnerOfClientV6(client.v6.b.data()) : OwnerOfClientV4(client.v4.be);
}

uint16_t FlowSteering::OwnerOfLocalPort(uint16_t local_port) const noexcept {
  if (local_port < local_port_min_ || local_port > local_port_max_) return kOwnerLocal;
  return static_cast<uint16_t>((local_port - local_port_min_) % workers_);
}

namespace {

constexpr uint8_t kProtoTcp = 6;
constexpr uint8_t kProtoUdp = 17;
constexpr uint8_t kProtoIcmp6 = 58;

uint16_t Load16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }

}  // namespace

uint16_t FlowSteering::OwnerOfFrame(const uint8_t* frame, uint32_t len) const noexcept {
  if (workers_ == 1) return 0;
  if (len < sizeof(rte_ether_hdr)) return kOwnerLocal;
  uint32_t off = sizeof(rte_ether_hdr);
  uint16_t type = Load16(frame + 12);
  if (type == RTE_ETHER_TYPE_VLAN) {
    if (len < off + 4) return kOwnerLocal;
    type = Load16(frame + off + 2);
    off += 4;
  }
  const uint8_t* l3 = frame + off;
  const uint32_t l3_len = len - off;
  if (type == RTE_ETHER_TYPE_ARP) return kOwnerAll;
  if (type == RTE_ETHER_TYPE_IPV4) {
    if (l3_len < sizeof(rte_ipv4_hdr)) return kOwnerLocal;
    const uint32_t ihl = (l3[0] & 0x0f) * 4u;
    const uint8_t proto = l3[9];
    uint32_t src;
    std::memcpy(&src, l3 + 12, 4);
    if ((proto == kProtoTcp || proto == kProtoUdp) && ihl >= 20 && l3_len >= ihl + 4) {
      uint16_t owner = OwnerOfLocalPort(Load16(l3 + ihl + 2));
      if (owner != kOwnerLocal) return owner;
    }
    return OwnerOfClientV4(src);
  }
  if (type == RTE_ETHER_TYPE_IPV6) {
    if (l3_len < sizeof(rte_ipv6_hdr)) return kOwnerLocal;
    const uint8_t next = l3[6];
    const uint8_t* l4 = l3 + sizeof(rte_ipv6_hdr);
    const uint32_t l4_len = l3_len - sizeof(rte_ipv6_hdr);
    if (next == kProtoIcmp6 && l4_len >= 1 && (l4[0] == 135 || l4[0] == 136)) return kOwnerAll;
    if ((next == kProtoTcp || next == kProtoUdp) && l4_len >= 4) {
      uint16_t owner = OwnerOfLocalPort(Load16(l4 + 2));
      if (owner != kOwnerLocal) return owner;
    }
    return OwnerOfClientV6(l3 + 8);
  }
  return kOwnerLocal;
}

}  // namespace sluice::net
