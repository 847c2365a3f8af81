// Slow path: the `defaults` section's header and haproxy's time format. Its keywords are the
// proxy sections' (proxy_cfg.cc): a defaults section records settings, in the legacy
// DefaultsConfig fields and in the typed form proxies inherit, and a proxy section copies
// those of the last defaults section before it (or of `from NAME`).
#include <algorithm>
#include <string>

#include "controlplane/config/parse_context.h"

namespace sluice::config {

// defaults [NAME] [from NAME]
void EnterDefaults(ParseContext& ctx, const Args& args) {
  ctx.section = Section::kDefaults;
  DefaultsConfig defaults;
  SectionState state;
  size_t next = 1;
  if (args.size() > next && args[next] != "from") defaults.name = args[next++];
  if (args.size() > next && args[next] == "from") {
    if (args.size() != next + 2) {
      ctx.Alert("'defaults' expects [NAME] [from NAME].");
    } else {
      const std::string& parent = args[next + 1];
      auto it = std::find_if(ctx.config.defaults.rbegin(), ctx.config.defaults.rend(),
                             [&](const DefaultsConfig& d) { return d.name == parent; });
      if (it == ctx.config.defaults.rend()) {
        ctx.Alert("'defaults' section inherits from unknown defaults section " + Quoted(parent) +
                  ".");
      } else {
        const auto index = static_cast<size_t>(ctx.config.defaults.rend() - it) - 1;
        std::string own_name = defaults.name;
        defaults = *it;
        defaults.name = own_name;
        state = ctx.defaults_state[index];
        state.own_expect = false;
      }
    }
  } else if (args.size() > next) {
    ctx.Alert("'defaults' expects [NAME] [from NAME], got extra argument " + Quoted(args[next]) +
              ".");
  }
  defaults.file = ctx.file;
  defaults.line = ctx.line;
  state.header = Origin{ctx.file, ctx.line, "defaults"};
  ctx.config.defaults.push_back(std::move(defaults));
  ctx.defaults_state.push_back(std::move(state));
}

std::optional<uint64_t> ParseTimeMs(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  const auto value = ParseDecimal(text.substr(0, digits));
  if (!value) return std::nullopt;
  const std::string_view unit = text.substr(digits);
  uint64_t ms = 0;
  const uint64_t v = std::min<uint64_t>(*value, UINT64_MAX / 86400000);  // no overflow below
  if (unit.empty() || unit == "ms") {
    ms = v;
  } else if (unit == "us") {
    ms = (v + 999) / 1000;
  } else if (unit == "s") {
    ms = v * 1000;
  } else if (unit == "m") {
    ms = v * 60000;
  } else if (unit == "h") {
    ms = v * 3600000;
  } else if (unit == "d") {
    ms = v * 86400000;
  } else {
    return std::nullopt;
  }
  return ms;
}

}  // namespace sluice::config
