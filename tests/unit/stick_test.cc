// Stick tables on a worker (dataplane/stick/stick.h): HAProxy 2.6's frequency counters (the
// formulas of freq_ctr.c, checked against Debian's haproxy 2.6.12 timings), and a shard's
// lookups, creation, least-recently-used purge, `nopurge` and expiry on a timer wheel; and
// which worker owns a key (stick/owner.h).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <vector>

#include "dataplane/net/flow.h"
#include "dataplane/stick/owner.h"
#include "dataplane/stick/stick.h"

namespace sluice::stick {
namespace {

// Far from 0, as HAProxy's wall-clock ticks are.
constexpr uint32_t kT = 0x80000000u;

TEST(FreqCtr, CountsAndSlidesAsHaproxy) {
  FreqCtr f;
  // A fresh counter: its first event starts a period at now (low bit cleared).
  for (uint32_t i = 1; i <= 5; ++i) {
    FreqAdd(f, 1000, kT, 1);
    EXPECT_EQ(FreqRead(f, 1000, kT), i);
  }
  EXPECT_EQ(f.curr_tick, kT);
  EXPECT_EQ(FreqRead(f, 1000, kT + 999), 5u);
  // The next period: the previous one counts for the share of the window it still covers.
  FreqAdd(f, 1000, kT + 1201, 1);
  EXPECT_EQ(f.curr_tick, kT + 1000);
  EXPECT_EQ(f.prev_ctr, 5u);
  EXPECT_EQ(FreqRead(f, 1000, kT + 1201), (5u * 799 + 1 * 1000) / 1000);  // 4
  FreqAdd(f, 1000, kT + 1201, 2);
  EXPECT_EQ(FreqRead(f, 1000, kT + 1207), (5u * 793 + 3 * 1000) / 1000);  // 6
  EXPECT_EQ(FreqRead(f, 1000, kT + 1605), (5u * 395 + 3 * 1000) / 1000);  // 4
  // Once the current period is over, it is the previous one, fading out.
  EXPECT_EQ(FreqRead(f, 1000, kT + 2500), 3u * 500 / 1000);  // 1
  EXPECT_EQ(FreqRead(f, 1000, kT + 3001), 0u);
  // Two periods without an event forget both.
  FreqAdd(f, 1000, kT + 5000, 1);
  EXPECT_EQ(f.prev_ctr, 0u);
  EXPECT_EQ(FreqRead(f, 1000, kT + 5000), 1u);
}

TEST(FreqCtr, AntiFlappingKeepsAOneFlat) {
  FreqCtr f;
  FreqAdd(f, 1000, kT, 1);
  // In the next period, with nothing new, a past count of 1 reads 1 until it is forgotten.
  EXPECT_EQ(FreqRead(f, 1000, kT + 1500), 1u);
  EXPECT_EQ(FreqRead(f, 1000, kT + 1999), 1u);
  EXPECT_EQ(FreqRead(f, 1000, kT + 2001), 0u);
}

TableDef Def(uint64_t size, uint32_t expire_ms, bool nopurge) {
  TableDef t;
  t.name = "t";
  t.type = KeyType::kIp;
  t.key_len = 4;
  t.size = size;
  t.expire_ms = expire_ms;
  t.nopurge = nopurge;
  t.off[static_cast<size_t>(Data::kGpt0)] = 0;
  t.data_bytes = 8;
  return t;
}

std::vector<uint8_t> Key(uint8_t last) { return {10, 0, 0, last}; }

TEST(Shard, PurgesTheLeastRecentlyUsedUntracked) {
  Shard s;
  ASSERT_TRUE(s.Init(Def(2, 0, false), 0, 2, 0, -1, nullptr));
  Entry* a = s.Get(Key(1).data());
  Entry* b = s.Get(Key(2).data());
  ASSERT_TRUE(a && b);
  EXPECT_EQ(s.Get(Key(1).data()), a);  // found, not made again
  EXPECT_EQ(s.used(), 2u);
  // Full: a new key purges the oldest (a: b and c remain, as HAProxy's oracle run showed).
  ASSERT_NE(s.Get(Key(3).data()), nullptr);
  EXPECT_EQ(s.Lookup(Key(1).data()), nullptr);
  EXPECT_NE(s.Lookup(Key(2).data()), nullptr);
  EXPECT_EQ(s.purged(), 1u);
  // A touched entry is the most recent; a tracked one is never purged.
  Entry* b2 = s.Lookup(Key(2).data());
  s.Touch(b2, 0);
  b2->use = 1;
  ASSERT_NE(s.Get(Key(4).data()), nullptr);  // purges 3, the oldest untracked
  EXPECT_EQ(s.Lookup(Key(3).data()), nullptr);
  EXPECT_EQ(s.Lookup(Key(2).data()), b2);
  // The data start zeroed and keep what was written.
  std::memset(s.DataOf(b2, Data::kGpt0), 7, 4);
  uint32_t v;
  std::memcpy(&v, s.DataOf(s.Lookup(Key(2).data()), Data::kGpt0), 4);
  EXPECT_EQ(v, 0x07070707u);
  s.Remove(b2);
  EXPECT_EQ(s.Lookup(Key(2).data()), nullptr);
  EXPECT_EQ(s.used(), 1u);
}

TEST(Shard, NopurgeRefusesWhenFull) {
  Shard s;
  ASSERT_TRUE(s.Init(Def(1, 0, true), 0, 1, 0, -1, nullptr));
  ASSERT_NE(s.Get(Key(1).data()), nullptr);
  EXPECT_EQ(s.Get(Key(2).data()), nullptr);
  EXPECT_EQ(s.full(), 1u);
  EXPECT_NE(s.Lookup(Key(1).data()), nullptr);
}

TEST(Shard, ExpiresOnTheWheel) {
  base::Timers wheel(0);
  Shard s;
  ASSERT_TRUE(s.Init(Def(16, 100, false), 3, 16, 0, -1, &wheel));
  Entry* a = s.Get(Key(1).data());
  Entry* b = s.Get(Key(2).data());
  s.Touch(a, 0);
  s.Touch(b, 50);
  EXPECT_EQ(a->table, 3u);
  std::vector<Entry*> due;
  wheel.Advance(120, [&](base::TimerNode* n) { due.push_back(reinterpret_cast<Entry*>(n)); });
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0], a);
  s.Remove(a);
  wheel.Advance(200, [&](base::TimerNode* n) { due.push_back(reinterpret_cast<Entry*>(n)); });
  ASSERT_EQ(due.size(), 2u);
  EXPECT_EQ(due[1], b);
  // Removing an entry cancels its timer.
  Entry* c = s.Get(Key(3).data());
  s.Touch(c, 200);
  s.Remove(c);
  EXPECT_EQ(wheel.armed(), 0u);
}

// Concurrent tracking and expiry, against a model: 64 streams over 1 000 simulated seconds
// each track (use + 1) and release entries of 40 keys at random, touching them as counters
// would, while the wheel expires what is due (Shard::Expire, as the worker's timer does). An
// entry is never gone while a stream tracks it, the shard holds exactly the keys the model
// says are live, purges never take a tracked entry, and once every stream lets go and
// `expire` passes, the table is empty.
TEST(Shard, ConcurrentTrackingAndExpiry) {
  constexpr uint32_t kExpire = 5000, kKeys = 40, kStreams = 64;
  base::Timers wheel(0);
  Shard s;
  ASSERT_TRUE(s.Init(Def(32, kExpire, false), 0, 32, 0, -1, &wheel));  // fewer slots than keys
  struct Stream {
    Entry* e = nullptr;
    uint8_t key = 0;
  } streams[kStreams];
  uint64_t last_touch[kKeys] = {};  // the model: when each key's entry was last touched
  uint32_t tracked[kKeys] = {};
  bool live[kKeys] = {};
  uint64_t rng = 15;
  auto next = [&] {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
  };
  auto check = [&](uint64_t now) {
    uint32_t n = 0;
    for (uint8_t k = 0; k < kKeys; ++k) {
      Entry* e = s.Lookup(Key(k).data());
      ASSERT_EQ(e != nullptr, live[k]) << "key " << int(k) << " at " << now;
      if (tracked[k]) {
        ASSERT_TRUE(live[k]) << "a tracked entry went, key " << int(k);
      }
      if (e) {
        ASSERT_EQ(e->use, tracked[k]);
        ++n;
      }
    }
    ASSERT_EQ(s.used(), n);
  };
  uint64_t now = 0, expired = 0, pushed = 0, refused = 0;
  for (; now < 1000000; now += 1 + next() % 97) {
    wheel.Advance(now, [&](base::TimerNode* t) {
      Entry* e = reinterpret_cast<Entry*>(t);
      const uint8_t k = e->key()[3];
      if (s.Expire(e, now)) {
        EXPECT_EQ(tracked[k], 0u);
        EXPECT_GE(now, last_touch[k] + kExpire);
        live[k] = false;
        ++expired;
      } else {
        last_touch[k] = now;  // tracked: pushed a whole expire further
        ++pushed;
      }
    });
    Stream& st = streams[next() % kStreams];
    if (st.e) {  // release: the tracker count goes down, the entry is touched
      --st.e->use;
      --tracked[st.key];
      s.Touch(st.e, now);
      last_touch[st.key] = now;
      st.e = nullptr;
    } else if (next() % 3) {  // track a key, making it when it is missing
      const auto k = static_cast<uint8_t>(next() % kKeys);
      const uint32_t before = s.used();
      Entry* e = s.Get(Key(k).data());
      if (!e) {  // full and every entry tracked: refused, as HAProxy does
        EXPECT_EQ(before, s.capacity());
        ++refused;
        continue;
      }
      if (!live[k]) {
        // Made: any purged entry was untracked; the model forgets what the shard purged.
        for (uint8_t o = 0; o < kKeys; ++o) {
          if (live[o] && o != k && !s.Lookup(Key(o).data())) {
            EXPECT_EQ(tracked[o], 0u) << "purged a tracked entry";
            live[o] = false;
          }
        }
        live[k] = true;
      }
      ++e->use;
      ++tracked[k];
      s.Touch(e, now);
      last_touch[k] = now;
      st.e = e;
      st.key = k;
    }
    check(now);
    if (HasFatalFailure()) return;
  }
  // Every path was taken: expiries, tracked entries pushed on, purges (and maybe refusals).
  EXPECT_GT(expired, 100u);
  EXPECT_GT(pushed, 100u);
  EXPECT_GT(s.purged(), 100u);
  RecordProperty("refused", static_cast<int>(refused));
  // Everyone lets go; after one more `expire` nothing is left.
  for (Stream& st : streams) {
    if (!st.e) continue;
    --st.e->use;
    --tracked[st.key];
    s.Touch(st.e, now);
    st.e = nullptr;
  }
  wheel.Advance(now + kExpire + 1000, [&](base::TimerNode* t) {
    Entry* e = reinterpret_cast<Entry*>(t);
    EXPECT_TRUE(s.Expire(e, now + kExpire + 1000));
  });
  EXPECT_EQ(s.used(), 0u);
  EXPECT_EQ(wheel.armed(), 0u);
}

// An address is owned by the worker that owns the client's flows (an IPv4 address mapped
// into an ipv6 table too); another key by hash(key), the same on every call, and spread.
TEST(Owner, AddressesFollowFlowsOtherKeysTheirHash) {
  const net::FlowSteering steer(4, 32768, 60999);
  TableDef ip, v6, str;
  ip.type = KeyType::kIp;
  v6.type = KeyType::kIpv6;
  v6.key_len = 16;
  str.type = KeyType::kString;
  str.key_len = 32;
  unsigned per_worker[4] = {};
  for (uint32_t i = 1; i <= 400; ++i) {
    const uint32_t be = __builtin_bswap32(0x0a0a0100u + i);
    uint8_t k4[kMaxKeyBytes] = {}, k6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    std::memcpy(k4, &be, 4);
    std::memcpy(k6 + 12, &be, 4);
    EXPECT_EQ(OwnerOf(ip, k4, steer, 4), steer.OwnerOfClientV4(be));
    EXPECT_EQ(OwnerOf(v6, k6, steer, 4), steer.OwnerOfClientV4(be));
    uint8_t ks[32] = {};
    const int n = std::snprintf(reinterpret_cast<char*>(ks), sizeof ks, "user-%u", i);
    ASSERT_GT(n, 0);
    const uint16_t w = OwnerOf(str, ks, steer, 4);
    ASSERT_LT(w, 4);
    EXPECT_EQ(OwnerOf(str, ks, steer, 4), w);
    ++per_worker[w];
    EXPECT_EQ(OwnerOf(str, ks, steer, 1), 0);
  }
  for (unsigned c : per_worker) EXPECT_GT(c, 50u);  // about 100 each
  uint8_t k6[16] = {0xfd, 0x10, 0, 1};
  EXPECT_EQ(OwnerOf(v6, k6, steer, 4), steer.OwnerOfClientV6(k6));
}

}  // namespace
}  // namespace sluice::stick
