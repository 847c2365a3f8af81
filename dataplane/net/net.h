// L2/L3 of one worker: Ethernet (with optional VLAN), ARP, IPv4, ICMP echo, IPv6, Neighbor
// Discovery and ICMPv6 echo. Input validates every header and drops what fails into a named
// counter; output routes (rte_lpm / rte_lpm6), resolves the next hop in the worker's own
// neighbour table and appends the frame to the port's transmit buffer, which the run loop
// flushes. No heap allocation, no exceptions, no locks, no system calls.
#pragma once

#include <cstdint>

#include "dataplane/counters/counters.h"
#include "dataplane/net/addr.h"
#include "dataplane/net/flow.h"
#include "dataplane/net/neighbour.h"

struct rte_mbuf;
struct rte_mempool;
struct rte_lpm;
struct rte_lpm6;

namespace sluice::net {

inline constexpr unsigned kMaxPorts = 8;
inline constexpr unsigned kMaxAddrsPerPort = 8;
inline constexpr unsigned kMaxRoutes = 1024;
inline constexpr unsigned kTxBufferSize = 512;
inline constexpr uint8_t kDefaultTtl = 64;

struct PortAddrs {
  uint16_t port_id = 0;  // DPDK port id
  MacAddr mac;
  uint16_t vlan = 0;  // 0: untagged
  unsigned n_v4 = 0;
  Ipv4Addr v4[kMaxAddrsPerPort];
  uint8_t v4_len[kMaxAddrsPerPort] = {};
  unsigned n_v6 = 0;
  Ipv6Addr v6[kMaxAddrsPerPort];
  uint8_t v6_len[kMaxAddrsPerPort] = {};
};

struct Route {
  uint16_t port = 0;  // port index
  bool has_gateway = false;
  IpAddr gateway;
};

// Immutable after start-up; shared read-only by all workers.
struct NetConfig {
  unsigned nports = 0;
  PortAddrs ports[kMaxPorts];
  uint8_t port_index_of_id[256] = {};  // DPDK port id -> port index (ids < 256)
  unsigned nroutes = 0;
  Route routes[kMaxRoutes];
  rte_lpm* lpm4 = nullptr;  // next hop = index into routes
  rte_lpm6* lpm6 = nullptr;
  FlowSteering steering;
  uint64_t tsc_hz = 0;
};

// Start-up (allocates): adds a route; the caller fills `ports` first. Connected routes for
// every port address are added by BuildConnectedRoutes. False when a table is full.
bool CreateRouteTables(NetConfig& cfg, const char* name, int socket_id);
bool AddRoute(NetConfig& cfg, const IpPrefix& prefix, const Route& route);
bool BuildConnectedRoutes(NetConfig& cfg);
void FreeRouteTables(NetConfig& cfg);

struct TxBuffer {
  uint16_t n = 0;
  rte_mbuf* pkts[kTxBufferSize];
};

// Layer 4 above NetStack (the worker plugs in its TCP stack). `m` starts at the TCP header;
// `src` and `dst` are the packet's addresses (4 or 16 bytes, network order).
class L4Handler {
 public:
  virtual void TcpInput(rte_mbuf* m, const uint8_t* src, const uint8_t* dst,
                        bool is_v6) noexcept = 0;

 protected:
  ~L4Handler() = default;
};

class NetStack {
 public:
  NetStack(const NetConfig* cfg, counters::WorkerCounters* counters, NeighbourTable* neigh,
           rte_mempool* pool, uint16_t worker_id);

  // Processes one received frame (takes ownership of the mbuf). `learn_only`: a copy of an
  // ARP/ND frame another worker received; it only updates the neighbour table.
  void Input(rte_mbuf* m, uint16_t port_index, bool learn_only) noexcept;
  // Periodic work (neighbour probes and expiry); call every few milliseconds.
  void Tick() noexcept;
  void SetNow(uint64_t now_tsc) noexcept { now_ = now_tsc; }

  TxBuffer& tx(uint16_t port_index) { return tx_[port_index]; }
  const NetConfig& config() const { return *cfg_; }
  counters::WorkerCounters& counters() { return *counters_; }

  void SetL4(L4Handler* l4) { l4_ = l4; }
  // Output of a layer-4 segment: prepends the IP header (src -> dst, TTL/hop limit 64)
  // and sends it through OutputIpv4/OutputIpv6.
  void OutputL4(rte_mbuf* m, uint8_t proto, const uint8_t* src, const uint8_t* dst,
                bool is_v6) noexcept;
  // Our source address for packets to `dst` (16 bytes; an IPv4 address in the first 4):
  // the first address of the family on the port the route to `dst` leaves by.
  bool SourceFor(const uint8_t* dst, bool is_v6, uint8_t* src) const noexcept;
  // Output of an IP packet whose data starts at the IP header: route, resolve, add L2, queue.
  void OutputIpv4(rte_mbuf* m) noexcept;
  void OutputIpv6(rte_mbuf* m) noexcept;

 private:
  void Drop(rte_mbuf* m, counters::Counter reason) noexcept;
  void InputArp(rte_mbuf* m, uint16_t port, bool learn_only) noexcept;
  void InputIpv4(rte_mbuf* m, uint16_t port) noexcept;
  void InputIcmp(rte_mbuf* m, uint16_t port, uint32_t ihl) noexcept;
  void InputIpv6(rte_mbuf* m, uint16_t port, bool learn_only) noexcept;
  void InputIcmp6(rte_mbuf* m, uint16_t port, bool learn_only) noexcept;
  void InputNeighSolicit(rte_mbuf* m, uint16_t port, bool learn_only) noexcept;
  void InputNeighAdvert(rte_mbuf* m, uint16_t port) noexcept;

  // Neighbour learning: updates an entry with `mac`; creates one when `create`. Releases the
  // packets that waited for it.
  void Learn(const NeighbourKey& key, const MacAddr& mac, bool create) noexcept;
  void Resolve(rte_mbuf* m, uint16_t port, const NeighbourKey& key, bool is_v6) noexcept;
  void SendProbe(NeighbourEntry* e, bool unicast) noexcept;
  void SendArpRequest(uint16_t port, Ipv4Addr target, const MacAddr* unicast) noexcept;
  void SendNeighSolicit(uint16_t port, const Ipv6Addr& target, const MacAddr* unicast) noexcept;
  // Prepends Ethernet (and VLAN) and queues the frame on the port.
  void Transmit(rte_mbuf* m, uint16_t port, const MacAddr& dst, uint16_t ether_type) noexcept;

  bool IsOurV4(Ipv4Addr a) const noexcept;
  bool IsOurV4OnPort(uint16_t port, Ipv4Addr a) const noexcept;
  bool IsOurV6(const Ipv6Addr& a) const noexcept;
  bool IsOurV6OnPort(uint16_t port, const Ipv6Addr& a) const noexcept;
  bool IsOurSolicitedNode(uint16_t port, const Ipv6Addr& a) const noexcept;
  // Our source address on `port` for a destination (the first address of the family there).
  bool SourceV4(uint16_t port, Ipv4Addr* out) const noexcept;
  bool SourceV6(uint16_t port, Ipv6Addr* out) const noexcept;

  const NetConfig* cfg_;
  counters::WorkerCounters* counters_;
  NeighbourTable* neigh_;
  rte_mempool* pool_;
  uint16_t worker_id_;
  uint64_t now_ = 0;
  MacAddr rx_src_;  // source MAC of the frame being processed
  L4Handler* l4_ = nullptr;
  uint16_t ip_id_ = 0;
  TxBuffer tx_[kMaxPorts];
};

}  // namespace sluice::net
