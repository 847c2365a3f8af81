// Slow path. The server commands: `set server <b>/<s> ...`, `set weight`, `get weight`,
// `set maxconn server`, `enable|disable server|health|agent`, `shutdown sessions server`
// and `add server` / `del server`,
// with HAProxy 2.6's syntax and answers (../shared/compat/haproxy-2.6/RUNTIME-API.md 2.2;
// haproxy's cli_parse_set_server() and friends). The changes go to ProxyControl.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>

#include "runtime-api/commands/commands.h"
#include "runtime-api/commands/proxy_lookup.h"

namespace sluice::cli {
namespace {

// Prints what the control plane answered, if anything.
void Answer(Call& call, const std::string& error) {
  if (!error.empty()) call.Error(error);
}

// The server named by args[i], with the call's snapshot.
struct Target {
  ProxySnapshot snap;
  ServerRef ref;
  const ServerView& server() const { return snap.proxies[ref.proxy].servers[ref.server]; }
  const ProxyView& proxy() const { return snap.proxies[ref.proxy]; }
};
bool FindTarget(Call& call, size_t i, Target* t) {
  t->snap = TakeProxySnapshot(call.appliance);
  return FindServer(call, t->snap.proxies, Arg(call, i), &t->ref);
}

// haproxy's get_backend_server() on args[i] ("<backend>/<server>", no check of a stopped
// proxy), answering its errors; `end` ends them ("\n" for some commands, "" for others).
bool LookupTarget(Call& call, size_t i, std::string_view end, Target* t) {
  const std::string_view arg = Arg(call, i);
  const size_t slash = arg.find('/');
  if (slash == std::string_view::npos || slash + 1 == arg.size()) {
    call.Error("Require 'backend/server'." + std::string(end));
    return false;
  }
  t->snap = TakeProxySnapshot(call.appliance);
  switch (LookupServer(t->snap.proxies, arg.substr(0, slash), arg.substr(slash + 1), &t->ref)) {
    case 1:
      call.Error("No such backend." + std::string(end));
      return false;
    case 2:
      call.Error("No such server." + std::string(end));
      return false;
    default:
      return true;
  }
}

// haproxy's server_parse_weight_change_request(): "<w>" (0..256) or "<w>%" of the initial
// weight. The texts without a newline are haproxy's too.
void ChangeWeight(Call& call, const Target& t, std::string_view text) {
  const ServerView& s = t.server();
  if (text.empty()) {
    call.Error("Require <weight> or <weight%>.\n");
    return;
  }
  const ParsedLong n = Strtol(text);
  const std::string_view rest = text.substr(n.used);
  int64_t w = n.value;
  if (n.used == 0) {
    call.Error("Empty weight string empty or preceded by garbage");
    return;
  }
  if (rest == "%") {
    if (w < 0) {
      call.Error("Relative weight must be positive.\n");
      return;
    }
    w = std::min<int64_t>(w, 25600);
    w = std::min<int64_t>(int64_t{s.iweight} * w / 100, 256);
  } else if (w < 0 || w > 256) {
    call.Error("Absolute weight can only be between 0 and 256 inclusive.\n");
    return;
  } else if (!rest.empty()) {
    call.Error("Trailing garbage in weight string");
    return;
  }
  if (w != 0 && w != s.iweight && !t.proxy().dynamic_weights) {
    call.Error(
        "Backend is using a static LB algorithm and only accepts weights '0%' and '100%'.\n");
    return;
  }
  Answer(call,
         t.snap.control->SetServerWeight(t.ref.proxy, t.ref.server, static_cast<uint32_t>(w)));
}

// A numeric IPv4 or IPv6 address: its family and bytes, or family 0.
struct IpAddr {
  int family = 0;
  unsigned char bytes[16] = {};
  bool operator==(const IpAddr& o) const {
    return family == o.family && std::memcmp(bytes, o.bytes, sizeof(bytes)) == 0;
  }
};
IpAddr ParseIp(const std::string& text) {
  IpAddr a;
  if (inet_pton(AF_INET, text.c_str(), a.bytes) == 1) {
    a.family = AF_INET;
  } else if (inet_pton(AF_INET6, text.c_str(), a.bytes) == 1) {
    a.family = AF_INET6;
  }
  return a;
}

// `set server <b>/<s> addr <ip> [port <port>]`: haproxy's srv_update_addr_port() and its
// report, which haproxy prints as a warning whether or not something changed.
void ChangeAddr(Call& call, const Target& t, const std::string& addr, bool with_port,
                std::string_view port) {
  const ServerView& s = t.server();
  const std::string by = " by 'stats socket command'\n";
  const IpAddr want = ParseIp(addr);
  if (want.family == 0) {
    call.Reply(Severity::kWarning, "Invalid addr '" + addr + "'" + by);
    return;
  }
  std::string report;
  std::string new_addr = s.addr;
  if (ParseIp(s.addr) == want) {
    report = "no need to change the addr";
  } else {
    report = "IP changed from '" + s.addr + "' to '" + addr + "'";
    new_addr = addr;
  }
  uint16_t new_port = s.port;
  if (with_port) {
    report += ", ";
    const ParsedLong p = Strtol(port);
    if (p.used == 0) {
      call.Reply(Severity::kWarning,
                 report + "problem converting port '" + std::string(port) + "' to an int" + by);
      return;
    }
    if (port.front() == '+' || port.front() == '-') {
      // haproxy's port maps ("+N", "-N": relative to the client's port).
      call.Error("port maps ('" + std::string(port) + "') are not supported by Sluice.\n");
      return;
    }
    if (p.value > 65535) {
      call.Reply(Severity::kWarning,
                 report + "problem converting port '" + std::string(port) + "' to an int" + by);
      return;
    }
    if (p.value == s.port) {
      report += "no need to change the port";
    } else {
      report +=
          "port changed from '" + std::to_string(s.port) + "' to '" + std::to_string(p.value) + "'";
      new_port = static_cast<uint16_t>(p.value);
    }
  }
  if (new_addr != s.addr || new_port != s.port) {
    const std::string error =
        t.snap.control->SetServerAddr(t.ref.proxy, t.ref.server, new_addr, new_port);
    if (!error.empty()) {
      call.Error(error);
      return;
    }
  }
  call.Reply(Severity::kWarning, report + by);
}

// `check-addr <ip> [port <p>]`, `check-port <p>`: haproxy's srv_update_check_addr_port().
void ChangeCheckAddr(Call& call, const Target& t, std::string_view addr, std::string_view port,
                     bool with_port) {
  const ServerView& s = t.server();
  std::string error;
  if (!s.check.enabled) {
    error = "health checks are disabled for this server";
  } else if (!addr.empty() && ParseIp(std::string(addr)).family == 0) {
    error = "invalid addr '" + std::string(addr) + "'";
  }
  int64_t p = s.check.port;
  if (error.empty() && with_port) {
    const ParsedLong n = Strtol(port);
    if (port.empty() || n.used != port.size() || port.front() == ' ' || port.front() == '\t') {
      error = "provided port is not an integer";
    } else if (n.value < 0 || n.value > 65535) {
      error = "provided port is invalid";
    }
    p = n.value;
  }
  if (!error.empty()) {
    call.Reply(Severity::kWarning, error + "\n");
    return;
  }
  const std::string new_addr = addr.empty() ? s.check.addr : std::string(addr);
  Answer(call, t.snap.control->SetServerCheckAddr(t.ref.proxy, t.ref.server, new_addr,
                                                  static_cast<uint16_t>(p)));
}

constexpr std::string_view kNoAgent = "agent checks are not enabled on this server.\n";

std::unique_ptr<Dump> SetServer(Call& call) {
  Target t;
  if (!FindTarget(call, 2, &t)) return nullptr;
  ProxyControl& control = *t.snap.control;
  const size_t px = t.ref.proxy, sv = t.ref.server;
  const std::string_view what = Arg(call, 3);
  const std::string_view value = Arg(call, 4);
  if (what == "weight") {
    ChangeWeight(call, t, value);
  } else if (what == "state") {
    if (value == "ready") {
      Answer(call, control.SetServerAdmin(px, sv, ServerAdminOp::kReady));
    } else if (value == "drain") {
      Answer(call, control.SetServerAdmin(px, sv, ServerAdminOp::kDrain));
    } else if (value == "maint") {
      Answer(call, control.SetServerAdmin(px, sv, ServerAdminOp::kMaint));
    } else {
      call.Error("'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n");
    }
  } else if (what == "health") {
    if (value == "up") {
      Answer(call, control.SetServerHealth(px, sv, ServerHealthOp::kUp));
    } else if (value == "stopping") {
      Answer(call, control.SetServerHealth(px, sv, ServerHealthOp::kStopping));
    } else if (value == "down") {
      Answer(call, control.SetServerHealth(px, sv, ServerHealthOp::kDown));
    } else {
      call.Error("'set server <srv> health' expects 'up', 'stopping', or 'down'.\n");
    }
  } else if (what == "agent" || what == "agent-send") {
    call.Error(std::string(kNoAgent));  // Sluice has no agent checks
  } else if (what == "agent-addr" || what == "agent-port") {
    if (value.empty()) {
      call.Error(what == "agent-addr"
                     ? "set server <b>/<s> agent-addr requires an address and optionally a "
                       "port.\n"
                     : "set server <b>/<s> agent-port requires a port.\n");
    } else {
      call.Reply(Severity::kWarning, "agent checks are not enabled on this server\n");
    }
  } else if (what == "check-addr") {
    if (value.empty()) {
      call.Error("set server <b>/<s> check-addr requires an address and optionally a port.\n");
    } else {
      const bool with_port = Arg(call, 5) == "port";
      ChangeCheckAddr(call, t, value, with_port ? Arg(call, 6) : "", with_port);
    }
  } else if (what == "check-port") {
    if (value.empty()) {
      call.Error("set server <b>/<s> check-port requires a port.\n");
    } else {
      ChangeCheckAddr(call, t, "", value, true);
    }
  } else if (what == "addr") {
    if (value.empty()) {
      call.Error("set server <b>/<s> addr requires an address and optionally a port.\n");
    } else {
      const bool with_port = Arg(call, 5) == "port";
      ChangeAddr(call, t, std::string(value), with_port, Arg(call, 6));
    }
  } else if (what == "fqdn") {
    if (value.empty()) {
      call.Error("set server <b>/<s> fqdn requires a FQDN.\n");
    } else {
      call.Error("set server <b>/<s> fqdn failed because no resolution is configured.\n");
    }
  } else if (what == "ssl") {
    call.Error(
        "'set server <srv> ssl' cannot be set.  default-server should define ssl settings\n");
  } else {
    call.Error(
        "usage: set server <backend>/<server> addr | agent | agent-addr | agent-port | "
        "agent-send | check-addr | check-port | fqdn | health | ssl | state | weight\n");
  }
  return nullptr;
}

// set weight <b>/<s> <w>[%]   (deprecated form of set server ... weight)
std::unique_ptr<Dump> SetWeight(Call& call) {
  Target t;
  if (FindTarget(call, 2, &t)) ChangeWeight(call, t, Arg(call, 3));
  return nullptr;
}

// get weight <b>/<s>: "<current> (initial <configured>)".
std::unique_ptr<Dump> GetWeight(Call& call) {
  Target t;
  if (!LookupTarget(call, 2, "\n", &t)) return nullptr;
  const ServerView& s = t.server();
  return std::make_unique<TextDump>(std::to_string(s.uweight) + " (initial " +
                                    std::to_string(s.iweight) + ")\n");
}

// set maxconn server <b>/<s> <n>: haproxy's server_parse_maxconn_change_request().
std::unique_ptr<Dump> SetMaxconnServer(Call& call) {
  Target t;
  if (!FindTarget(call, 3, &t)) return nullptr;
  const std::string_view text = Arg(call, 4);
  if (text.empty()) {
    call.Error("Require <maxconn>.\n");
    return nullptr;
  }
  const ParsedLong n = Strtol(text);
  if (n.used == 0 || n.value < 0) {
    call.Error("maxconn string empty or preceded by garbage");
  } else if (n.used != text.size()) {
    call.Error("Trailing garbage in maxconn string");
  } else {
    const uint32_t v = static_cast<uint32_t>(std::min<int64_t>(n.value, UINT32_MAX));
    Answer(call, t.snap.control->SetServerMaxconn(t.ref.proxy, t.ref.server, v));
  }
  return nullptr;
}

std::unique_ptr<Dump> EnableServer(Call& call) {
  Target t;
  if (FindTarget(call, 2, &t)) {
    Answer(call, t.snap.control->SetServerAdmin(t.ref.proxy, t.ref.server, ServerAdminOp::kReady));
  }
  return nullptr;
}

std::unique_ptr<Dump> DisableServer(Call& call) {
  Target t;
  if (FindTarget(call, 2, &t)) {
    Answer(call, t.snap.control->SetServerAdmin(t.ref.proxy, t.ref.server, ServerAdminOp::kMaint));
  }
  return nullptr;
}

std::unique_ptr<Dump> EnableHealth(Call& call) {
  Target t;
  if (!FindTarget(call, 2, &t)) return nullptr;
  if (!t.server().check.configured) {
    call.Error("Health checks are not configured on this server, cannot enable.\n");
    return nullptr;
  }
  Answer(call, t.snap.control->SetServerCheckEnabled(t.ref.proxy, t.ref.server, true));
  return nullptr;
}

std::unique_ptr<Dump> DisableHealth(Call& call) {
  Target t;
  if (FindTarget(call, 2, &t)) {
    Answer(call, t.snap.control->SetServerCheckEnabled(t.ref.proxy, t.ref.server, false));
  }
  return nullptr;
}

// Sluice has no agent checks: enabling is refused as for a server without `agent-check`,
// disabling has nothing to do.
std::unique_ptr<Dump> EnableAgent(Call& call) {
  Target t;
  if (FindTarget(call, 2, &t)) {
    call.Error("Agent was not configured on this server, cannot enable.\n");
  }
  return nullptr;
}

std::unique_ptr<Dump> DisableAgent(Call& call) {
  Target t;
  FindTarget(call, 2, &t);
  return nullptr;
}

std::unique_ptr<Dump> ShutdownSessionsServer(Call& call) {
  Target t;
  if (FindTarget(call, 3, &t)) {
    Answer(call, t.snap.control->ShutdownServerSessions(t.ref.proxy, t.ref.server));
  }
  return nullptr;
}

// add server <b>/<s> <addr>[:<port>] [params]: haproxy's cli_parse_add_server(). The server
// comes in maintenance with its checks disabled (`enable health`, `set server ... state
// ready` bring it in). The texts without a newline are haproxy's too.
std::unique_ptr<Dump> AddServer(Call& call) {
  const std::string_view arg = Arg(call, 2);
  const size_t slash = arg.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == arg.size()) {
    call.Error("Require 'backend/server'.");
    return nullptr;
  }
  const ProxySnapshot snap = TakeProxySnapshot(call.appliance);
  const size_t px = FindBackend(snap.proxies, arg.substr(0, slash));
  if (px == snap.proxies.size() || snap.control == nullptr) {
    call.Error("No such backend.");
    return nullptr;
  }
  // A server comes and goes only where the algorithm takes weights live (not static-rr, not
  // a map-based hash).
  if (!snap.proxies[px].dynamic_servers) {
    call.Error("Backend must use a dynamic load balancing to support dynamic servers.");
    return nullptr;
  }
  std::vector<std::string> words(call.args.begin() + std::min<size_t>(3, call.args.size()),
                                 call.args.end());
  const std::string error =
      snap.control->AddServer(px, std::string(arg.substr(slash + 1)), words);
  if (!error.empty()) {
    call.Error(error);
    return nullptr;
  }
  call.Message("New server registered.\n");
  return nullptr;
}

// del server <b>/<s>: haproxy's cli_parse_delete_server(): only a server in maintenance,
// with no session and none queued.
std::unique_ptr<Dump> DelServer(Call& call) {
  Target t;
  if (!LookupTarget(call, 2, "", &t)) return nullptr;
  const ServerView& s = t.server();
  if (!s.forced_maint) {
    call.Error("Only servers in maintenance mode can be deleted.");
    return nullptr;
  }
  if (s.counters.scur || s.counters.qcur) {
    call.Error("Server still has connections attached to it, cannot remove it.");
    return nullptr;
  }
  const std::string error = t.snap.control->DelServer(t.ref.proxy, t.ref.server);
  if (!error.empty()) {
    call.Error(error);
    return nullptr;
  }
  call.Message("Server deleted.");
  return nullptr;
}

constexpr CommandRow kServerCommands[] = {
    {{"add", "server"}, Level::kAdmin, &AddServer, "add server <bk>/<srv>", "create a new server"},
    {{"del", "server"},
     Level::kAdmin,
     &DelServer,
     "del server <bk>/<srv>",
     "remove a dynamically added server"},
    {{"set", "server"},
     Level::kAdmin,
     &SetServer,
     "set server <bk>/<srv> [opts]",
     "change a server's state, weight, address or ssl"},
    {{"set", "weight"},
     Level::kAdmin,
     &SetWeight,
     "set weight <bk>/<srv>  (DEPRECATED)",
     "change a server's weight (use 'set server' instead)"},
    {{"get", "weight"},
     Level::kUser,
     &GetWeight,
     "get weight <bk>/<srv>",
     "report a server's current weight"},
    {{"set", "maxconn", "server"},
     Level::kAdmin,
     &SetMaxconnServer,
     "set maxconn server <bk>/<srv>",
     "change a server's maxconn setting"},
    {{"enable", "server"},
     Level::kAdmin,
     &EnableServer,
     "enable server  (DEPRECATED)",
     "enable a disabled server (use 'set server' instead)"},
    {{"disable", "server"},
     Level::kAdmin,
     &DisableServer,
     "disable server (DEPRECATED)",
     "disable a server for maintenance (use 'set server' instead)"},
    {{"enable", "health"}, Level::kAdmin, &EnableHealth, "enable health", "enable health checks"},
    {{"disable", "health"},
     Level::kAdmin,
     &DisableHealth,
     "disable health",
     "disable health checks"},
    {{"enable", "agent"}, Level::kAdmin, &EnableAgent, "enable agent", "enable agent checks"},
    {{"disable", "agent"}, Level::kAdmin, &DisableAgent, "disable agent", "disable agent checks"},
    {{"shutdown", "sessions", "server"},
     Level::kAdmin,
     &ShutdownSessionsServer,
     "shutdown sessions server <bk>/<srv>",
     "kill sessions on a server"},
};

}  // namespace

std::span<const CommandRow> ServerCommands() { return kServerCommands; }

}  // namespace sluice::cli
