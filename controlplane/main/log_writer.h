// Slow path. Session logs: the control loop drains every worker's log ring
// (dataplane/proxy/proxy_model.h, LogRing), renders each record with its frontend's
// log-format (controlplane/log) and sends it to the frontend's log targets. Workers never
// wait for this: a full ring drops records and counts them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "controlplane/log/log.h"
#include "controlplane/proxy/runtime.h"
#include "dataplane/base/result.h"
#include "dataplane/proxy/proxy_model.h"

namespace sluice::app {

class LogWriter {
 public:
  // Compiles every frontend's format and opens its targets.
  base::Result<bool> Init(const cp::ProxyRuntime& rt);
  // Sends every record the workers have written; `worker_to_unix_us` is added to a worker
  // clock value to get Unix time.
  void Drain(const cp::ProxyRuntime& rt, const std::vector<proxy::ProxyStats*>& stats,
             int64_t worker_to_unix_us);
  // A message about backend `b` (server state changes) to the backend's log targets.
  void SendBackend(size_t b, uint8_t level, const std::string& msg, int64_t unix_us);
  uint64_t sent() const { return sinks_.sent(); }
  uint64_t dropped() const { return sinks_.dropped(); }

 private:
  base::Result<int> AddTarget(const std::string& who, const std::string& line);
  struct FrontendLog {
    std::optional<log::LogFormat> format;  // none: the "Connect from" line
    std::vector<int> sinks;
  };
  std::vector<FrontendLog> frontends_;
  std::vector<std::vector<int>> backends_;  // sink ids per backend
  log::LogSinks sinks_;
};

// The LogEvent of a record (names from the live state, addresses as text).
log::LogEvent ToEvent(const cp::ProxyRuntime& rt, const proxy::LogRecord& r,
                      int64_t worker_to_unix_us);

}  // namespace sluice::app
