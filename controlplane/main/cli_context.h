// Slow path. The Runtime API's view of the appliance (runtime-api/commands/context.h): info
// fields, per-worker activity and `clear counters`, read from the workers' counters with
// relaxed loads. `clear counters` never writes a worker's counters (they have one writer):
// it records a baseline that later reads subtract.
#pragma once

#include <array>
#include <chrono>
#include <vector>

#include "controlplane/main/appliance.h"
#include "controlplane/main/proxy_control.h"
#include "runtime-api/commands/context.h"

namespace sluice::app {

class ApplianceCliContext : public cli::ApplianceContext {
 public:
  ApplianceCliContext(const Appliance& app, const config::Config& cfg);

  std::string Version() override;
  void FillInfo(cli::InfoValues& info) override;
  void Activity(cli::ActivityDump& out) override;
  void ClearCounters(bool all) override;
  std::string CliSockets() override;
  cli::ProxyControl* Proxy() override { return proxy_; }
  void SetProxy(ProxyCliControl* proxy) { proxy_ = proxy; }
  cli::PatternControl* Patterns() override { return patterns_; }
  void SetPatterns(cli::PatternControl* p) { patterns_ = p; }
  cli::StickControl* Stick() override { return stick_; }
  void SetStick(cli::StickControl* s) { stick_ = s; }
  cli::TlsControl* Tls() override { return tls_; }
  void SetTls(cli::TlsControl* t) { tls_ = t; }

 private:
  uint64_t Value(unsigned worker, size_t counter) const;

  const Appliance& app_;
  const config::Config& cfg_;
  ProxyCliControl* proxy_ = nullptr;
  cli::PatternControl* patterns_ = nullptr;
  cli::StickControl* stick_ = nullptr;
  cli::TlsControl* tls_ = nullptr;
  std::chrono::steady_clock::time_point start_;
  std::vector<std::array<uint64_t, counters::kNumCounters>> baseline_;
};

}  // namespace sluice::app
