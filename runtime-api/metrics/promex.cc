// Slow path. The Prometheus exporter's text (promex.h). Which object gives which sample, and
// how, follows haproxy 2.6.12's addons/promex/service-prometheus.c as
// tests/fixtures/promex-2.6.12/README.md records it; the values are those of `show stat`'s
// rows (commands/stat_rows.h) and `show info`, so the two never disagree.
#include "runtime-api/metrics/promex.h"

#include <cinttypes>
#include <cstdio>
#include <string>
#include <vector>

#include "runtime-api/commands/proxy_lookup.h"
#include "runtime-api/commands/stat_rows.h"
#include "runtime-api/protocol/url.h"

namespace sluice::cli {
namespace {

enum class MetricType { kGauge, kCounter };

struct InfoFamily {
  std::string_view suffix;
  MetricType type;
  std::string_view field;  // the `show info` name
  std::string_view help;
};
struct StatFamily {
  std::string_view suffix;
  MetricType type;
  int pos;  // stat_fields.def position
  bool fe, be, srv, li;
  std::string_view help;
};

constexpr MetricType kGauge = MetricType::kGauge;
constexpr MetricType kCounter = MetricType::kCounter;

constexpr InfoFamily kInfoFamilies[] = {
#define SL_PROMEX_INFO(suffix, type, field, help) {suffix, type, field, help},
#define SL_PROMEX_STAT(suffix, type, pos, fe, be, srv, li, help)
#include "runtime-api/metrics/promex_families.def"
#undef SL_PROMEX_INFO
#undef SL_PROMEX_STAT
};
constexpr StatFamily kStatFamilies[] = {
#define SL_PROMEX_INFO(suffix, type, field, help)
#define SL_PROMEX_STAT(suffix, type, pos, fe, be, srv, li, help) \
  {suffix, type, pos, fe != 0, be != 0, srv != 0, li != 0, help},
#include "runtime-api/metrics/promex_families.def"
#undef SL_PROMEX_INFO
#undef SL_PROMEX_STAT
};
constexpr size_t kInfoCount = std::size(kInfoFamilies);
constexpr size_t kStatCount = std::size(kStatFamilies);

// Families promex prints for HTTP proxies only.
bool HttpOnly(int pos) {
  switch (pos) {
    case kHrsp1xx:
    case kReqRateMax:
    case kReqTot:
    case kIntercepted:
    case kCacheLookups:
    case kCacheHits:
    case kCompIn:
    case kCompOut:
    case kCompByp:
    case kCompRsp:
      return true;
    default:
      return false;
  }
}

// Averages and maxima in milliseconds, printed in seconds.
bool InSeconds(int pos) {
  switch (pos) {
    case kQtime:
    case kCtime:
    case kRtime:
    case kTtime:
    case kQtimeMax:
    case kCtimeMax:
    case kRtimeMax:
    case kTtimeMax:
      return true;
    default:
      return false;
  }
}

constexpr std::string_view kHrspCodes[] = {"1xx", "2xx", "3xx", "4xx", "5xx", "other"};
// promex_srv_st[]: the server `status` and backend `agg_server_*` label values.
constexpr std::string_view kServerStates[] = {"DOWN", "UP", "MAINT", "DRAIN", "NOLB"};
enum ServerState { kDown, kUp, kMaint, kDrain, kNolb };

ServerState PromexServerState(const ServerView& s) {
  ServerState st = kDown;
  if (s.op_state == ServerOpState::kRunning || s.op_state == ServerOpState::kStarting) {
    st = s.forced_drain ? kDrain : kUp;
  } else if (s.op_state == ServerOpState::kStopping) {
    st = kNolb;
  }
  if (InMaintenance(s)) st = kMaint;
  return st;
}

// The health-check statuses promex labels: those whose result is at least "failed".
std::vector<CheckStatus> LabelledCheckStatuses() {
  std::vector<CheckStatus> out;
  for (int i = 0; i <= static_cast<int>(CheckStatus::kProcOk); ++i) {
    const auto st = static_cast<CheckStatus>(i);
    if (GetCheckStatusInfo(st).result >= 2) out.push_back(st);
  }
  return out;
}

std::string Seconds(uint64_t ms) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%f", static_cast<double>(ms) / 1000.0);
  return buf;
}

// One family's lines: the header before its first sample, none without samples.
class Family {
 public:
  Family(std::string name, std::string_view help, MetricType type)
      : name_(std::move(name)), help_(help), type_(type) {}
  // `labels`: `proxy="p",server="s"` (empty: no braces).
  void Sample(std::string_view labels, std::string_view value) {
    if (text_.empty()) {
      text_.append("# HELP ").append(name_).append(" ").append(help_).append("\n# TYPE ");
      text_.append(name_).append(type_ == kCounter ? " counter\n" : " gauge\n");
    }
    text_.append(name_);
    if (!labels.empty()) text_.append("{").append(labels).append("}");
    text_.append(" ").append(value).append("\n");
  }
  std::string Take() { return std::move(text_); }

 private:
  std::string name_;
  std::string_view help_;
  MetricType type_;
  std::string text_;
};

std::string Label(std::string_view name, std::string_view value) {
  std::string out(name);
  out.append("=\"").append(value).append("\"");
  return out;
}

std::string ProxyLabel(const ProxyView& p) { return Label("proxy", p.name); }
std::string ServerLabels(const ProxyView& p, const ServerView& s) {
  return ProxyLabel(p) + "," + Label("server", s.name);
}

// The per-worker counters' descriptions, by name (dataplane/counters/worker_counters.def).
std::string_view CounterHelp(std::string_view name) {
  struct Desc {
    std::string_view name, help;
  };
  static constexpr Desc kDescs[] = {
#define SLUICE_COUNTER(name, help) {#name, help},
#include "dataplane/counters/worker_counters.def"
#undef SLUICE_COUNTER
      {"rx_pkts", "frames received from the ports by this worker"},
      {"tx_pkts", "frames handed to the ports"},
  };
  for (const Desc& d : kDescs) {
    if (d.name == name) return d.help;
  }
  return "per-worker counter";
}

bool IsGaugeCounter(std::string_view name) {
  return name == "snapshot_version" || name.ends_with("_max");
}

class PromexDump final : public Dump {
 public:
  PromexDump(ApplianceContext& appliance, const PromexQuery& q) : q_(q) {
    appliance.FillInfo(info_);
    proxies_ = TakeProxySnapshot(appliance).proxies;
    if ((q.scopes & kPromexStickTable) != 0 && appliance.Stick() != nullptr) {
      stick_ = appliance.Stick();
      pending_ = stick_->Used(&used_);
    }
    if ((q.scopes & kPromexGlobal) != 0) {
      appliance.Activity(activity_);
      if (PatternControl* pc = appliance.Patterns()) {
        acls_ = pc->List(false);
        maps_ = pc->List(true);
      }
    }
    for (const ProxyView& p : proxies_) {
      rows_.push_back({});
      if (p.has_frontend) FillFrontend(p, rows_.back().front);
      if (p.has_backend) FillBackend(p, StatOptions{}, rows_.back().back);
      for (const ServerView& s : p.servers) {
        rows_.back().servers.emplace_back();
        FillServer(p, s, StatOptions{}, rows_.back().servers.back());
      }
    }
  }

  DumpStatus Step(Writer& out) override {
    if (pending_) {
      std::string err;
      if (pending_->Poll(&err) == Gather::kWait) return DumpStatus::kWait;
      pending_.reset();
    }
    for (;;) {
      if (text_.empty()) {
        if (stage_ == Stage::kDone) return DumpStatus::kDone;
        text_ = NextFamily();
        continue;
      }
      if (!out.Put(text_)) return DumpStatus::kMore;
      text_.clear();
    }
  }

 private:
  enum class Stage { kProcess, kFrontend, kBackend, kServer, kStick, kWorkers, kPatterns, kDone };
  struct ProxyRows {
    Row front, back;
    std::vector<Row> servers;
  };

  // The next family's text ("" when it has no sample), advancing the cursor.
  std::string NextFamily() {
    const size_t i = index_++;
    switch (stage_) {
      case Stage::kProcess:
        if (i >= kInfoCount) return Advance(Stage::kFrontend);
        return (q_.scopes & kPromexGlobal) != 0 ? ProcessFamily(kInfoFamilies[i]) : "";
      case Stage::kFrontend:
        if (i >= kStatCount) return Advance(Stage::kBackend);
        return (q_.scopes & kPromexFrontend) != 0 && kStatFamilies[i].fe
                   ? FrontendFamily(kStatFamilies[i])
                   : "";
      case Stage::kBackend:
        if (i >= kStatCount) return Advance(Stage::kServer);
        return (q_.scopes & kPromexBackend) != 0 && kStatFamilies[i].be
                   ? BackendFamily(kStatFamilies[i])
                   : "";
      case Stage::kServer:
        if (i >= kStatCount) return Advance(Stage::kStick);
        return (q_.scopes & kPromexServer) != 0 && kStatFamilies[i].srv
                   ? ServerFamily(kStatFamilies[i])
                   : "";
      case Stage::kStick:
        if (i >= 2) return Advance(Stage::kWorkers);
        return (q_.scopes & kPromexStickTable) != 0 ? StickFamily(i == 1) : "";
      case Stage::kWorkers:
        if (i >= activity_.rows.size()) return Advance(Stage::kPatterns);
        return WorkerFamily(activity_.rows[i]);
      case Stage::kPatterns:
        if (i >= 2) return Advance(Stage::kDone);
        return PatternFamily(i == 1);
      case Stage::kDone:
        break;
    }
    return "";
  }
  std::string Advance(Stage next) {
    stage_ = next;
    index_ = 0;
    return "";
  }

  std::string ProcessFamily(const InfoFamily& fam) {
    Family f("haproxy_process_" + std::string(fam.suffix), fam.help, fam.type);
    if (fam.field == "Build info") {
      const InfoField* v = info_.Find("Version");
      f.Sample(Label("version", v != nullptr ? v->value : ""), "1");
      return f.Take();
    }
    const InfoField* v = info_.Find(fam.field);
    const bool numeric = v != nullptr && v->type != InfoType::kStr && !v->value.empty();
    f.Sample("", numeric ? v->value : "NaN");
    return f.Take();
  }

  std::string FrontendFamily(const StatFamily& fam) {
    Family f("haproxy_frontend_" + std::string(fam.suffix), fam.help, fam.type);
    if (fam.pos == kHrsp1xx) return HttpResponses(f, /*servers=*/false, /*front=*/true);
    for (size_t i = 0; i < proxies_.size(); ++i) {
      const ProxyView& p = proxies_[i];
      if (!p.has_frontend || (HttpOnly(fam.pos) && p.mode != "http")) continue;
      if (fam.pos == kStatus) {
        const bool up = p.frontend_state != FrontendState::kStopped;
        f.Sample(ProxyLabel(p) + ",state=\"DOWN\"", up ? "0" : "1");
        f.Sample(ProxyLabel(p) + ",state=\"UP\"", up ? "1" : "0");
        continue;
      }
      f.Sample(ProxyLabel(p), Value(rows_[i].front, fam.pos));
    }
    return f.Take();
  }

  std::string BackendFamily(const StatFamily& fam) {
    Family f("haproxy_backend_" + std::string(fam.suffix), fam.help, fam.type);
    if (fam.pos == kHrsp1xx) return HttpResponses(f, false, false);
    for (size_t i = 0; i < proxies_.size(); ++i) {
      const ProxyView& p = proxies_[i];
      if (!p.has_backend || (HttpOnly(fam.pos) && p.mode != "http")) continue;
      const std::string labels = ProxyLabel(p);
      switch (fam.pos) {
        case kStatus: {
          const bool up = ComputeTotals(p).weight > 0 || p.servers.empty();
          f.Sample(labels + ",state=\"DOWN\"", up ? "0" : "1");
          f.Sample(labels + ",state=\"UP\"", up ? "1" : "0");
          break;
        }
        case kAggServerStatus:
        case kAggServerCheckStatus: {
          if (p.servers.empty()) break;
          uint32_t count[std::size(kServerStates)] = {};
          for (const ServerView& s : p.servers) ++count[PromexServerState(s)];
          for (size_t k = 0; k < std::size(kServerStates); ++k) {
            f.Sample(labels + "," + Label("state", kServerStates[k]), std::to_string(count[k]));
          }
          break;
        }
        case kAggCheckStatus: {
          if (p.servers.empty()) break;
          for (const CheckStatus st : check_statuses_) {
            uint32_t n = 0;
            for (const ServerView& s : p.servers) n += s.check.status == st ? 1 : 0;
            f.Sample(labels + "," + Label("state", GetCheckStatusInfo(st).name), std::to_string(n));
          }
          break;
        }
        default:
          f.Sample(labels, Value(rows_[i].back, fam.pos));
      }
    }
    return f.Take();
  }

  std::string ServerFamily(const StatFamily& fam) {
    Family f("haproxy_server_" + std::string(fam.suffix), fam.help, fam.type);
    if (fam.pos == kHrsp1xx) return HttpResponses(f, true, false);
    for (size_t i = 0; i < proxies_.size(); ++i) {
      const ProxyView& p = proxies_[i];
      if (!p.has_backend || (HttpOnly(fam.pos) && p.mode != "http")) continue;
      for (size_t k = 0; k < p.servers.size(); ++k) {
        const ServerView& s = p.servers[k];
        if (q_.no_maint && InMaintenance(s)) continue;
        const std::string labels = ServerLabels(p, s);
        const HealthCheckView& check = s.check;
        switch (fam.pos) {
          case kStatus: {
            const ServerState st = PromexServerState(s);
            for (size_t j = 0; j < std::size(kServerStates); ++j) {
              f.Sample(labels + "," + Label("state", kServerStates[j]), j == st ? "1" : "0");
            }
            break;
          }
          case kCheckStatus:
            if (!CheckActive(check)) break;
            for (const CheckStatus st : check_statuses_) {
              f.Sample(labels + "," + Label("state", GetCheckStatusInfo(st).name),
                       check.status == st ? "1" : "0");
            }
            break;
          case kCheckCode:
            if (!CheckActive(check)) break;
            f.Sample(labels,
                     check.status < CheckStatus::kL57Data ? "0" : std::to_string(check.code));
            break;
          case kCheckDuration:
            if (check.status < CheckStatus::kChecked) break;
            f.Sample(labels, Seconds(check.duration_ms));
            break;
          default:
            f.Sample(labels, Value(rows_[i].servers[k], fam.pos));
        }
      }
    }
    return f.Take();
  }

  // http_responses_total: six fields under one name, code-major over the objects.
  std::string HttpResponses(Family& f, bool servers, bool front) {
    for (size_t code = 0; code < std::size(kHrspCodes); ++code) {
      const std::string code_label = "," + Label("code", kHrspCodes[code]);
      const int pos = kHrsp1xx + static_cast<int>(code);
      for (size_t i = 0; i < proxies_.size(); ++i) {
        const ProxyView& p = proxies_[i];
        if (p.mode != "http" || !(front ? p.has_frontend : p.has_backend)) continue;
        if (!servers) {
          f.Sample(ProxyLabel(p) + code_label, Value(front ? rows_[i].front : rows_[i].back, pos));
          continue;
        }
        for (size_t k = 0; k < p.servers.size(); ++k) {
          if (q_.no_maint && InMaintenance(p.servers[k])) continue;
          f.Sample(ServerLabels(p, p.servers[k]) + code_label, Value(rows_[i].servers[k], pos));
        }
      }
    }
    return f.Take();
  }

  std::string StickFamily(bool used) {
    if (stick_ == nullptr) return "";
    Family f(used ? "haproxy_sticktable_used" : "haproxy_sticktable_size",
             used ? "Number of entries used in this stick table." : "Stick table size.", kGauge);
    const auto& tables = stick_->Tables();
    for (size_t i = 0; i < tables.size(); ++i) {
      if (tables[i].size == 0) continue;
      const uint64_t v = used ? (i < used_.size() ? used_[i] : 0) : tables[i].size;
      f.Sample(Label("name", tables[i].name) + "," + Label("type", tables[i].type),
               std::to_string(v));
    }
    return f.Take();
  }

  // sluice_worker_<counter>{worker="N"}: Sluice's own, with the global scope.
  std::string WorkerFamily(const ActivityRow& row) {
    if ((q_.scopes & kPromexGlobal) == 0) return "";
    const bool gauge = IsGaugeCounter(row.name);
    Family f("sluice_worker_" + row.name + (gauge ? "" : "_total"), CounterHelp(row.name),
             gauge ? kGauge : kCounter);
    for (size_t w = 0; w < row.per_worker.size(); ++w) {
      f.Sample(Label("worker", std::to_string(w)), std::to_string(row.per_worker[w]));
    }
    return f.Take();
  }

  // sluice_acl_entries / sluice_map_entries{id, file}: each reference's entries.
  std::string PatternFamily(bool map) {
    Family f(map ? "sluice_map_entries" : "sluice_acl_entries",
             map ? "Entries of a map (show map's entry_cnt)"
                 : "Patterns of an ACL (show acl's entry_cnt)",
             kGauge);
    for (const PatternRefView& r : map ? maps_ : acls_) {
      // A file name may hold any byte: escaped as the exposition format says (\\, \", \n).
      std::string file;
      for (const char c : r.file) {
        if (c == '\\' || c == '"') file += '\\';
        file += c == '\n' ? std::string("\\n") : std::string(1, c);
      }
      f.Sample(Label("id", std::to_string(r.id)) + "," + Label("file", file),
               std::to_string(r.entries));
    }
    return f.Take();
  }

  static std::string Value(const Row& r, int pos) {
    const Field& field = r.f[static_cast<size_t>(pos)];
    if (InSeconds(pos) && field.type != FieldType::kEmpty) return Seconds(field.u);
    // Empty fields and texts are NaN to Prometheus.
    if (field.type == FieldType::kEmpty || field.type == FieldType::kStr) return "NaN";
    return FieldText(field);
  }

  PromexQuery q_;
  InfoValues info_;
  std::vector<ProxyView> proxies_;
  std::vector<ProxyRows> rows_;
  ActivityDump activity_;
  std::vector<PatternRefView> acls_, maps_;
  StickControl* stick_ = nullptr;
  std::vector<uint64_t> used_;
  std::unique_ptr<PendingAnswer> pending_;
  const std::vector<CheckStatus> check_statuses_ = LabelledCheckStatuses();
  Stage stage_ = Stage::kProcess;
  size_t index_ = 0;
  std::string text_;
};

}  // namespace

bool ParsePromexQuery(std::string_view query, PromexQuery* out) {
  *out = PromexQuery{};
  const size_t hash = query.find('#');
  if (hash != std::string_view::npos) query = query.substr(0, hash);
  uint32_t scopes = 0;
  bool scoped = false;
  bool ok = true;
  ForEachPair(query, [&](std::string_view k, std::string_view v, bool has_value) {
    std::string key, value;
    if (!UrlDecode(k, true, &key) || !UrlDecode(v, true, &value)) {
      ok = false;
      return;
    }
    if (key == "no-maint") out->no_maint = true;
    if (key != "scope") return;
    scoped = true;
    if (!has_value || value.find('=') != std::string::npos) {
      ok = false;
    } else if (value.empty()) {
      scopes = 0;
    } else if (value[0] == '*') {
      scopes = kPromexAll;
    } else if (value == "global") {
      scopes |= kPromexGlobal;
    } else if (value == "frontend") {
      scopes |= kPromexFrontend;
    } else if (value == "backend") {
      scopes |= kPromexBackend;
    } else if (value == "server") {
      scopes |= kPromexServer;
    } else if (value == "listener") {
      scopes |= kPromexListener;
    } else if (value == "sticktable") {
      scopes |= kPromexStickTable;
    } else {
      ok = false;
    }
  });
  out->scopes = scoped ? scopes : kPromexAll;
  return ok;
}

std::unique_ptr<Dump> MakePromexDump(ApplianceContext& appliance, const PromexQuery& query) {
  return std::make_unique<PromexDump>(appliance, query);
}

}  // namespace sluice::cli
