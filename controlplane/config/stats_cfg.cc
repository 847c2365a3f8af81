// Slow path: `stats ...` in a proxy section (configuration.txt 4.2, "stats *"): the
// statistics page a proxy serves on its clients' requests (docs/stats-page.md). Settings go
// to ProxyConfig::stats; `stats admin if|unless COND` and `stats http-request ...` hold
// conditions and are kept as rule lines for the rules compiler (controlplane/rules).
#include <string>

#include "controlplane/config/parse_context.h"

namespace sluice::config {
namespace {

void KeepRule(ParseContext& ctx, const Args& args) {
  ctx.config.proxies.back().rule_lines.push_back(RuleLine{ctx.file, ctx.line, args});
}

// A word after the sub-keyword, or an alert with HAProxy's text when there is none.
bool Needs(ParseContext& ctx, const Args& args, std::string_view what) {
  if (args.size() > 2) return true;
  ctx.Alert("'" + args[1] + "' needs " + std::string(what) + ".");
  return false;
}

}  // namespace

void Stats(ParseContext& ctx, const KeywordRow&, const Args& args) {
  const std::string& sub = args[1];
  if (sub == "admin" || sub == "http-request") {
    if (InDefaults(ctx)) {
      ctx.Alert("'stats " + sub + "' not allowed in 'defaults' section.");
      return;
    }
    if (sub == "admin" && (args.size() < 4 || (args[2] != "if" && args[2] != "unless"))) {
      ctx.Alert("'stats admin' requires either 'if' or 'unless' followed by a condition.");
      return;
    }
    if (sub == "http-request" && args.size() < 3) {
      ctx.Alert("'stats http-request' expects an action.");
      return;
    }
    Target(ctx).stats.enabled = true;
    KeepRule(ctx, args);
    return;
  }
  StatsConfig& st = Target(ctx).stats;
  if (sub == "enable") {
  } else if (sub == "uri") {
    if (!Needs(ctx, args, "an URI prefix")) return;
    st.uri = args[2];
  } else if (sub == "realm") {
    if (!Needs(ctx, args, "an realm name")) return;
    st.realm = args[2];
  } else if (sub == "auth") {
    if (!Needs(ctx, args, "a user:password account")) return;
    const size_t colon = args[2].find(':');
    st.auth.emplace_back(args[2].substr(0, colon),
                         colon == std::string::npos ? "" : args[2].substr(colon + 1));
  } else if (sub == "refresh") {
    if (!Needs(ctx, args, "a refresh interval")) return;
    // Seconds when no unit is given (HAProxy's stats refresh).
    const bool bare = args[2].find_first_not_of("0123456789") == std::string::npos;
    const std::optional<uint64_t> ms = ParseTimeMs(bare ? args[2] + "s" : args[2]);
    if (!ms) {
      ctx.Alert("unexpected character in argument to stats refresh interval: " + Quoted(args[2]) +
                ".");
      return;
    }
    st.refresh_s = static_cast<uint32_t>(*ms / 1000 > UINT32_MAX ? UINT32_MAX : *ms / 1000);
    if (st.refresh_s == 0 && *ms) st.refresh_s = 1;
  } else if (sub == "scope") {
    if (!Needs(ctx, args, "a proxy name")) return;
    st.scope.push_back(args[2]);
  } else if (sub == "hide-version") {
    st.hide_version = true;
  } else if (sub == "show-legends") {
    st.show_legends = true;
  } else if (sub == "show-node") {
    st.show_node = true;
    st.node = args.size() > 2 ? args[2] : "";
  } else if (sub == "show-desc") {
    st.show_desc = true;
    st.desc = args.size() > 2 ? args[2] : "";
  } else {
    ctx.Alert("unknown stats parameter " + Quoted(sub) +
              ", expects 'admin', 'uri', 'realm', 'auth', 'scope', 'enable', 'hide-version', "
              "'show-node', 'show-desc' or 'show-legends'.");
    return;
  }
  st.enabled = true;
}

}  // namespace sluice::config
