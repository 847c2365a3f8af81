// Fast path: input of one frame. Every header is validated before it is read; every frame
// that is not consumed is dropped into exactly one named counter.
#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include <cstring>

#include "dataplane/net/net.h"
#include "dataplane/net/net_inl.h"

namespace sluice::net {

using counters::Counter;

NetStack::NetStack(const NetConfig* cfg, counters::WorkerCounters* counters, NeighbourTable* neigh,
                   rte_mempool* pool, uint16_t worker_id)
    : cfg_(cfg), counters_(counters), neigh_(neigh), pool_(pool), worker_id_(worker_id) {}

void NetStack::Drop(rte_mbuf* m, Counter reason) noexcept {
  counters_->Inc(reason);
  rte_pktmbuf_free(m);
}

void NetStack::Input(rte_mbuf* m, uint16_t port, bool learn_only) noexcept {
  // Frames in several mbufs (a peer's zero-copy transmit over an in-memory port, scattered
  // receive) are made contiguous when the first mbuf has room; the layers above expect one.
  if (m->nb_segs != 1 && rte_pktmbuf_linearize(m) != 0) {
    return Drop(m, Counter::eth_drop_segmented);
  }
  const uint32_t len = m->data_len;
  if (len < sizeof(rte_ether_hdr)) return Drop(m, Counter::eth_drop_short);
  const auto* eth = rte_pktmbuf_mtod(m, const rte_ether_hdr*);
  const PortAddrs& pa = cfg_->ports[port];
  MacAddr dst;
  std::memcpy(dst.b.data(), eth->dst_addr.addr_bytes, 6);
  if (!dst.IsMulticast() && !(dst == pa.mac)) return Drop(m, Counter::eth_drop_not_for_us);
  std::memcpy(rx_src_.b.data(), eth->src_addr.addr_bytes, 6);
  uint16_t type = rte_be_to_cpu_16(eth->ether_type);
  uint32_t off = sizeof(rte_ether_hdr);
  if (type == RTE_ETHER_TYPE_VLAN) {
    if (len < off + sizeof(rte_vlan_hdr)) return Drop(m, Counter::eth_drop_short);
    const auto* vh = reinterpret_cast<const rte_vlan_hdr*>(eth + 1);
    const uint16_t vid = rte_be_to_cpu_16(vh->vlan_tci) & 0x0fff;
    if (pa.vlan == 0 || vid != pa.vlan) return Drop(m, Counter::vlan_drop_tagged);
    type = rte_be_to_cpu_16(vh->eth_proto);
    off += sizeof(rte_vlan_hdr);
  } else if (pa.vlan != 0) {
    return Drop(m, Counter::vlan_drop_untagged);
  }
  rte_pktmbuf_adj(m, static_cast<uint16_t>(off));
  switch (type) {
    case RTE_ETHER_TYPE_ARP:
      return InputArp(m, port, learn_only);
    case RTE_ETHER_TYPE_IPV4:
      return InputIpv4(m, port);
    case RTE_ETHER_TYPE_IPV6:
      return InputIpv6(m, port, learn_only);
    default:
      return Drop(m, Counter::eth_drop_unknown_type);
  }
}

// RFC 826, with the "merge" rule: a sender we already know is refreshed by any ARP packet;
// a sender asking for one of our addresses is added.
void NetStack::InputArp(rte_mbuf* m, uint16_t port, bool learn_only) noexcept {
  if (m->data_len < sizeof(rte_arp_hdr)) return Drop(m, Counter::arp_drop_malformed);
  auto* arp = rte_pktmbuf_mtod(m, rte_arp_hdr*);
  const uint16_t op = rte_be_to_cpu_16(arp->arp_opcode);
  if (rte_be_to_cpu_16(arp->arp_hardware) != RTE_ARP_HRD_ETHER ||
      rte_be_to_cpu_16(arp->arp_protocol) != RTE_ETHER_TYPE_IPV4 || arp->arp_hlen != 6 ||
      arp->arp_plen != 4 || (op != RTE_ARP_OP_REQUEST && op != RTE_ARP_OP_REPLY)) {
    return Drop(m, Counter::arp_drop_malformed);
  }
  MacAddr sha;
  std::memcpy(sha.b.data(), arp->arp_data.arp_sha.addr_bytes, 6);
  if (sha.IsMulticast() || sha.IsZero()) return Drop(m, Counter::arp_drop_bad_sender);
  const Ipv4Addr sip{arp->arp_data.arp_sip};
  const Ipv4Addr tip{arp->arp_data.arp_tip};
  if (IsOurV4(sip) || (sip.be != 0 && IsBadV4Source(sip))) {
    return Drop(m, Counter::arp_drop_bad_sender);
  }
  const bool for_us = IsOurV4OnPort(port, tip);
  if (sip.be != 0) Learn(NeighbourKey::V4(port, sip), sha, for_us);
  if (!for_us) {
    if (learn_only) {
      rte_pktmbuf_free(m);
      return;
    }
    return Drop(m, Counter::arp_drop_not_for_us);
  }
  if (learn_only || op != RTE_ARP_OP_REQUEST) {
    rte_pktmbuf_free(m);
    return;
  }
  // The reply, in place.
  const PortAddrs& pa = cfg_->ports[port];
  arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
  arp->arp_data.arp_tha = arp->arp_data.arp_sha;
  arp->arp_data.arp_tip = sip.be;
  std::memcpy(arp->arp_data.arp_sha.addr_bytes, pa.mac.b.data(), 6);
  arp->arp_data.arp_sip = tip.be;
  rte_pktmbuf_trim(m, static_cast<uint16_t>(m->data_len - sizeof(rte_arp_hdr)));
  counters_->Inc(Counter::arp_replies_sent);
  Transmit(m, port, sha, RTE_ETHER_TYPE_ARP);
}

void NetStack::InputIpv4(rte_mbuf* m, uint16_t port) noexcept {
  const uint32_t len = m->data_len;
  if (len < sizeof(rte_ipv4_hdr)) return Drop(m, Counter::ipv4_drop_short);
  auto* ip = rte_pktmbuf_mtod(m, rte_ipv4_hdr*);
  if ((ip->version_ihl >> 4) != 4) return Drop(m, Counter::ipv4_drop_bad_version);
  const uint32_t ihl = (ip->version_ihl & RTE_IPV4_HDR_IHL_MASK) * 4u;
  if (ihl < sizeof(rte_ipv4_hdr) || ihl > len) {
    return Drop(m, Counter::ipv4_drop_bad_header_length);
  }
  const uint32_t total = rte_be_to_cpu_16(ip->total_length);
  if (total < ihl || total > len) return Drop(m, Counter::ipv4_drop_bad_total_length);
  if (rte_raw_cksum(ip, ihl) != 0xffff) return Drop(m, Counter::ipv4_drop_bad_checksum);
  if (total < len) rte_pktmbuf_trim(m, static_cast<uint16_t>(len - total));
  const Ipv4Addr src{ip->src_addr};
  if (IsBadV4Source(src) || IsOurV4(src)) return Drop(m, Counter::ipv4_drop_bad_source);
  if (ip->time_to_live == 0) return Drop(m, Counter::ipv4_drop_ttl_zero);
  const uint16_t frag = rte_be_to_cpu_16(ip->fragment_offset);
  if (frag & (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) {
    return Drop(m, Counter::ipv4_drop_fragment);
  }
  if (!IsOurV4(Ipv4Addr{ip->dst_addr})) return Drop(m, Counter::ipv4_drop_not_local);
  switch (ip->next_proto_id) {
    case IPPROTO_ICMP:
      return InputIcmp(m, port, ihl);
    case IPPROTO_TCP:
      if (l4_) {
        uint8_t src[4], dst[4];
        std::memcpy(src, &ip->src_addr, 4);
        std::memcpy(dst, &ip->dst_addr, 4);
        rte_pktmbuf_adj(m, static_cast<uint16_t>(ihl));
        return l4_->TcpInput(m, src, dst, false);
      }
      return Drop(m, Counter::ipv4_drop_unknown_protocol);
    default:
      return Drop(m, Counter::ipv4_drop_unknown_protocol);
  }
}

void NetStack::InputIcmp(rte_mbuf* m, uint16_t port, uint32_t ihl) noexcept {
  (void)port;
  auto* ip = rte_pktmbuf_mtod(m, rte_ipv4_hdr*);
  const uint32_t icmp_len = m->data_len - ihl;
  if (icmp_len < sizeof(rte_icmp_hdr)) return Drop(m, Counter::icmp_drop_short);
  auto* icmp = rte_pktmbuf_mtod_offset(m, rte_icmp_hdr*, ihl);
  if (rte_raw_cksum(icmp, icmp_len) != 0xffff) return Drop(m, Counter::icmp_drop_bad_checksum);
  if (icmp->icmp_type != RTE_IP_ICMP_ECHO_REQUEST || icmp->icmp_code != 0) {
    return Drop(m, Counter::icmp_drop_unhandled_type);
  }
  // Echo reply in place (RFC 792): same identifier, sequence and data.
  icmp->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
  icmp->icmp_cksum = 0;
  icmp->icmp_cksum = static_cast<uint16_t>(~rte_raw_cksum(icmp, icmp_len));
  const uint32_t src = ip->src_addr;
  ip->src_addr = ip->dst_addr;
  ip->dst_addr = src;
  ip->time_to_live = kDefaultTtl;
  ip->hdr_checksum = 0;
  ip->hdr_checksum = rte_ipv4_cksum(ip);
  counters_->Inc(Counter::icmp_echo_replies);
  OutputIpv4(m);
}

void NetStack::InputIpv6(rte_mbuf* m, uint16_t port, bool learn_only) noexcept {
  const uint32_t len = m->data_len;
  if (len < sizeof(rte_ipv6_hdr)) return Drop(m, Counter::ipv6_drop_short);
  auto* ip6 = rte_pktmbuf_mtod(m, rte_ipv6_hdr*);
  if ((rte_be_to_cpu_32(ip6->vtc_flow) >> 28) != 6) {
    return Drop(m, Counter::ipv6_drop_bad_version);
  }
  const uint32_t total = sizeof(rte_ipv6_hdr) + rte_be_to_cpu_16(ip6->payload_len);
  if (total > len) return Drop(m, Counter::ipv6_drop_bad_payload_length);
  if (total < len) rte_pktmbuf_trim(m, static_cast<uint16_t>(len - total));
  const Ipv6Addr src = LoadV6(ip6->src_addr);
  const Ipv6Addr dst = LoadV6(ip6->dst_addr);
  if (src.IsMulticast() || src.IsLoopback() || IsOurV6(src)) {
    return Drop(m, Counter::ipv6_drop_bad_source);
  }
  if (ip6->hop_limits == 0) return Drop(m, Counter::ipv6_drop_hop_limit_zero);
  if (!IsOurV6(dst) && !IsOurSolicitedNode(port, dst) && !(dst == AllNodes())) {
    return Drop(m, Counter::ipv6_drop_not_local);
  }
  switch (ip6->proto) {
    case IPPROTO_ICMPV6:
      return InputIcmp6(m, port, learn_only);
    case IPPROTO_TCP:
      if (l4_ && !learn_only && !src.IsUnspecified() && !dst.IsMulticast()) {
        rte_pktmbuf_adj(m, sizeof(rte_ipv6_hdr));
        return l4_->TcpInput(m, src.b.data(), dst.b.data(), true);
      }
      return Drop(m, Counter::ipv6_drop_unknown_next_header);
    case IPPROTO_FRAGMENT:
      return Drop(m, Counter::ipv6_drop_fragment);
    case IPPROTO_HOPOPTS:
    case IPPROTO_ROUTING:
    case IPPROTO_DSTOPTS:
    case IPPROTO_AH:
    case IPPROTO_ESP:
      return Drop(m, Counter::ipv6_drop_extension_header);
    default:
      return Drop(m, Counter::ipv6_drop_unknown_next_header);
  }
}

void NetStack::InputIcmp6(rte_mbuf* m, uint16_t port, bool learn_only) noexcept {
  auto* ip6 = rte_pktmbuf_mtod(m, rte_ipv6_hdr*);
  const uint32_t l4_len = rte_be_to_cpu_16(ip6->payload_len);
  if (l4_len < kIcmp6HeaderLen) return Drop(m, Counter::icmp6_drop_short);
  auto* l4 = reinterpret_cast<uint8_t*>(ip6 + 1);
  if (rte_ipv6_udptcp_cksum_verify(ip6, l4) != 0) {
    return Drop(m, Counter::icmp6_drop_bad_checksum);
  }
  const uint8_t type = l4[0];
  if (type == kNdNeighSolicit) return InputNeighSolicit(m, port, learn_only);
  if (type == kNdNeighAdvert) return InputNeighAdvert(m, port);
  const Ipv6Addr src = LoadV6(ip6->src_addr);
  if (type != kIcmp6EchoRequest || l4[1] != 0) return Drop(m, Counter::icmp6_drop_unhandled_type);
  if (l4_len < kIcmp6EchoLen) return Drop(m, Counter::icmp6_drop_short);
  if (src.IsUnspecified()) return Drop(m, Counter::ipv6_drop_bad_source);
  // Echo reply (RFC 4443 section 4.2), from the address asked, or from our address on the
  // port when the request went to a multicast group.
  Ipv6Addr from = LoadV6(ip6->dst_addr);
  if (from.IsMulticast() && !SourceV6(port, &from)) {
    return Drop(m, Counter::icmp6_drop_unhandled_type);
  }
  std::memcpy(ip6->dst_addr, src.b.data(), 16);
  std::memcpy(ip6->src_addr, from.b.data(), 16);
  ip6->hop_limits = kDefaultTtl;
  l4[0] = kIcmp6EchoReply;
  SetIcmp6Checksum(ip6, l4, 0);
  SetIcmp6Checksum(ip6, l4, rte_ipv6_udptcp_cksum(ip6, l4));
  counters_->Inc(Counter::icmp6_echo_replies);
  OutputIpv6(m);
}

// RFC 4861 section 7.1.1 validation, then section 7.2.4: learn the sender, advertise.
void NetStack::InputNeighSolicit(rte_mbuf* m, uint16_t port, bool learn_only) noexcept {
  auto* ip6 = rte_pktmbuf_mtod(m, rte_ipv6_hdr*);
  auto* l4 = reinterpret_cast<uint8_t*>(ip6 + 1);
  const uint32_t l4_len = rte_be_to_cpu_16(ip6->payload_len);
  if (ip6->hop_limits != 255 || l4[1] != 0 || l4_len < kNdMessageLen) {
    return Drop(m, Counter::nd_drop_malformed);
  }
  const Ipv6Addr target = LoadV6(l4 + 8);
  const Ipv6Addr src = LoadV6(ip6->src_addr);
  const Ipv6Addr dst = LoadV6(ip6->dst_addr);
  MacAddr slla;
  bool has_slla = false;
  if (!ParseNdOptions(l4 + kNdMessageLen, l4_len - kNdMessageLen, kNdOptSourceLinkAddr, &slla,
                      &has_slla) ||
      target.IsMulticast() || (src.IsUnspecified() && (!dst.IsMulticast() || has_slla))) {
    return Drop(m, Counter::nd_drop_malformed);
  }
  if (!IsOurV6OnPort(port, target)) {
    if (learn_only) {
      rte_pktmbuf_free(m);
      return;
    }
    return Drop(m, Counter::nd_drop_not_for_us);
  }
  if (!src.IsUnspecified() && has_slla) Learn(NeighbourKey::V6(port, src), slla, true);
  if (learn_only) {
    rte_pktmbuf_free(m);
    return;
  }
  // The advertisement, in place: header, 24-byte NA, one target link-layer address option.
  const PortAddrs& pa = cfg_->ports[port];
  const bool solicited = !src.IsUnspecified();
  const Ipv6Addr reply_dst = solicited ? src : AllNodes();
  MacAddr dst_mac = has_slla ? slla : rx_src_;
  if (!solicited) dst_mac = MulticastMac(reply_dst);
  rte_pktmbuf_trim(m, static_cast<uint16_t>(l4_len - kNdMessageLen));
  if (!rte_pktmbuf_append(m, kNdLinkAddrOptLen)) return Drop(m, Counter::out_drop_no_mbuf);
  ip6->payload_len = rte_cpu_to_be_16(kNdMessageLen + kNdLinkAddrOptLen);
  ip6->hop_limits = 255;
  std::memcpy(ip6->dst_addr, reply_dst.b.data(), 16);
  std::memcpy(ip6->src_addr, target.b.data(), 16);
  l4[0] = kNdNeighAdvert;
  l4[1] = 0;
  // Flags: Router (we route for our hosts), Solicited, Override.
  l4[4] = static_cast<uint8_t>(0x80 | (solicited ? 0x40 : 0) | 0x20);
  l4[5] = l4[6] = l4[7] = 0;
  uint8_t* opt = l4 + kNdMessageLen;
  opt[0] = kNdOptTargetLinkAddr;
  opt[1] = 1;
  std::memcpy(opt + 2, pa.mac.b.data(), 6);
  SetIcmp6Checksum(ip6, l4, 0);
  SetIcmp6Checksum(ip6, l4, rte_ipv6_udptcp_cksum(ip6, l4));
  counters_->Inc(Counter::nd_adverts_sent);
  Transmit(m, port, dst_mac, RTE_ETHER_TYPE_IPV6);
}

// RFC 4861 section 7.1.2 validation, then 7.2.5: only existing entries are updated.
void NetStack::InputNeighAdvert(rte_mbuf* m, uint16_t port) noexcept {
  auto* ip6 = rte_pktmbuf_mtod(m, rte_ipv6_hdr*);
  auto* l4 = reinterpret_cast<uint8_t*>(ip6 + 1);
  const uint32_t l4_len = rte_be_to_cpu_16(ip6->payload_len);
  if (ip6->hop_limits != 255 || l4[1] != 0 || l4_len < kNdMessageLen) {
    return Drop(m, Counter::nd_drop_malformed);
  }
  const Ipv6Addr target = LoadV6(l4 + 8);
  const Ipv6Addr dst = LoadV6(ip6->dst_addr);
  const bool solicited_flag = (l4[4] & 0x40) != 0;
  MacAddr tlla;
  bool has_tlla = false;
  if (!ParseNdOptions(l4 + kNdMessageLen, l4_len - kNdMessageLen, kNdOptTargetLinkAddr, &tlla,
                      &has_tlla) ||
      target.IsMulticast() || (dst.IsMulticast() && solicited_flag)) {
    return Drop(m, Counter::nd_drop_malformed);
  }
  if (has_tlla && !tlla.IsMulticast() && !tlla.IsZero()) {
    Learn(NeighbourKey::V6(port, target), tlla, false);
  }
  rte_pktmbuf_free(m);
}

}  // namespace sluice::net
