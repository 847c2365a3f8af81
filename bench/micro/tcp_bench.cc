// The TCP stack in memory: two stacks joined by a lossless in-process wire, one thread.
//   BM_TcpBulk        one-way bulk transfer; bytes/s is Gbit/s per core for both stacks
//   BM_TcpConnection  connect, 64 B request, 64 B response, close (both sides' cycles)
//   BM_TcpSegmentOut, BM_TcpSegmentIn: one stack's cost per segment sent or received
// The first two count both endpoints' work, so one stack's share is about half.
#include <benchmark/benchmark.h>
#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <deque>
#include <filesystem>
#include <string>
#include <utility>

#include "dataplane/tcp/tcp.h"
#include "tests/support/test_eal.h"

namespace {

using namespace sluice;

rte_mempool* Pool() {
  static rte_mempool* p = rte_pktmbuf_pool_create("bench_tcp_pool", 16383, 256, 0,
                                                  RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  return p;
}

struct Pair;

struct End : tcp::SegmentSink, tcp::TcpUser {
  Pair* pair = nullptr;
  int side = 0;
  tcp::TcpStack stack;
  counters::WorkerCounters counters;
  tcp::ConnId conn = tcp::kNoConn;
  uint64_t received = 0;
  bool closed = false;
  bool reply_64 = false;  // server side of the request/response benchmark
  void SendSegment(rte_mbuf* m, const tcp::FlowKey& key) noexcept override;
  void OnAccepted(tcp::ConnId c, uint32_t) noexcept override { conn = c; }
  void OnConnected(tcp::ConnId c) noexcept override { conn = c; }
  void OnData(tcp::ConnId c, rte_mbuf* d, uint32_t len) noexcept override {
    received += len;
    if (reply_64) {
      stack.Send(c, d);  // echo the 64-byte request as the response
      stack.Consumed(c, len);
      return;
    }
    rte_pktmbuf_free(d);
    stack.Consumed(c, len);
  }
  void OnWritable(tcp::ConnId) noexcept override {}
  void OnPeerClosed(tcp::ConnId c) noexcept override { stack.Shutdown(c); }
  void OnClosed(tcp::ConnId, tcp::CloseReason) noexcept override { closed = true; }
};

struct Pair {
  End a, b;
  std::deque<std::pair<int, std::pair<rte_mbuf*, tcp::FlowKey>>> wire;
  uint64_t now_us = 1;
  Pair() {
    static int n = 0;
    a.pair = b.pair = this;
    b.side = 1;
    b.reply_64 = true;
    tcp::StackConfig cfg;
    cfg.max_conns = 1024;
    cfg.time_wait_ms = 1;
    cfg.rcv_buf = 1 << 20;
    cfg.snd_buf = 1 << 20;
    const std::string na = "bta" + std::to_string(n), nb = "btb" + std::to_string(n++);
    a.stack.Init(na.c_str(), cfg, &a, &a, Pool(), &a.counters, SOCKET_ID_ANY);
    b.stack.Init(nb.c_str(), cfg, &b, &b, Pool(), &b.counters, SOCKET_ID_ANY);
    tcp::FlowKey l;
    l.local_addr[3] = 2;
    l.local_port = __builtin_bswap16(80);
    b.stack.Listen(l, 0);
  }
  void Run() {
    while (!wire.empty()) {
      auto [to, item] = wire.front();
      wire.pop_front();
      End& e = to ? b : a;
      e.stack.SetNow(now_us);
      e.stack.Input(item.first, item.second);
    }
  }
  void Advance(uint64_t us) {
    now_us += us;
    for (End* e : {&a, &b}) {
      e->stack.SetNow(now_us);
      e->stack.Tick();
    }
    Run();
  }
  tcp::FlowKey Key(uint16_t port) {
    tcp::FlowKey k;
    k.local_addr[3] = 1;
    k.remote_addr[3] = 2;
    k.local_port = __builtin_bswap16(port);
    k.remote_port = __builtin_bswap16(80);
    return k;
  }
};

void End::SendSegment(rte_mbuf* m, const tcp::FlowKey& key) noexcept {
  tcp::FlowKey rx;
  std::memcpy(rx.local_addr, key.remote_addr, 16);
  std::memcpy(rx.remote_addr, key.local_addr, 16);
  rx.local_port = key.remote_port;
  rx.remote_port = key.local_port;
  pair->wire.emplace_back(1 - side, std::make_pair(m, rx));
}

void BM_TcpBulk(benchmark::State& state) {
  Pair p;
  p.b.reply_64 = false;
  p.a.stack.Connect(p.Key(40000));
  p.Run();
  uint64_t bytes = 0;
  for (auto _ : state) {
    // Keep the send queue full, deliver, acknowledge.
    for (int k = 0; k < 64; ++k) {
      rte_mbuf* m = rte_pktmbuf_alloc(Pool());
      rte_pktmbuf_append(m, 1400);
      if (!p.a.stack.Send(p.a.conn, m)) {
        rte_pktmbuf_free(m);
        break;
      }
      bytes += 1400;
    }
    p.Run();
    p.Advance(50);  // delayed ACKs
  }
  state.SetBytesProcessed(static_cast<int64_t>(p.b.received));
  state.counters["Gbit/s"] =
      benchmark::Counter(static_cast<double>(p.b.received) * 8 / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_TcpBulk)->MinTime(1.0);

void BM_TcpConnection(benchmark::State& state) {
  Pair p;
  uint16_t port = 1024;
  for (auto _ : state) {
    p.a.closed = false;
    p.a.conn = p.a.stack.Connect(p.Key(port));
    port = static_cast<uint16_t>(port == 65000 ? 1024 : port + 1);
    p.Run();
    rte_mbuf* m = rte_pktmbuf_alloc(Pool());
    rte_pktmbuf_append(m, 64);
    p.a.stack.Send(p.a.conn, m);
    p.Run();
    p.a.stack.Shutdown(p.a.conn);
    p.Run();
    p.Advance(2000);  // TIME_WAIT (1 ms here) ends
  }
  state.SetItemsProcessed(state.iterations());
  // Every iteration must really have carried its request: 64 bytes each.
  state.counters["requests_served"] = static_cast<double>(p.b.received / 64);
}
BENCHMARK(BM_TcpConnection)->MinTime(1.0);

// One 1448-byte segment through one stack, timed alone (the rest of the exchange is not):
//   BM_TcpSegmentOut  Send() of 1448 bytes on an established connection: queueing, building
//                     the segment (header, options, payload copy, checksum) and handing it on
//   BM_TcpSegmentIn   Input() of that segment at the receiver: lookup, checks, delivery to
//                     the user, and the ACK it sends for every second segment
Pair* Established() {
  auto* p = new Pair;
  p->b.reply_64 = false;
  p->a.stack.Connect(p->Key(40001));
  p->Run();
  return p;
}

rte_mbuf* Payload(uint16_t len) {
  rte_mbuf* m = rte_pktmbuf_alloc(Pool());
  if (m) rte_pktmbuf_append(m, len);
  return m;
}

void BM_TcpSegmentOut(benchmark::State& state) {
  Pair* p = Established();
  uint64_t failed = 0;
  for (auto _ : state) {
    rte_mbuf* m = Payload(1448);
    const auto t0 = std::chrono::steady_clock::now();
    const bool ok = p->a.stack.Send(p->a.conn, m);
    const auto t1 = std::chrono::steady_clock::now();
    if (!ok) {
      rte_pktmbuf_free(m);
      ++failed;
    }
    p->Run();
    state.SetIterationTime(std::chrono::duration<double>(t1 - t0).count());
  }
  state.counters["bytes_delivered"] = static_cast<double>(p->b.received);
  state.counters["send_failures"] = static_cast<double>(failed);
  delete p;
}
BENCHMARK(BM_TcpSegmentOut)->UseManualTime()->MinTime(0.5);

void BM_TcpSegmentIn(benchmark::State& state) {
  Pair* p = Established();
  for (auto _ : state) {
    rte_mbuf* m = Payload(1448);
    if (!p->a.stack.Send(p->a.conn, m)) rte_pktmbuf_free(m);
    double seconds = 0;
    while (!p->wire.empty()) {
      auto [to, item] = p->wire.front();
      p->wire.pop_front();
      End& e = to ? p->b : p->a;
      e.stack.SetNow(p->now_us);
      const auto t0 = std::chrono::steady_clock::now();
      e.stack.Input(item.first, item.second);
      if (to)
        seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    state.SetIterationTime(seconds);
  }
  state.counters["bytes_delivered"] = static_cast<double>(p->b.received);
  delete p;
}
BENCHMARK(BM_TcpSegmentIn)->UseManualTime()->MinTime(0.5);

}  // namespace

int main(int argc, char** argv) {
  if (!sluice::testing::StartTestEal("sl-bench-tcp")) return 1;
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  sluice::testing::StopTestEal();
  return 0;
}
