// Slow path. The Runtime API's proxy commands on the appliance (runtime-api/commands/
// proxy_view.h): views summed from the workers' statistics blocks, mutations of the live
// state (controlplane/proxy) followed by a snapshot publication, and session commands sent
// as requests on the workers' request/reply rings (controlplane/publish/requests.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "controlplane/main/appliance.h"
#include "runtime-api/commands/proxy_view.h"

namespace sluice::app {

// The log lines of a server state change, in HAProxy's words.
std::vector<std::string> FormatStateChange(const cp::ProxyRuntime& rt, const cp::StateChange& c);

class ProxyCliControl final : public cli::ProxyControl {
 public:
  explicit ProxyCliControl(Appliance& app) : app_(app) {}

  void Proxies(std::vector<cli::ProxyView>* out) override;
  std::unique_ptr<cli::SessionStream> Sessions(uint64_t id) override;
  std::string SetServerAdmin(size_t proxy, size_t server, cli::ServerAdminOp op) override;
  std::string SetServerHealth(size_t proxy, size_t server, cli::ServerHealthOp op) override;
  std::string SetServerWeight(size_t proxy, size_t server, uint32_t weight) override;
  std::string SetServerAddr(size_t proxy, size_t server, const std::string& addr,
                            uint16_t port) override;
  std::string SetServerCheckAddr(size_t proxy, size_t server, const std::string& addr,
                                 uint16_t port) override;
  std::string SetServerMaxconn(size_t proxy, size_t server, uint32_t maxconn) override;
  std::string SetServerCheckEnabled(size_t proxy, size_t server, bool enabled) override;
  std::string ShutdownServerSessions(size_t proxy, size_t server) override;
  std::string AddServer(size_t proxy, const std::string& name,
                        const std::vector<std::string>& words) override;
  std::string DelServer(size_t proxy, size_t server) override;
  std::string SetFrontend(size_t proxy, cli::FrontendOp op) override;
  std::string SetFrontendMaxconn(size_t proxy, uint32_t maxconn) override;
  std::string SetGlobalMaxconn(uint32_t maxconn) override;
  std::string SetRateLimit(cli::RateLimit limit, uint64_t value) override;
  std::unique_ptr<cli::PendingAnswer> ShutdownSession(uint64_t id) override;
  void Errors(std::vector<cli::ErrorView>* out, uint64_t* total) override;
  // `clear counters` (maxima and rate maxima) and `clear counters all` (every cumulative
  // counter too): applied to the views, the workers' counters keep their single writer.
  void Clear(bool all);

 private:
  cp::ServerRt* Server(size_t proxy, size_t server);
  // Every change but the frontends' open/paused state touches the proxy part only.
  void Publish(unsigned parts = Appliance::kProxyPart) { app_.PublishSnapshot(parts); }
  void RawProxies(std::vector<cli::ProxyView>* out);
  // RawProxies less what each slot's earlier servers counted (slot_base_).
  void OwnProxies(std::vector<cli::ProxyView>* out);
  // The counters of the server in slot `i` as the workers count them (summed).
  void SlotCounters(uint32_t i, cli::StatCounters* c);

  Appliance& app_;
  std::vector<cli::ProxyView> base_;   // totals at the last `clear counters all`
  std::vector<cli::ProxyView> peaks_;  // maxima since the last clear
  // What a slot's previous servers counted, by slot: an added server starts from zero.
  std::vector<cli::StatCounters> slot_base_;
  std::vector<uint64_t> slot_since_ms_;  // when the slot's server was added (workers' clock)
};

}  // namespace sluice::app
