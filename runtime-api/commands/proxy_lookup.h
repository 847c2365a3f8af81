// Slow path. What the proxy commands (stat_cmds.cc, server_cmds.cc, frontend_cmds.cc,
// sess_cmds.cc) share: the snapshot of a call, finding proxies and servers by name or
// `#<id>` with HAProxy's error texts, HAProxy's number parsing, and the states derived from
// a ServerView (status words, srv_admin_state and check state bits).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "runtime-api/commands/context.h"
#include "runtime-api/commands/proxy_view.h"
#include "runtime-api/registry/registry.h"

namespace sluice::cli {

// The proxies as a command sees them: none when the appliance has no ProxyControl.
struct ProxySnapshot {
  ProxyControl* control = nullptr;
  std::vector<ProxyView> proxies;
};
ProxySnapshot TakeProxySnapshot(ApplianceContext& appliance);

// The i-th word of the call, or "" past the last one (haproxy's argument array is padded
// with empty words).
std::string_view Arg(const Call& call, size_t i);

// C's atoi() as haproxy uses it: blanks, a sign, digits; the rest ignored; 0 without digits;
// clamped to the int range.
int64_t Atoi(std::string_view s);

// C's strtol(s, &end, 10): the value (clamped to int64) and how many bytes it used; 0 bytes
// when there is no number (then end == s).
struct ParsedLong {
  int64_t value = 0;
  size_t used = 0;
};
ParsedLong Strtol(std::string_view s);

// A server by its indexes in ProxySnapshot::proxies and ProxyView::servers.
struct ServerRef {
  size_t proxy = 0;
  size_t server = 0;
};

// haproxy's cli_find_server(): `arg` is "<backend>/<server>", each a name or "#<id>".
// Answers the call with haproxy's error ("Require 'backend/server'.", "No such backend.",
// "No such server.", "Proxy is disabled.") and returns false when there is none.
bool FindServer(Call& call, const std::vector<ProxyView>& proxies, std::string_view arg,
                ServerRef* out);
// haproxy's get_backend_server(): as FindServer, without the check for a stopped proxy.
// Returns 0 found, 1 no such backend, 2 no such server.
int LookupServer(const std::vector<ProxyView>& proxies, std::string_view backend,
                 std::string_view server, ServerRef* out);
// haproxy's cli_find_frontend(): a frontend by name or "#<id>"; answers "A frontend name is
// expected." or "No such frontend." and returns false when there is none.
bool FindFrontend(Call& call, const std::vector<ProxyView>& proxies, std::string_view arg,
                  size_t* out);
// haproxy's proxy_be_by_name(): a backend by name or "#<id>"; proxies.size() when none.
size_t FindBackend(const std::vector<ProxyView>& proxies, std::string_view name);
// haproxy's proxy_find_by_name() with any capability; proxies.size() when none.
size_t FindProxy(const std::vector<ProxyView>& proxies, std::string_view name);

// srv_admin_state as `show servers state` prints it (0x01 FMAINT, 0x04 CMAINT, 0x08 FDRAIN).
uint32_t AdminStateBits(const ServerView& server);
// srv_check_state: 0x01 in progress, 0x02 configured, 0x04 enabled, 0x08 paused.
uint32_t CheckStateBits(const HealthCheckView& check);
// haproxy's SRV_ADMF_MAINT test: the server is in maintenance.
bool InMaintenance(const ServerView& server);
// haproxy's srv_currently_usable(): takes new sessions (weight, not maint or drain, up).
bool CurrentlyUsable(const ServerView& server);
// The checks run and report: enabled and not paused.
bool CheckActive(const HealthCheckView& check);
// The status column of a server row: "UP", "UP 1/3", "DOWN", "DOWN 1/2", "NOLB", "DRAIN",
// "MAINT", "no check" (haproxy's srv_hlt_st[] rules).
std::string ServerStatusText(const ServerView& server);

// haproxy's human_time(): at most two units among d, h, m, s ("1s", "2m5s", "3d4h").
std::string HumanTime(uint32_t seconds);

}  // namespace sluice::cli
