// Request/reply rings, control-plane side (DESIGN.md section 8; the message is
// dataplane/base/request.h). The hub owns one request ring and one reply ring per worker and
// every request in flight. A caller sends a request and keeps the returned reference; the
// control loop polls the reply rings (Poll never waits) and marks each request answered, and
// the caller reads the reply whenever it next looks. A caller that goes away (a CLI client
// that closed mid-dump) just drops its reference: the hub keeps the request alive until the
// worker has handed it back, then frees it. Sends beyond what a ring takes wait in a backlog
// of the hub's, flushed by Poll, so callers never see a full ring; that backlog is bounded
// (kMaxBacklog per worker): past it a request is answered at once with kBusy, never sent.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "dataplane/base/request.h"
#include "dataplane/base/result.h"

struct rte_ring;

namespace sluice::publish {

class RequestHub {
 public:
  struct Exchange {
    base::Request req;
    std::unique_ptr<uint8_t[]> payload;
    bool answered = false;
  };
  using Ref = std::shared_ptr<Exchange>;

  static constexpr size_t kMaxBacklog = 4096;  // requests waiting for room, per worker

  RequestHub() = default;
  RequestHub(const RequestHub&) = delete;
  RequestHub& operator=(const RequestHub&) = delete;
  ~RequestHub();

  // Creates the rings ("<name>_req<w>", "<name>_rep<w>"); needs EAL memory. `depth`: the
  // requests one worker may have in flight (a power of two).
  base::Result<bool> Init(const std::string& name, unsigned nworkers, unsigned depth);
  // After the workers stopped: frees every request and the rings.
  void Close();

  rte_ring* requests(unsigned worker) const { return req_rings_[worker]; }
  rte_ring* replies(unsigned worker) const { return rep_rings_[worker]; }
  unsigned workers() const { return static_cast<unsigned>(req_rings_.size()); }

  // Sends `op` to `worker` with a payload buffer of `payload_bytes`.
  // `fill` (when given) is copied into the payload before the worker can see it.
  Ref Send(unsigned worker, base::Op op, uint64_t arg, uint64_t cursor = 0,
           uint32_t payload_bytes = 0, const void* fill = nullptr, uint32_t fill_bytes = 0);
  // Takes the replies that arrived and sends what waited in the backlog; returns the
  // number of replies taken. Never waits.
  unsigned Poll();

  size_t in_flight() const { return in_flight_.size(); }
  uint64_t sent() const { return sent_; }
  uint64_t answered() const { return answered_; }

 private:
  bool Enqueue(const Ref& ex);

  std::vector<rte_ring*> req_rings_, rep_rings_;
  std::vector<unsigned> outstanding_;  // on the rings, per worker
  unsigned depth_ = 0;
  std::unordered_map<uint64_t, Ref> in_flight_;  // by request id, backlog included
  std::vector<std::deque<Ref>> backlog_;         // per worker
  uint64_t next_id_ = 1;
  uint64_t sent_ = 0, answered_ = 0;
};

}  // namespace sluice::publish
