// Slow path. HAProxy's statistics page (stats_page.h). The layout, the columns, what each
// cell shows and the state classes follow the page HAProxy 2.6.12 serves (checked on the
// Debian package: `stats enable` in a listen section, servers UP, DOWN, DRAIN and MAINT);
// the markup and style sheet are Sluice's own, with HAProxy's class names and colours.
#include "runtime-api/metrics/stats_page.h"

#include <algorithm>

#include "runtime-api/commands/proxy_lookup.h"
#include "runtime-api/commands/stat_rows.h"
#include "runtime-api/protocol/url.h"

namespace sluice::cli {
namespace {

constexpr std::string_view kStyle = R"(<style type="text/css">
body {
  font-family: arial, helvetica, sans-serif;
  font-size: 12px;
  color: black;
  background: white;
}
th, td { font-size: 10px; }
h1 { font-size: x-large; margin-bottom: 0.5em; }
h2 {
  font-family: helvetica, arial;
  font-size: x-large;
  font-weight: bold;
  font-style: italic;
  color: #6020a0;
  margin: 0;
}
h3 {
  font-family: helvetica, arial;
  font-size: 16px;
  font-weight: bold;
  color: #b00040;
  background: #e8e8d0;
  margin: 0;
}
li { margin-top: 0.25em; margin-right: 2em; }
.hr { margin-top: 0.25em; border-color: black; border-bottom-style: solid; }
.titre { background: #20D0D0; color: #000000; font-weight: bold; text-align: center; }
.total { background: #20D0D0; color: #ffff80; }
.frontend { background: #e8e8d0; }
.socket { background: #d0d0d0; }
.backend { background: #e8e8d0; }
.active_down { background: #ff9090; }
.active_going_up { background: #ffd020; }
.active_going_down { background: #ffffa0; }
.active_up { background: #c0ffc0; }
.active_nolb { background: #20a0ff; }
.active_draining { background: #20a0FF; }
.active_no_check { background: #e0e0e0; }
.backup_down { background: #ff9090; }
.backup_going_up { background: #ff80ff; }
.backup_going_down { background: #c060ff; }
.backup_up { background: #b0d0ff; }
.backup_nolb { background: #90b0e0; }
.backup_draining { background: #cc9900; }
.backup_no_check { background: #e0e0e0; }
.maintain { background: #c07820; }
.rls { letter-spacing: 0.2em; margin-right: 1px; }
a.px:link, a.px:visited { color: #ffff40; text-decoration: none; }
a.px:hover { color: #ffffff; text-decoration: none; }
a.lfsb:link, a.lfsb:visited { color: #000000; text-decoration: none; }
a.lfsb:hover { color: #505050; text-decoration: none; }
table.tbl { border-collapse: collapse; border-style: none; }
table.tbl td { text-align: right; border: 1px solid gray; padding: 2px 3px; white-space: nowrap; }
table.tbl td.ac { text-align: center; }
table.tbl th { border: 1px solid gray; }
table.tbl th.pxname {
  background: #b00040;
  color: #ffff40;
  font-weight: bold;
  border-style: solid solid none solid;
  padding: 2px 3px;
  white-space: nowrap;
}
table.tbl th.empty { border-style: none; empty-cells: hide; background: white; }
table.tbl th.desc {
  background: white;
  border-style: solid solid none solid;
  text-align: left;
  padding: 2px 3px;
}
table.lgd {
  border-collapse: collapse;
  border-width: 1px;
  border-style: none none none solid;
  border-color: black;
}
table.lgd td { border: 1px solid gray; padding: 2px; }
table.lgd td.noborder { border-style: none; padding: 2px; white-space: nowrap; }
u { text-decoration: none; border-bottom: 1px dotted black; }
div.tips {
  display: block;
  visibility: hidden;
  z-index: 2147483647;
  position: absolute;
  padding: 2px 4px 3px;
  background: #f0f060;
  color: #000000;
  border: 1px solid #7040c0;
  white-space: nowrap;
  font-size: 11px;
  border-radius: 3px;
  box-shadow: gray 2px 2px 3px;
}
u:hover div.tips { visibility: visible; }
</style>)";

// Text for HTML (and its attributes, quoted either way): &, <, >, ", ' escaped.
std::string Html(std::string_view s) {
  std::string out;
  for (const char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// A number with its thousands set apart as HAProxy's U2H() does: "<span class="rls">9</span>984".
std::string Num(uint64_t v) {
  const std::string d = std::to_string(v);
  std::string out;
  size_t first = d.size() % 3 == 0 ? 3 : d.size() % 3;
  size_t i = 0;
  while (d.size() - i > 3) {
    out.append("<span class=\"rls\">").append(d, i, first).append("</span>");
    i += first;
    first = 3;
  }
  out.append(d, i, std::string::npos);
  return out;
}

std::string Td(std::string_view inner) { return "<td>" + std::string(inner) + "</td>"; }
std::string TdC(std::string_view inner) { return "<td class=ac>" + std::string(inner) + "</td>"; }

// The row class of a server (haproxy's stats_dump_sv_stats() choice of srv_hlt_st class).
std::string ServerClass(const ServerView& s) {
  if (InMaintenance(s)) return "maintain";
  const std::string kind = s.backup ? "backup_" : "active_";
  if (s.forced_drain) return kind + "draining";
  const HealthCheckView& c = s.check;
  if (!c.enabled) {
    return s.op_state == ServerOpState::kStopped ? kind + "down" : kind + "no_check";
  }
  const uint32_t full = c.rise + c.fall - 1;
  switch (s.op_state) {
    case ServerOpState::kStopped:
      return kind + (c.health > 0 ? "going_up" : "down");
    case ServerOpState::kStopping:
      return kind + "nolb";
    case ServerOpState::kStarting:
    case ServerOpState::kRunning:
      return kind + (c.health < full ? "going_down" : "up");
  }
  return kind + "up";
}

std::string LastSess(int32_t s) { return s < 0 ? "?" : HumanTime(static_cast<uint32_t>(s)); }

class Page {
 public:
  Page(ApplianceContext& appliance, const StatsPageOptions& o, const StatsUri& u)
      : appliance_(appliance), o_(o), u_(u) {}

  std::string Render() {
    InfoValues info;
    appliance_.FillInfo(info);
    const ProxySnapshot snap = TakeProxySnapshot(appliance_);
    Head(info);
    ProcessBlock(info);
    for (const ProxyView& p : snap.proxies) {
      if (!u_.scope.empty() && p.name.find(u_.scope) == std::string::npos) continue;
      if (!o_.scopes.empty() &&
          std::find(o_.scopes.begin(), o_.scopes.end(), p.name) == o_.scopes.end()) {
        continue;
      }
      Proxy(p);
    }
    out_ += "</body></html>\n";
    return std::move(out_);
  }

 private:
  std::string Field(const InfoValues& info, std::string_view name) {
    const InfoField* f = info.Find(name);
    return f != nullptr ? f->value : "";
  }

  void Head(const InfoValues& info) {
    out_ += "<!DOCTYPE html>\n<html><head><title>Statistics Report for HAProxy";
    if (!o_.node.empty()) out_ += " on " + Html(o_.node);
    out_ += "</title>\n<link rel=\"icon\" href=\"data:,\">\n<meta charset=\"utf-8\">\n";
    if (o_.refresh_s > 0 && !u_.norefresh) {
      out_ += "<meta http-equiv=\"refresh\" content=\"" + std::to_string(o_.refresh_s) + "\">\n";
    }
    out_.append(kStyle).append("</head>\n<body>");
    out_ += "<h1>";
    out_ +=
        o_.hide_version ? std::string("Sluice") : "Sluice version " + Html(Field(info, "Version"));
    out_ += "</h1>\n<h2>Statistics Report for pid " + Field(info, "Pid");
    if (!o_.node.empty()) out_ += " on " + Html(o_.node);
    out_ += "</h2>\n";
    if (!o_.description.empty()) out_ += "<h2>" + Html(o_.description) + "</h2>\n";
    out_ += "<hr width=\"100%\" class=\"hr\">\n";
  }

  void ProcessBlock(const InfoValues& info) {
    out_ += "<h3>&gt; General process information</h3>\n";
    out_ += "<table border=0><tr><td align=\"left\" nowrap width=\"1%\">\n<p><b>pid = </b> ";
    out_ +=
        Field(info, "Pid") + " (process #1, nbproc = 1, nbthread = " + Field(info, "Nbthread") +
        ")<br>\n<b>uptime = </b> " + Field(info, "Uptime") +
        "<br>\n<b>system limits:</b> memmax = unlimited; ulimit-n = " + Field(info, "Ulimit-n") +
        "<br>\n<b>maxsock = </b> " + Field(info, "Maxsock") + "; <b>maxconn = </b> " +
        Field(info, "Maxconn") + "; <b>maxpipes = </b> 0<br>\n" +
        "current conns = " + Field(info, "CurrConns") +
        "; current pipes = 0/0; conn rate = " + Field(info, "ConnRate") +
        "/sec<br>\nRunning tasks: " + Field(info, "Run_queue") + "/" + Field(info, "Tasks") +
        "; idle = " + Field(info, "Idle_pct") + " %<br>\n";
    out_ += "</td><td align=\"center\" nowrap>\n<table class=\"lgd\"><tr>\n";
    out_ +=
        "<td class=\"active_up\">&nbsp;</td><td class=\"noborder\">active UP </td>"
        "<td class=\"backup_up\">&nbsp;</td><td class=\"noborder\">backup UP </td></tr><tr>\n"
        "<td class=\"active_going_down\"></td><td class=\"noborder\">active UP, going down </td>"
        "<td class=\"backup_going_down\"></td><td class=\"noborder\">backup UP, going down "
        "</td></tr><tr>\n"
        "<td class=\"active_going_up\"></td><td class=\"noborder\">active DOWN, going up </td>"
        "<td class=\"backup_going_up\"></td><td class=\"noborder\">backup DOWN, going up "
        "</td></tr><tr>\n"
        "<td class=\"active_down\"></td><td class=\"noborder\">active or backup DOWN &nbsp;</td>"
        "<td class=\"active_no_check\"></td><td class=\"noborder\">not checked </td></tr><tr>\n"
        "<td class=\"maintain\"></td><td class=\"noborder\" colspan=\"3\">active or backup DOWN "
        "for maintenance (MAINT) &nbsp;</td></tr><tr>\n"
        "<td class=\"active_draining\"></td><td class=\"noborder\" colspan=\"3\">active or "
        "backup SOFT STOPPED for maintenance &nbsp;</td></tr></table>\n"
        "Note: \"NOLB\"/\"DRAIN\" = UP with load-balancing disabled.</td>";
    // Display options: the links keep the options that are set.
    const std::string base = o_.uri;
    const std::string up = u_.hide_down ? ";up" : "";
    const std::string nr = u_.norefresh ? ";norefresh" : "";
    out_ +=
        "<td align=\"left\" valign=\"top\" nowrap width=\"1%\"><b>Display option:</b>"
        "<ul style=\"margin-top: 0.25em;\"><li><form method=\"GET\">Scope : <input value=\"" +
        Html(u_.scope) + "\" name=\"scope\" size=\"8\" maxlength=\"31\"></form>\n";
    out_ += u_.hide_down
                ? "<li><a href=\"" + base + nr + "\">Show all servers</a><br>\n"
                : "<li><a href=\"" + base + ";up" + nr + "\">Hide 'DOWN' servers</a><br>\n";
    if (o_.refresh_s > 0) {
      out_ += u_.norefresh
                  ? "<li><a href=\"" + base + up + "\">Enable refresh</a><br>\n"
                  : "<li><a href=\"" + base + up + ";norefresh\">Disable refresh</a><br>\n";
    }
    out_ += "<li><a href=\"" + base + up + nr + "\">Refresh now</a><br>\n";
    out_ += "<li><a href=\"" + base + ";csv;norefresh\">CSV export</a><br>\n";
    out_ += "<li><a href=\"" + base + ";json;norefresh\">JSON export</a><br>\n";
    out_ += "</ul></td></tr></table>\n";
    if (!u_.status.empty()) StatusMessage();
  }

  void StatusMessage() {
    std::string cls = "active_down";
    std::string text = "Unexpected result.";
    if (u_.status == "DONE") {
      cls = "active_up", text = "Action processed successfully.";
    } else if (u_.status == "NONE") {
      cls = "active_going_down", text = "Nothing has changed.";
    } else if (u_.status == "PART") {
      cls = "active_going_down";
      text =
          "Action partially processed.<br>Some server names are probably unknown or ambiguous "
          "(duplicated names in the backend).";
    } else if (u_.status == "ERRP") {
      text =
          "Action not processed because of invalid parameters.<ul><li>The action is maybe "
          "unknown.</li><li>The backend name is probably unknown or ambiguous (duplicated "
          "names).</li><li>Some server names are probably unknown or ambiguous (duplicated "
          "names in the backend).</li></ul>";
    } else if (u_.status == "DENY") {
      text = "Action denied.";
    }
    out_ += "<p><div class=" + cls + "><a class=lfsb href=\"" + o_.uri +
            "\" title=\"Remove this message\">[X]</a> " + text + "</div>\n";
  }

  void Proxy(const ProxyView& p) {
    const bool form = o_.admin && p.has_backend && !p.servers.empty();
    const std::string name = Html(p.name);
    out_ += form ? "<form method=\"post\">" : "";
    out_ +=
        "<table class=\"tbl\" width=\"100%\">\n<tr class=\"titre\"><th class=\"pxname\" "
        "width=\"10%\"><a name=\"" +
        name + "\"></a><u><a class=px href=\"#" + name + "\">" + name +
        "</a><div class=tips>cap: " +
        (p.has_frontend && p.has_backend ? "proxy"
         : p.has_frontend                ? "frontend"
                                         : "backend") +
        ", mode: " + p.mode + ", id: " + std::to_string(p.iid) +
        "</div></u></th><th class=\"empty\" width=\"90%\"></th></tr>\n</table>\n";
    out_ += "<table class=\"tbl\" width=\"100%\">\n<tr class=\"titre\">";
    if (form) {
      out_ +=
          "<th rowspan=2 width=1><input type=\"checkbox\" onclick=\"for (const c of "
          "document.getElementsByClassName('" +
          name + "-checkbox')) c.checked = this.checked\"></th>";
    } else {
      out_ += "<th rowspan=2></th>";
    }
    out_ +=
        "<th rowspan=2></th><th colspan=3>Queue</th><th colspan=3>Session rate</th>"
        "<th colspan=6>Sessions</th><th colspan=2>Bytes</th><th colspan=2>Denied</th>"
        "<th colspan=3>Errors</th><th colspan=2>Warnings</th><th colspan=9>Server</th></tr>\n"
        "<tr class=\"titre\"><th>Cur</th><th>Max</th><th>Limit</th><th>Cur</th><th>Max</th>"
        "<th>Limit</th><th>Cur</th><th>Max</th><th>Limit</th><th>Total</th><th>LbTot</th>"
        "<th>Last</th><th>In</th><th>Out</th><th>Req</th><th>Resp</th><th>Req</th><th>Conn</th>"
        "<th>Resp</th><th>Retr</th><th>Redis</th><th>Status</th><th>LastChk</th><th>Wght</th>"
        "<th>Act</th><th>Bck</th><th>Chk</th><th>Dwn</th><th>Dwntme</th><th>Thrtle</th>\n</tr>";
    if (p.has_frontend) FrontendRow(p);
    if (p.has_backend) {
      for (const ServerView& s : p.servers) {
        if (u_.hide_down && (InMaintenance(s) || (s.op_state == ServerOpState::kStopped &&
                                                  (!s.check.enabled || s.check.health == 0)))) {
          continue;
        }
        ServerRow(p, s, form);
      }
      BackendRow(p);
    }
    out_ += "</table>";
    if (form) AdminForm(p);
    out_ += "<p>\n";
  }

  std::string NameCell(const ProxyView& p, std::string_view label, std::string_view tip) {
    const std::string anchor = Html(p.name) + "/" + Html(label);
    std::string c = "<td class=ac><u><a name=\"" + anchor + "\"></a><a class=lfsb href=\"#" +
                    anchor + "\">" + Html(label) + "</a>";
    if (!tip.empty()) c += "<div class=tips>" + Html(tip) + "</div>";
    return c + "</u></td>";
  }

  void FrontendRow(const ProxyView& p) {
    const StatCounters& c = p.frontend;
    std::string status = "OPEN";
    if (p.frontend_state == FrontendState::kPaused) status = "PAUSED";
    if (p.frontend_state == FrontendState::kStopped) status = "STOP";
    out_ += "<tr class=\"frontend\"><td></td>" + NameCell(p, "Frontend", "") +
            "<td colspan=3></td>" + Td(Num(c.rate)) + Td(Num(c.rate_max)) +
            Td(p.rate_limit_sessions ? Num(p.rate_limit_sessions) : "-") + Td(Num(c.scur)) +
            Td(Num(c.smax)) + Td(Num(p.maxconn)) + Td(Num(c.stot)) + "<td></td><td></td>" +
            Td(Num(c.bin)) + Td(Num(c.bout)) + Td(Num(c.dreq)) + Td(Num(c.dresp)) +
            Td(Num(c.ereq)) + "<td></td><td></td><td></td><td></td>" + TdC(status) +
            "<td class=ac colspan=8></td></tr>";
  }

  void ServerRow(const ProxyView& p, const ServerView& s, bool form) {
    const StatCounters& c = s.counters;
    const HealthCheckView& chk = s.check;
    out_ += "<tr class=\"" + ServerClass(s) + "\">";
    out_ += form
                ? "<td><input class='" + Html(p.name) +
                      "-checkbox' type=\"checkbox\" name=\"s\" value=\"" + Html(s.name) + "\"></td>"
                : "<td></td>";
    std::string tip = "id: " + std::to_string(s.sid);
    if (o_.show_legends) tip = s.addr + ":" + std::to_string(s.port) + ", " + tip;
    out_ += NameCell(p, s.name, tip);
    out_ += Td(Num(c.qcur)) + Td(Num(c.qmax)) + Td(s.maxqueue ? Num(s.maxqueue) : "-") +
            Td(Num(c.rate)) + Td(Num(c.rate_max)) + "<td></td>" + Td(Num(c.scur)) +
            Td(Num(c.smax)) + Td(s.maxconn ? Num(s.maxconn) : "-") + Td(Num(c.stot)) +
            Td(Num(c.lbtot)) + Td(LastSess(c.lastsess_s)) + Td(Num(c.bin)) + Td(Num(c.bout)) +
            "<td></td>" + Td(Num(c.dresp)) + "<td></td>" + Td(Num(c.econ)) + Td(Num(c.eresp)) +
            Td(Num(c.wretr)) + Td(Num(c.wredis));
    out_ += TdC(HumanTime(c.lastchg_s) + " " + ServerStatusText(s));
    if (CheckActive(chk)) {
      const CheckStatusInfo& info = GetCheckStatusInfo(chk.status);
      std::string last = std::string(chk.in_progress ? "* " : " ") + std::string(info.name);
      if (chk.status >= CheckStatus::kL57Data) last += "/" + std::to_string(chk.code);
      if (chk.status >= CheckStatus::kChecked) {
        last += " in " + std::to_string(chk.duration_ms) + "ms";
      }
      out_ += TdC(Html(last));
    } else {
      out_ += "<td></td>";
    }
    out_ += TdC(std::to_string(s.eweight) + "/" + std::to_string(s.uweight)) +
            TdC(s.backup ? "-" : "Y") + TdC(s.backup ? "Y" : "-");
    if (chk.enabled) {
      out_ += Td(Num(c.chkfail)) + Td(Num(c.chkdown)) + Td(HumanTime(c.downtime_s));
    } else {
      out_ += "<td colspan=3></td>";
    }
    const bool throttled = s.op_state == ServerOpState::kStarting && !s.forced_drain;
    out_ += TdC(throttled ? std::to_string(s.throttle_pct) + " %" : "-") + "</tr>\n";
  }

  void BackendRow(const ProxyView& p) {
    const StatCounters& c = p.backend;
    const BackendTotals t = ComputeTotals(p);
    const bool up = t.weight > 0 || p.servers.empty();
    out_ += "<tr class=\"backend\"><td></td>" +
            NameCell(p, "Backend", o_.show_legends ? "balancing: " + p.algo : "") +
            Td(Num(c.qcur)) + Td(Num(c.qmax)) + "<td></td>" + Td(Num(c.rate)) +
            Td(Num(c.rate_max)) + "<td></td>" + Td(Num(c.scur)) + Td(Num(c.smax)) +
            Td(Num(p.fullconn)) + Td(Num(c.stot)) + Td(Num(c.lbtot)) + Td(LastSess(c.lastsess_s)) +
            Td(Num(c.bin)) + Td(Num(c.bout)) + Td(Num(c.dreq)) + Td(Num(c.dresp)) + "<td></td>" +
            Td(Num(c.econ)) + Td(Num(c.eresp)) + Td(Num(c.wretr)) + Td(Num(c.wredis)) +
            TdC(HumanTime(c.lastchg_s) + (up ? " UP" : " DOWN")) + TdC("&nbsp;") +
            TdC(std::to_string(t.weight) + "/" + std::to_string(t.uweight)) +
            TdC(std::to_string(t.act)) + TdC(std::to_string(t.bck)) + TdC("&nbsp;") +
            Td(Num(c.chkdown)) + Td(p.servers.empty() ? "&nbsp;" : HumanTime(c.downtime_s)) +
            "<td></td></tr>";
  }

  void AdminForm(const ProxyView& p) {
    out_ +=
        "Choose the action to perform on the checked servers : <select name=action>"
        "<option value=\"\"></option><option value=\"ready\">Set state to READY</option>"
        "<option value=\"drain\">Set state to DRAIN</option>"
        "<option value=\"maint\">Set state to MAINT</option>"
        "<option value=\"dhlth\">Health: disable checks</option>"
        "<option value=\"ehlth\">Health: enable checks</option>"
        "<option value=\"hrunn\">Health: force UP</option>"
        "<option value=\"hnolb\">Health: force NOLB</option>"
        "<option value=\"hdown\">Health: force DOWN</option>"
        "<option value=\"shutdown\">Kill Sessions</option></select>"
        "<input type=\"hidden\" name=\"b\" value=\"#" +
        std::to_string(p.iid) + "\">&nbsp;<input type=\"submit\" value=\"Apply\"></form>";
  }

  ApplianceContext& appliance_;
  const StatsPageOptions& o_;
  const StatsUri& u_;
  std::string out_;
};

}  // namespace

StatsUri ParseStatsUri(std::string_view options, std::string_view query) {
  StatsUri u;
  while (!options.empty()) {
    if (options[0] == ';') {
      options.remove_prefix(1);
      continue;
    }
    const size_t end = options.find(';');
    const std::string_view opt = options.substr(0, end);
    options = end == std::string_view::npos ? std::string_view() : options.substr(end);
    if (opt == "csv") u.format = StatsUri::Format::kCsv;
    if (opt == "json") u.format = StatsUri::Format::kJson;
    if (opt == "up") u.hide_down = true;
    if (opt == "norefresh") u.norefresh = true;
    if (opt.starts_with("st=")) u.status = std::string(opt.substr(3, 4));
  }
  ForEachPair(query, [&](std::string_view k, std::string_view v, bool) {
    std::string scope;
    if (k == "scope" && UrlDecode(v, true, &scope)) u.scope = scope.substr(0, 31);
  });
  return u;
}

std::string RenderStatsPage(ApplianceContext& appliance, const StatsPageOptions& options,
                            const StatsUri& uri) {
  return Page(appliance, options, uri).Render();
}

StatsAdminPlan PlanStatsAdmin(std::string_view body, const std::vector<ProxyView>& proxies) {
  std::vector<std::string> servers;
  std::string action, backend;
  ForEachPair(body, [&](std::string_view kv, std::string_view vv, bool) {
    std::string k, v;
    if (!UrlDecode(kv, true, &k) || !UrlDecode(vv, true, &v)) return;
    if (k == "s") servers.push_back(std::move(v));
    if (k == "action") action = std::move(v);
    if (k == "b") backend = std::move(v);
  });
  StatsAdminPlan plan;
  struct Action {
    std::string_view name;
    std::vector<std::string_view> words;  // "B/S" is inserted at `at`
    size_t at;
  };
  static const Action kActions[] = {
      {"ready", {"set", "server", "state", "ready"}, 2},
      {"drain", {"set", "server", "state", "drain"}, 2},
      {"maint", {"set", "server", "state", "maint"}, 2},
      {"dhlth", {"disable", "health"}, 2},
      {"ehlth", {"enable", "health"}, 2},
      {"hrunn", {"set", "server", "health", "up"}, 2},
      {"hnolb", {"set", "server", "health", "stopping"}, 2},
      {"hdown", {"set", "server", "health", "down"}, 2},
      {"shutdown", {"shutdown", "sessions", "server"}, 3},
  };
  const Action* act = nullptr;
  for (const Action& a : kActions) act = a.name == action ? &a : act;
  const size_t px = FindBackend(proxies, backend);
  if (act == nullptr || backend.empty() || px == proxies.size()) {
    plan.status = "ERRP";
    return plan;
  }
  size_t unknown = 0;
  for (const std::string& s : servers) {
    bool found = false;
    for (const ServerView& sv : proxies[px].servers) found = found || sv.name == s;
    if (!found) {
      ++unknown;
      continue;
    }
    std::vector<std::string> cmd(act->words.begin(), act->words.end());
    cmd.insert(cmd.begin() + static_cast<std::ptrdiff_t>(act->at), proxies[px].name + "/" + s);
    plan.commands.push_back(std::move(cmd));
  }
  if (plan.commands.empty()) {
    plan.status = unknown > 0 ? "ERRP" : "NONE";
  } else if (unknown > 0) {
    plan.status = "PART";
  }
  return plan;
}

}  // namespace sluice::cli
