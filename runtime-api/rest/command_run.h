// Slow path. One Runtime API command run for the REST interface: the same registry row, level
// check and handler as a stats socket connection runs (server/connection.cc), with its
// arguments given as words (no quoting: a map key may hold blanks) and its answer collected
// as text. A command that waits for the workers is pumped again on a later loop iteration.
//
//   CommandRun run(registry, appliance, Level::kAdmin, {"set", "weight", "be/s1", "50"});
//   while (!run.Pump()) { ...later... }
//   if (run.failed()) ... run.text() is HAProxy's error ("No such server.\n")
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "runtime-api/commands/context.h"
#include "runtime-api/registry/registry.h"

namespace sluice::cli {

class CommandRun {
 public:
  // `max_bytes` bounds the answer: past it the command stops and truncated() says so.
  CommandRun(const Registry& registry, ApplianceContext& appliance, Level level,
             std::vector<std::string> args, std::string payload = "", size_t max_bytes = 64u << 20);

  // Runs as far as it can; true once the answer is complete.
  bool Pump();

  const std::string& text() const { return text_; }
  // The handler answered with an error message (HAProxy's cli_err), the command is unknown
  // or the level too low.
  bool failed() const { return failed_; }
  bool denied() const { return denied_; }    // below the command's level
  bool unknown() const { return unknown_; }  // no such command
  bool truncated() const { return truncated_; }

 private:
  const Registry& registry_;
  ApplianceContext& appliance_;
  Session session_;
  std::vector<std::string> args_;
  std::string payload_;
  size_t max_bytes_;
  std::unique_ptr<Dump> dump_;
  bool started_ = false;
  bool done_ = false;
  std::string text_;
  bool failed_ = false;
  bool denied_ = false;
  bool unknown_ = false;
  bool truncated_ = false;
};

}  // namespace sluice::cli
