// A per-worker hashed timer wheel (DESIGN.md section 3): intrusive nodes, O(1) arm and
// cancel, expiry processed tick by tick. No allocation; the owner of a node owns its memory.
// Ticks are whatever unit the caller chooses.
//
// One wheel per worker (`Timers`, 1 ms ticks of the worker's clock) serves every module: the
// worker advances it once per loop iteration and hands each due node to the module its
// `owner` names (dataplane/lcore/worker.cc). A module standing alone (the TCP stack in unit
// and simulation tests) may run a wheel of its own the same way.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sluice::base {

// Which module a timer node belongs to: the worker routes due nodes by it.
enum TimerOwner : uint8_t {
  kTimerNone = 0,
  kTimerTcp = 1,      // tcp::Tcb's retransmission, delayed-ACK and keep-alive timers
  kTimerSession = 2,  // proxy sessions' timeouts
  kTimerCheck = 3,    // health checks' schedule and timeouts
  kTimerStick = 4,    // stick-table entries' expiry
  kTimerTls = 5,      // TLS handshakes' timeout (dataplane/tls)
};

struct TimerNode {
  TimerNode() = default;
  explicit TimerNode(TimerOwner o) : owner(o) {}
  TimerNode* prev = nullptr;
  TimerNode* next = nullptr;
  uint64_t expiry = 0;
  bool armed = false;
  TimerOwner owner = kTimerNone;
};

template <size_t kSlots>
class TimerWheel {
  static_assert((kSlots & (kSlots - 1)) == 0, "slots must be a power of two");

 public:
  explicit TimerWheel(uint64_t now = 0) : now_(now) {
    for (auto& s : slots_) s.prev = s.next = &s;
  }
  TimerWheel(const TimerWheel&) = delete;
  TimerWheel& operator=(const TimerWheel&) = delete;

  uint64_t now() const { return now_; }
  size_t armed() const { return armed_; }

  // Arms (or re-arms) `n` to fire at `expiry`; a time in the past fires at the next Advance.
  void Arm(TimerNode* n, uint64_t expiry) noexcept {
    if (n->armed) Unlink(n);
    n->expiry = expiry <= now_ ? now_ + 1 : expiry;
    TimerNode& head = slots_[n->expiry & (kSlots - 1)];
    n->next = head.next;
    n->prev = &head;
    head.next->prev = n;
    head.next = n;
    n->armed = true;
    ++armed_;
  }

  void Cancel(TimerNode* n) noexcept {
    if (n->armed) Unlink(n);
  }

  // Moves time to `now` and calls fire(node) for every node whose expiry is reached, in
  // tick order. A node is disarmed before its callback, which may re-arm it. Returns the
  // number fired. A jump of more than one wheel turn visits each slot once.
  //
  // The due nodes of a slot first move to a list of their own, where they stay armed and
  // linked: a callback that cancels or re-arms another due node (a session's end serving the
  // queue, a TCB rebuilt in place) unlinks it from there cleanly, and it does not fire now.
  template <class Fire>
  size_t Advance(uint64_t now, Fire&& fire) noexcept {
    size_t fired = 0;
    if (now <= now_) return 0;
    const uint64_t steps = now - now_ >= kSlots ? kSlots : now - now_;
    const uint64_t first = now - steps + 1;
    now_ = now;
    for (uint64_t t = first; t <= now; ++t) {
      TimerNode& head = slots_[t & (kSlots - 1)];
      TimerNode due;
      due.prev = due.next = &due;
      for (TimerNode* n = head.next; n != &head;) {
        TimerNode* next = n->next;
        if (n->expiry <= now) {
          n->prev->next = n->next;  // out of the slot, still armed
          n->next->prev = n->prev;
          n->prev = due.prev;  // at the tail of `due`: slot order kept
          n->next = &due;
          due.prev->next = n;
          due.prev = n;
        }
        n = next;
      }
      while (due.next != &due) {
        TimerNode* n = due.next;
        Unlink(n);
        ++fired;
        fire(n);
      }
    }
    return fired;
  }

 private:
  void Unlink(TimerNode* n) noexcept {
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->prev = n->next = nullptr;
    n->armed = false;
    --armed_;
  }

  uint64_t now_;
  size_t armed_ = 0;
  TimerNode slots_[kSlots];
};

// The worker's wheel: 1 ms ticks, 4096 slots (a turn of about 4 s; later expiries wait in
// their slot for their turn).
using Timers = TimerWheel<4096>;

}  // namespace sluice::base
