// Slow path, inside controlplane/rules: the stick tables as the rules use them
// (docs/stick-tables.md): a proxy's `stick-table` laid out for the workers, the sc_* / src_*
// fetches.
#include "controlplane/rules/rules_actions.h"
#include "controlplane/rules/rules_compile.h"

namespace sluice::rulescp {

using base::Error;
using rules::Fetch;

namespace {

// The stick-table fetches' suffixes (sc0_<suffix>, sc_<suffix>(N), src_<suffix>).
struct StickFetchDef {
  std::string_view suffix;
  stick::Data data;
  rules::StickOp op;
};
constexpr StickFetchDef kStickFetches[] = {
    {"get_gpt0", stick::Data::kGpt0, rules::StickOp::kGet},
    {"get_gpc0", stick::Data::kGpc0, rules::StickOp::kGet},
    {"inc_gpc0", stick::Data::kGpc0, rules::StickOp::kInc},
    {"clr_gpc0", stick::Data::kGpc0, rules::StickOp::kClr},
    {"gpc0_rate", stick::Data::kGpc0Rate, rules::StickOp::kGet},
    {"get_gpc1", stick::Data::kGpc1, rules::StickOp::kGet},
    {"inc_gpc1", stick::Data::kGpc1, rules::StickOp::kInc},
    {"clr_gpc1", stick::Data::kGpc1, rules::StickOp::kClr},
    {"gpc1_rate", stick::Data::kGpc1Rate, rules::StickOp::kGet},
    {"conn_cnt", stick::Data::kConnCnt, rules::StickOp::kGet},
    {"conn_cur", stick::Data::kConnCur, rules::StickOp::kGet},
    {"conn_rate", stick::Data::kConnRate, rules::StickOp::kGet},
    {"sess_cnt", stick::Data::kSessCnt, rules::StickOp::kGet},
    {"sess_rate", stick::Data::kSessRate, rules::StickOp::kGet},
    {"http_req_cnt", stick::Data::kHttpReqCnt, rules::StickOp::kGet},
    {"http_req_rate", stick::Data::kHttpReqRate, rules::StickOp::kGet},
    {"http_err_cnt", stick::Data::kHttpErrCnt, rules::StickOp::kGet},
    {"http_err_rate", stick::Data::kHttpErrRate, rules::StickOp::kGet},
    {"http_fail_cnt", stick::Data::kHttpFailCnt, rules::StickOp::kGet},
    {"http_fail_rate", stick::Data::kHttpFailRate, rules::StickOp::kGet},
    {"bytes_in_rate", stick::Data::kBytesInRate, rules::StickOp::kGet},
    {"bytes_out_rate", stick::Data::kBytesOutRate, rules::StickOp::kGet},
    {"kbytes_in", stick::Data::kBytesInCnt, rules::StickOp::kKbytes},
    {"kbytes_out", stick::Data::kBytesOutCnt, rules::StickOp::kKbytes},
    {"tracked", stick::Data::kCount, rules::StickOp::kTracked},
    {"trackers", stick::Data::kCount, rules::StickOp::kTrackers},
};

// The table_<suffix> converters: HAProxy 2.6's list (the fetches' suffixes, less the ones
// that change an entry; gpt0, gpc0 and gpc1 without get_; server_id, expire and idle).
bool TableConvSuffix(std::string_view suffix, const StickFetchDef** out) {
  static constexpr StickFetchDef kExtra[] = {
      {"server_id", stick::Data::kServerId, rules::StickOp::kGet},
      {"gpt0", stick::Data::kGpt0, rules::StickOp::kGet},
      {"gpc0", stick::Data::kGpc0, rules::StickOp::kGet},
      {"gpc1", stick::Data::kGpc1, rules::StickOp::kGet},
      {"expire", stick::Data::kCount, rules::StickOp::kExpire},
      {"idle", stick::Data::kCount, rules::StickOp::kIdle},
  };
  for (const StickFetchDef& d : kExtra) {
    if (d.suffix != suffix) continue;
    *out = &d;
    return true;
  }
  for (const StickFetchDef& d : kStickFetches) {
    if (d.suffix != suffix || d.suffix.substr(0, 4) == "get_" || d.op == rules::StickOp::kInc ||
        d.op == rules::StickOp::kClr || d.op == rules::StickOp::kTracked) {
      continue;
    }
    *out = &d;
    return true;
  }
  return false;
}

}  // namespace

namespace {

// The array fetches (sc_<suffix>(I,N[,table]), src_<suffix>(I,table)) and converters
// (table_gpt|gpc|gpc_rate(I[,table])).
constexpr StickFetchDef kArrayFetches[] = {
    {"get_gpt", stick::Data::kGpt, rules::StickOp::kGet},
    {"get_gpc", stick::Data::kGpc, rules::StickOp::kGet},
    {"gpc_rate", stick::Data::kGpcRate, rules::StickOp::kGet},
    {"inc_gpc", stick::Data::kGpc, rules::StickOp::kInc},
    {"clr_gpc", stick::Data::kGpc, rules::StickOp::kClr},
};

// A fetch's last arguments: an optional table name at args[a] (the fetch's table then), and
// nothing after it.
base::Result<bool> TableArg(const stick::StickSnap* snap, const std::string& n,
                            const std::vector<std::string>& args, size_t a, rules::StickRef* ref) {
  if (a < args.size()) {
    const int t = snap ? snap->Find(args[a]) : -1;
    if (t < 0) {
      return Error{"fetch method '" + n + "' : unable to find table '" + args[a] + "'"};
    }
    ref->table = t;
    ++a;
  }
  if (a < args.size()) {
    return Error{"fetch method '" + n + "' : end of arguments expected at position " +
                 std::to_string(a + 1) + ", but got '" + args[a] + "'"};
  }
  return true;
}

// An array's index as HAProxy takes it (any integer; one past the arrays gives no sample).
uint8_t ElemOf(int64_t v) { return v < 0 || v > 254 ? 255 : static_cast<uint8_t>(v); }

}  // namespace

base::Result<bool> Compiler::ParseArrayFetch(std::string_view name,
                                             const std::vector<std::string>& args,
                                             rules::Expr* out, bool* found) {
  *found = false;
  const bool src = name.substr(0, 4) == "src_";
  if (!src && name.substr(0, 3) != "sc_") return true;
  const std::string_view suffix = name.substr(src ? 4 : 3);
  const StickFetchDef* def = nullptr;
  for (const StickFetchDef& d : kArrayFetches) {
    if (d.suffix == suffix) def = &d;
  }
  if (!def) return true;
  *found = true;
  const std::string n(name);
  auto missing = [&](const char* type) -> base::Result<bool> {
    return Error{"fetch method '" + n + "' : missing arguments (got " +
                 std::to_string(args.size()) + "/2), type '" + type + "' expected."};
  };
  int64_t idx = 0, sc = -1;
  if (args.empty() || !ParseI64(args[0], &idx)) {
    return Error{"fetch method '" + n + "' : failed to parse '" +
                 (args.empty() ? std::string() : args[0]) + "' as type 'integer' at position 1"};
  }
  size_t a = 1;
  if (!src) {
    if (args.size() < 2) return missing("integer");
    if (!ParseI64(args[1], &sc)) {
      return Error{"fetch method '" + n + "' : failed to parse '" + args[1] +
                   "' as type 'integer' at position 2"};
    }
    a = 2;
  } else if (args.size() < 2) {
    return missing("table");
  }
  out->fetch = Fetch::kStick;
  out->stick.sc = src ? -1 : static_cast<int8_t>(sc < 0 || sc > 2 ? 3 : sc);
  out->stick.data = static_cast<uint8_t>(def->data);
  out->stick.op = def->op;
  out->stick.elem = ElemOf(idx);
  out->stick.table = src ? table_ : -1;
  if (auto ok = TableArg(stick_, n, args, a, &out->stick); !ok) return ok;
  return true;
}

base::Result<bool> Compiler::ParseStickFetch(std::string_view name,
                                             const std::vector<std::string>& args,
                                             rules::Expr* out, bool* found) {
  if (auto ok = ParseArrayFetch(name, args, out, found); !ok || *found) return ok;
  *found = false;
  int sc = -2;  // -2: sc_ (the number is the first argument), -1: src_
  std::string_view suffix;
  if (name.size() > 4 && name.substr(0, 2) == "sc" && name[2] >= '0' && name[2] <= '2' &&
      name[3] == '_') {
    sc = name[2] - '0';
    suffix = name.substr(4);
  } else if (name.substr(0, 3) == "sc_") {
    suffix = name.substr(3);
  } else if (name.substr(0, 4) == "src_") {
    sc = -1;
    suffix = name.substr(4);
  } else {
    return true;
  }
  const StickFetchDef* def = nullptr;
  for (const StickFetchDef& d : kStickFetches) {
    if (d.suffix == suffix) def = &d;
  }
  if (!def || (sc == -1 && (def->op == rules::StickOp::kTracked ||
                            def->op == rules::StickOp::kTrackers))) {
    return true;
  }
  *found = true;
  const std::string n(name);
  size_t a = 0;
  if (sc == -2) {
    int64_t v = -1;
    if (args.empty() || !ParseI64(args[0], &v) || v < 0 || v > 2) {
      return Error{"fetch method '" + n + "' : expects a stick counter number (0, 1 or 2)"};
    }
    sc = static_cast<int>(v);
    a = 1;
  }
  out->fetch = Fetch::kStick;
  out->stick.sc = static_cast<int8_t>(sc);
  out->stick.data = static_cast<uint8_t>(def->data);
  out->stick.op = def->op;
  out->stick.table = sc == -1 ? table_ : -1;
  if (auto ok = TableArg(stick_, n, args, a, &out->stick); !ok) return ok;
  if (sc == -1 && out->stick.table < 0) {
    return Error{"fetch method '" + n + "' : no table to look the client up in (this proxy "
                 "has no stick-table; name one)"};
  }
  return true;
}

base::Result<bool> Compiler::ParseTableConv(std::string_view name,
                                            const std::vector<std::string>& args,
                                            rules::Step* out, rules::SmpType* type, bool* found) {
  *found = false;
  const StickFetchDef* def = nullptr;
  const bool in = name == "in_table";
  // table_gpt|gpc|gpc_rate(I[,table]): an array's element.
  if (name == "table_gpt" || name == "table_gpc" || name == "table_gpc_rate") {
    *found = true;
    const std::string n(name);
    int64_t idx = 0;
    if (args.empty() || !ParseI64(args[0], &idx)) {
      return Error{"invalid arg 1 in converter '" + n + "' : failed to parse '" +
                   (args.empty() ? std::string() : args[0]) + "' as type 'integer' at position 1"};
    }
    if (args.size() > 2) {
      return Error{"invalid arg 3 in converter '" + n + "' : expected ')' before ','"};
    }
    const int t = args.size() < 2 ? table_ : stick_ ? stick_->Find(args[1]) : -1;
    if (t < 0) {
      return Error{"unable to find table '" + (args.size() < 2 ? std::string() : args[1]) +
                   "' referenced in arg 2 of conversion keyword '" + n + "'"};
    }
    out->conv = rules::Conv::kTable;
    out->stick.table = t;
    out->stick.op = rules::StickOp::kGet;
    out->stick.data = static_cast<uint8_t>(name == "table_gpt"   ? stick::Data::kGpt
                                           : name == "table_gpc" ? stick::Data::kGpc
                                                                 : stick::Data::kGpcRate);
    out->stick.elem = ElemOf(idx);
    *type = rules::SmpType::kSint;
    return true;
  }
  if (!in && (name.substr(0, 6) != "table_" || !TableConvSuffix(name.substr(6), &def))) {
    return true;
  }
  *found = true;
  const std::string n(name);
  if (args.size() > 1) {
    return Error{"invalid arg 2 in converter '" + n + "' : expected ')' before ','"};
  }
  // The table named, else the proxy's own.
  const int t = args.empty() ? table_ : stick_ ? stick_->Find(args[0]) : -1;
  if (t < 0) {
    return Error{"unable to find table '" + (args.empty() ? std::string("") : args[0]) +
                 "' referenced in arg 1 of conversion keyword '" + n + "'"};
  }
  out->conv = rules::Conv::kTable;
  out->stick.table = t;
  out->stick.op = in ? rules::StickOp::kIn : def->op;
  out->stick.data = static_cast<uint8_t>(in ? stick::Data::kCount : def->data);
  *type = in ? rules::SmpType::kBool : rules::SmpType::kSint;
  return true;
}

// A proxy's `stick-table` as the workers lay it out: the stored data in HAProxy's type order,
// each aligned to its size.
stick::TableDef TableOf(const config::ProxyConfig& p, bool server_id) {
  const config::StickTableConfig& c = *p.stick_table;
  stick::TableDef t;
  t.name = p.name;
  t.type = c.type == "ipv6"      ? stick::KeyType::kIpv6
           : c.type == "integer" ? stick::KeyType::kInteger
           : c.type == "string"  ? stick::KeyType::kString
           : c.type == "binary"  ? stick::KeyType::kBinary
                                 : stick::KeyType::kIp;
  t.key_len = t.type == stick::KeyType::kIpv6 ? 16
              : t.type == stick::KeyType::kIp || t.type == stick::KeyType::kInteger
                  ? 4
                  : (c.key_len ? c.key_len : 32);
  t.size = c.size;
  t.expire_ms = c.expire_ms;
  t.nopurge = c.nopurge;
  t.srvkey_addr = c.srvkey_addr;
  uint32_t at = 0;
  for (size_t d = 0; d < stick::kDataTypes; ++d) {
    std::vector<config::StickTableConfig::Store> store = c.store;
    // Sticking rules that store into the table keep the server's id and name in it (HAProxy
    // adds both).
    if (server_id && d == static_cast<size_t>(stick::Data::kServerId)) {
      store.push_back({"server_id", 0});
    }
    if (server_id && d == static_cast<size_t>(stick::Data::kServerKey)) {
      store.push_back({"server_key", 0});
    }
    for (const auto& s : store) {
      if (stick::DataByName(s.name) != static_cast<stick::Data>(d)) continue;
      const stick::Kind k = stick::Info(static_cast<stick::Data>(d)).kind;
      const uint32_t size = stick::ElemBytes(static_cast<stick::Data>(d));
      const uint32_t align = k == stick::Kind::kUll ? 8 : 4;
      at = (at + align - 1) & ~(align - 1);
      t.off[d] = static_cast<int16_t>(at);
      t.period[d] = s.period_ms;
      t.elems[d] = static_cast<uint8_t>(s.elems);
      at += size * s.elems;
    }
  }
  t.data_bytes = (at + 7) & ~7u;
  return t;
}

namespace {

// Where a `stick` line's words are: the kind, the expression, the table's name (the proxy's
// own when none is named), and where its condition starts.
struct StickWords {
  rules::StickRuleKind kind = rules::StickRuleKind::kMatch;
  bool kind_ok = false;
  std::string table;
  size_t cond = 0;
};

StickWords SplitStick(const std::vector<std::string>& w, const std::string& proxy) {
  StickWords s;
  const std::string k = w.size() > 1 ? w[1] : "";
  s.kind_ok = true;
  if (k == "match") {
    s.kind = rules::StickRuleKind::kMatch;
  } else if (k == "on") {
    s.kind = rules::StickRuleKind::kOn;
  } else if (k == "store-request") {
    s.kind = rules::StickRuleKind::kStoreRequest;
  } else if (k == "store-response") {
    s.kind = rules::StickRuleKind::kStoreResponse;
  } else {
    s.kind_ok = false;
  }
  s.table = proxy;
  s.cond = 3;
  if (w.size() > 4 && w[3] == "table") {
    s.table = w[4];
    s.cond = 5;
  }
  return s;
}

}  // namespace

std::vector<std::string> TablesStoringServers(const config::Config& cfg) {
  std::vector<std::string> out;
  for (const config::ProxyConfig& p : cfg.proxies) {
    if (!p.HasBackend()) continue;
    for (const config::RuleLine& line : p.rule_lines) {
      if (line.args[0] != "stick") continue;
      const StickWords s = SplitStick(line.args, p.name);
      if (s.kind_ok && s.kind != rules::StickRuleKind::kMatch) out.push_back(s.table);
    }
  }
  return out;
}

base::Result<rules::StickRule> ParseStickRule(RuleLine& x, bool http) {
  const auto& w = x.line->args;
  const StickWords s = SplitStick(w, x.proxy);
  if (!s.kind_ok) {
    return Error{"'stick' expects 'on', 'match', or 'store'."};
  }
  if (w.size() < 3 || w[2].empty()) {
    return Error{"'stick' expects a fetch method."};
  }
  rules::StickRule r;
  r.kind = s.kind;
  const bool response = s.kind == rules::StickRuleKind::kStoreResponse;
  ExprScope scope{http, response};
  scope.request = !response;
  scope.where = response ? "for 'store-response'." : "during request.";
  scope.on_response = response;
  if (auto ok = x.c.ParseExpr(w[2], scope, &r.expr); !ok) {
    return Error{"'stick': " + ok.error()};
  }
  const int t = x.c.stick() ? x.c.stick()->Find(s.table) : -1;
  if (t < 0) {
    return Error{"Proxy '" + x.proxy + "': unable to find stick-table '" + s.table + "'."};
  }
  r.table = static_cast<uint32_t>(t);
  if (s.cond < w.size()) {
    if (w[s.cond] != "if" && w[s.cond] != "unless") {
      return Error{"'stick': unknown keyword '" + w[s.cond] + "'."};
    }
    if (auto ok = x.c.ParseCond(w, s.cond, &r.cond); !ok) {
      return Error{"'stick': error detected while parsing sticking condition : " +
                   Period(ok.error())};
    }
  }
  return r;
}

}  // namespace sluice::rulescp
