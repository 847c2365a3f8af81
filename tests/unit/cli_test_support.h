// A fake appliance and transcript helpers for the Runtime API unit tests.
#pragma once

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "runtime-api/commands/commands.h"

namespace sluice::cli {

class FakeAppliance : public ApplianceContext {
 public:
  std::string Version() override { return "2.6.12-1+deb12u4"; }
  void FillInfo(InfoValues& info) override {
    info.SetStr("Name", "HAProxy");
    info.SetStr("Release_date", "2026/10/17");
    info.SetNum("Nbthread", 2);
    info.SetUptime(35.25);
  }
  void Activity(ActivityDump& out) override {
    out.workers = 2;
    out.rows = {{"loops", {1060, 1143}}, {"rx_pkts", {5, 7}}, {"drop_no_route", {0, 1}}};
  }
  void ClearCounters(bool all) override { cleared = all ? 2 : 1; }
  int cleared = 0;
};

// A transcript's output: everything after its first line (the invocation).
// Looked up in $SLUICE_TRANSCRIPTS, then ../shared beside the repository; "" when absent
// (the test skips).
inline std::string TranscriptOutput(const std::string& name) {
  const char* env = std::getenv("SLUICE_TRANSCRIPTS");
  std::string file(__FILE__);  // .../tests/unit/cli_test_support.h, maybe relative
  file = file.substr(0, file.rfind("tests/unit/"));
  std::ifstream f(env ? std::string(env) + "/" + name
                      : file + "../shared/compat/haproxy-2.6/transcripts/" + name);
  if (!f) f.open("/work/shared/compat/haproxy-2.6/transcripts/" + name);
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string all = ss.str();
  const size_t nl = all.find('\n');
  return nl == std::string::npos ? "" : all.substr(nl + 1);
}

}  // namespace sluice::cli
