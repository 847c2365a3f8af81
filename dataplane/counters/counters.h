// Per-worker counters: one cache-aligned block per worker, written by its owner with plain
// (relaxed) stores and read by the control plane with relaxed loads (DESIGN.md section 1).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sluice::counters {

enum class Counter : uint16_t {
#define SLUICE_COUNTER(name, desc) name,
#include "dataplane/counters/worker_counters.def"
#undef SLUICE_COUNTER
  kCount,
};

inline constexpr size_t kNumCounters = static_cast<size_t>(Counter::kCount);

struct CounterInfo {
  std::string_view name;
  std::string_view description;
  bool is_drop;
};

// Name, description and drop flag of every counter, in enum order.
extern const CounterInfo kCounterInfo[kNumCounters];

class alignas(64) WorkerCounters {
 public:
  // Owner only: a load and a store, no locked instruction.
  void Add(Counter c, uint64_t n = 1) noexcept {
    auto& v = values_[static_cast<size_t>(c)];
    v.store(v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  void Inc(Counter c) noexcept { Add(c, 1); }
  // Owner only, for gauges.
  void Set(Counter c, uint64_t v) noexcept {
    values_[static_cast<size_t>(c)].store(v, std::memory_order_relaxed);
  }
  // Any thread.
  uint64_t Get(Counter c) const noexcept {
    return values_[static_cast<size_t>(c)].load(std::memory_order_relaxed);
  }
  uint64_t Get(size_t i) const noexcept { return values_[i].load(std::memory_order_relaxed); }
  uint64_t DropsTotal() const noexcept;

 private:
  std::atomic<uint64_t> values_[kNumCounters] = {};
};

}  // namespace sluice::counters
