// Server selection of one worker for a backend (HAProxy's `balance`): smooth weighted round
// robin (roundrobin; static-rr with the initial weights), leastconn (current connections over
// weight, ties in turn), first (lowest id with a free slot) and source (client address hash
// over the weights). Backup servers are used only when no active server is usable. Each
// worker balances its own connections: the ratios hold per worker and so in total.
#pragma once

#include <cstdint>

#include "dataplane/proxy/proxy_model.h"

namespace sluice::proxy {

class Balancer {
 public:
  // A server of backend `b` for a new connection, or kNoServer. `*full` says usable servers
  // exist but every one is at its maxconn (queue the session). `exclude` is skipped when
  // another server can take the connection (redispatch).
  // `request_hash` is what the HTTP algorithms hash (uri, url_param, hdr, random); -1 when
  // the request has none (url_param or hdr absent): then they balance round robin, as
  // HAProxy does.
  uint32_t Pick(const ProxyConfigSnap& cfg, const ProxyStats& own, uint32_t b,
                const uint8_t* client_addr, bool is_v6, uint32_t exclude, bool* full,
                int64_t request_hash = -1) noexcept;
  // A configuration change: restart the rotation.
  void Reset() noexcept;

 private:
  uint32_t PickPass(const ProxyConfigSnap& cfg, const ProxyStats& own, const BackendSnap& be,
                    bool backup, const uint8_t* client_addr, bool is_v6, uint32_t exclude,
                    bool* full, int64_t request_hash) noexcept;

  int64_t current_[kMaxServers] = {};
  uint32_t cursor_[kMaxBackends] = {};
};

}  // namespace sluice::proxy
