// A worker lcore: the run-to-completion loop (DESIGN.md section 1). Each iteration reports a
// quiescent state, loads the configuration snapshot once (RCU), reads the TSC once, receives a
// burst from its queue on every port, keeps the frames whose flow it owns and hands the others
// to their owner's dispatch ring (DESIGN.md section 2), drains its own ring, runs due timers
// and flushes the transmit buffers.
#pragma once

#include <atomic>
#include <cstdint>

#include "dataplane/check/check.h"
#include "dataplane/conn/conn.h"
#include "dataplane/counters/counters.h"
#include "dataplane/net/net.h"
#include "dataplane/proxy/proxy.h"
#include "dataplane/rules/pattern.h"
#include "dataplane/services/test_services.h"
#include "dataplane/snapshot/snapshot.h"
#include "dataplane/tls/tls.h"

struct rte_ring;
struct rte_rcu_qsbr;
struct rte_mempool;

namespace sluice::lcore {

inline constexpr unsigned kRxBurst = 32;
inline constexpr unsigned kMaxWorkers = 16;

// A TCP test service listener (`service` in the dataplane section).
struct ServiceListener {
  tcp::FlowKey local;  // local address and port; remote fields unused
  services::Kind kind = services::Kind::kNone;
};

struct WorkerSetup {
  uint16_t id = 0;  // worker index, also the rx/tx queue on every port
  uint16_t nworkers = 1;
  const char* name = "sl";  // prefix of the worker's DPDK object names (tables, rings)
  const net::NetConfig* net = nullptr;
  rte_mempool* pool = nullptr;
  counters::WorkerCounters* counters = nullptr;
  net::NeighbourTable* neighbours = nullptr;
  rte_ring* const* rings = nullptr;  // every worker's dispatch ring, indexed by worker
  // Every worker's stick ring (stick::Msg elements, DESIGN.md section 8), indexed by worker;
  // null with one worker.
  rte_ring* const* stick_rings = nullptr;
  rte_rcu_qsbr* qsbr = nullptr;      // reader slot `id`
  const snapshot::SnapshotSlot* snapshots = nullptr;
  unsigned idle_sleep_us = 0;
  const std::atomic<bool>* stop = nullptr;
  tcp::StackConfig tcp;
  const ServiceListener* services = nullptr;
  unsigned nservices = 0;
  uint16_t local_port_min = 32768;  // ports for connections to servers (DESIGN.md section 2)
  uint16_t local_port_max = 60999;
  proxy::ProxyStats* proxy_stats = nullptr;  // this worker's block
  // Request/reply rings (dataplane/base/request.h): the control plane enqueues base::Request
  // pointers on `requests`, the worker carries each out and enqueues it on `replies`. Both
  // single-producer single-consumer; `replies` is at least as large as `requests`, so
  // the worker never finds it full.
  rte_ring* requests = nullptr;
  rte_ring* replies = nullptr;
  // This worker's pattern indexes (ACL values, map keys): built by the control plane before
  // the worker starts, then changed by this worker alone (base::Op::kPatternOps).
  rules::PatternTable* patterns = nullptr;
  const stick::StickSnap* stick = nullptr;  // the stick tables (a shard of each)
};

// Requests carried out per loop iteration at most (each is itself bounded, see
// proxy::kShowSessionsScan).
inline constexpr unsigned kRequestBurst = 4;

class Worker final : public net::L4Handler, public tcp::SegmentSink, public tcp::TcpUser {
 public:
  explicit Worker(const WorkerSetup& setup);
  // Start-up only (allocates the TCP stack's tables): false on failure.
  bool Init();

  // Runs until *stop is set. Entry point for rte_eal_remote_launch.
  void Run() noexcept;
  // One iteration; returns the number of frames handled (tests drive this).
  unsigned PollOnce(uint64_t now_tsc) noexcept;
  net::NetStack& stack() { return stack_; }
  tcp::TcpStack& tcp() { return tcp_; }

  // net::L4Handler and tcp::SegmentSink: the TCP stack sits on the worker's IP layer.
  void TcpInput(rte_mbuf* m, const uint8_t* src, const uint8_t* dst, bool is_v6) noexcept override;
  void SendSegment(rte_mbuf* m, const tcp::FlowKey& key) noexcept override;

  // tcp::TcpUser: events of a TLS connection go to the TLS layer (tls::TlsConns), which
  // passes them on in plaintext; the others to their owner (Route*).
  void OnAccepted(tcp::ConnId c, uint32_t tag) noexcept override;
  void OnConnected(tcp::ConnId c) noexcept override;
  void OnData(tcp::ConnId c, rte_mbuf* data, uint32_t len) noexcept override;
  void OnWritable(tcp::ConnId c) noexcept override;
  void OnPeerClosed(tcp::ConnId c) noexcept override;
  void OnClosed(tcp::ConnId c, tcp::CloseReason why) noexcept override;
  proxy::Proxy& proxy() { return proxy_; }
  // The configuration of this iteration (tests without an RCU domain call it directly).
  void SetSnapshot(const snapshot::Snapshot* snap) noexcept;

 private:
  void Handle(rte_mbuf* m, uint16_t port_index) noexcept;
  unsigned DrainRing() noexcept;
  unsigned ServeRequests() noexcept;
  // slow path: ACL and map changes, applied between bursts (rules::ApplyPatternOps)
  void ApplyPatterns(base::Request& r);
  void Flush() noexcept;
  // Events to the owner conn::Conns names for the connection (proxy sessions, health
  // checks), accepts on the proxy's binds to the proxy, the rest to the test services.
  void RouteAccepted(tcp::ConnId c, uint32_t tag) noexcept;
  void RouteConnected(tcp::ConnId c) noexcept;
  void RouteData(tcp::ConnId c, rte_mbuf* data, uint32_t len) noexcept;
  [[gnu::noinline, gnu::cold]] void IdleSpoke(tcp::ConnId c, rte_mbuf* data) noexcept;
  void RouteWritable(tcp::ConnId c) noexcept;
  void RoutePeerClosed(tcp::ConnId c) noexcept;
  void RouteClosed(tcp::ConnId c, tcp::CloseReason why) noexcept;
  // The owners' side as the TLS layer sees it: Route*.
  class Owners final : public tcp::TcpUser {
   public:
    explicit Owners(Worker* w) : w_(w) {}
    void OnAccepted(tcp::ConnId c, uint32_t tag) noexcept override { w_->RouteAccepted(c, tag); }
    void OnConnected(tcp::ConnId c) noexcept override { w_->RouteConnected(c); }
    void OnData(tcp::ConnId c, rte_mbuf* data, uint32_t len) noexcept override {
      w_->RouteData(c, data, len);
    }
    void OnWritable(tcp::ConnId c) noexcept override { w_->RouteWritable(c); }
    void OnPeerClosed(tcp::ConnId c) noexcept override { w_->RoutePeerClosed(c); }
    void OnClosed(tcp::ConnId c, tcp::CloseReason why) noexcept override {
      w_->RouteClosed(c, why);
    }

   private:
    Worker* w_;
  };

  // The worker's one timer wheel, in DPDK memory. Declared before the modules so it is freed
  // after them: their destructors still cancel their timers.
  struct TimersMemory {
    base::Timers* p = nullptr;
    ~TimersMemory();
  };

  WorkerSetup s_;
  TimersMemory timers_mem_;
  base::Timers* timers_ = nullptr;  // timers_mem_.p once Init ran
  net::NetStack stack_;
  tcp::TcpStack tcp_;
  Owners owners_{this};
  tls::TlsConns tls_;
  services::TestServices services_;
  conn::Conns conns_;
  proxy::Proxy proxy_;
  check::HealthChecks checks_;
  uint64_t tsc_per_us_ = 1;
  uint64_t next_tick_tsc_ = 0;
  uint64_t tick_interval_tsc_ = 0;
};

}  // namespace sluice::lcore
