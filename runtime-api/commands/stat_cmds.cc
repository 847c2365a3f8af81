// Slow path. `show stat` (CSV, typed and json, with HAProxy 2.6's 128 columns, tags and
// types), `show servers state`, `show servers conn` and `show backend`
// (../shared/compat/haproxy-2.6/RUNTIME-API.md sections 3.1, 3.2 and 3.4). The rows
// (stat_rows.h) come from a ProxyControl snapshot taken when the command starts.
#include <array>
#include <cinttypes>
#include <cstdio>

#include "runtime-api/commands/commands.h"
#include "runtime-api/commands/proxy_lookup.h"
#include "runtime-api/commands/stat_rows.h"
#include "runtime-api/commands/typed_text.h"

namespace sluice::cli {
namespace {

std::string_view TypeName(FieldType type) {
  switch (type) {
    case FieldType::kU32:
      return "u32";
    case FieldType::kS32:
      return "s32";
    case FieldType::kU64:
      return "u64";
    case FieldType::kStr:
      return "str";
    case FieldType::kEmpty:
      break;
  }
  return "";
}

// haproxy's csv_enc(): quoted, with `"` doubled, only when needed.
void AppendCsv(std::string& out, const std::string& s) {
  if (s.find_first_of("\n\r,\"") == std::string::npos) {
    out += s;
    return;
  }
  out += '"';
  for (const char c : s) {
    out += c;
    if (c == '"') out += '"';
  }
  out += '"';
}

std::string CsvHeader() {
  std::string h = "# ";
  for (int pos = 0; pos < kStatFieldCount; ++pos) {
    h.append(kFieldMeta[pos].name).append(",");
    if (pos + 1 == kStaticFieldCount) h += "-,";
  }
  h += '\n';
  return h;
}

std::string CsvLine(const Row& r) {
  std::string line;
  for (int pos = 0; pos < kStatFieldCount; ++pos) {
    if (r.f[pos].type != FieldType::kEmpty) AppendCsv(line, FieldText(r.f[pos]));
    line += ',';
    if (pos + 1 == kStaticFieldCount) line += "-,";
  }
  line += '\n';
  return line;
}

char ObjLetter(ObjType obj) {
  switch (obj) {
    case ObjType::kFrontend:
      return 'F';
    case ObjType::kBackend:
      return 'B';
    case ObjType::kServer:
      return 'S';
  }
  return '?';
}

std::string_view ObjName(ObjType obj) {
  switch (obj) {
    case ObjType::kFrontend:
      return "Frontend";
    case ObjType::kBackend:
      return "Backend";
    case ObjType::kServer:
      return "Server";
  }
  return "Unknown";
}

std::string TypedLines(const Row& r, bool desc) {
  std::string out;
  for (int pos = 0; pos < kStatFieldCount; ++pos) {
    const Field& f = r.f[pos];
    if (f.type == FieldType::kEmpty) continue;
    char key[64];
    std::snprintf(key, sizeof(key), "%c.%" PRIu32 ".%" PRIu32 ".%d.", ObjLetter(r.obj), r.iid,
                  r.sid, pos);
    out.append(key).append(kFieldMeta[pos].name).append(".1:").append(f.tags).append(":");
    out.append(TypeName(f.type)).append(":").append(FieldText(f));
    if (desc) out.append(":\"").append(kFieldMeta[pos].desc).append("\"");
    out += '\n';
  }
  return out;
}

std::string JsonObject(const Row& r) {
  std::string out = "[";
  bool first = true;
  for (int pos = 0; pos < kStatFieldCount; ++pos) {
    const Field& f = r.f[pos];
    if (f.type == FieldType::kEmpty) continue;
    if (!first) out += ',';
    first = false;
    out.append("{\"objType\":\"").append(ObjName(r.obj)).append("\",\"proxyId\":");
    out.append(std::to_string(r.iid)).append(",\"id\":").append(std::to_string(r.sid));
    out.append(",\"field\":{\"pos\":").append(std::to_string(pos)).append(",\"name\":\"");
    out.append(kFieldMeta[pos].name).append("\"},\"processNum\":1,\"tags\":{\"origin\":\"");
    out.append(TagOriginName(f.tags[0])).append("\",\"nature\":\"");
    out.append(TagNatureName(f.tags[1])).append("\",\"scope\":\"");
    out.append(TagScopeName(f.tags[2])).append("\"},\"value\":{\"type\":\"");
    out.append(TypeName(f.type)).append("\",\"value\":");
    if (f.type == FieldType::kStr) {
      AppendJsonString(out, f.str);
    } else {
      out += FieldText(f);
    }
    out += "}}";
  }
  out += ']';
  return out;
}

enum class StatFormat { kCsv, kTyped, kJson };

struct StatFilter {
  bool bound = false;  // {<iid>|<proxy>} <type> <sid> given
  int64_t iid = -1;    // -1: every proxy
  int64_t type = -1;   // bits: 1 frontends, 2 backends, 4 servers
  int64_t sid = -1;    // -1: every server
};

class ShowStatDump final : public Dump {
 public:
  ShowStatDump(std::vector<ProxyView> proxies, StatFormat format, bool desc, StatOptions opt,
               StatFilter filter)
      : proxies_(std::move(proxies)), format_(format), desc_(desc), opt_(opt), filter_(filter) {}

  DumpStatus Step(Writer& out) override {
    for (;;) {
      if (pending_.empty() && !Next(pending_)) return DumpStatus::kDone;
      if (!out.Put(pending_)) return DumpStatus::kMore;
      pending_.clear();
    }
  }

 private:
  enum class Stage { kStart, kFrontend, kServers, kBackend, kEnd, kDone };

  // The next record into `rec`; false once everything was produced.
  bool Next(std::string& rec) {
    while (rec.empty()) {
      switch (stage_) {
        case Stage::kStart:
          if (format_ == StatFormat::kCsv) rec = CsvHeader();
          if (format_ == StatFormat::kJson) rec = "[";
          stage_ = Stage::kFrontend;
          break;
        case Stage::kFrontend:
          if (px_ >= proxies_.size()) {
            stage_ = Stage::kEnd;
            break;
          }
          if (!ProxySelected(proxies_[px_])) {
            ++px_;
            break;
          }
          if (proxies_[px_].has_frontend && TypeSelected(1)) {
            Row r;
            FillFrontend(proxies_[px_], r);
            rec = Format(r);
          }
          stage_ = Stage::kServers;
          sv_ = 0;
          break;
        case Stage::kServers: {
          const ProxyView& p = proxies_[px_];
          if (sv_ >= p.servers.size()) {
            stage_ = Stage::kBackend;
            break;
          }
          const ServerView& s = p.servers[sv_++];
          if (ServerSelected(s)) {
            Row r;
            FillServer(p, s, opt_, r);
            rec = Format(r);
          }
          break;
        }
        case Stage::kBackend:
          if (proxies_[px_].has_backend && TypeSelected(2)) {
            Row r;
            FillBackend(proxies_[px_], opt_, r);
            rec = Format(r);
          }
          ++px_;
          stage_ = Stage::kFrontend;
          break;
        case Stage::kEnd:
          if (format_ == StatFormat::kJson) rec = "]\n";
          stage_ = Stage::kDone;
          break;
        case Stage::kDone:
          return false;
      }
    }
    return true;
  }

  bool ProxySelected(const ProxyView& p) const {
    return !filter_.bound || filter_.iid == -1 || p.iid == filter_.iid;
  }
  bool TypeSelected(int64_t bit) const { return !filter_.bound || (filter_.type & bit) != 0; }

  bool ServerSelected(const ServerView& s) const {
    if (filter_.bound && (!TypeSelected(4) || (filter_.sid != -1 && s.sid != filter_.sid))) {
      return false;
    }
    if (opt_.hide_maint && InMaintenance(s)) return false;
    if (opt_.hide_down) {
      if (InMaintenance(s)) return false;
      // DOWN and not changing state: unchecked, or checked with no health left.
      if (s.op_state == ServerOpState::kStopped && (!s.check.enabled || s.check.health == 0)) {
        return false;
      }
    }
    return true;
  }

  std::string Format(const Row& r) {
    switch (format_) {
      case StatFormat::kCsv:
        return CsvLine(r);
      case StatFormat::kTyped:
        return TypedLines(r, desc_);
      case StatFormat::kJson: {
        std::string rec = json_started_ ? "," : "";
        json_started_ = true;
        return rec + JsonObject(r);
      }
    }
    return "";
  }

  std::vector<ProxyView> proxies_;
  StatFormat format_;
  bool desc_;
  StatOptions opt_;
  StatFilter filter_;
  Stage stage_ = Stage::kStart;
  size_t px_ = 0;
  size_t sv_ = 0;
  bool json_started_ = false;
  std::string pending_;
};

// show stat [domain <dns|proxy>] [{<iid>|<proxy>} <type> <sid>] [typed|json] [desc]
//           [up|no-maint]   (haproxy's cli_parse_show_stat())
std::unique_ptr<Dump> ShowStat(Call& call) {
  size_t a = 2;
  bool resolvers = false;
  if (Arg(call, a) == "domain") {
    ++a;
    if (Arg(call, a) == "proxy") {
      ++a;
    } else if (Arg(call, a) == "resolvers") {
      resolvers = true;
      ++a;
    } else {
      call.Error("Invalid statistics domain.\n");
      return nullptr;
    }
  }
  ProxySnapshot snap = TakeProxySnapshot(call.appliance);
  StatFilter filter;
  if (!resolvers && !Arg(call, a).empty() && !Arg(call, a + 1).empty() &&
      !Arg(call, a + 2).empty()) {
    const size_t px = FindProxy(snap.proxies, Arg(call, a));
    filter.iid = px < snap.proxies.size() ? snap.proxies[px].iid : Atoi(Arg(call, a));
    if (filter.iid == 0) {
      call.Error("No such proxy.\n");
      return nullptr;
    }
    filter.bound = true;
    filter.type = Atoi(Arg(call, a + 1));
    filter.sid = Atoi(Arg(call, a + 2));
    a += 3;
  }
  StatFormat format = StatFormat::kCsv;
  bool desc = false;
  StatOptions opt;
  opt.legends = call.session.level >= Level::kOperator;
  for (; !Arg(call, a).empty(); ++a) {
    const std::string_view w = Arg(call, a);
    if (w == "typed") {
      format = StatFormat::kTyped;
    } else if (w == "json") {
      format = StatFormat::kJson;
    } else if (w == "desc") {
      desc = true;
    } else if (w == "no-maint") {
      opt.hide_maint = true;
    } else if (w == "up") {
      opt.hide_down = true;
    }
  }
  // Sluice has no resolvers section: that domain has no objects.
  if (resolvers) return std::make_unique<TextDump>("");
  return std::make_unique<ShowStatDump>(std::move(snap.proxies), format, desc, opt, filter);
}

// Resumes a list of prepared lines (show servers, show backend: one line per server).
class LinesDump final : public Dump {
 public:
  explicit LinesDump(std::vector<std::string> lines) : lines_(std::move(lines)) {}
  DumpStatus Step(Writer& out) override {
    for (; next_ < lines_.size(); ++next_) {
      if (!out.Put(lines_[next_])) return DumpStatus::kMore;
    }
    return DumpStatus::kDone;
  }

 private:
  std::vector<std::string> lines_;
  size_t next_ = 0;
};

constexpr std::string_view kServersStateHeader =
    "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight "
    "srv_iweight srv_time_since_last_change srv_check_status srv_check_result "
    "srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id "
    "srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr "
    "srv_agent_port\n";

std::string ServerStateLine(const ProxyView& p, const ServerView& s) {
  const HealthCheckView& check = s.check;
  char buf[160];
  std::snprintf(
      buf, sizeof(buf),
      " %u %u %" PRIu32 " %" PRIu32 " %" PRIu32 " %u %u %" PRIu32 " %u 0 0 0 - %u - 0 %u ",
      static_cast<unsigned>(s.op_state), AdminStateBits(s), s.uweight, s.iweight,
      s.counters.lastchg_s, static_cast<unsigned>(check.status),
      static_cast<unsigned>(GetCheckStatusInfo(check.status).result), check.health,
      CheckStateBits(check), static_cast<unsigned>(s.port), static_cast<unsigned>(check.port));
  // be_id be_name srv_id srv_name srv_addr, the numbers, then check addr, agent addr, port.
  return std::to_string(p.iid) + " " + p.name + " " + std::to_string(s.sid) + " " + s.name + " " +
         (s.addr.empty() ? "-" : s.addr) + buf + (check.addr.empty() ? "-" : check.addr) + " - 0\n";
}

std::string ServerConnLine(const ProxyView& p, const ServerView& s, unsigned threads) {
  // purge_delay, used_cur, used_max, need_est, unsafe_nb, safe_nb, idle_lim, idle_cur, then
  // the idle connections per thread. The pool settings are the server's (pool-purge-delay,
  // pool-max-conn); the connections in use are the sessions, and the estimate of those
  // needed is their maximum. The workers' idle connections are not counted here (0).
  const std::string used_max = std::to_string(s.counters.smax);
  std::string line = p.name + "/" + s.name + " " + std::to_string(p.iid) + "/" +
                     std::to_string(s.sid) + " " + (s.addr.empty() ? "-" : s.addr) + " " +
                     std::to_string(s.port) + " - " + std::to_string(s.purge_delay_ms) + " " +
                     std::to_string(s.counters.scur) + " " + used_max + " " + used_max +
                     " 0 0 " + std::to_string(s.pool_max_conn) + " 0";
  for (unsigned t = 0; t < threads; ++t) line += " 0";
  line += '\n';
  return line;
}

// show servers state|conn [<backend>]
std::unique_ptr<Dump> ShowServers(Call& call, bool conn) {
  ProxySnapshot snap = TakeProxySnapshot(call.appliance);
  size_t only = snap.proxies.size();
  if (!Arg(call, 3).empty()) {
    only = FindBackend(snap.proxies, Arg(call, 3));
    if (only == snap.proxies.size()) {
      call.Error("Can't find backend.\n");
      return nullptr;
    }
  }
  unsigned threads = 1;
  if (conn) {
    InfoValues info;
    call.appliance.FillInfo(info);
    threads = static_cast<unsigned>(Atoi(info.Find("Nbthread")->value));
  }
  std::vector<std::string> lines;
  if (conn) {
    lines.push_back(
        "# bkname/svname bkid/svid addr port - purge_delay used_cur used_max need_est "
        "unsafe_nb safe_nb idle_lim idle_cur idle_per_thr[" +
        std::to_string(threads) + "]\n");
  } else {
    lines.emplace_back(kServersStateHeader);
  }
  for (size_t i = 0; i < snap.proxies.size(); ++i) {
    const ProxyView& p = snap.proxies[i];
    if (!p.has_backend || (only != snap.proxies.size() && i != only)) continue;
    for (const ServerView& s : p.servers) {
      lines.push_back(conn ? ServerConnLine(p, s, threads) : ServerStateLine(p, s));
    }
  }
  return std::make_unique<LinesDump>(std::move(lines));
}
std::unique_ptr<Dump> ShowServersState(Call& call) { return ShowServers(call, false); }
std::unique_ptr<Dump> ShowServersConn(Call& call) { return ShowServers(call, true); }

std::unique_ptr<Dump> ShowBackend(Call& call) {
  ProxySnapshot snap = TakeProxySnapshot(call.appliance);
  std::vector<std::string> lines{"# name\n"};
  for (const ProxyView& p : snap.proxies) {
    if (p.has_backend) lines.push_back(p.name + "\n");
  }
  return std::make_unique<LinesDump>(std::move(lines));
}

constexpr CommandRow kStatCommands[] = {
    {{"show", "stat"},
     Level::kUser,
     &ShowStat,
     "show stat [desc|json|no-maint|typed|up]*",
     "report counters for each proxy and server"},
    {{"show", "servers", "state"},
     Level::kUser,
     &ShowServersState,
     "show servers state [<backend>]",
     "dump volatile server information (all or for a single backend)"},
    {{"show", "servers", "conn"},
     Level::kUser,
     &ShowServersConn,
     "show servers conn [<backend>]",
     "dump server connections status (all or for a single backend)"},
    {{"show", "backend"},
     Level::kUser,
     &ShowBackend,
     "show backend",
     "list backends in the current running config"},
};

}  // namespace

std::span<const CommandRow> StatCommands() { return kStatCommands; }

}  // namespace sluice::cli
