// Slow path: the rule keywords of proxy sections (configuration.txt 4.2): `acl`,
// `http-request`, `http-response`, `tcp-request` and `use_backend`. The parser checks where
// each may be written and keeps the line as written (ProxyConfig::rule_lines); the rules
// compiler (controlplane/rules) turns them into the workers' rules once every section is
// known, with the same file and line in its diagnostics.
#include <string>

#include "controlplane/config/parse_context.h"

namespace sluice::config {
namespace {

void Keep(ParseContext& ctx, const Args& args) {
  ctx.config.proxies.back().rule_lines.push_back(RuleLine{ctx.file, ctx.line, args});
}

// Rules are refused in every defaults section (HAProxy 2.6 takes some in named defaults
// used with `from`; sluice takes none).
bool RefuseInDefaults(ParseContext& ctx) {
  if (ctx.section != Section::kDefaults) return false;
  ctx.Alert("'" + ctx.keyword + "' not allowed in 'defaults' section.");
  return true;
}

bool HasFrontend(ParseContext& ctx) {
  const ProxyConfig& p = ctx.config.proxies.back();
  if (p.HasFrontend()) return true;
  ctx.Warn("'" + ctx.keyword + "' ignored because backend '" + p.name +
           "' has no frontend capability.");
  return false;
}

void Acl(ParseContext& ctx, const KeywordRow&, const Args& args) {
  if (RefuseInDefaults(ctx)) return;
  const std::string& name = args[1];
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.' || c == ':';
    if (!ok) {
      ctx.Alert("acl: invalid character in ACL name '" + name + "'.");
      return;
    }
  }
  Keep(ctx, args);
}

void HttpRule(ParseContext& ctx, const KeywordRow&, const Args& args) {
  if (RefuseInDefaults(ctx)) return;
  Keep(ctx, args);
}

void TcpRequest(ParseContext& ctx, const KeywordRow&, const Args& args) {
  if (RefuseInDefaults(ctx)) return;
  if (args[1] == "inspect-delay") {
    return;  // content is inspected when it is complete (an HTTP head); see docs/rules.md
  }
  if (!HasFrontend(ctx)) return;
  Keep(ctx, args);
}

void UseBackend(ParseContext& ctx, const KeywordRow&, const Args& args) {
  if (RefuseInDefaults(ctx)) return;
  if (!HasFrontend(ctx)) return;
  Keep(ctx, args);
}

constexpr KeywordRow kRulesKeywords[] = {
    {"acl", Match::kExact, &Acl, 2, -1, "a name and a fetch method", ""},
    {"http-request", Match::kExact, &HttpRule, 1, -1, "an action", ""},
    {"http-response", Match::kExact, &HttpRule, 1, -1, "an action", ""},
    {"tcp-request", Match::kExact, &TcpRequest, 2, -1, "'connection' or 'content' and an action",
     ""},
    {"use_backend", Match::kExact, &UseBackend, 1, -1, "a backend name", ""},
};

}  // namespace

std::span<const KeywordRow> RulesKeywords() { return kRulesKeywords; }

bool IsRulesKeyword(std::string_view word) {
  for (const KeywordRow& row : kRulesKeywords) {
    if (row.keyword == word) return true;
  }
  return false;
}

}  // namespace sluice::config
