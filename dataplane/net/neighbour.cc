#include "dataplane/net/neighbour.h"

#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

#include <cstring>

namespace sluice::net {

NeighbourKey NeighbourKey::V4(uint16_t port, Ipv4Addr a) {
  NeighbourKey k;
  k.port = port;
  std::memcpy(k.addr, &a.be, 4);
  return k;
}

NeighbourKey NeighbourKey::V6(uint16_t port, const Ipv6Addr& a) {
  NeighbourKey k;
  k.port = port;
  k.is_v6 = 1;
  std::memcpy(k.addr, a.b.data(), 16);
  return k;
}

NeighbourTable::~NeighbourTable() {
  if (hash_) rte_hash_free(hash_);
  if (entries_) rte_free(entries_);
}

bool NeighbourTable::Init(const char* name, uint32_t capacity, int socket_id,
                          const NeighbourTimes& times) {
  rte_hash_parameters params{};
  params.name = name;
  params.entries = capacity;
  params.key_len = sizeof(NeighbourKey);
  params.hash_func = rte_hash_crc;
  params.socket_id = socket_id;
  // Single writer, single reader (the owning worker): no flags.
  hash_ = rte_hash_create(&params);
  if (!hash_) return false;
  // rte_hash returns key positions in [0, entries]: one spare slot.
  entries_ = static_cast<NeighbourEntry*>(
      rte_zmalloc_socket(name, sizeof(NeighbourEntry) * (capacity + 1), 64, socket_id));
  if (!entries_) return false;
  capacity_ = capacity;
  times_ = times;
  return true;
}

NeighbourEntry* NeighbourTable::Find(const NeighbourKey& key) noexcept {
  int32_t pos = rte_hash_lookup(hash_, &key);
  if (pos < 0) return nullptr;
  return &entries_[pos];
}

NeighbourEntry* NeighbourTable::FindOrCreate(const NeighbourKey& key, bool* created) noexcept {
  *created = false;
  if (NeighbourEntry* e = Find(key)) return e;
  if (size_ >= capacity_) return nullptr;
  int32_t pos = rte_hash_add_key(hash_, &key);
  if (pos < 0) return nullptr;
  NeighbourEntry* e = &entries_[pos];
  *e = NeighbourEntry{};
  e->key = key;
  e->state = NeighState::kIncomplete;
  ++size_;
  *created = true;
  return e;
}

void NeighbourTable::Remove(NeighbourEntry* e) noexcept {
  if (e->state == NeighState::kFree) return;
  rte_hash_del_key(hash_, &e->key);
  *e = NeighbourEntry{};
  --size_;
}

}  // namespace sluice::net
