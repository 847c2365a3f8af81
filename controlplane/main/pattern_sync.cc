// Slow path: the pattern store's changes carried to the workers (pattern_sync.h).
#include "controlplane/main/pattern_sync.h"

#include <algorithm>

namespace sluice::app {

PatternSync::~PatternSync() {
  // Indexes built for swaps not yet sent belong to nobody: nothing was built for them (they
  // are built at send time). Replies still in flight keep their payloads in the hub.
}

uint64_t PatternSync::Flush() {
  std::vector<rulescp::WorkerOp> ops = store_.TakeOps();
  rulescp::PatternStore::Garbage g = store_.TakeGarbage();
  for (const rulescp::WorkerOp& op : ops) {
    units_.push_back(Unit{op, false});
    ++total_;
  }
  if (!g.empty()) {
    if (ops.empty()) {  // a barrier: no worker reads what is freed once it has passed it
      units_.push_back(Unit{rulescp::WorkerOp{rulescp::WorkerOp::kAdd, 0, nullptr}, true});
      ++total_;
    }
    garbage_.emplace_back(total_, std::move(g));
  }
  for (unsigned w = 0; w < sent_.size(); ++w) SendSome(w);
  return total_;
}

void PatternSync::SendSome(unsigned w) {
  while (sent_[w] < total_ && flight_[w].size() < kInFlightPerWorker) {
    std::vector<rules::PatternOp> recs;
    uint64_t at = sent_[w];
    while (at < total_ && recs.size() < kOpsPerRequest) {
      const Unit& u = units_[at - base_];
      ++at;
      if (u.barrier) continue;
      rules::PatternOp r;
      r.ref = u.op.ref;
      switch (u.op.kind) {
        case rulescp::WorkerOp::kAdd:
          r.kind = rules::PatternOp::kAdd;
          r.entry = u.op.entry;
          break;
        case rulescp::WorkerOp::kRemove:
          r.kind = rules::PatternOp::kRemove;
          r.entry = u.op.entry;
          break;
        case rulescp::WorkerOp::kSwap: {
          r.kind = rules::PatternOp::kSwap;
          const rulescp::PatRef* ref = store_.Ref(u.op.ref);
          r.index = ref ? store_.BuildIndex(*ref).release() : nullptr;
          // The index holds the entries of the version current now: the later units of the
          // same reference are applied on top, as they are on the control plane's index.
          break;
        }
      }
      recs.push_back(r);
    }
    const auto bytes = static_cast<uint32_t>(recs.size() * sizeof(rules::PatternOp));
    auto ref = hub_.Send(w, base::Op::kPatternOps, recs.size(), 0, bytes,
                         recs.empty() ? nullptr : recs.data());
    flight_[w].push_back(InFlight{std::move(ref), sent_[w], at});
    sent_[w] = at;
  }
}

uint64_t PatternSync::Acked() const {
  uint64_t m = total_;
  for (const uint64_t a : acked_) m = std::min(m, a);
  return m;
}

void PatternSync::Poll() {
  for (unsigned w = 0; w < flight_.size(); ++w) {
    auto& q = flight_[w];
    while (!q.empty() && q.front().ref->answered) {
      InFlight& f = q.front();
      base::Request& r = f.ref->req;
      auto* recs = reinterpret_cast<rules::PatternOp*>(r.payload);
      const uint64_t n = r.arg;
      // Applied: each swap record carries back the worker's replaced index. Not sent
      // (kBusy): it carries the new one, never installed. Either way it is ours to free.
      for (uint64_t i = 0; i < n; ++i) {
        if (recs[i].kind == rules::PatternOp::kSwap) delete recs[i].index;
      }
      if (r.status != base::ReplyStatus::kOk) {
        redo_[w] = std::min(redo_[w], f.from);
      } else if (redo_[w] == UINT64_MAX) {
        acked_[w] = f.upto;
      }
      q.pop_front();
    }
    if (q.empty() && redo_[w] != UINT64_MAX) {
      sent_[w] = redo_[w];
      redo_[w] = UINT64_MAX;
    }
    SendSome(w);
  }
  const uint64_t done = Acked();
  while (!garbage_.empty() && garbage_.front().first <= done) garbage_.pop_front();
  while (base_ < done && !units_.empty()) {
    units_.pop_front();
    ++base_;
  }
}

}  // namespace sluice::app
