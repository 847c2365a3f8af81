// Slow path. The CLI's own commands: help, prompt, quit, operator, user, show cli level,
// show cli sockets, set timeout cli, set severity-output, expert-mode and experimental-mode.
#include <charconv>
#include <cstdint>

#include "runtime-api/commands/commands.h"

namespace sluice::cli {
namespace {

std::unique_ptr<Dump> Help(Call& call) {
  call.Message(call.registry.Usage(call.args.subspan(1), /*is_help=*/true));
  return nullptr;
}

std::unique_ptr<Dump> Prompt(Call& call) {
  call.session.interactive = !call.session.interactive;
  return nullptr;
}

std::unique_ptr<Dump> Quit(Call& call) {
  call.session.quit = true;
  return nullptr;
}

// `operator` and `user` only ever lower the level.
std::unique_ptr<Dump> LowerTo(Call& call, Level level) {
  if (call.NeedLevel(level)) call.session.level = level;
  return nullptr;
}
std::unique_ptr<Dump> Operator(Call& call) { return LowerTo(call, Level::kOperator); }
std::unique_ptr<Dump> User(Call& call) { return LowerTo(call, Level::kUser); }

std::unique_ptr<Dump> ShowCliLevel(Call& call) {
  return std::make_unique<TextDump>(std::string(LevelName(call.session.level)) + "\n");
}

std::unique_ptr<Dump> ShowCliSockets(Call& call) {
  return std::make_unique<TextDump>("# socket lvl processes\n" + call.appliance.CliSockets());
}

std::unique_ptr<Dump> SetTimeout(Call& call) {
  if (call.args.size() < 3 || call.args[2] != "cli") {
    call.Error("'set timeout' only supports 'cli'.\n");
    return nullptr;
  }
  const std::string v = call.args.size() > 3 ? call.args[3] : "";
  uint64_t seconds = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), seconds);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size()) {
    call.Error("Expects an integer value.\n");
    return nullptr;
  }
  constexpr uint64_t kMaxSeconds = INT32_MAX / 1000;  // haproxy's timer range
  call.session.timeout_ms = static_cast<uint32_t>(std::min(seconds, kMaxSeconds) * 1000);
  return nullptr;
}

std::unique_ptr<Dump> SetSeverityOutput(Call& call) {
  const std::string_view v = call.args.size() > 2 ? std::string_view(call.args[2]) : "";
  if (v == "none") {
    call.session.severity_output = SeverityOutput::kNone;
  } else if (v == "number") {
    call.session.severity_output = SeverityOutput::kNumber;
  } else if (v == "string") {
    call.session.severity_output = SeverityOutput::kString;
  } else {
    call.Error("one of 'none', 'number', 'string' is a required argument\n");
  }
  return nullptr;
}

// `expert-mode [on|off]`: without an argument, tells the state ("expert-mode is OFF").
std::unique_ptr<Dump> Mode(Call& call, bool& flag) {
  const std::string& name = call.args[0];
  if (call.args.size() < 2 || call.args[1].empty()) {
    call.Message(name + (flag ? " is ON\n" : " is OFF\n"));
  } else if (call.args[1] == "on") {
    flag = true;
  } else if (call.args[1] == "off") {
    flag = false;
  } else {
    call.Error("'" + name + "' only supports 'on' and 'off'.\n");
  }
  return nullptr;
}
std::unique_ptr<Dump> ExpertMode(Call& call) { return Mode(call, call.session.expert); }
std::unique_ptr<Dump> ExperimentalMode(Call& call) {
  return Mode(call, call.session.experimental);
}

// help, prompt and quit are listed last by Registry::Usage, not with the sorted rows.
constexpr CommandRow kCliCommands[] = {
    {{"help"}, Level::kUser, &Help, "", ""},
    {{"prompt"}, Level::kUser, &Prompt, "", ""},
    {{"quit"}, Level::kUser, &Quit, "", ""},
    {{"operator"}, Level::kUser, &Operator, "operator",
     "lower the level of the current CLI session to operator"},
    {{"user"}, Level::kUser, &User, "user", "lower the level of the current CLI session to user"},
    {{"show", "cli", "level"}, Level::kUser, &ShowCliLevel, "show cli level",
     "display the level of the current CLI session"},
    {{"show", "cli", "sockets"}, Level::kUser, &ShowCliSockets, "show cli sockets",
     "dump list of cli sockets"},
    {{"set", "timeout"}, Level::kUser, &SetTimeout, "set timeout [cli] <delay>",
     "change a timeout setting"},
    {{"set", "severity-output"}, Level::kUser, &SetSeverityOutput,
     "set severity-output [none|number|string]",
     "set presence of severity level in feedback information"},
    {{"expert-mode"}, Level::kAdmin, &ExpertMode, "", ""},
    {{"experimental-mode"}, Level::kAdmin, &ExperimentalMode, "", ""},
};

}  // namespace

std::span<const CommandRow> CliCommands() { return kCliCommands; }

void RegisterAllCommands(Registry& registry) {
  registry.Add(CliCommands());
  registry.Add(InfoCommands());
  registry.Add(ActivityCommands());
  registry.Add(EnvCommands());
  registry.Add(StatCommands());
  registry.Add(ServerCommands());
  registry.Add(FrontendCommands());
  registry.Add(SessCommands());
  registry.Add(ErrorsCommands());
  registry.Add(PatternCommands());
  registry.Add(StickCommands());
  registry.Add(TlsCommands());
}

}  // namespace sluice::cli
