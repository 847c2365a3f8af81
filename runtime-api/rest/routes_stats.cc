// Slow path. HAProxy's statistics page on the REST listener (docs/stats-page.md):
// `GET /stats` and its options after ';' (`;csv`, `;json`, `;up`, `;norefresh`, `;st=`),
// and the admin form's `POST /stats`, whose actions run the stats socket's commands.
#include <algorithm>

#include "runtime-api/commands/proxy_lookup.h"
#include "runtime-api/metrics/stats_page.h"
#include "runtime-api/rest/command_run.h"
#include "runtime-api/rest/router.h"

namespace sluice::cli::rest {
namespace {

constexpr std::string_view kUri = "/stats";

StatsPageOptions PageOptions(const Request& req) {
  StatsPageOptions o;
  o.uri = std::string(kUri);
  o.admin = req.level >= Level::kAdmin;
  o.show_legends = req.level >= Level::kOperator;
  return o;
}

// `;csv` and `;json` answer what `show stat` prints, as HAProxy's page does, for the
// proxies `stats scope` names when it names some.
class ExportJob final : public Job {
 public:
  ExportJob(Context& ctx, Level level, bool json, std::vector<std::string> scopes)
      : run_(ctx.registry, ctx.appliance, level,
             json ? std::vector<std::string>{"show", "stat", "json"}
                  : std::vector<std::string>{"show", "stat"}),
        json_(json),
        scopes_(std::move(scopes)) {}
  bool Pump(Response* out) override {
    if (!run_.Pump()) return false;
    out->status = 200;
    out->content_type = json_ ? "application/json" : "text/plain";
    out->headers.emplace_back("Cache-Control", "no-cache");
    out->body = scopes_.empty() ? run_.text() : json_ ? ScopedJson() : ScopedCsv();
    return true;
  }

 private:
  bool InScope(std::string_view px) const {
    return std::find(scopes_.begin(), scopes_.end(), px) != scopes_.end();
  }
  // The header and the rows of the proxies in scope.
  std::string ScopedCsv() const {
    std::string out;
    for (std::string_view line : TextLines(run_.text())) {
      if (line.starts_with("#") || InScope(line.substr(0, line.find(',')))) {
        out.append(line).append("\n");
      }
    }
    return out;
  }
  // Each row is an array of fields, the first one pxname's.
  std::string ScopedJson() const {
    const Json all = Json::parse(run_.text(), nullptr, false);
    if (!all.is_array()) return run_.text();
    Json kept = Json::array();
    for (const Json& row : all) {
      const Json* px = row.is_array() && !row.empty() ? &row[0] : nullptr;
      if (px && px->contains("value") && InScope((*px)["value"].value("value", ""))) {
        kept.push_back(row);
      }
    }
    return kept.dump() + "\n";
  }

  CommandRun run_;
  bool json_;
  std::vector<std::string> scopes_;
};

Response Redirect(std::string_view uri, std::string_view status) {
  Response r;
  r.status = 303;
  r.content_type = "text/plain";
  r.headers.emplace_back("Cache-Control", "no-cache");
  r.headers.emplace_back("Location", std::string(uri) + ";st=" + std::string(status));
  return r;
}

// Runs the form's commands one after the other; the outcome is HAProxy's: DONE when all
// changed something, PART when some failed, DENY when the level was too low.
class AdminJob final : public Job {
 public:
  AdminJob(Context& ctx, Level level, std::string uri, StatsAdminPlan plan)
      : ctx_(ctx), level_(level), uri_(std::move(uri)), plan_(std::move(plan)) {}
  bool Pump(Response* out) override {
    while (next_ < plan_.commands.size()) {
      if (!run_) {
        run_ = std::make_unique<CommandRun>(ctx_.registry, ctx_.appliance, level_,
                                            plan_.commands[next_]);
      }
      if (!run_->Pump()) return false;
      // `set server` and friends answer nothing when they did it (some errors come
      // through a dump's text, not as an error message).
      const bool ok = !run_->failed() && run_->text().find_first_not_of(" \n") == std::string::npos;
      denied_ = denied_ || run_->text().starts_with("Permission denied");
      failed_ += ok ? 0 : 1;
      run_.reset();
      ++next_;
    }
    std::string status = plan_.status.empty() ? "DONE" : plan_.status;
    if (failed_ > 0) status = failed_ == plan_.commands.size() ? "ERRP" : "PART";
    if (denied_) status = "DENY";
    *out = Redirect(uri_, status);
    return true;
  }

 private:
  Context ctx_;  // by value: the caller's may be gone when a suspended job resumes
  Level level_;
  std::string uri_;
  StatsAdminPlan plan_;
  size_t next_ = 0;
  size_t failed_ = 0;
  bool denied_ = false;
  std::unique_ptr<CommandRun> run_;
};

std::unique_ptr<Job> GetStats(const Request& req, const Params&, Context& ctx) {
  return StatsPageJob(req, PageOptions(req), ctx);
}

constexpr RouteRow kRoutes[] = {
    {"GET", "/stats", &GetStats,
     "HAProxy's statistics page (;csv, ;json, ;up, ;norefresh after the path)"},
    {"POST", "/stats", &GetStats, "The statistics page's admin form (s=, action=, b=)"},
};

}  // namespace

std::span<const RouteRow> StatsRoutes() { return kRoutes; }

std::unique_ptr<Job> StatsPageJob(const Request& req, const StatsPageOptions& options,
                                  Context& ctx) {
  if (req.method == "POST") {
    // HAProxy's outcome codes come back in the redirect: DENY below the admin level.
    if (req.level < Level::kAdmin) return Answer(Redirect(options.uri, "DENY"));
    StatsAdminPlan plan = PlanStatsAdmin(req.body, TakeProxySnapshot(ctx.appliance).proxies);
    if (plan.commands.empty()) return Answer(Redirect(options.uri, plan.status));
    return std::make_unique<AdminJob>(ctx, req.level, options.uri, std::move(plan));
  }
  const StatsUri u = ParseStatsUri(req.matrix, req.raw_query);
  if (u.format != StatsUri::Format::kHtml) {
    return std::make_unique<ExportJob>(ctx, req.level, u.format == StatsUri::Format::kJson,
                                       options.scopes);
  }
  Response r;
  r.content_type = "text/html";
  r.headers.emplace_back("Cache-Control", "no-cache");
  r.body = RenderStatsPage(ctx.appliance, options, u);
  return Answer(std::move(r));
}

}  // namespace sluice::cli::rest
