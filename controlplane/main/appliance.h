// The appliance's start-up and shutdown, owned by the control-plane thread (main lcore):
// EAL, the packet pool, ports, the immutable NetConfig, per-worker state, worker launch,
// telemetry, and the reverse on stop.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "controlplane/config/config.h"
#include "controlplane/main/log_writer.h"
#include "controlplane/main/pattern_sync.h"
#include "controlplane/proxy/runtime.h"
#include "controlplane/publish/rcu.h"
#include "controlplane/publish/requests.h"
#include "controlplane/rules/rules_compile.h"
#include "controlplane/tls/cert_store.h"
#include "controlplane/tls/ocsp_store.h"
#include "controlplane/tls/ticket_keys.h"
#include "dataplane/base/result.h"
#include "dataplane/counters/counters.h"
#include "dataplane/lcore/worker.h"
#include "dataplane/net/net.h"

struct rte_mempool;
struct rte_ring;

namespace sluice::app {

// The EAL command line for a configuration (pure; unit-tested). `cpus` is the number of
// CPUs the process may use, `hugepages_free` whether the host has free hugepages.
std::vector<std::string> BuildEalArgs(const config::Config& cfg, unsigned cpus,
                                      bool hugepages_free);

// DPDK's device name for a port's device string: the vdev name before the first ',' or the
// PCI address.
std::string DeviceName(const config::PortConfig& port);

// The control loop's own figures (controlplane/main/main.cc), read by telemetry
// (/sluice/control): iterations, and the longest one's work in microseconds (the time
// spent between two waits, the wait itself excluded). Written by the control thread only.
struct ControlLoopStats {
  std::atomic<uint64_t> loops{0};
  std::atomic<uint64_t> max_us{0};
  void Record(uint64_t us) {
    loops.store(loops.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    if (us > max_us.load(std::memory_order_relaxed)) max_us.store(us, std::memory_order_relaxed);
  }
};

class Appliance {
 public:
  explicit Appliance(config::Config cfg);
  ~Appliance();

  // The compiled rules and their pattern sets (controlplane/rules); before Start.
  void SetRules(rulescp::CompiledRules rules) { rules_ = std::move(rules); }
  base::Result<bool> Start();  // EAL, ports, workers; returns once they run
  void Stop();                 // idempotent

  unsigned workers() const { return nworkers_; }
  const net::NetConfig& net() const { return *net_; }
  const counters::WorkerCounters& counters(unsigned worker) const { return *counters_[worker]; }
  // The packet (mbuf) pool: every buffer the data plane holds comes from it.
  const rte_mempool* pool() const { return pool_; }

  // The snapshot parts a change may touch (dataplane/snapshot/snapshot.h).
  enum Part : unsigned { kProxyPart = 1, kListenersPart = 2, kAllParts = 3 };
  // Publishes a new snapshot root (version = previous + 1) in which the parts named in
  // `parts` are rebuilt from the live state with a new generation and the others are the
  // previous root's; returns the root's version.
  uint64_t PublishSnapshot(unsigned parts = kAllParts);
  // The binds' ticket key files (`show tls-keys`); null before the workers start.
  const tls::TicketKeyStore* ticket_keys() const { return ticket_keys_.get(); }
  // `set ssl tls-key`: rotates `key` (raw bytes) into reference `ref` and publishes the keys
  // (the next handshake uses them). HAProxy's error text, or "".
  std::string SetTicketKey(size_t ref, const std::string& key);
  // The certificate files (`show|set|abort ssl cert`); null before the workers start.
  tls::CertStore* certs() { return certs_.get(); }
  // `commit ssl cert`: the transaction's PEM becomes the file's, every TLS bind's contexts are
  // built again and published (the next handshake serves it).
  tls::CertStore::Answer CommitCert(const std::string& path);
  // `show ssl ocsp-response`; `set ssl ocsp-response` with the decoded response, published to
  // the workers (stapled from the next handshake).
  const tls::OcspStore* ocsp() const { return ocsp_.get(); }
  tls::Answer SetOcspResponse(const std::string& der);
  // Frees snapshots whose grace period has ended; call periodically.
  void Reclaim() { rcu_.Reclaim(); }
  publish::RcuDomain& rcu() { return rcu_; }

  // The proxy's live state (Runtime API commands change it, then call PublishSnapshot).
  cp::ProxyRuntime& proxy() { return proxy_; }
  const cp::ProxyRuntime& proxy() const { return proxy_; }
  // Every worker's proxy statistics block (read with relaxed loads).
  const std::vector<const proxy::ProxyStats*>& proxy_stats() const { return stats_view_; }
  // Periodic work of the control loop: health-check results become server states (a new
  // snapshot when one changed; the changes are logged to stderr as HAProxy does).
  void Poll();
  // Requests to the workers and their replies (controlplane/publish/requests.h).
  publish::RequestHub& requests() { return requests_; }
  const publish::RequestHub& requests() const { return requests_; }
  ControlLoopStats& control_stats() { return control_stats_; }
  // ACL and map references (null without rules) and their carrier to the workers.
  rulescp::PatternStore* patterns() { return rules_.store.get(); }
  PatternSync* pattern_sync() { return pattern_sync_.get(); }
  const ControlLoopStats& control_stats() const { return control_stats_; }
  static constexpr unsigned kRequestDepth = 64;  // requests in flight per worker
  static constexpr unsigned kStickRing = 4096;     // stick messages waiting per worker
  // Seconds since start (monotonic), the clock of state-change times.
  uint64_t NowSeconds() const;
  // The workers' clock (TSC) in microseconds and milliseconds: the time base of their
  // statistics and log records.
  uint64_t NowWorkerUs() const;
  uint64_t NowMilliseconds() const { return NowWorkerUs() / 1000; }

 private:
  base::Result<bool> InitPorts();
  base::Result<bool> InitNetConfig();
  base::Result<bool> InitWorkers();

  config::Config cfg_;
  unsigned nworkers_ = 1;
  bool eal_up_ = false;
  bool launched_ = false;
  std::atomic<bool> stop_{false};
  rte_mempool* pool_ = nullptr;
  std::vector<uint16_t> port_ids_;
  bool multi_seg_tx_ = true;  // every port transmits multi-segment frames
  std::vector<bool> port_started_;
  std::unique_ptr<net::NetConfig> net_;
  std::vector<std::unique_ptr<counters::WorkerCounters>> counters_;
  std::vector<std::unique_ptr<net::NeighbourTable>> neighbours_;
  std::vector<rte_ring*> rings_;
  std::vector<rte_ring*> stick_rings_;  // each worker's stick ring (stick::Msg elements)
  std::vector<std::unique_ptr<lcore::Worker>> workers_;
  std::vector<lcore::ServiceListener> services_;
  publish::RcuDomain rcu_;
  snapshot::SnapshotSlot snapshots_;
  uint64_t snapshot_version_ = 0;
  uint64_t part_generation_ = 0;
  std::shared_ptr<const proxy::ProxyConfigSnap> proxy_part_;
  std::shared_ptr<const proxy::ListenerSnap> listeners_part_;
  std::shared_ptr<const tls::TlsSnap> tls_part_;  // built at start; null: no TLS bind
  std::unique_ptr<tls::TicketKeyStore> ticket_keys_;  // the binds' `tls-ticket-keys` files
  std::unique_ptr<tls::CertStore> certs_;             // the binds' `crt` files, as served
  std::unique_ptr<tls::OcspStore> ocsp_;              // their stapled OCSP responses
  std::vector<tls::BindInput> tls_binds_;             // every bind, in listener order
  std::vector<const config::ServerConfig*> tls_servers_;  // every server, in snapshot order
  cp::ProxyRuntime proxy_;
  LogWriter logs_;
  std::vector<std::unique_ptr<proxy::ProxyStats>> stats_;
  std::vector<const proxy::ProxyStats*> stats_view_;
  publish::RequestHub requests_;
  rulescp::CompiledRules rules_;
  // One table of pattern indexes per worker, built before it starts, then its own.
  std::vector<std::unique_ptr<rules::PatternTable>> pattern_tables_;
  std::unique_ptr<PatternSync> pattern_sync_;
  ControlLoopStats control_stats_;
  uint64_t start_ns_ = 0;
};

// Registers /sluice/... telemetry commands reading `app` (set to nullptr before it dies).
void RegisterTelemetry();
void SetTelemetryTarget(const Appliance* app);

}  // namespace sluice::app
