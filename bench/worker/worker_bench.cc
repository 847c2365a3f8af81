// Slow path, benchmark only: the capacity of one worker, in memory (issue 5, figure 1).
//
// Three hosts share this thread and are joined by DPDK ring ethdevs (net_ring, the real PMD):
//
//   clients (Host: NetStack + TcpStack + a load generator)
//     <-> port 0 | the worker under test (lcore::Worker, the real proxy, 1 frontend,
//                | 1 backend, 4 servers)                                      | port 1 <->
//   backends on 10.2.0.11-14:9000: a second lcore::Worker running the data plane's echo or
//             discard service (TCP workloads), or an HTTP/1.1 server (Host: NetStack +
//             TcpStack) answering every request with 200 and 1 KiB (HTTP workloads)
//
// Only the worker under test is measured: its busy PollOnce calls (those with frames waiting
// on its rx rings) are timed with the TSC and, under callgrind, are the only code whose
// instructions are collected (CALLGRIND_TOGGLE_COLLECT around them; run with
// --collect-atstart=no). Time is virtual (1 us per round) so a run is repeatable.
//
// Workloads (--workload):
//   rr        N established connections; `depth` transactions outstanding, each a 64-byte
//             request and a 64-byte echo, spread over the N connections in turn
//   crr       `depth` slots each connect, send 64 B, read 64 B, close; N - depth idle
//             established connections held open in the background
//   bulk      min(N, 8) connections stream 1448-byte segments one way to the discard
//             service; the other connections idle
//   http_rr   as rr in mode http: `GET / HTTP/1.1` with Host, answered by 200 with
//             Content-Length: 1024 and 1 KiB of body, on kept (keep-alive) connections.
//             The server keeps its connections open: a session's first request opens its
//             own (http-reuse safe), its later ones take the worker's idle pooled ones.
//             The warm-up lasts until every connection has been answered once.
//   http_crr  as crr in mode http: connect, one request with `Connection: close`, read the
//             answer; the proxy closes the client connection (and keeps its TIME_WAIT) and
//             parks the server connection, which no later session may take (each request is
//             its session's first): once the pool is full, the worker resets it instead. The
//             warm-up lasts until the pool first overflowed, so the window is that steady
//             state.
// A transaction of the HTTP workloads is one request and its whole answer. Prints one JSON
// line with the figures. See docs/performance.md.
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <valgrind/callgrind.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/lcore/worker.h"
#include "dataplane/net/net.h"
#include "dataplane/tcp/tcp.h"
#include "tests/support/test_eal.h"

namespace {

using namespace sluice;

constexpr uint16_t kFrontPort = 8080;
constexpr uint16_t kServerPort = 9000;
constexpr unsigned kServers = 4;
constexpr unsigned kClientAddrs = 8;  // 10.1.0.2 .. 10.1.0.9, 64 512 ports each
constexpr uint32_t kRingSize = 1u << 18;
constexpr uint32_t kHttpBody = 1024;  // bytes of body in every HTTP answer
constexpr std::string_view kHttpRequest = "GET / HTTP/1.1\r\nHost: b\r\n\r\n";
constexpr std::string_view kHttpRequestClose =
    "GET / HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n";

enum class Workload { kRr, kCrr, kBulk, kHttpRr, kHttpCrr };
constexpr Workload kWorkloads[] = {Workload::kRr, Workload::kCrr, Workload::kBulk,
                                   Workload::kHttpRr, Workload::kHttpCrr};

const char* WorkloadName(Workload w) {
  switch (w) {
    case Workload::kRr:
      return "rr";
    case Workload::kCrr:
      return "crr";
    case Workload::kBulk:
      return "bulk";
    case Workload::kHttpRr:
      return "http_rr";
    case Workload::kHttpCrr:
      return "http_crr";
  }
  return "?";
}

bool IsHttp(Workload w) { return w == Workload::kHttpRr || w == Workload::kHttpCrr; }
// A connection per transaction (crr, http_crr); else kept connections (rr, http_rr, bulk).
bool IsCrr(Workload w) { return w == Workload::kCrr || w == Workload::kHttpCrr; }
bool IsRr(Workload w) { return w == Workload::kRr || w == Workload::kHttpRr; }

// One byte more of a search for the end of an HTTP head ("\r\n\r\n", RFC 9112 section 2.1):
// the bytes of it matched so far (`matched` below 4).
uint8_t EndOfHeadStep(uint8_t matched, char ch) {
  static constexpr char kEnd[] = "\r\n\r\n";
  if (ch == kEnd[matched]) return static_cast<uint8_t>(matched + 1);
  return ch == '\r' ? 1 : 0;
}

// An HTTP/1.1 answer read from its first byte in any segmentation: its status, its
// Content-Length and the end of its head, then as many body bytes. (The client's side: not
// measured. No chunked bodies or interim answers: the bench's server sends neither.)
struct ResponseScan {
  static constexpr uint8_t kNoMatch = 0xff;
  uint32_t head = 0;       // head bytes seen
  uint32_t length = 0;     // the Content-Length value
  uint32_t body_left = 0;  // body bytes still to come, once the head is in
  uint16_t status = 0;
  uint8_t eoh = 0;         // bytes of the head's end matched
  uint8_t field = 0;       // bytes of "content-length:" matched from the line's start
  bool in_length = false;  // in the Content-Length value
  bool head_done = false;

  // Takes `n` bytes; true when the answer is complete (bytes past its end are ignored).
  bool Feed(const char* p, uint32_t n) {
    static constexpr char kName[] = "content-length:";
    static constexpr uint8_t kNameLen = sizeof kName - 1;
    uint32_t i = 0;
    for (; i < n && !head_done; ++i) {
      const char ch = p[i];
      ++head;
      if (head >= 10 && head <= 12 && ch >= '0' && ch <= '9') {  // "HTTP/1.1 200"
        status = static_cast<uint16_t>(status * 10 + (ch - '0'));
      }
      eoh = EndOfHeadStep(eoh, ch);
      if (ch == '\n') {
        field = 0;
        in_length = false;
      } else if (in_length) {
        if (ch >= '0' && ch <= '9') length = length * 10 + static_cast<uint32_t>(ch - '0');
      } else if (field != kNoMatch) {
        const char lower = ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch - 'A' + 'a') : ch;
        field = lower == kName[field] ? static_cast<uint8_t>(field + 1) : kNoMatch;
        if (field == kNameLen) {
          in_length = true;
          field = kNoMatch;
        }
      }
      if (eoh == 4) {
        head_done = true;
        body_left = length;
      }
    }
    const uint32_t take = std::min(n - i, body_left);
    body_left -= take;
    return head_done && body_left == 0;
  }

  // A received payload: an mbuf chain holding `len` bytes.
  bool Read(const rte_mbuf* m, uint32_t len) {
    bool done = false;
    for (; m && len && !done; m = m->next) {
      const uint32_t n = std::min<uint32_t>(m->data_len, len);
      done = Feed(rte_pktmbuf_mtod(m, const char*), n);
      len -= n;
    }
    return done;
  }
};

struct Options {
  Workload workload = Workload::kRr;
  uint32_t conns = 1;
  uint32_t depth = 0;  // 0: min(conns, 1024) (all but bulk)
  uint64_t transactions = 100'000;
  uint64_t warmup = 10'000;
  uint64_t bulk_bytes = 2'000'000'000;
};

uint32_t V4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return static_cast<uint32_t>(a) | static_cast<uint32_t>(b) << 8 | static_cast<uint32_t>(c) << 16 |
         static_cast<uint32_t>(d) << 24;  // network order in memory
}

double HeapBytes() {
  double total = 0;
  for (unsigned s = 0; s < rte_socket_count(); ++s) {
    rte_malloc_socket_stats st{};
    if (rte_malloc_get_socket_stats(static_cast<int>(rte_socket_id_by_idx(s)), &st) == 0) {
      total += static_cast<double>(st.heap_allocsz_bytes);
    }
  }
  return total;
}

// A ring ethdev pair end: frames tx'd on one end are rx'd on the other.
bool g_multi_seg = true;  // every ring port takes multi-segment frames (zero-copy transmit)

uint16_t MakePort(const char* name, rte_ring* rx, rte_ring* tx, rte_mempool* pool) {
  const int id = rte_eth_from_rings(name, &rx, 1, &tx, 1, static_cast<unsigned>(rte_socket_id()));
  if (id < 0) {
    std::fprintf(stderr, "worker_bench: rte_eth_from_rings %s failed\n", name);
    std::exit(1);
  }
  const auto pid = static_cast<uint16_t>(id);
  rte_eth_conf conf{};
  rte_eth_dev_info info{};
  if (rte_eth_dev_info_get(pid, &info) == 0 &&
      (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS)) {
    conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
  } else {
    g_multi_seg = false;
  }
  if (rte_eth_dev_configure(pid, 1, 1, &conf) != 0 ||
      rte_eth_rx_queue_setup(pid, 0, 1024, rte_socket_id(), nullptr, pool) != 0 ||
      rte_eth_tx_queue_setup(pid, 0, 1024, rte_socket_id(), nullptr) != 0 ||
      rte_eth_dev_start(pid) != 0) {
    std::fprintf(stderr, "worker_bench: cannot start ring port %s\n", name);
    std::exit(1);
  }
  return pid;
}

rte_ring* MakeRing(const char* name) {
  rte_ring* r = rte_ring_create(name, kRingSize, static_cast<int>(rte_socket_id()),
                                RING_F_SP_ENQ | RING_F_SC_DEQ);
  if (!r) {
    std::fprintf(stderr, "worker_bench: ring %s: %s\n", name, rte_strerror(rte_errno));
    std::exit(1);
  }
  return r;
}

// One host's network configuration: a single port with `naddrs` consecutive IPv4 addresses
// from `first` in a /16, and a default route through `gateway`.
std::unique_ptr<net::NetConfig> HostNet(const char* name, uint16_t port_id, uint8_t mac_last,
                                        uint32_t first, unsigned naddrs, uint32_t gateway) {
  auto n = std::make_unique<net::NetConfig>();
  n->nports = 1;
  net::PortAddrs& p = n->ports[0];
  p.port_id = port_id;
  p.mac.b = {0x02, 0x5b, 0, 0, 0, mac_last};
  for (unsigned i = 0; i < naddrs; ++i) {
    const uint32_t host = __builtin_bswap32(first) + i;
    p.v4[p.n_v4].be = __builtin_bswap32(host);
    p.v4_len[p.n_v4++] = 16;
  }
  n->port_index_of_id[port_id] = 0;
  if (!net::CreateRouteTables(*n, name, SOCKET_ID_ANY) || !net::BuildConnectedRoutes(*n)) {
    std::fprintf(stderr, "worker_bench: routes for %s\n", name);
    std::exit(1);
  }
  if (gateway) {
    net::Route r;
    r.port = 0;
    r.has_gateway = true;
    r.gateway.is_v6 = false;
    r.gateway.v4.be = gateway;
    net::IpPrefix any;
    any.addr.is_v6 = false;
    any.length = 0;
    net::AddRoute(*n, any, r);
  }
  n->steering = net::FlowSteering(1, 1024, 65535);
  n->tsc_hz = rte_get_tsc_hz();
  return n;
}

// Everything a lcore::Worker needs besides its NetConfig.
struct WorkerParts {
  std::unique_ptr<net::NetConfig> net;
  std::unique_ptr<counters::WorkerCounters> counters = std::make_unique<counters::WorkerCounters>();
  std::unique_ptr<net::NeighbourTable> neigh = std::make_unique<net::NeighbourTable>();
  std::unique_ptr<proxy::ProxyStats> stats;
  std::vector<lcore::ServiceListener> services;
  rte_ring* ring = nullptr;
  std::unique_ptr<lcore::Worker> worker;

  void Start(const char* name, rte_mempool* pool, uint32_t max_conns, bool with_proxy) {
    const uint64_t hz = net->tsc_hz;
    const std::string nn = std::string(name) + "_n";
    if (!neigh->Init(nn.c_str(), 1024, SOCKET_ID_ANY,
                     net::NeighbourTimes{3600 * hz, hz, 7200 * hz})) {
      std::fprintf(stderr, "worker_bench: neighbour table\n");
      std::exit(1);
    }
    const std::string rn = std::string(name) + "_d";
    ring = rte_ring_create(rn.c_str(), 1024, SOCKET_ID_ANY, RING_F_SC_DEQ);
    lcore::WorkerSetup s;
    s.id = 0;
    s.nworkers = 1;
    s.name = name;
    s.net = net.get();
    s.pool = pool;
    s.counters = counters.get();
    s.neighbours = neigh.get();
    s.rings = &ring;
    s.tcp.max_conns = max_conns;
    s.tcp.isn_key = tcp::SipKey{0x1234, 0x5678};
    s.tcp.cookie_key = tcp::SipKey{0x9abc, 0xdef0};
    s.tcp.zero_copy_tx = g_multi_seg;  // as the appliance decides it
    s.services = services.data();
    s.nservices = static_cast<unsigned>(services.size());
    s.local_port_min = 1024;
    s.local_port_max = 65535;
    if (with_proxy) {
      stats = std::make_unique<proxy::ProxyStats>();
      s.proxy_stats = stats.get();
    }
    worker = std::make_unique<lcore::Worker>(s);
    if (!worker->Init()) {
      std::fprintf(stderr, "worker_bench: %s: worker Init failed (memory? raise -m)\n", name);
      std::exit(1);
    }
  }
};

// A host of the bench besides the workers: one port, its own IP layer and TCP stack; the
// subclass is the stack's user.
class Host : public net::L4Handler, public tcp::SegmentSink, public tcp::TcpUser {
 public:
  void SetNow(uint64_t tsc, uint64_t us) {
    ip_.SetNow(tsc);
    tcp_.SetNow(us);
  }

  void Flush() {
    net::TxBuffer& t = ip_.tx(0);
    if (t.n == 0) return;
    const uint16_t sent = rte_eth_tx_burst(net_cfg_->ports[0].port_id, 0, t.pkts, t.n);
    for (uint16_t i = sent; i < t.n; ++i) {
      ++tx_drops;
      rte_pktmbuf_free(t.pkts[i]);
    }
    t.n = 0;
  }

  // net::L4Handler, tcp::SegmentSink
  void TcpInput(rte_mbuf* m, const uint8_t* src, const uint8_t* dst, bool is_v6) noexcept override {
    tcp::FlowKey key;
    std::memcpy(key.local_addr, dst, 4);
    std::memcpy(key.remote_addr, src, 4);
    key.is_v6 = is_v6;
    const auto* h = rte_pktmbuf_mtod(m, const uint8_t*);
    std::memcpy(&key.remote_port, h, 2);
    std::memcpy(&key.local_port, h + 2, 2);
    tcp_.Input(m, key);
  }
  void SendSegment(rte_mbuf* m, const tcp::FlowKey& key) noexcept override {
    ip_.OutputL4(m, IPPROTO_TCP, key.local_addr, key.remote_addr, key.is_v6 != 0);
  }

  tcp::TcpStack& tcp() { return tcp_; }
  uint64_t tx_drops = 0;

 protected:
  // `name`: the prefix of the host's DPDK object names.
  Host(const char* name, std::unique_ptr<net::NetConfig> cfg, rte_mempool* pool,
       const tcp::StackConfig& c)
      : net_cfg_(std::move(cfg)),
        counters_(std::make_unique<counters::WorkerCounters>()),
        neigh_(std::make_unique<net::NeighbourTable>()),
        pool_(pool),
        ip_(net_cfg_.get(), counters_.get(), neigh_.get(), pool, 0) {
    const uint64_t hz = net_cfg_->tsc_hz;
    const std::string nn = std::string(name) + "_n";
    neigh_->Init(nn.c_str(), 1024, SOCKET_ID_ANY, net::NeighbourTimes{3600 * hz, hz, 7200 * hz});
    const std::string tn = std::string(name) + "_tcp";
    if (!tcp_.Init(tn.c_str(), c, this, this, pool, counters_.get(), SOCKET_ID_ANY)) {
      std::fprintf(stderr, "worker_bench: %s: TCP stack Init failed\n", name);
      std::exit(1);
    }
    ip_.SetL4(this);
  }
  ~Host() = default;

  // The frames waiting on the port into the stacks, then the TCP timers due; returns the
  // number of frames.
  unsigned Receive() {
    unsigned handled = 0;
    rte_mbuf* pkts[64];
    const uint16_t port = net_cfg_->ports[0].port_id;
    for (;;) {
      const uint16_t n = rte_eth_rx_burst(port, 0, pkts, 64);
      for (uint16_t i = 0; i < n; ++i) ip_.Input(pkts[i], 0, false);
      handled += n;
      if (n < 64) break;
    }
    tcp_.Tick();
    return handled;
  }

  // Neighbour upkeep every 10 000 polls (10 ms of virtual time), then the frames out.
  void Transmit() {
    if (++polls_ % 10'000 == 0) ip_.Tick();
    Flush();
  }

  std::unique_ptr<net::NetConfig> net_cfg_;
  std::unique_ptr<counters::WorkerCounters> counters_;
  std::unique_ptr<net::NeighbourTable> neigh_;
  rte_mempool* pool_;
  net::NetStack ip_;
  tcp::TcpStack tcp_;

 private:
  uint64_t polls_ = 0;
};

tcp::StackConfig ClientStack(uint32_t max_conns) {
  tcp::StackConfig c;
  c.max_conns = max_conns;
  c.time_wait_ms = 1;  // a load generator recycles its ports at once
  c.isn_key = tcp::SipKey{1, 2};
  c.cookie_key = tcp::SipKey{3, 4};
  return c;
}

// The client host, driving the load.
class Clients final : public Host {
 public:
  Clients(std::unique_ptr<net::NetConfig> cfg, rte_mempool* pool, uint32_t max_conns)
      : Host("bw_cli", std::move(cfg), pool, ClientStack(max_conns)) {
    conns_.resize(max_conns + 1);
  }

  // Per connection id.
  struct Conn {
    bool open = false;
    bool busy = false;      // a request outstanding
    bool idle = false;      // a background connection
    bool stream = false;    // bulk sender
    bool answered = false;  // a transaction completed on it
    uint32_t got = 0;       // response bytes of the outstanding request
    ResponseScan rsp;       // HTTP: the outstanding request's answer
  };

  unsigned Poll() {
    const unsigned handled = Receive();
    Generate();
    Transmit();
    return handled;
  }

  // Opens a connection to the frontend from the next free source port.
  tcp::ConnId Open() {
    for (unsigned tries = 0; tries < 65536u * kClientAddrs; ++tries) {
      next_port_ = next_port_ >= 65535 ? 1024 : next_port_ + 1;
      if (next_port_ == 1024) next_addr_ = (next_addr_ + 1) % kClientAddrs;
      tcp::FlowKey k;
      const uint32_t src = V4(10, 1, 0, static_cast<uint8_t>(2 + next_addr_));
      const uint32_t dst = V4(10, 1, 0, 1);
      std::memcpy(k.local_addr, &src, 4);
      std::memcpy(k.remote_addr, &dst, 4);
      k.local_port = __builtin_bswap16(next_port_);
      k.remote_port = __builtin_bswap16(kFrontPort);
      if (tcp_.InUse(k)) continue;
      const tcp::ConnId c = tcp_.Connect(k);
      if (c != tcp::kNoConn) ++opening;
      return c;
    }
    return tcp::kNoConn;
  }

  // 64 bytes (TCP workloads) or an HTTP request, `Connection: close` for http_crr.
  bool SendRequest(tcp::ConnId c) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    if (!m) return false;
    if (IsHttp(workload)) {
      const std::string_view r = IsCrr(workload) ? kHttpRequestClose : kHttpRequest;
      std::memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(r.size())), r.data(), r.size());
    } else {
      std::memset(rte_pktmbuf_append(m, 64), 'q', 64);
    }
    if (!tcp_.Send(c, m)) {
      rte_pktmbuf_free(m);
      return false;
    }
    conns_[c].busy = true;
    conns_[c].got = 0;
    conns_[c].rsp = ResponseScan{};
    return true;
  }

  // Load generation after each poll: rr keeps `depth` requests outstanding over the
  // connections in turn; crr keeps `depth` connections in progress; bulk fills the streams.
  void Generate() {
    if (!running) return;
    if (IsRr(workload)) {
      while (outstanding < depth && !ids_.empty()) {
        bool sent = false;
        for (size_t k = 0; k < ids_.size() && !sent; ++k) {
          cursor_ = (cursor_ + 1) % ids_.size();
          const tcp::ConnId c = ids_[cursor_];
          if (!conns_[c].busy && SendRequest(c)) {
            ++outstanding;
            sent = true;
          }
        }
        if (!sent) break;
      }
    } else if (IsCrr(workload)) {
      // At most 256 new connections per round: the client's transmit buffer holds 512.
      for (unsigned n = 0; in_progress < depth && n < 256; ++n) {
        if (Open() == tcp::kNoConn) break;
        ++in_progress;
      }
    } else {
      for (tcp::ConnId c : streams_) FillStream(c);
    }
  }

  void FillStream(tcp::ConnId c) {
    while (tcp_.SendSpace(c) >= 1448) {
      rte_mbuf* m = rte_pktmbuf_alloc(pool_);
      if (!m) return;
      rte_pktmbuf_append(m, 1448);
      if (!tcp_.Send(c, m)) {
        rte_pktmbuf_free(m);
        return;
      }
    }
    tcp_.WantWritable(c);
  }

  // tcp::TcpUser
  void OnAccepted(tcp::ConnId, uint32_t) noexcept override {}
  void OnConnected(tcp::ConnId c) noexcept override {
    --opening;
    conns_[c] = Conn{};
    conns_[c].open = true;
    ++established;
    if (IsCrr(workload) && running) {
      SendRequest(c);
      return;
    }
    ids_.push_back(c);
  }
  void OnData(tcp::ConnId c, rte_mbuf* data, uint32_t len) noexcept override {
    Conn& k = conns_[c];
    bool done = false;
    if (IsHttp(workload)) {
      done = k.busy && k.rsp.Read(data, len);
    } else {
      k.got += len;
      done = k.busy && k.got >= 64;
    }
    rte_pktmbuf_free(data);
    tcp_.Consumed(c, len);
    if (!done) return;
    k.busy = false;
    ++transactions;
    if (IsHttp(workload) && k.rsp.status != 200) ++errors;
    if (!k.answered) {
      k.answered = true;
      ++answered;
    }
    if (IsCrr(workload) && running) {
      // TCP: the client closes. HTTP: the proxy does after its answer (Connection: close),
      // and OnPeerClosed closes this side.
      if (!IsHttp(workload)) tcp_.Shutdown(c);
      return;
    }
    --outstanding;
  }
  void OnWritable(tcp::ConnId c) noexcept override {
    if (conns_[c].stream) FillStream(c);
  }
  void OnPeerClosed(tcp::ConnId c) noexcept override { tcp_.Shutdown(c); }
  void OnClosed(tcp::ConnId c, tcp::CloseReason why) noexcept override {
    // HTTP: a connection closed with its request unanswered is an error too.
    if (why != tcp::CloseReason::kNormal || (IsHttp(workload) && conns_[c].busy)) ++errors;
    if (!conns_[c].open) --opening;
    const bool was_open = conns_[c].open;
    conns_[c] = Conn{};
    if (IsCrr(workload) && running) {
      if (in_progress) --in_progress;
      return;
    }
    if (was_open) ++closed_early;
  }

  void MakeStreams(unsigned n) {
    for (unsigned i = 0; i < n && i < ids_.size(); ++i) {
      conns_[ids_[i]].stream = true;
      streams_.push_back(ids_[i]);
    }
  }

  Workload workload = Workload::kRr;
  bool running = false;
  uint32_t depth = 1;
  uint32_t outstanding = 0;
  uint32_t in_progress = 0;
  int64_t opening = 0;
  uint64_t established = 0;
  uint64_t answered = 0;  // connections on which a transaction completed
  uint64_t transactions = 0;
  uint64_t errors = 0;
  uint64_t closed_early = 0;

 private:
  std::vector<Conn> conns_;
  std::vector<tcp::ConnId> ids_;  // established connections, in order
  std::vector<tcp::ConnId> streams_;
  size_t cursor_ = 0;
  uint16_t next_port_ = 1023;
  unsigned next_addr_ = 0;
};

tcp::StackConfig ServerStack(uint32_t max_conns) {
  tcp::StackConfig c;
  c.max_conns = max_conns;
  c.isn_key = tcp::SipKey{5, 6};
  c.cookie_key = tcp::SipKey{7, 8};
  // Answers go out copied, one frame each, as a NIC delivers them to the worker (zero-copy
  // would hand the worker the server's mbuf chains through the ring).
  c.zero_copy_tx = false;
  return c;
}

// The backend host of the HTTP workloads: an HTTP/1.1 server on 10.2.0.11-14:9000 (the data
// plane has no HTTP service) that answers every request head with 200, Content-Length: 1024
// and 1 KiB of body, in order, and keeps the connection for the next request as an HTTP/1.1
// server does; it closes when its peer does (the worker's idle pool keeps or resets it).
class HttpServers final : public Host {
 public:
  HttpServers(std::unique_ptr<net::NetConfig> cfg, rte_mempool* pool, uint32_t max_conns)
      : Host("bw_hsrv", std::move(cfg), pool, ServerStack(max_conns)) {
    response_ = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(kHttpBody) + "\r\n\r\n";
    response_.append(kHttpBody, 'x');
    for (unsigned i = 0; i < kServers; ++i) {
      tcp::FlowKey k;
      const uint32_t a = V4(10, 2, 0, static_cast<uint8_t>(11 + i));
      std::memcpy(k.local_addr, &a, 4);
      k.local_port = __builtin_bswap16(kServerPort);
      if (!tcp_.Listen(k, i)) {
        std::fprintf(stderr, "worker_bench: HTTP server cannot listen\n");
        std::exit(1);
      }
    }
    conns_.resize(max_conns + 1);
  }

  unsigned Poll() {
    const unsigned handled = Receive();
    Transmit();
    return handled;
  }

  // tcp::TcpUser
  void OnAccepted(tcp::ConnId c, uint32_t) noexcept override {
    conns_[c] = Conn{};
    ++accepted;
  }
  void OnConnected(tcp::ConnId) noexcept override {}
  void OnData(tcp::ConnId c, rte_mbuf* data, uint32_t len) noexcept override {
    Conn& k = conns_[c];
    uint32_t left = len;
    for (const rte_mbuf* m = data; m && left; m = m->next) {
      const uint32_t n = std::min<uint32_t>(m->data_len, left);
      const char* p = rte_pktmbuf_mtod(m, const char*);
      for (uint32_t i = 0; i < n; ++i) {
        k.eoh = EndOfHeadStep(k.eoh, p[i]);
        if (k.eoh == 4) {  // a request head (GET: no body): one answer owed
          k.eoh = 0;
          ++k.owed;
          ++requests;
        }
      }
      left -= n;
    }
    rte_pktmbuf_free(data);
    tcp_.Consumed(c, len);
    Answer(c);
  }
  void OnWritable(tcp::ConnId c) noexcept override { Answer(c); }
  void OnPeerClosed(tcp::ConnId c) noexcept override { tcp_.Shutdown(c); }
  void OnClosed(tcp::ConnId c, tcp::CloseReason why) noexcept override {
    if (why != tcp::CloseReason::kNormal) ++resets;  // e.g. the worker's idle pool was full
    conns_[c] = Conn{};
  }

  uint64_t accepted = 0;
  uint64_t requests = 0;
  uint64_t resets = 0;

 private:
  struct Conn {
    uint32_t owed = 0;  // answers not yet queued
    uint8_t eoh = 0;    // bytes of a head's end matched
  };

  void Answer(tcp::ConnId c) {
    Conn& k = conns_[c];
    while (k.owed) {
      // Room in the transmit buffer (512 frames) for the answer's frame.
      if (ip_.tx(0).n + 8u > net::kTxBufferSize) Flush();
      rte_mbuf* m = rte_pktmbuf_alloc(pool_);
      if (!m) return;
      char* p = rte_pktmbuf_append(m, static_cast<uint16_t>(response_.size()));
      if (!p) {
        rte_pktmbuf_free(m);
        return;
      }
      std::memcpy(p, response_.data(), response_.size());
      if (!tcp_.Send(c, m)) {
        rte_pktmbuf_free(m);
        tcp_.WantWritable(c);
        return;
      }
      --k.owed;
    }
  }

  std::string response_;
  std::vector<Conn> conns_;
};

// The proxy configuration under test: frontend 10.1.0.1:8080 -> backend of 4 servers,
// round robin, HAProxy's usual 30 s client and server timeouts, no logs, no checks. `http`:
// both in mode http, with the defaults option http-keep-alive and http-reuse safe.
std::unique_ptr<snapshot::Snapshot> ProxySnapshot(bool http) {
  auto snap = std::make_unique<snapshot::Snapshot>();
  snap->version = 1;
  auto part = std::make_shared<proxy::ProxyConfigSnap>();
  part->generation = 1;
  proxy::ProxyConfigSnap& p = *part;
  proxy::FrontendSnap fe;
  fe.backend = 0;
  fe.client_ms = 30'000;
  fe.http = http;
  fe.conn_mode = proxy::HttpConnMode::kKeepAlive;
  p.frontends.push_back(fe);
  proxy::BackendSnap be;
  be.algo = proxy::Algo::kRoundRobin;
  be.first_server = 0;
  be.nservers = kServers;
  be.server_ms = 30'000;
  be.connect_ms = 5'000;
  be.http = http;
  be.conn_mode = proxy::HttpConnMode::kKeepAlive;
  be.reuse = proxy::HttpReuse::kSafe;
  p.backends.push_back(be);
  for (unsigned i = 0; i < kServers; ++i) {
    proxy::ServerSnap s;
    const uint32_t a = V4(10, 2, 0, static_cast<uint8_t>(11 + i));
    std::memcpy(s.addr, &a, 4);
    s.port = kServerPort;
    p.servers.push_back(s);
  }
  proxy::BindSnap b;
  const uint32_t fa = V4(10, 1, 0, 1);
  std::memcpy(b.local.local_addr, &fa, 4);
  b.local.local_port = __builtin_bswap16(kFrontPort);
  auto listeners = std::make_shared<proxy::ListenerSnap>();
  listeners->generation = 2;
  listeners->binds[listeners->nbinds++] = b;
  snap->proxy = std::move(part);
  snap->listeners = std::move(listeners);
  return snap;
}

bool ParseArgs(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto value = [&](uint64_t* out) {
      if (i + 1 >= argc) return false;
      *out = std::strtoull(argv[++i], nullptr, 10);
      return true;
    };
    uint64_t v = 0;
    if (a == "--workload" && i + 1 < argc) {
      const std::string_view w = argv[++i];
      bool known = false;
      for (const Workload k : kWorkloads) {
        if (w == WorkloadName(k)) {
          o->workload = k;
          known = true;
        }
      }
      if (!known) return false;
    } else if (a == "--conns" && value(&v)) {
      o->conns = static_cast<uint32_t>(v);
    } else if (a == "--depth" && value(&v)) {
      o->depth = static_cast<uint32_t>(v);
    } else if (a == "--transactions" && value(&v)) {
      o->transactions = v;
    } else if (a == "--warmup" && value(&v)) {
      o->warmup = v;
    } else if (a == "--bytes" && value(&v)) {
      o->bulk_bytes = v;
    } else {
      return false;
    }
  }
  return o->conns >= 1 && o->transactions >= 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  if (!ParseArgs(argc, argv, &opt)) {
    std::fprintf(stderr,
                 "usage: bench_worker --workload rr|crr|bulk|http_rr|http_crr [--conns N]\n"
                 "                    [--depth D] [--transactions T] [--warmup W] [--bytes B]\n");
    return 2;
  }
  const uint32_t depth = opt.workload == Workload::kBulk
                             ? std::min(opt.conns, 8u)
                             : (opt.depth ? opt.depth : std::min(opt.conns, 1024u));
  const bool http = IsHttp(opt.workload);
  // Memory: every connection table is preallocated, about 32 KiB per pair in all (three
  // hosts, mbufs); 100 000 pairs need about 3.5 GiB. HTTP: the server host also holds the
  // connections parked in the worker's idle pool (below), about 1 KiB more per pair.
  const uint64_t pairs = opt.conns + (IsCrr(opt.workload) ? depth : 0);
  const uint64_t kib_per_pair = http ? 34 : 32;
  const std::string mem_mb = std::to_string(1024 + pairs * kib_per_pair / 1024);
  if (!testing::StartTestEal("sl-bench-worker", mem_mb.c_str())) return 1;

  const uint32_t nmbufs = static_cast<uint32_t>(pairs * 4 + 32767);
  rte_mempool* pool =
      rte_pktmbuf_pool_create("bw_pool", nmbufs, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  if (!pool) {
    std::fprintf(stderr, "worker_bench: mbuf pool: %s\n", rte_strerror(rte_errno));
    return 1;
  }
  rte_ring* c2w = MakeRing("bw_c2w");
  rte_ring* w2c = MakeRing("bw_w2c");
  rte_ring* s2w = MakeRing("bw_s2w");
  rte_ring* w2s = MakeRing("bw_w2s");
  const uint16_t p_cli = MakePort("bw_cli", w2c, c2w, pool);
  const uint16_t p_w0 = MakePort("bw_w0", c2w, w2c, pool);
  const uint16_t p_w1 = MakePort("bw_w1", s2w, w2s, pool);
  const uint16_t p_srv = MakePort("bw_srv", w2s, s2w, pool);

  // The worker under test: port 0 faces the clients, port 1 the servers.
  WorkerParts w;
  w.net = std::make_unique<net::NetConfig>();
  {
    net::NetConfig& n = *w.net;
    n.nports = 2;
    n.ports[0].port_id = p_w0;
    n.ports[0].mac.b = {0x02, 0x5b, 0, 0, 0, 1};
    n.ports[0].v4[0].be = V4(10, 1, 0, 1);
    n.ports[0].v4_len[0] = 16;
    n.ports[0].n_v4 = 1;
    n.ports[1].port_id = p_w1;
    n.ports[1].mac.b = {0x02, 0x5b, 0, 0, 0, 2};
    n.ports[1].v4[0].be = V4(10, 2, 0, 1);
    n.ports[1].v4_len[0] = 16;
    n.ports[1].n_v4 = 1;
    n.port_index_of_id[p_w0] = 0;
    n.port_index_of_id[p_w1] = 1;
    if (!net::CreateRouteTables(n, "bw_w_routes", SOCKET_ID_ANY) || !net::BuildConnectedRoutes(n)) {
      return 1;
    }
    n.steering = net::FlowSteering(1, 1024, 65535);
    n.tsc_hz = rte_get_tsc_hz();
  }
  // Slack for TIME_WAIT entries and a load factor the cuckoo hash inserts into easily.
  const uint32_t worker_conns = static_cast<uint32_t>(2 * pairs + 4096 + pairs / 4);
  const double heap_before = HeapBytes();
  w.Start("bw_w", pool, worker_conns, true);
  const double worker_heap = HeapBytes() - heap_before;

  // The backend host: a second worker running the echo or discard service, or the HTTP
  // server. The HTTP server's table also holds what the worker's idle pool keeps open (a
  // quarter of the worker's table at most: lcore::Worker sizes the pool so).
  WorkerParts s;
  std::unique_ptr<HttpServers> hs;
  auto server_net = HostNet("bw_s_routes", p_srv, 3, V4(10, 2, 0, 11), kServers, 0);
  if (http) {
    hs = std::make_unique<HttpServers>(std::move(server_net), pool,
                                       static_cast<uint32_t>(pairs + 4096 + worker_conns / 4));
  } else {
    s.net = std::move(server_net);
    for (unsigned i = 0; i < kServers; ++i) {
      lcore::ServiceListener l;
      const uint32_t a = V4(10, 2, 0, static_cast<uint8_t>(11 + i));
      std::memcpy(l.local.local_addr, &a, 4);
      l.local.local_port = __builtin_bswap16(kServerPort);
      l.kind = opt.workload == Workload::kBulk ? services::Kind::kDiscard : services::Kind::kEcho;
      s.services.push_back(l);
    }
    s.Start("bw_s", pool, static_cast<uint32_t>(pairs + 4096), false);
  }
  counters::WorkerCounters* const backend_counters = hs ? &hs->tcp().counters() : s.counters.get();

  Clients cli(HostNet("bw_c_routes", p_cli, 4, V4(10, 1, 0, 2), kClientAddrs, V4(10, 1, 0, 1)),
              pool, static_cast<uint32_t>(pairs + 4096));
  cli.workload = opt.workload;

  const auto snap = ProxySnapshot(http);
  w.worker->SetSnapshot(snap.get());

  // Virtual time: 1 us per round.
  const uint64_t hz = rte_get_tsc_hz();
  const uint64_t tsc_per_us = hz / 1'000'000;
  uint64_t now_us = 1'000'000;
  uint64_t busy_cycles = 0, busy_polls = 0;
  bool measuring = false;
  unsigned handled = 1;
  auto poll_worker = [&]() {
    const bool busy = rte_ring_count(c2w) + rte_ring_count(s2w) > 0;
    handled += busy;
    if (measuring && busy) {
      CALLGRIND_TOGGLE_COLLECT;
      const uint64_t t0 = rte_rdtsc_precise();
      w.worker->PollOnce(now_us * tsc_per_us);
      busy_cycles += rte_rdtsc_precise() - t0;
      CALLGRIND_TOGGLE_COLLECT;
      ++busy_polls;
    } else {
      w.worker->PollOnce(now_us * tsc_per_us);
    }
  };
  // A round in which nothing moved is followed by a jump of 1 ms (the timers' resolution)
  // so that waits for timers (retransmissions, TIME_WAIT) cost no idle rounds.
  auto round = [&]() {
    now_us += handled ? 1 : 1000;
    cli.SetNow(now_us * tsc_per_us, now_us);
    handled = cli.Poll();
    poll_worker();
    if (hs) {
      hs->SetNow(now_us * tsc_per_us, now_us);
      handled += hs->Poll();
    } else {
      handled += s.worker->PollOnce(now_us * tsc_per_us);
    }
    poll_worker();
  };

  // Establish the connections (idle background ones for crr and bulk too), 512 at a time.
  const uint64_t to_open =
      IsCrr(opt.workload) ? (opt.conns > depth ? opt.conns - depth : 0) : opt.conns;
  uint64_t opened = 0;
  uint64_t guard = 0;
  round();  // every host's clock set before the first connect
  while (cli.established < to_open) {
    while (opened < to_open && cli.opening < 512) {
      if (cli.Open() == tcp::kNoConn) break;
      ++opened;
    }
    round();
    if (++guard > 5'000'000) {
      std::fprintf(stderr, "worker_bench: only %lu of %lu connections established\n",
                   static_cast<unsigned long>(cli.established),
                   static_cast<unsigned long>(to_open));
      return 1;
    }
  }
  while (handled) round();  // until nothing moves: the handshakes to the servers are done
  const uint32_t sessions = w.worker->proxy().sessions();
  const unsigned in_use_idle = rte_mempool_in_use_count(pool);

  cli.depth = depth;
  if (opt.workload == Workload::kBulk) cli.MakeStreams(depth);
  cli.running = true;
  const auto bytes_in = [&]() { return w.stats->frontends[0].bin.Get(); };
  const auto reuses = [&]() {  // HTTP: streams given a pooled server connection
    uint64_t n = 0;
    for (unsigned i = 0; i < kServers; ++i) n += w.stats->servers[i].reuse.Get();
    return n;
  };

  // Warm-up, then the measured window.
  if (opt.workload == Workload::kBulk) {
    const uint64_t until = bytes_in() + opt.warmup * 1448;
    while (bytes_in() < until) round();
  } else {
    const uint64_t until = cli.transactions + opt.warmup;
    while (cli.transactions < until) round();
  }
  if (opt.workload == Workload::kHttpRr) {
    // Until every kept connection was answered once: a session's first request opens its
    // own server connection (http-reuse safe), its later ones take pooled ones.
    const uint64_t bound = cli.transactions + 4 * uint64_t{opt.conns};
    while (cli.answered < cli.established && cli.transactions < bound) round();
  } else if (opt.workload == Workload::kHttpCrr) {
    // Until the idle pool first overflowed: from then on every server connection is reset
    // when its stream ends (each parks one that no later session takes).
    const uint64_t bound = cli.transactions + worker_conns;
    while (w.counters->Get(counters::Counter::conn_idle_pool_full) == 0 &&
           cli.transactions < bound) {
      round();
    }
  }
  measuring = true;
  const uint64_t t_start = cli.transactions;
  const uint64_t b_start = bytes_in();
  const uint64_t r_start = reuses();
  const uint64_t v_start = now_us;
  if (opt.workload == Workload::kBulk) {
    while (bytes_in() - b_start < opt.bulk_bytes) round();
  } else {
    while (cli.transactions - t_start < opt.transactions) round();
  }
  measuring = false;
  const uint64_t txns = cli.transactions - t_start;
  const uint64_t bytes = bytes_in() - b_start;
  const uint64_t reused = reuses() - r_start;
  const double busy_ns = static_cast<double>(busy_cycles) * 1e9 / static_cast<double>(hz);
  const double mbuf_elt =
      static_cast<double>(pool->elt_size + pool->header_size + pool->trailer_size);

  const char* wl = WorkloadName(opt.workload);
  std::printf(
      "{\"workload\":\"%s\",\"conns\":%u,\"depth\":%u,\"transactions\":%lu,\"bytes\":%lu,"
      "\"busy_ns\":%.0f,\"busy_polls\":%lu,\"ns_per_txn\":%.1f,\"gbps\":%.3f,"
      "\"sessions\":%u,\"worker_table_bytes\":%.0f,\"worker_max_conns\":%u,"
      "\"idle_mbufs\":%u,\"mbuf_bytes\":%.0f,\"client_errors\":%lu,\"client_closed_early\":%lu,"
      "\"tx_drops\":%lu,\"virtual_us\":%lu,\"tcp_retrans_segs\":%lu,"
      "\"worker_drops\":%lu,\"backend_drops\":%lu,\"reused\":%lu}\n",
      wl, opt.conns, depth, static_cast<unsigned long>(txns), static_cast<unsigned long>(bytes),
      busy_ns, static_cast<unsigned long>(busy_polls),
      txns ? busy_ns / static_cast<double>(txns) : 0.0,
      busy_ns > 0 ? static_cast<double>(bytes) * 8 / busy_ns : 0.0, sessions, worker_heap,
      worker_conns, in_use_idle, mbuf_elt, static_cast<unsigned long>(cli.errors),
      static_cast<unsigned long>(cli.closed_early), static_cast<unsigned long>(cli.tx_drops),
      static_cast<unsigned long>(now_us - v_start),
      static_cast<unsigned long>(w.counters->Get(counters::Counter::tcp_retrans_segs)),
      static_cast<unsigned long>(w.counters->DropsTotal()),
      static_cast<unsigned long>(backend_counters->DropsTotal()),
      static_cast<unsigned long>(reused));
  if (std::getenv("BENCH_WORKER_COUNTERS")) {  // every non-zero counter of the three hosts
    const counters::WorkerCounters* all[] = {w.counters.get(), backend_counters,
                                             &cli.tcp().counters()};
    const char* names[] = {"worker", "backend", "client"};
    for (int h = 0; h < 3; ++h) {
      for (size_t i = 0; i < counters::kNumCounters; ++i) {
        if (!all[h]->Get(i)) continue;
        const std::string_view n = counters::kCounterInfo[i].name;
        std::fprintf(stderr, "%s %.*s %lu\n", names[h], static_cast<int>(n.size()), n.data(),
                     static_cast<unsigned long>(all[h]->Get(i)));
      }
    }
    if (hs) {
      std::fprintf(stderr, "http_server accepted %lu requests %lu resets %lu\n",
                   static_cast<unsigned long>(hs->accepted),
                   static_cast<unsigned long>(hs->requests),
                   static_cast<unsigned long>(hs->resets));
    }
  }
  std::fflush(stdout);
  // The EAL's memory goes with the process; only its runtime directory needs removing.
  std::error_code ec;
  std::filesystem::remove_all(testing::TestEalRuntimeDir(), ec);
  std::_Exit(0);
}
