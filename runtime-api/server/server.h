// Slow path. The stats socket server: unix and TCP listeners on the host kernel (management
// plane) and their CLI connections, driven by one non-blocking epoll loop owned by the
// control-plane thread. A slow or stalled client only ever fills its own bounded output
// buffer; nothing here blocks.
//
// Driving it from the control plane's loop:
//   CliServer cli(appliance, registry, limits);   // registry: RegisterAllCommands()
//   if (auto r = cli.Listen(listeners); !r) ...;   // r.error() names the listener
//   poll cli.fd() for POLLIN with a timeout of at most cli.NextTimeoutMs(), then
//   cli.RunOnce(0);                                 // or simply cli.RunOnce(100) in a loop
//   cli.Close();                                    // at shutdown: removes the unix sockets
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "dataplane/base/result.h"
#include "runtime-api/commands/context.h"
#include "runtime-api/registry/registry.h"
#include "runtime-api/server/connection.h"

namespace sluice::cli {

// One `stats socket` line.
struct ListenerConfig {
  enum class Kind { kUnix, kTcp4, kTcp6 };
  Kind kind = Kind::kUnix;
  std::string path;     // kUnix
  std::string address;  // kTcp4/kTcp6: numeric address ("127.0.0.1", "::1")
  uint16_t port = 0;
  std::optional<mode_t> mode;  // unix: file mode (`mode 600`)
  std::optional<uid_t> uid;    // unix: owner (`uid`/`user`)
  std::optional<gid_t> gid;    // unix: group (`gid`/`group`)
  Level level = Level::kOperator;  // haproxy's default
  // listen() backlog; 0: the server's maxconn, as HAProxy sizes a listener's backlog from
  // its frontend's maxconn (a burst of clients up to maxconn never sees EAGAIN).
  int backlog = 0;
};

struct ServerLimits {
  uint32_t timeout_ms = 10000;  // `stats timeout`: idle connections are closed (haproxy: 10s)
  // `stats maxconn`: concurrent CLI connections. haproxy's default is 10; sluice's is 500 so
  // that monitoring fleets and scripts never queue. Beyond it, listeners pause (as haproxy's
  // do) and new clients wait in the kernel backlog.
  size_t maxconn = 500;
  ConnectionLimits connection;
};

class CliServer {
 public:
  CliServer(ApplianceContext& appliance, const Registry& registry, ServerLimits limits = {});
  ~CliServer();
  CliServer(const CliServer&) = delete;
  CliServer& operator=(const CliServer&) = delete;

  // Opens every listener (unix sockets: stale file replaced, mode/uid/gid applied before the
  // socket becomes visible). On error, the ones already opened stay open; Close() them.
  base::Result<bool> Listen(const std::vector<ListenerConfig>& listeners);
  // Serves an already connected socket (a socketpair in tests) at `level`.
  base::Result<bool> Adopt(int fd, Level level);

  // The epoll descriptor: readable when RunOnce() has work.
  int fd() const { return epoll_fd_; }
  // Handles ready events (waiting at most timeout_ms for the first) and idle timeouts.
  void RunOnce(int timeout_ms);
  // Milliseconds until the next idle timeout is due (-1: none).
  int NextTimeoutMs() const;
  // True while a connection's command waits for the workers' replies: call RunOnce again
  // soon (it pumps those connections each time) rather than after NextTimeoutMs().
  bool waiting() const { return !waiting_.empty(); }
  // Closes connections and listeners and removes the unix socket files.
  void Close();

  size_t connections() const { return conns_.size(); }

 private:
  struct Listener {
    int fd = -1;
    Level level = Level::kOperator;
    std::string unix_path;  // removed by Close()
    bool paused = false;
  };
  struct Conn {
    int fd = -1;
    bool is_unix = false;
    uint32_t events = 0;  // epoll interest currently registered
    int64_t deadline_ms = 0;
    std::unique_ptr<Connection> proto;
  };

  base::Result<bool> OpenUnix(const ListenerConfig& cfg, Listener& l);
  base::Result<bool> OpenTcp(const ListenerConfig& cfg, Listener& l);
  int Backlog(const ListenerConfig& cfg) const {
    return cfg.backlog > 0 ? cfg.backlog : static_cast<int>(limits_.maxconn);
  }
  void Accept(Listener& l);
  void AddConn(int fd, Level level, bool is_unix);
  void Service(uint64_t id, uint32_t events);
  void Update(uint64_t id);  // pump, flush, re-arm or close
  void CloseConn(uint64_t id);
  void PauseListeners(bool pause);

  ApplianceContext& appliance_;
  const Registry& registry_;
  const ServerLimits limits_;
  int epoll_fd_ = -1;
  std::vector<Listener> listeners_;
  std::unordered_map<uint64_t, Conn> conns_;
  std::unordered_set<uint64_t> waiting_;  // connections whose dump waits for the workers
  uint64_t next_id_ = 1;
};

}  // namespace sluice::cli
