// Slow path. The Runtime API's TLS commands (runtime-api/commands/tls_cmds.cc) over the
// appliance: the ticket key files as the control plane holds them, and their rotation, which
// publishes the "tls" snapshot part again. Made once the appliance started: its TLS stores
// exist then (even with no TLS bind), so every answer comes from them.
#pragma once

#include <string>
#include <vector>

#include "controlplane/main/appliance.h"
#include "runtime-api/commands/context.h"

namespace sluice::app {

class TlsCliControl final : public cli::TlsControl {
 public:
  explicit TlsCliControl(Appliance& app) : app_(app) {}
  std::vector<cli::TicketKeysView> TicketKeys() override;
  std::string SetTicketKey(size_t index, const std::string& key) override;
  Answer ShowCerts() override;
  Answer ShowCert(const std::string& name) override;
  Answer SetCert(const std::string& path, const std::string& payload) override;
  Answer CommitCert(const std::string& path) override;
  Answer AbortCert(const std::string& path) override;
  Answer NewCert(const std::string& path) override;
  Answer DelCert(const std::string& path) override;
  Answer ShowCrtList(bool numbered, const std::string& list) override;
  Answer ShowCaFile(const std::string& name) override;
  Answer ShowOcsp(const std::string& key) override;
  Answer SetOcsp(const std::string& base64) override;

 private:
  Appliance& app_;
};

}  // namespace sluice::app
