// Slow path. The REST resources of the process, the proxies and their servers, the sessions,
// the metrics and the generic command (docs/rest-api.md). Reads come from the snapshots the
// stats socket's commands read (InfoValues, ProxySnapshot, the `show stat` rows); changes
// run the stats socket's commands.
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "runtime-api/commands/proxy_lookup.h"
#include "runtime-api/commands/stat_rows.h"
#include "runtime-api/metrics/promex.h"
#include "runtime-api/protocol/protocol.h"
#include "runtime-api/rest/command_run.h"
#include "runtime-api/rest/router.h"

namespace sluice::cli::rest {
namespace {

// HAProxy's 400 page, as its Prometheus exporter answers a bad query.
constexpr std::string_view kBadRequestPage =
    "<html><body><h1>400 Bad request</h1>\nYour browser sent an invalid request.\n"
    "</body></html>\n";

// A `show stat` row as {"csv name": value} for the fields it fills.
Json RowJson(const Row& r) {
  Json j = Json::object();
  for (int pos = 0; pos < kStatFieldCount; ++pos) {
    const Field& f = r.f[static_cast<size_t>(pos)];
    const std::string name(kFieldMeta[pos].name);
    switch (f.type) {
      case FieldType::kU32:
      case FieldType::kU64:
        j[name] = f.u;
        break;
      case FieldType::kS32:
        j[name] = f.s;
        break;
      case FieldType::kStr:
        j[name] = f.str;
        break;
      case FieldType::kEmpty:
        break;
    }
  }
  return j;
}

std::string_view FrontendStatus(const ProxyView& p) {
  switch (p.frontend_state) {
    case FrontendState::kOpen:
      return "OPEN";
    case FrontendState::kPaused:
      return "PAUSED";
    case FrontendState::kStopped:
      return "STOP";
  }
  return "";
}

Json FrontendJson(const ProxyView& p) {
  Row r;
  FillFrontend(p, r);
  return {{"name", p.name},       {"id", p.iid},
          {"mode", p.mode},       {"status", FrontendStatus(p)},
          {"maxconn", p.maxconn}, {"rate_limit_sessions", p.rate_limit_sessions},
          {"stats", RowJson(r)}};
}

Json BackendJson(const ProxyView& p) {
  Row r;
  FillBackend(p, StatOptions{.legends = true}, r);
  Json servers = Json::array();
  for (const ServerView& s : p.servers) servers.push_back(s.name);
  return {{"name", p.name},
          {"id", p.iid},
          {"mode", p.mode},
          {"balance", p.algo},
          {"status", r.f[kStatus].str},
          {"fullconn", p.fullconn},
          {"servers", servers},
          {"stats", RowJson(r)}};
}

Json ServerJson(const ProxyView& p, const ServerView& s) {
  Row r;
  FillServer(p, s, StatOptions{.legends = true}, r);
  const HealthCheckView& c = s.check;
  Json check = {{"configured", c.configured},
                {"enabled", c.enabled},
                {"status", GetCheckStatusInfo(c.status).name},
                {"health", c.health},
                {"rise", c.rise},
                {"fall", c.fall},
                {"port", c.port},
                {"address", c.addr}};
  return {{"name", s.name},
          {"id", s.sid},
          {"backend", p.name},
          {"address", s.addr},
          {"port", s.port},
          {"admin_state", AdminStateName(s)},
          {"operational_state", OperationalStateName(s)},
          {"status", ServerStatusText(s)},
          {"weight", s.uweight},
          {"effective_weight", s.eweight},
          {"initial_weight", s.iweight},
          {"backup", s.backup},
          {"maxconn", s.maxconn},
          {"maxqueue", s.maxqueue},
          {"check", check},
          {"stats", RowJson(r)}};
}

// --- process ---

std::unique_ptr<Job> GetInfo(const Request&, const Params&, Context& ctx) {
  InfoValues info;
  ctx.appliance.FillInfo(info);
  Json j = Json::object();
  for (const InfoField& f : info.fields()) {
    const std::string name(f.name);
    // A number when the whole value is one (no exception: strtoll/strtoull, end checked).
    char* end = nullptr;
    errno = 0;
    if (f.type != InfoType::kStr && !f.value.empty() && f.value[0] == '-') {
      const long long v = std::strtoll(f.value.c_str(), &end, 10);
      if (errno == 0 && *end == '\0') {
        j[name] = v;
        continue;
      }
    } else if (f.type != InfoType::kStr && !f.value.empty() && std::isdigit(f.value[0])) {
      const unsigned long long v = std::strtoull(f.value.c_str(), &end, 10);
      if (errno == 0 && *end == '\0') {
        j[name] = v;
        continue;
      }
    }
    j[name] = f.value;
  }
  return Answer(JsonResponse(200, j));
}

Response RawJson(const Request&, const std::vector<std::string>& texts, Context&) {
  Response r;
  r.body = texts.back();
  return r;
}

// `show stat json`: HAProxy's typed JSON, as the stats socket prints it.
std::unique_ptr<Job> GetStats(const Request& req, const Params&, Context& ctx) {
  return RunCommands(req, ctx, {{{"show", "stat", "json"}, "", {"["}}}, &RawJson);
}

// The exporter's text, streamed: its wait for the workers (the stick tables' sizes) is over
// before the answer starts; then the families are written as the client takes them.
class MetricsJob final : public Job {
 public:
  MetricsJob(std::unique_ptr<Dump> dump, bool head) : dump_(std::move(dump)), head_(head) {}
  bool Pump(Response* out) override {
    Writer w(first_, 16384);
    const DumpStatus st = dump_->Step(w);
    if (st == DumpStatus::kWait) return false;
    out->status = 200;
    out->content_type = "text/plain; version=0.0.4";
    out->headers.emplace_back("Cache-Control", "no-cache");
    if (head_) return true;
    out->body = std::move(first_);
    if (st == DumpStatus::kMore) out->stream = std::move(dump_);
    return true;
  }

 private:
  std::unique_ptr<Dump> dump_;
  bool head_;
  std::string first_;
};

std::unique_ptr<Job> GetMetrics(const Request& req, const Params&, Context& ctx) {
  return MetricsPageJob(req, ctx);
}

std::unique_ptr<Job> GetOpenApi(const Request&, const Params&, Context&) {
  Response r;
  r.body = OpenApiDocument();
  return Answer(std::move(r));
}

// POST /v1/command {"command": "show info", "payload": "..."}: any stats socket command, at
// the caller's level, answered as {"output": TEXT}.
class CommandJob final : public Job {
 public:
  CommandJob(Context& ctx, Level level, std::vector<std::string> args, std::string payload)
      : run_(ctx.registry, ctx.appliance, level, std::move(args), std::move(payload)) {}
  bool Pump(Response* out) override {
    if (!run_.Pump()) return false;
    const int status = !run_.failed() ? 200 : run_.unknown() ? 400 : StatusForError(run_.text());
    *out = JsonResponse(status, {{"output", run_.text()}, {"error", run_.failed()}});
    return true;
  }

 private:
  CommandRun run_;
};

std::unique_ptr<Job> PostCommand(const Request& req, const Params&, Context& ctx) {
  Response err;
  const std::optional<Json> body = ParseBody(req, &err);
  if (!body) return Answer(std::move(err));
  if (!body->is_object() || !body->contains("command") || !(*body)["command"].is_string()) {
    return Answer(ErrorResponse(400, "expected {\"command\": \"...\"}"));
  }
  std::string payload;
  if (body->contains("payload")) {
    if (!(*body)["payload"].is_string()) return Answer(ErrorResponse(400, "payload: a string"));
    payload = (*body)["payload"].get<std::string>();
  }
  const std::vector<std::string> chain = SplitChain((*body)["command"].get<std::string>());
  if (chain.size() != 1) return Answer(ErrorResponse(400, "one command per request"));
  return std::make_unique<CommandJob>(ctx, req.level, SplitWords(chain[0]), std::move(payload));
}

// --- frontends ---

std::unique_ptr<Job> ListFrontends(const Request& req, const Params&, Context& ctx) {
  Json items = Json::array();
  for (const ProxyView& p : TakeProxySnapshot(ctx.appliance).proxies) {
    if (p.has_frontend) items.push_back(FrontendJson(p));
  }
  return Answer(ListResponse(req, std::move(items)));
}

std::unique_ptr<Job> GetFrontend(const Request&, const Params& params, Context& ctx) {
  for (const ProxyView& p : TakeProxySnapshot(ctx.appliance).proxies) {
    if (p.has_frontend && p.name == params[0]) return Answer(JsonResponse(200, FrontendJson(p)));
  }
  return Answer(ErrorResponse(404, "No such frontend."));
}

Response FrontendAfter(const Request& req, const std::vector<std::string>&, Context& ctx) {
  Response r;
  GetFrontend(req, req.params, ctx)->Pump(&r);
  return r;
}

// PUT {"state": "enabled|disabled|stopped", "maxconn": N}
std::unique_ptr<Job> PutFrontend(const Request& req, const Params& params, Context& ctx) {
  Response err;
  const std::optional<Json> body = ParseObject(req, &err);
  if (!body) return Answer(std::move(err));
  std::vector<Cmd> cmds;
  const std::string& fe = params[0];
  for (const auto& [key, value] : body->items()) {
    if (key == "state") {
      const std::string v = value.is_string() ? value.get<std::string>() : "";
      if (v == "enabled") {
        cmds.push_back({{"enable", "frontend", fe}, "", {"All sockets are already enabled."}});
      } else if (v == "disabled") {
        cmds.push_back({{"disable", "frontend", fe}, "", {"All sockets are already disabled."}});
      } else if (v == "stopped") {
        cmds.push_back({{"shutdown", "frontend", fe}, "", {}});
      } else {
        return Answer(ErrorResponse(400, "state: enabled, disabled or stopped"));
      }
    } else if (key == "maxconn") {
      const std::optional<std::string> w = Word(value);
      if (!w) return Answer(ErrorResponse(400, "maxconn: a number"));
      cmds.push_back({{"set", "maxconn", "frontend", fe, *w}, "", {}});
    } else {
      return Answer(ErrorResponse(400, "unknown field '" + key + "' (state, maxconn)"));
    }
  }
  return RunCommands(req, ctx, std::move(cmds), &FrontendAfter);
}

// PUT /v1/global {"maxconn": N, "rate_limit": {"connections|sessions|ssl-sessions|
// http-compression": N}}
std::unique_ptr<Job> PutGlobal(const Request& req, const Params&, Context& ctx) {
  Response err;
  const std::optional<Json> body = ParseObject(req, &err);
  if (!body) return Answer(std::move(err));
  std::vector<Cmd> cmds;
  for (const auto& [key, value] : body->items()) {
    if (key == "maxconn") {
      const std::optional<std::string> w = Word(value);
      if (!w) return Answer(ErrorResponse(400, "maxconn: a number"));
      cmds.push_back({{"set", "maxconn", "global", *w}, "", {}});
    } else if (key == "rate_limit" && value.is_object()) {
      for (const auto& [what, n] : value.items()) {
        const std::optional<std::string> w = Word(n);
        if (!w) return Answer(ErrorResponse(400, "rate_limit." + what + ": a number"));
        cmds.push_back({{"set", "rate-limit", what, "global", *w}, "", {}});
      }
    } else {
      return Answer(ErrorResponse(400, "unknown field '" + key + "' (maxconn, rate_limit)"));
    }
  }
  return RunCommands(req, ctx, std::move(cmds), &NoContent);
}

// --- backends and servers ---

std::unique_ptr<Job> ListBackends(const Request& req, const Params&, Context& ctx) {
  Json items = Json::array();
  for (const ProxyView& p : TakeProxySnapshot(ctx.appliance).proxies) {
    if (p.has_backend) items.push_back(BackendJson(p));
  }
  return Answer(ListResponse(req, std::move(items)));
}

const ProxyView* FindBackendView(const std::vector<ProxyView>& proxies, const std::string& name) {
  const size_t i = FindBackend(proxies, name);
  return i < proxies.size() ? &proxies[i] : nullptr;
}

std::unique_ptr<Job> GetBackend(const Request&, const Params& params, Context& ctx) {
  const std::vector<ProxyView> proxies = TakeProxySnapshot(ctx.appliance).proxies;
  const ProxyView* p = FindBackendView(proxies, params[0]);
  if (p == nullptr) return Answer(ErrorResponse(404, "No such backend."));
  return Answer(JsonResponse(200, BackendJson(*p)));
}

std::unique_ptr<Job> ListServers(const Request& req, const Params& params, Context& ctx) {
  const std::vector<ProxyView> proxies = TakeProxySnapshot(ctx.appliance).proxies;
  const ProxyView* p = FindBackendView(proxies, params[0]);
  if (p == nullptr) return Answer(ErrorResponse(404, "No such backend."));
  Json items = Json::array();
  for (const ServerView& s : p->servers) items.push_back(ServerJson(*p, s));
  return Answer(ListResponse(req, std::move(items)));
}

std::unique_ptr<Job> GetServer(const Request&, const Params& params, Context& ctx) {
  const std::vector<ProxyView> proxies = TakeProxySnapshot(ctx.appliance).proxies;
  ServerRef ref;
  switch (LookupServer(proxies, params[0], params[1], &ref)) {
    case 1:
      return Answer(ErrorResponse(404, "No such backend."));
    case 2:
      return Answer(ErrorResponse(404, "No such server."));
    default:
      break;
  }
  const ProxyView& p = proxies[ref.proxy];
  return Answer(JsonResponse(200, ServerJson(p, p.servers[ref.server])));
}

Response ServerAfter(const Request& req, const std::vector<std::string>&, Context& ctx) {
  Response r;
  GetServer(req, req.params, ctx)->Pump(&r);
  return r;
}

// PUT {"admin_state": "ready|drain|maint", "operational_state": "up|down|stopping",
//      "weight": N|"N%", "address": A, "port": P, "check_address": A, "check_port": P,
//      "maxconn": N, "health_check": "enabled|disabled", "agent_check": "enabled|disabled"}
// Applied in that order whatever the body's order, each by its `set server` command.
std::unique_ptr<Job> PutServer(const Request& req, const Params& params, Context& ctx) {
  Response err;
  const std::optional<Json> body = ParseObject(req, &err);
  if (!body) return Answer(std::move(err));
  static constexpr std::string_view kFields[] = {
      "admin_state",   "operational_state", "weight",  "address",      "port",
      "check_address", "check_port",        "maxconn", "health_check", "agent_check"};
  for (const auto& [key, value] : body->items()) {
    bool known = false;
    for (std::string_view f : kFields) known = known || key == f;
    if (!known) {
      return Answer(ErrorResponse(
          400, "unknown field '" + key +
                   "' (admin_state, operational_state, weight, address, port, check_address, "
                   "check_port, maxconn, health_check, agent_check)"));
    }
    if (!Word(value)) return Answer(ErrorResponse(400, key + ": a string or a number"));
  }
  const std::string sv = params[0] + "/" + params[1];
  auto get = [&](std::string_view k) -> std::optional<std::string> {
    if (!body->contains(k)) return std::nullopt;
    return Word((*body)[std::string(k)]);
  };
  std::vector<Cmd> cmds;
  if (auto v = get("admin_state")) cmds.push_back({{"set", "server", sv, "state", *v}, "", {}});
  if (auto v = get("operational_state")) {
    cmds.push_back({{"set", "server", sv, "health", *v}, "", {}});
  }
  if (auto v = get("weight")) cmds.push_back({{"set", "server", sv, "weight", *v}, "", {}});
  const auto addr = get("address");
  const auto port = get("port");
  if (addr || port) {
    std::string a = addr.value_or("");
    if (!addr) {  // a new port alone: keep the address
      const std::vector<ProxyView> proxies = TakeProxySnapshot(ctx.appliance).proxies;
      ServerRef ref;
      if (LookupServer(proxies, params[0], params[1], &ref) == 0) {
        a = proxies[ref.proxy].servers[ref.server].addr;
      }
    }
    Cmd c{
        {"set", "server", sv, "addr", a}, "", {"IP changed", "no need to change", "port changed"}};
    if (port) {
      c.args.push_back("port");
      c.args.push_back(*port);
    }
    cmds.push_back(std::move(c));
  }
  if (auto v = get("check_address")) {
    cmds.push_back({{"set", "server", sv, "check-addr", *v}, "", {}});
  }
  if (auto v = get("check_port")) {
    cmds.push_back({{"set", "server", sv, "check-port", *v}, "", {}});
  }
  if (auto v = get("maxconn")) cmds.push_back({{"set", "maxconn", "server", sv, *v}, "", {}});
  for (const auto& [field, what] :
       {std::pair{"health_check", "health"}, {"agent_check", "agent"}}) {
    if (auto v = get(field)) {
      if (*v != "enabled" && *v != "disabled") {
        return Answer(ErrorResponse(400, std::string(field) + ": enabled or disabled"));
      }
      cmds.push_back({{*v == "enabled" ? "enable" : "disable", what, sv}, "", {}});
    }
  }
  return RunCommands(req, ctx, std::move(cmds), &ServerAfter);
}

// --- sessions and errors ---

// `show sess` lines as objects: "0x7f..: proto=tcpv4 src=... fe=..." -> {"id": "0x7f..",
// "proto": "tcpv4", ...}.
Response SessionsList(const Request& req, const std::vector<std::string>& texts, Context&) {
  Json items = Json::array();
  for (std::string_view line : TextLines(texts.back())) {
    const size_t colon = line.find(": ");
    if (!line.starts_with("0x") || colon == std::string_view::npos) continue;
    Json s = {{"id", std::string(line.substr(0, colon))}};
    for (const std::string& word : SplitWords(line.substr(colon + 2))) {
      const size_t eq = word.find('=');
      const size_t br = word.find('[');
      if (br != std::string::npos && (eq == std::string::npos || br < eq)) {
        s[word.substr(0, br)] = word.substr(br);  // rq[...], rp[...]
      } else if (eq != std::string::npos) {
        s[word.substr(0, eq)] = word.substr(eq + 1);
      }
    }
    items.push_back(std::move(s));
  }
  return ListResponse(req, std::move(items));
}

std::unique_ptr<Job> ListSessions(const Request& req, const Params&, Context& ctx) {
  return RunCommands(req, ctx, {{{"show", "sess"}, "", {"0x"}}}, &SessionsList);
}

std::unique_ptr<Job> DeleteSession(const Request& req, const Params& params, Context& ctx) {
  return RunCommands(req, ctx, {{{"shutdown", "session", params[0]}, "", {}}}, &NoContent);
}

Response ErrorsText(const Request&, const std::vector<std::string>& texts, Context&) {
  return JsonResponse(200, {{"text", texts.back()}});
}

std::unique_ptr<Job> GetErrors(const Request& req, const Params&, Context& ctx) {
  return RunCommands(req, ctx, {{{"show", "errors"}, "", {"Total events captured"}}}, &ErrorsText);
}

// `add server`: {"name", "address", "port", "params": "check weight 10" or a list of words};
// the server comes in maintenance with its checks disabled, as from the stats socket (PUT
// admin_state "ready" and health_check "enabled" bring it in).
std::unique_ptr<Job> PostServer(const Request& req, const Params& params, Context& ctx) {
  Response err;
  const std::optional<Json> body = ParseObject(req, &err);
  if (!body) return Answer(std::move(err));
  std::optional<std::string> name, addr, port;
  std::vector<std::string> words;
  for (const auto& [key, value] : body->items()) {
    if (key == "params") {
      if (value.is_string()) {
        std::string w;
        for (const char c : value.get<std::string>()) {
          if (c != ' ') {
            w += c;
          } else if (!w.empty()) {
            words.push_back(std::move(w));
            w.clear();
          }
        }
        if (!w.empty()) words.push_back(std::move(w));
        continue;
      }
      if (!value.is_array()) return Answer(ErrorResponse(400, "params: a string or a list"));
      for (const Json& v : value) {
        const std::optional<std::string> w = Word(v);
        if (!w) return Answer(ErrorResponse(400, "params: strings or numbers"));
        words.push_back(*w);
      }
      continue;
    }
    const std::optional<std::string> w = Word(value);
    if (!w) return Answer(ErrorResponse(400, key + ": a string or a number"));
    if (key == "name") {
      name = w;
    } else if (key == "address") {
      addr = w;
    } else if (key == "port") {
      port = w;
    } else {
      return Answer(
          ErrorResponse(400, "unknown field '" + key + "' (name, address, port, params)"));
    }
  }
  if (!name || !addr) return Answer(ErrorResponse(400, "name and address are required"));
  std::string endpoint = addr->find(':') != std::string::npos ? "[" + *addr + "]" : *addr;
  if (port) endpoint += ":" + *port;
  Cmd c{{"add", "server", params[0] + "/" + *name, endpoint}, "", {"New server registered."}};
  c.args.insert(c.args.end(), words.begin(), words.end());
  return RunCommands(req, ctx, {std::move(c)}, &Created);
}

// `del server`: the server must be in maintenance and without sessions.
std::unique_ptr<Job> DeleteServer(const Request& req, const Params& params, Context& ctx) {
  return RunCommands(req, ctx,
                     {{{"del", "server", params[0] + "/" + params[1]}, "", {"Server deleted."}}},
                     &NoContent);
}

constexpr RouteRow kRoutes[] = {
    {"GET", "/v1/info", &GetInfo, "The process (show info), as an object"},
    {"GET", "/v1/stats", &GetStats, "Every proxy's and server's counters (show stat json)"},
    {"GET", "/metrics", &GetMetrics, "Prometheus metrics (HAProxy 2.6's exporter)"},
    {"GET", "/v1/metrics", &GetMetrics, "Prometheus metrics (HAProxy 2.6's exporter)"},
    {"GET", "/v1/openapi.json", &GetOpenApi, "This interface's OpenAPI 3 document"},
    {"POST", "/v1/command", &PostCommand, "Run one stats socket command at the caller's level"},
    {"PUT", "/v1/global", &PutGlobal, "Set the global maxconn and rate limits"},
    {"GET", "/v1/frontends", &ListFrontends, "The frontends", true},
    {"GET", "/v1/frontends/{frontend}", &GetFrontend, "One frontend"},
    {"PUT", "/v1/frontends/{frontend}", &PutFrontend, "Enable, disable, stop; set maxconn"},
    {"GET", "/v1/backends", &ListBackends, "The backends", true},
    {"GET", "/v1/backends/{backend}", &GetBackend, "One backend"},
    {"GET", "/v1/backends/{backend}/servers", &ListServers, "A backend's servers", true},
    {"GET", "/v1/backends/{backend}/servers/{server}", &GetServer, "One server"},
    {"PUT", "/v1/backends/{backend}/servers/{server}", &PutServer,
     "Change a server's state, weight, address, checks, maxconn"},
    {"POST", "/v1/backends/{backend}/servers", &PostServer,
     "Add a server (add server): in maintenance, checks disabled"},
    {"DELETE", "/v1/backends/{backend}/servers/{server}", &DeleteServer,
     "Delete a server in maintenance without sessions (del server)"},
    {"GET", "/v1/sessions", &ListSessions, "The live sessions (show sess)", true},
    {"DELETE", "/v1/sessions/{session}", &DeleteSession, "Kill a session (shutdown session)"},
    {"GET", "/v1/errors", &GetErrors, "The last invalid requests and responses (show errors)"},
};

}  // namespace

std::span<const RouteRow> InfoRoutes() { return kRoutes; }

std::unique_ptr<Job> MetricsPageJob(const Request& req, Context& ctx) {
  PromexQuery q;
  if (!ParsePromexQuery(req.raw_query, &q)) {
    Response r;
    r.status = 400;
    r.content_type = "text/html";
    r.headers.emplace_back("Cache-Control", "no-cache");
    r.body = kBadRequestPage;
    return Answer(std::move(r));
  }
  return std::make_unique<MetricsJob>(MakePromexDump(ctx.appliance, q), req.method == "HEAD");
}

}  // namespace sluice::cli::rest
