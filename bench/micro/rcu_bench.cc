// Publication latency: from the control plane's publish of a new snapshot to the moment
// every reader (a thread spinning like a worker: load the snapshot, report quiescent) has
// passed a quiescent state, so the old one can be freed.
#include <benchmark/benchmark.h>
#include <pthread.h>
#include <rte_eal.h>
#include <rte_rcu_qsbr.h>
#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "controlplane/publish/rcu.h"
#include "tests/support/test_eal.h"

namespace {

using sluice::publish::RcuDomain;
using sluice::snapshot::Snapshot;
using sluice::snapshot::SnapshotSlot;

void BM_PublishToAllReaders(benchmark::State& state) {
  const auto readers = static_cast<unsigned>(state.range(0));
  static int seq = 0;
  RcuDomain rcu;
  if (!rcu.Init("bench_rcu" + std::to_string(seq++), readers, 4096).ok()) {
    state.SkipWithError("RCU init failed");
    return;
  }
  SnapshotSlot slot;
  rcu.Publish(slot, std::make_unique<Snapshot>());
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> sink{0};
  std::vector<std::thread> threads;
  for (unsigned id = 0; id < readers; ++id) {
    threads.emplace_back([&, id] {
      // EAL pinned the main thread (and so its children) to CPU 0: readers get the others.
      cpu_set_t cpus;
      CPU_ZERO(&cpus);
      const unsigned n = std::thread::hardware_concurrency();
      for (unsigned c = n > 1 ? 1 : 0; c < n; ++c) CPU_SET(c, &cpus);
      pthread_setaffinity_np(pthread_self(), sizeof cpus, &cpus);
      rcu.ReaderOnline(id);
      uint64_t acc = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        rte_rcu_qsbr_quiescent(rcu.qsbr(), id);
        acc += slot.Load()->version;
      }
      sink += acc;
      rcu.ReaderOffline(id);
    });
  }
  uint64_t version = 0;
  for (auto _ : state) {
    auto next = std::make_unique<Snapshot>();
    next->version = ++version;
    rcu.Publish(slot, std::move(next));
    const uint64_t token = rcu.Start();
    while (!rcu.Done(token)) {
    }
    rcu.Reclaim();
  }
  stop = true;
  for (auto& t : threads) t.join();
  rcu.Drain(slot);
  state.counters["readers"] = readers;
}
// One reader per spare core, as workers are laid out; the main thread is the control plane.
// Arg(2) puts two readers on one core (as the 2-worker test layout does on 2 CPUs): then the
// figure is the scheduler's time slice, not RCU's cost.
BENCHMARK(BM_PublishToAllReaders)
    ->Arg(1)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond)
    ->MinTime(0.5);

}  // namespace

int main(int argc, char** argv) {
  if (!sluice::testing::StartTestEal("sl-bench")) return 1;
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  sluice::testing::StopTestEal();
  return 0;
}
