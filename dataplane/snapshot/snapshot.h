// The immutable configuration the workers read (DESIGN.md sections 1 and 8, AESTHETICS
// practice 4), and the slot through which the control plane publishes it.
//
// The snapshot is a root of independently published parts. Each part is immutable once
// published and carries the generation it was built at; a change builds only the parts it
// touches and publishes a new root that shares every other part with the previous one, so a
// worker compares generations and reacts only to what changed (a frontend paused never
// resets load balancing; a weight changed never reconciles listeners), and a large part is
// never copied because a small one changed. Today's parts:
//   proxy      frontends, backends and servers: weights, states, timeouts, checks
//              (proxy::ProxyConfigSnap, dataplane/proxy/proxy_model.h)
//   listeners  the binds and whether each is open (proxy::ListenerSnap)
//   rules      ACLs, http-request / tcp-request / use_backend rules (rules::RulesSnap); the
//              pattern sets they name are each worker's own indexes (rules::PatternTable)
//   tls        the TLS binds' OpenSSL contexts, one per worker (tls::TlsSnap)
// Pattern sets and stick tables join as parts of their own.
//
// A worker loads the root once per loop iteration and reports a quiescent state at the top
// of the next one; the control plane frees a replaced root only after every worker has done
// so (RCU QSBR, controlplane/publish), and a part dies with the last root that holds it. The
// workers only read raw pointers (`.get()`): the reference counts are the control plane's
// alone. This header knows the parts by name only, so it depends on nothing above it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

namespace sluice::proxy {
struct ProxyConfigSnap;
struct ListenerSnap;
}  // namespace sluice::proxy
namespace sluice::rules {
struct RulesSnap;
}  // namespace sluice::rules
namespace sluice::tls {
struct TlsSnap;
}  // namespace sluice::tls

namespace sluice::snapshot {

// What every part carries: the generation it was built at (unique across parts; 0: none).
struct Part {
  uint64_t generation = 0;
};

struct Snapshot {
  uint64_t version = 0;  // of the root: every publication
  std::shared_ptr<const proxy::ProxyConfigSnap> proxy;
  std::shared_ptr<const proxy::ListenerSnap> listeners;
  std::shared_ptr<const rules::RulesSnap> rules;  // ACLs and rules; null: none
  std::shared_ptr<const tls::TlsSnap> tls;        // TLS binds' contexts; null: none
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
