// Slow path: the configuration's rules compiled for the workers
// (controlplane/rules/rules_compile.h; docs/rules.md lists every keyword): every proxy's rule
// lines, use_backend, captures and log-format expressions, through the expression compiler
// (expr_compile.cc) and the actions' parsers (rules_actions.cc, stick_compile.cc).
#include "controlplane/rules/rules_compile.h"

#include <algorithm>
#include <atomic>
#include <string>
#include <vector>

#include "controlplane/rules/rules_actions.h"
#include "dataplane/rules/capture.h"

namespace sluice::rulescp {

using rules::Act;

namespace {

std::string KindOf(const config::ProxyConfig& p) {
  using K = config::ProxyConfig::Kind;
  return p.kind == K::kFrontend ? "frontend" : p.kind == K::kBackend ? "backend" : "listen";
}

}  // namespace

CompiledRules Compile(const config::Config& cfg, std::vector<config::Diagnostic>* diags) {
  CompiledRules out;
  out.snap = std::make_shared<rules::RulesSnap>();
  out.stick = std::make_shared<stick::StickSnap>();
  std::vector<int> table_of(cfg.proxies.size(), -1);
  const std::vector<std::string> server_tables = TablesStoringServers(cfg);
  for (size_t pi = 0; pi < cfg.proxies.size(); ++pi) {
    if (!cfg.proxies[pi].stick_table) continue;
    table_of[pi] = static_cast<int>(out.stick->tables.size());
    const bool server_id = std::find(server_tables.begin(), server_tables.end(),
                                     cfg.proxies[pi].name) != server_tables.end();
    out.stick->tables.push_back(TableOf(cfg.proxies[pi], server_id));
  }
  out.store = std::make_unique<PatternStore>();
  rules::RulesSnap& snap = *out.snap;
  std::vector<int> fe_of(cfg.proxies.size(), -1), be_of(cfg.proxies.size(), -1);
  for (size_t pi = 0; pi < cfg.proxies.size(); ++pi) {
    const config::ProxyConfig& p = cfg.proxies[pi];
    if (p.HasBackend()) {
      be_of[pi] = static_cast<int>(snap.be_names.size());
      snap.be_names.push_back(p.name);
      // By slot (ProxyConfig::SlotsOf): the servers, then "" for room `add server` uses.
      for (const auto& s : p.servers) snap.srv_names.push_back(s.name);
      snap.srv_names.resize(snap.srv_names.size() + p.SlotsOf() - p.servers.size());
    }
    if (p.HasFrontend()) {
      fe_of[pi] = static_cast<int>(snap.fe_names.size());
      snap.fe_names.push_back(p.name);
    }
  }
  snap.frontends.resize(snap.fe_names.size());
  snap.backends.resize(snap.be_names.size());
  // Userlists: each user's groups as bits, from `user ... groups` and `group ... users`.
  static std::atomic<uint64_t> serials{0};
  for (const config::UserlistConfig& l : cfg.userlists) {
    rules::Userlist u;
    u.name = l.name;
    u.serial = ++serials;
    for (const auto& g : l.groups) u.groups.push_back(g.name);
    auto bit = [&](const std::string& group) -> uint64_t {
      for (size_t g = 0; g < u.groups.size() && g < 64; ++g) {
        if (u.groups[g] == group) return uint64_t{1} << g;
      }
      return 0;
    };
    for (const auto& x : l.users) {
      rules::AuthUser a;
      a.name = x.name;
      a.password = x.password;
      a.insecure = x.insecure;
      a.has_password = x.has_password;
      for (const std::string& g : x.groups) a.groups |= bit(g);
      for (const auto& g : l.groups) {
        for (const std::string& member : g.users) {
          if (member == x.name) a.groups |= bit(g.name);
        }
      }
      u.users.push_back(std::move(a));
    }
    snap.userlists.push_back(std::move(u));
  }
  Compiler c(out.store.get(), out.snap.get(), "", 0);
  c.SetStick(out.stick.get());
  for (size_t pi = 0; pi < cfg.proxies.size(); ++pi) {
    const config::ProxyConfig& p = cfg.proxies[pi];
    c.BeginProxy(table_of[pi]);
    // A frontend's rules and a listen's go to its frontend part; a backend's to its backend.
    rules::ProxyRules* fe = fe_of[pi] >= 0 ? &snap.frontends[fe_of[pi]] : nullptr;
    rules::ProxyRules* be = be_of[pi] >= 0 ? &snap.backends[be_of[pi]] : nullptr;
    for (const config::RuleLine& line : p.rule_lines) {
      c.At(line.file, line.line);
      RuleLine x{c, cfg, diags, &line, p.mode_http, fe != nullptr, fe, p.name};
      const std::string& kw = line.args[0];
      if (kw == "capture" && line.args[1] == "cookie") {
        // capture cookie NAME len N (the parser checked the words): the last one applies.
        if (!fe) continue;
        int64_t len = 0;
        ParseI64(line.args.back(), &len);
        if (len > static_cast<int64_t>(rules::kCookieCaptureBytes)) {
          x.Warn("truncating capture length to " + std::to_string(rules::kCookieCaptureBytes) +
                 " bytes for frontend '" + p.name + "'.");
          len = rules::kCookieCaptureBytes;
        }
        fe->cookie_name = line.args[2];
        fe->cookie_len = static_cast<uint8_t>(len);
      } else if (kw == "capture" || kw == "declare") {
        // capture request|response header NAME len N / declare capture request|response len N
        // (the parser checked the words; captures are a frontend's).
        if (!fe) continue;
        const bool header = kw == "capture";
        const auto& w = line.args;
        int64_t len = 0;
        ParseI64(w.back(), &len);
        if (auto ok = AddCaptureSlot(fe, w[header ? 1 : 2] == "response", header ? w[3] : "", len);
            !ok) {
          x.Alert("'" + kw + "' : " + Period(ok.error()));
        }
      } else if (kw == "acl") {
        if (line.args.size() < 3) {
          x.Alert("'acl' expects a name and a fetch method");
          continue;
        }
        if (auto ok = c.DefineAcl(line.args[1], line.args); !ok) x.Alert(ok.error());
      } else if (kw == "http-request" || kw == "http-response") {
        const bool response = kw == "http-response";
        auto r = ParseHttpRule(x, response);
        if (!r) {
          x.Alert("error detected while parsing an '" + kw + " " +
                  (line.args.size() > 1 ? line.args[1] : "") + "' rule : " + r.error() + ".");
          continue;
        }
        rules::ProxyRules* target = fe ? fe : be;
        (response ? target->http_res : target->http_req).push_back(std::move(*r));
        // A listen section's rules run once, as its frontend's.
      } else if (kw == "stats") {
        CompileStatsLine(x, fe ? &fe->stats : &be->stats);
      } else if (kw == "tcp-request") {
        auto r = ParseTcpRule(x);
        if (!r) {
          x.Alert("error detected while parsing a 'tcp-request " +
                  (line.args.size() > 1 ? line.args[1] : "") + "' rule : " + r.error() + ".");
          continue;
        }
        if (!fe) continue;  // a backend's are ignored with a warning by the parser
        const std::string& when = line.args[1];
        (when == "connection" ? fe->tcp_conn : when == "session" ? fe->tcp_sess : fe->tcp_content)
            .push_back(std::move(*r));
      } else if (kw == "stick") {
        if (!be) continue;  // a frontend's: ignored with a warning by the parser
        auto r = ParseStickRule(x, p.mode_http);
        if (!r) {
          x.Alert(r.error());
          continue;
        }
        const bool response = r->kind == rules::StickRuleKind::kStoreResponse;
        (response ? be->stick_res : be->stick_req).push_back(std::move(*r));
      } else if (kw == "force-persist" || kw == "ignore-persist") {
        if (!be) continue;  // a frontend's: ignored with a warning by the parser
        const auto& w = line.args;
        rules::PersistRule r;
        r.force = kw == "force-persist";
        if (w.size() < 2 || (w[1] != "if" && w[1] != "unless")) {
          x.Alert("'" + kw + "' requires either 'if' or 'unless' followed by a condition.");
          continue;
        }
        if (auto ok = c.ParseCond(w, 1, &r.cond); !ok) {
          x.Alert("error detected while parsing a '" + kw + "' rule : " + Period(ok.error()));
          continue;
        }
        be->persist.push_back(std::move(r));
      } else if (kw == "use_backend") {
        if (!fe) continue;
        const auto& w = line.args;
        rules::UseBackend u;
        const size_t cond = CondAt(w, 2);
        if (w.size() < 2 || cond != 2) {
          x.Alert("'use_backend' expects a backend name and an optional condition.");
          continue;
        }
        if (w[1].find("%[") != std::string::npos) {
          if (auto ok = c.ParseLogFmt(w[1], ExprScope{p.mode_http, false}, &u.dynamic); !ok) {
            x.Alert("'use_backend' : " + Period(ok.error()));
            continue;
          }
        } else {
          for (size_t b = 0; b < snap.be_names.size(); ++b) {
            if (snap.be_names[b] == w[1]) u.backend = static_cast<uint32_t>(b);
          }
          if (u.backend == UINT32_MAX) {
            x.Alert("unable to find required use_backend: '" + w[1] + "'.");
            continue;
          }
          // The modes must agree: HAProxy refuses an HTTP frontend's TCP backend; a TCP
          // frontend that switches to an HTTP backend would need an upgrade sluice does not do
          // per rule (its default backend decides whether it runs HTTP).
          const config::ProxyConfig* target = nullptr;
          for (const config::ProxyConfig& q : cfg.proxies) {
            if (q.HasBackend() && q.name == w[1]) target = &q;
          }
          const bool fe_http =
              p.mode_http || (p.default_backend_index >= 0 &&
                              cfg.proxies[static_cast<size_t>(p.default_backend_index)].mode_http);
          if (target && fe_http && !target->mode_http) {
            x.Alert("http " + KindOf(p) + " '" + p.name + "' (" + p.file + ":" +
                    std::to_string(p.line) + ") tries to use incompatible tcp " + KindOf(*target) +
                    " '" + target->name + "' (" + target->file + ":" +
                    std::to_string(target->line) + ") in a 'use_backend' rule (see 'mode').");
            continue;
          }
          if (target && !fe_http && target->mode_http) {
            x.Alert("tcp " + KindOf(p) + " '" + p.name + "' switching to http backend '" +
                    target->name +
                    "' is not supported by sluice: write 'mode http' in the frontend.");
            continue;
          }
        }
        if (auto ok = c.ParseCond(w, cond, &u.cond); !ok) {
          x.Alert("error detected while parsing switching rule : " + Period(ok.error()));
          continue;
        }
        fe->use_backend.push_back(std::move(u));
      }
    }
    FinishStats(p, c, snap, diags, fe ? &fe->stats : &be->stats);
    // `capture ... id N` of a frontend's rules names a slot the frontend declares (anywhere in
    // its section, as HAProxy checks once the proxy is read).
    if (fe) {
      for (const bool response : {false, true}) {
        for (const rules::Rule& r : response ? fe->http_res : fe->http_req) {
          const size_t n = response ? fe->res_caps.size() : fe->req_caps.size();
          if (r.act != Act::kCapture || r.var < n) continue;
          diags->push_back(config::Diagnostic{
              config::Diagnostic::Severity::kAlert, p.file, static_cast<int>(r.line),
              response ? "http-response" : "http-request",
              "Proxy '" + p.name + "': unable to find capture id '" + std::to_string(r.var) +
                  "' referenced by " + (response ? "http-response" : "http-request") +
                  " capture rule."});
        }
      }
    }
  }
  // log-format expressions, after every section (HAProxy resolves them at the end too).
  for (size_t pi = 0; pi < cfg.proxies.size(); ++pi) {
    const config::ProxyConfig& p = cfg.proxies[pi];
    if (fe_of[pi] < 0 || p.log_format.empty()) continue;
    c.At(p.log_format_file, p.log_format_line);
    for (const std::string& e : LogFormatExprs(p.log_format)) {
      rules::LogFmt f;
      rules::LfPiece piece;
      piece.is_expr = true;
      if (auto ok = c.ParseExpr(e, ExprScope{p.mode_http, p.mode_http}, &piece.expr); !ok) {
        diags->push_back(config::Diagnostic{
            config::Diagnostic::Severity::kAlert, p.log_format_file, p.log_format_line,
            "log-format",
            "'log-format' : sample fetch <" + e + "> failed with : " + Period(ok.error())});
        continue;
      }
      f.pieces.push_back(std::move(piece));
      snap.frontends[fe_of[pi]].log_exprs.push_back(std::move(f));
    }
  }
  CompileServerSni(cfg, c, snap, diags);
  snap.nsets = static_cast<uint32_t>(out.store->size());
  for (const auto* side : {&snap.frontends, &snap.backends}) {
    for (const rules::ProxyRules& r : *side) {
      if (!r.tcp_conn.empty() || !r.tcp_sess.empty() || !r.tcp_content.empty() ||
          !r.http_req.empty() ||
          !r.http_res.empty() || !r.use_backend.empty() || !r.log_exprs.empty() ||
          !r.req_caps.empty() || !r.res_caps.empty() || r.cookie_len || !r.stick_req.empty() ||
          !r.stick_res.empty() || r.stats.on) {
        snap.active = true;
      }
    }
  }
  return out;
}

}  // namespace sluice::rulescp
