// RCU publication under stress: readers load snapshots in a tight loop while the control
// plane publishes thousands of new ones. Readers must never see a torn or freed object
// (ASan in CI catches a use after free; the magic field catches it in release builds too),
// versions only move forward, and every retired object is freed exactly once.
#include <gtest/gtest.h>
#include <rte_rcu_qsbr.h>

#include <atomic>
#include <thread>
#include <vector>

#include "controlplane/publish/rcu.h"

namespace sluice::publish {
namespace {

constexpr uint64_t kAlive = 0x5eed5eed5eed5eedull;
constexpr uint64_t kDead = 0xdeaddeaddeaddeadull;

std::atomic<uint64_t> g_deleted{0};

struct TestSnapshot {
  uint64_t magic = kAlive;
  uint64_t version = 0;
  uint64_t fields[16] = {};
  explicit TestSnapshot(uint64_t v) : version(v) {
    for (uint64_t i = 0; i < 16; ++i) fields[i] = v * (i + 1);
  }
  ~TestSnapshot() {
    magic = kDead;
    g_deleted.fetch_add(1);
  }
};

TEST(RcuTest, ReadersNeverSeeTornOrFreedSnapshots) {
  constexpr unsigned kReaders = 3;
  constexpr uint64_t kPublishes = 5000;
  RcuDomain rcu;
  ASSERT_TRUE(rcu.Init("rcu_stress", kReaders, 256).ok());
  snapshot::RcuSlot<TestSnapshot> slot;
  g_deleted = 0;
  rcu.Publish(slot, std::make_unique<TestSnapshot>(1));

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> bad{0}, reads{0};
  std::atomic<unsigned> reading{0};  // readers past their first read
  std::vector<std::thread> readers;
  for (unsigned id = 0; id < kReaders; ++id) {
    readers.emplace_back([&, id] {
      rcu.ReaderOnline(id);
      uint64_t last = 0, n = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        const TestSnapshot* s = slot.Load();
        // Use the object for a while, as a worker does during one loop iteration.
        for (int k = 0; k < 4; ++k) {
          bool ok = s->magic == kAlive && s->version >= last;
          for (uint64_t i = 0; i < 16; ++i) ok = ok && s->fields[i] == s->version * (i + 1);
          if (!ok) bad.fetch_add(1);
        }
        last = s->version;
        if (n++ == 0) reading.fetch_add(1);
        rte_rcu_qsbr_quiescent(rcu.qsbr(), id);
      }
      rcu.ReaderOffline(id);
      reads.fetch_add(n);
    });
  }
  // The publishes race readers that are reading: on a loaded machine the threads may not
  // have run yet (the test then checked nothing, and its `reads > 0` failed).
  while (reading.load() < kReaders) std::this_thread::yield();
  for (uint64_t v = 2; v <= kPublishes; ++v) {
    rcu.Publish(slot, std::make_unique<TestSnapshot>(v));
    if (v % 16 == 0) rcu.Reclaim();
  }
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0u);
  EXPECT_GT(reads.load(), 0u);
  EXPECT_EQ(slot.Load()->version, kPublishes);
  rcu.Drain(slot);
  EXPECT_EQ(rcu.pending(), 0u);
  EXPECT_EQ(g_deleted.load(), kPublishes);
}

TEST(RcuTest, ARetiredObjectWaitsForEveryOnlineReader) {
  RcuDomain rcu;
  ASSERT_TRUE(rcu.Init("rcu_wait", 2, 16).ok());
  snapshot::RcuSlot<TestSnapshot> slot;
  g_deleted = 0;
  rcu.ReaderOnline(0);
  rcu.ReaderOnline(1);
  rcu.Publish(slot, std::make_unique<TestSnapshot>(1));
  rcu.Publish(slot, std::make_unique<TestSnapshot>(2));
  EXPECT_EQ(rcu.Reclaim(), 0u);  // no reader has passed a quiescent state
  rte_rcu_qsbr_quiescent(rcu.qsbr(), 0);
  EXPECT_EQ(rcu.Reclaim(), 0u);  // reader 1 may still hold version 1
  rte_rcu_qsbr_quiescent(rcu.qsbr(), 1);
  EXPECT_EQ(rcu.Reclaim(), 1u);
  EXPECT_EQ(g_deleted.load(), 1u);
  const uint64_t token = rcu.Start();
  EXPECT_FALSE(rcu.Done(token));
  rte_rcu_qsbr_quiescent(rcu.qsbr(), 0);
  rte_rcu_qsbr_quiescent(rcu.qsbr(), 1);
  EXPECT_TRUE(rcu.Done(token));
  rcu.ReaderOffline(0);
  rcu.ReaderOffline(1);
  rcu.Drain(slot);
  EXPECT_EQ(g_deleted.load(), 2u);
}

// A reader that stops passing quiescent states fills the defer queue; retiring more must not
// wait for it (the control loop would stall): the extra objects wait in the overflow list and
// are freed, oldest first, once the reader moves on.
TEST(RcuTest, RetireNeverWaitsWhenTheQueueIsFull) {
  RcuDomain rcu;
  ASSERT_TRUE(rcu.Init("rcu_full", 1, 8).ok());
  snapshot::RcuSlot<TestSnapshot> slot;
  g_deleted = 0;
  rcu.ReaderOnline(0);
  for (uint64_t v = 1; v <= 40; ++v) rcu.Publish(slot, std::make_unique<TestSnapshot>(v));
  EXPECT_EQ(rcu.pending(), 39u);
  EXPECT_GT(rcu.overflowed(), 0u);
  EXPECT_EQ(rcu.Reclaim(), 0u);  // the reader still may hold any of them
  EXPECT_EQ(g_deleted.load(), 0u);
  rte_rcu_qsbr_quiescent(rcu.qsbr(), 0);
  EXPECT_EQ(rcu.Reclaim(), 39u);
  EXPECT_EQ(rcu.overflowed(), 0u);
  EXPECT_EQ(slot.Load()->version, 40u);
  rcu.ReaderOffline(0);
  rcu.Drain(slot);
  EXPECT_EQ(g_deleted.load(), 40u);
}

}  // namespace
}  // namespace sluice::publish
