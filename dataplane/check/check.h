// Health checks of the servers assigned to this worker (ServerSnap::check_worker): a TCP
// connect (L4) or, with `option httpchk`, an HTTP request whose answer is checked (L7: the
// backend's `http-check expect` rules, expect.h, run on the answer as it comes in; its mbufs
// are kept up to `tune.bufsize` bytes and copied into the worker's one scratch buffer to be
// read), every `inter` (`fastinter` while the state is changing, `downinter` when down). Rise/fall
// counting follows HAProxy: health runs from 0 to rise + fall - 1; a server is UP from
// `rise` and goes DOWN when a failure finds health at `rise` or below. Results go to this
// worker's ServerStats; the control plane turns check_up into the servers' state
// (decisions/0005). Connections through conn::Conns (role kCheck), timers on the worker's
// wheel (owner base::kTimerCheck). No heap allocation, no locks, no system calls after Init.
#pragma once

#include <cstdint>

#include "dataplane/base/timer_wheel.h"
#include "dataplane/health/check_status.h"
#include "dataplane/health/expect.h"
#include "dataplane/conn/conn.h"
#include "dataplane/proxy/proxy_model.h"

struct rte_mbuf;
struct rte_mempool;

namespace sluice::check {

class HealthChecks {
 public:
  struct Setup {
    uint16_t worker = 0;
    proxy::ProxyStats* stats = nullptr;  // this worker's block: results go there
    rte_mempool* pool = nullptr;         // for the HTTP requests
    base::Timers* timers = nullptr;      // the worker's wheel
  };

  HealthChecks() = default;
  HealthChecks(const HealthChecks&) = delete;
  HealthChecks& operator=(const HealthChecks&) = delete;
  ~HealthChecks();

  // Start-up only (allocates the check table).
  bool Init(const char* name, const Setup& setup, conn::Conns* conns, int socket_id);

  // Once per loop iteration: the proxy part of this iteration's snapshot. A new generation
  // reschedules: checks start, stop or restart (a new check_epoch) as it says.
  void SetConfig(const proxy::ProxyConfigSnap* cfg) noexcept;

  // Events of connections whose role is conn::kCheck (index = server).
  void OnConnected(conn::ConnId c) noexcept;
  void OnData(conn::ConnId c, rte_mbuf* data, uint32_t len) noexcept;
  // The server's FIN: the answer is all in (one read to the close is judged then).
  void OnPeerClosed(conn::ConnId c) noexcept;
  void OnClosed(conn::ConnId c, tcp::CloseReason why) noexcept;
  // A due node of the worker's wheel whose owner is base::kTimerCheck.
  void OnTimer(base::TimerNode* n) noexcept;

 private:
  struct Check {
    base::TimerNode timer{base::kTimerCheck};
    conn::ConnId conn = conn::kNoConn;
    uint64_t start_us = 0;
    uint32_t epoch = UINT32_MAX;
    bool scheduled = false;
    bool sent = false;
    bool connected = false;
    uint8_t health = 0;
    bool up = true;
    // The answer so far: its mbufs, chained, up to the check's buffer size.
    rte_mbuf* held = nullptr;
    uint32_t held_len = 0;
  };

  void Schedule() noexcept;
  void Start(uint32_t server) noexcept;
  void Connected(uint32_t server) noexcept;
  void Data(uint32_t server, rte_mbuf* data, uint32_t len) noexcept;
  void OnCheckTimer(uint32_t server) noexcept;
  void Finish(uint32_t server, CheckStatus status, uint32_t code,
              CheckDetail detail = CheckDetail::kNone) noexcept;
  // Runs the expect rules on the answer so far; `closed`: the server closed.
  void Judge(uint32_t server, bool closed) noexcept;
  static void Release(Check& k) noexcept;
  uint64_t now_us() const noexcept { return conns_->tcp().now_us(); }

  Setup s_;
  conn::Conns* conns_ = nullptr;
  const proxy::ProxyConfigSnap* cfg_ = nullptr;
  uint64_t generation_ = 0;
  Check* checks_ = nullptr;  // proxy::kMaxServers, by server index
  // Where an answer is read (copied from its mbufs, at most kAnswerCap bytes), its head's
  // index and the regexes' match data: one each per worker, made at Init.
  static constexpr uint32_t kAnswerCap = 65536;  // tune.bufsize's largest
  // An answer in more segments than this is judged as it stands (a server sending a byte at
  // a time holds no more mbufs, and each check is read at most this many times).
  static constexpr uint16_t kMaxSegs = 64;
  uint8_t* answer_ = nullptr;
  http::MessageHead* head_ = nullptr;
  pcre2_real_match_data_8* md_ = nullptr;
};

}  // namespace sluice::check
