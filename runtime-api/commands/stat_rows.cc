// Slow path. Filling the `show stat` rows (stat_rows.h).
#include "runtime-api/commands/stat_rows.h"

#include "runtime-api/commands/proxy_lookup.h"

namespace sluice::cli {
namespace {

// The stats modules' fields, zero: Sluice has no TLS, HTTP/2 or HTTP/1 mux. ssl is printed
// for frontends, backends and servers, h2 and h1 for frontends and backends (haproxy's
// module capabilities).
void FillModules(Row& r, bool with_http_muxes) {
  r.Counters({{kSslSess, 0}, {kSslReusedSess, 0}, {kSslFailedHandshake, 0}});
  if (!with_http_muxes) return;
  for (int pos = kH2HeadersRcvd; pos <= kH1SplicedBytesOut; ++pos) {
    const bool gauge =
        pos == kH2OpenConn || pos == kH2OpenStream || pos == kH1OpenConn || pos == kH1OpenStream;
    r.U64(pos, gauge ? "MGP" : "MCP", 0);
  }
}

void FillKey(Row& r, const ProxyView& p, ObjType obj, uint32_t sid) {
  r.obj = obj;
  r.iid = p.iid;
  r.sid = sid;
  r.Str(kPxname, "KNS", p.name);
  r.U32(kPid, "KGP", 1);
  r.U32(kIid, "KGS", p.iid);
  r.U32(kSid, "KGS", sid);
  r.U32(kType, "CGS", static_cast<uint32_t>(obj));
  r.Str(kMode, "CGS", p.mode);
}

void FillHttpResponses(Row& r, const ProxyView& p, const StatCounters& c) {
  if (p.mode != "http") return;  // haproxy fills them for HTTP proxies only
  for (int pos = kHrsp1xx; pos <= kHrspOther; ++pos) {
    r.U64(pos, "MCP", c.hrsp[pos - kHrsp1xx]);
  }
}

void FillTimes(Row& r, const StatCounters& c) {
  r.U32(kQtime, "MaP", c.qtime_ms);
  r.U32(kCtime, "MaP", c.ctime_ms);
  r.U32(kRtime, "MaP", c.rtime_ms);
  r.U32(kTtime, "MaP", c.ttime_ms);
  r.U32(kQtimeMax, "MMP", c.qtime_max_ms);
  r.U32(kCtimeMax, "MMP", c.ctime_max_ms);
  r.U32(kRtimeMax, "MMP", c.rtime_max_ms);
  r.U32(kTtimeMax, "MMP", c.ttime_max_ms);
}

std::string AddrPort(const std::string& addr, uint16_t port) {
  const bool v6 = addr.find(':') != std::string::npos;
  return (v6 ? "[" + addr + "]" : addr) + ":" + std::to_string(port);
}

}  // namespace

std::string FieldText(const Field& f) {
  switch (f.type) {
    case FieldType::kU32:
    case FieldType::kU64:
      return std::to_string(f.u);
    case FieldType::kS32:
      return std::to_string(f.s);
    case FieldType::kStr:
      return f.str;
    case FieldType::kEmpty:
      break;
  }
  return "";
}

void FillFrontend(const ProxyView& p, Row& r) {
  const StatCounters& c = p.frontend;
  FillKey(r, p, ObjType::kFrontend, 0);
  r.Str(kSvname, "KNS", "FRONTEND");
  r.U32(kScur, "MGP", c.scur);
  r.U32(kSmax, "MMP", c.smax);
  r.U32(kSlim, "CLP", p.maxconn);
  r.Counters({{kStot, c.stot},
              {kBin, c.bin},
              {kBout, c.bout},
              {kDreq, c.dreq},
              {kDresp, c.dresp},
              {kEreq, c.ereq}});
  const char* status = "OPEN";
  if (p.frontend_state == FrontendState::kPaused) status = "PAUSED";
  if (p.frontend_state == FrontendState::kStopped) status = "STOP";
  r.Str(kStatus, "SGP", status);
  r.U32(kRate, "MRP", c.rate);
  r.U32(kRateLim, "CLP", p.rate_limit_sessions);
  r.U32(kRateMax, "MMP", c.rate_max);
  FillHttpResponses(r, p, c);
  r.U32(kReqRate, "MRP", 0);
  r.U32(kReqRateMax, "MMP", 0);
  r.Counters({{kReqTot, c.req_tot}, {kCompIn, 0}, {kCompOut, 0}, {kCompByp, 0}, {kCompRsp, 0}});
  r.U32(kConnRate, "MRP", c.conn_rate);
  r.U32(kConnRateMax, "MMP", c.conn_rate_max);
  r.Counters(
      {{kConnTot, c.conn_tot}, {kDcon, c.dcon}, {kDses, c.dses}, {kWrew, c.wrew}, {kEint, c.eint}});
  if (p.mode == "http") {
    r.Counters({{kIntercepted, c.intercepted}, {kCacheLookups, 0}, {kCacheHits, 0}});
  }
  FillModules(r, true);
}

BackendTotals ComputeTotals(const ProxyView& p) {
  BackendTotals t;
  uint64_t active_weight = 0;
  const ServerView* first_backup = nullptr;
  for (const ServerView& s : p.servers) {
    if (!CurrentlyUsable(s)) continue;
    if (s.backup) {
      if (first_backup == nullptr) first_backup = &s;
      ++t.bck;
    } else {
      ++t.act;
      active_weight += s.eweight;
    }
  }
  // Without active servers haproxy uses the first backup only (no `option allbackups`).
  t.weight = t.act > 0 ? active_weight : (first_backup ? first_backup->eweight : 0);
  for (const ServerView& s : p.servers) {
    if (s.op_state == ServerOpState::kStopped) continue;
    ++t.up;
    if (CurrentlyUsable(s) && (t.act == 0) == s.backup) t.uweight += s.uweight;
  }
  if (t.act == 0 && first_backup != nullptr) t.uweight = first_backup->uweight;
  return t;
}

void FillBackend(const ProxyView& p, const StatOptions& opt, Row& r) {
  const StatCounters& c = p.backend;
  const BackendTotals t = ComputeTotals(p);
  FillKey(r, p, ObjType::kBackend, 0);
  r.Str(kSvname, "KNS", "BACKEND");
  r.U32(kQcur, "MGP", c.qcur);
  r.U32(kQmax, "MMP", c.qmax);
  r.U32(kScur, "MGP", c.scur);
  r.U32(kSmax, "MMP", c.smax);
  r.U32(kSlim, "CLP", p.fullconn);
  r.Counters({{kStot, c.stot},
              {kBin, c.bin},
              {kBout, c.bout},
              {kDreq, c.dreq},
              {kDresp, c.dresp},
              {kEcon, c.econ},
              {kEresp, c.eresp},
              {kWretr, c.wretr},
              {kWredis, c.wredis}});
  std::string status = t.weight > 0 || p.servers.empty() ? "UP" : "DOWN";
  if (opt.hide_maint || opt.hide_down) {
    status += " (" + std::to_string(t.up) + "/" + std::to_string(p.servers.size()) + ")";
  }
  r.Str(kStatus, "SGP", std::move(status));
  r.U32(kWeight, "MaP", t.weight);
  r.U32(kAct, "MGP", t.act);
  r.U32(kBck, "MGP", t.bck);
  r.U64(kChkdown, "MCP", c.chkdown);
  r.U32(kLastchg, "MAP", c.lastchg_s);
  if (!p.servers.empty()) r.U32(kDowntime, "MCP", c.downtime_s);
  r.U64(kLbtot, "MCP", c.lbtot);
  r.U32(kRate, "MGP", c.rate);
  r.U32(kRateMax, "MGP", c.rate_max);
  FillHttpResponses(r, p, c);
  if (p.mode == "http") r.Counters({{kReqTot, c.req_tot}, {kCacheLookups, 0}, {kCacheHits, 0}});
  r.Counters({{kCliAbrt, c.cli_abrt},
              {kSrvAbrt, c.srv_abrt},
              {kCompIn, 0},
              {kCompOut, 0},
              {kCompByp, 0},
              {kCompRsp, 0}});
  r.S32(kLastsess, "MAP", c.lastsess_s);
  FillTimes(r, c);
  if (opt.legends) r.Str(kAlgo, "CGS", p.algo);
  r.Counters({{kWrew, c.wrew}, {kConnect, c.connect}, {kReuse, c.reuse}, {kEint, c.eint}});
  r.U32(kUweight, "MaP", t.uweight);
  // haproxy 2.6 prints these aggregates as 0 on the CLI (they mean something to its
  // Prometheus exporter only).
  r.U32(kAggServerStatus, "MGP", 0);
  r.U32(kAggServerCheckStatus, "MGP", 0);
  r.U32(kAggCheckStatus, "MGP", 0);
  FillModules(r, true);
}

void FillServer(const ProxyView& p, const ServerView& s, const StatOptions& opt, Row& r) {
  const StatCounters& c = s.counters;
  const HealthCheckView& check = s.check;
  FillKey(r, p, ObjType::kServer, s.sid);
  r.Str(kSvname, "KNS", s.name);
  r.U32(kQcur, "MGP", c.qcur);
  r.U32(kQmax, "MMP", c.qmax);
  r.U32(kScur, "MGP", c.scur);
  r.U32(kSmax, "MMP", c.smax);
  if (s.maxconn != 0) r.U32(kSlim, "CLP", s.maxconn);
  r.Counters({{kStot, c.stot},
              {kBin, c.bin},
              {kBout, c.bout},
              {kDresp, c.dresp},
              {kEcon, c.econ},
              {kEresp, c.eresp},
              {kWretr, c.wretr},
              {kWredis, c.wredis}});
  r.Str(kStatus, "SGP", ServerStatusText(s));
  r.U32(kWeight, "MaP", s.eweight);
  r.U32(kAct, "SGP", s.backup ? 0 : 1);
  r.U32(kBck, "SGP", s.backup ? 1 : 0);
  if (check.enabled) r.Counters({{kChkfail, c.chkfail}, {kChkdown, c.chkdown}});
  r.U32(kLastchg, "MAP", c.lastchg_s);
  if (check.enabled) r.U32(kDowntime, "MCP", c.downtime_s);
  if (s.maxqueue != 0) r.U32(kQlimit, "CGS", s.maxqueue);
  if (s.op_state == ServerOpState::kStarting && !s.forced_drain) {
    r.U32(kThrottle, "MaP", s.throttle_pct);
  }
  r.U64(kLbtot, "MCP", c.lbtot);
  r.U32(kRate, "MRP", c.rate);
  r.U32(kRateMax, "MMP", c.rate_max);
  if (CheckActive(check)) {
    const CheckStatusInfo& info = GetCheckStatusInfo(check.status);
    r.Str(kCheckStatus, "MOP", (check.in_progress ? "* " : "") + std::string(info.name));
    if (check.status >= CheckStatus::kL57Data) r.U32(kCheckCode, "MOP", check.code);
    if (check.status >= CheckStatus::kChecked) r.U64(kCheckDuration, "MDP", check.duration_ms);
    r.Str(kCheckDesc, "MOP", std::string(info.desc));
    r.Str(kLastChk, "MOP", check.output);
    r.U32(kCheckRise, "CGS", check.rise);
    r.U32(kCheckFall, "CGS", check.fall);
    r.U32(kCheckHealth, "CGS", check.health);
  }
  FillHttpResponses(r, p, c);
  if (p.mode == "http") r.U64(kReqTot, "MCP", c.req_tot);
  r.Counters({{kCliAbrt, c.cli_abrt}, {kSrvAbrt, c.srv_abrt}});
  r.S32(kLastsess, "MAP", c.lastsess_s);
  FillTimes(r, c);
  if (opt.legends) r.Str(kAddr, "CGS", AddrPort(s.addr, s.port));
  r.Counters({{kWrew, c.wrew}, {kConnect, c.connect}, {kReuse, c.reuse}, {kEint, c.eint}});
  // No idle-connection pools on an L4 load balancer: the connections in use are the
  // sessions.
  r.U32(kSrvIcur, "MGP", 0);
  r.U32(kIdleConnCur, "MGP", 0);
  r.U32(kSafeConnCur, "MGP", 0);
  r.U32(kUsedConnCur, "MGP", c.scur);
  r.U32(kNeedConnEst, "MGP", c.smax);  // as `show servers conn` need_est
  r.U32(kUweight, "MaP", s.uweight);
  FillModules(r, false);
}

}  // namespace sluice::cli
