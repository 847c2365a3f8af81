// The immutable configuration snapshot the workers read (DESIGN.md section 1, AESTHETICS
// practice 4), and the slot through which the control plane publishes it. A worker loads the
// pointer once per loop iteration and reports a quiescent state at the top of the next one;
// the control plane frees a replaced snapshot only after every worker has done so (RCU QSBR,
// controlplane/publish). No lock and no reference count on the packet path.
#pragma once

#include <atomic>
#include <cstdint>

#include "dataplane/proxy/proxy_model.h"

namespace sluice::snapshot {

// Grows with the features: servers, weights and states, maps, ACLs... Everything in it is
// immutable once published.
struct Snapshot {
  uint64_t version = 0;
  proxy::ProxyConfigSnap proxy;  // frontends, backends, servers and their states
};

template <class T>
class RcuSlot {
 public:
  // Readers (workers): acquire pairs with the publisher's release, so the object's fields
  // are visible in full.
  const T* Load() const noexcept { return ptr_.load(std::memory_order_acquire); }
  // Publisher (the control plane, single writer): returns the replaced object, which stays
  // valid until the grace period ends.
  const T* Exchange(const T* next) noexcept {
    return ptr_.exchange(next, std::memory_order_acq_rel);
  }

 private:
  std::atomic<const T*> ptr_{nullptr};
};

using SnapshotSlot = RcuSlot<Snapshot>;

}  // namespace sluice::snapshot
