// Slow path. One Runtime API command for the REST interface (command_run.h).
#include "runtime-api/rest/command_run.h"

namespace sluice::cli {

CommandRun::CommandRun(const Registry& registry, ApplianceContext& appliance, Level level,
                       std::vector<std::string> args, std::string payload, size_t max_bytes)
    : registry_(registry),
      appliance_(appliance),
      args_(std::move(args)),
      payload_(std::move(payload)),
      max_bytes_(max_bytes) {
  session_.level = level;
}

bool CommandRun::Pump() {
  if (done_) return true;
  if (!started_) {
    started_ = true;
    Call call{args_, payload_, session_, appliance_, registry_, "", Severity::kInfo};
    const CommandRow* row = registry_.Find(args_);
    if (row == nullptr) {
      unknown_ = failed_ = true;
      text_ = registry_.Usage(args_, /*is_help=*/false);
    } else if (session_.level < row->level) {
      denied_ = failed_ = true;
      text_ = "Permission denied\n";
    } else {
      dump_ = row->parse(call);
      if (!dump_) {
        text_ = call.message;
        failed_ = call.severity <= Severity::kErr && !call.message.empty();
      }
    }
    if (!dump_) {
      done_ = true;
      return true;
    }
  }
  for (;;) {
    Writer out(text_, max_bytes_);
    const DumpStatus st = dump_->Step(out);
    if (st == DumpStatus::kWait) return false;
    // kMore: the next record does not fit in max_bytes.
    truncated_ = st == DumpStatus::kMore;
    break;
  }
  dump_.reset();
  done_ = true;
  return true;
}

}  // namespace sluice::cli
