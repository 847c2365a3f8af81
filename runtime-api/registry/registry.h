// Slow path. The command registry (AESTHETICS practice 1): each commands module exports a
// constant table of CommandRow {words, level, parse, usage}; RegisterAllCommands()
// (commands/commands.h) adds every table explicitly. The registry finds the row for a
// request and generates `help` and the unknown-command answers the way HAProxy 2.6 does.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "runtime-api/protocol/protocol.h"

namespace sluice::cli {

// A session's access level (haproxy ACCESS_LVL_*): ordered, higher includes lower.
enum class Level { kUser = 0, kOperator = 1, kAdmin = 2 };
std::string_view LevelName(Level level);  // "user", "operator", "admin"

// syslog severities, used as haproxy does for the prefix of informational and error messages.
enum class Severity { kEmerg, kAlert, kCrit, kErr, kWarning, kNotice, kInfo, kDebug };
enum class SeverityOutput { kNone, kNumber, kString };

// Per-connection state that commands may read and change.
struct Session {
  Level level = Level::kOperator;
  bool interactive = false;  // `prompt` mode
  bool quit = false;         // `quit`: close once the output is sent
  SeverityOutput severity_output = SeverityOutput::kNone;
  uint32_t timeout_ms = 10000;  // idle timeout (`stats timeout`, `set timeout cli`)
  bool expert = false;          // expert-mode
  bool experimental = false;    // experimental-mode
};

enum class DumpStatus { kDone, kMore, kWait };

// The resumable part of a command (haproxy's io_handler + io_release): Step() writes records
// with Writer::Put and returns kMore when one does not fit; it is called again, with the same
// state, when the client has drained the output. It returns kWait when it waits for the
// workers' replies (request/reply rings): the server calls it again on a later iteration of
// the control loop, which meanwhile serves every other client. The destructor is the
// release step.
class Dump {
 public:
  virtual ~Dump() = default;
  virtual DumpStatus Step(Writer& out) = 0;
};

// Writes `text` in pieces as room allows (messages, help lists: small and bounded).
class TextDump final : public Dump {
 public:
  explicit TextDump(std::string text) : text_(std::move(text)) {}
  DumpStatus Step(Writer& out) override;

 private:
  std::string text_;
  size_t done_ = 0;
};

class ApplianceContext;  // commands/context.h: what commands need from the appliance
class Registry;

// One call of a command: its words, its payload (empty without `<<`), the session, and the
// appliance. A handler either answers with a message (Message/Error: haproxy cli_msg/cli_err,
// prefixed per `set severity-output`) or returns a Dump that writes the answer.
struct Call {
  std::span<const std::string> args;
  std::string_view payload;
  Session& session;
  ApplianceContext& appliance;
  const Registry& registry;

  std::string message;  // set by Message/Error; the server writes it with its prefix
  Severity severity = Severity::kInfo;
  void Message(std::string text) { Reply(Severity::kInfo, std::move(text)); }
  void Error(std::string text) { Reply(Severity::kErr, std::move(text)); }
  void Reply(Severity s, std::string text) {
    severity = s;
    message = std::move(text);
  }
  // HAProxy's answer to a session below `needed`; returns false then.
  bool NeedLevel(Level needed);
};

// A message as the session prints it: prefixed with its severity per `set severity-output`.
std::string WithSeverity(const Session& session, Severity severity, std::string_view text);

using ParseFn = std::unique_ptr<Dump> (*)(Call& call);

inline constexpr size_t kMaxCommandWords = 5;  // haproxy's CLI_PREFIX_KW_NB

struct CommandRow {
  std::array<std::string_view, kMaxCommandWords> words;  // the prefix; unused ones empty
  Level level;             // minimum level; lower sessions get "Permission denied"
  ParseFn parse;
  std::string_view usage;  // left column of `help` ("show info [desc|json|typed|float]*"),
                           // empty for a command `help` does not list
  std::string_view help;   // right column ("report information about the running process")
};

class Registry {
 public:
  // Adds a module's table. Debug builds abort on a duplicate prefix (see DuplicatePrefix).
  void Add(std::span<const CommandRow> table);

  // The row whose words are all equal to the first words of `args`, or nullptr.
  const CommandRow* Find(std::span<const std::string> args) const;

  // `help [words]` (is_help) or the answer to an unknown command, byte for byte as haproxy
  // 2.6 builds it: a header, the matching usage lines sorted by words, then the help, prompt
  // and quit lines. Commands without a usage are never listed.
  std::string Usage(std::span<const std::string> args, bool is_help) const;

  // The first pair of rows where one's words are a prefix of (or equal to) the other's, as
  // "show info / show info typed"; empty when none. Such a pair makes Find() ambiguous.
  std::string DuplicatePrefix() const;

  size_t size() const { return rows_.size(); }

 private:
  std::vector<const CommandRow*> rows_;  // registration order
};

// One usage line as `help` prints it: two blanks, the usage padded to 40 columns, ": ", help.
std::string UsageLine(std::string_view usage, std::string_view help);

// haproxy's word fingerprint (letter digrams with begin and end marks) and the distance
// between two; used to propose the closest commands for an unknown one. Exposed for tests.
using Fingerprint = std::array<uint8_t, 1024>;
void AddToFingerprint(Fingerprint& fp, std::string_view word);
int FingerprintDistance(const Fingerprint& a, const Fingerprint& b);

}  // namespace sluice::cli
