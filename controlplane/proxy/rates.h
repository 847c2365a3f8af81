// Slow path. Events per second from a cumulative counter sampled by the control loop (about
// every 100 ms): the difference over the last second, as HAProxy's `rate` columns and
// `show info` *Rate fields show, with the highest value seen (`rate_max`).
#pragma once

#include <cstdint>

namespace sluice::cp {

class RateMeter {
 public:
  void Sample(uint64_t total, uint64_t now_ms) {
    pos_ = (pos_ + 1) % kSlots;
    totals_[pos_] = total;
    times_[pos_] = now_ms;
    if (count_ < kSlots) ++count_;
    // The oldest sample at least a second old (or the oldest there is).
    uint64_t base_total = total, base_ms = now_ms;
    for (int k = 1; k < count_; ++k) {
      const int i = (pos_ - k + kSlots) % kSlots;
      base_total = totals_[i];
      base_ms = times_[i];
      if (now_ms - times_[i] >= 1000) break;
    }
    const uint64_t span_ms = now_ms - base_ms;
    rate_ = span_ms == 0 ? 0
                         : static_cast<uint32_t>((total - base_total) * 1000 /
                                                 (span_ms < 1000 ? 1000 : span_ms));
    if (rate_ > max_) max_ = rate_;
  }
  uint32_t rate() const { return rate_; }
  uint32_t max() const { return max_; }
  void ClearMax() { max_ = rate_; }

 private:
  static constexpr int kSlots = 16;
  uint64_t totals_[kSlots] = {};
  uint64_t times_[kSlots] = {};
  int pos_ = 0;
  int count_ = 0;
  uint32_t rate_ = 0;
  uint32_t max_ = 0;
};

}  // namespace sluice::cp
