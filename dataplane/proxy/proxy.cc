// Sessions: accept, request analyzers, server choice, connect with retries, queues,
// splicing, timeouts, close. Log records and request answers: proxy_report.cc.
//
// Re-entrancy rule: Abort() and Shutdown() may call OnClosed() for the connection at once.
// Before the proxy aborts one of its own connections it detaches it (conn::Conns::
// AbortDetached), so the callback finds nothing and the caller finishes the session itself.
#include "dataplane/proxy/proxy.h"
#include "dataplane/rules/auth.h"

#include <rte_byteorder.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include <cstring>
#include <new>

#include "dataplane/net/net.h"

namespace sluice::proxy {

static_assert(ProxyConfigSnap{}.http_head_bytes == http::kMaxHeadBytes &&
              ProxyConfigSnap{}.http_htx_head == http::kMaxHtxHead &&
              ProxyConfigSnap{}.http_max_fields == http::kMaxHeaders);

using tcp::ConnId;
using tcp::kNoConn;

void MbufFifo::Push(rte_mbuf* chain) noexcept {
  while (chain) {
    rte_mbuf* next = chain->next;
    chain->next = nullptr;
    chain->nb_segs = 1;
    chain->pkt_len = chain->data_len;
    if (chain->data_len == 0) {
      rte_pktmbuf_free_seg(chain);
    } else {
      bytes += chain->data_len;
      if (tail) {
        tail->next = chain;
      } else {
        head = chain;
      }
      tail = chain;
    }
    chain = next;
  }
}

void MbufFifo::PushSynth(rte_mbuf* chain, uint32_t len) noexcept {
  LB_ASSERT(bytes == synth);
  rte_mbuf* last = chain;
  while (last->next) last = last->next;
  if (tail) {
    tail->next = chain;
  } else {
    head = chain;
  }
  tail = last;
  bytes += len;
  synth += len;
}

rte_mbuf* MbufFifo::Pop() noexcept {
  rte_mbuf* seg = head;
  if (!seg) return nullptr;
  head = seg->next;
  if (!head) tail = nullptr;
  seg->next = nullptr;
  bytes -= seg->data_len;
  synth -= synth < seg->data_len ? synth : seg->data_len;
  return seg;
}

void MbufFifo::FreeAll() noexcept {
  while (head) {
    rte_mbuf* next = head->next;
    head->next = nullptr;
    rte_pktmbuf_free_seg(head);
    head = next;
  }
  tail = nullptr;
  bytes = 0;
  synth = 0;
}

Proxy::~Proxy() {
  if (sessions_) {
    for (uint32_t i = 0; i < max_sessions_; ++i) {
      // The wheel is the worker's and outlives the table: no node of ours may stay in it.
      if (wheel_) wheel_->Cancel(&sessions_[i].timer);
      sessions_[i].strm.to_srv.Clear();
      sessions_[i].strm.to_cli.Clear();
      sessions_[i].strm.res_in.Clear();
      sessions_[i].req_in.Clear();
      if (sessions_[i].strm.retry_head) rte_pktmbuf_free(sessions_[i].strm.retry_head);
      if (sessions_[i].strm.req_line) rte_pktmbuf_free(sessions_[i].strm.req_line);
      if (sessions_[i].strm.caps) rte_pktmbuf_free(sessions_[i].strm.caps);
    }
    rte_free(sessions_);
  }
  rte_free(free_);
  rte_free(scratch_);
  rte_free(body_);
  rte_free(out_);
  rte_free(head_);
  rte_free(arena_);
  rte_free(rules_tmp_);
  rte_free(vars_);
  rte_free(edits_);
  rte_free(calls_);
  rules::FreeMatchData(md_);
  delete auth_;
  FreeStick();
}

bool Proxy::Init(const char* name, const Setup& setup, conn::Conns* conns, int socket_id) {
  s_ = setup;
  conns_ = conns;
  tcp_ = &conns->tcp();
  max_sessions_ = setup.max_conns;
  sessions_ = static_cast<Session*>(
      rte_zmalloc_socket(name, sizeof(Session) * max_sessions_, 64, socket_id));
  free_ = static_cast<uint32_t*>(
      rte_zmalloc_socket(name, sizeof(uint32_t) * max_sessions_, 64, socket_id));
  scratch_ =
      static_cast<uint8_t*>(rte_malloc_socket(name, http::kMaxHeadBytesCap, 64, socket_id));
  out_ = static_cast<uint8_t*>(rte_malloc_socket(name, kHeadOutBytesCap, 64, socket_id));
  body_ = static_cast<uint8_t*>(
      rte_malloc_socket(name, http::kMaxHeadBytesCap + 1, 64, socket_id));
  head_ = static_cast<http::MessageHead*>(
      rte_zmalloc_socket(name, sizeof(http::MessageHead), 64, socket_id));
  arena_ = static_cast<rules::Arena*>(rte_malloc_socket(name, sizeof(rules::Arena), 64, socket_id));
  rules_tmp_ = static_cast<char*>(rte_malloc_socket(name, rules::kArenaBytes, 64, socket_id));
  vars_ = static_cast<rules::Vars*>(rte_zmalloc_socket(name, sizeof(rules::Vars), 64, socket_id));
  edits_ = static_cast<HeadEdits*>(rte_zmalloc_socket(name, sizeof(HeadEdits), 64, socket_id));
  md_ = rules::NewMatchData();
  auth_ = new (std::nothrow) rules::AuthCache();
  wheel_ = setup.timers;
  if (!InitStick(name, socket_id) || !ws_.Init() || !InitServices(name, socket_id)) return false;
  if (!sessions_ || !free_ || !setup.timers || !setup.stats || !scratch_ || !out_ || !body_ ||
      !head_ ||
      !arena_ || !rules_tmp_ || !vars_ || !edits_ || !md_ || !auth_) {
    return false;
  }
  new (head_) http::MessageHead();
  new (arena_) rules::Arena();
  new (vars_) rules::Vars();
  new (edits_) HeadEdits();
  for (uint32_t i = 0; i < max_sessions_; ++i) new (&sessions_[i]) Session();
  // Lowest indices first: the stack is popped from the end.
  for (uint32_t i = 0; i < max_sessions_; ++i) free_[i] = max_sessions_ - 1 - i;
  nfree_ = max_sessions_;
  wheel_ = setup.timers;
  return true;
}

void Proxy::SetConfig(const ProxyConfigSnap* cfg, const ListenerSnap* listeners,
                      uint64_t version) noexcept {
  if (!cfg || !listeners) {  // both or neither
    cfg = nullptr;
    listeners = nullptr;
  }
  cfg_ = cfg;
  listeners_ = listeners;
  // The same root as last iteration (almost always): nothing to compare.
  if (version == version_ || !cfg) return;
  version_ = version;
  if (cfg->generation != cfg_generation_) {
    cfg_generation_ = cfg->generation;
    balancer_.Reset();
    for (uint32_t b = 0; b < cfg->backends.size() && b < kMaxBackends; ++b) ServeQueue(b);
    for (uint32_t v = 0; v < cfg->servers.size() && v < kMaxServers; ++v) {
      if (srv_queues_[v].len) ServeServerQueue(v);
    }
  }
  if (listeners->generation != listeners_generation_) {
    listeners_generation_ = listeners->generation;
    ReconcileListeners();
  }
}

void Proxy::ReconcileListeners() noexcept {
  const BindSnap* binds = listeners_->binds;
  const uint32_t n = listeners_->nbinds;
  for (uint32_t i = 0; i < tcp::kMaxListeners; ++i) {
    const bool want = i < n && binds[i].open && binds[i].frontend < cfg_->frontends.size();
    if (listening_[i] && !want) {
      tcp_->Unlisten(listened_[i]);
      listening_[i] = false;
    } else if (!listening_[i] && want) {
      if (tcp_->Listen(binds[i].local, kBindTagBase + i)) {
        listened_[i] = binds[i].local;
        listening_[i] = true;
      } else {
        tcp_->counters().Inc(counters::Counter::proxy_drop_listener_table_full);
      }
    }
  }
}

uint32_t Proxy::NewSession() noexcept {
  if (nfree_ == 0) return UINT32_MAX;
  const uint32_t si = free_[--nfree_];
  Session& s = sessions_[si];
  s.~Session();
  new (&s) Session();
  // The id names the worker (id % workers) and the slot ((id / workers) % slots), so a
  // request about one session goes to one worker and one slot; the sequence number keeps
  // ids of one slot apart over time.
  s.uid = ((next_seq_++ * max_sessions_) + si) * s_.nworkers + s_.worker;
  ++nsessions_;
  return si;
}

void Proxy::RunRequestAnalyzers(uint32_t si) noexcept { AnalyzeRequest(si); }

inline void Proxy::AnalyzeRequest(uint32_t si) noexcept {
  Session& s = sessions_[si];
  // Each pending analyzer in bit order, as HAProxy's process_stream() walks AN_REQ_*: one
  // that waits keeps its bit and parks the session (more input, or `timeout client`); one
  // that closed the session ends the walk.
  auto run = [&](uint16_t an, AnResult (Proxy::*analyzer)(uint32_t)) {
    if (s.strm.req_an == 0) return true;
    if (!(s.strm.req_an & an)) return true;
    const AnResult r = (this->*analyzer)(si);
    if (r == AnResult::kWait) ArmSessionTimer(si);
    if (r != AnResult::kDone) return false;
    s.strm.req_an = static_cast<uint16_t>(s.strm.req_an & ~an);
    return true;
  };
  if (!run(kAnReqWaitHttp, &Proxy::WaitHttpRequest)) return;
  if (!run(kAnReqHttpBody, &Proxy::WaitHttpBody)) return;
  if (!run(kAnReqSwitching, &Proxy::SwitchingRules)) return;
  if (!run(kAnReqHttpXfer, &Proxy::HttpRequestXfer)) return;
  // Server selection where the request analyzers finish.
  s.strm.retries_left = cfg_->backends[s.strm.backend].retries;
  s.strm.phase = Phase::kConnecting;  // until a server is chosen or the session queues
  Dispatch(si);
}

inline Proxy::AnResult Proxy::SwitchingRules(uint32_t si) noexcept {
  Session& s = sessions_[si];
  if (rules_ && rules_->active) [[unlikely]] return RequestRules(si);
  s.strm.backend = cfg_->frontends[s.frontend].backend;
  if (s.strm.backend >= cfg_->backends.size()) {
    CloseClient(si, 'R', 'R');
    return AnResult::kClosed;
  }
  BackendStats& bs = s_.stats->backends[s.strm.backend];  // counted from here on, as HAProxy
  bs.cur.Add();
  bs.max.Max(bs.cur.Get());
  bs.tot.Add();
  return AnResult::kDone;
}

void Proxy::OnAccepted(ConnId c, uint32_t tag) noexcept {
  const uint32_t bi = tag - kBindTagBase;
  // listeners_ is null exactly when cfg_ is, and a bind's frontend is always one of cfg_'s
  // (the control plane builds both parts from one state).
  if (!listeners_ || bi >= listeners_->nbinds) {
    conns_->Abort(c);
    return;
  }
  const uint32_t fe = listeners_->binds[bi].frontend;
  const bool open = listeners_->binds[bi].open;
  const FrontendSnap& f = cfg_->frontends[fe];
  FrontendStats& fs = s_.stats->frontends[fe];
  if (cfg_->rate_limit_cps && !RateAllows(cfg_->rate_limit_cps)) {
    fs.denied.Add();
    tcp_->counters().Inc(counters::Counter::proxy_drop_rate_limit);
    conns_->Abort(c);
    return;
  }
  if (!open || (f.maxconn && fs.cur.Get() >= f.maxconn) ||
      (cfg_->global_maxconn && nsessions_ >= cfg_->global_maxconn)) {
    fs.denied.Add();
    tcp_->counters().Inc(counters::Counter::proxy_drop_maxconn);
    conns_->Abort(c);
    return;
  }
  if (rules_ && rules_->active && !TcpConnectionRules(fe, c)) [[unlikely]] {
    fs.denied.Add();  // dcon: refused by tcp-request connection reject
    tcp_->counters().Inc(counters::Counter::proxy_drop_tcp_request_reject);
    conns_->Abort(c);
    return;
  }
  const uint32_t si = NewSession();
  if (nshards_ && (pending_sc_[0].e || pending_sc_[1].e || pending_sc_[2].e)) [[unlikely]] {
    // Counters tracked by tcp-request connection: the session's from here on.
    if (si == UINT32_MAX) {
      ReleasePending();
    } else {
      for (int k = 0; k < 3; ++k) {
        sessions_[si].sc[k] = pending_sc_[k];
        pending_sc_[k] = Session::StkCtr{};
      }
    }
  }
  if (si == UINT32_MAX) {
    fs.errors.Add();
    tcp_->counters().Inc(counters::Counter::proxy_drop_session_table_full);
    conns_->Abort(c);
    return;
  }
  Session& s = sessions_[si];
  const uint64_t now = tcp_->now_us();
  s.cli = c;
  conns_->Attach(c, conn::kClient, si);
  if (f.ka.idle_ms) tcp_->SetKeepalive(c, f.ka.idle_ms, f.ka.intvl_ms, f.ka.cnt);
  s.frontend = fe;
  s.accept_us = s.last_cli_us = s.strm.last_srv_us = now;
  s.cli_key = tcp_->tcb(c).key;
  const base::TlsFacts* tls = conns_->TlsFactsOf(c);
  s.ssl_version = tls ? tls->version : 0;
  s.ssl_cipher = tls ? tls->cipher : nullptr;
  fs.cur.Add();
  fs.max.Max(fs.cur.Get());
  fs.tot.Add();
  if (f.log == LogMode::kConnect) Log(s, true);  // "Connect from": no backend in it
  s.strm.phase = Phase::kRequest;
  s.strm.http = f.http;
  s.strm.req_an = f.http ? kHttpModeAnalyzers : kTcpModeAnalyzers;
  s.strm.req_start_us = now;
  s.nstreams = 1;
  if (rules_ && rules_->active && !rules_->frontends[fe].tcp_sess.empty() &&
      !TcpSessionRules(si)) [[unlikely]] {
    fs.denied_sess.Add();  // dses: refused by tcp-request session reject, with no log line
    s.strm.log_level = kLogLevelSilent;
    s.strm.term = TermState{'P', 'R'};
    KillSession(si, 'P');
    return;
  }
  AnalyzeRequest(si);
}

uint32_t Proxy::PickServer(uint32_t si, uint32_t exclude, bool* full) noexcept {
  const Session& s = sessions_[si];
  const tcp::FlowKey& k = tcp_->tcb(s.cli).key;
  return balancer_.Pick(*cfg_, *s_.stats, s.strm.backend, k.remote_addr, k.is_v6 != 0, exclude,
                        full, s.strm.lb_hash);
}

bool Proxy::RateAllows(uint32_t per_second) noexcept {
  // A fixed one-second window per worker: `set rate-limit connections global` divided
  // between the workers.
  const uint64_t now_ms = tcp_->now_us() / 1000;
  if (now_ms - rate_window_ms_ >= 1000) {
    rate_window_ms_ = now_ms;
    rate_count_ = 0;
  }
  if (rate_count_ >= per_second) return false;
  ++rate_count_;
  return true;
}

void Proxy::Dispatch(uint32_t si) noexcept {
  bool full = false;
  Stream& t = sessions_[si].strm;
  if (t.stick_srv != kNoServer) [[unlikely]] {  // a stick match's server, when it may serve
    bool stuck_full = false;
    const uint32_t stuck = StuckServer(t, &stuck_full);
    if (stuck != kNoServer) {
      t.stuck = true;
      if (!ConnectTo(si, stuck)) ConnectFailed(si, false);
      return;
    }
    if (stuck_full) {  // HAProxy queues it on that server, not on the backend
      t.srv_queued = true;
      Enqueue(si);
      return;
    }
  }
  const uint32_t srv = PickServer(si, kNoServer, &full);
  if (srv != kNoServer) {
    if (!ConnectTo(si, srv)) ConnectFailed(si, false);
    return;
  }
  if (full) {
    Enqueue(si);
    return;
  }
  CloseClient(si, 'S', 'C');  // no server available
}

bool Proxy::ConnectTo(uint32_t si, uint32_t server) noexcept {
  Session& s = sessions_[si];
  const ServerSnap& sv = cfg_->servers[server];
  s.strm.server = server;
  // A server whose TLS name comes from the stream (`sni EXPR`) gets a connection of the
  // stream's own: another stream's might carry another name.
  const bool own_sni = rules_ && server < rules_->server_sni_set.size() &&
                       rules_->server_sni_set[server];
  // An idle connection to this server first (the worker's pool; only streams that can
  // reuse one ever park one there), else a new one.
  if (conns_->HasIdle() && s.strm.http && !s.strm.no_reuse && !own_sni && ReuseAllowed(s) &&
      TakeIdle(si, server)) {
    return true;
  }
  tcp::FlowKey key;
  ConnId c =
      conns_->Connect(sv.addr, sv.is_v6, rte_cpu_to_be_16(sv.port), conn::kServer, si, &key);
  if (c == kNoConn) return false;
  s.strm.own_sni = own_sni;
  if (!conns_->StartTls(c, server, own_sni ? ServerSni(si, server) : std::string_view()))
      [[unlikely]] {
    conns_->AbortDetached(&c);
    return false;
  }
  s.strm.srv = c;
  s.strm.srv_key = key;
  s.strm.phase = Phase::kConnecting;
  s.strm.connect_us = tcp_->now_us();
  CountServerPick(s);
  ArmSessionTimer(si);
  return true;
}

// http-reuse: `safe` gives pooled connections to a session's later requests only (its first
// one opens its own), `aggressive` and `always` to every request, `never` to none.
bool Proxy::ReuseAllowed(const Session& s) const noexcept {
  const HttpReuse r = cfg_->backends[s.strm.backend].reuse;
  return r == HttpReuse::kAlways || r == HttpReuse::kAggressive ||
         (r == HttpReuse::kSafe && s.nstreams > 1);
}

inline void Proxy::CountServerPick(Session& s) noexcept {
  ServerStats& ss = s_.stats->servers[s.strm.server];
  ss.cur.Add();
  ss.max.Max(ss.cur.Get());
  ss.tot.Add();
  if (!s.strm.stuck) [[likely]] {  // chosen by the balancer, not by a stick match
    ss.lbtot.Add();
    s_.stats->backends[s.strm.backend].lbtot.Add();
  }
  s.strm.holds_slot = true;
}

bool Proxy::TakeIdle(uint32_t si, uint32_t server) noexcept {
  Session& s = sessions_[si];
  const ServerSnap& sv = cfg_->servers[server];
  for (ConnId c = conns_->TakeIdle(server, conn::kServer, si); c != kNoConn;
       c = conns_->TakeIdle(server, conn::kServer, si)) {
    const tcp::FlowKey& key = tcp_->tcb(c).key;
    // Parked before `set server addr`: not this server any more.
    if (std::memcmp(key.remote_addr, sv.addr, 16) != 0 ||
        key.remote_port != rte_cpu_to_be_16(sv.port)) {
      conns_->AbortDetached(&c);
      continue;
    }
    s.strm.srv = c;
    s.strm.srv_key = key;
    s.strm.connect_us = tcp_->now_us();
    CountServerPick(s);
    s_.stats->servers[server].reuse.Add();
    s.strm.reused = true;
    if (s.strm.http) KeepRetryCopy(s);
    Established(si);
    return true;
  }
  return false;
}

void Proxy::ReleaseServer(uint32_t si) noexcept {
  Session& s = sessions_[si];
  if (!s.strm.holds_slot) return;
  s.strm.holds_slot = false;
  s_.stats->servers[s.strm.server].cur.Sub();
  if (srv_queues_[s.strm.server].len) ServeServerQueue(s.strm.server);
  ServeQueue(s.strm.backend);
}

void Proxy::ConnectFailed(uint32_t si, bool timeout) noexcept {
  Session& s = sessions_[si];
  const uint32_t failed = s.strm.server;
  BackendStats& bs = s_.stats->backends[s.strm.backend];
  if (failed != kNoServer) {
    s_.stats->servers[failed].econ.Add();
    bs.econ.Add();
  }
  ReleaseServer(si);
  if (s.cli == kNoConn) return MaybeFinish(si);
  if (s.strm.retries_left == 0 || failed == kNoServer || !cfg_) {
    CloseClient(si, timeout ? 's' : 'S', 'C');
    return;
  }
  --s.strm.retries_left;
  s_.stats->servers[failed].retries.Add();
  bs.retries.Add();
  // Retry the same server while it is usable; with `option redispatch`, another one.
  uint32_t next = failed;
  const BackendSnap& be = cfg_->backends[s.strm.backend];
  if (be.redispatch || !cfg_->servers[failed].usable) {
    bool full = false;
    next = PickServer(si, failed, &full);
    if (next == kNoServer) {
      if (full) return Enqueue(si);
      CloseClient(si, 'S', 'C');
      return;
    }
    if (next != failed) {
      s.strm.redispatched = true;
      s_.stats->servers[failed].redispatches.Add();
      bs.redispatches.Add();
    }
  }
  if (!ConnectTo(si, next)) CloseClient(si, 'S', 'C');
}

void Proxy::Enqueue(uint32_t si) noexcept {
  Session& s = sessions_[si];
  Queue& q = s.strm.srv_queued ? srv_queues_[s.strm.stick_srv] : queues_[s.strm.backend];
  s.strm.phase = Phase::kQueued;
  s.strm.queue_us = tcp_->now_us();
  s.strm.queue_next = UINT32_MAX;
  if (q.tail == UINT32_MAX) {
    q.head = si;
  } else {
    sessions_[q.tail].strm.queue_next = si;
  }
  q.tail = si;
  ++q.len;
  if (s.strm.srv_queued) {
    ServerStats& ss = s_.stats->servers[s.strm.stick_srv];
    ss.qcur.Add();
    ss.qmax.Max(ss.qcur.Get());
  } else {
    BackendStats& bs = s_.stats->backends[s.strm.backend];
    bs.qcur.Add();
    bs.qmax.Max(bs.qcur.Get());
  }
  ArmSessionTimer(si);
}

void Proxy::Unqueue(uint32_t si) noexcept {
  Session& s = sessions_[si];
  if (s.strm.phase != Phase::kQueued) return;
  Queue& q = s.strm.srv_queued ? srv_queues_[s.strm.stick_srv] : queues_[s.strm.backend];
  uint32_t prev = UINT32_MAX;
  for (uint32_t i = q.head; i != UINT32_MAX; prev = i, i = sessions_[i].strm.queue_next) {
    if (i != si) continue;
    if (prev == UINT32_MAX) {
      q.head = s.strm.queue_next;
    } else {
      sessions_[prev].strm.queue_next = s.strm.queue_next;
    }
    if (q.tail == si) q.tail = prev;
    --q.len;
    break;
  }
  s.strm.queue_next = UINT32_MAX;
  s.strm.phase = Phase::kConnecting;
  const uint64_t waited_ms = (tcp_->now_us() - s.strm.queue_us) / 1000;
  if (s.strm.srv_queued) {
    s_.stats->servers[s.strm.stick_srv].qcur.Sub();
    s_.stats->servers[s.strm.stick_srv].qtime_ms_sum.Add(waited_ms);
    s.strm.srv_queued = false;
    return;
  }
  BackendStats& bs = s_.stats->backends[s.strm.backend];
  bs.qcur.Sub();
  bs.qtime_ms_sum.Add(waited_ms);
}

void Proxy::ServeServerQueue(uint32_t server) noexcept {
  if (!cfg_ || server >= kMaxServers) return;
  Queue& q = srv_queues_[server];
  while (q.head != UINT32_MAX) {
    const uint32_t si = q.head;
    Stream& t = sessions_[si].strm;
    bool full = false;
    const uint32_t stuck = StuckServer(t, &full);
    if (full) return;  // still no free slot: wait, in order
    Unqueue(si);
    if (stuck != kNoServer) {
      t.stuck = true;
      if (!ConnectTo(si, stuck)) ConnectFailed(si, false);
      continue;
    }
    t.stick_srv = kNoServer;  // the server may not take it any more: the balancer's choice
    Dispatch(si);
  }
}

void Proxy::ServeQueue(uint32_t backend) noexcept {
  if (!cfg_ || backend >= kMaxBackends) return;
  Queue& q = queues_[backend];
  while (q.head != UINT32_MAX) {
    const uint32_t si = q.head;
    bool full = false;
    const uint32_t srv = PickServer(si, kNoServer, &full);
    if (srv == kNoServer && full) return;  // still no free slot: wait, in order
    Unqueue(si);
    if (srv == kNoServer) {
      CloseClient(si, 'S', 'Q');
      continue;
    }
    if (!ConnectTo(si, srv)) ConnectFailed(si, false);
  }
}

void Proxy::Forward(uint32_t si, bool to_server) noexcept {
  Session& s = sessions_[si];
  const ConnId src = to_server ? s.cli : s.strm.srv;
  const ConnId dst = to_server ? s.strm.srv : s.cli;
  MbufFifo& fifo = to_server ? s.strm.to_srv : s.strm.to_cli;
  if (dst == kNoConn) {
    if (src != kNoConn) conns_->Consumed(src, fifo.bytes - fifo.synth);
    fifo.Clear();
    return;
  }
  while (fifo.head) {
    rte_mbuf* seg = fifo.head;
    rte_mbuf* next = seg->next;
    seg->next = nullptr;
    const uint32_t len = seg->data_len;
    if (!conns_->Send(dst, seg)) {  // the send queue is full: OnWritable resumes
      seg->next = next;
      return;
    }
    fifo.head = next;
    if (!next) fifo.tail = nullptr;
    fifo.bytes -= len;
    const uint32_t own = fifo.synth < len ? fifo.synth : len;  // written here, not received
    fifo.synth -= own;
    if (src != kNoConn && len > own) conns_->Consumed(src, len - own);
  }
  if (s.strm.http && !s.strm.tunnel) {
    // HTTP: a FIN is not passed on (the connections may carry more requests); the
    // transaction's end decides (EndTransaction).
    if (!to_server && s.strm.res.state == MsgState::kDone) EndTransaction(si);
    return;
  }
  // Everything passed on: pass the half-close on too.
  if (to_server && s.cli_eof && !s.strm.srv_shut) {
    s.strm.srv_shut = true;
    conns_->Shutdown(dst);
  } else if (!to_server && s.strm.srv_eof && !s.cli_shut) {
    s.cli_shut = true;
    conns_->Shutdown(dst);
  }
}

void Proxy::CloseClient(uint32_t si, char cause, char phase) noexcept {
  Session& s = sessions_[si];
  // HTTP: an answer before the close, as HAProxy gives one: 408 for a request that did not
  // come in time, 503 when no server could take it.
  if (s.strm.http && s.cli != kNoConn && !s.strm.res_head_sent && s.strm.phase != Phase::kClosing) {
    // Silent: a client that closed, and one idle between requests (not a new connection
    // that never spoke: that one gets the 408, as in HAProxy).
    const bool idle = s.nstreams > 1 && s.req_in.bytes == 0;
    const bool silent = phase == 'R' && (cause == 'C' || (cause == 'c' && idle));
    if (!silent) {
      return HttpReply(si, phase == 'R' && cause == 'c' ? 408 : 503, cause, phase);
    }
    if (cause == 'C') s.strm.status = 400;  // HAProxy logs a client gone early as a 400
  }
  if (s.strm.term.cause == '-') s.strm.term = TermState{cause, phase};
  conns_->AbortDetached(&s.cli);
  KillSession(si, cause);
}

void Proxy::KillSession(uint32_t si, char cause) noexcept {
  Session& s = sessions_[si];
  // HTTP: the server failed before its response head: 504 on its timeout, 502 otherwise.
  if (s.strm.http && s.strm.phase == Phase::kEstablished && !s.strm.res_head_sent &&
      s.cli != kNoConn && (cause == 's' || cause == 'S')) {
    if (cause == 'S' && RetryOnNewConnection(si)) return;
    // A server failing a later request of a keep-alive client: the client connection closes
    // without an answer, so that the client may send it again (HAProxy 2.6).
    if (!(cause == 'S' && s.nstreams > 1 && s.strm.res.head.bytes() == 0)) {
      return HttpReply(si, cause == 's' ? 504 : 502, cause, 'H');
    }
  }
  if (s.strm.term.cause == '-') {
    // A session an operator killed while data flowed logs `K-` as HAProxy 2.6 does (checked
    // on Debian's haproxy, TCP and HTTP mode: it sets no phase for a kill).
    const char phase = s.strm.phase == Phase::kRequest      ? 'R'
                       : s.strm.phase == Phase::kQueued     ? 'Q'
                       : s.strm.phase == Phase::kConnecting ? 'C'
                       : cause == 'K'                       ? '-'
                                                            : 'D';
    s.strm.term = TermState{cause, phase};
  }
  conns_->AbortDetached(&s.strm.srv);
  conns_->AbortDetached(&s.cli);
  MaybeFinish(si);
}

// A session ends when both its connections are gone: first its stream (the log line, the
// backend's and server's counters, the buffers), then the session itself (the frontend's
// count and the slot), and last the server slot it held, so that a queued session may take
// it.
void Proxy::MaybeFinish(uint32_t si) noexcept {
  Session& s = sessions_[si];
  if (s.strm.phase == Phase::kFree || s.cli != kNoConn || s.strm.srv != kNoConn) return;
  Unqueue(si);
  wheel_->Cancel(&s.timer);
  // An HTTP session whose last stream ended already (kClosing), or that was idle between
  // requests, has nothing left to log (HAProxy logs neither).
  const bool idle =
      s.strm.http && s.strm.phase == Phase::kRequest && s.nstreams > 1 && s.req_in.bytes == 0;
  if (cfg_ && s.frontend < cfg_->frontends.size() &&
      cfg_->frontends[s.frontend].log == LogMode::kSession && s.strm.phase != Phase::kClosing &&
      !idle) {
    Log(s, false);
  }
  s.req_in.Clear();
  s_.stats->frontends[s.frontend].cur.Sub();
  FinishStream(s);
  if (nshards_) StickRelease(s, true);
  s.strm.phase = Phase::kFree;  // before the queue is served: nothing may pick it up again
  --nsessions_;
  free_[nfree_++] = si;
  ReleaseServer(si);
}

void Proxy::FinishStream(Session& s) noexcept {
  Stream& t = s.strm;
  const uint64_t now = tcp_->now_us();
  if (t.backend < kMaxBackends && cfg_ && t.backend < cfg_->backends.size()) {
    BackendStats& bs = s_.stats->backends[t.backend];
    bs.cur.Sub();
    bs.ttime_ms_sum.Add((now - s.accept_us) / 1000);
    bs.timed.Add();
    if (t.term.cause == 'C') bs.cli_abrt.Add();
    if (t.term.cause == 'S' && t.term.phase == 'D') bs.srv_abrt.Add();
    if (t.server != kNoServer) {
      ServerStats& ss = s_.stats->servers[t.server];
      if (t.term.cause == 'C') ss.cli_abrt.Add();
      if (t.term.cause == 'S' && t.term.phase == 'D') ss.srv_abrt.Add();
      ss.ttime_ms_sum.Add((now - s.accept_us) / 1000);
      ss.timed.Add();
      ss.last_sess_ms.Set(now / 1000);
    }
  }
  t.to_srv.Clear();
  t.to_cli.Clear();
  t.res_in.Clear();
  if (t.retry_head) {
    rte_pktmbuf_free(t.retry_head);
    t.retry_head = nullptr;
  }
  if (t.req_line) {
    rte_pktmbuf_free(t.req_line);
    t.req_line = nullptr;
  }
  if (t.caps) [[unlikely]] {
    rte_pktmbuf_free(t.caps);
    t.caps = nullptr;
  }
  if (t.call != kNoCall) [[unlikely]] FreeCall(t);
  if (nshards_) StickRelease(s, false);
}

uint64_t Proxy::DeadlineUs(const Session& s, char* cause) const noexcept {
  auto at = [](uint64_t from_us, uint32_t ms) { return ms ? from_us + 1000ull * ms : UINT64_MAX; };
  const FrontendSnap& fe = cfg_->frontends[s.frontend];
  if (s.strm.phase == Phase::kRequest) {  // waiting for the client's request: `timeout client`
    *cause = 'c';
    if (s.strm.http && (s.strm.req_an & (kAnReqWaitHttp | kAnReqHttpBody))) {
      // HTTP: between requests `timeout http-keep-alive`, then `timeout http-request` from
      // the stream's start, each falling back to the next (HAProxy 2.6).
      const uint32_t req_ms = fe.http_request_ms ? fe.http_request_ms : fe.client_ms;
      if (s.nstreams > 1 && s.req_in.bytes == 0) {
        return at(s.strm.req_start_us, fe.http_keep_alive_ms ? fe.http_keep_alive_ms : req_ms);
      }
      return at(s.strm.req_start_us, req_ms);
    }
    return at(s.last_cli_us, fe.client_ms);
  }
  if (s.strm.phase == Phase::kClosing) {  // our FIN is out: `timeout client-fin` applies
    *cause = 'c';
    const uint32_t ms = fe.client_fin_ms ? fe.client_fin_ms : fe.client_ms;
    return at(s.last_cli_us, ms ? ms : 5000);
  }
  if (s.strm.phase == Phase::kService) {  // the client's timeout, from the last byte either way
    *cause = 'c';
    const uint64_t last = s.last_cli_us > s.strm.last_srv_us ? s.last_cli_us : s.strm.last_srv_us;
    return at(last, fe.client_ms);
  }
  const BackendSnap& be = cfg_->backends[s.strm.backend];
  switch (s.strm.phase) {
    case Phase::kQueued:  // `timeout queue` defaults to `timeout connect` (HAProxy)
      *cause = 's';
      return at(s.strm.queue_us, be.queue_ms ? be.queue_ms : be.connect_ms);
    case Phase::kConnecting:  // no `timeout connect`: the stack's SYN retries bound it
      *cause = 's';
      return at(s.strm.connect_us, be.connect_ms);
    case Phase::kEstablished: {
      // Both directions idle: `timeout tunnel` when set, else the first of client/server.
      const uint64_t last = s.last_cli_us > s.strm.last_srv_us ? s.last_cli_us : s.strm.last_srv_us;
      // A direction shut (a FIN either way): `timeout client-fin` and `server-fin`, where set,
      // stand for `timeout client` and `server` and override `timeout tunnel` (HAProxy).
      const bool half = s.cli_eof || s.cli_shut || s.strm.srv_eof || s.strm.srv_shut;
      const uint32_t cli_fin = half ? fe.client_fin_ms : 0;
      const uint32_t srv_fin = half ? be.server_fin_ms : 0;
      if (be.tunnel_ms && (!s.strm.http || s.strm.tunnel) && !cli_fin && !srv_fin) {
        *cause = 'c';
        return at(last, be.tunnel_ms);
      }
      const bool tunnel = be.tunnel_ms && (!s.strm.http || s.strm.tunnel);
      const uint64_t cli = at(last, cli_fin ? cli_fin : tunnel ? be.tunnel_ms : fe.client_ms);
      const uint64_t srv = at(last, srv_fin ? srv_fin : tunnel ? be.tunnel_ms : be.server_ms);
      *cause = cli <= srv ? 'c' : 's';
      return cli <= srv ? cli : srv;
    }
    case Phase::kService:
    case Phase::kRequest:
    case Phase::kClosing:
    case Phase::kFree:
      break;
  }
  return UINT64_MAX;
}

void Proxy::ArmSessionTimer(uint32_t si) noexcept {
  Session& s = sessions_[si];
  if (!cfg_ || (s.strm.phase != Phase::kRequest && s.strm.phase != Phase::kClosing &&
                s.strm.phase != Phase::kService && s.strm.backend >= cfg_->backends.size())) {
    return;
  }
  char cause = '-';
  const uint64_t deadline_us = DeadlineUs(s, &cause);
  if (deadline_us == UINT64_MAX) {
    wheel_->Cancel(&s.timer);
    return;
  }
  wheel_->Arm(&s.timer, (deadline_us + 999) / 1000);
}

void Proxy::OnSessionTimer(uint32_t si) noexcept {
  Session& s = sessions_[si];
  if (s.strm.phase == Phase::kFree || !cfg_) return;
  char cause = '-';
  // Activity since the timer was armed moves the deadline: the timer is re-armed lazily.
  if (tcp_->now_us() < DeadlineUs(s, &cause)) return ArmSessionTimer(si);
  switch (s.strm.phase) {
    case Phase::kQueued:
      Unqueue(si);
      CloseClient(si, cause, 'Q');
      return;
    case Phase::kConnecting:  // drop this attempt and retry
      conns_->AbortDetached(&s.strm.srv);
      ConnectFailed(si, true);
      return;
    case Phase::kEstablished:
    case Phase::kService:
      KillSession(si, cause);
      return;
    case Phase::kRequest:
      CloseClient(si, cause, 'R');
      return;
    case Phase::kClosing:
      conns_->AbortDetached(&s.cli);
      MaybeFinish(si);
      return;
    case Phase::kFree:
      return;
  }
}

void Proxy::OnConnected(ConnId c) noexcept { Established(conns_->IndexOf(c)); }

inline void Proxy::Established(uint32_t idx) noexcept {
  Session& s = sessions_[idx];
  const ConnId c = s.strm.srv;
  const uint64_t now = tcp_->now_us();
  s.strm.phase = Phase::kEstablished;
  s.strm.established_us = s.strm.last_srv_us = now;
  const KeepaliveSnap& ka = cfg_->backends[s.strm.backend].ka;
  if (ka.idle_ms) tcp_->SetKeepalive(c, ka.idle_ms, ka.intvl_ms, ka.cnt);
  s_.stats->backends[s.strm.backend].ctime_ms_sum.Add((now - s.strm.connect_us) / 1000);
  s_.stats->servers[s.strm.server].ctime_ms_sum.Add((now - s.strm.connect_us) / 1000);
  ArmSessionTimer(idx);
  // TCP mode: the response analyzers start here, store rules among them (HTTP mode runs them
  // on the response head).
  if (!s.strm.http && nshards_) [[unlikely]] StickOnResponse(idx);
  Forward(idx, true);
}

void Proxy::OnData(ConnId c, rte_mbuf* data, uint32_t len) noexcept {
  const uint32_t ref = conns_->Ref(c);
  const uint32_t idx = conn::Conns::IndexOfRef(ref);
  Session& s = sessions_[idx];
  const uint64_t now = tcp_->now_us();
  if (conn::Conns::RoleOfRef(ref) == conn::kClient) {
    s.last_cli_us = now;
    s.strm.bytes_in += len;
    s_.stats->frontends[s.frontend].bin.Add(len);
    if (s.strm.backend < kMaxBackends) s_.stats->backends[s.strm.backend].bin.Add(len);
    if (s.strm.server != kNoServer) s_.stats->servers[s.strm.server].bin.Add(len);
    if (s.strm.http) {
      s.req_in.Push(data);
      return HttpClientData(idx);
    }
    s.strm.to_srv.Push(data);
    if (s.strm.phase == Phase::kEstablished) {
      Forward(idx, true);
    } else if (s.strm.phase == Phase::kRequest) {
      RunRequestAnalyzers(idx);  // an analyzer waiting for the request's bytes
    }
  } else {
    s.strm.last_srv_us = now;
    s.strm.bytes_out += len;
    s_.stats->frontends[s.frontend].bout.Add(len);
    s_.stats->backends[s.strm.backend].bout.Add(len);
    s_.stats->servers[s.strm.server].bout.Add(len);
    if (s.strm.http) {
      s.strm.res_in.Push(data);
      return HttpServerData(idx);
    }
    s.strm.to_cli.Push(data);
    Forward(idx, false);
  }
}

void Proxy::OnWritable(ConnId c) noexcept {
  const uint32_t ref = conns_->Ref(c);
  Forward(conn::Conns::IndexOfRef(ref), conn::Conns::RoleOfRef(ref) == conn::kServer);
}

void Proxy::OnPeerClosed(ConnId c) noexcept {
  const uint32_t ref = conns_->Ref(c);
  const uint32_t idx = conn::Conns::IndexOfRef(ref);
  Session& s = sessions_[idx];
  if (conn::Conns::RoleOfRef(ref) == conn::kClient) {
    s.cli_eof = true;
    if (s.strm.http) {
      HttpClientData(idx);
    } else if (s.strm.phase == Phase::kEstablished) {
      Forward(idx, true);
    }
  } else {
    s.strm.srv_eof = true;
    if (s.strm.http) {
      HttpServerData(idx);
    } else {
      Forward(idx, false);
    }
  }
  // A direction is shut: `timeout client-fin` or `server-fin` may bring the deadline closer
  // than the one the timer was armed for (it only ever moves later by itself).
  if (s.strm.phase == Phase::kEstablished) ArmSessionTimer(idx);
}

void Proxy::OnClosed(ConnId c, tcp::CloseReason why) noexcept {
  const uint32_t ref = conns_->Ref(c);
  const uint32_t idx = conn::Conns::IndexOfRef(ref);
  const conn::Role role = conn::Conns::RoleOfRef(ref);
  conns_->Detach(c);
  Session& s = sessions_[idx];
  const bool abnormal = why != tcp::CloseReason::kNormal;
  if (role == conn::kClient) {
    s.cli = kNoConn;
    if (abnormal) return KillSession(idx, 'C');
    // HTTP: a client gone before its answer was sent ends the stream.
    if (s.strm.http && s.strm.phase != Phase::kClosing && s.strm.phase != Phase::kRequest) {
      return KillSession(idx, 'C');
    }
    // A normal close: both directions are done on the client side.
    if (s.strm.srv != kNoConn && s.strm.phase != Phase::kEstablished) return KillSession(idx, 'C');
    return MaybeFinish(idx);
  }
  s.strm.srv = kNoConn;
  if (s.strm.phase == Phase::kConnecting)
    return ConnectFailed(idx, why == tcp::CloseReason::kTimeout);
  if (abnormal) return KillSession(idx, 'S');
  if (s.strm.http) {
    // A response read to the close ends here; one cut short is the server's abort.
    s.strm.srv_eof = true;
    HttpServerData(idx);
    if (s.strm.phase == Phase::kEstablished && s.strm.res.state != MsgState::kDone) {
      return KillSession(idx, 'S');
    }
    return MaybeFinish(idx);
  }
  // The server side is done; what it sent may still be on its way to the client.
  if (s.strm.to_cli.bytes == 0 && !s.cli_shut && s.cli != kNoConn) {
    s.cli_shut = true;
    conns_->Shutdown(s.cli);
  }
  MaybeFinish(idx);
}

void Proxy::OnTimer(base::TimerNode* n) noexcept {
  // The nodes live inside the session table: recover the index from the address.
  const auto* raw = reinterpret_cast<const char*>(n);
  const auto* base = reinterpret_cast<const char*>(sessions_);
  OnSessionTimer(static_cast<uint32_t>((raw - base) / static_cast<ptrdiff_t>(sizeof(Session))));
}

}  // namespace sluice::proxy
