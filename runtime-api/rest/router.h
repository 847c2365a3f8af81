// Slow path. The REST interface's resources (docs/rest-api.md), independent of the HTTP
// server that carries them (rest_server.h): a request (method, decoded path, query, body,
// the caller's level) is routed by a constant table of rows {method, path pattern, handler}
// to a Job that answers it. Reads come from the same snapshots the Runtime API's commands
// read; every change is made by running the stats socket's own command (CommandRun), so
// the two front doors share their rules and their error texts. A Job that waits for the
// workers is pumped again on a later iteration of the control loop.
//
//   rest::Context ctx{registry, appliance};
//   std::unique_ptr<rest::Job> job = rest::Route(request, ctx);
//   rest::Response r;
//   while (!job->Pump(&r)) { ...later... }
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime-api/commands/context.h"
#include "runtime-api/metrics/stats_page.h"
#include "runtime-api/registry/registry.h"

namespace sluice::cli::rest {

using Json = nlohmann::ordered_json;

struct Request {
  std::string method;     // GET, HEAD, POST, PUT, DELETE
  std::string path;       // URL-decoded: "/v1/backends/be_app/servers/s1"
  std::string raw_path;   // as sent: segments are split before decoding ("%2Fetc%2Fa.map")
  std::string raw_query;  // as sent, after '?'
  std::vector<std::pair<std::string, std::string>> query;  // URL-decoded, in order
  std::string content_type;
  std::string body;
  Level level = Level::kAdmin;      // the caller's (docs/rest-api.md: users and levels)
  std::vector<std::string> params;  // the route's {parameters}, set by Route()
  std::string matrix;  // "/stats;csv;up": "csv;up" (HAProxy's options after the page's URI)
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // When set, the rest of the body after `body`: stepped as the client takes it, sent
  // chunked, so a large answer never sits whole in memory. It must not wait for the workers.
  std::unique_ptr<Dump> stream;
};

class Job {
 public:
  virtual ~Job() = default;
  // Fills *out and returns true once the answer is known; false: call again later.
  virtual bool Pump(Response* out) = 0;
};

// What a handler works with: two references to objects that live as long as the server.
// Jobs keep a copy (a suspended job outlives the call that created it).
struct Context {
  const Registry& registry;
  ApplianceContext& appliance;
};

// The path's {parameters}, in order.
using Params = std::vector<std::string>;
using Handler = std::unique_ptr<Job> (*)(const Request& req, const Params& params, Context& ctx);

struct RouteRow {
  std::string_view method;
  std::string_view pattern;  // "/v1/backends/{backend}/servers/{server}"
  Handler handler;
  std::string_view summary;  // the OpenAPI operation's summary
  bool list = false;         // answers a JSON array, paged by ?offset= and ?limit=
};

// Splits a request target ("/v1/maps/%231/entries?offset=10") into the decoded path, the
// raw query and its decoded pairs ('+' is a space in the query). False for a target that is
// not a path, or whose escapes are bad or decode to a NUL byte.
bool ParseTarget(std::string_view target, Request* req);

// Every resource table, in the order they are matched.
std::span<const RouteRow> InfoRoutes();     // routes_proxies.cc: info, stats, proxies, sessions
std::span<const RouteRow> PatternRoutes();  // routes_patterns.cc: ACLs and maps
std::span<const RouteRow> TableRoutes();    // routes_tables.cc: stick tables, TLS
std::span<const RouteRow> StatsRoutes();    // routes_stats.cc: the statistics page
std::span<const RouteRow> DataPlaneApiRoutes();  // routes_dpapi.cc: Data Plane API paths
std::vector<const RouteRow*> AllRoutes();

// The Job answering `req`: 404 for an unknown path, 405 (with Allow) for a known path and
// another method, 403 for a change asked by a `user`-level caller.
std::unique_ptr<Job> Route(const Request& req, Context& ctx);

// The statistics page (GET, HEAD: the page or its ;csv / ;json; POST: the admin form, at
// the admin level only) and the Prometheus exporter, as the REST routes answer them and as a
// data-plane frontend's services do (controlplane/main/frontend_services.h): `options` are
// the serving proxy's `stats` settings.
std::unique_ptr<Job> StatsPageJob(const Request& req, const StatsPageOptions& options,
                                  Context& ctx);
std::unique_ptr<Job> MetricsPageJob(const Request& req, Context& ctx);

// The OpenAPI 3 document of every route (openapi.cc).
std::string OpenApiDocument();

// --- for the handlers ---

// A JSON answer; an error is {"error": TEXT, "message": TEXT, "code": STATUS} ("message" as
// the Data Plane API names it), with "command" when a command answered it.
Response JsonResponse(int status, const Json& body);
Response ErrorResponse(int status, std::string_view text, std::string_view command = "");
std::unique_ptr<Job> Answer(Response r);

// The request's body as JSON (an object or an array); on error, *err is the 400 to send.
std::optional<Json> ParseBody(const Request& req, Response* err);
// The same, when it must be a JSON object ("expected a JSON object" otherwise).
std::optional<Json> ParseObject(const Request& req, Response* err);
// The query parameter `key` (the first one), or null.
const std::string* QueryValue(const Request& req, std::string_view key);
// A list answered as a JSON array: `offset` and `limit` query parameters select a page, and
// the X-Total-Count header gives the whole list's length.
Response ListResponse(const Request& req, Json items);

// The HTTP status for a command's error text: 404 for HAProxy's texts naming a missing object
// ("No such server.", "Unknown map identifier...", "Key not found."), 403 for "Permission
// denied", else 400.
int StatusForError(std::string_view text);

// One stats socket command of a Job: its words, its payload, and the prefixes of the texts
// that mean success besides an empty answer.
struct Cmd {
  std::vector<std::string> args;
  std::string payload;
  std::vector<std::string_view> ok;
};
// Runs `cmds` in order at the caller's level, stopping at the first that fails (answered
// with its error); then `finish` builds the answer from every command's text.
using Finish = Response (*)(const Request& req, const std::vector<std::string>& texts,
                            Context& ctx);
std::unique_ptr<Job> RunCommands(const Request& req, Context& ctx, std::vector<Cmd> cmds,
                                 Finish finish);
// `finish` for a change: 204, no body; for a creation: 201, no body.
Response NoContent(const Request& req, const std::vector<std::string>& texts, Context& ctx);
Response Created(const Request& req, const std::vector<std::string>& texts, Context& ctx);

// The lines of a command's answer, without their '\n'.
std::vector<std::string_view> TextLines(std::string_view text);

// A reference as the stats socket names it: "5" -> "#5" (an id), anything else as it is
// (a file). Maps, ACLs, ticket-key files.
std::string RefWord(const std::string& p);

// A `show map` entry line "0x55d0 key value" as {"id", "key", "value"}.
Json MapEntryJson(std::string_view line);

// A server's states as the REST resources name them: admin "ready|drain|maint",
// operational "up|down|stopping|starting".
std::string_view AdminStateName(const ServerView& s);
std::string_view OperationalStateName(const ServerView& s);

// A JSON value as a command's word: strings as they are, numbers in decimal; nullopt for
// other types.
std::optional<std::string> Word(const Json& v);

}  // namespace sluice::cli::rest
