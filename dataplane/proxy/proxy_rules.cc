// Rules on the worker (docs/rules.md): tcp-request connection rules where a connection is
// accepted; tcp-request content, http-request and use_backend rules where the request
// analyzers choose the backend; the header and request-line edits they make, applied when
// the head is written for the server; and the `%[expr]` values of a log line. Everything
// evaluates in the worker's one arena and writes into bounded buffers.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <rte_mbuf.h>

#include <cstring>

#include "dataplane/http/h1_replies.h"
#include "dataplane/rules/auth.h"
#include "dataplane/rules/capture.h"
#include "dataplane/proxy/proxy.h"

namespace sluice::proxy {

using tcp::ConnId;
using tcp::kNoConn;

// What fetches like nbsrv() and be_conn read: this worker's view of the proxy.
class Proxy::Env final : public rules::ProxyEnv {
 public:
  explicit Env(const Proxy& p) : p_(p) {}
  uint32_t UsableServers(uint32_t b) const noexcept override {
    if (!p_.cfg_ || b >= p_.cfg_->backends.size()) return 0;
    const BackendSnap& be = p_.cfg_->backends[b];
    uint32_t n = 0;
    for (uint32_t i = be.first_server; i < be.first_server + be.nservers; ++i) {
      const ServerSnap& s = p_.cfg_->servers[i];
      if (s.usable && s.weight) ++n;
    }
    return n;
  }
  uint64_t BackendConns(uint32_t b) const noexcept override {
    return b < kMaxBackends ? p_.s_.stats->backends[b].cur.Get() : 0;
  }
  uint64_t FrontendConns(uint32_t f) const noexcept override {
    return f < kMaxFrontends ? p_.s_.stats->frontends[f].cur.Get() : 0;
  }
  int64_t ConnSlots(uint32_t b) const noexcept override {
    if (!p_.cfg_ || b >= p_.cfg_->backends.size()) return 0;
    const BackendSnap& be = p_.cfg_->backends[b];
    int64_t n = 0;
    for (uint32_t i = be.first_server; i < be.first_server + be.nservers; ++i) {
      const ServerSnap& s = p_.cfg_->servers[i];
      if (!s.usable || !s.weight) continue;
      if (!s.maxconn) return -1;  // HAProxy: unlimited
      const int64_t cur = static_cast<int64_t>(p_.s_.stats->servers[i].cur.Get());
      if (cur < s.maxconn) n += s.maxconn - cur;
    }
    return n;
  }

 private:
  const Proxy& p_;
};

void Proxy::MakeCtx(const Session& s, bool http, rules::Ctx* c) noexcept {
  static_assert(sizeof(Env) <= sizeof(void*) * 2);
  c->rules = rules_;
  c->pats = s_.patterns;
  c->arena = arena_;
  c->tmp = rules_tmp_;
  c->md = md_;
  c->vars = vars_;
  c->auth = auth_;
  if (nshards_) c->stick = StickFor(const_cast<Session*>(&s));  // the proxy's own session
  c->src = s.cli_key.remote_addr;
  c->dst = s.cli_key.local_addr;
  c->v6 = s.cli_key.is_v6 != 0;
  c->src_port = s.cli_key.remote_port;
  c->dst_port = s.cli_key.local_port;
  c->tls = conns_->TlsFactsOf(s.cli);
  c->frontend = s.frontend;
  c->backend = s.strm.backend;
  c->server = s.strm.server == kNoServer ? UINT32_MAX : s.strm.server;
  if (http && scratch_uid_ == s.uid) {
    c->req_head = scratch_;
    c->req = head_;
    if (BodyLoaded(s)) {
      c->req_body = body_;
      c->req_body_len = body_len_;
      c->req_body_complete = body_complete_;
    }
  }
  if (s.strm.caps) c->caps = rte_pktmbuf_mtod(s.strm.caps, uint8_t*);
  arena_->Reset();
  if (vars_->owner != s.uid) vars_->Reset(s.uid);
}

std::string_view Proxy::ServerSni(uint32_t si, uint32_t server) noexcept {
  Session& s = sessions_[si];
  // In HTTP mode the request's fetches read the head as it goes to the server (after the
  // http-request rules' edits, as HAProxy's at connect time).
  const bool head = s.strm.http && LoadHeadForServer(s);
  rules::Ctx c;
  MakeCtx(s, head, &c);
  scratch_uid_ = 0;  // not the head as received: HttpRequestXfer must not take it for that
  rules::Sample smp;
  if (!rules::Eval(rules_->server_sni[server], c, &smp)) return {};
  if (smp.type != rules::SmpType::kStr && smp.type != rules::SmpType::kBin) return {};
  return smp.str;  // in the rules' arena or scratch_, alive until the next evaluation
}

bool Proxy::TcpConnectionRules(uint32_t fe, tcp::ConnId conn) noexcept {
  if (!rules_ || fe >= rules_->frontends.size()) return true;
  const auto& list = rules_->frontends[fe].tcp_conn;
  if (list.empty()) return true;
  const Env env(*this);
  rules::Ctx c;
  c.rules = rules_;
  c.pats = s_.patterns;
  c.env = &env;
  c.arena = arena_;
  c.tmp = rules_tmp_;
  c.md = md_;
  c.vars = vars_;
  vars_->Reset(0);
  arena_->Reset();
  const tcp::FlowKey& key = tcp_->tcb(conn).key;
  c.tls = conns_->TlsFactsOf(conn);
  c.src = key.remote_addr;
  c.dst = key.local_addr;
  c.v6 = key.is_v6 != 0;
  c.src_port = key.remote_port;
  c.dst_port = key.local_port;
  c.frontend = fe;
  if (nshards_) c.stick = StickFor(nullptr);  // what is tracked here waits in pending_sc_
  for (const rules::Rule& r : list) {
    if (!rules::EvalCond(r.cond, c)) continue;
    switch (r.act) {
      case rules::Act::kAccept:
        return true;
      case rules::Act::kReject:
        if (nshards_) ReleasePending();  // what was tracked goes with the connection
        return false;
      case rules::Act::kTrackSc:
        if (nshards_) TrackSc(pending_sc_, r, c, false);
        break;
      case rules::Act::kScIncGpc:
      case rules::Act::kScSetGpt0:
        if (nshards_) StickAction(pending_sc_, r, c);
        break;
      case rules::Act::kSetVar: {
        rules::Sample smp;
        if (rules::Eval(r.expr, c, &smp)) vars_->Set(r.var, smp);
        break;
      }
      default:
        break;
    }
  }
  return true;
}

uint32_t Proxy::ChooseBackend(uint32_t si, bool http) noexcept {
  Session& s = sessions_[si];
  const uint32_t dflt = cfg_->frontends[s.frontend].backend;
  if (!rules_ || s.frontend >= rules_->frontends.size()) return dflt;
  const auto& list = rules_->frontends[s.frontend].use_backend;
  if (list.empty()) return dflt;
  const Env env(*this);
  rules::Ctx c;
  MakeCtx(s, http, &c);
  c.env = &env;
  for (const rules::UseBackend& u : list) {
    if (!rules::EvalCond(u.cond, c)) continue;
    if (u.dynamic.empty()) return u.backend;
    // A name built at run time: the backend of that name, else the default (HAProxy).
    char name[128];
    const uint32_t n = rules::EvalLogFmt(u.dynamic, c, name, sizeof name, false);
    const std::string_view want(name, n);
    for (uint32_t b = 0; b < rules_->be_names.size(); ++b) {
      if (rules_->be_names[b] == want) return b;
    }
    return dflt;
  }
  return dflt;
}

bool Proxy::RunTcpRules(Session& s, const rules::Rule* list, size_t n, bool http) noexcept {
  const Env env(*this);
  rules::Ctx c;
  MakeCtx(s, http, &c);
  c.env = &env;
  for (size_t i = 0; i < n; ++i) {
    const rules::Rule& r = list[i];
    if (!rules::EvalCond(r.cond, c)) continue;
    if (r.act == rules::Act::kAccept) break;
    if (r.act == rules::Act::kReject) return false;
    if (r.act == rules::Act::kSetVar) {
      rules::Sample smp;
      if (rules::Eval(r.expr, c, &smp)) vars_->Set(r.var, smp);
    }
    // What tcp-request session and content track is the session's (HAProxy 2.6.12).
    if (nshards_ && r.act == rules::Act::kTrackSc) TrackSc(s.sc, r, c, false);
    if (nshards_ && (r.act == rules::Act::kScIncGpc || r.act == rules::Act::kScSetGpt0)) {
      StickAction(s.sc, r, c);
    }
  }
  return true;
}

bool Proxy::TcpSessionRules(uint32_t si) noexcept {
  Session& s = sessions_[si];
  const auto& list = rules_->frontends[s.frontend].tcp_sess;
  return RunTcpRules(s, list.data(), list.size(), false);
}

Proxy::AnResult Proxy::RequestRules(uint32_t si) noexcept {
  Session& s = sessions_[si];
  Stream& t = s.strm;
  if (nshards_ && s_.stick_rings) {
    // Entries another worker owns: the stream waits for their data (proxy_stick.cc), and
    // another session's head may have been parsed meanwhile.
    if (StickAsk(si)) return AnResult::kWait;
    if (t.http && scratch_uid_ != s.uid && !LoadRequestHead(s, t.req.head.bytes())) {
      HttpReply(si, 400, 'P', 'R');
      return AnResult::kClosed;
    }
    if (t.http && cfg_->frontends[s.frontend].buffer_request && t.req.body != http::Body::kNone &&
        !BodyLoaded(s)) {
      LoadRequestBody(s);
    }
    const AnResult r = RunRequestRules(si);
    ReleasePins(t);  // what the rules tracked holds its copies now
    return r;
  }
  return RunRequestRules(si);
}

Proxy::AnResult Proxy::RunRequestRules(uint32_t si) noexcept {
  Session& s = sessions_[si];
  Stream& t = s.strm;
  edits_->uid = 0;
  vars_->Reset(s.uid);  // txn.* start empty with each request
  if (rules_ && s.frontend < rules_->frontends.size()) {
    const rules::ProxyRules& fr = rules_->frontends[s.frontend];
    if (t.http && !fr.req_caps.empty()) CaptureHeaders(s, false);
    if (t.http && nshards_) StickCountRequest(s);
    // tcp-request content: the request is complete here.
    if (!fr.tcp_content.empty() &&
        !RunTcpRules(s, fr.tcp_content.data(), fr.tcp_content.size(), t.http)) {
      s_.stats->frontends[s.frontend].denied_req.Add();
      CloseClient(si, 'P', 'R');
      return AnResult::kClosed;
    }
    if (t.http && !RunHttpRules(si, fr.http_req.data(), fr.http_req.size()))
      return AnResult::kClosed;
    if (t.http && fr.stats.on && StatsRequest(si, fr.stats, true, s.frontend)) [[unlikely]] {
      return AnResult::kClosed;
    }
  }
  t.backend = ChooseBackend(si, t.http);
  if (t.backend >= cfg_->backends.size()) {
    CloseClient(si, 'R', 'R');
    return AnResult::kClosed;
  }
  BackendStats& bs = s_.stats->backends[t.backend];  // counted from here on, as HAProxy
  bs.cur.Add();
  bs.max.Max(bs.cur.Get());
  bs.tot.Add();
  if (t.http && rules_ && t.backend < rules_->backends.size() &&
      !RunHttpRules(si, rules_->backends[t.backend].http_req.data(),
                    rules_->backends[t.backend].http_req.size())) {
    return AnResult::kClosed;
  }
  if (t.http && rules_ && t.backend < rules_->backends.size()) {
    const rules::StatsService& st = rules_->backends[t.backend].stats;
    if (st.on && StatsRequest(si, st, false, t.backend)) [[unlikely]] return AnResult::kClosed;
  }
  if (nshards_ && t.backend < rules_->backends.size() &&
      !rules_->backends[t.backend].stick_req.empty()) {
    StickingRules(si, false);
  }
  // capture cookie: once the request passed the frontend's and the backend's rules, on its
  // way to a server, as HAProxy does (a denied request logs none).
  if (t.http && rules_ && s.frontend < rules_->frontends.size() &&
      rules_->frontends[s.frontend].cookie_len &&
      (scratch_uid_ == s.uid || LoadRequestHead(s, t.req.head.bytes()))) {  // parsed again
    CaptureCookie(s, false);                                                // if it waited
  }
  return AnResult::kDone;
}

void Proxy::StickingRules(uint32_t si, bool response) noexcept {
  Session& s = sessions_[si];
  Stream& t = s.strm;
  const rules::ProxyRules& be = rules_->backends[t.backend];
  const auto& list = response ? be.stick_res : be.stick_req;
  const Env env(*this);
  rules::Ctx c;
  MakeCtx(s, t.http && !response, &c);
  c.env = &env;
  if (response && t.http) {
    c.res_head = scratch_;
    c.res = head_;
  }
  // force-persist / ignore-persist: the first whose condition holds (HAProxy evaluates them
  // once the backend is known).
  if (!response) {
    for (const rules::PersistRule& p : be.persist) {
      if (!rules::EvalCond(p.cond, c)) continue;
      t.force_persist = p.force;
      break;
    }
  }
  // Stores already kept before these rules (the request's, for store-response rules).
  const uint32_t before = t.nstores;
  for (const rules::StickRule& r : list) {
    if (r.Stores()) {  // only a table's first store applies; a later `stick on` is skipped
      bool seen = false;
      for (uint32_t i = response ? before : 0; i < t.nstores; ++i) {
        if (t.stores[i].table == r.table) seen = true;
      }
      if (seen) continue;
    }
    if (!rules::EvalCond(r.cond, c)) continue;
    rules::Sample smp;
    if (!rules::Eval(r.expr, c, &smp)) continue;
    StickRuleKey(t, r, smp, c);
  }
}

bool Proxy::RequestCond(uint32_t si, const rules::Cond& cond) noexcept {
  const Env env(*this);
  rules::Ctx c;
  MakeCtx(sessions_[si], true, &c);
  c.env = &env;
  return rules::EvalCond(cond, c);
}

bool Proxy::RunHttpRules(uint32_t si, const rules::Rule* list, size_t n) noexcept {
  if (n == 0) return true;
  Session& s = sessions_[si];
  const Env env(*this);
  rules::Ctx c;
  MakeCtx(s, !res_rules_, &c);
  c.env = &env;
  if (res_rules_) {
    c.res_head = scratch_;
    c.res = head_;
  }
  HeadEdits& ed = *edits_;
  const bool response = c.res != nullptr;
  if (ed.uid != s.uid || ed.response != response) {
    ed.uid = s.uid;
    ed.n = 0;
    ed.used = 0;
    ed.method_len = ed.target_len = 0;
    ed.response = response;
    ed.status = 0;
  }
  // A value written into the edits' buffer (truncated when it is full).
  auto put = [&](const rules::LogFmt& f, uint16_t* off, uint16_t* len) {
    *off = static_cast<uint16_t>(ed.used);
    const uint32_t n =
        rules::EvalLogFmt(f, c, ed.buf + ed.used, HeadEdits::kBytes - ed.used, false);
    *len = static_cast<uint16_t>(n);
    ed.used += n;
  };
  auto put_text = [&](std::string_view v, uint16_t* off, uint16_t* len) {
    const size_t n =
        v.size() < HeadEdits::kBytes - ed.used ? v.size() : HeadEdits::kBytes - ed.used;
    if (n) std::memcpy(ed.buf + ed.used, v.data(), n);
    *off = static_cast<uint16_t>(ed.used);
    *len = static_cast<uint16_t>(n);
    ed.used += static_cast<uint32_t>(n);
  };
  for (size_t i = 0; i < n; ++i) {
    const rules::Rule& r = list[i];
    arena_->Reset();
    if (!rules::EvalCond(r.cond, c)) continue;
    switch (r.act) {
      case rules::Act::kAllow:
        return true;
      case rules::Act::kUseService:
        StartService(si, ServiceKind::kPrometheus, true, s.frontend, false);
        return false;
      case rules::Act::kDeny:
      case rules::Act::kTarpit: {
        if (response) {
          s_.stats->backends[s.strm.backend].denied_resp.Add();
          HttpReply(si, r.status, 'P', 'H');
          return false;
        }
        s_.stats->frontends[s.frontend].denied_req.Add();
        RuleReply(si, r.status, {}, {}, true);
        return false;
      }
      case rules::Act::kSetStatus: {
        ed.status = r.status;
        std::string_view reason = r.body.empty() ? http::ReasonPhrase(r.status) : r.body;
        put_text(reason, &ed.reason_off, &ed.reason_len);
        break;
      }
      case rules::Act::kReturn: {
        char head[512];
        http::HeadWriter w(reinterpret_cast<uint8_t*>(head), sizeof head);
        char num[20];
        std::string_view body = r.body;
        char* lf = nullptr;
        if (r.body_lf) {
          lf = c.arena->Take(4096);
          if (lf) body = {lf, rules::EvalLogFmt(r.value, c, lf, 4096, false)};
        }
        w.Raw("HTTP/1.1 ");
        w.Raw(http::Decimal(r.status, num));
        w.Raw(" ");
        w.Raw(http::ReasonPhrase(r.status));
        w.Raw("\r\n");
        w.Field("content-length", http::Decimal(body.size(), num));
        if (!r.name.empty()) w.Field("content-type", r.name);
        w.End();
        RuleReply(si, r.status, {head, w.size()}, body, false);
        return false;
      }
      case rules::Act::kAuth: {
        // HAProxy 2.6's 401 (its bytes as Debian's haproxy 2.6.12 sends them), the realm
        // as written between the quotes, and the connection field for a client that
        // closes (or an HTTP/1.0 one that keeps alive).
        static constexpr std::string_view kBody =
            "<html><body><h1>401 Unauthorized</h1>\nYou need a valid user and password to "
            "access this content.\n</body></html>\n";
        char head[640];
        http::HeadWriter w(reinterpret_cast<uint8_t*>(head), sizeof head);
        char num[20];
        w.Raw("HTTP/1.1 401 Unauthorized\r\n");
        w.Field("content-length", http::Decimal(kBody.size(), num));
        w.Field("cache-control", "no-cache");
        w.Field("content-type", "text/html");
        char realm[300];
        uint32_t rn = 0;
        auto add = [&](std::string_view part) {
          const size_t k = part.size() < sizeof realm - rn ? part.size() : sizeof realm - rn;
          std::memcpy(realm + rn, part.data(), k);
          rn += static_cast<uint32_t>(k);
        };
        add("Basic realm=\"");
        add(r.name);
        add("\"");
        w.Field("www-authenticate", {realm, rn});
        const Stream& t = s.strm;
        if (!t.cli_keep_alive || t.req.body != http::Body::kNone) {
          w.Field("connection", "close");
        } else if (t.req_minor == 0) {
          w.Field("connection", "keep-alive");
        }
        w.End();
        RuleReply(si, 401, {head, w.size()}, kBody, false, 'L');
        return false;
      }
      case rules::Act::kRedirect: {
        char loc[2048];
        uint32_t n = rules::EvalLogFmt(r.value, c, loc, sizeof loc, false);
        std::string_view target = c.req->target.In(scratch_);
        if (r.redirect != rules::RedirectKind::kLocation) {
          std::string_view path = target;
          if (r.drop_query) path = path.substr(0, path.find('?'));
          if (r.redirect == rules::RedirectKind::kScheme) {
            // scheme://host/path
            const int h = c.req->Find(scratch_, "host");
            const std::string_view host =
                h < 0 ? std::string_view() : c.req->fields[h].value.In(scratch_);
            const std::string_view sep = "://";
            for (const std::string_view part : {sep, host, path}) {
              const size_t k = part.size() < sizeof loc - n ? part.size() : sizeof loc - n;
              if (k) std::memcpy(loc + n, part.data(), k);
              n += static_cast<uint32_t>(k);
            }
          } else {
            // prefix: "/" alone adds nothing before the path (HAProxy)
            if (n == 1 && loc[0] == '/') n = 0;
            const size_t k = path.size() < sizeof loc - n ? path.size() : sizeof loc - n;
            if (k) std::memcpy(loc + n, path.data(), k);
            n += static_cast<uint32_t>(k);
          }
          if (r.append_slash && n && loc[n - 1] != '/' && n < sizeof loc) loc[n++] = '/';
        }
        char head[2600];
        http::HeadWriter w(reinterpret_cast<uint8_t*>(head), sizeof head);
        char num[20];
        w.Raw("HTTP/1.1 ");
        w.Raw(http::Decimal(r.status, num));
        w.Raw(" ");
        w.Raw(http::ReasonPhrase(r.status));
        w.Raw("\r\n");
        w.Field("content-length", "0");
        w.Field("location", {loc, n});
        w.Field("cache-control", "no-cache");
        w.End();
        RuleReply(si, r.status, {head, w.size()}, {}, false);
        return false;
      }
      case rules::Act::kSetHeader:
      case rules::Act::kAddHeader:
      case rules::Act::kDelHeader: {
        if (ed.n == HeadEdits::kMax) break;  // bounded: further edits are dropped
        HeadEdits::Edit& e = ed.e[ed.n++];
        e.op = r.act == rules::Act::kDelHeader ? 0 : r.act == rules::Act::kAddHeader ? 1 : 2;
        put_text(r.name, &e.name_off, &e.name_len);
        e.value_off = e.value_len = 0;
        if (e.op) put(r.value, &e.value_off, &e.value_len);
        break;
      }
      case rules::Act::kReplaceHeader:
      case rules::Act::kReplaceValue: {
        // Every field of the name, as received, written again at the end of the head with
        // its value (or each comma-separated value) replaced where the regex matches.
        const uint8_t* head = response ? c.res_head : c.req_head;
        const http::MessageHead* h = response ? c.res : c.req;
        if (!h || !r.regex) break;
        char fmt[1024];
        const uint32_t fn = rules::EvalLogFmt(r.value, c, fmt, sizeof fmt, false);
        bool first = true;
        for (uint16_t fi = 0; fi < h->nfields && ed.n < HeadEdits::kMax; ++fi) {
          const http::HeaderField& f = h->fields[fi];
          if (!http::EqualsNoCase(f.name.In(head), r.name)) continue;
          if (first) {  // the received fields of the name go
            HeadEdits::Edit& d = ed.e[ed.n++];
            d.op = 0;
            put_text(r.name, &d.name_off, &d.name_len);
            d.value_off = d.value_len = 0;
            first = false;
            if (ed.n == HeadEdits::kMax) break;
          }
          HeadEdits::Edit& e = ed.e[ed.n++];
          e.op = 1;
          put_text(f.name.In(head), &e.name_off, &e.name_len);
          e.value_off = static_cast<uint16_t>(ed.used);
          const std::string_view v = f.value.In(head);
          size_t from = 0;
          while (from <= v.size()) {
            size_t to = r.act == rules::Act::kReplaceValue ? v.find(',', from) : v.npos;
            if (to == v.npos) to = v.size();
            std::string_view part = v.substr(from, to - from);
            while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
            while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
            if (from > 0 && HeadEdits::kBytes - ed.used >= 2) {  // values joined again
              ed.buf[ed.used++] = ',';
              ed.buf[ed.used++] = ' ';
            }
            PCRE2_SIZE out = HeadEdits::kBytes - ed.used;
            const int rc = pcre2_substitute(
                r.regex, reinterpret_cast<PCRE2_SPTR>(part.empty() ? "" : part.data()), part.size(),
                0, PCRE2_SUBSTITUTE_REPLACEMENT_ONLY, c.md, nullptr,
                reinterpret_cast<PCRE2_SPTR>(fmt), fn,
                reinterpret_cast<PCRE2_UCHAR*>(ed.buf + ed.used), &out);
            if (rc > 0) {
              ed.used += static_cast<uint32_t>(out);
            } else {  // no match (or no room): the value as it was
              const size_t k = part.size() < HeadEdits::kBytes - ed.used
                                   ? part.size()
                                   : HeadEdits::kBytes - ed.used;
              if (k) std::memcpy(ed.buf + ed.used, part.data(), k);
              ed.used += static_cast<uint32_t>(k);
            }
            from = to + 1;
          }
          e.value_len = static_cast<uint16_t>(ed.used - e.value_off);
        }
        break;
      }
      case rules::Act::kSetLogLevel:
        s.strm.log_level = static_cast<uint8_t>(r.status);
        break;
      case rules::Act::kSetMethod:
        put(r.value, &ed.method_off, &ed.method_len);
        break;
      case rules::Act::kSetPath:
      case rules::Act::kSetPathq:
      case rules::Act::kSetQuery:
      case rules::Act::kSetUri: {
        // The target as it stands (an earlier edit's, or the request's).
        const std::string_view cur =
            ed.target_len ? ed.Str(ed.target_off, ed.target_len) : c.req->target.In(scratch_);
        char val[2048];
        const uint32_t vn = rules::EvalLogFmt(r.value, c, val, sizeof val, false);
        const std::string_view v(val, vn);
        const size_t q = cur.find('?');
        const std::string_view path = cur.substr(0, q);
        const std::string_view query =
            q == std::string_view::npos ? std::string_view() : cur.substr(q);  // with '?'
        char out[4096];
        uint32_t on = 0;
        auto add = [&](std::string_view part) {
          const size_t k = part.size() < sizeof out - on ? part.size() : sizeof out - on;
          if (k) std::memcpy(out + on, part.data(), k);
          on += static_cast<uint32_t>(k);
        };
        if (r.act == rules::Act::kSetPath) {
          add(v);
          add(query);
        } else if (r.act == rules::Act::kSetQuery) {
          add(path);
          if (!v.empty()) {
            add("?");
            add(v);
          }
        } else {
          add(v);  // set-pathq, set-uri
        }
        put_text({out, on}, &ed.target_off, &ed.target_len);
        break;
      }
      case rules::Act::kSetVar: {
        rules::Sample smp;
        if (rules::Eval(r.expr, c, &smp)) vars_->Set(r.var, smp);
        break;
      }
      case rules::Act::kUnsetVar:
        vars_->Unset(r.var);
        break;
      case rules::Act::kTrackSc:
        if (nshards_) TrackSc(s.sc, r, c, true);
        break;
      case rules::Act::kScIncGpc:
      case rules::Act::kScSetGpt0:
        if (nshards_) StickAction(s.sc, r, c);
        break;
      case rules::Act::kCapture: {
        // The slot is the session's frontend's (a backend's rule names one by id).
        const auto& slots = res_rules_ ? rules_->frontends[s.frontend].res_caps
                                       : rules_->frontends[s.frontend].req_caps;
        if (r.var >= slots.size()) break;
        rules::Sample smp;
        if (!rules::Eval(r.expr, c, &smp) || !rules::AsText(smp, c)) break;
        uint8_t* block = CaptureBlock(s.strm);
        if (!block) break;
        c.caps = block;
        rules::PutCapture(block, r.var + (res_rules_ ? rules::kMaxCaptures : 0), slots[r.var].off,
                          slots[r.var].len, smp.str);
        break;
      }
      default:
        break;
    }
  }
  return true;
}

uint8_t* Proxy::CaptureBlock(Stream& t) noexcept {
  if (!t.caps) {
    rte_mbuf* m = rte_pktmbuf_alloc(s_.pool);
    if (!m) {
      tcp_->counters().Inc(counters::Counter::proxy_drop_no_mbuf);
      return nullptr;
    }
    if (rte_pktmbuf_tailroom(m) < rules::kCaptureBlock) {  // a pool too small for captures
      rte_pktmbuf_free(m);
      return nullptr;
    }
    t.caps = m;
    rules::ClearCaptures(rte_pktmbuf_mtod(m, uint8_t*));
  }
  return rte_pktmbuf_mtod(t.caps, uint8_t*);
}

void Proxy::CaptureHeaders(Session& s, bool response) noexcept {
  const auto& slots = response ? rules_->frontends[s.frontend].res_caps
                               : rules_->frontends[s.frontend].req_caps;
  const http::MessageHead& h = *head_;
  uint8_t* block = nullptr;
  for (uint32_t i = 0; i < slots.size(); ++i) {
    const rules::CaptureSlot& slot = slots[i];
    if (slot.header.empty()) continue;
    // HAProxy keeps the last field of the name, whole (commas included).
    for (uint16_t fi = h.nfields; fi-- > 0;) {
      const http::HeaderField& f = h.fields[fi];
      if (!http::EqualsNoCase(f.name.In(scratch_), slot.header)) continue;
      if (!block && !(block = CaptureBlock(s.strm))) return;
      rules::PutCapture(block, i + (response ? rules::kMaxCaptures : 0), slot.off, slot.len,
                        f.value.In(scratch_));
      break;
    }
  }
}

namespace {

// Whether cookie `name` is one `capture cookie` takes (its name starts with `prefix`); then
// writes "name=value" cut to `cap` bytes into `out` (its length byte before it).
bool TakeCookie(std::string_view name, std::string_view value, std::string_view prefix,
                uint8_t cap, uint8_t* out) noexcept {
  if (name.size() < prefix.size() || name.substr(0, prefix.size()) != prefix) return false;
  uint32_t n = 0;
  for (const std::string_view part : {name, std::string_view("="), value}) {
    for (size_t i = 0; i < part.size() && n < cap; ++i) {
      out[1 + n++] = static_cast<uint8_t>(part[i]);
    }
  }
  out[0] = static_cast<uint8_t>(n);
  return true;
}

}  // namespace

void Proxy::CaptureCookie(Session& s, bool response) noexcept {
  const rules::ProxyRules& fr = rules_->frontends[s.frontend];
  const http::MessageHead& h = *head_;
  uint8_t* block = nullptr;
  for (uint16_t fi = 0; fi < h.nfields; ++fi) {
    const http::HeaderField& f = h.fields[fi];
    if (!http::EqualsNoCase(f.name.In(scratch_), response ? "set-cookie" : "cookie")) continue;
    std::string_view v = f.value.In(scratch_), name, value;
    while (http::NextCookie(&v, &name, &value)) {  // a response's: its first pair only
      if (!block && !(block = CaptureBlock(s.strm))) return;
      if (TakeCookie(name, value, fr.cookie_name, fr.cookie_len,
                     rules::CookieCapture(block, response))) {
        return;
      }
      if (response) break;
    }
  }
}

static_assert(kLogCookieBytes == rules::kCookieCaptureBytes);
static_assert(kLogCaptures == rules::kMaxCaptures && kLogCaptureBytes == rules::kCaptureBytes &&
              kLogSampleMissing == rules::kNotCaptured);

void Proxy::LogCaptures(const Session& s, LogRecord* r) const noexcept {
  r->ncap_req = r->ncap_res = 0;
  if (!rules_ || s.frontend >= rules_->frontends.size()) return;
  const rules::ProxyRules& fr = rules_->frontends[s.frontend];
  const uint8_t* block = s.strm.caps ? rte_pktmbuf_mtod(s.strm.caps, const uint8_t*) : nullptr;
  uint32_t used = 0;
  for (const bool response : {false, true}) {
    const auto& slots = response ? fr.res_caps : fr.req_caps;
    for (uint32_t i = 0; i < slots.size(); ++i) {
      const uint32_t entry = i + (response ? rules::kMaxCaptures : 0);
      std::string_view v;
      uint16_t len = rules::kNotCaptured;
      if (block && rules::GetCapture(block, entry, slots[i].off, &v) &&
          v.size() <= rules::kCaptureBytes - used) {
        std::memcpy(r->caps + used, v.data(), v.size());
        used += static_cast<uint32_t>(v.size());
        len = static_cast<uint16_t>(v.size());
      }
      r->cap_len[entry] = len;
    }
    (response ? r->ncap_res : r->ncap_req) = static_cast<uint8_t>(slots.size());
    std::string_view cookie;
    uint8_t& len = r->cookie_len[response];
    len = kLogCookieMissing;
    if (fr.cookie_len && rules::GetCookieCapture(block, response, &cookie)) {
      std::memcpy(r->cookies[response], cookie.data(), cookie.size());
      len = static_cast<uint8_t>(cookie.size());
    }
  }
}

void Proxy::RuleReply(uint32_t si, uint16_t code, std::string_view head, std::string_view body,
                      bool error_page, char cause) noexcept {
  Session& s = sessions_[si];
  Stream& t = s.strm;
  // The request's head is answered here: it leaves the input; a body still to come makes the
  // connection close after the answer.
  const uint32_t head_len = t.req.head.bytes();
  if (head_len <= s.req_in.bytes) {
    DropFront(s.req_in, head_len);
    if (s.cli != kNoConn) conns_->Consumed(s.cli, head_len);
  }
  // A body option http-buffer-request read whole leaves too, and the connection goes on
  // (as HAProxy's).
  uint32_t body_len = UINT32_MAX;
  if (t.req.body == http::Body::kLength && t.req.left <= s.req_in.bytes &&
      cfg_->frontends[s.frontend].buffer_request) {
    body_len = static_cast<uint32_t>(t.req.left);
  } else if (t.req.body == http::Body::kChunked && t.body_scan.done() &&
             cfg_->frontends[s.frontend].buffer_request) {
    body_len = t.body_scanned;
  }
  if (t.req.body != http::Body::kNone && body_len <= s.req_in.bytes) {
    DropFront(s.req_in, body_len);
    if (s.cli != kNoConn) conns_->Consumed(s.cli, body_len);
    t.req.state = MsgState::kDone;
  } else if (t.req.body == http::Body::kNone) {
    t.req.state = MsgState::kDone;
  } else {
    t.cli_keep_alive = false;
  }
  if (error_page) return HttpReply(si, code, cause, 'R');
  HttpReplyText(si, code, head, body, cause, 'R');
}

bool Proxy::ResponseRules(uint32_t si) noexcept {
  if (!rules_) return true;
  Session& s = sessions_[si];
  Stream& t = s.strm;
  const rules::Rule* lists[2] = {nullptr, nullptr};
  size_t sizes[2] = {0, 0};
  if (t.backend < rules_->backends.size()) {
    lists[0] = rules_->backends[t.backend].http_res.data();
    sizes[0] = rules_->backends[t.backend].http_res.size();
  }
  if (s.frontend < rules_->frontends.size()) {
    lists[1] = rules_->frontends[s.frontend].http_res.data();
    sizes[1] = rules_->frontends[s.frontend].http_res.size();
    if (!rules_->frontends[s.frontend].res_caps.empty()) CaptureHeaders(s, true);
  }
  bool go = true;
  if (sizes[0] || sizes[1]) {
    res_rules_ = true;
    for (int i = 0; i < 2 && go; ++i) go = RunHttpRules(si, lists[i], sizes[i]);
    res_rules_ = false;
  }
  // capture cookie: once the answer passed the rules, as HAProxy does (1xx answers never
  // come here).
  if (go && s.frontend < rules_->frontends.size() && rules_->frontends[s.frontend].cookie_len) {
    CaptureCookie(s, true);
  }
  return go;
}

bool Proxy::EditDrops(std::string_view name) const noexcept {
  const HeadEdits& ed = *edits_;
  for (uint32_t i = 0; i < ed.n; ++i) {
    if (ed.e[i].op != 1 && http::EqualsNoCase(ed.Str(ed.e[i].name_off, ed.e[i].name_len), name)) {
      return true;
    }
  }
  return false;
}

void Proxy::WriteEdits(http::HeadWriter& w) const noexcept {
  const HeadEdits& ed = *edits_;
  for (uint32_t i = 0; i < ed.n; ++i) {
    const HeadEdits::Edit& e = ed.e[i];
    if (e.op == 0) continue;
    const std::string_view name = ed.Str(e.name_off, e.name_len);
    bool later = false;  // a later del-header or set-header of the name removes this one
    for (uint32_t j = i + 1; j < ed.n; ++j) {
      if (ed.e[j].op != 1 && http::EqualsNoCase(ed.Str(ed.e[j].name_off, ed.e[j].name_len), name)) {
        later = true;
      }
    }
    if (!later) w.Field(name, ed.Str(e.value_off, e.value_len));
  }
}

void Proxy::LogSamples(const Session& s, LogRecord* r) noexcept {
  r->nsamples = 0;
  if (!rules_ || s.frontend >= rules_->frontends.size()) return;
  const auto& exprs = rules_->frontends[s.frontend].log_exprs;
  if (exprs.empty()) return;
  const Env env(*this);
  rules::Ctx c;
  MakeCtx(s, false, &c);
  c.env = &env;
  uint32_t used = 0;
  for (const rules::LogFmt& f : exprs) {
    if (r->nsamples == kLogSamples) break;
    rules::Sample smp;
    const rules::Expr& e = f.pieces[0].expr;
    uint16_t len = kLogSampleMissing;
    if (rules::Eval(e, c, &smp) && rules::AsText(smp, c)) {
      const uint32_t n = rules::EscapeControls(smp.str, r->samples + used, kLogSampleBytes - used);
      used += n;
      len = static_cast<uint16_t>(n);
    }
    r->sample_len[r->nsamples++] = len;
  }
}

}  // namespace sluice::proxy
