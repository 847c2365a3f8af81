// libFuzzer target: one Ethernet frame into a worker's L2/L3 input. The stack must never
// crash, leak an mbuf, or leave a transmit buffer or neighbour table beyond its bound.
#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "dataplane/net/addr_text.h"
#include "dataplane/net/net.h"
#include "tests/support/test_eal.h"

namespace {

using namespace sluice;

struct Harness {
  rte_mempool* pool = nullptr;
  net::NetConfig cfg;
  net::NeighbourTable neigh;
  counters::WorkerCounters counters;
  net::NetStack* stack = nullptr;
  uint64_t now = 1;
};

Harness* h = nullptr;

net::Ipv4Addr V4(const char* s) { return *net::ParseIpv4(s); }
net::Ipv6Addr V6(const char* s) { return *net::ParseIpv6(s); }

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (!sluice::testing::StartTestEal("sl-fuzz")) std::abort();
  std::atexit([] { sluice::testing::StopTestEal(); });
  h = new Harness;
  h->pool =
      rte_pktmbuf_pool_create("fuzz_pool", 4095, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  h->cfg.nports = 2;
  for (unsigned p = 0; p < 2; ++p) {
    net::PortAddrs& pa = h->cfg.ports[p];
    pa.port_id = static_cast<uint16_t>(p);
    pa.mac.b = {0x02, 0, 0, 0, 0, static_cast<uint8_t>(p + 1)};
    pa.n_v4 = 1;
    pa.v4[0] = p == 0 ? V4("10.10.1.1") : V4("10.10.2.1");
    pa.v4_len[0] = 24;
    pa.n_v6 = 1;
    pa.v6[0] = p == 0 ? V6("fd10:1::1") : V6("fd10:2::1");
    pa.v6_len[0] = 64;
  }
  h->cfg.ports[1].vlan = 7;
  h->cfg.port_index_of_id[1] = 1;
  if (!net::CreateRouteTables(h->cfg, "fuzz_rt", SOCKET_ID_ANY) ||
      !net::BuildConnectedRoutes(h->cfg)) {
    std::abort();
  }
  h->cfg.steering = net::FlowSteering(2, 32768, 60999);
  h->cfg.tsc_hz = 1000;
  if (!h->neigh.Init("fuzz_neigh", 32, SOCKET_ID_ANY, net::NeighbourTimes{30000, 1000, 600000})) {
    std::abort();
  }
  h->stack = new net::NetStack(&h->cfg, &h->counters, &h->neigh, h->pool, 0);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > 2000) return 0;
  // First byte: port and whether this is a learn-only copy; the rest is the frame.
  const uint16_t port = data[0] & 1;
  const bool learn_only = (data[0] & 2) != 0;
  rte_mbuf* m = rte_pktmbuf_alloc(h->pool);
  if (!m) std::abort();
  char* p = rte_pktmbuf_append(m, static_cast<uint16_t>(size - 1));
  if (size > 1 && !p) std::abort();
  if (size > 1) std::memcpy(p, data + 1, size - 1);
  h->cfg.steering.OwnerOfFrame(data + 1, static_cast<uint32_t>(size - 1));
  h->now += 100;
  h->stack->SetNow(h->now);
  h->stack->Input(m, port, learn_only);
  h->stack->Tick();
  for (uint16_t q = 0; q < 2; ++q) {
    net::TxBuffer& t = h->stack->tx(q);
    if (t.n > net::kTxBufferSize) std::abort();
    for (uint16_t i = 0; i < t.n; ++i) rte_pktmbuf_free(t.pkts[i]);
    t.n = 0;
  }
  if (h->neigh.size() > h->neigh.capacity()) std::abort();
  // Every mbuf is either freed or parked on a neighbour entry (bounded).
  if (rte_mempool_in_use_count(h->pool) > h->neigh.capacity() * net::kNeighPendingMax) {
    std::abort();
  }
  return 0;
}
