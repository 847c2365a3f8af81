#include "dataplane/counters/counters.h"

namespace sluice::counters {

namespace {
constexpr bool IsDropName(std::string_view name) {
  return name.find("_drop_") != std::string_view::npos;
}
}  // namespace

const CounterInfo kCounterInfo[kNumCounters] = {
#define SLUICE_COUNTER(name, desc) {#name, desc, IsDropName(#name)},
#include "dataplane/counters/worker_counters.def"
#undef SLUICE_COUNTER
};

uint64_t WorkerCounters::DropsTotal() const noexcept {
  uint64_t sum = 0;
  for (size_t i = 0; i < kNumCounters; ++i) {
    if (kCounterInfo[i].is_drop) sum += Get(i);
  }
  return sum;
}

}  // namespace sluice::counters
