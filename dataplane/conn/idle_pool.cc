// Idle server connections of one worker (idle_pool.h).
#include "dataplane/conn/idle_pool.h"

#include <rte_malloc.h>

namespace sluice::conn {

IdlePool::~IdlePool() {
  rte_free(entries_);
  rte_free(free_);
  rte_free(head_);
  rte_free(count_);
}

bool IdlePool::Init(const char* name, uint32_t capacity, uint32_t nservers, int socket_id) {
  capacity_ = capacity;
  nservers_ = nservers;
  entries_ = static_cast<Entry*>(
      rte_zmalloc_socket(name, sizeof(Entry) * (capacity ? capacity : 1), 64, socket_id));
  free_ = static_cast<uint32_t*>(
      rte_zmalloc_socket(name, sizeof(uint32_t) * (capacity ? capacity : 1), 64, socket_id));
  head_ = static_cast<uint32_t*>(
      rte_zmalloc_socket(name, sizeof(uint32_t) * (nservers ? nservers : 1), 64, socket_id));
  count_ = static_cast<uint32_t*>(
      rte_zmalloc_socket(name, sizeof(uint32_t) * (nservers ? nservers : 1), 64, socket_id));
  if (!entries_ || !free_ || !head_ || !count_) return false;
  for (uint32_t i = 0; i < nservers; ++i) head_[i] = kNone;
  for (uint32_t i = 0; i < capacity; ++i) entries_[i].server = kNone;  // free
  // Lowest slots first: the stack is popped from the end.
  for (uint32_t i = 0; i < capacity; ++i) free_[i] = capacity - 1 - i;
  nfree_ = capacity;
  return true;
}

uint32_t IdlePool::Park(uint32_t server, tcp::ConnId c, uint64_t expire_us) noexcept {
  if (nfree_ == 0 || server >= nservers_) return kNone;
  const uint32_t slot = free_[--nfree_];
  Entry& e = entries_[slot];
  if (expire_us == UINT64_MAX) {  // never purged: in its server's list only
    e = Entry{c, server, expire_us, kNone, head_[server], kNone, kNone, false};
    if (head_[server] != kNone) entries_[head_[server]].prev = slot;
    head_[server] = slot;
    ++count_[server];
    ++size_;
    return slot;
  }
  // After the last entry due no later than this one (bounded walk back from the tail).
  uint32_t after = lru_tail_;
  for (uint32_t walked = 0;
       after != kNone && entries_[after].expire_us > expire_us && walked < kMaxSortWalk;
       ++walked) {
    after = entries_[after].lru_prev;
  }
  const uint32_t before = after == kNone ? lru_head_ : entries_[after].lru_next;
  e = Entry{c, server, expire_us, kNone, head_[server], after, before, true};
  if (head_[server] != kNone) entries_[head_[server]].prev = slot;
  head_[server] = slot;
  ++count_[server];
  if (after != kNone) {
    entries_[after].lru_next = slot;
  } else {
    lru_head_ = slot;
  }
  if (before != kNone) {
    entries_[before].lru_prev = slot;
  } else {
    lru_tail_ = slot;
  }
  ++size_;
  return slot;
}

void IdlePool::Unlink(uint32_t slot) noexcept {
  Entry& e = entries_[slot];
  if (e.prev != kNone) {
    entries_[e.prev].next = e.next;
  } else {
    head_[e.server] = e.next;
  }
  if (e.next != kNone) entries_[e.next].prev = e.prev;
  if (e.in_lru) {
    if (e.lru_prev != kNone) {
      entries_[e.lru_prev].lru_next = e.lru_next;
    } else {
      lru_head_ = e.lru_next;
    }
    if (e.lru_next != kNone) {
      entries_[e.lru_next].lru_prev = e.lru_prev;
    } else {
      lru_tail_ = e.lru_prev;
    }
  }
  --count_[e.server];
  --size_;
  e.server = kNone;  // free
  free_[nfree_++] = slot;
}

tcp::ConnId IdlePool::Take(uint32_t server) noexcept {
  if (server >= nservers_ || head_[server] == kNone) return tcp::kNoConn;
  const uint32_t slot = head_[server];
  const tcp::ConnId c = entries_[slot].conn;
  Unlink(slot);
  return c;
}

bool IdlePool::Remove(uint32_t slot, tcp::ConnId c) noexcept {
  if (slot >= capacity_ || entries_[slot].server == kNone || entries_[slot].conn != c) {
    return false;
  }
  Unlink(slot);
  return true;
}

tcp::ConnId IdlePool::TakeExpired(uint64_t now_us) noexcept {
  if (lru_head_ == kNone || entries_[lru_head_].expire_us > now_us) return tcp::kNoConn;
  const tcp::ConnId c = entries_[lru_head_].conn;
  Unlink(lru_head_);
  return c;
}

}  // namespace sluice::conn
