#include "dataplane/lcore/worker.h"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include <rte_ring.h>
#include <cstdio>
#include <cstring>
#include <new>

namespace sluice::lcore {

using counters::Counter;

namespace {
// Marks a dispatched copy of an ARP/ND frame that the receiver only learns from. The field
// is ours from rx to the ring: the receiving worker sets it before every enqueue.
constexpr uint32_t kDispatchFlow = 0;
constexpr uint32_t kDispatchLearn = 1;
constexpr unsigned kIdleLoopsBeforeSleep = 256;
}  // namespace

Worker::Worker(const WorkerSetup& setup)
    : s_(setup), stack_(setup.net, setup.counters, setup.neighbours, setup.pool, setup.id) {
  tick_interval_tsc_ = s_.net->tsc_hz / 100;  // 10 ms
  tsc_per_us_ = s_.net->tsc_hz / 1'000'000 ? s_.net->tsc_hz / 1'000'000 : 1;
}

Worker::TimersMemory::~TimersMemory() {
  if (p) {
    p->~TimerWheel();
    rte_free(p);
  }
}

bool Worker::Init() {
  char name[32];
  std::snprintf(name, sizeof name, "%s_timers%u", s_.name, s_.id);
  void* wmem = rte_zmalloc_socket(name, sizeof(base::Timers), 64, SOCKET_ID_ANY);
  if (!wmem) return false;
  timers_ = timers_mem_.p = new (wmem) base::Timers(0);
  std::snprintf(name, sizeof name, "%s_tcp%u", s_.name, s_.id);
  if (!tcp_.Init(name, s_.tcp, this, this, s_.pool, s_.counters, SOCKET_ID_ANY, timers_)) {
    return false;
  }
  std::snprintf(name, sizeof name, "%s_svc%u", s_.name, s_.id);
  if (!services_.Init(name, &tcp_, s_.pool, s_.tcp.max_conns, SOCKET_ID_ANY)) return false;
  for (unsigned i = 0; i < s_.nservices; ++i) {
    services_.SetKind(i, s_.services[i].kind);
    if (!tcp_.Listen(s_.services[i].local, i)) return false;
  }
  stack_.SetL4(this);
  conn::Conns::Setup cs;
  cs.worker = s_.id;
  cs.nworkers = s_.nworkers;
  cs.local_port_min = s_.local_port_min;
  cs.local_port_max = s_.local_port_max;
  cs.max_conns = s_.tcp.max_conns;
  cs.idle_conns = s_.tcp.max_conns / 4;  // idle server connections kept for reuse
  cs.nservers = proxy::kMaxServers;
  std::snprintf(name, sizeof name, "%s_conns%u", s_.name, s_.id);
  if (!conns_.Init(name, cs, &tcp_, &stack_, SOCKET_ID_ANY)) return false;
  tls::TlsConns::Setup ts;
  ts.pool = s_.pool;
  ts.worker = s_.id;
  ts.max_conns = s_.tcp.max_conns;
  std::snprintf(name, sizeof name, "%s_tls%u", s_.name, s_.id);
  if (!tls_.Init(name, ts, &tcp_, &owners_, timers_, SOCKET_ID_ANY)) return false;
  conns_.SetTls(&tls_);
  if (s_.proxy_stats) {
    proxy::Proxy::Setup ps;
    ps.pool = s_.pool;
    ps.worker = s_.id;
    ps.nworkers = s_.nworkers;
    ps.max_conns = s_.tcp.max_conns;
    ps.stats = s_.proxy_stats;
    ps.timers = timers_;
    ps.patterns = s_.patterns;
    ps.stick = s_.stick;
    ps.stick_rings = s_.stick_rings;
    ps.steering = &s_.net->steering;
    std::snprintf(name, sizeof name, "%s_proxy%u", s_.name, s_.id);
    if (!proxy_.Init(name, ps, &conns_, SOCKET_ID_ANY)) return false;
    check::HealthChecks::Setup hs;
    hs.worker = s_.id;
    hs.stats = s_.proxy_stats;
    hs.pool = s_.pool;
    hs.timers = timers_;
    std::snprintf(name, sizeof name, "%s_checks%u", s_.name, s_.id);
    if (!checks_.Init(name, hs, &conns_, SOCKET_ID_ANY)) return false;
  }
  return true;
}

void Worker::SetSnapshot(const snapshot::Snapshot* snap) noexcept {
  if (!s_.proxy_stats) return;
  tls_.SetConfig(snap ? snap->tls.get() : nullptr);
  if (!snap) {
    checks_.SetConfig(nullptr);
    return proxy_.SetConfig(nullptr, nullptr, 0);
  }
  proxy_.SetConfig(snap->proxy.get(), snap->listeners.get(), snap->version);
  proxy_.SetRules(snap->rules.get());
  checks_.SetConfig(snap->proxy.get());
}

// The TCP stack's events: a connection the TLS layer terminates goes through it (which calls
// the owners, Route*, with plaintext), every other one straight to its owner.
void Worker::OnAccepted(tcp::ConnId c, uint32_t tag) noexcept {
  if (tag >= proxy::kBindTagBase && tls_.Terminates(tag - proxy::kBindTagBase)) [[unlikely]] {
    if (!tls_.Accept(c, tag, tag - proxy::kBindTagBase)) tcp_.Abort(c);
    return;
  }
  RouteAccepted(c, tag);
}

void Worker::OnConnected(tcp::ConnId c) noexcept {
  if (tls_.Is(c)) [[unlikely]] return tls_.OnConnected(c);
  RouteConnected(c);
}

void Worker::OnData(tcp::ConnId c, rte_mbuf* data, uint32_t len) noexcept {
  if (tls_.Is(c)) [[unlikely]] return tls_.OnData(c, data, len);
  RouteData(c, data, len);
}

void Worker::OnWritable(tcp::ConnId c) noexcept {
  if (tls_.Is(c)) [[unlikely]] return tls_.OnWritable(c);
  RouteWritable(c);
}

void Worker::OnPeerClosed(tcp::ConnId c) noexcept {
  if (tls_.Is(c)) [[unlikely]] return tls_.OnPeerClosed(c);
  RoutePeerClosed(c);
}

void Worker::OnClosed(tcp::ConnId c, tcp::CloseReason why) noexcept {
  if (tls_.Is(c)) [[unlikely]] return tls_.OnClosed(c, why);
  RouteClosed(c, why);
}

void Worker::RouteAccepted(tcp::ConnId c, uint32_t tag) noexcept {
  if (tag >= proxy::kBindTagBase) return proxy_.OnAccepted(c, tag);
  services_.OnAccepted(c, tag);
}

// Events go by the connection's role (conn::Conns): proxy sessions first, the common case.
void Worker::RouteConnected(tcp::ConnId c) noexcept {
  const conn::Role r = conns_.RoleOf(c);
  if (conn::Conns::IsSession(r)) return proxy_.OnConnected(c);
  if (r == conn::kCheck) return checks_.OnConnected(c);
  services_.OnConnected(c);
}

void Worker::RouteData(tcp::ConnId c, rte_mbuf* data, uint32_t len) noexcept {
  const conn::Role r = conns_.RoleOf(c);
  if (conn::Conns::IsSession(r)) return proxy_.OnData(c, data, len);
  if (r == conn::kCheck) return checks_.OnData(c, data, len);
  if (r == conn::kIdle) return IdleSpoke(c, data);
  if (r == conn::kClosing) {  // what a connection we closed still sends is dropped
    rte_pktmbuf_free(data);
    return conns_.Consumed(c, len);
  }
  services_.OnData(c, data, len);
}

// An idle server connection may not speak: what it sent is dropped, and the connection too.
void Worker::IdleSpoke(tcp::ConnId c, rte_mbuf* data) noexcept {
  rte_pktmbuf_free(data);
  conns_.OnIdleEvent(c, false);
}

void Worker::RouteWritable(tcp::ConnId c) noexcept {
  const conn::Role r = conns_.RoleOf(c);
  if (conn::Conns::IsSession(r)) return proxy_.OnWritable(c);
  if (r == conn::kCheck || r == conn::kIdle || r == conn::kClosing) return;
  services_.OnWritable(c);
}

void Worker::RoutePeerClosed(tcp::ConnId c) noexcept {
  const conn::Role r = conns_.RoleOf(c);
  if (conn::Conns::IsSession(r)) return proxy_.OnPeerClosed(c);
  if (r == conn::kCheck) return checks_.OnPeerClosed(c);
  if (r == conn::kIdle) return conns_.OnIdleEvent(c, false);
  if (r == conn::kClosing) return;  // our FIN went first: the close completes by itself
  services_.OnPeerClosed(c);
}

void Worker::RouteClosed(tcp::ConnId c, tcp::CloseReason why) noexcept {
  const conn::Role r = conns_.RoleOf(c);
  if (conn::Conns::IsSession(r)) return proxy_.OnClosed(c, why);
  if (r == conn::kCheck) return checks_.OnClosed(c, why);
  if (r == conn::kIdle) return conns_.OnIdleEvent(c, true);
  if (r == conn::kClosing) return conns_.Detach(c);
  services_.OnClosed(c, why);
}

void Worker::ApplyPatterns(base::Request& r) {
  r.status = base::ReplyStatus::kOk;
  r.done = true;
  if (!s_.patterns) return;
  rules::ApplyPatternOps(*s_.patterns, reinterpret_cast<rules::PatternOp*>(r.payload),
                         static_cast<uint32_t>(r.arg));
  r.count = static_cast<uint32_t>(r.arg);
}

unsigned Worker::ServeRequests() noexcept {
  if (!s_.requests) return 0;
  void* reqs[kRequestBurst];
  const unsigned n = rte_ring_dequeue_burst(s_.requests, reqs, kRequestBurst, nullptr);
  for (unsigned i = 0; i < n; ++i) {
    auto* r = static_cast<base::Request*>(reqs[i]);
    if (r->op == base::Op::kPatternOps) {
      ApplyPatterns(*r);
    } else {
      proxy_.Serve(*r);
    }
    s_.counters->Inc(counters::Counter::requests_served);
    // Cannot fail: the control plane keeps fewer requests in flight than `replies` holds.
    if (rte_ring_enqueue(s_.replies, r) != 0) s_.counters->Inc(counters::Counter::requests_lost);
  }
  return n;
}

void Worker::TcpInput(rte_mbuf* m, const uint8_t* src, const uint8_t* dst, bool is_v6) noexcept {
  tcp::FlowKey key;
  const unsigned n = is_v6 ? 16 : 4;
  std::memcpy(key.local_addr, dst, n);
  std::memcpy(key.remote_addr, src, n);
  key.is_v6 = is_v6;
  if (m->data_len >= 4) {
    const auto* h = rte_pktmbuf_mtod(m, const uint8_t*);
    std::memcpy(&key.remote_port, h, 2);
    std::memcpy(&key.local_port, h + 2, 2);
  }
  tcp_.Input(m, key);
}

void Worker::SendSegment(rte_mbuf* m, const tcp::FlowKey& key) noexcept {
  stack_.OutputL4(m, IPPROTO_TCP, key.local_addr, key.remote_addr, key.is_v6 != 0);
}

void Worker::Handle(rte_mbuf* m, uint16_t port_index) noexcept {
  const uint16_t owner =
      s_.net->steering.OwnerOfFrame(rte_pktmbuf_mtod(m, const uint8_t*), m->data_len);
  if (owner == s_.id || owner == net::kOwnerLocal || s_.nworkers == 1) {
    return stack_.Input(m, port_index, false);
  }
  if (owner == net::kOwnerAll) {
    for (uint16_t w = 0; w < s_.nworkers; ++w) {
      if (w == s_.id) continue;
      rte_mbuf* copy = rte_pktmbuf_copy(m, s_.pool, 0, UINT32_MAX);
      if (!copy) {
        s_.counters->Inc(Counter::out_drop_no_mbuf);
        continue;
      }
      copy->port = m->port;
      copy->hash.usr = kDispatchLearn;
      if (rte_ring_enqueue(s_.rings[w], copy) != 0) {
        s_.counters->Inc(Counter::dispatch_drop_ring_full);
        rte_pktmbuf_free(copy);
        continue;
      }
      s_.counters->Inc(Counter::dispatch_learn_out);
    }
    return stack_.Input(m, port_index, false);
  }
  m->hash.usr = kDispatchFlow;
  if (rte_ring_enqueue(s_.rings[owner], m) != 0) {
    s_.counters->Inc(Counter::dispatch_drop_ring_full);
    rte_pktmbuf_free(m);
    return;
  }
  s_.counters->Inc(Counter::dispatch_out);
}

unsigned Worker::DrainRing() noexcept {
  rte_mbuf* pkts[kRxBurst];
  const unsigned n =
      rte_ring_dequeue_burst(s_.rings[s_.id], reinterpret_cast<void**>(pkts), kRxBurst, nullptr);
  for (unsigned i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    const uint16_t port_index = s_.net->port_index_of_id[m->port];
    if (m->hash.usr == kDispatchLearn) {
      s_.counters->Inc(Counter::dispatch_learn_in);
      stack_.Input(m, port_index, true);
      continue;
    }
    s_.counters->Inc(Counter::dispatch_in);
    const uint16_t owner =
        s_.net->steering.OwnerOfFrame(rte_pktmbuf_mtod(m, const uint8_t*), m->data_len);
    if (owner != s_.id) s_.counters->Inc(Counter::owner_mismatch);
    stack_.Input(m, port_index, false);
  }
  return n;
}

void Worker::Flush() noexcept {
  for (unsigned p = 0; p < s_.net->nports; ++p) {
    net::TxBuffer& t = stack_.tx(static_cast<uint16_t>(p));
    if (t.n == 0) continue;
    const uint16_t sent = rte_eth_tx_burst(s_.net->ports[p].port_id, s_.id, t.pkts, t.n);
    s_.counters->Add(Counter::tx_packets, sent);
    for (uint16_t i = sent; i < t.n; ++i) {
      s_.counters->Inc(Counter::out_drop_tx_full);
      rte_pktmbuf_free(t.pkts[i]);
    }
    t.n = 0;
  }
}

unsigned Worker::PollOnce(uint64_t now_tsc) noexcept {
  stack_.SetNow(now_tsc);
  tcp_.SetNow(now_tsc / tsc_per_us_);
  unsigned handled = 0;
  for (unsigned p = 0; p < s_.net->nports; ++p) {
    rte_mbuf* pkts[kRxBurst];
    const uint16_t n = rte_eth_rx_burst(s_.net->ports[p].port_id, s_.id, pkts, kRxBurst);
    s_.counters->Add(Counter::rx_packets, n);
    for (uint16_t i = 0; i < n; ++i) Handle(pkts[i], static_cast<uint16_t>(p));
    handled += n;
    Flush();
  }
  if (s_.nworkers > 1) handled += DrainRing();
  if (s_.stick_rings) handled += proxy_.PollStick();
  // Every module's due timers, in expiry order (1 ms ticks of the TCP clock).
  timers_->Advance(tcp_.now_us() / 1000, [this](base::TimerNode* n) {
    switch (n->owner) {
      case base::kTimerTcp:
        return tcp_.OnTimer(n);
      case base::kTimerSession:
        return proxy_.OnTimer(n);
      case base::kTimerCheck:
        return checks_.OnTimer(n);
      case base::kTimerStick:
        return proxy_.OnStickTimer(n);
      case base::kTimerTls:
        return tls_.OnTimer(n);
      case base::kTimerNone:
        return;
    }
  });
  const uint64_t req_start = rte_rdtsc();
  if (const unsigned served = ServeRequests()) {
    handled += served;
    const uint64_t took = rte_rdtsc() - req_start;
    if (took > s_.counters->Get(Counter::requests_cycles_max)) {
      s_.counters->Set(Counter::requests_cycles_max, took);
    }
  }
  if (now_tsc >= next_tick_tsc_) {
    stack_.Tick();
    if (conns_.HasIdle()) conns_.PurgeIdle();
    next_tick_tsc_ = now_tsc + tick_interval_tsc_;
  }
  if (s_.stick_rings) proxy_.FlushStick();
  Flush();
  return handled;
}

void Worker::Run() noexcept {
  unsigned idle_loops = 0;
  if (s_.qsbr) {
    rte_rcu_qsbr_thread_register(s_.qsbr, s_.id);
    rte_rcu_qsbr_thread_online(s_.qsbr, s_.id);
  }
  while (!s_.stop->load(std::memory_order_relaxed)) {
    // Nothing loaded in the previous iteration is used any more: a quiescent state. Then the
    // snapshot this iteration works with.
    if (s_.qsbr) rte_rcu_qsbr_quiescent(s_.qsbr, s_.id);
    if (s_.snapshots) {
      const snapshot::Snapshot* snap = s_.snapshots->Load();
      s_.counters->Set(Counter::snapshot_version, snap ? snap->version : 0);
      SetSnapshot(snap);
    }
    const uint64_t start = rte_rdtsc();
    const unsigned handled = PollOnce(start);
    s_.counters->Inc(Counter::loops);
    if (handled) {
      idle_loops = 0;
      s_.counters->Inc(Counter::busy_loops);
      const uint64_t took = rte_rdtsc() - start;
      s_.counters->Add(Counter::busy_cycles, took);
      if (took > s_.counters->Get(Counter::busy_cycles_max)) {
        s_.counters->Set(Counter::busy_cycles_max, took);
      }
      continue;
    }
    // Idle: on a shared machine (CI, the TAP testbed) `idle-sleep` gives the core back.
    // A production appliance leaves it at 0 and polls.
    if (s_.idle_sleep_us && ++idle_loops >= kIdleLoopsBeforeSleep) {
      rte_delay_us_sleep(s_.idle_sleep_us);
    }
  }
  if (s_.qsbr) {
    rte_rcu_qsbr_thread_offline(s_.qsbr, s_.id);
    rte_rcu_qsbr_thread_unregister(s_.qsbr, s_.id);
  }
}

}  // namespace sluice::lcore
