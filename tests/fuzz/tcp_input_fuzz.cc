// libFuzzer target: a sequence of TCP segments into one worker's TCP stack, which listens on
// port 7 and has one active connection open. The harness fills in each segment's checksum
// so the fuzzer explores the state machine rather than the checksum; keys and time are
// fixed so sequence numbers are reproducible. Invariants: no crash, connections and mbufs
// within their bounds.
#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "dataplane/tcp/tcp.h"
#include "dataplane/tcp/tcp_inl.h"
#include "tests/support/test_eal.h"

namespace {

using namespace sluice;

struct Harness : tcp::SegmentSink, tcp::TcpUser {
  rte_mempool* pool = nullptr;
  counters::WorkerCounters counters;
  tcp::TcpStack stack;
  void SendSegment(rte_mbuf* m, const tcp::FlowKey&) noexcept override { rte_pktmbuf_free(m); }
  void OnAccepted(tcp::ConnId, uint32_t) noexcept override {}
  void OnConnected(tcp::ConnId) noexcept override {}
  void OnData(tcp::ConnId c, rte_mbuf* d, uint32_t len) noexcept override {
    rte_pktmbuf_free(d);
    stack.Consumed(c, len);
  }
  void OnWritable(tcp::ConnId) noexcept override {}
  void OnPeerClosed(tcp::ConnId c) noexcept override { stack.Shutdown(c); }
  void OnClosed(tcp::ConnId, tcp::CloseReason) noexcept override {}
};

Harness* h = nullptr;
uint64_t g_now = 1'000'000;
constexpr uint32_t kMaxConns = 64;

tcp::FlowKey Key(uint16_t remote_port) {
  tcp::FlowKey k;
  k.local_addr[0] = 10;
  k.local_addr[3] = 1;
  k.remote_addr[0] = 10;
  k.remote_addr[3] = 2;
  k.local_port = __builtin_bswap16(7);
  k.remote_port = __builtin_bswap16(remote_port);
  return k;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (!sluice::testing::StartTestEal("sl-fuzz-tcp")) std::abort();
  std::atexit([] { sluice::testing::StopTestEal(); });
  h = new Harness;
  h->pool = rte_pktmbuf_pool_create("fuzz_tcp_pool", 8191, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                    SOCKET_ID_ANY);
  tcp::StackConfig cfg;
  cfg.max_conns = kMaxConns;
  cfg.syn_backlog = 4;  // reach the SYN-cookie path easily
  if (!h->stack.Init("fuzz_tcp", cfg, h, h, h->pool, &h->counters, SOCKET_ID_ANY)) std::abort();
  h->stack.Listen(Key(0), 1);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Input: records of [port byte][len byte][len bytes of TCP segment (header + payload)].
  size_t i = 0;
  while (i + 2 <= size) {
    const uint16_t port = static_cast<uint16_t>(1000 + data[i] % 8);
    const size_t len = data[i + 1];
    i += 2;
    if (i + len > size) break;
    rte_mbuf* m = rte_pktmbuf_alloc(h->pool);
    if (!m) std::abort();
    auto* p = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, static_cast<uint16_t>(len)));
    if (len > 0) std::memcpy(p, data + i, len);
    const tcp::FlowKey key = Key(port);
    if (len >= 20) {
      // Ports and checksum as a real peer would have them.
      std::memcpy(p, &key.remote_port, 2);
      std::memcpy(p + 2, &key.local_port, 2);
      p[16] = p[17] = 0;
      const uint16_t sum =
          tcp::SegmentSum(key.remote_addr, key.local_addr, false, p, static_cast<uint32_t>(len));
      const uint16_t csum = static_cast<uint16_t>(~sum);
      std::memcpy(p + 16, &csum, 2);
    }
    i += len;
    g_now += 7'000;
    h->stack.SetNow(g_now);
    h->stack.Input(m, key);
    h->stack.Tick();
    if (h->stack.connections() > kMaxConns) std::abort();
  }
  // Bounded memory: per connection at most the send ring and the out-of-order queue.
  if (rte_mempool_in_use_count(h->pool) > kMaxConns * (tcp::kOooMax + 8)) std::abort();
  return 0;
}
