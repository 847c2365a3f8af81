// Idle server connections of one worker, kept for reuse (HAProxy's per-thread idle/safe
// connection lists behind `http-reuse`). A stream whose server connection can carry another
// request parks it here when it ends; the next stream to the same server takes it instead of
// opening a new one. The most recently parked one is taken first (it is the least likely to
// have been closed by the server); each leaves the pool when its server's
// `pool-purge-delay` has passed unused, the ones due first purged first.
//
// Bounded: `capacity` connections in all (Park says when it is full: the caller closes the
// connection). No allocation after Init, no locks: the worker is the only user. The pool
// holds connection ids only; what a pooled connection's events mean (data or a close while
// idle: the connection is dropped) is conn::Conns's job.
#pragma once

#include <cstdint>

#include "dataplane/tcp/tcp.h"

namespace sluice::conn {

class IdlePool {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;

  IdlePool() = default;
  IdlePool(const IdlePool&) = delete;
  IdlePool& operator=(const IdlePool&) = delete;
  ~IdlePool();

  // Start-up only: room for `capacity` connections to servers 0 .. nservers - 1.
  bool Init(const char* name, uint32_t capacity, uint32_t nservers, int socket_id);

  // Parks `c` (a connection to `server` with nothing in flight) until `expire_us` (UINT64_MAX:
  // never) and returns its slot, or kNone when the pool is full or `server` is out of range.
  // The purge order is kept by walking back from the latest due at most kMaxSortWalk
  // entries: with one delay for all servers (the usual case) that is no walk at all, and
  // with several a connection can only be purged later than due, never sooner. One that
  // never expires is not in the purge order at all (it cannot hold the others back).
  uint32_t Park(uint32_t server, tcp::ConnId c, uint64_t expire_us) noexcept;
  // The connection to `server` parked last, removed from the pool; kNoConn when none. Also
  // how a server whose address changed or that left service has its connections emptied
  // (call until kNoConn and close each).
  tcp::ConnId Take(uint32_t server) noexcept;
  // Removes `c` from `slot` (it closed or spoke while idle); false when the slot does not
  // hold `c`.
  bool Remove(uint32_t slot, tcp::ConnId c) noexcept;
  // The connection due first if it is due at `now_us`, removed from the pool (the caller
  // closes it); kNoConn when none is due. Call until kNoConn.
  tcp::ConnId TakeExpired(uint64_t now_us) noexcept;
  static constexpr uint32_t kMaxSortWalk = 64;

  uint32_t size() const noexcept { return size_; }
  uint32_t capacity() const noexcept { return capacity_; }
  uint32_t idle(uint32_t server) const noexcept {
    return server < nservers_ ? count_[server] : 0;
  }

 private:
  struct Entry {
    tcp::ConnId conn;
    uint32_t server;
    uint64_t expire_us;
    uint32_t prev, next;          // the server's list, most recent first
    uint32_t lru_prev, lru_next;  // every entry that expires, the first due first
    bool in_lru;
  };
  void Unlink(uint32_t slot) noexcept;

  Entry* entries_ = nullptr;
  uint32_t* free_ = nullptr;  // stack of free slots
  uint32_t nfree_ = 0;
  uint32_t* head_ = nullptr;   // per server: most recent entry
  uint32_t* count_ = nullptr;  // per server: entries
  uint32_t nservers_ = 0;
  uint32_t capacity_ = 0;
  uint32_t size_ = 0;
  uint32_t lru_head_ = kNone, lru_tail_ = kNone;  // oldest, newest
};

}  // namespace sluice::conn
