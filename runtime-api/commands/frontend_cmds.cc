// Slow path. Frontends and global limits: `disable|enable|shutdown frontend`, `set maxconn
// frontend|global` and `set rate-limit`, with HAProxy 2.6's answers
// (../shared/compat/haproxy-2.6/RUNTIME-API.md 2.3; haproxy's cli_parse_*_frontend(),
// cli_parse_set_maxconn_global() and cli_parse_set_ratelimit()).
#include "runtime-api/commands/commands.h"
#include "runtime-api/commands/proxy_lookup.h"

namespace sluice::cli {
namespace {

void Answer(Call& call, const std::string& error) {
  if (!error.empty()) call.Error(error);
}

// Without a ProxyControl there is no frontend to find and no limit to set.
constexpr std::string_view kNoProxies = "No proxies on this appliance.\n";

std::unique_ptr<Dump> DisableFrontend(Call& call) {
  const ProxySnapshot snap = TakeProxySnapshot(call.appliance);
  size_t px = 0;
  if (!FindFrontend(call, snap.proxies, Arg(call, 2), &px)) return nullptr;
  switch (snap.proxies[px].frontend_state) {
    case FrontendState::kStopped:
      call.Reply(Severity::kNotice, "Frontend was already shut down.\n");
      break;
    case FrontendState::kPaused:
      call.Reply(Severity::kNotice, "All sockets are already disabled.\n");
      break;
    case FrontendState::kOpen:
      Answer(call, snap.control->SetFrontend(px, FrontendOp::kPause));
      break;
  }
  return nullptr;
}

std::unique_ptr<Dump> EnableFrontend(Call& call) {
  const ProxySnapshot snap = TakeProxySnapshot(call.appliance);
  size_t px = 0;
  if (!FindFrontend(call, snap.proxies, Arg(call, 2), &px)) return nullptr;
  switch (snap.proxies[px].frontend_state) {
    case FrontendState::kStopped:
      call.Error("Frontend was previously shut down, cannot enable.\n");
      break;
    case FrontendState::kOpen:
      call.Reply(Severity::kNotice, "All sockets are already enabled.\n");
      break;
    case FrontendState::kPaused:
      Answer(call, snap.control->SetFrontend(px, FrontendOp::kResume));
      break;
  }
  return nullptr;
}

std::unique_ptr<Dump> ShutdownFrontend(Call& call) {
  const ProxySnapshot snap = TakeProxySnapshot(call.appliance);
  size_t px = 0;
  if (!FindFrontend(call, snap.proxies, Arg(call, 2), &px)) return nullptr;
  if (snap.proxies[px].frontend_state == FrontendState::kStopped) {
    call.Reply(Severity::kNotice, "Frontend was already shut down.\n");
  } else {
    Answer(call, snap.control->SetFrontend(px, FrontendOp::kShutdown));
  }
  return nullptr;
}

std::unique_ptr<Dump> SetMaxconnFrontend(Call& call) {
  const ProxySnapshot snap = TakeProxySnapshot(call.appliance);
  size_t px = 0;
  if (!FindFrontend(call, snap.proxies, Arg(call, 3), &px)) return nullptr;
  if (Arg(call, 4).empty()) {
    call.Error("Integer value expected.\n");
    return nullptr;
  }
  const int64_t v = Atoi(Arg(call, 4));
  if (v < 0) {
    call.Error("Value out of range.\n");
    return nullptr;
  }
  Answer(call, snap.control->SetFrontendMaxconn(px, static_cast<uint32_t>(v)));
  return nullptr;
}

std::unique_ptr<Dump> SetMaxconnGlobal(Call& call) {
  if (Arg(call, 3).empty()) {
    call.Error("Expects an integer value.\n");
    return nullptr;
  }
  const int64_t v = Atoi(Arg(call, 3));
  ProxyControl* control = call.appliance.Proxy();
  if (control == nullptr) {
    call.Error(std::string(kNoProxies));
    return nullptr;
  }
  // haproxy: 0 or less restores the hard limit; the control plane refuses more than it.
  Answer(call, control->SetGlobalMaxconn(v <= 0 ? 0 : static_cast<uint32_t>(v)));
  return nullptr;
}

std::unique_ptr<Dump> SetRateLimit(Call& call) {
  const std::string_view what = Arg(call, 2);
  const bool global = Arg(call, 3) == "global";
  RateLimit limit = RateLimit::kConnections;
  uint64_t unit = 1;
  if (what == "connections" && global) {
    limit = RateLimit::kConnections;
  } else if (what == "sessions" && global) {
    limit = RateLimit::kSessions;
  } else if (what == "ssl-sessions" && global) {
    limit = RateLimit::kSslSessions;
  } else if (what == "http-compression" && global) {
    limit = RateLimit::kHttpCompression;
    unit = 1024;  // given in kB/s
  } else {
    call.Error(
        "'set rate-limit' only supports :\n"
        "   - 'connections global' to set the per-process maximum connection rate\n"
        "   - 'sessions global' to set the per-process maximum session rate\n"
        "   - 'ssl-sessions global' to set the per-process maximum SSL session rate\n"
        "   - 'http-compression global' to set the per-process maximum compression speed in "
        "kB/s\n");
    return nullptr;
  }
  if (Arg(call, 4).empty()) {
    call.Error("Expects an integer value.\n");
    return nullptr;
  }
  const int64_t v = Atoi(Arg(call, 4));
  if (v < 0) {
    call.Error("Value out of range.\n");
    return nullptr;
  }
  ProxyControl* control = call.appliance.Proxy();
  if (control == nullptr) {
    call.Error(std::string(kNoProxies));
    return nullptr;
  }
  Answer(call, control->SetRateLimit(limit, static_cast<uint64_t>(v) * unit));
  return nullptr;
}

constexpr CommandRow kFrontendCommands[] = {
    {{"disable", "frontend"},
     Level::kAdmin,
     &DisableFrontend,
     "disable frontend <frontend>",
     "temporarily disable specific frontend"},
    {{"enable", "frontend"},
     Level::kAdmin,
     &EnableFrontend,
     "enable frontend <frontend>",
     "re-enable specific frontend"},
    {{"shutdown", "frontend"},
     Level::kAdmin,
     &ShutdownFrontend,
     "shutdown frontend <frontend>",
     "stop a specific frontend"},
    {{"set", "maxconn", "frontend"},
     Level::kAdmin,
     &SetMaxconnFrontend,
     "set maxconn frontend <frontend> <value>",
     "change a frontend's maxconn setting"},
    {{"set", "maxconn", "global"},
     Level::kAdmin,
     &SetMaxconnGlobal,
     "set maxconn global <value>",
     "change the per-process maxconn setting"},
    {{"set", "rate-limit"},
     Level::kAdmin,
     &SetRateLimit,
     "set rate-limit <setting> <value>",
     "change a rate limiting value"},
};

}  // namespace

std::span<const CommandRow> FrontendCommands() { return kFrontendCommands; }

}  // namespace sluice::cli
