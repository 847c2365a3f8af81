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

// Adds every table above to `registry`.
void RegisterAllCommands(Registry& registry);

}  // namespace sluice::cli
