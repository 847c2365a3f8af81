// Slow path: the rule keywords of proxy sections (configuration.txt 4.2): `acl`, `stick`,
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
bool RefuseRuleInDefaults(ParseContext& ctx) {
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
  if (RefuseRuleInDefaults(ctx)) return;
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
  if (RefuseRuleInDefaults(ctx)) return;
  Keep(ctx, args);
}

void TcpRequest(ParseContext& ctx, const KeywordRow&, const Args& args) {
  if (RefuseRuleInDefaults(ctx)) return;
  if (args[1] == "inspect-delay") {
    return;  // content is inspected when it is complete (an HTTP head); see docs/rules.md
  }
  if (!HasFrontend(ctx)) return;
  Keep(ctx, args);
}

bool HasBackend(ParseContext& ctx) {
  const ProxyConfig& p = ctx.config.proxies.back();
  if (p.HasBackend()) return true;
  ctx.Warn("'" + ctx.keyword + "' ignored because frontend '" + p.name +
           "' has no backend capability.");
  return false;
}

// stick match|on|store-request|store-response ...: a backend's (compiled with the rules).
void Stick(ParseContext& ctx, const KeywordRow&, const Args& args) {
  if (RefuseRuleInDefaults(ctx)) return;
  if (!HasBackend(ctx)) return;
  Keep(ctx, args);
}

// force-persist|ignore-persist if|unless <cond>: a backend's (compiled with the rules).
void Persist(ParseContext& ctx, const KeywordRow&, const Args& args) {
  if (RefuseRuleInDefaults(ctx)) return;
  if (!HasBackend(ctx)) return;
  Keep(ctx, args);
}

void UseBackend(ParseContext& ctx, const KeywordRow&, const Args& args) {
  if (RefuseRuleInDefaults(ctx)) return;
  if (!HasFrontend(ctx)) return;
  Keep(ctx, args);
}

// The number after `len` (0 and up; the compiler bounds the sum).
bool CaptureLen(ParseContext& ctx, const std::string& v) {
  if (v.empty() || v.size() > 6 || v.find_first_not_of("0123456789") != std::string::npos) {
    ctx.Alert("'" + std::string(ctx.keyword == "declare" ? "declare capture" : "capture") +
              "': cannot parse the length '" + v + "'.");
    return false;
  }
  return true;
}

// capture request|response header NAME len N, capture cookie NAME len N (HAProxy 2.6.12's
// words: a later `capture cookie` replaces the former one).
void Capture(ParseContext& ctx, const KeywordRow&, const Args& args) {
  if (RefuseRuleInDefaults(ctx)) return;
  if (!HasFrontend(ctx)) return;
  if (args[1] == "cookie") {
    if (args.size() != 5 || args[3] != "len") {
      ctx.Alert("'capture' expects 'cookie' <cookie_name> 'len' <len>.");
      return;
    }
    if (!CaptureLen(ctx, args[4])) return;
    Keep(ctx, args);
    return;
  }
  if ((args[1] != "request" && args[1] != "response") || args.size() < 3 || args[2] != "header") {
    ctx.Alert("'capture' expects 'cookie' or 'request header' or 'response header'.");
    return;
  }
  if (args.size() != 6 || args[4] != "len") {
    ctx.Alert("'capture " + args[1] + "' expects 'header' <header_name> 'len' <len>.");
    return;
  }
  if (!CaptureLen(ctx, args[5])) return;
  Keep(ctx, args);
}

// declare capture request|response len N
void Declare(ParseContext& ctx, const KeywordRow&, const Args& args) {
  if (RefuseRuleInDefaults(ctx)) return;
  if (args[1] != "capture") {
    ctx.Alert("unknown declaration type '" + args[1] + "' (supports 'capture').");
    return;
  }
  if (!ctx.config.proxies.back().HasFrontend()) {
    ctx.Alert("'declare' only available in frontend or listen section.");
    return;
  }
  if (args.size() < 3 || (args[2] != "request" && args[2] != "response")) {
    ctx.Alert("'declare capture' expects 'request' or 'response'.");
    return;
  }
  if (args.size() != 5 || args[3] != "len") {
    ctx.Alert("'declare capture' requires a capture length ('len').");
    return;
  }
  if (!CaptureLen(ctx, args[4])) return;
  Keep(ctx, args);
}

constexpr KeywordRow kRulesKeywords[] = {
    {"acl", Match::kExact, &Acl, 2, -1, "a name and a fetch method", ""},
    {"http-request", Match::kExact, &HttpRule, 1, -1, "an action", ""},
    {"http-response", Match::kExact, &HttpRule, 1, -1, "an action", ""},
    {"tcp-request", Match::kExact, &TcpRequest, 2, -1,
     "'connection', 'session' or 'content' and an action", ""},
    {"use_backend", Match::kExact, &UseBackend, 1, -1, "a backend name", ""},
    {"stick", Match::kExact, &Stick, 0, -1, "", ""},
    {"force-persist", Match::kExact, &Persist, 0, -1, "", ""},
    {"ignore-persist", Match::kExact, &Persist, 0, -1, "", ""},
    {"capture", Match::kExact, &Capture, 1, -1, "'cookie' or 'request header' or 'response header'",
     ""},
    {"declare", Match::kExact, &Declare, 1, -1, "a declaration type", ""},
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
