#include "controlplane/main/proxy_control.h"

#include <sys/time.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <iterator>

#include "dataplane/http/h1.h"
#include "dataplane/net/addr_text.h"

namespace sluice::app {

namespace {

// What HAProxy adds as a check's own words (last_chk, the log's "info"): for a wrong status
// (or a header rule that failed), the answer's reason phrase, as HAProxy 2.6.12 shows it.
std::string CheckOutput(check::CheckStatus s, check::CheckDetail detail,
                        const std::string& reason) {
  switch (s) {
    case check::CheckStatus::kL4Con:
      return "Connection refused";
    case check::CheckStatus::kL7Rsp:
      if (detail == check::CheckDetail::kContentMismatch) return "HTTP content check did not match";
      if (detail == check::CheckDetail::kUnwantedContent) {
        return "HTTP check matched unwanted content";
      }
      if (detail == check::CheckDetail::kNoBody) {
        return "HTTP content check could not find a response body";
      }
      return "";
    case check::CheckStatus::kL7Sts:
      return reason;
    default:
      return "";
  }
}

uint32_t Avg(uint64_t sum, uint64_t n) { return n ? static_cast<uint32_t>(sum / n) : 0; }

// Sums one kind of statistic over the workers.
template <class Get>
uint64_t Sum(const std::vector<const proxy::ProxyStats*>& stats, Get get) {
  uint64_t v = 0;
  for (const auto* s : stats) v += get(*s);
  return v;
}

std::string AddrText(const uint8_t* a, bool v6) { return net::ToString(net::FromBytes(a, v6)); }

}  // namespace

std::vector<std::string> FormatStateChange(const cp::ProxyRuntime& rt, const cp::StateChange& c) {
  const cp::ServerRt& s = rt.servers()[c.server];
  const std::string& backend = rt.backends()[s.backend].name();
  std::string text = "Server " + backend + "/" + s.name() + " is " + (c.up ? "UP" : "DOWN") +
                     ", reason: " + std::string(cli::GetCheckStatusInfo(c.status).desc);
  if (c.status >= check::CheckStatus::kL57Data) text += ", code: " + std::to_string(c.code);
  const std::string info = CheckOutput(c.status, c.detail, c.reason);
  if (!info.empty()) text += ", info: \"" + info + "\"";
  text += ", check duration: " + std::to_string(c.duration_ms) + "ms. " + std::to_string(c.active) +
          " active and " + std::to_string(c.backup) + " backup " +
          (c.up ? "servers online. 0 sessions requeued, 0 total in queue."
                : "servers left. 0 sessions active, 0 requeued, 0 remaining in queue.");
  std::vector<std::string> lines{text};
  if (c.backend_down) lines.push_back("backend " + backend + " has no server available!");
  return lines;
}

cp::ServerRt* ProxyCliControl::Server(size_t proxy, size_t server) {
  cp::ProxyRuntime& rt = app_.proxy();
  if (proxy >= rt.proxies().size()) return nullptr;
  const int b = rt.proxies()[proxy].backend;
  if (b < 0) return nullptr;
  const cp::BackendRt& be = rt.backends()[b];
  // The views list the slots that hold a server: the server-th of them.
  for (uint32_t i = be.first_server; i < be.first_server + be.nservers; ++i) {
    if (!rt.servers()[i].present) continue;
    if (server-- == 0) return &rt.servers()[i];
  }
  return nullptr;
}

void ProxyCliControl::RawProxies(std::vector<cli::ProxyView>* out) {
  cp::ProxyRuntime& rt = app_.proxy();
  const auto& st = app_.proxy_stats();
  const uint64_t now_s = app_.NowSeconds();
  const uint64_t now_ms = app_.NowMilliseconds();
  out->clear();
  for (const cp::ProxyRt& p : rt.proxies()) {
    cli::ProxyView v;
    v.name = p.name();
    v.iid = p.id();
    v.mode = p.conf->mode_http ? "http" : "tcp";
    v.has_frontend = p.frontend >= 0;
    v.has_backend = p.backend >= 0;
    if (p.frontend >= 0) {
      const cp::FrontendRt& f = rt.frontends()[p.frontend];
      const auto fi = static_cast<size_t>(p.frontend);
      v.frontend_state = f.stopped   ? cli::FrontendState::kStopped
                         : f.enabled ? cli::FrontendState::kOpen
                                     : cli::FrontendState::kPaused;
      v.maxconn = f.maxconn ? f.maxconn : rt.global_maxconn;
      auto& c = v.frontend;
      c.scur = static_cast<uint32_t>(Sum(st, [&](auto& s) { return s.frontends[fi].cur.Get(); }));
      c.smax = static_cast<uint32_t>(Sum(st, [&](auto& s) { return s.frontends[fi].max.Get(); }));
      c.stot = Sum(st, [&](auto& s) { return s.frontends[fi].tot.Get(); });
      c.conn_tot = c.stot;
      c.bin = Sum(st, [&](auto& s) { return s.frontends[fi].bin.Get(); });
      c.bout = Sum(st, [&](auto& s) { return s.frontends[fi].bout.Get(); });
      c.dcon = Sum(st, [&](auto& s) { return s.frontends[fi].denied.Get(); });
      c.dses = Sum(st, [&](auto& s) { return s.frontends[fi].denied_sess.Get(); });
      c.dreq = Sum(st, [&](auto& s) { return s.frontends[fi].denied_req.Get(); });
      c.intercepted = Sum(st, [&](auto& s) { return s.frontends[fi].intercepted.Get(); });
      c.rate = c.conn_rate = rt.frontend_rate(fi).rate();
      c.rate_max = c.conn_rate_max = rt.frontend_rate(fi).max();
      v.rate_limit_sessions = rt.rate_limit_sess;
      c.ereq = Sum(st, [&](auto& s) { return s.frontends[fi].errors.Get(); });
      c.req_tot = Sum(st, [&](auto& s) { return s.frontends[fi].req_tot.Get(); });
      for (size_t k = 0; k < 6; ++k) {
        c.hrsp[k] = Sum(st, [&](auto& s) { return s.frontends[fi].hrsp[k].Get(); });
      }
    }
    if (p.backend >= 0) {
      const cp::BackendRt& b = rt.backends()[p.backend];
      const auto bi = static_cast<size_t>(p.backend);
      v.algo = std::string(proxy::NameOf(b.conf->balance));
      v.dynamic_weights = b.conf->balance != config::BalanceAlgo::kStaticRr;
      const config::BalanceAlgo algo = b.conf->balance;
      using A = config::BalanceAlgo;
      const bool hashed =
          algo == A::kSource || algo == A::kUri || algo == A::kUrlParam || algo == A::kHdr;
      v.dynamic_servers = v.dynamic_weights && (!hashed || b.conf->hash_consistent);
      auto& c = v.backend;
      auto bsum = [&](auto field) {
        return Sum(st, [&](auto& s) { return (s.backends[bi].*field).Get(); });
      };
      c.qcur = static_cast<uint32_t>(bsum(&proxy::BackendStats::qcur));
      c.qmax = static_cast<uint32_t>(bsum(&proxy::BackendStats::qmax));
      c.scur = static_cast<uint32_t>(bsum(&proxy::BackendStats::cur));
      c.smax = static_cast<uint32_t>(bsum(&proxy::BackendStats::max));
      c.stot = bsum(&proxy::BackendStats::tot);
      c.bin = bsum(&proxy::BackendStats::bin);
      c.bout = bsum(&proxy::BackendStats::bout);
      c.econ = bsum(&proxy::BackendStats::econ);
      c.eresp = bsum(&proxy::BackendStats::eresp);
      c.dresp = bsum(&proxy::BackendStats::denied_resp);
      c.wretr = bsum(&proxy::BackendStats::retries);
      c.wredis = bsum(&proxy::BackendStats::redispatches);
      c.cli_abrt = bsum(&proxy::BackendStats::cli_abrt);
      c.srv_abrt = bsum(&proxy::BackendStats::srv_abrt);
      c.lbtot = bsum(&proxy::BackendStats::lbtot);
      c.connect = c.lbtot;
      c.req_tot = bsum(&proxy::BackendStats::req_tot);
      for (size_t k = 0; k < 6; ++k) {
        c.hrsp[k] = Sum(st, [&](auto& s) { return s.backends[bi].hrsp[k].Get(); });
      }
      c.rate = rt.backend_rate(bi).rate();
      c.rate_max = rt.backend_rate(bi).max();
      const uint64_t timed = bsum(&proxy::BackendStats::timed);
      c.ttime_ms = Avg(bsum(&proxy::BackendStats::ttime_ms_sum), timed);
      c.ctime_ms = Avg(bsum(&proxy::BackendStats::ctime_ms_sum), timed);
      c.qtime_ms = Avg(bsum(&proxy::BackendStats::qtime_ms_sum), timed);
      c.lastchg_s = static_cast<uint32_t>(now_s - b.last_change_s);
      c.downtime_s = static_cast<uint32_t>(b.downtime_s + (b.was_up ? 0 : now_s - b.down_since_s));
      for (uint32_t i = b.first_server; i < b.first_server + b.nservers; ++i) {
        const cp::ServerRt& s = rt.servers()[i];
        if (!s.present) continue;
        cli::ServerView sv;
        sv.slot = i;
        sv.name = s.name();
        sv.sid = s.id();
        sv.addr = net::ToString(s.addr);
        sv.port = s.port;
        sv.backup = s.conf->backup;
        sv.purge_delay_ms = s.conf->pool_purge_ms;
        sv.pool_max_conn = s.conf->pool_max_conn;
        sv.forced_maint = s.maint || s.cfg_maint;
        sv.config_maint = s.cfg_maint;
        sv.forced_drain = s.drain;
        sv.op_state = s.op == cp::OpState::kUp         ? cli::ServerOpState::kRunning
                      : s.op == cp::OpState::kStopping ? cli::ServerOpState::kStopping
                                                       : cli::ServerOpState::kStopped;
        sv.uweight = s.uweight;
        sv.iweight = s.conf->weight;
        // HAProxy shows a server added and never started with its weight not yet scaled to
        // its balancer's (BE_WEIGHT_SCALE, 16): 10 shows 1 until `state ready`.
        sv.eweight = s.fresh ? (s.uweight + 15) / 16 : s.uweight;
        sv.maxconn = s.maxconn;
        auto& k = sv.check;
        k.configured = s.CheckConfigured();
        k.enabled = s.check_enabled;
        k.rise = s.conf->rise;
        k.fall = s.conf->fall;
        if (s.check_port != s.port) k.port = s.check_port;
        if (!(s.check_addr == s.addr)) k.addr = net::ToString(s.check_addr);
        const size_t w = i % rt.nworkers();
        if (w < st.size() && s.CheckConfigured()) {
          const proxy::ServerStats& cs = st[w]->servers[i];
          const bool current = cs.check_epoch.Get() == s.check_epoch;
          // An added server's slot may hold its predecessor's last results: not its own.
          const bool own = cs.check_count.Get() && cs.check_epoch.Get() >= s.born_epoch;
          const auto status = static_cast<check::CheckStatus>(cs.check_status.Get());
          k.status = own ? status : cli::CheckStatus::kIni;
          k.code = own ? static_cast<uint32_t>(cs.check_code.Get()) : 0;
          k.duration_ms = own ? cs.check_duration_ms.Get() : 0;
          if (own) {
            k.output = CheckOutput(status, static_cast<check::CheckDetail>(cs.check_detail.Get()),
                                   cs.check_reason.Get());
          }
          k.health = current ? static_cast<uint32_t>(cs.check_health.Get()) : s.init_health;
          sv.counters.chkfail = cs.check_fails.Get();
        } else {
          k.health = s.op == cp::OpState::kDown ? 0 : s.conf->rise + s.conf->fall - 1;
        }
        sv.counters.chkdown = s.down_transitions;
        auto& c = sv.counters;
        SlotCounters(i, &c);
        uint64_t last_ms = 0;
        for (const auto* x : st) {
          const uint64_t t = x->servers[i].last_sess_ms.Get();
          if (t > last_ms) last_ms = t;
        }
        // last_sess_ms is in the workers' clock (TSC microseconds / 1000), as is now_ms.
        if (i < slot_since_ms_.size() && last_ms < slot_since_ms_[i]) last_ms = 0;  // before
        c.lastsess_s = last_ms ? static_cast<int32_t>((now_ms - last_ms) / 1000) : -1;
        c.lastchg_s = static_cast<uint32_t>(now_s - s.last_change_s);
        c.downtime_s = static_cast<uint32_t>(
            s.downtime_s + (s.op == cp::OpState::kDown ? now_s - s.down_since_s : 0));
        v.servers.push_back(std::move(sv));
      }
      uint64_t chkdown = 0, reuse = 0;
      for (const auto& sv : v.servers) {
        chkdown += sv.counters.chkdown;
        reuse += sv.counters.reuse;
      }
      c.chkdown = chkdown;
      c.reuse = reuse;
      c.connect = c.lbtot - reuse;
    }
    out->push_back(std::move(v));
  }
}

void ProxyCliControl::SlotCounters(uint32_t i, cli::StatCounters* out) {
  const cp::ProxyRuntime& rt = app_.proxy();
  const auto& st = app_.proxy_stats();
  auto ssum = [&](auto field) {
    return Sum(st, [&](auto& x) { return (x.servers[i].*field).Get(); });
  };
  cli::StatCounters& c = *out;
  c.qcur = static_cast<uint32_t>(ssum(&proxy::ServerStats::qcur));
  c.qmax = static_cast<uint32_t>(ssum(&proxy::ServerStats::qmax));
  c.scur = static_cast<uint32_t>(ssum(&proxy::ServerStats::cur));
  c.smax = static_cast<uint32_t>(ssum(&proxy::ServerStats::max));
  c.stot = ssum(&proxy::ServerStats::tot);
  c.bin = ssum(&proxy::ServerStats::bin);
  c.bout = ssum(&proxy::ServerStats::bout);
  c.econ = ssum(&proxy::ServerStats::econ);
  c.eresp = ssum(&proxy::ServerStats::eresp);
  c.wretr = ssum(&proxy::ServerStats::retries);
  c.wredis = ssum(&proxy::ServerStats::redispatches);
  c.cli_abrt = ssum(&proxy::ServerStats::cli_abrt);
  c.srv_abrt = ssum(&proxy::ServerStats::srv_abrt);
  c.lbtot = ssum(&proxy::ServerStats::lbtot);
  c.reuse = ssum(&proxy::ServerStats::reuse);
  c.connect = c.lbtot - c.reuse;
  c.req_tot = ssum(&proxy::ServerStats::req_tot);
  for (size_t k = 0; k < 6; ++k) {
    c.hrsp[k] = Sum(st, [&](auto& x) { return x.servers[i].hrsp[k].Get(); });
  }
  const size_t w = i % rt.nworkers();
  if (w < st.size()) c.chkfail = st[w]->servers[i].check_fails.Get();
  c.rate = rt.server_rate(i).rate();
  c.rate_max = rt.server_rate(i).max();
  const uint64_t timed = ssum(&proxy::ServerStats::timed);
  c.ttime_ms = Avg(ssum(&proxy::ServerStats::ttime_ms_sum), timed);
  c.ctime_ms = Avg(ssum(&proxy::ServerStats::ctime_ms_sum), timed);
  c.qtime_ms = Avg(ssum(&proxy::ServerStats::qtime_ms_sum), timed);
}

namespace {

// The counters `clear counters all` zeroes (HAProxy: every statistic but the current ones).
void SubtractTotals(cli::StatCounters& c, const cli::StatCounters& b) {
  for (auto field :
       {&cli::StatCounters::stot,     &cli::StatCounters::bin,     &cli::StatCounters::bout,
        &cli::StatCounters::dreq,     &cli::StatCounters::dresp,   &cli::StatCounters::ereq,
        &cli::StatCounters::dcon,     &cli::StatCounters::dses,    &cli::StatCounters::econ,
        &cli::StatCounters::eresp,    &cli::StatCounters::wretr,   &cli::StatCounters::wredis,
        &cli::StatCounters::wrew,     &cli::StatCounters::eint,    &cli::StatCounters::cli_abrt,
        &cli::StatCounters::srv_abrt, &cli::StatCounters::lbtot,   &cli::StatCounters::connect,
        &cli::StatCounters::reuse,    &cli::StatCounters::chkfail, &cli::StatCounters::chkdown,
        &cli::StatCounters::conn_tot, &cli::StatCounters::req_tot}) {
    c.*field = c.*field >= b.*field ? c.*field - b.*field : 0;
  }
  for (size_t k = 0; k < 6; ++k) c.hrsp[k] = c.hrsp[k] >= b.hrsp[k] ? c.hrsp[k] - b.hrsp[k] : 0;
}

// After a clear, the maxima are the highest values seen since (the workers' own maxima
// have one writer each and are never reset): peaks are kept from every view.
void ApplyPeaks(cli::StatCounters& c, cli::StatCounters& peak) {
  peak.smax = std::max(peak.smax, c.scur);
  peak.qmax = std::max(peak.qmax, c.qcur);
  c.smax = peak.smax;
  c.qmax = peak.qmax;
}

// Servers are matched by slot (`add server` and `del server` change the lists); both lists
// are in slot order.
template <class Fn>
void ForEachCounters(std::vector<cli::ProxyView>& v, std::vector<cli::ProxyView>& other, Fn fn) {
  for (size_t i = 0; i < v.size() && i < other.size(); ++i) {
    fn(v[i].frontend, other[i].frontend);
    fn(v[i].backend, other[i].backend);
    auto o = other[i].servers.begin();
    for (cli::ServerView& sv : v[i].servers) {
      while (o != other[i].servers.end() && o->slot < sv.slot) ++o;
      if (o != other[i].servers.end() && o->slot == sv.slot) fn(sv.counters, o->counters);
    }
  }
}

}  // namespace

void ProxyCliControl::Proxies(std::vector<cli::ProxyView>* out) {
  OwnProxies(out);
  if (!base_.empty()) ForEachCounters(*out, base_, SubtractTotals);
  if (!peaks_.empty()) ForEachCounters(*out, peaks_, ApplyPeaks);
}

void ProxyCliControl::OwnProxies(std::vector<cli::ProxyView>* out) {
  RawProxies(out);
  for (cli::ProxyView& p : *out) {
    for (cli::ServerView& sv : p.servers) {
      if (sv.slot < slot_base_.size()) SubtractTotals(sv.counters, slot_base_[sv.slot]);
    }
  }
}

void ProxyCliControl::Clear(bool all) {
  std::vector<cli::ProxyView> now;
  OwnProxies(&now);
  if (all) base_ = now;
  // Maxima restart from the current values.
  for (auto& p : now) {
    for (cli::StatCounters* c : {&p.frontend, &p.backend}) {
      c->smax = c->scur;
      c->qmax = c->qcur;
    }
    for (auto& sv : p.servers) {
      sv.counters.smax = sv.counters.scur;
      sv.counters.qmax = sv.counters.qcur;
    }
  }
  peaks_ = std::move(now);
  app_.proxy().ClearRateMaxima();
}

namespace {

// Session records one show-sess reply carries at most (a slice, about 56 KiB).
constexpr uint32_t kSessionSlice = 512;
// How long a command waits for a worker's reply before it answers without it. A worker
// serves requests every loop iteration: only a stuck worker takes this long.
constexpr auto kReplyTimeout = std::chrono::seconds(5);

// `show sess`: one request in flight per worker, each reply a slice of its session table;
// the next slice is asked for as soon as a reply is taken, before it is rendered.
class WorkerSessionStream final : public cli::SessionStream {
 public:
  WorkerSessionStream(Appliance& app, uint64_t id)
      : app_(app), id_(id), deadline_(std::chrono::steady_clock::now() + kReplyTimeout) {
    const unsigned n = app_.requests().workers();
    for (unsigned w = 0; w < n; ++w) {
      // A session id names its worker (proxy.h): ask that one only.
      if (id_ != 0 && id_ % n != w) continue;
      flights_.push_back(Ask(w, 0));
    }
  }

  cli::Gather Next(std::vector<cli::SessionView>* out) override {
    app_.requests().Poll();
    bool got = false;
    for (auto& f : flights_) {
      if (!f || !f->answered) continue;
      const base::Request r = f->req;
      const publish::RequestHub::Ref done = std::move(f);
      if (!r.done) f = Ask(r.worker, r.cursor);
      for (uint32_t i = 0; i < r.count; ++i) {
        proxy::SessionInfo e;
        std::memcpy(&e, done->payload.get() + i * sizeof e, sizeof e);
        out->push_back(View(e));
      }
      got = got || r.count > 0;
    }
    const bool all_done = std::all_of(flights_.begin(), flights_.end(),
                                      [](const publish::RequestHub::Ref& f) { return !f; });
    if (all_done) return cli::Gather::kDone;
    if (got) {
      deadline_ = std::chrono::steady_clock::now() + kReplyTimeout;  // progress: wait again
      return cli::Gather::kMore;
    }
    // A stuck worker: list what the others gave (the hub keeps the requests until it
    // hands them back).
    if (std::chrono::steady_clock::now() > deadline_) return cli::Gather::kDone;
    return cli::Gather::kWait;
  }

 private:
  publish::RequestHub::Ref Ask(unsigned worker, uint64_t cursor) {
    return app_.requests().Send(worker, base::Op::kShowSessions, id_, cursor,
                                kSessionSlice * sizeof(proxy::SessionInfo));
  }

  cli::SessionView View(const proxy::SessionInfo& e) {
    const cp::ProxyRuntime& rt = app_.proxy();
    cli::SessionView v;
    v.id = e.uid;
    v.serial = static_cast<uint32_t>(e.serial);
    v.proto = e.is_v6 ? "tcpv6" : "tcpv4";
    v.src = {AddrText(e.client_addr, e.is_v6), e.client_port};
    v.dst = {AddrText(e.front_addr, e.is_v6), e.front_port};
    if (e.frontend < rt.frontends().size()) {
      v.frontend = rt.frontends()[e.frontend].name();
      v.frontend_iid = rt.frontends()[e.frontend].id();
    }
    v.listener_id = 1;
    if (e.backend < rt.backends().size()) {
      v.backend = rt.backends()[e.backend].name();
      v.backend_iid = rt.backends()[e.backend].id();
    }
    if (e.server < rt.servers().size() && e.server_port != 0) {
      v.server = rt.servers()[e.server].name();
      v.server_sid = rt.servers()[e.server].id();
      v.backend_src = {AddrText(e.local_addr, e.server_v6), e.local_port};
      v.server_dst = {AddrText(e.server_addr, e.server_v6), e.server_port};
    }
    v.age_s = static_cast<uint32_t>(e.age_ms / 1000);
    if (e.http) {
      static constexpr const char* kStates[] = {
          "MSG_RQBEFORE", "MSG_RPBEFORE", "MSG_ERROR", "MSG_BODY",   "MSG_DATA",  "MSG_ENDING",
          "MSG_TRAILERS", "MSG_DONE",     "MSG_CLOSING", "MSG_CLOSED", "MSG_TUNNEL"};
      const auto name = [](uint8_t st) {
        return st < std::size(kStates) ? std::string(kStates[st]) : std::string("MSG_ERROR");
      };
      v.http = true;
      v.meth = e.meth;
      v.status = e.status ? e.status : -1;
      v.req_state = name(e.req_state);
      v.res_state = name(e.res_state);
    }
    timeval tv{};
    gettimeofday(&tv, nullptr);
    const int64_t now_us = static_cast<int64_t>(tv.tv_sec) * 1'000'000 + tv.tv_usec;
    v.accept_time_us = now_us - static_cast<int64_t>(e.age_ms) * 1000;
    return v;
  }

  Appliance& app_;
  uint64_t id_;
  std::chrono::steady_clock::time_point deadline_;
  std::vector<publish::RequestHub::Ref> flights_;  // per worker asked; null once done
};

// `shutdown session`: the kill request to the session's worker.
class KillAnswer final : public cli::PendingAnswer {
 public:
  explicit KillAnswer(publish::RequestHub::Ref ref, publish::RequestHub& hub)
      : ref_(std::move(ref)),
        hub_(hub),
        deadline_(std::chrono::steady_clock::now() + kReplyTimeout) {}
  cli::Gather Poll(std::string* error) override {
    hub_.Poll();
    if (!ref_->answered) {
      if (std::chrono::steady_clock::now() <= deadline_) return cli::Gather::kWait;
      *error = "The worker did not answer in time (the kill may still happen).\n";
      return cli::Gather::kDone;
    }
    if (ref_->req.status == base::ReplyStatus::kBusy) {
      *error = "Too many requests are waiting for the workers; try again.\n";
    } else if (ref_->req.count == 0) {
      *error = "No such session (use 'show sess').\n";
    }
    return cli::Gather::kDone;
  }

 private:
  publish::RequestHub::Ref ref_;
  publish::RequestHub& hub_;
  std::chrono::steady_clock::time_point deadline_;
};

}  // namespace

std::unique_ptr<cli::SessionStream> ProxyCliControl::Sessions(uint64_t id) {
  return std::make_unique<WorkerSessionStream>(app_, id);
}

std::unique_ptr<cli::PendingAnswer> ProxyCliControl::ShutdownSession(uint64_t id) {
  publish::RequestHub& hub = app_.requests();
  const unsigned worker = hub.workers() ? static_cast<unsigned>(id % hub.workers()) : 0;
  return std::make_unique<KillAnswer>(hub.Send(worker, base::Op::kShutdownSession, id), hub);
}

std::string ProxyCliControl::SetServerAdmin(size_t proxy, size_t server, cli::ServerAdminOp op) {
  cp::ServerRt* s = Server(proxy, server);
  if (!s) return "No such server.\n";
  const bool was_maint = s->InMaint();
  switch (op) {
    case cli::ServerAdminOp::kReady:
      s->maint = s->cfg_maint = s->drain = false;
      break;
    case cli::ServerAdminOp::kDrain:
      s->drain = true;
      s->maint = s->cfg_maint = false;
      break;
    case cli::ServerAdminOp::kMaint:
      s->maint = true;
      s->drain = false;
      break;
  }
  // Leaving maintenance restarts the checks at health = rise (UP, down at the first failure);
  // a server without checks is UP (an added one starts stopped).
  if (was_maint && !s->InMaint()) {
    s->fresh = false;
    if (s->CheckConfigured()) {
      app_.proxy().RestartChecks(*s, static_cast<uint8_t>(s->conf->rise));
    }
    app_.proxy().SetOp(*s, cp::OpState::kUp, app_.NowSeconds());
  }
  s->last_change_s = app_.NowSeconds();
  Publish();
  return "";
}

std::string ProxyCliControl::SetServerHealth(size_t proxy, size_t server, cli::ServerHealthOp op) {
  cp::ServerRt* s = Server(proxy, server);
  if (!s) return "No such server.\n";
  const auto top = static_cast<uint8_t>(s->conf->rise + s->conf->fall - 1);
  const uint64_t now = app_.NowSeconds();
  switch (op) {
    case cli::ServerHealthOp::kUp:
      app_.proxy().RestartChecks(*s, top);
      app_.proxy().SetOp(*s, cp::OpState::kUp, now);
      break;
    case cli::ServerHealthOp::kStopping:
      app_.proxy().RestartChecks(*s, top);
      app_.proxy().SetOp(*s, cp::OpState::kStopping, now);
      break;
    case cli::ServerHealthOp::kDown:
      app_.proxy().RestartChecks(*s, 0);
      app_.proxy().SetOp(*s, cp::OpState::kDown, now);
      break;
  }
  Publish();
  return "";
}

std::string ProxyCliControl::SetServerWeight(size_t proxy, size_t server, uint32_t weight) {
  cp::ServerRt* s = Server(proxy, server);
  if (!s) return "No such server.\n";
  s->uweight = weight;
  Publish();
  return "";
}

std::string ProxyCliControl::SetServerAddr(size_t proxy, size_t server, const std::string& addr,
                                           uint16_t port) {
  cp::ServerRt* s = Server(proxy, server);
  if (!s) return "No such server.\n";
  const auto ip = net::ParseIp(addr);
  if (!ip) return "Invalid addr.\n";
  const bool check_follows = s->check_addr == s->addr;
  const bool port_follows = s->check_port == s->port;
  s->addr = *ip;
  if (check_follows) s->check_addr = *ip;
  if (port != 0) {
    s->port = port;
    if (port_follows) s->check_port = port;
  }
  if (s->CheckConfigured()) {
    app_.proxy().RestartChecks(*s, s->op == cp::OpState::kDown ? 0 : s->init_health);
  }
  Publish();
  return "";
}

std::string ProxyCliControl::SetServerCheckAddr(size_t proxy, size_t server,
                                                const std::string& addr, uint16_t port) {
  cp::ServerRt* s = Server(proxy, server);
  if (!s) return "No such server.\n";
  if (addr.empty()) {
    s->check_addr = s->addr;
  } else {
    const auto ip = net::ParseIp(addr);
    if (!ip) return "Invalid addr.\n";
    s->check_addr = *ip;
  }
  s->check_port = port ? port : s->port;
  const auto top = static_cast<uint8_t>(s->conf->rise + s->conf->fall - 1);
  app_.proxy().RestartChecks(*s, s->op == cp::OpState::kDown ? 0 : top);
  Publish();
  return "";
}

std::string ProxyCliControl::SetServerMaxconn(size_t proxy, size_t server, uint32_t maxconn) {
  cp::ServerRt* s = Server(proxy, server);
  if (!s) return "No such server.\n";
  s->maxconn = maxconn;
  Publish();
  return "";
}

std::string ProxyCliControl::SetServerCheckEnabled(size_t proxy, size_t server, bool enabled) {
  cp::ServerRt* s = Server(proxy, server);
  if (!s) return "No such server.\n";
  if (enabled && !s->check_enabled) {
    const auto top = static_cast<uint8_t>(s->conf->rise + s->conf->fall - 1);
    app_.proxy().RestartChecks(*s, s->op == cp::OpState::kDown ? 0 : top);
  }
  s->check_enabled = enabled;
  Publish();
  return "";
}

std::string ProxyCliControl::ShutdownServerSessions(size_t proxy, size_t server) {
  cp::ServerRt* s = Server(proxy, server);
  if (!s) return "No such server.\n";
  // Carried out by every worker; nobody waits for the replies (haproxy answers nothing).
  const auto index = static_cast<uint64_t>(s - app_.proxy().servers().data());
  for (unsigned w = 0; w < app_.requests().workers(); ++w) {
    app_.requests().Send(w, base::Op::kShutdownServerSessions, index);
  }
  return "";
}

std::string ProxyCliControl::AddServer(size_t proxy, const std::string& name,
                                       const std::vector<std::string>& words) {
  cp::ProxyRuntime& rt = app_.proxy();
  if (proxy >= rt.proxies().size() || rt.proxies()[proxy].backend < 0) {
    return "No such backend.";
  }
  auto conf = config::ParseRuntimeServer(rt.config().global, name, words);
  if (!conf) return conf.error() + "\n";
  const auto backend = static_cast<uint32_t>(rt.proxies()[proxy].backend);
  auto slot = rt.AddServer(backend, std::move(*conf), app_.NowSeconds());
  if (!slot) return slot.error() + "\n";
  // The slot's earlier servers counted in the workers' blocks: this one starts from zero.
  const uint32_t i = *slot;
  if (slot_base_.size() <= i) slot_base_.resize(i + 1);
  if (slot_since_ms_.size() <= i) slot_since_ms_.resize(i + 1, 0);
  slot_base_[i] = cli::StatCounters{};
  SlotCounters(i, &slot_base_[i]);
  slot_since_ms_[i] = app_.NowMilliseconds();
  for (auto* views : {&base_, &peaks_}) {
    for (cli::ProxyView& p : *views) {
      std::erase_if(p.servers, [i](const cli::ServerView& sv) { return sv.slot == i; });
    }
  }
  Publish();
  return "";
}

std::string ProxyCliControl::DelServer(size_t proxy, size_t server) {
  cp::ServerRt* s = Server(proxy, server);
  if (!s) return "No such server.";
  app_.proxy().DelServer(static_cast<uint32_t>(s - app_.proxy().servers().data()));
  Publish();
  return "";
}

std::string ProxyCliControl::SetFrontend(size_t proxy, cli::FrontendOp op) {
  cp::ProxyRuntime& rt = app_.proxy();
  if (proxy >= rt.proxies().size() || rt.proxies()[proxy].frontend < 0) {
    return "No such frontend.\n";
  }
  cp::FrontendRt& f = rt.frontends()[rt.proxies()[proxy].frontend];
  switch (op) {
    case cli::FrontendOp::kPause:
      f.enabled = false;
      break;
    case cli::FrontendOp::kResume:
      f.enabled = true;
      break;
    case cli::FrontendOp::kShutdown:
      f.stopped = true;
      break;
  }
  Publish(Appliance::kListenersPart);
  return "";
}

std::string ProxyCliControl::SetFrontendMaxconn(size_t proxy, uint32_t maxconn) {
  cp::ProxyRuntime& rt = app_.proxy();
  if (proxy >= rt.proxies().size() || rt.proxies()[proxy].frontend < 0) {
    return "No such frontend.\n";
  }
  rt.frontends()[rt.proxies()[proxy].frontend].maxconn = maxconn;
  Publish();
  return "";
}

std::string ProxyCliControl::SetGlobalMaxconn(uint32_t maxconn) {
  app_.proxy().global_maxconn = maxconn;
  Publish();
  return "";
}

std::string ProxyCliControl::SetRateLimit(cli::RateLimit limit, uint64_t value) {
  cp::ProxyRuntime& rt = app_.proxy();
  const uint32_t v32 = static_cast<uint32_t>(value > UINT32_MAX ? UINT32_MAX : value);
  switch (limit) {
    case cli::RateLimit::kConnections:
      rt.rate_limit_conn = v32;
      break;
    case cli::RateLimit::kSessions:
      rt.rate_limit_sess = v32;
      break;
    case cli::RateLimit::kSslSessions:
      rt.rate_limit_ssl = v32;
      return "";
    case cli::RateLimit::kHttpCompression:
      rt.rate_limit_compress_bps = value;
      return "";
  }
  Publish();
  return "";
}

}  // namespace sluice::app

namespace sluice::app {

namespace {

// A consistent copy of a worker's capture (its seqlock), or false when the worker was
// writing it or it never held anything.
bool ReadCapture(const proxy::ErrorCapture& c, proxy::ErrorCapture* out) {
  for (int attempt = 0; attempt < 8; ++attempt) {
    const uint32_t before = c.seq.load(std::memory_order_acquire);
    if (before == 0) return false;
    if (before & 1) continue;
    out->when_us = c.when_us;
    out->event = c.event;
    out->frontend = c.frontend;
    out->backend = c.backend;
    out->server = c.server;
    std::memcpy(out->src_addr, c.src_addr, sizeof out->src_addr);
    out->src_port = c.src_port;
    out->is_v6 = c.is_v6;
    out->error = c.error;
    out->len = c.len < proxy::kErrorCaptureBytes ? c.len : proxy::kErrorCaptureBytes;
    out->error_at = c.error_at;
    std::memcpy(out->data, c.data, out->len);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (c.seq.load(std::memory_order_relaxed) == before) return true;
  }
  return false;
}

}  // namespace

void ProxyCliControl::Errors(std::vector<cli::ErrorView>* out, uint64_t* total) {
  cp::ProxyRuntime& rt = app_.proxy();
  const auto& st = app_.proxy_stats();
  out->clear();
  *total = 0;
  for (const proxy::ProxyStats* s : st) *total += s->error_events.Get();
  timespec wall{};
  clock_gettime(CLOCK_REALTIME, &wall);
  const int64_t to_unix_us = static_cast<int64_t>(wall.tv_sec) * 1'000'000 + wall.tv_nsec / 1000 -
                             static_cast<int64_t>(app_.NowWorkerUs());
  auto copy = std::make_unique<proxy::ErrorCapture>();
  auto best = std::make_unique<proxy::ErrorCapture>();
  for (const cp::ProxyRt& p : rt.proxies()) {
    for (const bool request : {true, false}) {
      const int index = request ? p.frontend : p.backend;
      if (index < 0) continue;
      bool found = false;
      for (const proxy::ProxyStats* s : st) {
        const proxy::ErrorCapture& c =
            request ? s->request_errors[index] : s->response_errors[index];
        if (ReadCapture(c, copy.get()) && (!found || copy->when_us > best->when_us)) {
          std::swap(copy, best);
          found = true;
        }
      }
      if (!found) continue;
      cli::ErrorView e;
      e.request = request;
      e.proxy = p.name();
      e.proxy_iid = p.id();
      const uint32_t other = request ? best->backend : best->frontend;
      if (request && other < rt.backends().size()) {
        e.other = rt.backends()[other].name();
        e.other_iid = rt.backends()[other].conf->id;
      } else if (!request && other < rt.frontends().size()) {
        e.other = rt.frontends()[other].name();
        e.other_iid = rt.frontends()[other].conf->id;
      }
      if (best->server < rt.servers().size()) {
        e.server = rt.servers()[best->server].name();
        e.server_id = rt.servers()[best->server].id();
      }
      e.event = best->event;
      const net::IpAddr a = net::FromBytes(best->src_addr, best->is_v6);
      e.src = net::ToString(a) + ":" + std::to_string(best->src_port);
      e.unix_us = static_cast<int64_t>(best->when_us) + to_unix_us;
      e.error_at = best->error_at;
      using E = http::HeadError;
      const auto kind = static_cast<E>(best->error);
      e.start_line = kind == E::kStartLine || kind == E::kVersion || kind == E::kBareCr;
      e.data.assign(reinterpret_cast<const char*>(best->data), best->len);
      out->push_back(std::move(e));
    }
  }
}

}  // namespace sluice::app
