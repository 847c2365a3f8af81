// Slow path: a proxy's statistics page for the workers (rules::StatsService,
// docs/stats-page.md): `stats http-request allow|deny|auth` and `stats admin if|unless COND`
// compiled with the proxy's other rules (they name its ACLs), then the URI and the check
// `stats auth` makes: HAProxy appends `stats http-request auth realm REALM unless
// { http_auth(LIST) }` after the proxy's own stats rules, LIST holding the `stats auth`
// accounts (kept as an unnamed userlist of the snapshot).
#include <atomic>

#include "controlplane/rules/rules_actions.h"

namespace sluice::rulescp {

void CompileStatsLine(RuleLine& x, rules::StatsService* out) {
  const auto& w = x.line->args;
  if (w[1] == "admin") {
    if (auto ok = x.c.ParseCond(w, 2, &out->admin); !ok) {
      x.Alert("error detected while parsing a 'stats admin' rule : " + Period(ok.error()));
      return;
    }
    out->admin_set = true;
    return;
  }
  // stats http-request ACTION ...: parsed as an http-request rule, three actions allowed.
  config::RuleLine shifted = *x.line;
  shifted.args.erase(shifted.args.begin());
  RuleLine y{x.c, x.cfg, x.diags, &shifted, x.http, x.frontend, x.fe, x.proxy};
  const std::string& act = shifted.args[1];  // the parser saw an action
  if (act != "allow" && act != "deny" && act != "auth") {
    x.Alert("'stats http-request' expects 'allow', 'deny' or 'auth', but got '" + act + "'.");
    return;
  }
  auto r = ParseHttpRule(y, false);
  if (!r) {
    x.Alert("error detected while parsing a 'stats http-request " + act + "' rule : " +
            r.error() + ".");
    return;
  }
  out->rules.push_back(std::move(*r));
}

void FinishStats(const config::ProxyConfig& p, Compiler& c, rules::RulesSnap& snap,
                 std::vector<config::Diagnostic>* diags, rules::StatsService* out) {
  if (!p.stats.enabled) return;
  if (!p.mode_http) {
    const char* kind = p.kind == config::ProxyConfig::Kind::kFrontend  ? "frontend"
                       : p.kind == config::ProxyConfig::Kind::kBackend ? "backend"
                                                                        : "listen";
    diags->push_back(config::Diagnostic{
        config::Diagnostic::Severity::kWarning, p.file, p.line, "stats",
        std::string("'stats' statement ignored for ") + kind + " '" + p.name +
            "' as it requires HTTP mode."});
    *out = rules::StatsService{};
    return;
  }
  out->on = true;
  out->uri = p.stats.uri;
  if (p.stats.auth.empty()) return;
  static std::atomic<uint64_t> serials{1ull << 62};  // apart from the configured lists'
  rules::Userlist list;
  list.name = "<stats:" + p.name + ">";  // no configured list has '<' in its name
  list.serial = ++serials;
  for (const auto& [user, password] : p.stats.auth) {
    rules::AuthUser u;
    u.name = user;
    u.password = password;
    u.insecure = true;
    u.has_password = true;
    list.users.push_back(std::move(u));
  }
  snap.userlists.push_back(std::move(list));
  rules::Rule auth;
  auth.act = rules::Act::kAuth;
  auth.name = p.stats.realm;
  c.At(p.file, p.line);
  const std::vector<std::string> cond = {"unless", "{", "http_auth(<stats:" + p.name + ">)",
                                         "}"};
  if (auto ok = c.ParseCond(cond, 0, &auth.cond); !ok) {
    diags->push_back(config::Diagnostic{config::Diagnostic::Severity::kAlert, p.file, p.line,
                                        "stats", "'stats auth' : " + Period(ok.error())});
    return;
  }
  out->rules.push_back(std::move(auth));
}

}  // namespace sluice::rulescp
