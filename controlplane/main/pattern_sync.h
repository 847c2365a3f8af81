// Slow path. Carries the pattern store's changes (controlplane/rules/pattern_store.h) to every
// worker's indexes, in order, through the request rings (base::Op::kPatternOps), and frees
// what the workers no longer see once each has applied the change that dropped it
// (docs/decisions/0011-pattern-sets.md).
//
// Every operation (and every barrier, sent when only a map value was swapped) is one unit
// of a sequence. A worker has applied units [0, acked(w)); the store's garbage is tagged with
// the sequence number after its change and freed once every worker has passed it. A CLI
// command that changed something waits until Acked() reaches what Flush() returned, so the
// next request on any worker sees the change.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "controlplane/publish/requests.h"
#include "controlplane/rules/pattern_store.h"

namespace sluice::app {

class PatternSync {
 public:
  static constexpr uint32_t kOpsPerRequest = 256;  // records in one request's payload
  static constexpr uint32_t kInFlightPerWorker = 16;

  PatternSync(rulescp::PatternStore& store, publish::RequestHub& hub, unsigned nworkers)
      : store_(store),
        hub_(hub),
        sent_(nworkers, 0),
        acked_(nworkers, 0),
        redo_(nworkers, UINT64_MAX),
        flight_(nworkers) {}
  ~PatternSync();

  // Takes what the store queued and starts sending it; returns the sequence number every
  // worker must reach for the change to be seen.
  uint64_t Flush();
  // Reaps replies, sends what waits, frees garbage; never waits. Call from the control loop.
  void Poll();
  // Every worker has applied units [0, Acked()).
  uint64_t Acked() const;
  bool Idle() const { return Acked() == total_; }

 private:
  struct Unit {
    rulescp::WorkerOp op;
    bool barrier = false;
  };
  struct InFlight {
    publish::RequestHub::Ref ref;
    uint64_t from, upto;  // the units it carries
  };
  void SendSome(unsigned w);

  rulescp::PatternStore& store_;
  publish::RequestHub& hub_;
  std::deque<Unit> units_;  // units [base_, total_)
  uint64_t base_ = 0, total_ = 0;
  std::vector<uint64_t> sent_, acked_;
  // A request the hub could not send (kBusy): every unit from here is sent again once the
  // worker's requests in flight are answered. Applying a unit twice is harmless (an index
  // ignores an addition it has and a removal it lacks) as long as the suffix is in order.
  std::vector<uint64_t> redo_;
  std::vector<std::deque<InFlight>> flight_;
  std::deque<std::pair<uint64_t, rulescp::PatternStore::Garbage>> garbage_;
};

}  // namespace sluice::app
