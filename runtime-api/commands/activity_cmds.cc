// Slow path. `show activity` (haproxy's per-thread rows, here per worker lcore) and
// `clear counters [all]`.
#include <sys/time.h>

#include <cstdio>

#include "runtime-api/commands/commands.h"

namespace sluice::cli {
namespace {

class ShowActivityDump final : public Dump {
 public:
  explicit ShowActivityDump(ActivityDump data) : data_(std::move(data)) {}

  DumpStatus Step(Writer& out) override {
    if (next_ == 0) {
      // haproxy prints the calling thread and the thread range; the CLI runs on the
      // control-plane thread, which is no worker: 0.
      timeval tv{};
      gettimeofday(&tv, nullptr);
      char buf[128];
      std::snprintf(buf, sizeof(buf), "thread_id: 0 (1..%u)\ndate_now: %lld.%06ld\n",
                    data_.workers, static_cast<long long>(tv.tv_sec),
                    static_cast<long>(tv.tv_usec));
      if (!out.Put(buf)) return DumpStatus::kMore;
      next_ = 1;
    }
    while (next_ - 1 < data_.rows.size()) {
      const ActivityRow& row = data_.rows[next_ - 1];
      uint64_t total = 0;
      for (const uint64_t v : row.per_worker) total += v;
      std::string line = row.name + ": " + std::to_string(total) + " [";
      for (const uint64_t v : row.per_worker) line += " " + std::to_string(v);
      line += " ]\n";
      if (!out.Put(line)) return DumpStatus::kMore;
      ++next_;
    }
    return DumpStatus::kDone;
  }

 private:
  ActivityDump data_;
  size_t next_ = 0;  // 0: header, then 1 + row index
};

std::unique_ptr<Dump> ShowActivity(Call& call) {
  ActivityDump data;
  call.appliance.Activity(data);
  return std::make_unique<ShowActivityDump>(std::move(data));
}

std::unique_ptr<Dump> ClearCounters(Call& call) {
  const bool all = call.args.size() > 2 && call.args[2] == "all";
  if (all && !call.NeedLevel(Level::kAdmin)) return nullptr;
  call.appliance.ClearCounters(all);
  return nullptr;
}

constexpr CommandRow kActivityCommands[] = {
    {{"show", "activity"}, Level::kUser, &ShowActivity, "show activity",
     "show per-thread activity stats (for support/developers)"},
    {{"clear", "counters"}, Level::kOperator, &ClearCounters, "clear counters [all]",
     "clear max statistics counters (or all counters)"},
};

}  // namespace

std::span<const CommandRow> ActivityCommands() { return kActivityCommands; }

}  // namespace sluice::cli
