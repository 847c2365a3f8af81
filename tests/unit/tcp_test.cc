// Unit tests of the TCP stack's parts: sequence arithmetic, options, the RTO estimator, the
// timer wheel, SipHash, ISNs and SYN cookies.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

#include "dataplane/base/timer_wheel.h"
#include "dataplane/tcp/congestion.h"
#include "dataplane/tcp/rtt.h"
#include "dataplane/tcp/sack.h"
#include "dataplane/tcp/siphash.h"
#include "dataplane/tcp/syncookie.h"
#include "dataplane/tcp/tcp.h"
#include "dataplane/tcp/tcp_options.h"
#include "dataplane/tcp/tcp_seq.h"

namespace sluice::tcp {
namespace {

using base::TimerNode;
using base::TimerWheel;

// --- Pure ACKs stay inside the peer's window (RFC 9293 section 3.10.7.4) ---

TEST(AckSeqTest, SndMaxWhileInsideThePeersWindowElseItsRightEdge) {
  auto t = std::make_unique<Tcb>();
  t->snd_una = 0xfffff000u;  // wraps below
  t->snd_max = t->snd_una + 3000;
  t->snd_wnd = 8000;
  EXPECT_EQ(AckSeq(*t), t->snd_max);
  // The peer took less than we sent and closed its window: a segment at SND.MAX would fall
  // outside it and be dropped with its ACK. The right edge (here SND.UNA) is acceptable.
  t->snd_wnd = 0;
  EXPECT_EQ(AckSeq(*t), t->snd_una);
  t->snd_wnd = 1000;
  EXPECT_EQ(AckSeq(*t), t->snd_una + 1000);
}

// --- RFC 9293 section 3.4 ---
TEST(SeqTest, ComparisonsWrapAround) {
  EXPECT_TRUE(SeqLt(1, 2));
  EXPECT_TRUE(SeqLt(0xfffffff0u, 0x10u));  // across the wrap
  EXPECT_TRUE(SeqGt(0x10u, 0xfffffff0u));
  EXPECT_TRUE(SeqLe(5, 5));
  EXPECT_FALSE(SeqLt(5, 5));
  EXPECT_EQ(SeqMax(0xfffffff0u, 0x10u), 0x10u);
  EXPECT_EQ(SeqMin(0xfffffff0u, 0x10u), 0xfffffff0u);
  EXPECT_TRUE(SeqInWindow(0xffffffffu, 0xfffffff0u, 0x10u));
  EXPECT_TRUE(SeqInWindow(0x0u, 0xfffffff0u, 0x10u));
  EXPECT_FALSE(SeqInWindow(0x10u, 0xfffffff0u, 0x10u));
  EXPECT_FALSE(SeqInWindow(7, 7, 7));  // empty window
  EXPECT_EQ(SeqDiff(0x10u, 0xfffffff0u), 0x20);
}

// --- options: RFC 9293 3.7.1, RFC 7323, RFC 2018 ---
TEST(OptionsTest, ParsesALinuxSyn) {
  // Linux 6.1 SYN: MSS 1460, SACK-permitted, timestamps, NOP, window scale 7.
  const uint8_t syn[] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7};
  TcpOptions o;
  ASSERT_EQ(ParseOptions(syn, sizeof syn, &o), OptionsStatus::kOk);
  EXPECT_TRUE(o.has_mss);
  EXPECT_EQ(o.mss, 1460);
  EXPECT_TRUE(o.sack_permitted);
  EXPECT_TRUE(o.has_timestamp);
  EXPECT_EQ(o.ts_val, 1u);
  EXPECT_EQ(o.ts_ecr, 0u);
  EXPECT_TRUE(o.has_wscale);
  EXPECT_EQ(o.wscale, 7);
}

TEST(OptionsTest, RoundTripsThroughBuild) {
  TcpOptions in;
  in.has_mss = true;
  in.mss = 1400;
  in.sack_permitted = true;
  in.has_timestamp = true;
  in.ts_val = 0xdeadbeef;
  in.ts_ecr = 0x01020304;
  in.has_wscale = true;
  in.wscale = 9;
  uint8_t buf[kMaxOptionsLen];
  const size_t n = BuildOptions(in, buf, sizeof buf);
  EXPECT_EQ(n % 4, 0u);
  EXPECT_EQ(n, 20u);  // the classic 20-byte SYN option block
  TcpOptions out;
  ASSERT_EQ(ParseOptions(buf, n, &out), OptionsStatus::kOk);
  EXPECT_EQ(out.mss, 1400);
  EXPECT_TRUE(out.sack_permitted);
  EXPECT_EQ(out.ts_val, 0xdeadbeefu);
  EXPECT_EQ(out.ts_ecr, 0x01020304u);
  EXPECT_EQ(out.wscale, 9);
}

TEST(OptionsTest, SackBlocksFitBesideTimestamps) {
  TcpOptions in;
  in.has_timestamp = true;
  in.nsack = 4;
  for (uint32_t i = 0; i < 4; ++i) in.sack[i] = {1000 * i, 1000 * i + 500};
  uint8_t buf[kMaxOptionsLen];
  const size_t n = BuildOptions(in, buf, sizeof buf);
  TcpOptions out;
  ASSERT_EQ(ParseOptions(buf, n, &out), OptionsStatus::kOk);
  EXPECT_EQ(out.nsack, 3);  // RFC 2018: with timestamps, at most 3 blocks fit
  EXPECT_EQ(out.sack[2].left, 2000u);
  EXPECT_EQ(out.sack[2].right, 2500u);
  EXPECT_LE(n, kMaxOptionsLen);
}

TEST(OptionsTest, WindowScaleAbove14IsClamped) {
  const uint8_t o[] = {3, 3, 15, 0};
  TcpOptions out;
  ASSERT_EQ(ParseOptions(o, sizeof o, &out), OptionsStatus::kOk);
  EXPECT_EQ(out.wscale, 14);  // RFC 7323 section 2.3
}

TEST(OptionsTest, MalformedOptionsAreReported) {
  TcpOptions out;
  const uint8_t truncated[] = {2, 4, 5};
  EXPECT_EQ(ParseOptions(truncated, sizeof truncated, &out), OptionsStatus::kTruncated);
  const uint8_t zero_len[] = {30, 0, 1, 1};
  EXPECT_EQ(ParseOptions(zero_len, sizeof zero_len, &out), OptionsStatus::kBadLength);
  const uint8_t bad_mss[] = {2, 3, 5, 1};
  EXPECT_EQ(ParseOptions(bad_mss, sizeof bad_mss, &out), OptionsStatus::kBadLength);
  const uint8_t bad_sack[] = {5, 6, 0, 0, 0, 1, 1, 1};
  EXPECT_EQ(ParseOptions(bad_sack, sizeof bad_sack, &out), OptionsStatus::kBadLength);
  const uint8_t lone_kind[] = {1, 1, 1, 8};
  EXPECT_EQ(ParseOptions(lone_kind, sizeof lone_kind, &out), OptionsStatus::kTruncated);
  const uint8_t unknown_then_eol[] = {99, 4, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(ParseOptions(unknown_then_eol, sizeof unknown_then_eol, &out), OptionsStatus::kOk);
}

TEST(OptionsTest, EveryTwoByteInputParsesWithoutOverrun) {
  // All short inputs: the parser must never read past len (ASan checks the heap copy).
  for (unsigned a = 0; a < 256; ++a) {
    for (unsigned b = 0; b < 256; b += 3) {
      std::vector<uint8_t> v = {static_cast<uint8_t>(a), static_cast<uint8_t>(b)};
      TcpOptions out;
      (void)ParseOptions(v.data(), v.size(), &out);
    }
  }
}

// --- RFC 6298 ---
TEST(RttTest, FirstSampleThenSmoothing) {
  RttEstimator r;
  EXPECT_EQ(r.Rto(), 1'000'000u);  // 2.1: 1 s before any sample
  r.Sample(100'000);               // 2.2: SRTT = R, RTTVAR = R/2
  EXPECT_EQ(r.srtt_us(), 100'000u);
  EXPECT_EQ(r.rttvar_us(), 50'000u);
  EXPECT_EQ(r.Rto(), 300'000u);  // SRTT + 4 RTTVAR
  r.Sample(200'000);             // 2.3
  EXPECT_EQ(r.rttvar_us(), 50'000u - 12'500u + 25'000u);
  EXPECT_EQ(r.srtt_us(), 100'000u - 12'500u + 25'000u);
}

TEST(RttTest, BackoffDoublesAndIsClampedAndASampleResetsIt) {
  RttConfig cfg;
  cfg.max_rto_us = 4'000'000;
  RttEstimator r(cfg);
  r.Sample(10'000);
  EXPECT_EQ(r.Rto(), 200'000u);  // the floor
  r.Backoff();
  EXPECT_EQ(r.Rto(), 400'000u);
  for (int i = 0; i < 20; ++i) r.Backoff();
  EXPECT_EQ(r.Rto(), 4'000'000u);
  r.Sample(10'000);
  EXPECT_EQ(r.Rto(), 200'000u);
}

// --- timer wheel ---
TEST(TimerWheelTest, FiresAtExpiryInOrderAndSupportsCancelAndRearm) {
  TimerWheel<64> w(0);
  TimerNode a, b, c;
  w.Arm(&a, 10);
  w.Arm(&b, 5);
  w.Arm(&c, 200);  // beyond one turn of the wheel
  std::vector<TimerNode*> fired;
  auto fire = [&](TimerNode* n) { fired.push_back(n); };
  EXPECT_EQ(w.Advance(4, fire), 0u);
  EXPECT_EQ(w.Advance(5, fire), 1u);
  EXPECT_EQ(fired.back(), &b);
  w.Cancel(&a);
  EXPECT_EQ(w.Advance(100, fire), 0u);
  EXPECT_TRUE(c.armed);
  EXPECT_EQ(w.Advance(200, fire), 1u);
  EXPECT_EQ(fired.back(), &c);
  EXPECT_EQ(w.armed(), 0u);
  // A callback may re-arm its own node.
  w.Arm(&a, 201);
  int count = 0;
  auto rearm = [&](TimerNode* n) {
    if (++count < 3) w.Arm(n, w.now() + 1);
  };
  w.Advance(201, rearm);
  w.Advance(202, rearm);
  w.Advance(203, rearm);
  EXPECT_EQ(count, 3);
  EXPECT_FALSE(a.armed);
}

// A callback may cancel or re-arm another node that is due in the same tick (a session's
// end serving the queue; a TCB rebuilt in place): the other node must not fire now, the wheel
// must stay consistent, and every node after it in the slot must still fire.
TEST(TimerWheelTest, ACallbackCancelsOrRearmsAnotherDueNode) {
  TimerWheel<64> w(0);
  TimerNode a, b, c, d;
  // One slot, one tick; a node armed later goes first in its slot: a, b, c, d.
  for (TimerNode* n : {&d, &c, &b, &a}) w.Arm(n, 7);
  std::vector<TimerNode*> fired;
  w.Advance(7, [&](TimerNode* n) {
    fired.push_back(n);
    if (n == &a) w.Arm(&b, 20);  // re-armed before its turn: fires at 20, not now
    if (n == &c) w.Cancel(&d);   // cancelled before its turn: never fires
  });
  EXPECT_EQ(fired, (std::vector<TimerNode*>{&a, &c}));
  EXPECT_TRUE(b.armed);
  EXPECT_FALSE(d.armed);
  EXPECT_EQ(w.armed(), 1u);
  fired.clear();
  w.Arm(&d, 20);
  w.Advance(20, [&](TimerNode* n) { fired.push_back(n); });
  EXPECT_EQ(fired.size(), 2u);
  EXPECT_EQ(w.armed(), 0u);
  // Re-arming a due node to "now" fires it on the next tick, not twice in this one.
  w.Arm(&b, 21);
  w.Arm(&a, 21);  // a first
  int fires_of_b = 0;
  w.Advance(21, [&](TimerNode* n) {
    if (n == &a) w.Arm(&b, w.now());
    if (n == &b) ++fires_of_b;
  });
  EXPECT_EQ(fires_of_b, 0);
  w.Advance(22, [&](TimerNode* n) { fires_of_b += n == &b; });
  EXPECT_EQ(fires_of_b, 1);
}

TEST(TimerWheelTest, ManyTimersAllFireExactlyOnce) {
  TimerWheel<256> w(0);
  std::vector<TimerNode> nodes(10000);
  for (size_t i = 0; i < nodes.size(); ++i) w.Arm(&nodes[i], 1 + (i * 7919) % 5000);
  size_t fired = 0;
  uint64_t last_expiry = 0;
  bool ordered = true;
  for (uint64_t t = 0; t <= 5000; t += 13) {
    w.Advance(t, [&](TimerNode* n) {
      ++fired;
      ordered = ordered && n->expiry >= last_expiry && n->expiry <= t;
      last_expiry = n->expiry;
    });
  }
  w.Advance(6000, [&](TimerNode*) { ++fired; });
  EXPECT_EQ(fired, nodes.size());
  EXPECT_TRUE(ordered);
}

// --- SipHash-2-4: the test vector of the paper's appendix A ---
TEST(SipHashTest, PaperVector) {
  SipKey key;
  uint8_t k[16];
  for (int i = 0; i < 16; ++i) k[i] = static_cast<uint8_t>(i);
  std::memcpy(&key.k0, k, 8);
  std::memcpy(&key.k1, k + 8, 8);
  uint8_t msg[15];
  for (int i = 0; i < 15; ++i) msg[i] = static_cast<uint8_t>(i);
  EXPECT_EQ(SipHash24(key, msg, sizeof msg), 0xa129ca6149be45e5ull);
}

FlowKey Flow(uint16_t remote_port) {
  FlowKey f;
  f.local_addr[0] = 10;
  f.local_addr[3] = 1;
  f.remote_addr[0] = 10;
  f.remote_addr[3] = 2;
  f.local_port = 80;
  f.remote_port = remote_port;
  return f;
}

// --- RFC 6528 ---
TEST(IsnTest, DependsOnTheFlowAndAdvancesWithTheClock) {
  IsnGenerator g(SipKey{1, 2});
  EXPECT_NE(g.Isn(Flow(1000), 0), g.Isn(Flow(1001), 0));
  EXPECT_EQ(g.Isn(Flow(1000), 400) - g.Isn(Flow(1000), 0), 100u);  // one tick per 4 us
  IsnGenerator other(SipKey{3, 4});
  EXPECT_NE(g.Isn(Flow(1000), 0), other.Isn(Flow(1000), 0));
}

// --- RFC 4987 section 3.6 ---
TEST(SynCookieTest, RoundTripKeepsMssAndOptions) {
  SynCookies sc(SipKey{42, 43});
  const uint32_t client_isn = 123456;
  const uint32_t cookie = sc.Make(Flow(5000), client_isn, 1460, 100);
  CookieOptions o;
  ASSERT_TRUE(sc.Check(Flow(5000), client_isn + 1, cookie + 1, 100, &o));
  EXPECT_EQ(o.mss, 1460);
  ASSERT_TRUE(sc.Check(Flow(5000), client_isn + 1, cookie + 1, 102, &o));   // 2 minutes old
  EXPECT_FALSE(sc.Check(Flow(5000), client_isn + 1, cookie + 1, 103, &o));  // expired
  EXPECT_FALSE(sc.Check(Flow(5001), client_isn + 1, cookie + 1, 100, &o));  // other flow
  EXPECT_FALSE(sc.Check(Flow(5000), client_isn + 2, cookie + 1, 100, &o));  // other ISN
  EXPECT_FALSE(sc.Check(Flow(5000), client_isn + 1, cookie + 2, 100, &o));  // forged
  // The MSS is rounded down to the table.
  const uint32_t c2 = sc.Make(Flow(5000), client_isn, 1300, 7);
  ASSERT_TRUE(sc.Check(Flow(5000), client_isn + 1, c2 + 1, 7, &o));
  EXPECT_EQ(o.mss, 1220);
  // Window scale and SACK-permitted travel in the timestamp.
  CookieOptions in{1460, true, 7, true};
  CookieOptions back;
  SynCookies::DecodeTsOptions(SynCookies::EncodeTsOptions(0xabcdef12, in), &back);
  EXPECT_TRUE(back.has_wscale);
  EXPECT_EQ(back.wscale, 7);
  EXPECT_TRUE(back.sack_permitted);
  SynCookies::DecodeTsOptions(SynCookies::EncodeTsOptions(0, CookieOptions{}), &back);
  EXPECT_FALSE(back.has_wscale);
  EXPECT_FALSE(back.sack_permitted);
  // The encoded timestamp is never ahead of the clock (PAWS at the peer), and less than 32
  // behind it, for every low-bit pattern of the clock and wrapping around zero.
  for (uint32_t now : {0u, 5u, 31u, 32u, 1000u, 1007u, 0xffffffe3u, 0xffffffffu}) {
    for (const CookieOptions& o : {in, CookieOptions{}, CookieOptions{536, false, 0, true}}) {
      const uint32_t ts = SynCookies::EncodeTsOptions(now, o);
      EXPECT_LT(now - ts, 32u) << now;
      SynCookies::DecodeTsOptions(ts, &back);
      EXPECT_EQ(back.sack_permitted, o.sack_permitted);
      EXPECT_EQ(back.has_wscale, o.has_wscale);
    }
  }
}

TEST(SynCookieTest, RandomAcksAreAlmostNeverAccepted) {
  SynCookies sc(SipKey{7, 9});
  CookieOptions o;
  int accepted = 0;
  uint32_t x = 12345;
  for (int i = 0; i < 200000; ++i) {
    x = x * 1664525u + 1013904223u;
    accepted += sc.Check(Flow(6000), 1000, x, 3, &o);
  }
  // 24 MAC bits and 3 of 32 time slots: about 200000 * 3/32 / 2^24 ~ 0.001 expected.
  EXPECT_LE(accepted, 1);
}

// --- SACK scoreboard: RFC 2018, RFC 6675 ---
TEST(SackTest, MergesOrdersAndForgetsBelowSndUna) {
  SackScoreboard sb;
  const SackBlock b1[] = {{3000, 4000}, {1000, 2000}};
  sb.Update(0, 10000, b1, 2);
  ASSERT_EQ(sb.ranges(), 2u);
  EXPECT_EQ(sb.range(0).left, 1000u);
  const SackBlock b2[] = {{2000, 3000}};  // fills the gap: one range
  sb.Update(0, 10000, b2, 1);
  ASSERT_EQ(sb.ranges(), 1u);
  EXPECT_EQ(sb.range(0).left, 1000u);
  EXPECT_EQ(sb.range(0).right, 4000u);
  sb.Update(2500, 10000, nullptr, 0);  // the cumulative ACK passes part of it
  EXPECT_EQ(sb.range(0).left, 2500u);
  sb.Update(4000, 10000, nullptr, 0);
  EXPECT_EQ(sb.ranges(), 0u);
  const SackBlock bogus[] = {{5000, 20000}, {100, 200}, {7000, 6000}};
  sb.Update(4000, 10000, bogus, 3);  // beyond SND.MAX, below SND.UNA, inverted
  EXPECT_EQ(sb.ranges(), 0u);
}

TEST(SackTest, WrapsAroundTheSequenceSpace) {
  SackScoreboard sb;
  const SackBlock b[] = {{0xfffffff0u, 0x10u}};
  sb.Update(0xffffff00u, 0x100u, b, 1);
  EXPECT_TRUE(sb.IsSacked(0xfffffffau));
  EXPECT_TRUE(sb.IsSacked(0x5u));
  EXPECT_FALSE(sb.IsSacked(0x10u));
  EXPECT_EQ(sb.SackedAbove(0xffffff00u), 0x20u);
}

TEST(SackTest, LossNeedsDupThreshWorthOfSackedDataAbove) {
  SackScoreboard sb;
  const uint32_t mss = 1000;
  const SackBlock one[] = {{2000, 3000}};
  sb.Update(1000, 10000, one, 1);
  EXPECT_FALSE(sb.IsLost(1000, mss));
  const SackBlock two[] = {{4000, 5000}, {6000, 7000}};
  sb.Update(1000, 10000, two, 2);
  EXPECT_TRUE(sb.IsLost(1000, mss));   // three discontiguous ranges above
  EXPECT_FALSE(sb.IsLost(3000, mss));  // two above
  Seq start = 0;
  uint32_t len = 0;
  ASSERT_TRUE(sb.NextHole(1000, &start, &len));
  EXPECT_EQ(start, 1000u);
  EXPECT_EQ(len, 1000u);
  ASSERT_TRUE(sb.NextHole(2500, &start, &len));
  EXPECT_EQ(start, 3000u);
  ASSERT_FALSE(sb.NextHole(7000, &start, &len));
  // Pipe: 9 segments outstanding [1000, 10000): 3 SACKed, 1 lost -> 5 in flight.
  EXPECT_EQ(sb.Pipe(1000, 10000, 1000, mss), 5 * mss);
  // Retransmitting the lost one puts it back in the pipe.
  EXPECT_EQ(sb.Pipe(1000, 10000, 2000, mss), 6 * mss);
}

TEST(SackTest, IsBoundedAndKeepsTheLowestRanges) {
  SackScoreboard sb;
  for (uint32_t i = 0; i < 40; ++i) {
    const SackBlock b[] = {{10000 - 200 * i, 10000 - 200 * i + 100}};
    sb.Update(0, 20000, b, 1);
  }
  EXPECT_EQ(sb.ranges(), SackScoreboard::kMaxRanges);
  EXPECT_EQ(sb.range(0).left, 10000u - 200 * 39);
  for (unsigned i = 1; i < sb.ranges(); ++i) {
    EXPECT_TRUE(SeqLt(sb.range(i - 1).right, sb.range(i).left));
  }
}

// --- NewReno: RFC 5681, RFC 6582, RFC 3465 ---
TEST(NewRenoTest, SlowStartCongestionAvoidanceRecoveryAndRto) {
  NewReno cc;
  cc.Init(1460);
  EXPECT_EQ(cc.cwnd(), 14600u);
  cc.OnAck(1460);
  EXPECT_EQ(cc.cwnd(), 16060u);
  cc.OnAck(10 * 1460);  // ABC: at most 2 SMSS per ACK
  EXPECT_EQ(cc.cwnd(), 16060u + 2920u);
  cc.EnterRecovery(40000);
  EXPECT_EQ(cc.ssthresh(), 20000u);
  EXPECT_EQ(cc.cwnd(), 20000u);
  cc.OnAck(1460);  // no growth during recovery
  EXPECT_EQ(cc.cwnd(), 20000u);
  cc.ExitRecovery();
  // Congestion avoidance: one SMSS per cwnd of acknowledged bytes.
  for (int i = 0; i < 13; ++i) cc.OnAck(1460);
  EXPECT_EQ(cc.cwnd(), 20000u);
  cc.OnAck(1460);
  EXPECT_EQ(cc.cwnd(), 21460u);
  cc.OnRto(3000);
  EXPECT_EQ(cc.cwnd(), 1460u);
  EXPECT_EQ(cc.ssthresh(), 2920u);  // at least 2 SMSS
}

// --- CUBIC: RFC 9438 ---
// Drives a Cubic window in avoidance with one ACK per segment, `rtt_ms` apart per window,
// for `seconds`; returns the window (in segments) at the end.
double RunCubic(Cubic& cc, uint64_t* now_us, double seconds, uint32_t rtt_ms) {
  const uint64_t end = *now_us + static_cast<uint64_t>(seconds * 1e6);
  while (*now_us < end) {
    const uint32_t segs = cc.cwnd() / 1000;
    for (uint32_t i = 0; i < segs; ++i) cc.OnAck(1000, *now_us, rtt_ms * 1000);
    *now_us += rtt_ms * 1000ull;
  }
  return cc.cwnd() / 1000.0;
}

TEST(CubicTest, ReductionKAndTheCubicCurve) {
  Cubic cc;
  cc.Init(1000);
  EXPECT_EQ(cc.cwnd(), 10000u);
  uint64_t now = 1'000'000;
  cc.OnAck(1000, now, 100'000);  // slow start as RFC 5681
  EXPECT_EQ(cc.cwnd(), 11000u);
  // Grow to 100 segments, then a loss with 100 segments in flight: beta = 0.7 (4.6).
  while (cc.cwnd() < 100'000) cc.OnAck(1000, now, 100'000);
  cc.EnterRecovery(cc.cwnd());
  EXPECT_NEAR(cc.cwnd(), 0.7 * 100'000, 1000);
  EXPECT_NEAR(cc.w_max(), 100.0, 1.0);
  cc.ExitRecovery();
  // K = cbrt(W_max (1 - beta) / C) = cbrt(75) = 4.22 s (equation 2).
  cc.OnAck(1000, now, 100'000);
  EXPECT_NEAR(cc.k(), std::cbrt(100.0 * 0.3 / 0.4), 0.1);
  // Concave: most of the way back to W_max by K, flat around it, then convex beyond.
  const double at_half_k = RunCubic(cc, &now, 2.1, 100);
  EXPECT_GT(at_half_k, 85.0);
  EXPECT_LT(at_half_k, 99.0);
  const double at_k = RunCubic(cc, &now, 2.1, 100);
  EXPECT_NEAR(at_k, 100.0, 3.0);
  const double later = RunCubic(cc, &now, 3.0, 100);
  // W_cubic(K + 3 s + RTT) = 0.4 * 3.1^3 + 100 = 111.9: the convex region.
  EXPECT_NEAR(later, 111.9, 4.0);
}

TEST(CubicTest, FastConvergenceAndRenoFriendlyRegion) {
  Cubic cc;
  cc.Init(1000);
  uint64_t now = 1'000'000;
  while (cc.cwnd() < 100'000) cc.OnAck(1000, now, 10'000);
  cc.EnterRecovery(cc.cwnd());
  cc.ExitRecovery();
  // A second loss below the previous W_max releases bandwidth: W_max = W (1 + beta) / 2.
  const double w = cc.cwnd() / 1000.0;
  cc.EnterRecovery(cc.cwnd());
  EXPECT_NEAR(cc.w_max(), w * 1.7 / 2, 0.5);
  cc.ExitRecovery();
  // With a 1 ms RTT, Reno's additive increase (alpha = 0.53 segments per window here) is
  // ahead of the cubic curve for the first seconds: W_est sets the window (4.3).
  const double start = cc.cwnd() / 1000.0;
  const double after = RunCubic(cc, &now, 0.5, 1);
  EXPECT_GT(after - start, 0.9 * Cubic::kAlpha * 500);  // about alpha per RTT, 500 RTTs
  EXPECT_GT(after, start);
  // A timeout with little in flight (a stall): ssthresh comes from the window, not from
  // the flight, as Linux's CUBIC does (RFC 9438 section 4.6 allows either).
  const uint32_t cwnd_before = cc.cwnd();
  cc.OnRto(10'000);
  EXPECT_EQ(cc.cwnd(), 1000u);
  EXPECT_EQ(cc.ssthresh(), static_cast<uint32_t>(cwnd_before * Cubic::kBeta));
  // A flight larger than the window (limited transmit, a probe): the flight.
  cc.OnRto(50'000);
  EXPECT_EQ(cc.ssthresh(), static_cast<uint32_t>(50'000 * Cubic::kBeta));
}

// A transfer that never loses a segment acknowledges more than 4 GiB in slow start: the
// window stops at its clamp instead of wrapping to a few bytes (found by bench_tcp, where
// the stream stalled after exactly 2^32 bytes).
TEST(CongestionControlTest, TheWindowNeverWrapsOnALosslessTransfer) {
  for (CcAlgo algo : {CcAlgo::kCubic, CcAlgo::kNewReno}) {
    CongestionControl cc;
    cc.Init(1448, algo);
    uint64_t now = 1'000'000;
    for (uint64_t acked = 0; acked < (5ull << 30); acked += 2 * 1448) {
      cc.OnAck(2 * 1448, now, 100);
      ASSERT_GE(cc.cwnd(), 14480u) << static_cast<int>(algo) << " after " << acked;
      now += 1;
    }
    EXPECT_EQ(cc.cwnd(), kMaxCwnd);
  }
}

TEST(CongestionControlTest, TheConfiguredControllerAnswers) {
  CongestionControl reno, cubic;
  reno.Init(1000, CcAlgo::kNewReno);
  cubic.Init(1000, CcAlgo::kCubic);
  reno.EnterRecovery(100'000);
  cubic.EnterRecovery(100'000);
  EXPECT_EQ(reno.cwnd(), 50'000u);   // NewReno halves
  EXPECT_EQ(cubic.cwnd(), 70'000u);  // CUBIC keeps 0.7
}

}  // namespace
}  // namespace sluice::tcp
