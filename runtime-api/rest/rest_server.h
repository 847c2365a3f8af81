// Slow path. The REST interface's HTTP/1.1 listeners (`stats rest`, docs/rest-api.md):
// libmicrohttpd daemons run from the control plane's own loop (external epoll mode: no
// thread of theirs), HTTP Basic authentication against a userlist (crypt(3) hashes or
// `insecure-password`), a level per user, optional TLS, bounded bodies and connections. A
// request is answered by a rest::Job (router.h); one that waits for the workers is
// suspended and resumed from RunOnce(), which never blocks.
//
//   RestServer rest(appliance, registry);
//   if (auto r = rest.Listen(config); !r) ... r.error() names the address
//   poll rest.fds() for POLLIN (at most rest.NextTimeoutMs()), then rest.RunOnce();
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "dataplane/base/result.h"
#include "runtime-api/commands/context.h"
#include "runtime-api/registry/registry.h"

struct MHD_Daemon;
struct MHD_Connection;

namespace sluice::cli {

struct RestUser {
  std::string name;
  std::string password;  // a crypt(3) hash, or the text with `insecure`
  bool insecure = false;
  bool has_password = true;  // false: the user never authenticates
  std::vector<std::string> groups;
};

// One `stats rest` line.
struct RestListenerConfig {
  std::string address;  // numeric
  uint16_t port = 0;
  bool v6 = false;
  // The level of the listener: a user's groups named `user`, `operator` or `admin` lower it
  // (the highest of them counts); callers never go above it.
  Level level = Level::kAdmin;
  bool auth = false;  // a userlist was given: every request needs Basic credentials
  std::vector<RestUser> users;
  std::string cert_pem;  // certificate and key (HAProxy's `crt` file): HTTPS
  unsigned maxconn = 2000;
  uint32_t timeout_ms = 10000;  // idle or slow clients are closed after it
  size_t max_body = 1u << 20;   // larger bodies are answered 413
};

class RestServer {
 public:
  RestServer(ApplianceContext& appliance, const Registry& registry);
  ~RestServer();
  RestServer(const RestServer&) = delete;
  RestServer& operator=(const RestServer&) = delete;

  base::Result<bool> Listen(const RestListenerConfig& config);
  // The descriptors to poll for POLLIN (one epoll descriptor per listener).
  std::vector<int> fds() const;
  // Serves what is ready, pumps the requests waiting for the workers, resumes the answered.
  void RunOnce();
  // Milliseconds until a daemon's next timeout (-1: none).
  int NextTimeoutMs() const;
  // A request waits for the workers: call RunOnce again soon.
  bool waiting() const { return !pending_.empty(); }
  void Close();

  struct Exchange;  // one request (rest_server.cc)
  struct Listener;

 private:
  friend struct RestCallbacks;
  ApplianceContext& appliance_;
  const Registry& registry_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::vector<Exchange*> pending_;  // suspended, their job not done
};

}  // namespace sluice::cli
