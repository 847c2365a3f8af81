// Slow path. `show env [NAME]`: the process environment, one NAME=value per line.
#include <cstring>

#include "runtime-api/commands/commands.h"

extern char** environ;  // POSIX; declared by no standard C++ header

namespace sluice::cli {
namespace {

class ShowEnvDump final : public Dump {
 public:
  DumpStatus Step(Writer& out) override {
    // Resumes by index: the environment only changes on this (the control-plane) thread.
    for (; environ != nullptr && environ[next_] != nullptr; ++next_) {
      std::string line = environ[next_];
      line += '\n';
      if (!out.Put(line)) return DumpStatus::kMore;
    }
    return DumpStatus::kDone;
  }

 private:
  size_t next_ = 0;
};

std::unique_ptr<Dump> ShowEnv(Call& call) {
  if (call.args.size() < 3 || call.args[2].empty()) return std::make_unique<ShowEnvDump>();
  const std::string& name = call.args[2];
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    if (std::strncmp(*e, name.c_str(), name.size()) == 0 && (*e)[name.size()] == '=') {
      return std::make_unique<TextDump>(std::string(*e) + "\n");
    }
  }
  call.Error("Variable not found\n");
  return nullptr;
}

constexpr CommandRow kEnvCommands[] = {
    {{"show", "env"}, Level::kOperator, &ShowEnv, "show env [var]",
     "dump environment variables known to the process"},
};

}  // namespace

std::span<const CommandRow> EnvCommands() { return kEnvCommands; }

}  // namespace sluice::cli
