// Slow path. The control plane's side of the TCP proxy: the live state of frontends,
// backends and servers that operators change through the Runtime API (admin state, weights,
// addresses, maxconn, health-check switches), the snapshot built from it for the workers
// (published by RCU on every change, DESIGN.md section 1), and the servers' operational
// state derived from the workers' health-check results. Single-threaded: the control loop.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "controlplane/config/config.h"
#include "controlplane/proxy/rates.h"
#include "dataplane/base/result.h"
#include "dataplane/health/check_status.h"
#include "dataplane/proxy/proxy_model.h"
#include "dataplane/snapshot/snapshot.h"

namespace sluice::cp {

enum class OpState : uint8_t { kDown, kUp, kStopping };

// The live state has one model underneath: the parsed configuration (config::Config, owned by
// ProxyRuntime and never changed after Load). Each *Rt below points at its section of it and
// adds only what the Runtime API changes on top (the operator's overrides, which start as the
// model's values) and the state the control plane derives; everything else is read from the
// model where it is used. Fill() is the build step: model + overrides -> the workers' parts;
// the Runtime API's views (app::ProxyCliControl) read the same model and overrides. A new
// keyword is a keyword table row, a model field, and the line of Fill() (or of the view) that
// consumes it.
struct ServerRt {
  const config::ServerConfig* conf = nullptr;  // name, id, weight, checks' settings, backup...
  uint32_t backend = 0;                        // index in ProxyRuntime::backends()
  // A slot of the backend's room (config::ProxyConfig::slots) holds a server or not: a
  // server `del server` removed, or room `add server` has not used (conf: an empty one).
  bool present = true;
  bool dynamic = false;     // brought by `add server`
  bool fresh = false;       // ... and never out of maintenance since
  uint32_t born_epoch = 0;  // check results of an earlier epoch are the slot's previous server's
  // Overrides: `set server ... addr|check-addr|check-port|weight`, `set maxconn server`.
  net::IpAddr addr;
  uint16_t port = 0;
  net::IpAddr check_addr;
  uint16_t check_port = 0;
  uint32_t uweight = 1;
  uint32_t maxconn = 0;
  // Admin state (HAProxy's SRV_ADMF_*): forced maintenance, the configuration's `disabled`
  // (conf->disabled until `set server ... state ready|drain` clears it), forced drain.
  bool maint = false, cfg_maint = false, drain = false;
  bool check_enabled = false;  // `enable|disable health`; checks exist when conf->check
  // Derived state.
  uint32_t check_epoch = 0;
  uint8_t init_health = 2;
  OpState op = OpState::kUp;
  uint64_t last_change_s = 0;  // monotonic seconds of the last state change
  uint64_t down_since_s = 0;
  uint64_t downtime_s = 0;
  uint64_t down_transitions = 0;

  const std::string& name() const { return conf->name; }
  uint32_t id() const { return conf->id; }  // sid
  bool InMaint() const { return maint || cfg_maint; }
  bool CheckConfigured() const { return conf->check; }
};

struct BackendRt {
  const config::ProxyConfig* conf = nullptr;
  uint32_t first_server = 0, nservers = 0;  // its slots in servers(), present or not
  // Derived state.
  uint64_t last_change_s = 0;
  uint64_t down_since_s = 0;
  uint64_t downtime_s = 0;
  bool was_up = true;

  const std::string& name() const { return conf->name; }
  uint32_t id() const { return conf->id; }
};

struct FrontendRt {
  const config::ProxyConfig* conf = nullptr;
  int backend = -1;  // default_backend (or the listen section itself) as an index in backends()
  // Overrides: `disable|enable frontend`, `shutdown frontend` (for good), `set maxconn
  // frontend`.
  bool enabled = true;
  bool stopped = false;
  uint32_t maxconn = 0;

  const std::string& name() const { return conf->name; }
  uint32_t id() const { return conf->id; }
};

// One configured section in file order: a frontend, a backend, or both (listen).
struct ProxyRt {
  const config::ProxyConfig* conf = nullptr;
  int frontend = -1;  // index in frontends()
  int backend = -1;   // index in backends()

  const std::string& name() const { return conf->name; }
  uint32_t id() const { return conf->id; }
};

// A server state change found in the health-check results, for the log
// ("Server be_app/s1 is DOWN, reason: ..."; the control loop words it).
struct StateChange {
  uint32_t server;  // index in servers()
  bool up;
  check::CheckStatus status;
  uint32_t code;
  uint64_t duration_ms;
  unsigned active, backup;  // usable servers left in the backend
  bool backend_down;        // the backend has no usable server any more
  check::CheckDetail detail = check::CheckDetail::kNone;
  std::string reason;  // L7STS: the answer's reason phrase
};

class ProxyRuntime {
 public:
  // Builds the live state over a copy of the configuration (the model, kept for the
  // process's life); `nworkers` divides maxconn values into per-worker shares.
  void Load(const config::Config& cfg, unsigned nworkers, uint64_t now_s);

  // The build step: the snapshot parts for the workers, from the model and the overrides
  // (generations are the publisher's).
  void Fill(proxy::ProxyConfigSnap* out) const;
  void Fill(proxy::ListenerSnap* out) const;
  // Every bind with its frontend, in listener order (ListenerSnap's bind index).
  template <class F>
  void ForEachBind(F f) const {
    for (uint32_t fi = 0; fi < frontends_.size(); ++fi) {
      for (const config::BindConfig& b : frontends_[fi].conf->binds) f(b, fi, frontends_[fi]);
    }
  }

  // Reads the health-check results in the workers' stats blocks and updates the servers'
  // operational state. Returns true when something changed (publish a new snapshot), with
  // what changed in `changes`.
  bool PollChecks(const std::vector<const proxy::ProxyStats*>& stats, uint64_t now_s,
                  std::vector<StateChange>* changes);

  // Samples the session totals of every frontend, backend and server (call every ~100 ms).
  void SampleRates(const std::vector<const proxy::ProxyStats*>& stats, uint64_t now_ms);
  const RateMeter& frontend_rate(size_t i) const { return fe_rates_[i]; }
  const RateMeter& backend_rate(size_t i) const { return be_rates_[i]; }
  const RateMeter& server_rate(size_t i) const { return srv_rates_[i]; }
  const RateMeter& conn_rate() const { return conn_rate_; }  // every frontend together
  void ClearRateMaxima() {
    for (auto* v : {&fe_rates_, &be_rates_, &srv_rates_}) {
      for (RateMeter& m : *v) m.ClearMax();
    }
    conn_rate_.ClearMax();
  }

  std::vector<ProxyRt>& proxies() { return proxies_; }
  std::vector<FrontendRt>& frontends() { return frontends_; }
  std::vector<BackendRt>& backends() { return backends_; }
  std::vector<ServerRt>& servers() { return servers_; }
  const std::vector<FrontendRt>& frontends() const { return frontends_; }
  const std::vector<BackendRt>& backends() const { return backends_; }
  const std::vector<ServerRt>& servers() const { return servers_; }
  unsigned nworkers() const { return nworkers_; }
  const config::Config& config() const { return *cfg_; }
  // Where a section's logs go (`log global` replaced by the global section's targets) and
  // in which format (log-format, else option tcplog's, else empty: HAProxy's "Connect from"
  // line at accept when there are targets).
  std::vector<std::string> LogTargets(const config::ProxyConfig& p) const;
  static std::string LogFormat(const config::ProxyConfig& p);
  uint32_t global_maxconn = 0;
  // `set rate-limit ... global`: new connections and sessions per second (one and the same
  // in Sluice, so the data plane applies the lower of the two), TLS sessions and compressed
  // bytes per second (kept and shown by `show info`, applied by nothing yet). 0: none.
  uint32_t rate_limit_conn = 0;
  uint32_t rate_limit_sess = 0;
  uint32_t rate_limit_ssl = 0;
  uint64_t rate_limit_compress_bps = 0;
  uint32_t AcceptRateLimit() const {
    if (!rate_limit_conn || !rate_limit_sess) return rate_limit_conn | rate_limit_sess;
    return rate_limit_conn < rate_limit_sess ? rate_limit_conn : rate_limit_sess;
  }

  // Helpers for the Runtime API adapter.
  int FindBackend(const std::string& name) const;
  int FindServer(int backend, const std::string& name) const;  // index in servers()
  int FindFrontend(const std::string& name) const;
  // `add server`: the server in the backend's first free slot, in maintenance with its checks
  // disabled (HAProxy's dynamic servers); its id the smallest one free when it has none.
  // Returns the slot, or HAProxy's error text.
  base::Result<uint32_t> AddServer(uint32_t backend, config::ServerConfig conf, uint64_t now_s);
  // `del server`: the slot is free again.
  void DelServer(uint32_t slot);
  // Restart the checks of a server (health forced to `health`).
  void RestartChecks(ServerRt& s, uint8_t health);
  void SetOp(ServerRt& s, OpState op, uint64_t now_s);

 private:
  std::shared_ptr<const config::Config> cfg_ = std::make_shared<config::Config>();
  std::vector<ProxyRt> proxies_;
  std::vector<FrontendRt> frontends_;
  std::vector<BackendRt> backends_;
  std::vector<ServerRt> servers_;
  std::deque<config::ServerConfig> added_;  // `add server`'s settings (ServerRt::conf)
  std::vector<RateMeter> fe_rates_, be_rates_, srv_rates_;
  RateMeter conn_rate_;
  unsigned nworkers_ = 1;
};

// The workers' share of a total (maxconn and rates): rounded up, 0 stays 0 (unlimited).
inline uint32_t WorkerShare(uint32_t total, unsigned nworkers) {
  return total == 0 ? 0 : (total + nworkers - 1) / nworkers;
}

}  // namespace sluice::cp
