// RCU publication (DESIGN.md section 1): DPDK's QSBR variable, one reader slot per worker,
// and a defer queue of retired objects that are freed once every reader has passed a
// quiescent state. Owned by the control plane; readers only call Quiescent/Online/Offline.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "dataplane/base/result.h"
#include "dataplane/snapshot/snapshot.h"

struct rte_rcu_qsbr;
struct rte_rcu_qsbr_dq;

namespace sluice::publish {

class RcuDomain {
 public:
  RcuDomain() = default;
  RcuDomain(const RcuDomain&) = delete;
  RcuDomain& operator=(const RcuDomain&) = delete;
  ~RcuDomain();

  // Needs EAL memory (the defer queue is an rte_ring). `max_retired` bounds the queue.
  base::Result<bool> Init(const std::string& name, uint32_t max_readers, uint32_t max_retired);

  // After the readers stopped: frees what is left and the RCU variable (before EAL cleanup).
  void Close();

  rte_rcu_qsbr* qsbr() const { return qsbr_; }

  // Reader side, called by reader `id` itself.
  void ReaderOnline(unsigned id);
  void ReaderOffline(unsigned id);

  // Frees `obj` with `deleter` after the current grace period. Never waits: when the defer
  // queue is full, the object goes to an overflow list with its own grace-period token,
  // freed by a later Reclaim() (a stalled reader delays freeing, never the control loop).
  void Retire(void* obj, void (*deleter)(void*));
  // Frees what is safe to free now; returns how many objects were freed.
  unsigned Reclaim();
  // Objects retired but not yet freed.
  uint64_t pending() const { return retired_ - freed_; }
  // Of those, the ones waiting in the overflow list.
  size_t overflowed() const { return overflow_.size(); }

  // Grace-period tokens, for measuring publication latency.
  uint64_t Start();
  bool Done(uint64_t token);

  // Publishes `next` in `slot` and retires the object it replaces.
  template <class T>
  void Publish(snapshot::RcuSlot<T>& slot, std::unique_ptr<T> next) {
    const T* old = slot.Exchange(next.release());
    if (old) Retire(const_cast<T*>(old), [](void* p) { delete static_cast<T*>(p); });
  }
  // At shutdown, after the readers stopped: frees the current object too.
  template <class T>
  void Drain(snapshot::RcuSlot<T>& slot) {
    delete slot.Exchange(nullptr);
    while (pending() > 0) {
      if (Reclaim() == 0) break;
    }
  }

 private:
  static void FreeRetired(void* p, void* e, unsigned n);
  rte_rcu_qsbr* qsbr_ = nullptr;
  rte_rcu_qsbr_dq* dq_ = nullptr;
  uint32_t max_readers_ = 0;
  uint64_t retired_ = 0;
  uint64_t freed_ = 0;
  struct Overflow {
    void* obj;
    void (*deleter)(void*);
    uint64_t token;
  };
  std::deque<Overflow> overflow_;  // retired while the defer queue was full, oldest first
};

}  // namespace sluice::publish
