// Slow path. Shared pieces of the proxy commands (proxy_lookup.h) and haproxy's check
// status table (proxy_view.h).
#include "runtime-api/commands/proxy_lookup.h"

#include <climits>
#include <iterator>

namespace sluice::cli {

const CheckStatusInfo& GetCheckStatusInfo(CheckStatus status) {
  // haproxy 2.6 check_statuses[], indexed by enum healthcheck_status.
  static constexpr CheckStatusInfo kTable[] = {
      {"UNK", "Unknown", 0},
      {"INI", "Initializing", 0},
      {"", "", 0},  // START: never reported
      {"CHECKED", "No status change", 1},
      {"HANA", "Health analyze", 2},
      {"SOCKERR", "Socket error", 2},
      {"L4OK", "Layer4 check passed", 3},
      {"L4TOUT", "Layer4 timeout", 2},
      {"L4CON", "Layer4 connection problem", 2},
      {"L6OK", "Layer6 check passed", 3},
      {"L6TOUT", "Layer6 timeout", 2},
      {"L6RSP", "Layer6 invalid response", 2},
      {"L7TOUT", "Layer7 timeout", 2},
      {"L7RSP", "Layer7 invalid response", 2},
      {"", "", 0},  // L57DATA: never reported
      {"L7OK", "Layer7 check passed", 3},
      {"L7OKC", "Layer7 check conditionally passed", 4},
      {"L7STS", "Layer7 wrong status", 2},
      {"PROCERR", "External check error", 2},
      {"PROCTOUT", "External check timeout", 2},
      {"PROCOK", "External check passed", 3},
  };
  const auto i = static_cast<size_t>(status);
  return kTable[i < std::size(kTable) ? i : 0];
}

ProxySnapshot TakeProxySnapshot(ApplianceContext& appliance) {
  ProxySnapshot snap;
  snap.control = appliance.Proxy();
  if (snap.control != nullptr) snap.control->Proxies(&snap.proxies);
  return snap;
}

std::string_view Arg(const Call& call, size_t i) {
  return i < call.args.size() ? std::string_view(call.args[i]) : std::string_view();
}

namespace {

bool IsSpace(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

// The digits of a decimal number after blanks and a sign, as strtol reads them.
ParsedLong ParseDecimal(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && IsSpace(s[i])) ++i;
  bool negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
  const size_t digits = i;
  uint64_t v = 0;
  bool overflow = false;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
    const uint64_t d = static_cast<uint64_t>(s[i] - '0');
    if (v > (static_cast<uint64_t>(INT64_MAX) - d) / 10) overflow = true;
    if (!overflow) v = v * 10 + d;
    ++i;
  }
  if (i == digits) return {};
  int64_t value = overflow ? INT64_MAX : static_cast<int64_t>(v);
  if (negative) value = overflow ? INT64_MIN : -value;
  return {value, i};
}

// "#<id>" as haproxy reads it (atoi of the rest), or -1 for a plain name.
int64_t HashId(std::string_view name) { return name.starts_with('#') ? Atoi(name.substr(1)) : -1; }

}  // namespace

int64_t Atoi(std::string_view s) {
  const int64_t v = ParseDecimal(s).value;
  if (v > INT_MAX) return INT_MAX;
  if (v < INT_MIN) return INT_MIN;
  return v;
}

ParsedLong Strtol(std::string_view s) { return ParseDecimal(s); }

size_t FindProxy(const std::vector<ProxyView>& proxies, std::string_view name) {
  const int64_t id = HashId(name);
  for (size_t i = 0; i < proxies.size(); ++i) {
    if (id >= 0 ? proxies[i].iid == id : proxies[i].name == name) return i;
  }
  return proxies.size();
}

size_t FindBackend(const std::vector<ProxyView>& proxies, std::string_view name) {
  const int64_t id = HashId(name);
  for (size_t i = 0; i < proxies.size(); ++i) {
    if (!proxies[i].has_backend) continue;
    if (id >= 0 ? proxies[i].iid == id : proxies[i].name == name) return i;
  }
  return proxies.size();
}

int LookupServer(const std::vector<ProxyView>& proxies, std::string_view backend,
                 std::string_view server, ServerRef* out) {
  const size_t px = FindBackend(proxies, backend);
  if (px == proxies.size()) return 1;
  const int64_t id = HashId(server);
  const std::vector<ServerView>& servers = proxies[px].servers;
  for (size_t i = 0; i < servers.size(); ++i) {
    if (id >= 0 ? servers[i].sid == id : servers[i].name == server) {
      *out = ServerRef{px, i};
      return 0;
    }
  }
  return 2;
}

bool FindServer(Call& call, const std::vector<ProxyView>& proxies, std::string_view arg,
                ServerRef* out) {
  const size_t slash = arg.find('/');
  const std::string_view backend = arg.substr(0, slash);
  const std::string_view server =
      slash == std::string_view::npos ? std::string_view() : arg.substr(slash + 1);
  if (server.empty() || backend.empty()) {
    call.Error("Require 'backend/server'.\n");
    return false;
  }
  switch (LookupServer(proxies, backend, server, out)) {
    case 1:
      call.Error("No such backend.\n");
      return false;
    case 2:
      call.Error("No such server.\n");
      return false;
    default:
      break;
  }
  const ProxyView& px = proxies[out->proxy];
  if (px.has_frontend && px.frontend_state == FrontendState::kStopped) {
    call.Error("Proxy is disabled.\n");
    return false;
  }
  return true;
}

bool FindFrontend(Call& call, const std::vector<ProxyView>& proxies, std::string_view arg,
                  size_t* out) {
  if (arg.empty()) {
    call.Error("A frontend name is expected.\n");
    return false;
  }
  const int64_t id = HashId(arg);
  for (size_t i = 0; i < proxies.size(); ++i) {
    if (!proxies[i].has_frontend) continue;
    if (id >= 0 ? proxies[i].iid == id : proxies[i].name == arg) {
      *out = i;
      return true;
    }
  }
  call.Error("No such frontend.\n");
  return false;
}

uint32_t AdminStateBits(const ServerView& server) {
  return (server.forced_maint ? 0x01u : 0u) | (server.config_maint ? 0x04u : 0u) |
         (server.forced_drain ? 0x08u : 0u);
}

uint32_t CheckStateBits(const HealthCheckView& check) {
  return (check.in_progress ? 0x01u : 0u) | (check.configured ? 0x02u : 0u) |
         (check.enabled ? 0x04u : 0u) | (check.paused ? 0x08u : 0u);
}

bool InMaintenance(const ServerView& server) { return server.forced_maint; }

bool CurrentlyUsable(const ServerView& server) {
  if (server.eweight == 0 || server.forced_maint || server.forced_drain) return false;
  return server.op_state == ServerOpState::kRunning || server.op_state == ServerOpState::kStarting;
}

bool CheckActive(const HealthCheckView& check) { return check.enabled && !check.paused; }

std::string ServerStatusText(const ServerView& server) {
  if (InMaintenance(server)) return "MAINT";
  const HealthCheckView& check = server.check;
  const uint32_t full = check.rise + check.fall - 1;
  // haproxy prints "<word> a/b" with a = health-rise+1, b = fall while the server is not
  // stopped, else a = health, b = rise.
  auto counted = [&](const char* word) {
    const bool stopped = server.op_state == ServerOpState::kStopped;
    const int64_t a =
        stopped ? int64_t{check.health} : int64_t{check.health} - int64_t{check.rise} + 1;
    const uint32_t b = stopped ? check.rise : check.fall;
    return std::string(word) + " " + std::to_string(a) + "/" + std::to_string(b);
  };
  switch (server.op_state) {
    case ServerOpState::kRunning:
    case ServerOpState::kStarting: {
      const bool going_down = check.enabled && check.health < full;
      if (server.forced_drain) return going_down ? counted("DRAIN") : "DRAIN";
      if (going_down) return counted("UP");
      return check.enabled ? "UP" : "no check";
    }
    case ServerOpState::kStopping:
      if (!check.enabled || check.health == full) return "NOLB";
      return counted("NOLB");
    case ServerOpState::kStopped:
      if (check.enabled && check.health != 0) return counted("DOWN");
      return "DOWN";
  }
  return "DOWN";
}

std::string HumanTime(uint32_t seconds) {
  constexpr uint32_t kMinute = 60, kHour = 3600, kDay = 86400;
  std::string out;
  int units = 2;
  if (seconds >= kDay) {
    out += std::to_string(seconds / kDay) + "d";
    --units;
  }
  if (units > 0 && seconds % kDay / kHour != 0) {
    out += std::to_string(seconds % kDay / kHour) + "h";
    --units;
  }
  if (units > 0 && seconds % kHour / kMinute != 0) {
    out += std::to_string(seconds % kHour / kMinute) + "m";
    --units;
  }
  if ((units > 0 && seconds % kMinute != 0) || seconds == 0) {
    out += std::to_string(seconds % kMinute) + "s";
  }
  return out;
}

}  // namespace sluice::cli
