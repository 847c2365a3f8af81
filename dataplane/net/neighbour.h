// A worker's neighbour table (ARP for IPv4, Neighbor Discovery for IPv6): bounded, with a
// few packets kept per unresolved next hop. One per worker, touched only by its owner
// (DESIGN.md section 1): the control plane creates it before the workers start and frees it
// after they stop. Keys are looked up in an rte_hash whose key position indexes the entry
// array, so an entry costs no allocation.
#pragma once

#include <cstdint>

#include "dataplane/net/addr.h"

struct rte_hash;
struct rte_mbuf;

namespace sluice::net {

inline constexpr unsigned kNeighPendingMax = 4;  // packets kept per unresolved next hop
inline constexpr unsigned kNeighProbesMax = 3;   // requests before a next hop is given up

struct NeighbourKey {
  uint16_t port = 0;  // port index (not the DPDK port id)
  uint8_t is_v6 = 0;
  uint8_t pad = 0;
  uint8_t addr[16] = {};

  static NeighbourKey V4(uint16_t port, Ipv4Addr a);
  static NeighbourKey V6(uint16_t port, const Ipv6Addr& a);
};
static_assert(sizeof(NeighbourKey) == 20);

enum class NeighState : uint8_t { kFree, kIncomplete, kReachable, kStale };

struct NeighbourEntry {
  NeighbourKey key;
  MacAddr mac;
  NeighState state = NeighState::kFree;
  uint8_t probes = 0;  // requests sent since the last confirmation
  uint8_t npending = 0;
  uint64_t confirmed_tsc = 0;
  uint64_t next_probe_tsc = 0;
  rte_mbuf* pending[kNeighPendingMax] = {};
};

struct NeighbourTimes {
  uint64_t reachable_tsc;  // confirmed entries are used without probing this long
  uint64_t retrans_tsc;    // between two requests
  uint64_t gc_tsc;         // unconfirmed entries are removed after this long
};

class NeighbourTable {
 public:
  NeighbourTable() = default;
  NeighbourTable(const NeighbourTable&) = delete;
  NeighbourTable& operator=(const NeighbourTable&) = delete;
  ~NeighbourTable();

  // Start-up only (allocates). `name` must be unique in the process.
  bool Init(const char* name, uint32_t capacity, int socket_id, const NeighbourTimes& times);

  NeighbourEntry* Find(const NeighbourKey& key) noexcept;
  // Finds or creates an entry (created ones are kIncomplete). nullptr when the table is full.
  NeighbourEntry* FindOrCreate(const NeighbourKey& key, bool* created) noexcept;
  void Remove(NeighbourEntry* e) noexcept;  // pending packets must have been taken first

  uint32_t capacity() const { return capacity_; }
  uint32_t size() const { return size_; }
  const NeighbourTimes& times() const { return times_; }
  NeighbourEntry* entries() { return entries_; }

 private:
  rte_hash* hash_ = nullptr;
  NeighbourEntry* entries_ = nullptr;
  uint32_t capacity_ = 0;
  uint32_t size_ = 0;
  NeighbourTimes times_{};
};

}  // namespace sluice::net
