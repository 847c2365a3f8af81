// Slow path. The runtime resources of HAProxy's Data Plane API that Sluice's REST interface
// can answer as that API does (docs/rest-api.md, "Data Plane API paths"), so that its
// clients (scripts, the data_plane_api libraries) drive Sluice unchanged: runtime servers
// (v2 `/v2/services/haproxy/runtime/servers/{name}?backend=B`, v3
// `/v3/services/haproxy/runtime/backends/{backend}/servers/{name}`) and map entries
// (`/v2/services/haproxy/runtime/maps_entries[/{key}]?map=M`). Same commands underneath.
#include "runtime-api/commands/proxy_lookup.h"
#include "runtime-api/rest/router.h"

namespace sluice::cli::rest {
namespace {

// The Data Plane API's runtime server object.
Json RuntimeServer(const ServerView& s) {
  // The Data Plane API has no "starting": a server in its slow start is up.
  const std::string_view op =
      s.op_state == ServerOpState::kStarting ? "up" : OperationalStateName(s);
  const std::string_view admin = AdminStateName(s);
  return {{"address", s.addr}, {"admin_state", admin},    {"id", std::to_string(s.sid)},
          {"name", s.name},    {"operational_state", op}, {"port", s.port}};
}

// The backend: v3's path parameter, v2's `backend` query parameter.
const std::string* BackendOf(const Request& req, const Params& params, bool v3) {
  return v3 ? &params[0] : QueryValue(req, "backend");
}

template <bool kV3>
std::unique_ptr<Job> ListServers(const Request& req, const Params& params, Context& ctx) {
  const std::string* be = BackendOf(req, params, kV3);
  if (be == nullptr) return Answer(ErrorResponse(400, "missing the backend parameter"));
  const std::vector<ProxyView> proxies = TakeProxySnapshot(ctx.appliance).proxies;
  const size_t px = FindBackend(proxies, *be);
  if (px == proxies.size()) return Answer(ErrorResponse(404, "No such backend."));
  Json items = Json::array();
  for (const ServerView& s : proxies[px].servers) items.push_back(RuntimeServer(s));
  return Answer(JsonResponse(200, items));
}

Response ServerAnswer(const std::vector<ProxyView>& proxies, const std::string& be,
                      const std::string& sv) {
  ServerRef ref;
  switch (LookupServer(proxies, be, sv, &ref)) {
    case 1:
      return ErrorResponse(404, "No such backend.");
    case 2:
      return ErrorResponse(404, "No such server.");
    default:
      return JsonResponse(200, RuntimeServer(proxies[ref.proxy].servers[ref.server]));
  }
}

template <bool kV3>
std::unique_ptr<Job> GetServer(const Request& req, const Params& params, Context& ctx) {
  const std::string* be = BackendOf(req, params, kV3);
  if (be == nullptr) return Answer(ErrorResponse(400, "missing the backend parameter"));
  return Answer(ServerAnswer(TakeProxySnapshot(ctx.appliance).proxies, *be, params[kV3 ? 1 : 0]));
}

template <bool kV3>
Response ServerAfter(const Request& req, const std::vector<std::string>&, Context& ctx) {
  const std::string* be = BackendOf(req, req.params, kV3);
  return ServerAnswer(TakeProxySnapshot(ctx.appliance).proxies, *be, req.params[kV3 ? 1 : 0]);
}

// PUT {"admin_state": "ready|drain|maint", "operational_state": "up|down|stopping"}
template <bool kV3>
std::unique_ptr<Job> PutServer(const Request& req, const Params& params, Context& ctx) {
  const std::string* be = BackendOf(req, params, kV3);
  if (be == nullptr) return Answer(ErrorResponse(400, "missing the backend parameter"));
  Response err;
  const std::optional<Json> body = ParseObject(req, &err);
  if (!body) return Answer(std::move(err));
  const std::string sv = *be + "/" + params[kV3 ? 1 : 0];
  std::vector<Cmd> cmds;
  for (const auto& [key, value] : body->items()) {
    if (key != "admin_state" && key != "operational_state") continue;  // read-only fields
    if (!value.is_string()) return Answer(ErrorResponse(400, key + ": a string"));
    const std::string what = key == "admin_state" ? "state" : "health";
    cmds.push_back(Cmd{{"set", "server", sv, what, value.template get<std::string>()}, "", {}});
  }
  return RunCommands(req, ctx, std::move(cmds), &ServerAfter<kV3>);
}

// The server just added, as the API answers a creation (201).
template <bool kV3>
Response AddedServer(const Request& req, const std::vector<std::string>&, Context& ctx) {
  const std::string* be = BackendOf(req, req.params, kV3);
  Response err;
  const Json body = ParseObject(req, &err).value_or(Json::object());
  const std::string name = body.contains("name") ? Word(body["name"]).value_or("") : "";
  Response r = ServerAnswer(TakeProxySnapshot(ctx.appliance).proxies, *be, name);
  if (r.status == 200) r.status = 201;
  return r;
}

// POST {"name", "address", "port", "weight", "check", "backup", "maintenance"} (the API's
// RuntimeAddServer): `add server`, then, unless "maintenance" is "enabled", its checks (when
// "check" is "enabled") and `state ready`: the new server (201).
template <bool kV3>
std::unique_ptr<Job> AddServer(const Request& req, const Params& params, Context& ctx) {
  const std::string* be = BackendOf(req, params, kV3);
  if (be == nullptr) return Answer(ErrorResponse(400, "missing the backend parameter"));
  Response err;
  const std::optional<Json> body = ParseObject(req, &err);
  if (!body) return Answer(std::move(err));
  auto field = [&](std::string_view k) -> std::string {
    if (!body->contains(k)) return "";
    return Word((*body)[std::string(k)]).value_or("");
  };
  const std::string name = field("name"), address = field("address");
  if (name.empty() || address.empty()) {
    return Answer(ErrorResponse(400, "name and address are required"));
  }
  std::string endpoint = address.find(':') != std::string::npos ? "[" + address + "]" : address;
  if (!field("port").empty()) endpoint += ":" + field("port");
  const std::string sv = *be + "/" + name;
  Cmd add{{"add", "server", sv, endpoint}, "", {"New server registered."}};
  if (!field("weight").empty()) add.args.insert(add.args.end(), {"weight", field("weight")});
  if (field("check") == "enabled") add.args.push_back("check");
  if (field("backup") == "enabled") add.args.push_back("backup");
  std::vector<Cmd> cmds{std::move(add)};
  if (field("maintenance") != "enabled") {
    if (field("check") == "enabled") cmds.push_back({{"enable", "health", sv}, "", {}});
    cmds.push_back({{"set", "server", sv, "state", "ready"}, "", {}});
  }
  return RunCommands(req, ctx, std::move(cmds), &AddedServer<kV3>);
}

// DELETE: `del server` (a server in maintenance, without sessions).
template <bool kV3>
std::unique_ptr<Job> DeleteServer(const Request& req, const Params& params, Context& ctx) {
  const std::string* be = BackendOf(req, params, kV3);
  if (be == nullptr) return Answer(ErrorResponse(400, "missing the backend parameter"));
  const std::string sv = *be + "/" + params[kV3 ? 1 : 0];
  return RunCommands(req, ctx, {{{"del", "server", sv}, "", {"Server deleted."}}}, &NoContent);
}

// --- map entries ---

std::string MapRef(const Request& req) {
  const std::string* m = QueryValue(req, "map");
  if (m == nullptr) return "";
  return RefWord(*m);
}

// The entries, or the one whose key is params[0] (404 when none).
Response Entries(const Request& req, const std::vector<std::string>& texts, Context&) {
  Json items = Json::array();
  for (std::string_view line : TextLines(texts.back())) {
    if (!line.starts_with("0x") || line.find(' ') == std::string_view::npos) continue;
    Json e = MapEntryJson(line);
    if (!req.params.empty()) {
      if (e["key"] == req.params[0]) return JsonResponse(req.method == "POST" ? 201 : 200, e);
      continue;
    }
    items.push_back(std::move(e));
  }
  if (!req.params.empty()) return ErrorResponse(404, "Key not found.");
  return JsonResponse(200, items);
}

std::unique_ptr<Job> ListEntries(const Request& req, const Params&, Context& ctx) {
  const std::string ref = MapRef(req);
  if (ref.empty()) return Answer(ErrorResponse(400, "missing the map parameter"));
  return RunCommands(req, ctx, {{{"show", "map", ref}, "", {"0x"}}}, &Entries);
}

std::unique_ptr<Job> GetEntry(const Request& req, const Params&, Context& ctx) {
  return ListEntries(req, {}, ctx);
}

// POST {"key": K, "value": V}: the new entry (201).
std::unique_ptr<Job> AddEntry(const Request& req, const Params&, Context& ctx) {
  const std::string ref = MapRef(req);
  if (ref.empty()) return Answer(ErrorResponse(400, "missing the map parameter"));
  Response err;
  const std::optional<Json> body = ParseObject(req, &err);
  if (!body) return Answer(std::move(err));
  const auto key = body->contains("key") ? Word((*body)["key"]) : std::nullopt;
  const auto value = body->contains("value") ? Word((*body)["value"]) : std::nullopt;
  if (!key || !value) return Answer(ErrorResponse(400, "expected {\"key\": ..., \"value\": ...}"));
  Request found = req;
  found.params = {*key};
  return RunCommands(
      found, ctx, {{{"add", "map", ref, *key, *value}, "", {}}, {{"show", "map", ref}, "", {"0x"}}},
      &Entries);
}

// PUT {"value": V}: the entry after the change.
std::unique_ptr<Job> SetEntry(const Request& req, const Params& params, Context& ctx) {
  const std::string ref = MapRef(req);
  if (ref.empty()) return Answer(ErrorResponse(400, "missing the map parameter"));
  Response err;
  const std::optional<Json> body = ParseObject(req, &err);
  if (!body) return Answer(std::move(err));
  const auto value = body->contains("value") ? Word((*body)["value"]) : std::nullopt;
  if (!value) return Answer(ErrorResponse(400, "expected {\"value\": ...}"));
  return RunCommands(
      req, ctx,
      {{{"set", "map", ref, params[0], *value}, "", {}}, {{"show", "map", ref}, "", {"0x"}}},
      &Entries);
}

std::unique_ptr<Job> DeleteEntry(const Request& req, const Params& params, Context& ctx) {
  const std::string ref = MapRef(req);
  if (ref.empty()) return Answer(ErrorResponse(400, "missing the map parameter"));
  return RunCommands(req, ctx, {{{"del", "map", ref, params[0]}, "", {}}}, &NoContent);
}

constexpr RouteRow kRoutes[] = {
    {"GET", "/v2/services/haproxy/runtime/servers", &ListServers<false>,
     "Data Plane API v2: a backend's runtime servers (?backend=)"},
    {"GET", "/v2/services/haproxy/runtime/servers/{name}", &GetServer<false>,
     "Data Plane API v2: a runtime server (?backend=)"},
    {"PUT", "/v2/services/haproxy/runtime/servers/{name}", &PutServer<false>,
     "Data Plane API v2: set admin_state / operational_state (?backend=)"},
    {"POST", "/v2/services/haproxy/runtime/servers", &AddServer<false>,
     "Data Plane API v2: add a runtime server (?backend=)"},
    {"DELETE", "/v2/services/haproxy/runtime/servers/{name}", &DeleteServer<false>,
     "Data Plane API v2: delete a runtime server in maintenance (?backend=)"},
    {"GET", "/v3/services/haproxy/runtime/backends/{backend}/servers", &ListServers<true>,
     "Data Plane API v3: a backend's runtime servers"},
    {"GET", "/v3/services/haproxy/runtime/backends/{backend}/servers/{name}", &GetServer<true>,
     "Data Plane API v3: a runtime server"},
    {"PUT", "/v3/services/haproxy/runtime/backends/{backend}/servers/{name}", &PutServer<true>,
     "Data Plane API v3: set admin_state / operational_state"},
    {"POST", "/v3/services/haproxy/runtime/backends/{backend}/servers", &AddServer<true>,
     "Data Plane API v3: add a runtime server"},
    {"DELETE", "/v3/services/haproxy/runtime/backends/{backend}/servers/{name}",
     &DeleteServer<true>, "Data Plane API v3: delete a runtime server in maintenance"},
    {"GET", "/v2/services/haproxy/runtime/maps_entries", &ListEntries,
     "Data Plane API v2: a map's entries (?map=)"},
    {"POST", "/v2/services/haproxy/runtime/maps_entries", &AddEntry,
     "Data Plane API v2: add a map entry (?map=)"},
    {"GET", "/v2/services/haproxy/runtime/maps_entries/{key}", &GetEntry,
     "Data Plane API v2: a map entry by key (?map=)"},
    {"PUT", "/v2/services/haproxy/runtime/maps_entries/{key}", &SetEntry,
     "Data Plane API v2: change a map entry's value (?map=)"},
    {"DELETE", "/v2/services/haproxy/runtime/maps_entries/{key}", &DeleteEntry,
     "Data Plane API v2: delete a map entry (?map=)"},
};

}  // namespace

std::span<const RouteRow> DataPlaneApiRoutes() { return kRoutes; }

}  // namespace sluice::cli::rest
