// Slow path. Compiles the configuration's rules (`acl`, `http-request`, `http-response`,
// `tcp-request`, `use_backend`, the `%[...]` of log-format) into the workers' snapshot part
// (rules::RulesSnap) and the pattern references they use (PatternStore). Errors are config
// diagnostics naming file, line and keyword, with HAProxy's wording where it has one.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "controlplane/config/config.h"
#include "controlplane/rules/pattern_store.h"
#include "dataplane/base/result.h"
#include "dataplane/rules/expr.h"
#include "dataplane/stick/stick.h"

namespace sluice::rulescp {

struct CompiledRules {
  std::shared_ptr<rules::RulesSnap> snap;
  std::shared_ptr<stick::StickSnap> stick;  // the stick tables (none: empty)
  std::unique_ptr<PatternStore> store;
};

// Compiles every proxy's rule lines. Diagnostics are appended to `diags`; the result is
// usable only when no alert was added.
CompiledRules Compile(const config::Config& cfg, std::vector<config::Diagnostic>* diags);

// Where an expression is used, for its checks (a response fetch in a request rule...).
struct ExprScope {
  bool http = true;       // HTTP fetches allowed
  bool response = false;  // response fetches allowed
  bool request = true;    // HTTP request fetches allowed (not in `stick store-response`)
  // Ends the error of a fetch whose data is not there ("available here").
  std::string_view where = "here";
  // Evaluated on the response (http-response rules, stick store-response): `hdr` is the
  // response's header there, as HAProxy 2.6.12 reads it (not in an ACL: see docs/rules.md).
  bool on_response = false;
};

// The pieces below are exposed for unit tests and fuzzers. `vars` names the variable slots
// (grown as new names appear); `store` receives map references; `where` is "file 'F' line N".
class Compiler {
 public:
  Compiler(PatternStore* store, rules::RulesSnap* snap, std::string file, int line)
      : store_(store), snap_(snap), file_(std::move(file)), line_(line) {}

  base::Result<bool> ParseExpr(std::string_view text, const ExprScope& scope, rules::Expr* out);
  // `acl NAME ...`'s words after the name (criterion, flags, values).
  base::Result<bool> ParseAclTerm(const std::vector<std::string>& words, size_t first, size_t last,
                                  rules::AclTerm* out);
  // `if|unless ...` from words[first]; named ACLs are looked up in `named` (name -> index).
  base::Result<bool> ParseCond(const std::vector<std::string>& words, size_t first,
                               rules::Cond* out);
  base::Result<bool> ParseLogFmt(std::string_view text, const ExprScope& scope, rules::LogFmt* out);
  uint32_t VarSlot(std::string_view name);
  // The snapshot frees it with itself.
  void KeepRegex(pcre2_real_code_8* re) { snap_->regexes.push_back(re); }
  // Defines or extends a named ACL.
  base::Result<bool> DefineAcl(const std::string& name, const std::vector<std::string>& words);
  // `table`: the proxy's own stick table (src_* and track-sc default to it), -1: none.
  void BeginProxy(int table = -1) {
    named_.clear();
    table_ = table;
  }
  int table() const { return table_; }
  // The stick tables fetches and actions name (compiled before the rules).
  void SetStick(const stick::StickSnap* s) { stick_ = s; }
  const stick::StickSnap* stick() const { return stick_; }
  void At(std::string file, int line) {
    file_ = std::move(file);
    line_ = line;
  }

 private:
  base::Result<bool> ParseConv(std::string_view name, const std::vector<std::string>& args,
                               rules::Step* out, rules::SmpType* type);
  base::Result<uint32_t> Predefined(std::string_view name);
  std::string Where() const { return "file '" + file_ + "' line " + std::to_string(line_); }

  // table_<datum>(T) and in_table(T): `found` false when `name` is not one.
  base::Result<bool> ParseTableConv(std::string_view name, const std::vector<std::string>& args,
                                    rules::Step* out, rules::SmpType* type, bool* found);
  // sc0_*, sc_*(N), src_* (a stick-table fetch): false when `name` is not one.
  base::Result<bool> ParseStickFetch(std::string_view name, const std::vector<std::string>& args,
                                     rules::Expr* out, bool* found);
  // sc_get_gpt|get_gpc|gpc_rate|inc_gpc|clr_gpc(I,N[,T]) and src_*(I,T): an array's element.
  base::Result<bool> ParseArrayFetch(std::string_view name, const std::vector<std::string>& args,
                                     rules::Expr* out, bool* found);

  PatternStore* store_;
  const stick::StickSnap* stick_ = nullptr;
  int table_ = -1;
  rules::RulesSnap* snap_;
  std::string file_;
  int line_;
  std::vector<std::pair<std::string, uint32_t>> named_;  // this proxy's ACLs
};

// server_sni.cc: the servers' `sni EXPR` into snap.server_sni (after srv_names is filled).
void CompileServerSni(const config::Config& cfg, Compiler& c, rules::RulesSnap& snap,
                      std::vector<config::Diagnostic>* diags);

// The `%[...]` expressions of a log-format string, in order.
std::vector<std::string> LogFormatExprs(std::string_view text);

}  // namespace sluice::rulescp
