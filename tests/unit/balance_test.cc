// Server selection (dataplane/proxy/balance.h): the ratios HAProxy's algorithms give.
#include "dataplane/proxy/balance.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <vector>

namespace sluice::proxy {
namespace {

struct Fixture {
  ProxyConfigSnap cfg;
  std::unique_ptr<ProxyStats> stats = std::make_unique<ProxyStats>();
  Balancer lb;
  uint8_t client[16] = {10, 10, 1, 2};

  explicit Fixture(std::initializer_list<uint32_t> weights, Algo algo = Algo::kRoundRobin) {
    BackendSnap be;
    be.algo = algo;
    be.nservers = static_cast<uint32_t>(weights.size());
    cfg.backends.push_back(be);
    for (uint32_t w : weights) {
      ServerSnap s;
      s.weight = s.iweight = w;
      cfg.servers.push_back(s);
    }
  }
  uint32_t Pick(bool* full = nullptr, uint32_t exclude = kNoServer, int64_t hash = -1) {
    bool f = false;
    const uint32_t s = lb.Pick(cfg, *stats, 0, client, false, exclude, &f, hash);
    if (full) *full = f;
    return s;
  }
  std::map<uint32_t, int> Spread(int n) {
    std::map<uint32_t, int> m;
    for (int i = 0; i < n; ++i) ++m[Pick()];
    return m;
  }
};

TEST(Balance, RoundRobinGivesExactWeightsPerCycle) {
  Fixture f({3, 2, 1});
  auto m = f.Spread(6000);
  EXPECT_EQ(m[0], 3000);
  EXPECT_EQ(m[1], 2000);
  EXPECT_EQ(m[2], 1000);
}

TEST(Balance, RoundRobinIsSmooth) {
  // Weights 5,1,1 cycle as a a b a c a a: the light servers are interleaved, so the heavy
  // one never gets its 5 (10 across cycles) in a row; 4 is the longest run.
  Fixture f({5, 1, 1});
  int run = 0, max_run = 0;
  for (int i = 0; i < 70; ++i) {
    run = f.Pick() == 0 ? run + 1 : 0;
    max_run = std::max(max_run, run);
  }
  EXPECT_EQ(max_run, 4);
}

TEST(Balance, UnusableAndZeroWeightServersGetNothing) {
  Fixture f({1, 1, 1});
  f.cfg.servers[1].usable = false;  // maint, drain or down
  f.cfg.servers[2].weight = 0;
  auto m = f.Spread(100);
  EXPECT_EQ(m[0], 100);
  EXPECT_EQ(m.count(1), 0u);
  EXPECT_EQ(m.count(2), 0u);
}

TEST(Balance, StaticRrKeepsInitialWeights) {
  Fixture f({2, 1}, Algo::kStaticRr);
  f.cfg.servers[0].weight = 0;  // a runtime change static-rr ignores
  auto m = f.Spread(300);
  EXPECT_EQ(m[0], 200);
  EXPECT_EQ(m[1], 100);
}

TEST(Balance, BackupOnlyWhenNoActiveServer) {
  Fixture f({1, 1});
  f.cfg.servers[1].backup = true;
  EXPECT_EQ(f.Spread(10)[0], 10);
  f.cfg.servers[0].usable = false;
  EXPECT_EQ(f.Spread(10)[1], 10);
  f.cfg.servers[1].usable = false;
  bool full = true;
  EXPECT_EQ(f.Pick(&full), kNoServer);
  EXPECT_FALSE(full);
}

TEST(Balance, MaxconnMakesFullThenQueue) {
  Fixture f({1, 1});
  f.cfg.servers[0].maxconn = 1;
  f.cfg.servers[1].maxconn = 1;
  f.stats->servers[0].cur.Set(1);
  EXPECT_EQ(f.Pick(), 1u);
  f.stats->servers[1].cur.Set(1);
  bool full = false;
  EXPECT_EQ(f.Pick(&full), kNoServer);
  EXPECT_TRUE(full);
}

TEST(Balance, LeastConnPrefersFewerConnectionsOverWeight) {
  Fixture f({1, 2}, Algo::kLeastConn);
  f.stats->servers[0].cur.Set(2);
  f.stats->servers[1].cur.Set(3);  // 3/2 < 2/1
  EXPECT_EQ(f.Pick(), 1u);
  f.stats->servers[1].cur.Set(5);  // 5/2 > 2/1
  EXPECT_EQ(f.Pick(), 0u);
}

TEST(Balance, FirstFillsLowestIdFirst) {
  Fixture f({1, 1, 1}, Algo::kFirst);
  f.cfg.servers[0].maxconn = 2;
  EXPECT_EQ(f.Pick(), 0u);
  f.stats->servers[0].cur.Set(2);
  EXPECT_EQ(f.Pick(), 1u);
}

TEST(Balance, SourceIsStickyPerClientAndSpreads) {
  Fixture f({1, 1, 1}, Algo::kSource);
  const uint32_t a = f.Pick();
  for (int i = 0; i < 10; ++i) EXPECT_EQ(f.Pick(), a);
  std::map<uint32_t, int> m;
  for (int i = 0; i < 3000; ++i) {
    f.client[2] = static_cast<uint8_t>(i >> 8);
    f.client[3] = static_cast<uint8_t>(i);
    ++m[f.Pick()];
  }
  for (uint32_t s = 0; s < 3; ++s) EXPECT_GT(m[s], 800) << s;
}

TEST(Balance, RequestHashIsStickyAndFallsBackToRoundRobin) {
  // balance uri / url_param / hdr: one hash, one server; no hash (the parameter or header
  // is absent): round robin, as HAProxy.
  Fixture f({1, 1, 1}, Algo::kUri);
  std::map<uint32_t, int> per_key;
  for (int64_t key = 0; key < 3000; ++key) {
    const uint32_t s = f.Pick(nullptr, kNoServer, key * 2654435761 % 4294967296);
    EXPECT_EQ(f.Pick(nullptr, kNoServer, key * 2654435761 % 4294967296), s);
    ++per_key[s];
  }
  for (const auto& [server, n] : per_key) EXPECT_GT(n, 800) << server;
  auto m = f.Spread(300);  // no hash
  EXPECT_EQ(m[0], 100);
  EXPECT_EQ(m[1], 100);
  EXPECT_EQ(m[2], 100);
}

TEST(Balance, ConsistentHashMovesOnlyTheLeavingServersKeys) {
  // hash-type consistent: when a server leaves, the keys of the others stay where they were.
  Fixture f({1, 1, 1, 1}, Algo::kHdr);
  f.cfg.backends[0].hash_consistent = true;
  std::vector<uint32_t> before;
  for (int64_t key = 0; key < 4000; ++key) before.push_back(f.Pick(nullptr, kNoServer, key * 7919));
  f.cfg.servers[2].usable = false;
  int moved = 0;
  for (int64_t key = 0; key < 4000; ++key) {
    const uint32_t now = f.Pick(nullptr, kNoServer, key * 7919);
    EXPECT_NE(now, 2u);
    if (before[static_cast<size_t>(key)] != 2) {
      EXPECT_EQ(now, before[static_cast<size_t>(key)]) << key;
    } else {
      ++moved;
    }
  }
  EXPECT_GT(moved, 700);  // about a quarter of the keys were the leaving server's
  // Map-based moves most keys when the set changes: the point of consistent hashing.
  Fixture m({1, 1, 1, 1}, Algo::kHdr);
  std::vector<uint32_t> mb;
  for (int64_t key = 0; key < 4000; ++key) mb.push_back(m.Pick(nullptr, kNoServer, key * 7919));
  m.cfg.servers[2].usable = false;
  int changed = 0;
  for (int64_t key = 0; key < 4000; ++key) {
    changed += m.Pick(nullptr, kNoServer, key * 7919) != mb[static_cast<size_t>(key)];
  }
  EXPECT_GT(changed, 1500);
}

TEST(Balance, RedispatchAvoidsTheFailedServer) {
  Fixture f({1, 1});
  for (int i = 0; i < 10; ++i) EXPECT_EQ(f.Pick(nullptr, 0), 1u);
  f.cfg.servers[1].usable = false;
  EXPECT_EQ(f.Pick(nullptr, 0), 0u);  // nothing else: the failed one again
}

}  // namespace
}  // namespace sluice::proxy
