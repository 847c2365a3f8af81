// libFuzzer target for the REST interface without its HTTP server: the request target's
// decoding (ParseTarget), the routing of every route table, the JSON bodies of every
// handler, the query parameters (pages, filters, the Prometheus exporter's scopes) and the
// stats socket commands the handlers build, at each level. Input: the first byte picks the
// level and method, then "TARGET\n" and the body.
#include <cstddef>
#include <cstdint>
#include <string>

#include "runtime-api/commands/commands.h"
#include "runtime-api/rest/router.h"

namespace {

using namespace sluice::cli;

class FuzzAppliance final : public ApplianceContext {
 public:
  std::string Version() override { return "fuzz"; }
  void FillInfo(InfoValues& info) override { info.SetNum("Nbthread", 1); }
  void Activity(ActivityDump& out) override {
    out.workers = 1;
    out.rows = {{"rx_pkts", {1}}};
  }
  void ClearCounters(bool) override {}
};

const Registry& TheRegistry() {
  static Registry r = [] {
    Registry reg;
    RegisterAllCommands(reg);
    return reg;
  }();
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static const char* const kMethods[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"};
  rest::Request req;
  req.level = static_cast<Level>(data[0] % 3);
  req.method = kMethods[(data[0] / 3) % 6];
  const std::string rest(reinterpret_cast<const char*>(data + 1), size - 1);
  const size_t nl = rest.find('\n');
  const std::string target = rest.substr(0, nl);
  if (nl != std::string::npos) req.body = rest.substr(nl + 1);
  if (!rest::ParseTarget(target, &req)) return 0;
  FuzzAppliance appliance;
  rest::Context ctx{TheRegistry(), appliance};
  std::unique_ptr<rest::Job> job = rest::Route(req, ctx);
  rest::Response r;
  for (int i = 0; i < 1000 && !job->Pump(&r); ++i) {
  }
  return 0;
}
