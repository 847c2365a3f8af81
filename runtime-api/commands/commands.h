// Slow path. The command tables of the Runtime API, one per domain, and the explicit list
// that registers them all (static archives drop static initialisers, so there is no
// self-registration).
#pragma once

#include <span>

#include "runtime-api/commands/context.h"
#include "runtime-api/registry/registry.h"

namespace sluice::cli {

std::span<const CommandRow> CliCommands();       // cli_cmds.cc: prompt, quit, levels, modes
std::span<const CommandRow> InfoCommands();      // info_cmds.cc: show info, show version
std::span<const CommandRow> ActivityCommands();  // activity_cmds.cc: show activity, clear counters
std::span<const CommandRow> EnvCommands();       // env_cmds.cc: show env
std::span<const CommandRow> StatCommands();      // stat_cmds.cc: show stat, servers, backend
std::span<const CommandRow> ServerCommands();    // server_cmds.cc: set server, weights, health
std::span<const CommandRow> FrontendCommands();  // frontend_cmds.cc: frontends, global limits
std::span<const CommandRow> ErrorsCommands();    // errors_cmds.cc: show errors
std::span<const CommandRow> SessCommands();      // sess_cmds.cc: show sess, shutdown session
std::span<const CommandRow> PatternCommands();   // pattern_cmds.cc: acl and map commands
std::span<const CommandRow> StickCommands();     // stick_cmds.cc: show|set|clear table
std::span<const CommandRow> TlsCommands();       // tls_cmds.cc: show tls-keys, set ssl tls-key

// Adds every table above to `registry`.
void RegisterAllCommands(Registry& registry);

}  // namespace sluice::cli
