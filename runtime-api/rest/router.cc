// Slow path. Routing and the pieces every resource shares (router.h).
#include "runtime-api/rest/router.h"

#include <algorithm>

#include "runtime-api/commands/proxy_lookup.h"
#include "runtime-api/protocol/url.h"
#include "runtime-api/rest/command_run.h"

namespace sluice::cli::rest {
namespace {

// Splits "/a/b/c" into {"a", "b", "c"} (empty segments kept: "/a//b" does not match "/a/b").
std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.starts_with('/')) path.remove_prefix(1);
  while (true) {
    const size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

bool Match(std::string_view pattern, const std::vector<std::string_view>& segs, Params* params) {
  const std::vector<std::string_view> pat = Segments(pattern);
  if (pat.size() != segs.size()) return false;
  Params found;
  for (size_t i = 0; i < pat.size(); ++i) {
    if (pat[i].starts_with('{')) {
      if (segs[i].empty()) return false;
      found.emplace_back(segs[i]);
    } else if (pat[i] != segs[i]) {
      return false;
    }
  }
  *params = std::move(found);
  return true;
}

class AnswerJob final : public Job {
 public:
  explicit AnswerJob(Response r) : r_(std::move(r)) {}
  bool Pump(Response* out) override {
    *out = std::move(r_);
    return true;
  }

 private:
  Response r_;
};

std::string CommandText(const Cmd& c) {
  std::string s;
  for (const std::string& w : c.args) s.append(s.empty() ? "" : " ").append(w);
  return s;
}

bool Succeeded(const CommandRun& run, const Cmd& c) {
  if (run.failed() || run.truncated()) return false;
  const std::string& t = run.text();
  if (t.find_first_not_of(" \n") == std::string::npos) return true;
  return std::any_of(c.ok.begin(), c.ok.end(),
                     [&](std::string_view p) { return !p.empty() && t.starts_with(p); });
}

class CommandsJob final : public Job {
 public:
  CommandsJob(const Request& req, Context& ctx, std::vector<Cmd> cmds, Finish finish)
      : req_(req), ctx_(ctx), cmds_(std::move(cmds)), finish_(finish) {}

  bool Pump(Response* out) override {
    while (next_ < cmds_.size()) {
      if (!run_) {
        run_ = std::make_unique<CommandRun>(ctx_.registry, ctx_.appliance, req_.level,
                                            cmds_[next_].args, cmds_[next_].payload);
      }
      if (!run_->Pump()) return false;
      if (!Succeeded(*run_, cmds_[next_])) {
        std::string text = run_->text();
        while (!text.empty() && text.back() == '\n') text.pop_back();
        if (run_->truncated()) text = "answer too large";
        *out = ErrorResponse(run_->unknown() ? 500 : StatusForError(text), text,
                             CommandText(cmds_[next_]));
        return true;
      }
      texts_.push_back(run_->text());
      run_.reset();
      ++next_;
    }
    *out = finish_(req_, texts_, ctx_);
    return true;
  }

 private:
  Request req_;
  Context ctx_;  // by value: the caller's may be gone when a suspended job resumes
  std::vector<Cmd> cmds_;
  Finish finish_;
  size_t next_ = 0;
  std::unique_ptr<CommandRun> run_;
  std::vector<std::string> texts_;
};

}  // namespace

bool ParseTarget(std::string_view target, Request* req) {
  if (!target.starts_with('/')) return false;
  const size_t hash = target.find('#');
  if (hash != std::string_view::npos) target = target.substr(0, hash);
  const size_t q = target.find('?');
  req->raw_path = std::string(target.substr(0, q));
  if (!UrlDecode(req->raw_path, false, &req->path)) return false;
  req->raw_query.clear();
  req->query.clear();
  if (q == std::string_view::npos) return true;
  req->raw_query = std::string(target.substr(q + 1));
  bool ok = true;
  ForEachPair(req->raw_query, [&](std::string_view k, std::string_view v, bool) {
    std::string key, value;
    ok = ok && UrlDecode(k, true, &key) && UrlDecode(v, true, &value);
    req->query.emplace_back(std::move(key), std::move(value));
  });
  return ok;
}

std::vector<const RouteRow*> AllRoutes() {
  std::vector<const RouteRow*> out;
  for (auto table :
       {InfoRoutes(), PatternRoutes(), TableRoutes(), StatsRoutes(), DataPlaneApiRoutes()}) {
    for (const RouteRow& r : table) out.push_back(&r);
  }
  return out;
}

std::unique_ptr<Job> Route(const Request& req, Context& ctx) {
  // Each segment decoded on its own, so that an encoded '/' stays inside its segment.
  std::vector<std::string> decoded;
  for (std::string_view seg : Segments(req.raw_path.empty() ? req.path : req.raw_path)) {
    std::string d;
    if (!req.raw_path.empty() && !UrlDecode(seg, false, &d)) {
      return Answer(ErrorResponse(400, "bad escape in the path"));
    }
    decoded.push_back(req.raw_path.empty() ? std::string(seg) : std::move(d));
  }
  // The statistics page takes HAProxy's options after ';': "/stats;csv;norefresh".
  std::string matrix;
  if (decoded.size() == 1 && decoded[0].starts_with("stats;")) {
    matrix = decoded[0].substr(6);
    decoded[0] = "stats";
  }
  const std::vector<std::string_view> segs(decoded.begin(), decoded.end());
  std::string allow;
  const std::string method = req.method == "HEAD" ? "GET" : req.method;
  for (const RouteRow* row : AllRoutes()) {
    Params params;
    if (!Match(row->pattern, segs, &params)) continue;
    if (row->method != method) {
      if (allow.find(row->method) == std::string::npos) {
        allow.append(allow.empty() ? "" : ", ").append(row->method);
      }
      continue;
    }
    // The generic command and the page's admin form answer a user as the socket and
    // HAProxy's page do (Permission denied, DENY).
    if (method != "GET" && req.level < Level::kOperator && row->pattern != "/v1/command" &&
        row->pattern != "/stats") {
      return Answer(ErrorResponse(403, "Permission denied: this account can only read"));
    }
    Request routed = req;
    routed.params = params;
    routed.matrix = matrix;
    return row->handler(routed, params, ctx);
  }
  if (!allow.empty()) {
    Response r = ErrorResponse(405, "method " + req.method + " not allowed on " + req.path);
    r.headers.emplace_back("Allow", allow);
    return Answer(std::move(r));
  }
  return Answer(ErrorResponse(404, "unknown resource " + req.path));
}

Response JsonResponse(int status, const Json& body) {
  Response r;
  r.status = status;
  // Names and values come from the configuration and clients: invalid UTF-8 is replaced,
  // never thrown on.
  r.body = body.dump(-1, ' ', false, Json::error_handler_t::replace);
  r.body += '\n';
  return r;
}

Response ErrorResponse(int status, std::string_view text, std::string_view command) {
  Json j = {{"error", std::string(text)}, {"message", std::string(text)}, {"code", status}};
  if (!command.empty()) j["command"] = std::string(command);
  return JsonResponse(status, j);
}

std::unique_ptr<Job> Answer(Response r) { return std::make_unique<AnswerJob>(std::move(r)); }

std::optional<Json> ParseBody(const Request& req, Response* err) {
  Json j = Json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    *err = ErrorResponse(400, "the body is not valid JSON");
    return std::nullopt;
  }
  if (!j.is_object() && !j.is_array()) {
    *err = ErrorResponse(400, "the body must be a JSON object or array");
    return std::nullopt;
  }
  return j;
}

std::optional<Json> ParseObject(const Request& req, Response* err) {
  std::optional<Json> j = ParseBody(req, err);
  if (j && !j->is_object()) {
    *err = ErrorResponse(400, "expected a JSON object");
    return std::nullopt;
  }
  return j;
}

const std::string* QueryValue(const Request& req, std::string_view key) {
  for (const auto& [k, v] : req.query) {
    if (k == key) return &v;
  }
  return nullptr;
}

Response ListResponse(const Request& req, Json items) {
  const size_t total = items.size();
  auto number = [&](std::string_view key, size_t dflt) {
    const std::string* v = QueryValue(req, key);
    if (v == nullptr || v->empty() || v->size() > 18 ||
        v->find_first_not_of("0123456789") != std::string::npos) {
      return dflt;
    }
    return static_cast<size_t>(std::stoull(*v));
  };
  const size_t offset = std::min(number("offset", 0), total);
  const size_t limit = std::min(number("limit", total), total - offset);
  Json page = Json::array();
  for (size_t i = offset; i < offset + limit; ++i) page.push_back(std::move(items[i]));
  Response r = JsonResponse(200, page);
  r.headers.emplace_back("X-Total-Count", std::to_string(total));
  return r;
}

int StatusForError(std::string_view text) {
  for (std::string_view missing :
       {"No such", "Unknown map identifier", "Unknown ACL identifier", "Can't find",
        "Key not found", "entry not found", "unable to locate"}) {
    if (text.find(missing) != std::string_view::npos) return 404;
  }
  if (text.starts_with("Permission denied")) return 403;
  return 400;
}

std::unique_ptr<Job> RunCommands(const Request& req, Context& ctx, std::vector<Cmd> cmds,
                                 Finish finish) {
  return std::make_unique<CommandsJob>(req, ctx, std::move(cmds), finish);
}

Response NoContent(const Request&, const std::vector<std::string>&, Context&) {
  Response r;
  r.status = 204;
  r.content_type.clear();
  return r;
}

Response Created(const Request&, const std::vector<std::string>&, Context&) {
  Response r;
  r.status = 201;
  r.content_type.clear();
  return r;
}

std::vector<std::string_view> TextLines(std::string_view t) {
  std::vector<std::string_view> out;
  while (!t.empty()) {
    const size_t nl = t.find('\n');
    out.push_back(t.substr(0, nl));
    if (nl == std::string_view::npos) break;
    t.remove_prefix(nl + 1);
  }
  return out;
}

std::string RefWord(const std::string& p) {
  const bool digits = !p.empty() && p.find_first_not_of("0123456789") == std::string::npos;
  return digits ? "#" + p : p;
}

Json MapEntryJson(std::string_view line) {
  const size_t sp = line.find(' ');
  const std::string_view rest = line.substr(sp + 1);
  const size_t sp2 = rest.find(' ');
  return {{"id", std::string(line.substr(0, sp))},
          {"key", std::string(rest.substr(0, sp2))},
          {"value", sp2 == std::string_view::npos ? "" : std::string(rest.substr(sp2 + 1))}};
}

std::string_view AdminStateName(const ServerView& s) {
  if (InMaintenance(s)) return "maint";
  return s.forced_drain ? "drain" : "ready";
}

std::string_view OperationalStateName(const ServerView& s) {
  switch (s.op_state) {
    case ServerOpState::kStopped:
      return "down";
    case ServerOpState::kStarting:
      return "starting";
    case ServerOpState::kRunning:
      return "up";
    case ServerOpState::kStopping:
      return "stopping";
  }
  return "";
}

std::optional<std::string> Word(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_unsigned()) return std::to_string(v.get<uint64_t>());
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  return std::nullopt;
}

}  // namespace sluice::cli::rest
