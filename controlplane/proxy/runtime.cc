#include "controlplane/proxy/runtime.h"

#include "controlplane/log/log.h"

#include <algorithm>
#include <cstring>
#include <set>

#include "dataplane/net/addr_text.h"

namespace sluice::cp {

namespace {

// A backend's `http-check expect` rules as the workers run them (regexes compiled; the
// configuration checked them), or HAProxy's default when it has none: any 2xx or 3xx.
void AddCheckExpects(const config::ProxyConfig& c, std::vector<check::Expect>* out) {
  if (c.http_expects.empty()) {
    check::Expect e;
    e.codes.AddRange(200, 399);
    out->push_back(std::move(e));
    return;
  }
  for (const config::HttpCheckExpect& x : c.http_expects) {
    check::Expect e;
    e.kind = x.kind;
    e.negate = x.negate;
    for (const unsigned code : x.codes) e.codes.Add(code);
    e.text = x.pattern;
    e.name_match = x.name_match;
    e.value_match = x.value_match;
    e.has_value = x.has_value;
    e.full = x.full;
    e.value = x.value;
    std::string error;
    if (x.kind == check::ExpectKind::kRegex ||
        (x.kind == check::ExpectKind::kHeader && x.name_match == check::HeaderMatch::kReg)) {
      e.re = check::CompileRegex(x.pattern, &error);
    }
    if (x.kind == check::ExpectKind::kHeader && x.value_match == check::HeaderMatch::kReg) {
      e.value_re = check::CompileRegex(x.value, &error);
    }
    out->push_back(std::move(e));
  }
}

// What a free server slot points at: no name, no check.
const config::ServerConfig kVacant{};

// A server's live state as its settings start it.
ServerRt ServerOf(const config::ServerConfig& sc, uint32_t backend) {
  ServerRt s;
  s.conf = &sc;
  s.backend = backend;
  s.addr = sc.addr;
  s.port = sc.port;
  s.check_addr = sc.check_addr.value_or(sc.addr);
  s.check_port = sc.check_port.value_or(sc.port);
  s.uweight = sc.weight;
  s.maxconn = sc.maxconn;
  s.cfg_maint = sc.disabled;
  return s;
}
static_assert(config::kServerSlots == proxy::kMaxServers);

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

}  // namespace

std::vector<std::string> ProxyRuntime::LogTargets(const config::ProxyConfig& p) const {
  std::vector<std::string> out;
  for (const std::string& l : p.logs) {
    if (l == "global") {
      out.insert(out.end(), cfg_->global.logs.begin(), cfg_->global.logs.end());
    } else {
      out.push_back(l);
    }
  }
  return out;
}

std::string ProxyRuntime::LogFormat(const config::ProxyConfig& p) {
  if (!p.log_format.empty()) return p.log_format;
  if (p.httplog && p.mode_http) {
    return std::string(p.httplog_clf ? log::kHttpLogClfFormat : log::kHttpLogFormat);
  }
  return p.tcplog || p.httplog ? std::string(log::kTcpLogFormat) : std::string();
}

void ProxyRuntime::Load(const config::Config& cfg, unsigned nworkers, uint64_t now_s) {
  nworkers_ = nworkers ? nworkers : 1;
  cfg_ = std::make_shared<const config::Config>(cfg);
  proxies_.clear();
  frontends_.clear();
  backends_.clear();
  servers_.clear();
  global_maxconn = cfg_->global.maxconn.value_or(0);
  std::vector<int> backend_of_proxy(cfg_->proxies.size(), -1);
  for (size_t pi = 0; pi < cfg_->proxies.size(); ++pi) {
    const config::ProxyConfig& p = cfg_->proxies[pi];
    ProxyRt pr;
    pr.conf = &p;
    if (p.HasBackend()) {
      BackendRt b;
      b.conf = &p;
      b.first_server = static_cast<uint32_t>(servers_.size());
      b.nservers = p.SlotsOf();
      b.last_change_s = now_s;
      const auto bi = static_cast<uint32_t>(backends_.size());
      for (const config::ServerConfig& sc : p.servers) {
        ServerRt s = ServerOf(sc, bi);
        s.check_enabled = sc.check;
        s.init_health = static_cast<uint8_t>(sc.rise);
        s.last_change_s = now_s;
        servers_.push_back(s);
      }
      // The room for `add server`: free slots.
      for (size_t k = p.servers.size(); k < p.SlotsOf(); ++k) {
        ServerRt s;
        s.conf = &kVacant;
        s.backend = bi;
        s.present = false;
        servers_.push_back(s);
      }
      pr.backend = static_cast<int>(bi);
      backend_of_proxy[pi] = pr.backend;
      backends_.push_back(b);
    }
    if (p.HasFrontend()) {
      FrontendRt f;
      f.conf = &p;
      f.enabled = !p.disabled;
      f.stopped = p.disabled;
      f.maxconn = p.maxconn;
      pr.frontend = static_cast<int>(frontends_.size());
      frontends_.push_back(f);
    }
    proxies_.push_back(pr);
  }
  fe_rates_.assign(frontends_.size(), RateMeter{});
  be_rates_.assign(backends_.size(), RateMeter{});
  srv_rates_.assign(servers_.size(), RateMeter{});
  // default_backend indices name config proxies: map them to backends.
  for (const ProxyRt& pr : proxies_) {
    if (pr.frontend < 0) continue;
    const int target = pr.conf->default_backend_index;
    FrontendRt& f = frontends_[pr.frontend];
    if (target >= 0 && static_cast<size_t>(target) < backend_of_proxy.size()) {
      f.backend = backend_of_proxy[target];
    } else if (pr.backend >= 0) {
      f.backend = pr.backend;  // a listen section
    }
  }
}

static_assert(config::kMaxBinds == tcp::kMaxListeners);

void ProxyRuntime::Fill(proxy::ListenerSnap* out) const {
  out->nbinds = 0;
  ForEachBind([out](const config::BindConfig& b, uint32_t fi, const FrontendRt& f) {
    proxy::BindSnap bs;
    if (!b.any) net::ToBytes(b.addr, bs.local.local_addr);
    bs.local.is_v6 = b.addr.is_v6;
    bs.local.local_port = __builtin_bswap16(b.port);  // network order
    bs.frontend = fi;
    bs.open = f.enabled && !f.stopped;
    if (out->nbinds < tcp::kMaxListeners) out->binds[out->nbinds++] = bs;
  });
}

namespace {

proxy::ErrorfileSnap ToErrorfiles(const config::ProxyConfig& c, std::vector<std::string>* pages) {
  proxy::ErrorfileSnap e;
  for (const config::ProxyConfig::Answer& a : c.errorfiles) {
    if (a.text.empty()) continue;  // HAProxy's own page
    for (uint32_t slot = 0; slot < proxy::kReplySlots; ++slot) {
      if (proxy::kReplyCodes[slot] != a.code) continue;
      e.page[slot] = static_cast<int16_t>(pages->size());
      pages->push_back(a.text);
    }
  }
  return e;
}

proxy::HttpConnMode ToConnMode(config::ProxyConfig::HttpConnMode m) {
  using M = config::ProxyConfig::HttpConnMode;
  return m == M::kClose         ? proxy::HttpConnMode::kClose
         : m == M::kServerClose ? proxy::HttpConnMode::kServerClose
                                : proxy::HttpConnMode::kKeepAlive;
}

proxy::ForwardForSnap ToForwardFor(const config::ProxyConfig& c) {
  proxy::ForwardForSnap f;
  f.on = c.forwardfor;
  f.if_none = c.forwardfor_if_none;
  const size_t n = std::min(c.forwardfor_header.size(), sizeof f.header);
  std::memcpy(f.header, c.forwardfor_header.data(), n);
  f.header_len = static_cast<uint8_t>(n);
  if (c.forwardfor_except) {
    f.has_except = true;
    f.except_v6 = c.forwardfor_except->addr.is_v6;
    f.except_len = c.forwardfor_except->length;
    net::ToBytes(c.forwardfor_except->addr, f.except_addr);
  }
  return f;
}

}  // namespace

void ProxyRuntime::Fill(proxy::ProxyConfigSnap* out) const {
  out->global_maxconn = WorkerShare(global_maxconn, nworkers_);
  out->rate_limit_cps = WorkerShare(AcceptRateLimit(), nworkers_);
  out->http_head_bytes = cfg_->global.HttpHeadBytes();
  out->http_htx_head = cfg_->global.HttpHtxHead();
  out->http_max_fields = cfg_->global.HttpMaxFields();
  out->http_rewrite = cfg_->global.MaxRewrite();
  out->frontends.clear();
  out->backends.clear();
  out->servers.clear();
  out->error_pages.clear();
  out->check_expects.clear();
  for (const FrontendRt& f : frontends_) {
    proxy::FrontendSnap fs;
    fs.backend = f.backend < 0 ? UINT32_MAX : static_cast<uint32_t>(f.backend);
    fs.maxconn = WorkerShare(f.maxconn, nworkers_);
    fs.client_ms = f.conf->timeout_client_ms;
    fs.client_fin_ms = f.conf->timeout_client_fin_ms;
    fs.ka = ToKeepaliveSnap(f.conf->clitcpka);
    const config::ProxyConfig* be = nullptr;
    if (f.backend >= 0 && static_cast<size_t>(f.backend) < backends_.size()) {
      be = backends_[static_cast<size_t>(f.backend)].conf;
    }
    fs.http = f.conf->mode_http || (be && be->mode_http);
    fs.accept_invalid = f.conf->accept_invalid_request;
    fs.buffer_request = f.conf->buffer_request;
    fs.conn_mode = ToConnMode(f.conf->http_conn_mode);
    fs.http_request_ms = f.conf->timeout_http_request_ms;
    fs.http_keep_alive_ms = f.conf->timeout_http_keep_alive_ms;
    fs.fwd = ToForwardFor(*f.conf);
    fs.errorfiles = ToErrorfiles(*f.conf, &out->error_pages);
    fs.log = LogTargets(*f.conf).empty()  ? proxy::LogMode::kNone
             : LogFormat(*f.conf).empty() ? proxy::LogMode::kConnect
                                          : proxy::LogMode::kSession;
    out->frontends.push_back(fs);
  }
  for (const BackendRt& b : backends_) {
    const config::ProxyConfig& c = *b.conf;
    proxy::BackendSnap bs;
    bs.algo = c.balance;
    bs.first_server = b.first_server;
    bs.nservers = b.nservers;
    bs.connect_ms = c.timeout_connect_ms;
    bs.server_ms = c.timeout_server_ms;
    bs.queue_ms = c.timeout_queue_ms;
    bs.tunnel_ms = c.timeout_tunnel_ms;
    bs.server_fin_ms = c.timeout_server_fin_ms;
    bs.check_ms = c.timeout_check_ms;
    bs.retries = static_cast<uint8_t>(c.retries > 255 ? 255 : c.retries);
    bs.redispatch = c.redispatch;
    bs.persist = c.persist;
    bs.ka = ToKeepaliveSnap(c.srvtcpka);
    bs.httpchk = c.httpchk;
    bs.http = c.mode_http;
    bs.hash_consistent = c.hash_consistent;
    bs.uri_whole = c.uri_whole;
    bs.uri_len = static_cast<uint16_t>(c.uri_len);
    bs.uri_depth = static_cast<uint16_t>(c.uri_depth);
    bs.hash_name_len = static_cast<uint8_t>(std::min<size_t>(c.hash_name.size(), 63));
    std::memcpy(bs.hash_name, c.hash_name.data(), bs.hash_name_len);
    bs.accept_invalid = c.accept_invalid_response;
    bs.conn_mode = ToConnMode(c.http_conn_mode);
    bs.reuse = static_cast<proxy::HttpReuse>(c.http_reuse);
    bs.fwd = ToForwardFor(c);
    bs.errorfiles = ToErrorfiles(c, &out->error_pages);
    bs.first_expect = static_cast<uint16_t>(out->check_expects.size());
    AddCheckExpects(c, &out->check_expects);
    bs.nexpects = static_cast<uint16_t>(out->check_expects.size() - bs.first_expect);
    bs.httpchk_head = c.httpchk_method == "HEAD";
    const std::string request = config::HealthCheckRequest(c);
    const size_t n = std::min(request.size(), sizeof bs.httpchk_request);
    std::memcpy(bs.httpchk_request, request.data(), n);
    bs.httpchk_request_len = static_cast<uint16_t>(n);
    out->backends.push_back(bs);
  }
  for (size_t i = 0; i < servers_.size(); ++i) {
    const ServerRt& s = servers_[i];
    proxy::ServerSnap ss;
    ss.backend = s.backend;
    if (!s.present) {  // a free slot: no traffic, no check, no id a stick entry could name
      ss.weight = ss.iweight = 0;
      ss.usable = ss.persist = false;
      ss.check = false;
      ss.check_worker = static_cast<uint16_t>(i % nworkers_);
      out->servers.push_back(ss);
      continue;
    }
    net::ToBytes(s.addr, ss.addr);
    ss.is_v6 = s.addr.is_v6;
    ss.port = s.port;
    ss.weight = s.uweight;
    ss.iweight = s.conf->weight;
    ss.maxconn = WorkerShare(s.maxconn, nworkers_);
    ss.pool_max = s.conf->pool_max_conn < 0
                      ? -1
                      : static_cast<int32_t>(
                            WorkerShare(static_cast<uint32_t>(s.conf->pool_max_conn), nworkers_));
    ss.pool_purge_us = uint64_t{s.conf->pool_purge_ms} * 1000;
    ss.usable = !s.InMaint() && !s.drain && s.op == OpState::kUp;
    ss.persist = !s.InMaint() && s.op != OpState::kDown;
    ss.id = s.conf->id;
    ss.non_stick = s.conf->non_stick;
    ss.backup = s.conf->backup;
    ss.check = s.CheckConfigured() && s.check_enabled;
    net::ToBytes(s.check_addr, ss.check_addr);
    ss.check_port = s.check_port;
    ss.inter_ms = s.conf->inter_ms;
    ss.fastinter_ms = s.conf->fastinter_ms;
    ss.downinter_ms = s.conf->downinter_ms;
    ss.rise = static_cast<uint8_t>(s.conf->rise);
    ss.fall = static_cast<uint8_t>(s.conf->fall);
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
    if (!s.CheckConfigured() || !s.check_enabled) continue;
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
      if (o.present && o.op == OpState::kUp && !o.InMaint()) ++(o.conf->backup ? backup : active);
    }
    const bool up = active + backup > 0;
    changes->push_back(StateChange{static_cast<uint32_t>(i), now_op == OpState::kUp,
                                   static_cast<check::CheckStatus>(ss.check_status.Get()),
                                   static_cast<uint32_t>(ss.check_code.Get()),
                                   ss.check_duration_ms.Get(), active, backup, b.was_up && !up,
                                   static_cast<check::CheckDetail>(ss.check_detail.Get()),
                                   ss.check_reason.Get()});
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
    if (backends_[i].name() == name) return static_cast<int>(i);
  }
  return -1;
}

int ProxyRuntime::FindServer(int backend, const std::string& name) const {
  if (backend < 0) return -1;
  const BackendRt& b = backends_[backend];
  for (uint32_t i = b.first_server; i < b.first_server + b.nservers; ++i) {
    if (servers_[i].present && servers_[i].name() == name) return static_cast<int>(i);
  }
  return -1;
}

base::Result<uint32_t> ProxyRuntime::AddServer(uint32_t backend, config::ServerConfig conf,
                                               uint64_t now_s) {
  const BackendRt& b = backends_[backend];
  // Only the room after the file's servers is taken: a deleted file server's slot keeps
  // what was built for it with the configuration (its TLS context, its names in the rules
  // and stick tables), which an added server must not inherit.
  const uint32_t room = b.first_server + static_cast<uint32_t>(b.conf->servers.size());
  uint32_t slot = UINT32_MAX;
  std::set<uint32_t> ids;
  for (uint32_t i = b.first_server; i < b.first_server + b.nservers; ++i) {
    if (!servers_[i].present) {
      if (slot == UINT32_MAX && i >= room) slot = i;
      continue;
    }
    if (servers_[i].name() == conf.name) {
      return base::Error{"Already exists a server with the same name in backend."};
    }
    ids.insert(servers_[i].id());
  }
  if (conf.id != 0 && ids.count(conf.id)) {
    return base::Error{"'id' : custom id " + std::to_string(conf.id) + " already used."};
  }
  if (slot == UINT32_MAX) {
    return base::Error{"No room for another server in backend '" + b.name() + "': sluice keeps " +
                       std::to_string(b.nservers) + " server slots for it (configuration.md)."};
  }
  if (conf.id == 0) {  // the smallest id free, as HAProxy gives one
    conf.id = 1;
    while (ids.count(conf.id)) ++conf.id;
  }
  added_.push_back(std::move(conf));
  const config::ServerConfig& sc = added_.back();
  ServerRt& s = servers_[slot];
  const uint32_t epoch = s.check_epoch + 1;
  s = ServerOf(sc, backend);
  s.dynamic = s.fresh = true;
  // HAProxy's dynamic servers start stopped, in maintenance, their checks disabled (health
  // 0); `set server ... state ready` brings them up.
  s.maint = true;
  s.check_enabled = false;
  s.check_epoch = s.born_epoch = epoch;
  s.init_health = 0;
  s.op = OpState::kDown;
  s.down_since_s = now_s;
  s.last_change_s = now_s;
  srv_rates_[slot] = RateMeter{};
  return slot;
}

void ProxyRuntime::DelServer(uint32_t slot) {
  ServerRt& s = servers_[slot];
  const uint32_t backend = s.backend;
  const uint32_t epoch = s.check_epoch + 1;
  s = ServerRt{};
  s.conf = &kVacant;
  s.backend = backend;
  s.present = false;
  s.check_epoch = epoch;
}

int ProxyRuntime::FindFrontend(const std::string& name) const {
  for (size_t i = 0; i < frontends_.size(); ++i) {
    if (frontends_[i].name() == name) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace sluice::cp
