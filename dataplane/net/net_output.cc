// Fast path: output of IP packets (route, next hop resolution, L2) and the neighbour
// machinery (learning, probes, expiry).
#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_lpm.h>
#include <rte_lpm6.h>
#include <rte_mbuf.h>

#include <cstring>

#include "dataplane/net/net.h"
#include "dataplane/net/net_inl.h"

namespace sluice::net {

using counters::Counter;

bool NetStack::IsOurV4OnPort(uint16_t port, Ipv4Addr a) const noexcept {
  const PortAddrs& pa = cfg_->ports[port];
  for (unsigned i = 0; i < pa.n_v4; ++i) {
    if (pa.v4[i] == a) return true;
  }
  return false;
}

bool NetStack::IsOurV4(Ipv4Addr a) const noexcept {
  for (unsigned p = 0; p < cfg_->nports; ++p) {
    if (IsOurV4OnPort(static_cast<uint16_t>(p), a)) return true;
  }
  return false;
}

bool NetStack::IsOurV6OnPort(uint16_t port, const Ipv6Addr& a) const noexcept {
  const PortAddrs& pa = cfg_->ports[port];
  for (unsigned i = 0; i < pa.n_v6; ++i) {
    if (pa.v6[i] == a) return true;
  }
  return false;
}

bool NetStack::IsOurV6(const Ipv6Addr& a) const noexcept {
  for (unsigned p = 0; p < cfg_->nports; ++p) {
    if (IsOurV6OnPort(static_cast<uint16_t>(p), a)) return true;
  }
  return false;
}

bool NetStack::IsOurSolicitedNode(uint16_t port, const Ipv6Addr& a) const noexcept {
  const PortAddrs& pa = cfg_->ports[port];
  for (unsigned i = 0; i < pa.n_v6; ++i) {
    if (pa.v6[i].SolicitedNode() == a) return true;
  }
  return false;
}

bool NetStack::SourceV4(uint16_t port, Ipv4Addr* out) const noexcept {
  const PortAddrs& pa = cfg_->ports[port];
  if (pa.n_v4 == 0) return false;
  *out = pa.v4[0];
  return true;
}

bool NetStack::SourceV6(uint16_t port, Ipv6Addr* out) const noexcept {
  const PortAddrs& pa = cfg_->ports[port];
  if (pa.n_v6 == 0) return false;
  *out = pa.v6[0];
  return true;
}

bool NetStack::SourceFor(const uint8_t* dst, bool is_v6, uint8_t* src) const noexcept {
  uint32_t hop = 0;
  if (is_v6) {
    if (!cfg_->lpm6 || rte_lpm6_lookup(cfg_->lpm6, dst, &hop) != 0) return false;
    Ipv6Addr a;
    if (!SourceV6(cfg_->routes[hop].port, &a)) return false;
    std::memcpy(src, a.b.data(), 16);
    return true;
  }
  Ipv4Addr d;
  std::memcpy(&d.be, dst, 4);
  if (!cfg_->lpm4 || rte_lpm_lookup(cfg_->lpm4, d.Host(), &hop) != 0) return false;
  Ipv4Addr a;
  if (!SourceV4(cfg_->routes[hop].port, &a)) return false;
  std::memcpy(src, &a.be, 4);
  return true;
}

void NetStack::Transmit(rte_mbuf* m, uint16_t port, const MacAddr& dst,
                        uint16_t ether_type) noexcept {
  const PortAddrs& pa = cfg_->ports[port];
  const uint16_t l2_len =
      static_cast<uint16_t>(sizeof(rte_ether_hdr) + (pa.vlan ? sizeof(rte_vlan_hdr) : 0));
  auto* eth = reinterpret_cast<rte_ether_hdr*>(rte_pktmbuf_prepend(m, l2_len));
  if (!eth) return Drop(m, Counter::out_drop_no_mbuf);
  std::memcpy(eth->dst_addr.addr_bytes, dst.b.data(), 6);
  std::memcpy(eth->src_addr.addr_bytes, pa.mac.b.data(), 6);
  if (pa.vlan) {
    eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN);
    auto* vh = reinterpret_cast<rte_vlan_hdr*>(eth + 1);
    vh->vlan_tci = rte_cpu_to_be_16(pa.vlan);
    vh->eth_proto = rte_cpu_to_be_16(ether_type);
  } else {
    eth->ether_type = rte_cpu_to_be_16(ether_type);
  }
  TxBuffer& t = tx_[port];
  if (t.n == kTxBufferSize) return Drop(m, Counter::out_drop_tx_full);
  t.pkts[t.n++] = m;
}

void NetStack::OutputL4(rte_mbuf* m, uint8_t proto, const uint8_t* src, const uint8_t* dst,
                        bool is_v6) noexcept {
  const uint32_t l4_len = m->pkt_len;
  if (is_v6) {
    auto* ip6 = reinterpret_cast<rte_ipv6_hdr*>(rte_pktmbuf_prepend(m, sizeof(rte_ipv6_hdr)));
    if (!ip6) return Drop(m, Counter::out_drop_no_mbuf);
    ip6->vtc_flow = rte_cpu_to_be_32(6u << 28);
    ip6->payload_len = rte_cpu_to_be_16(static_cast<uint16_t>(l4_len));
    ip6->proto = proto;
    ip6->hop_limits = kDefaultTtl;
    std::memcpy(ip6->src_addr, src, 16);
    std::memcpy(ip6->dst_addr, dst, 16);
    return OutputIpv6(m);
  }
  auto* ip = reinterpret_cast<rte_ipv4_hdr*>(rte_pktmbuf_prepend(m, sizeof(rte_ipv4_hdr)));
  if (!ip) return Drop(m, Counter::out_drop_no_mbuf);
  ip->version_ihl = 0x45;
  ip->type_of_service = 0;
  ip->total_length = rte_cpu_to_be_16(static_cast<uint16_t>(sizeof(rte_ipv4_hdr) + l4_len));
  ip->packet_id = rte_cpu_to_be_16(ip_id_++);
  ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
  ip->time_to_live = kDefaultTtl;
  ip->next_proto_id = proto;
  std::memcpy(&ip->src_addr, src, 4);
  std::memcpy(&ip->dst_addr, dst, 4);
  ip->hdr_checksum = 0;
  ip->hdr_checksum = rte_ipv4_cksum(ip);
  OutputIpv4(m);
}

void NetStack::OutputIpv4(rte_mbuf* m) noexcept {
  const auto* ip = rte_pktmbuf_mtod(m, const rte_ipv4_hdr*);
  const Ipv4Addr dst{ip->dst_addr};
  uint32_t hop = 0;
  if (!cfg_->lpm4 || rte_lpm_lookup(cfg_->lpm4, dst.Host(), &hop) != 0) {
    return Drop(m, Counter::out_drop_no_route);
  }
  const Route& r = cfg_->routes[hop];
  const Ipv4Addr next = r.has_gateway ? r.gateway.v4 : dst;
  Resolve(m, r.port, NeighbourKey::V4(r.port, next), false);
}

void NetStack::OutputIpv6(rte_mbuf* m) noexcept {
  const auto* ip6 = rte_pktmbuf_mtod(m, const rte_ipv6_hdr*);
  const Ipv6Addr dst = LoadV6(ip6->dst_addr);
  if (dst.IsMulticast()) {
    // Link-scope multicast: out of the port whose address is the source.
    const Ipv6Addr src = LoadV6(ip6->src_addr);
    for (unsigned p = 0; p < cfg_->nports; ++p) {
      if (IsOurV6OnPort(static_cast<uint16_t>(p), src)) {
        return Transmit(m, static_cast<uint16_t>(p), MulticastMac(dst), RTE_ETHER_TYPE_IPV6);
      }
    }
    return Drop(m, Counter::out_drop_no_route);
  }
  uint32_t hop = 0;
  if (!cfg_->lpm6 || rte_lpm6_lookup(cfg_->lpm6, dst.b.data(), &hop) != 0) {
    return Drop(m, Counter::out_drop_no_route);
  }
  const Route& r = cfg_->routes[hop];
  const Ipv6Addr& next = r.has_gateway ? r.gateway.v6 : dst;
  Resolve(m, r.port, NeighbourKey::V6(r.port, next), true);
}

void NetStack::Resolve(rte_mbuf* m, uint16_t port, const NeighbourKey& key, bool is_v6) noexcept {
  const uint16_t type = is_v6 ? RTE_ETHER_TYPE_IPV6 : RTE_ETHER_TYPE_IPV4;
  bool created = false;
  NeighbourEntry* e = neigh_->FindOrCreate(key, &created);
  if (!e) return Drop(m, Counter::out_drop_neigh_table_full);
  if (e->state == NeighState::kReachable || e->state == NeighState::kStale) {
    if (e->state == NeighState::kStale && now_ >= e->next_probe_tsc) SendProbe(e, true);
    return Transmit(m, port, e->mac, type);
  }
  if (e->npending == kNeighPendingMax) return Drop(m, Counter::out_drop_neigh_pending_full);
  e->pending[e->npending++] = m;
  if (created) SendProbe(e, false);
}

void NetStack::Learn(const NeighbourKey& key, const MacAddr& mac, bool create) noexcept {
  bool created = false;
  NeighbourEntry* e = create ? neigh_->FindOrCreate(key, &created) : neigh_->Find(key);
  if (!e) return;
  e->mac = mac;
  e->state = NeighState::kReachable;
  e->confirmed_tsc = now_;
  e->probes = 0;
  e->next_probe_tsc = 0;
  counters_->Inc(Counter::neigh_learned);
  const uint16_t type = key.is_v6 ? RTE_ETHER_TYPE_IPV6 : RTE_ETHER_TYPE_IPV4;
  for (unsigned i = 0; i < e->npending; ++i) Transmit(e->pending[i], key.port, mac, type);
  e->npending = 0;
}

void NetStack::SendProbe(NeighbourEntry* e, bool unicast) noexcept {
  e->probes++;
  e->next_probe_tsc = now_ + neigh_->times().retrans_tsc;
  const MacAddr* to = unicast ? &e->mac : nullptr;
  if (e->key.is_v6) {
    SendNeighSolicit(e->key.port, LoadV6(e->key.addr), to);
  } else {
    Ipv4Addr target;
    std::memcpy(&target.be, e->key.addr, 4);
    SendArpRequest(e->key.port, target, to);
  }
}

void NetStack::SendArpRequest(uint16_t port, Ipv4Addr target, const MacAddr* unicast) noexcept {
  const PortAddrs& pa = cfg_->ports[port];
  Ipv4Addr src;
  if (!SourceV4(port, &src)) return;
  for (unsigned i = 0; i < pa.n_v4; ++i) {
    IpPrefix p{IpAddr{false, pa.v4[i], {}}, pa.v4_len[i]};
    if (PrefixContains(p, IpAddr{false, target, {}})) {
      src = pa.v4[i];
      break;
    }
  }
  rte_mbuf* m = rte_pktmbuf_alloc(pool_);
  if (!m) return counters_->Inc(Counter::out_drop_no_mbuf);
  auto* arp = reinterpret_cast<rte_arp_hdr*>(rte_pktmbuf_append(m, sizeof(rte_arp_hdr)));
  if (!arp) return Drop(m, Counter::out_drop_no_mbuf);
  arp->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
  arp->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
  arp->arp_hlen = 6;
  arp->arp_plen = 4;
  arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
  std::memcpy(arp->arp_data.arp_sha.addr_bytes, pa.mac.b.data(), 6);
  arp->arp_data.arp_sip = src.be;
  std::memset(arp->arp_data.arp_tha.addr_bytes, 0, 6);
  arp->arp_data.arp_tip = target.be;
  counters_->Inc(Counter::arp_requests_sent);
  MacAddr bcast;
  bcast.b.fill(0xff);
  Transmit(m, port, unicast ? *unicast : bcast, RTE_ETHER_TYPE_ARP);
}

void NetStack::SendNeighSolicit(uint16_t port, const Ipv6Addr& target,
                                const MacAddr* unicast) noexcept {
  const PortAddrs& pa = cfg_->ports[port];
  Ipv6Addr src;
  if (!SourceV6(port, &src)) return;
  for (unsigned i = 0; i < pa.n_v6; ++i) {
    IpPrefix p{IpAddr{true, {}, pa.v6[i]}, pa.v6_len[i]};
    if (PrefixContains(p, IpAddr{true, {}, target})) {
      src = pa.v6[i];
      break;
    }
  }
  rte_mbuf* m = rte_pktmbuf_alloc(pool_);
  if (!m) return counters_->Inc(Counter::out_drop_no_mbuf);
  const uint16_t l4_len = kNdMessageLen + kNdLinkAddrOptLen;
  auto* ip6 = reinterpret_cast<rte_ipv6_hdr*>(
      rte_pktmbuf_append(m, static_cast<uint16_t>(sizeof(rte_ipv6_hdr) + l4_len)));
  if (!ip6) return Drop(m, Counter::out_drop_no_mbuf);
  const Ipv6Addr dst = unicast ? target : target.SolicitedNode();
  ip6->vtc_flow = rte_cpu_to_be_32(6u << 28);
  ip6->payload_len = rte_cpu_to_be_16(l4_len);
  ip6->proto = IPPROTO_ICMPV6;
  ip6->hop_limits = 255;
  std::memcpy(ip6->src_addr, src.b.data(), 16);
  std::memcpy(ip6->dst_addr, dst.b.data(), 16);
  auto* l4 = reinterpret_cast<uint8_t*>(ip6 + 1);
  std::memset(l4, 0, l4_len);
  l4[0] = kNdNeighSolicit;
  std::memcpy(l4 + 8, target.b.data(), 16);
  l4[kNdMessageLen] = kNdOptSourceLinkAddr;
  l4[kNdMessageLen + 1] = 1;
  std::memcpy(l4 + kNdMessageLen + 2, pa.mac.b.data(), 6);
  SetIcmp6Checksum(ip6, l4, rte_ipv6_udptcp_cksum(ip6, l4));
  counters_->Inc(Counter::nd_solicits_sent);
  Transmit(m, port, unicast ? *unicast : MulticastMac(dst), RTE_ETHER_TYPE_IPV6);
}

void NetStack::Tick() noexcept {
  const NeighbourTimes& t = neigh_->times();
  NeighbourEntry* entries = neigh_->entries();
  const uint32_t n = neigh_->capacity() + 1;
  for (uint32_t i = 0; i < n; ++i) {
    NeighbourEntry* e = &entries[i];
    switch (e->state) {
      case NeighState::kFree:
        break;
      case NeighState::kIncomplete:
        if (now_ < e->next_probe_tsc) break;
        if (e->probes < kNeighProbesMax) {
          SendProbe(e, false);
          break;
        }
        for (unsigned k = 0; k < e->npending; ++k)
          Drop(e->pending[k], Counter::out_drop_neigh_failed);
        e->npending = 0;
        neigh_->Remove(e);
        break;
      case NeighState::kReachable:
        if (now_ - e->confirmed_tsc > t.reachable_tsc) e->state = NeighState::kStale;
        break;
      case NeighState::kStale:
        if (now_ - e->confirmed_tsc > t.gc_tsc) {
          neigh_->Remove(e);
          counters_->Inc(Counter::neigh_expired);
        }
        break;
    }
  }
}

}  // namespace sluice::net
