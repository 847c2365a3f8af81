#include "controlplane/proxy/runtime.h"

#include "controlplane/log/log.h"

#include <cstring>

#include "dataplane/net/addr_text.h"

namespace sluice::cp {

namespace {

// Keep-alive settings for the workers: Linux's defaults where the file left them out
// (tcp_keepalive_time 7200 s, tcp_keepalive_intvl 75 s, tcp_keepalive_probes 9).
proxy::KeepaliveSnap ToKeepaliveSnap(const config::ProxyConfig::Keepalive& k) {
  proxy::KeepaliveSnap s;
  if (!k.on) return s;
  s.idle_ms = k.idle_ms ? k.idle_ms : 7'200'000;
  s.intvl_ms = k.intvl_ms ? k.intvl_ms : 75'000;
  s.cnt = static_cast<uint8_t>(k.cnt ? k.cnt : 9);
  return s;
}

// A section's `log` lines with `log global` replaced by the global ones.
std::vector<std::string> ExpandLogs(const std::vector<std::string>& logs,
                                    const std::vector<std::string>& global) {
  std::vector<std::string> out;
  for (const std::string& l : logs) {
    if (l == "global") {
      out.insert(out.end(), global.begin(), global.end());
    } else {
      out.push_back(l);
    }
  }
  return out;
}

}  // namespace

void ProxyRuntime::Load(const config::Config& cfg, unsigned nworkers, uint64_t now_s) {
  nworkers_ = nworkers ? nworkers : 1;
  global_maxconn = cfg.global.maxconn.value_or(0);
  std::vector<int> backend_of_proxy(cfg.proxies.size(), -1);
  for (size_t pi = 0; pi < cfg.proxies.size(); ++pi) {
    const config::ProxyConfig& p = cfg.proxies[pi];
    ProxyRt pr;
    pr.name = p.name;
    pr.id = p.id;
    if (p.HasBackend()) {
      BackendRt b;
      b.name = p.name;
      b.id = p.id;
      b.first_server = static_cast<uint32_t>(servers_.size());
      b.nservers = static_cast<uint32_t>(p.servers.size());
      b.algo = p.balance;
      b.connect_ms = p.timeout_connect_ms;
      b.server_ms = p.timeout_server_ms;
      b.queue_ms = p.timeout_queue_ms;
      b.tunnel_ms = p.timeout_tunnel_ms;
      b.check_ms = p.timeout_check_ms;
      b.retries = p.retries;
      b.redispatch = p.redispatch;
      b.tcpka = p.srvtcpka;
      b.httpchk = p.httpchk;
      b.httpchk_request =
          p.httpchk_method + " " + p.httpchk_uri + " " + p.httpchk_version + "\r\n\r\n";
      for (const unsigned code : p.expect_status) b.expect_status.Add(code);
      b.last_change_s = now_s;
      b.log_targets = ExpandLogs(p.logs, cfg.global.logs);
      const auto bi = static_cast<uint32_t>(backends_.size());
      for (const config::ServerConfig& sc : p.servers) {
        ServerRt s;
        s.name = sc.name;
        s.id = sc.id;
        s.backend = bi;
        s.addr = sc.addr;
        s.port = sc.port;
        s.check_addr = sc.check_addr.value_or(sc.addr);
        s.check_port = sc.check_port.value_or(sc.port);
        s.uweight = s.iweight = sc.weight;
        s.maxconn = sc.maxconn;
        s.backup = sc.backup;
        s.cfg_maint = sc.disabled;
        s.check_configured = s.check_enabled = sc.check;
        s.inter_ms = sc.inter_ms ? sc.inter_ms : 2000;
        s.fastinter_ms = sc.fastinter_ms ? sc.fastinter_ms : s.inter_ms;
        s.downinter_ms = sc.downinter_ms ? sc.downinter_ms : s.inter_ms;
        s.rise = sc.rise ? sc.rise : 1;
        s.fall = sc.fall ? sc.fall : 1;
        s.init_health = static_cast<uint8_t>(s.rise);
        s.last_change_s = now_s;
        s.file = sc.file;
        s.line = sc.line;
        servers_.push_back(std::move(s));
      }
      pr.backend = static_cast<int>(bi);
      backend_of_proxy[pi] = pr.backend;
      backends_.push_back(std::move(b));
    }
    if (p.HasFrontend()) {
      FrontendRt f;
      f.name = p.name;
      f.id = p.id;
      f.enabled = !p.disabled;
      f.stopped = p.disabled;
      f.maxconn = p.maxconn;
      f.client_ms = p.timeout_client_ms;
      f.tcpka = p.clitcpka;
      f.binds = p.binds;
      f.log_targets = ExpandLogs(p.logs, cfg.global.logs);
      f.log_format = !p.log_format.empty() ? p.log_format
                     : p.tcplog            ? std::string(log::kTcpLogFormat)
                                           : "";
      pr.frontend = static_cast<int>(frontends_.size());
      frontends_.push_back(std::move(f));
    }
    proxies_.push_back(std::move(pr));
  }
  fe_rates_.resize(frontends_.size());
  be_rates_.resize(backends_.size());
  srv_rates_.resize(servers_.size());
  // default_backend indices name config proxies: map them to backends.
  for (size_t pi = 0; pi < cfg.proxies.size(); ++pi) {
    const int fi = proxies_[pi].frontend;
    if (fi < 0) continue;
    const int target = cfg.proxies[pi].default_backend_index;
    if (target >= 0 && static_cast<size_t>(target) < backend_of_proxy.size()) {
      frontends_[fi].backend = backend_of_proxy[target];
    } else if (proxies_[pi].backend >= 0) {
      frontends_[fi].backend = proxies_[pi].backend;  // a listen section
    }
  }
}

static_assert(config::kMaxBinds == tcp::kMaxListeners);

void ProxyRuntime::Fill(proxy::ListenerSnap* out) const {
  out->nbinds = 0;
  for (uint32_t fi = 0; fi < frontends_.size(); ++fi) {
    const FrontendRt& f = frontends_[fi];
    for (const config::BindConfig& b : f.binds) {
      proxy::BindSnap bs;
      if (!b.any) net::ToBytes(b.addr, bs.local.local_addr);
      bs.local.is_v6 = b.addr.is_v6;
      bs.local.local_port = __builtin_bswap16(b.port);  // network order
      bs.frontend = fi;
      bs.open = f.enabled && !f.stopped;
      if (out->nbinds < tcp::kMaxListeners) out->binds[out->nbinds++] = bs;
    }
  }
}

void ProxyRuntime::Fill(proxy::ProxyConfigSnap* out) const {
  out->global_maxconn = WorkerShare(global_maxconn, nworkers_);
  out->rate_limit_cps = WorkerShare(rate_limit_cps, nworkers_);
  out->frontends.clear();
  out->backends.clear();
  out->servers.clear();
  for (const FrontendRt& f : frontends_) {
    proxy::FrontendSnap fs;
    fs.backend = f.backend < 0 ? UINT32_MAX : static_cast<uint32_t>(f.backend);
    fs.maxconn = WorkerShare(f.maxconn, nworkers_);
    fs.client_ms = f.client_ms;
    fs.ka = ToKeepaliveSnap(f.tcpka);
    fs.log = f.log_targets.empty()  ? proxy::LogMode::kNone
             : f.log_format.empty() ? proxy::LogMode::kConnect
                                    : proxy::LogMode::kSession;
    out->frontends.push_back(fs);
  }
  for (const BackendRt& b : backends_) {
    proxy::BackendSnap bs;
    bs.algo = b.algo;
    bs.first_server = b.first_server;
    bs.nservers = b.nservers;
    bs.connect_ms = b.connect_ms;
    bs.server_ms = b.server_ms;
    bs.queue_ms = b.queue_ms;
    bs.tunnel_ms = b.tunnel_ms;
    bs.check_ms = b.check_ms;
    bs.retries = static_cast<uint8_t>(b.retries > 255 ? 255 : b.retries);
    bs.redispatch = b.redispatch;
    bs.ka = ToKeepaliveSnap(b.tcpka);
    bs.httpchk = b.httpchk;
    bs.expect_status = b.expect_status;
    const size_t n = b.httpchk_request.size() < sizeof bs.httpchk_request
                         ? b.httpchk_request.size()
                         : sizeof bs.httpchk_request;
    std::memcpy(bs.httpchk_request, b.httpchk_request.data(), n);
    bs.httpchk_request_len = static_cast<uint16_t>(n);
    out->backends.push_back(bs);
  }
  for (size_t i = 0; i < servers_.size(); ++i) {
    const ServerRt& s = servers_[i];
    proxy::ServerSnap ss;
    ss.backend = s.backend;
    net::ToBytes(s.addr, ss.addr);
    ss.is_v6 = s.addr.is_v6;
    ss.port = s.port;
    ss.weight = s.uweight;
    ss.iweight = s.iweight;
    ss.maxconn = WorkerShare(s.maxconn, nworkers_);
    ss.usable = !s.InMaint() && !s.drain && s.op == OpState::kUp;
    ss.backup = s.backup;
    ss.check = s.check_configured && s.check_enabled;
    net::ToBytes(s.check_addr, ss.check_addr);
    ss.check_port = s.check_port;
    ss.inter_ms = s.inter_ms;
    ss.fastinter_ms = s.fastinter_ms;
    ss.downinter_ms = s.downinter_ms;
    ss.rise = static_cast<uint8_t>(s.rise);
    ss.fall = static_cast<uint8_t>(s.fall);
    ss.check_worker = static_cast<uint16_t>(i % nworkers_);
    ss.check_epoch = s.check_epoch;
    ss.init_health = s.init_health;
    out->servers.push_back(ss);
  }
}

void ProxyRuntime::SetOp(ServerRt& s, OpState op, uint64_t now_s) {
  if (s.op == op) return;
  if (op == OpState::kDown) {
    s.down_since_s = now_s;
    ++s.down_transitions;
  } else if (s.op == OpState::kDown) {
    s.downtime_s += now_s - s.down_since_s;
  }
  s.op = op;
  s.last_change_s = now_s;
}

void ProxyRuntime::RestartChecks(ServerRt& s, uint8_t health) {
  ++s.check_epoch;
  s.init_health = health;
}

bool ProxyRuntime::PollChecks(const std::vector<const proxy::ProxyStats*>& stats, uint64_t now_s,
                              std::vector<StateChange>* changes) {
  bool changed = false;
  for (size_t i = 0; i < servers_.size() && i < proxy::kMaxServers; ++i) {
    ServerRt& s = servers_[i];
    if (!s.check_configured || !s.check_enabled) continue;
    const size_t w = i % nworkers_;
    if (w >= stats.size() || !stats[w]) continue;
    const proxy::ServerStats& ss = stats[w]->servers[i];
    if (ss.check_epoch.Get() != s.check_epoch) continue;  // not started with these settings
    const OpState now_op = ss.check_up.Get() ? OpState::kUp : OpState::kDown;
    if (now_op == s.op || (s.op == OpState::kStopping && now_op == OpState::kUp)) continue;
    SetOp(s, now_op, now_s);
    changed = true;
    BackendRt& b = backends_[s.backend];
    unsigned active = 0, backup = 0;
    for (uint32_t k = b.first_server; k < b.first_server + b.nservers; ++k) {
      const ServerRt& o = servers_[k];
      if (o.op == OpState::kUp && !o.InMaint()) ++(o.backup ? backup : active);
    }
    const bool up = active + backup > 0;
    changes->push_back(StateChange{static_cast<uint32_t>(i), now_op == OpState::kUp,
                                   static_cast<check::CheckStatus>(ss.check_status.Get()),
                                   static_cast<uint32_t>(ss.check_code.Get()),
                                   ss.check_duration_ms.Get(), active, backup, b.was_up && !up});
    if (b.was_up && !up) {
      b.down_since_s = now_s;
      b.last_change_s = now_s;
    } else if (!b.was_up && up) {
      b.downtime_s += now_s - b.down_since_s;
      b.last_change_s = now_s;
    }
    b.was_up = up;
  }
  return changed;
}

void ProxyRuntime::SampleRates(const std::vector<const proxy::ProxyStats*>& stats,
                               uint64_t now_ms) {
  uint64_t all = 0;
  for (size_t i = 0; i < fe_rates_.size() && i < proxy::kMaxFrontends; ++i) {
    uint64_t t = 0;
    for (const auto* st : stats) t += st->frontends[i].tot.Get();
    fe_rates_[i].Sample(t, now_ms);
    all += t;
  }
  conn_rate_.Sample(all, now_ms);
  for (size_t i = 0; i < be_rates_.size() && i < proxy::kMaxBackends; ++i) {
    uint64_t t = 0;
    for (const auto* st : stats) t += st->backends[i].tot.Get();
    be_rates_[i].Sample(t, now_ms);
  }
  for (size_t i = 0; i < srv_rates_.size() && i < proxy::kMaxServers; ++i) {
    uint64_t t = 0;
    for (const auto* st : stats) t += st->servers[i].tot.Get();
    srv_rates_[i].Sample(t, now_ms);
  }
}

int ProxyRuntime::FindBackend(const std::string& name) const {
  for (size_t i = 0; i < backends_.size(); ++i) {
    if (backends_[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

int ProxyRuntime::FindServer(int backend, const std::string& name) const {
  if (backend < 0) return -1;
  const BackendRt& b = backends_[backend];
  for (uint32_t i = b.first_server; i < b.first_server + b.nservers; ++i) {
    if (servers_[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

int ProxyRuntime::FindFrontend(const std::string& name) const {
  for (size_t i = 0; i < frontends_.size(); ++i) {
    if (frontends_[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace sluice::cp
