// The TCP-mode full proxy of one worker: it accepts client connections on the frontends'
// binds into sessions (the client side), runs each session's stream (the server side)
// through the request analyzers, picks a server (balance.h) where they finish, opens the
// server connection through conn::Conns (a local port this worker owns, DESIGN.md section 2)
// and forwards between the two with bounded buffers and back-pressure both ways; it enforces
// timeouts, retries and redispatches failed connects, and queues sessions when servers are at
// maxconn. Health checks are their own module (dataplane/check). Everything it reads of the
// configuration comes from the snapshot of the current loop iteration; everything it writes that
// others read is in its own ProxyStats block. No heap allocation, no locks, no system calls after
// Init.
#pragma once

#include <cstdint>

#include "dataplane/base/request.h"
#include "dataplane/conn/conn.h"
#include "dataplane/proxy/balance.h"
#include "dataplane/proxy/proxy_model.h"
#include "dataplane/tcp/tcp.h"

struct rte_mbuf;

namespace sluice::proxy {

// Listener tags at and above this value are proxy binds (bind index = tag - base); below it
// the tags are the test services'.
inline constexpr uint32_t kBindTagBase = 0x10000;

// Termination state of a session (HAProxy's two-letter code, log and `show sess`).
struct TermState {
  char cause = '-';  // C client abort, S server abort/error, c/s timeout, K killed, R resource
  char phase = '-';  // R request (accepted), Q queue, C connect, D data, L last data
};

// Payload waiting to go the other way: single-segment mbufs linked through `next`.
struct MbufFifo {
  rte_mbuf* head = nullptr;
  rte_mbuf* tail = nullptr;
  uint32_t bytes = 0;
  void Push(rte_mbuf* chain) noexcept;
  void Clear() noexcept {
    if (head) FreeAll();  // usually empty when a stream ends: no call
  }

 private:
  void FreeAll() noexcept;
};

// Sessions looked at per kShowSessions request, whatever the payload holds: bounds the
// work one request adds to a loop iteration.
inline constexpr uint32_t kShowSessionsScan = 8192;

class Proxy {
 public:
  Proxy() = default;
  Proxy(const Proxy&) = delete;
  Proxy& operator=(const Proxy&) = delete;
  ~Proxy();

  struct Setup {
    uint16_t worker = 0;
    uint16_t nworkers = 1;
    uint32_t max_conns = 4096;  // the TCP stack's table size
    ProxyStats* stats = nullptr;
    base::Timers* timers = nullptr;  // the worker's wheel (1 ms ticks of the TCP clock)
  };
  // Start-up only (allocates the session table).
  bool Init(const char* name, const Setup& setup, conn::Conns* conns, int socket_id);

  // Once per loop iteration, before any event: the configuration parts of this iteration.
  // A new generation of `cfg` restarts the balancer rotation and serves the queues; a new
  // generation of `listeners` reconciles the listeners. Nothing else is done for an
  // unchanged part.
  // `version` is the root's: an unchanged root is the whole check.
  void SetConfig(const ProxyConfigSnap* cfg, const ListenerSnap* listeners,
                 uint64_t version) noexcept;
  // A due node of the worker's wheel whose owner is base::kTimerSession.
  void OnTimer(base::TimerNode* n) noexcept;
  // Carries out a request of the control plane (base::Op::kShowSessions,
  // kShutdownSession, kShutdownServerSessions) and writes its reply fields.
  void Serve(base::Request& r) noexcept;

  // TCP events routed here by the worker: accepted connections whose tag is >= kBindTagBase,
  // and every event of a connection whose role (conn::Conns) is kClient or kServer.
  void OnAccepted(tcp::ConnId c, uint32_t tag) noexcept;
  void OnConnected(tcp::ConnId c) noexcept;
  void OnData(tcp::ConnId c, rte_mbuf* data, uint32_t len) noexcept;
  void OnWritable(tcp::ConnId c) noexcept;
  void OnPeerClosed(tcp::ConnId c) noexcept;
  void OnClosed(tcp::ConnId c, tcp::CloseReason why) noexcept;

  uint32_t sessions() const { return nsessions_; }

 private:
  // kRequest: the request analyzers run (no backend or server yet).
  enum class Phase : uint8_t { kFree, kRequest, kQueued, kConnecting, kEstablished };
  // Request analyzers (AESTHETICS practice 16; HAProxy's AN_REQ_* bits): Session::req_an
  // holds the ones still to run, in bit order, each done or waiting for more input. The
  // frontend's mode picks the set; server selection and connect come where they finish.
  // tcp-request content rules, the HTTP request parser and http-request rules join here.
  enum ReqAnalyzer : uint16_t {
    kAnReqSwitching = 1u << 0,  // the backend: default_backend (use_backend rules later)
  };
  static constexpr uint16_t kTcpModeAnalyzers = kAnReqSwitching;
  enum class AnResult : uint8_t { kDone, kWait, kClosed };
  // A stream: one request and its answer, from the request analyzers to the end of the
  // splice (HAProxy's stream). It owns the server side: the backend, the server, the server
  // connection, the queue link, the two buffers and the termination state. In TCP mode a
  // session runs exactly one stream and ends with it; HTTP keep-alive will start the next
  // one in place (FinishStream, then NewStream). phase kFree: no stream runs, and then the
  // session's slot is free.
  struct Stream {
    uint32_t backend = UINT32_MAX;
    uint32_t server = kNoServer;
    uint32_t queue_next = UINT32_MAX;  // the next session in the backend's queue
    tcp::ConnId srv = tcp::kNoConn;
    Phase phase = Phase::kFree;
    uint16_t req_an = 0;  // ReqAnalyzer bits still to run
    uint8_t retries_left = 0;
    bool redispatched = false;
    bool holds_slot = false;  // counted in the server's current connections
    bool srv_eof = false;     // FIN from the server
    bool srv_shut = false;    // FIN sent to the server
    TermState term;
    MbufFifo to_srv, to_cli;
    uint64_t queue_us = 0, connect_us = 0, established_us = 0;
    uint64_t last_srv_us = 0;
    uint64_t bytes_in = 0, bytes_out = 0;
    tcp::FlowKey srv_key;  // the last server connection's (local port 0: none)
  };
  // A session: one accepted client connection (HAProxy's session), its frontend, its timer,
  // and the stream it runs. The client endpoint belongs to the session, so it outlives any
  // one stream.
  struct Session {
    base::TimerNode timer{base::kTimerSession};
    uint64_t uid = 0;
    tcp::ConnId cli = tcp::kNoConn;
    uint32_t frontend = 0;
    bool doomed = false;    // marked by `shutdown sessions server`, killed in a second pass
    bool cli_eof = false;   // FIN from the client
    bool cli_shut = false;  // FIN sent to the client
    uint64_t accept_us = 0, last_cli_us = 0;
    tcp::FlowKey cli_key;  // kept for the log once the connection is gone
    Stream strm;
  };
  struct Queue {
    uint32_t head = UINT32_MAX, tail = UINT32_MAX, len = 0;
  };
  // Sessions (proxy.cc).
  uint32_t NewSession() noexcept;
  uint32_t PickServer(uint32_t si, uint32_t exclude, bool* full) noexcept;
  bool RateAllows(uint32_t per_second) noexcept;  // counts one accepted connection
  // Runs the pending request analyzers; when none is left, picks the server and connects.
  // AnalyzeRequest is inlined into the accept path (proxy.cc only), so the chain costs no
  // call per connection; RunRequestAnalyzers is the same, called where input arrives.
  [[gnu::always_inline]] inline void AnalyzeRequest(uint32_t si) noexcept;
  [[gnu::noinline]] void RunRequestAnalyzers(uint32_t si) noexcept;
  [[gnu::always_inline]] inline AnResult SwitchingRules(uint32_t si) noexcept;
  void Dispatch(uint32_t si) noexcept;
  bool ConnectTo(uint32_t si, uint32_t server) noexcept;
  // Takes an idle connection to `server` from the worker's pool (conn::Conns) for the
  // stream; false when none fits.
  [[gnu::noinline]] bool TakeIdle(uint32_t si, uint32_t server) noexcept;
  [[gnu::always_inline]] inline void CountServerPick(Session& s) noexcept;
  // The server connection is up (connected, or taken from the pool): forwarding starts.
  [[gnu::always_inline]] inline void Established(uint32_t si) noexcept;
  void ConnectFailed(uint32_t si, bool timeout) noexcept;
  void Enqueue(uint32_t si) noexcept;
  void Unqueue(uint32_t si) noexcept;
  void ServeQueue(uint32_t backend) noexcept;
  void ReleaseServer(uint32_t si) noexcept;
  // The TCP-mode stream analyzer once the request analyzers are done: forwards what waits in
  // one direction, byte for byte, and passes a half-close on (HAProxy's tcp mode forwards
  // forever). HTTP mode puts its message analyzers in front of it.
  void Forward(uint32_t si, bool to_server) noexcept;
  void CloseClient(uint32_t si, char cause, char phase) noexcept;
  void KillSession(uint32_t si, char cause) noexcept;
  void MaybeFinish(uint32_t si) noexcept;
  // The stream's end: counters of its backend and server, its buffers (proxy.cc only).
  [[gnu::always_inline]] inline void FinishStream(Session& s) noexcept;
  // When the session's current phase times out (UINT64_MAX: never) and whose timeout it is.
  uint64_t DeadlineUs(const Session& s, char* cause) const noexcept;
  void ArmSessionTimer(uint32_t si) noexcept;
  void OnSessionTimer(uint32_t si) noexcept;
  void ReconcileListeners() noexcept;
  void ShowSessions(base::Request& r) noexcept;
  // The slot of the live session with id `uid`, or UINT32_MAX.
  uint32_t SlotOf(uint64_t uid) const noexcept;
  void Describe(uint32_t si, uint64_t now, SessionInfo* e) const noexcept;
  void Log(const Session& s, bool connect_only) noexcept;

  Setup s_;
  conn::Conns* conns_ = nullptr;
  tcp::TcpStack* tcp_ = nullptr;  // conns_->tcp(): the clock, keep-alives, flow keys
  const ProxyConfigSnap* cfg_ = nullptr;
  const ListenerSnap* listeners_ = nullptr;  // null exactly when cfg_ is
  uint64_t version_ = 0;
  uint64_t cfg_generation_ = 0;
  uint64_t listeners_generation_ = 0;
  Session* sessions_ = nullptr;
  uint32_t max_sessions_ = 0;
  uint32_t nsessions_ = 0;
  uint32_t* free_ = nullptr;  // stack of free session indices
  uint32_t nfree_ = 0;
  Queue queues_[kMaxBackends];
  Balancer balancer_;
  base::Timers* wheel_ = nullptr;  // the worker's
  bool listening_[tcp::kMaxListeners] = {};
  tcp::FlowKey listened_[tcp::kMaxListeners] = {};
  uint32_t nlistened_ = 0;
  uint64_t next_seq_ = 1;  // session ids: see NewSession
  uint64_t rate_window_ms_ = 0;
  uint32_t rate_count_ = 0;
};

}  // namespace sluice::proxy
