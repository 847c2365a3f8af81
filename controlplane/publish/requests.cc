// Request/reply rings, control-plane side (requests.h).
#include "controlplane/publish/requests.h"

#include <cstring>

#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_ring.h>

namespace sluice::publish {

RequestHub::~RequestHub() { Close(); }

base::Result<bool> RequestHub::Init(const std::string& name, unsigned nworkers, unsigned depth) {
  depth_ = depth;
  for (unsigned w = 0; w < nworkers; ++w) {
    const std::string rq = name + "_req" + std::to_string(w);
    const std::string rp = name + "_rep" + std::to_string(w);
    const int socket = static_cast<int>(rte_socket_id());
    const unsigned flags = RING_F_SP_ENQ | RING_F_SC_DEQ;
    // A ring of `depth` slots holds depth - 1 entries; the replies ring is twice as large,
    // so every request in flight always finds room on its way back.
    req_rings_.push_back(rte_ring_create(rq.c_str(), depth, socket, flags));
    rep_rings_.push_back(rte_ring_create(rp.c_str(), depth * 2, socket, flags));
    if (!req_rings_.back() || !rep_rings_.back()) {
      return base::Error{"cannot create the request rings: " +
                         std::string(rte_strerror(rte_errno))};
    }
  }
  outstanding_.assign(nworkers, 0);
  backlog_.resize(nworkers);
  return true;
}

void RequestHub::Close() {
  in_flight_.clear();
  backlog_.clear();
  for (rte_ring* r : req_rings_) rte_ring_free(r);
  for (rte_ring* r : rep_rings_) rte_ring_free(r);
  req_rings_.clear();
  rep_rings_.clear();
}

bool RequestHub::Enqueue(const Ref& ex) {
  const unsigned w = ex->req.worker;
  if (outstanding_[w] + 1 >= depth_) return false;
  if (rte_ring_enqueue(req_rings_[w], &ex->req) != 0) return false;
  ++outstanding_[w];
  return true;
}

RequestHub::Ref RequestHub::Send(unsigned worker, base::Op op, uint64_t arg, uint64_t cursor,
                                 uint32_t payload_bytes, const void* fill,
                                 uint32_t fill_bytes) {
  auto ex = std::make_shared<Exchange>();
  ex->req.id = next_id_++;
  ex->req.op = op;
  ex->req.worker = static_cast<uint16_t>(worker);
  ex->req.arg = arg;
  ex->req.cursor = cursor;
  if (payload_bytes) {
    ex->payload = std::make_unique<uint8_t[]>(payload_bytes);
    ex->req.payload = ex->payload.get();
    ex->req.capacity = payload_bytes;
    // `fill`: the payload's first fill_bytes (all of it when 0).
    if (fill) {
      std::memcpy(ex->payload.get(), fill,
                  fill_bytes && fill_bytes < payload_bytes ? fill_bytes : payload_bytes);
    }
  }
  ++sent_;
  in_flight_.emplace(ex->req.id, ex);
  if (worker >= req_rings_.size()) {  // no such worker: answered at once, empty
    ex->req.done = true;
    ex->answered = true;
    in_flight_.erase(ex->req.id);
    return ex;
  }
  if (backlog_[worker].empty() && Enqueue(ex)) return ex;
  if (backlog_[worker].size() >= kMaxBacklog) {  // a stuck worker: refuse, do not grow
    ex->req.status = base::ReplyStatus::kBusy;
    ex->req.done = true;
    ex->answered = true;
    in_flight_.erase(ex->req.id);
    return ex;
  }
  backlog_[worker].push_back(ex);
  return ex;
}

unsigned RequestHub::Poll() {
  unsigned taken = 0;
  for (unsigned w = 0; w < rep_rings_.size(); ++w) {
    void* done[32];
    unsigned n;
    while ((n = rte_ring_dequeue_burst(rep_rings_[w], done, 32, nullptr)) > 0) {
      for (unsigned i = 0; i < n; ++i) {
        const auto* r = static_cast<const base::Request*>(done[i]);
        auto it = in_flight_.find(r->id);
        if (it == in_flight_.end()) continue;  // cannot happen: every request is tracked
        it->second->answered = true;
        in_flight_.erase(it);
      }
      outstanding_[w] -= n;
      taken += n;
      answered_ += n;
    }
    while (!backlog_[w].empty() && Enqueue(backlog_[w].front())) backlog_[w].pop_front();
  }
  return taken;
}

}  // namespace sluice::publish
