// Slow path, inside controlplane/rules: the actions of `http-request`, `http-response` and
// `tcp-request` lines (docs/rules.md lists them), parsed into the workers' rules::Rule.
#pragma once

#include <string>
#include <vector>

#include "controlplane/rules/rules_compile.h"

namespace sluice::rulescp {

// One rule line being compiled, with where its alerts go.
struct RuleLine {
  Compiler& c;
  const config::Config& cfg;
  std::vector<config::Diagnostic>* diags;
  const config::RuleLine* line;
  bool http;
  bool frontend;
  rules::ProxyRules* fe;  // the frontend's part (captures), nullptr in a backend
  std::string proxy;      // its name
  void Alert(const std::string& msg) {
    diags->push_back(config::Diagnostic{config::Diagnostic::Severity::kAlert, line->file,
                                        line->line, line->args[0], msg});
  }
  void Warn(const std::string& msg) {
    diags->push_back(config::Diagnostic{config::Diagnostic::Severity::kWarning, line->file,
                                        line->line, line->args[0], msg});
  }
};

// Index of the first "if"/"unless" at or after `from`, or w.size().
size_t CondAt(const std::vector<std::string>& w, size_t from);
// http-request / http-response ACTION ... [if|unless COND]
base::Result<rules::Rule> ParseHttpRule(RuleLine& x, bool response);
// tcp-request connection|content ACTION ... [if|unless COND]
base::Result<rules::Rule> ParseTcpRule(RuleLine& x);
// `stats admin if|unless COND` and `stats http-request allow|deny|auth ...` into the
// proxy's stats part (stats_compile.cc).
void CompileStatsLine(RuleLine& x, rules::StatsService* out);
// Once the proxy's lines are compiled: its stats URI and the check of `stats auth` (an
// unnamed userlist added to `snap`); a warning, and no page, outside HTTP mode.
void FinishStats(const config::ProxyConfig& p, Compiler& c, rules::RulesSnap& snap,
                 std::vector<config::Diagnostic>* diags, rules::StatsService* out);
// A new capture slot of `len` bytes at the end of the frontend's request or response slots
// (`header` "": filled by rules); returns its index. Refused past the block's bounds.
base::Result<uint32_t> AddCaptureSlot(rules::ProxyRules* fe, bool response, std::string header,
                                      int64_t len);
// A variable's name with its scope (HAProxy's error when it has none).
base::Result<bool> CheckVarName(std::string_view v);
// `msg` ended by one period, as HAProxy's alerts.
std::string Period(const std::string& msg);
// A proxy's `stick-table` laid out for the workers (stick_compile.cc); `server_id`: sticking
// rules store into it, so it keeps server_id whatever its `store` says.
stick::TableDef TableOf(const config::ProxyConfig& p, bool server_id);
// The tables sticking rules store into (by name, as the rules name them).
std::vector<std::string> TablesStoringServers(const config::Config& cfg);
// stick match|on|store-request|store-response <expr> [table <name>] [if|unless <cond>]: the
// error is the whole alert.
base::Result<rules::StickRule> ParseStickRule(RuleLine& x, bool http);

}  // namespace sluice::rulescp
