// The worker's pool of idle server connections (dataplane/conn/idle_pool.h): most recent
// first per server, oldest first for purging, bounded, and a slot never gives back another
// connection than the one parked in it. Checked against a plain reference model under random
// operations as well.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "dataplane/conn/idle_pool.h"

namespace sluice::conn {
namespace {

using tcp::kNoConn;

TEST(IdlePool, TakesTheMostRecentOfItsServer) {
  IdlePool p;
  ASSERT_TRUE(p.Init("t", 8, 4, -1));
  EXPECT_EQ(p.Take(0), kNoConn);
  EXPECT_NE(p.Park(0, 10, 1), IdlePool::kNone);
  EXPECT_NE(p.Park(1, 20, 2), IdlePool::kNone);
  EXPECT_NE(p.Park(0, 11, 3), IdlePool::kNone);
  EXPECT_EQ(p.size(), 3u);
  EXPECT_EQ(p.idle(0), 2u);
  EXPECT_EQ(p.Take(0), 11u);
  EXPECT_EQ(p.Take(0), 10u);
  EXPECT_EQ(p.Take(0), kNoConn);
  EXPECT_EQ(p.Take(1), 20u);
  EXPECT_EQ(p.size(), 0u);
  EXPECT_EQ(p.Park(4, 30, 4), IdlePool::kNone);  // no such server
  EXPECT_EQ(p.Take(99), kNoConn);
}

TEST(IdlePool, BoundedAndSaysSo) {
  IdlePool p;
  ASSERT_TRUE(p.Init("t", 3, 2, -1));
  for (tcp::ConnId c = 1; c <= 3; ++c) EXPECT_NE(p.Park(c % 2, c, c), IdlePool::kNone);
  EXPECT_EQ(p.Park(0, 4, 4), IdlePool::kNone);
  EXPECT_EQ(p.size(), 3u);
  EXPECT_NE(p.Take(1), kNoConn);
  EXPECT_NE(p.Park(0, 4, 5), IdlePool::kNone);  // room again
}

TEST(IdlePool, RemoveOnlyWhatTheSlotHolds) {
  IdlePool p;
  ASSERT_TRUE(p.Init("t", 4, 2, -1));
  const uint32_t a = p.Park(0, 7, 1);
  const uint32_t b = p.Park(0, 8, 2);
  EXPECT_FALSE(p.Remove(a, 8));  // another connection's slot
  EXPECT_FALSE(p.Remove(99, 7));
  EXPECT_TRUE(p.Remove(a, 7));
  EXPECT_FALSE(p.Remove(a, 7));  // already gone
  EXPECT_EQ(p.Take(0), 8u);
  EXPECT_FALSE(p.Remove(b, 8));  // taken
  EXPECT_EQ(p.size(), 0u);
}

// Connections due at different times (servers with different pool-purge-delay) leave in
// the order they are due, not the order they were parked.
TEST(IdlePool, ExpiresFirstDueFirst) {
  IdlePool p;
  ASSERT_TRUE(p.Init("t", 8, 3, -1));
  p.Park(0, 1, 500);
  p.Park(1, 2, 100);
  p.Park(2, 3, UINT64_MAX);  // pool-purge-delay 0: never
  p.Park(1, 4, 300);
  p.Park(0, 5, 500);
  EXPECT_EQ(p.TakeExpired(99), kNoConn);
  EXPECT_EQ(p.TakeExpired(300), 2u);
  EXPECT_EQ(p.TakeExpired(300), 4u);
  EXPECT_EQ(p.TakeExpired(300), kNoConn);
  EXPECT_EQ(p.TakeExpired(1000), 1u);  // equal times: in parking order
  EXPECT_EQ(p.TakeExpired(1000), 5u);
  EXPECT_EQ(p.TakeExpired(UINT64_MAX - 1), kNoConn);
  EXPECT_EQ(p.Take(2), 3u);
  EXPECT_EQ(p.size(), 0u);
}

// Connections that never expire (pool-purge-delay 0), however many, hold nothing back.
TEST(IdlePool, NeverExpiringOnesDoNotBlockThePurge) {
  IdlePool p;
  ASSERT_TRUE(p.Init("t", 256, 2, -1));
  for (tcp::ConnId c = 1; c <= 200; ++c) ASSERT_NE(p.Park(0, c, UINT64_MAX), IdlePool::kNone);
  ASSERT_NE(p.Park(1, 1000, 50), IdlePool::kNone);
  ASSERT_NE(p.Park(1, 1001, 40), IdlePool::kNone);
  EXPECT_EQ(p.TakeExpired(60), 1001u);
  EXPECT_EQ(p.TakeExpired(60), 1000u);
  EXPECT_EQ(p.TakeExpired(UINT64_MAX - 1), kNoConn);
  EXPECT_EQ(p.Take(0), 200u);  // the server's own list keeps them
  EXPECT_EQ(p.size(), 199u);
}

TEST(IdlePool, ExpiresOldestFirst) {
  IdlePool p;
  ASSERT_TRUE(p.Init("t", 8, 2, -1));
  p.Park(0, 1, 100);
  p.Park(1, 2, 200);
  p.Park(0, 3, 300);
  EXPECT_EQ(p.TakeExpired(50), kNoConn);
  EXPECT_EQ(p.Take(0), 3u);  // out of the middle of the age order
  EXPECT_EQ(p.TakeExpired(250), 1u);
  EXPECT_EQ(p.TakeExpired(250), 2u);
  EXPECT_EQ(p.TakeExpired(250), kNoConn);
  EXPECT_EQ(p.size(), 0u);
}

// Random operations against a list of (server, conn, due) in parking order, each server with
// its own purge delay (one of them never).
TEST(IdlePool, MatchesAReferenceModel) {
  struct Ref {
    uint32_t server;
    tcp::ConnId conn;
    uint64_t due;
    uint32_t slot;
  };
  constexpr uint32_t kCap = 64, kServers = 5;
  IdlePool p;
  ASSERT_TRUE(p.Init("t", kCap, kServers, -1));
  std::vector<Ref> model;
  std::mt19937 rng(7);
  tcp::ConnId next = 1;
  uint64_t now = 0;
  for (int step = 0; step < 20000; ++step) {
    ++now;
    const uint32_t server = rng() % kServers;
    constexpr uint64_t kDelay[kServers] = {10, 10, 50, UINT64_MAX, 30};
    const uint64_t due = kDelay[server] == UINT64_MAX ? UINT64_MAX : now + kDelay[server];
    switch (rng() % 4) {
      case 0:
      case 1: {  // park
        const uint32_t slot = p.Park(server, next, due);
        if (model.size() == kCap) {
          EXPECT_EQ(slot, IdlePool::kNone);
        } else {
          ASSERT_NE(slot, IdlePool::kNone);
          model.push_back({server, next, due, slot});
        }
        ++next;
        break;
      }
      case 2: {  // take: the last parked of that server
        auto it = std::find_if(model.rbegin(), model.rend(),
                               [&](const Ref& r) { return r.server == server; });
        const tcp::ConnId got = p.Take(server);
        if (it == model.rend()) {
          EXPECT_EQ(got, kNoConn);
        } else {
          EXPECT_EQ(got, it->conn);
          model.erase(std::next(it).base());
        }
        break;
      }
      default: {  // remove a random one, or expire the first due (the first parked of those)
        if (model.empty()) break;
        if (rng() % 2) {
          const size_t i = rng() % model.size();
          EXPECT_TRUE(p.Remove(model[i].slot, model[i].conn));
          model.erase(model.begin() + static_cast<ptrdiff_t>(i));
        } else {
          auto first = std::min_element(model.begin(), model.end(), [](const Ref& a,
                                                                        const Ref& b) {
            return a.due < b.due;
          });
          if (first->due == UINT64_MAX) {
            EXPECT_EQ(p.TakeExpired(UINT64_MAX - 1), kNoConn);
            break;
          }
          EXPECT_EQ(p.TakeExpired(first->due - 1), kNoConn);
          EXPECT_EQ(p.TakeExpired(first->due), first->conn);
          model.erase(first);
        }
      }
    }
    ASSERT_EQ(p.size(), model.size());
  }
}

}  // namespace
}  // namespace sluice::conn
