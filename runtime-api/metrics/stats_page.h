// Slow path. HAProxy's statistics page (docs/stats-page.md): the HTML report in HAProxy 2.6's
// layout (the process block, the legends, a table per proxy with the same column groups and
// columns, rows coloured by state with HAProxy's classes and colours, the admin form), and
// the URI options HAProxy reads after the page's URI: `;csv` and `;json` (the `show stat`
// forms), `;up`, `;norefresh`, `;st=STATUS` (the admin form's outcome). The admin form's
// POST is turned into the stats socket's own commands.
//
//   StatsUri u = ParseStatsUri(";up;norefresh");
//   std::string html = RenderStatsPage(appliance, options, u);
//   std::vector<std::vector<std::string>> cmds; StatsAdmin(body, proxies, &cmds) -> status
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "runtime-api/commands/context.h"

namespace sluice::cli {

// What a `stats ...` configuration says of the page.
struct StatsPageOptions {
  std::string uri = "/stats";  // the links' base
  uint32_t refresh_s = 0;      // `stats refresh`: 0 none
  bool admin = false;          // `stats admin`: the server action forms
  bool hide_version = false;   // `stats hide-version`
  bool show_legends = false;   // `stats show-legends`: addresses and algorithms in tips
  std::string node;            // `stats show-node [NAME]`: shown when not empty
  std::string description;     // `stats show-desc`
  std::vector<std::string> scopes;  // `stats scope`: the proxies shown (empty: all)
};

// The options after the URI: ";csv", ";json", ";up", ";norefresh", ";st=DONE".
struct StatsUri {
  enum class Format { kHtml, kCsv, kJson };
  Format format = Format::kHtml;
  bool hide_down = false;
  bool norefresh = false;
  std::string status;  // DONE, NONE, PART, ERRP, EXCD, DENY
  std::string scope;   // ?scope=NAME: the proxies whose name contains NAME
};
StatsUri ParseStatsUri(std::string_view options, std::string_view query);

// The HTML page.
std::string RenderStatsPage(ApplianceContext& appliance, const StatsPageOptions& options,
                            const StatsUri& uri);

// The admin form's body ("s=s1&s=s2&action=drain&b=%234"): the commands to run, or the
// status to answer without running any (ERRP: no backend or action; NONE: no server).
// Unknown servers make the outcome PART when others exist.
struct StatsAdminPlan {
  std::vector<std::vector<std::string>> commands;
  std::string status;  // set when nothing is to run, or PART when some servers are unknown
};
StatsAdminPlan PlanStatsAdmin(std::string_view body, const std::vector<ProxyView>& proxies);

}  // namespace sluice::cli
