// libFuzzer target for the CLI request path: the tokenizer and the whole protocol state
// machine (chains, escapes, payloads, prompt mode) with every registered command, fed in
// pieces, with a tiny output buffer so dumps pause and resume.
#include <cstddef>
#include <cstdint>
#include <string>

#include "runtime-api/commands/commands.h"
#include "runtime-api/protocol/protocol.h"
#include "runtime-api/server/connection.h"

namespace {

class FuzzAppliance : public sluice::cli::ApplianceContext {
 public:
  std::string Version() override { return "fuzz"; }
  void FillInfo(sluice::cli::InfoValues&) override {}
  void Activity(sluice::cli::ActivityDump& out) override {
    out.workers = 2;
    out.rows = {{"loops", {1, 2}}};
  }
  void ClearCounters(bool) override {}
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static sluice::cli::Registry registry = [] {
    sluice::cli::Registry r;
    sluice::cli::RegisterAllCommands(r);
    return r;
  }();
  static FuzzAppliance appliance;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  for (const std::string& piece : sluice::cli::SplitChain(input)) {
    (void)sluice::cli::SplitWords(piece);
  }
  sluice::cli::ConnectionLimits limits;
  limits.output_bytes = 64;
  limits.max_request_bytes = 1024;
  sluice::cli::Connection c(sluice::cli::Level::kAdmin, 1000, limits, registry, appliance);
  // `show env` would make runs depend on the environment, which is fine for coverage.
  for (size_t i = 0; i < input.size() && !c.closing(); i += 7) {
    c.Feed(input.substr(i, 7));
    for (int round = 0; round < 1000; ++round) {
      c.Pump();
      if (c.output().empty()) break;
      c.output().clear();
    }
  }
  c.FeedEof();
  for (int round = 0; round < 100000 && !c.closing(); ++round) {
    c.Pump();
    c.output().clear();
  }
  return 0;
}
