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
#include "dataplane/http/h1.h"
#include "dataplane/http/h1_output.h"
#include "dataplane/http/ws_accept.h"
#include "dataplane/proxy/balance.h"
#include "dataplane/proxy/proxy_model.h"
#include "dataplane/proxy/service_call.h"
#include "dataplane/rules/expr.h"
#include "dataplane/stick/stick.h"
#include "dataplane/tcp/tcp.h"

struct rte_mbuf;
struct rte_mempool;
struct rte_ring;

namespace sluice::net {
class FlowSteering;
}

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
  // Bytes at the front that this side wrote (an HTTP head it rewrote), not received from the
  // source: sending them consumes nothing of the source's receive window.
  uint32_t synth = 0;
  void Push(rte_mbuf* chain) noexcept;
  // A chain this side wrote (`len` bytes), after what waits: only written bytes may wait.
  void PushSynth(rte_mbuf* chain, uint32_t len) noexcept;
  rte_mbuf* Pop() noexcept;  // the first segment, unlinked
  void Clear() noexcept {
    if (head) FreeAll();  // usually empty when a stream ends: no call
  }

 private:
  void FreeAll() noexcept;
};

// Sessions looked at per kShowSessions request, whatever the payload holds: bounds the
// work one request adds to a loop iteration.
inline constexpr uint32_t kShowSessionsScan = 8192;

// The largest rewritten HTTP head: the largest head plus the most `tune.maxrewrite` takes
// (half of the largest `tune.bufsize`); the configured bound is HeadOutBytes().
inline constexpr uint32_t kHeadOutBytesCap = http::kMaxHeadBytesCap + 32768;

// Entries a stream's sticking rules may store (HAProxy's `store[8]`): one store-request and
// one store-response per table at most.
inline constexpr uint32_t kMaxStickStores = 8;
inline constexpr uint32_t kMaxStickPins = 4;  // keys another worker owns, asked per request
inline constexpr uint8_t kNoCall = 0xff;       // a stream no service answers

class Proxy {
 public:
  Proxy() = default;
  Proxy(const Proxy&) = delete;
  Proxy& operator=(const Proxy&) = delete;
  ~Proxy();

  struct Setup {
    rte_mempool* pool = nullptr;  // mbufs for the heads and replies HTTP mode writes
    uint16_t worker = 0;
    uint16_t nworkers = 1;
    uint32_t max_conns = 4096;  // the TCP stack's table size
    ProxyStats* stats = nullptr;
    base::Timers* timers = nullptr;           // the worker's wheel (1 ms ticks of the TCP clock)
    rules::PatternTable* patterns = nullptr;  // the worker's pattern indexes (ACLs, maps)
    const stick::StickSnap* stick = nullptr;  // the tables this worker holds a shard of
    // Every worker's stick ring (stick::Msg, indexed by worker; null with one worker) and the
    // flow steering that says which worker owns an address key (stick/owner.h).
    rte_ring* const* stick_rings = nullptr;
    const net::FlowSteering* steering = nullptr;
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
  // The rules part of the same root (null: no rules).
  void SetRules(const rules::RulesSnap* r) noexcept { rules_ = r; }
  // A due node of the worker's wheel whose owner is base::kTimerSession.
  void OnTimer(base::TimerNode* n) noexcept;
  // A due node whose owner is base::kTimerStick: a stick-table entry's expiry.
  void OnStickTimer(base::TimerNode* n) noexcept;
  // Stick-table messages from the other workers (stick::Msg): changes to apply to the
  // entries this worker owns, lookups to answer, answers to streams waiting here. Bounded
  // per call; returns how many were handled.
  unsigned PollStick() noexcept;
  // Sends the changes gathered for another worker's entry (once per loop iteration).
  void FlushStick() noexcept;
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
  // kClosing: HTTP mode, the stream is over and the client connection is closing (after a
  // reply, or after the last response of a session that does not keep alive).
  // kService: HTTP mode, the control plane answers the request (proxy_service.cc).
  enum class Phase : uint8_t {
    kFree,
    kRequest,
    kQueued,
    kConnecting,
    kEstablished,
    kClosing,
    kService
  };
  // Request analyzers (AESTHETICS practice 16; HAProxy's AN_REQ_* bits): Session::req_an
  // holds the ones still to run, in bit order, each done or waiting for more input. The
  // frontend's mode picks the set; server selection and connect come where they finish.
  // tcp-request content rules, the HTTP request parser and http-request rules join here.
  enum ReqAnalyzer : uint16_t {
    kAnReqWaitHttp = 1u << 0,   // HTTP: the whole request head, parsed and checked
    kAnReqSwitching = 1u << 1,  // the backend: default_backend (use_backend rules later)
    kAnReqHttpXfer = 1u << 2,   // HTTP: the head rewritten for the server, the body framed
    kAnReqHttpBody = 1u << 3,   // HTTP, option http-buffer-request: the body before the rules
  };
  static constexpr uint16_t kTcpModeAnalyzers = kAnReqSwitching;
  static constexpr uint16_t kHttpModeAnalyzers =
      kAnReqWaitHttp | kAnReqHttpBody | kAnReqSwitching | kAnReqHttpXfer;
  // One direction of an HTTP transaction: where its message is (proxy_http.cc).
  enum class MsgState : uint8_t { kHead, kBody, kDone, kTunnel };
  struct HttpMsg {
    http::HeadScanner head;
    http::ChunkedScanner chunks;
    uint64_t left = 0;  // Body::kLength: bytes still to pass
    MsgState state = MsgState::kHead;
    http::Body body = http::Body::kNone;
    uint64_t moved = 0;  // body bytes passed on
  };
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
    // HTTP mode (proxy_http.cc).
    bool http = false;
    bool cli_keep_alive = false;  // the client connection may carry another request after
    bool srv_reusable = false;    // the server connection may carry another request after
    bool res_head_sent = false;   // a response head went to the client: no error reply now
    bool tunnel = false;          // upgraded (101) or CONNECT: bytes pass both ways
    bool ws_check = false;        // a WebSocket handshake: its 101 must carry ws_accept
    bool expect_continue = false;  // the request said `Expect: 100-continue`
    bool continue_sent = false;    // ... and we answered it (http-buffer-request)
    // option http-buffer-request: what the buffer leaves for the body (set with the head),
    // and a chunked body's end looked for as it comes, without copying it.
    uint32_t body_room = 0;
    uint32_t body_scanned = 0;
    http::ChunkedScanner body_scan;
    char ws_accept[http::kWsAcceptLen] = {};
    http::Method meth = http::Method::kOther;
    uint8_t req_minor = 1;
    uint16_t status = 0;
    uint8_t log_level = kLogLevelDefault;  // set-log-level
    HttpMsg req, res;
    MbufFifo res_in;  // the server's bytes not analyzed yet
    uint64_t req_start_us = 0;
    int64_t lb_hash = -1;  // what balance uri/url_param/hdr/random hash (-1: nothing)
    // A server connection from the pool may have been closed by the server as the request
    // went out: a request without a body keeps a copy of its head until the answer starts,
    // and is sent again on a new connection if nothing came back (HAProxy does the same).
    // The log line's times and request (proxy_report.cc).
    uint64_t first_byte_us = 0, head_us = 0, res_head_us = 0;
    uint64_t log_bytes = 0;        // %B as HAProxy counts it: the head's stored size
    bool body_counted = false;     // log_bytes holds the answer's body too (EndTransaction)
    rte_mbuf* req_line = nullptr;  // the request line as written, up to kLogRequestBytes
    bool reused = false;           // the server connection came from the pool
    bool no_reuse = false;         // this stream's next connection is a new one
    bool own_sni = false;          // its server connection sent this stream's `sni EXPR`
                                   // value: never parked for another stream
    rte_mbuf* retry_head = nullptr;
    uint32_t retry_len = 0;
    uint32_t head_out_len = 0;  // the request head as written, first in to_srv until sent
    // The frontend's captures (rules/capture.h): an mbuf taken when the first value is
    // captured, nullptr until then.
    rte_mbuf* caps = nullptr;
    // A service answers it (proxy_service.cc): its call's slot (kNoCall: none) and kind + 1
    // for the log (kept once the call is over).
    uint8_t call = kNoCall;
    uint8_t service = 0;
    // Sticking rules (proxy_stick.cc): the server a `stick match` found (kNoServer: none),
    // whether the stream's server came from it (no load-balancing pick), and the entries
    // store rules keep for the server once it answers (each held: use counts it).
    uint32_t stick_srv = kNoServer;
    bool stuck = false;
    bool force_persist = false;  // a force-persist rule matched: a stuck server even if down
    bool srv_queued = false;     // queued on its stuck server (full), not on the backend
    uint8_t nstores = 0;
    struct StickStore {
      stick::Entry* e;
      uint16_t table;
      bool request;  // a store-request's (else a store-response's)
    } stores[kMaxStickStores];
    // Keys another worker owns (proxy_stick.cc StickAsk): the lookups asked and not answered
    // yet, and the local copies the answers made, held until the request's rules ran.
    bool stick_asked = false;
    uint8_t stick_wait = 0;
    uint8_t npins = 0;
    stick::Entry* pins[kMaxStickPins];
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
    uint16_t ssl_version = 0;         // TLS, for the log: 0 when the client is not TLS
    const char* ssl_cipher = nullptr;  // OpenSSL's static name
    // HTTP mode: the client's bytes not analyzed yet (a head in progress, a pipelined next
    // request). The session's, so it outlives a stream.
    MbufFifo req_in;
    uint32_t nstreams = 0;  // streams started on this session
    Stream strm;
    // Stick counters (track-sc0..2): the tracked entry and its table; `session`: tracked by
    // tcp-request connection (kept for the whole connection), else by a request's rules
    // (released when its stream ends).
    struct StkCtr {
      stick::Entry* e = nullptr;
      uint16_t table = 0;
      bool session = false;
    } sc[3];
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
  bool ReuseAllowed(const Session& s) const noexcept;
  [[gnu::always_inline]] inline void CountServerPick(Session& s) noexcept;
  // The server connection is up (connected, or taken from the pool): forwarding starts.
  [[gnu::always_inline]] inline void Established(uint32_t si) noexcept;
  void ConnectFailed(uint32_t si, bool timeout) noexcept;
  void Enqueue(uint32_t si) noexcept;
  void Unqueue(uint32_t si) noexcept;
  void ServeQueue(uint32_t backend) noexcept;
  // The streams queued on `server` (stuck to it), while it has free slots; one that may not
  // use it any more (down, in maintenance) goes to the balancer.
  void ServeServerQueue(uint32_t server) noexcept;
  void ReleaseServer(uint32_t si) noexcept;
  // The TCP-mode stream analyzer once the request analyzers are done: forwards what waits in
  // one direction, byte for byte, and passes a half-close on (HAProxy's tcp mode forwards
  // forever). HTTP mode puts its message analyzers in front of it.
  void Forward(uint32_t si, bool to_server) noexcept;
  void CloseClient(uint32_t si, char cause, char phase) noexcept;
  void KillSession(uint32_t si, char cause) noexcept;
  void MaybeFinish(uint32_t si) noexcept;
  // The stream's end: counters of its backend and server, its buffers.
  void FinishStream(Session& s) noexcept;
  // When the session's current phase times out (UINT64_MAX: never) and whose timeout it is.
  uint64_t DeadlineUs(const Session& s, char* cause) const noexcept;
  void ArmSessionTimer(uint32_t si) noexcept;
  void OnSessionTimer(uint32_t si) noexcept;
  void ReconcileListeners() noexcept;
  // HTTP mode (proxy_http.cc).
  AnResult WaitHttpRequest(uint32_t si) noexcept;
  // option http-buffer-request: waits until the body is all in or fills the buffer (as
  // HAProxy, `tune.bufsize` less `tune.maxrewrite` with the head), answering an
  // `Expect: 100-continue` itself, then reads it into body_ for the rules (req.body).
  AnResult WaitHttpBody(uint32_t si) noexcept;
  void LoadRequestBody(const Session& s) noexcept;
  // body_ holds this stream's body (the same session's previous request's is not).
  bool BodyLoaded(const Session& s) const noexcept {
    return body_uid_ == s.uid && body_stream_ == s.nstreams && s.strm.req.body != http::Body::kNone;
  }
  AnResult HttpRequestXfer(uint32_t si) noexcept;
  // Copies the request head (the first `len` bytes of req_in) into the scratch buffer and
  // parses it into head_; false on a parse error.
  bool LoadRequestHead(Session& s, uint32_t len) noexcept;
  // The configured bounds of HTTP heads (tune.bufsize, tune.maxrewrite, tune.http.maxhdr).
  http::ParseOptions HeadOptions(bool request) const noexcept {
    http::ParseOptions o;
    o.request = request;
    o.max_bytes = cfg_->http_head_bytes;
    o.max_htx = cfg_->http_htx_head;
    o.max_fields = cfg_->http_max_fields;
    return o;
  }
  uint32_t HeadOutBytes() const noexcept { return cfg_->http_head_bytes + cfg_->http_rewrite; }
  // The head as written for the server (HttpRequestXfer), still first in to_srv before the
  // connection is made, into scratch_/head_ for a fetch at connect time (`sni EXPR`); the
  // caller clears scratch_uid_ after. False when there is none or it does not parse.
  bool LoadHeadForServer(Session& s) noexcept;
  void HttpClientData(uint32_t si) noexcept;
  void HttpServerData(uint32_t si) noexcept;
  // Moves what belongs to the current message from `in` to `out`; false on a framing error.
  bool MoveBody(HttpMsg& m, MbufFifo& in, MbufFifo& out) noexcept;
  // Writes head_ (parsed from scratch_) for the other side into mbufs; null when the pool
  // is empty or the rewrite does not fit.
  rte_mbuf* WriteRequestHead(const Session& s, uint32_t* len) noexcept;
  rte_mbuf* WriteResponseHead(const Session& s, uint32_t* len) noexcept;
  rte_mbuf* CopyToMbufs(const uint8_t* p, uint32_t n) noexcept;
  // Drops the first `n` bytes of `f` (a head that was rewritten).
  void DropFront(MbufFifo& f, uint32_t n) noexcept;
  // The response is complete and passed on: the transaction ends, the server connection
  // goes back to the pool or closes, the session waits for its next request or closes.
  void EndTransaction(uint32_t si) noexcept;
  // An error answer (HAProxy's page for `code`) to the client, then the close.
  void HttpReply(uint32_t si, uint16_t code, char cause, char phase) noexcept;
  // The same with the answer's bytes given (a rule's return or redirect).
  void HttpReplyText(uint32_t si, uint16_t code, std::string_view head, std::string_view body,
                     char cause, char phase) noexcept;
  void SendToClient(const Session& s, std::string_view bytes) noexcept;
  // The fields of a head as passed on, either way: equal Host and Content-Length fields once,
  // the Connection field without close and keep-alive, Content-Length as HAProxy writes it
  // (left out when `drop_cl`), without those `edits` removes, without `Expect:
  // 100-continue` when `drop_expect` (answered here). True when a field named `watch` was
  // there.
  static bool CopyFields(http::HeadWriter& w, const uint8_t* head, const http::MessageHead& h,
                         bool drop_cl, std::string_view watch, const Proxy* edits = nullptr,
                         bool drop_expect = false) noexcept;
  // The session's next stream starts in place (keep-alive), with a pipelined request if one
  // waits.
  void NextStream(uint32_t si) noexcept;
  // The client connection closes once what waits for it is sent: phase kClosing.
  void CloseAfterSend(uint32_t si) noexcept;
  void CountStatus(const Session& s) noexcept;
  // The answer for `code`: the proxies' errorfile, else HAProxy's page.
  std::string_view ReplyFor(const Session& s, uint16_t code) const noexcept;
  // Keeps the bytes of an invalid message for `show errors` (proxy_report.cc).
  void CaptureError(const Session& s, bool request, const uint8_t* data, uint32_t len,
                    uint32_t error_at, uint8_t error) noexcept;
  // Sends the request again on a new connection after a reused one closed with no answer;
  // false when that is not safe (nothing kept, something received).
  bool RetryOnNewConnection(uint32_t si) noexcept;
  // A stream about to send its bodiless request on a pooled connection keeps a copy of the
  // request head for RetryOnNewConnection.
  void KeepRetryCopy(Session& s) noexcept;
  // Services (proxy_service.cc): the statistics page after a proxy's http-request rules
  // (true when the request was its: answered or handed over), a request handed to the
  // control plane, its client's bytes while it waits (an admin form's body), the answer's
  // end, the call's slot let go, and the two requests of the control plane.
  bool InitServices(const char* name, int socket_id) noexcept;
  bool StatsRequest(uint32_t si, const rules::StatsService& st, bool frontend,
                    uint32_t proxy) noexcept;
  void StartService(uint32_t si, ServiceKind kind, bool frontend, uint32_t proxy,
                    bool admin) noexcept;
  void ServiceClientData(uint32_t si) noexcept;
  void PostCall(uint32_t slot) noexcept;
  void EndService(uint32_t si) noexcept;
  void FreeCall(Stream& t) noexcept;
  void ServeServiceTake(base::Request& r) noexcept;
  void ServeServiceData(base::Request& r) noexcept;
  void ShowSessions(base::Request& r) noexcept;
  // The slot of the live session with id `uid`, or UINT32_MAX.
  uint32_t SlotOf(uint64_t uid) const noexcept;
  void Describe(uint32_t si, uint64_t now, SessionInfo* e) const noexcept;
  void Log(const Session& s, bool connect_only) noexcept;
  // Rules (proxy_rules.cc, docs/rules.md).
  class Env;
  // The evaluation context of a session (its stream's parsed head when `http`).
  void MakeCtx(const Session& s, bool http, rules::Ctx* c) noexcept;
  // The value of `server`'s `sni EXPR` for session si's stream (empty: none, or no value).
  std::string_view ServerSni(uint32_t si, uint32_t server) noexcept;
  // tcp-request connection rules of frontend `fe` for a connection from `key`: false when it
  // is rejected.
  bool TcpConnectionRules(uint32_t fe, tcp::ConnId c) noexcept;
  // A tcp-request session or content list on session `s` (its request head when `http`):
  // false when a rule rejected it.
  bool RunTcpRules(Session& s, const rules::Rule* list, size_t n, bool http) noexcept;
  // tcp-request session rules of the new session `si`: false when it is rejected.
  bool TcpSessionRules(uint32_t si) noexcept;
  // The HTTP request's rules: tcp-request content, the frontend's http-request, use_backend,
  // the backend's http-request. Sets strm.backend; kClosed when a rule answered.
  AnResult RequestRules(uint32_t si) noexcept;
  AnResult RunRequestRules(uint32_t si) noexcept;
  // Whether `cond` holds for session si's request (stats admin).
  bool RequestCond(uint32_t si, const rules::Cond& cond) noexcept;
  // The backend use_backend picks, or the default (UINT32_MAX: none).
  uint32_t ChooseBackend(uint32_t si, bool http) noexcept;
  // Runs one http-request rule list; false when a rule answered (the stream is over).
  bool RunHttpRules(uint32_t si, const rules::Rule* list, size_t n) noexcept;
  // The response's http-response rules (the backend's, then the frontend's), on the parsed
  // response head in scratch_; false when one refused it (a 502 went out instead).
  bool ResponseRules(uint32_t si) noexcept;
  // An answer a rule built (return, redirect, deny), then as HttpReply.
  // `cause`: the log's termination cause ('P' for a deny, 'L' for an answer of the proxy's
  // own: auth).
  void RuleReply(uint32_t si, uint16_t code, std::string_view head, std::string_view body,
                 bool error_page, char cause = 'P') noexcept;
  // The header and start-line edits of http-request rules, applied as the head is written.
  struct HeadEdits {
    static constexpr uint32_t kMax = 32, kBytes = 8192;
    uint64_t uid = 0;  // the session they belong to (0: none)
    uint32_t n = 0;
    struct Edit {
      uint8_t op;  // 0: del-header, 1: add-header, 2: set-header
      uint16_t name_off, name_len, value_off, value_len;
    } e[kMax];
    // The request line's method and target when a rule changed them (len 0: unchanged).
    uint16_t method_off = 0, method_len = 0, target_off = 0, target_len = 0;
    bool response = false;  // the edits are a response's (http-response rules)
    uint16_t status = 0;    // http-response set-status (0: unchanged) and its reason
    uint16_t reason_off = 0, reason_len = 0;
    uint32_t used = 0;
    char buf[kBytes];
    std::string_view Str(uint16_t off, uint16_t len) const noexcept { return {buf + off, len}; }
  };
  // Whether field `name` of the original head is removed by the edits.
  bool EditDrops(std::string_view name) const noexcept;
  void WriteEdits(http::HeadWriter& w) const noexcept;
  void LogSamples(const Session& s, LogRecord* r) noexcept;
  // The stream's capture block, taken (all slots empty) when it has none; nullptr when the
  // mbuf pool is empty.
  uint8_t* CaptureBlock(Stream& t) noexcept;
  // `capture request|response header`: the fields of the head just parsed (scratch_, head_)
  // into the frontend's slots.
  void CaptureHeaders(Session& s, bool response) noexcept;
  // `capture cookie`: the first matching cookie of the head just parsed (Cookie fields of a
  // request, Set-Cookie of a response).
  void CaptureCookie(Session& s, bool response) noexcept;
  // The stream's captures into the log record.
  void LogCaptures(const Session& s, LogRecord* r) const noexcept;
  // Stick tables (proxy_stick.cc, docs/stick-tables.md).
  class StickView;
  bool InitStick(const char* name, int socket_id) noexcept;
  void FreeStick() noexcept;
  // The sc_* / src_* fetches for session `s` (null: a connection whose session does not
  // exist yet, tracking into pending_sc_).
  rules::StickAccess* StickFor(Session* s) noexcept;
  // track-sc<N> into `sc` (a session's, or the connection's before its session exists).
  void TrackSc(Session::StkCtr* sc, const rules::Rule& r, rules::Ctx& c,
               bool http_request) noexcept;
  // A general-purpose counter counted up with its rate (sc-inc-gpc*, sc_inc_gpc*).
  void IncGpc(stick::Shard& sh, stick::Entry* e, stick::Data d, uint32_t elem,
              uint64_t now_ms) noexcept;
  // sc-inc-gpc0|1, sc-inc-gpc, sc-set-gpt0 and sc-set-gpt on `sc`.
  void StickAction(Session::StkCtr* sc, const rules::Rule& r, rules::Ctx& c) noexcept;
  // A new HTTP request: the session-level counters count it.
  void StickCountRequest(Session& s) noexcept;
  // A response status: 4xx counts as an HTTP error on every tracked entry.
  void StickCountStatus(Session& s, uint16_t status) noexcept;
  // The stream ends (its bytes counted, its stream-level counters released); with
  // `session`, the session's too (conn_cur).
  void StickRelease(Session& s, bool session) noexcept;
  // One counter let go: conn_cur and its tracker count down, the entry is touched.
  void ReleaseCounter(Session::StkCtr& k, uint64_t now_ms) noexcept;
  // What tcp-request connection tracked for a connection that gets no session.
  void ReleasePending() noexcept;
  // A datum changed (added to, set): on the entry, and sent to its owner when it is a copy.
  void AddDatum(const stick::Shard& sh, stick::Entry* e, stick::Data d, uint64_t n,
                uint64_t now_ms, uint32_t elem = 0) noexcept;
  void SetDatum(const stick::Shard& sh, stick::Entry* e, stick::Data d, int64_t v,
                uint64_t now_ms, uint32_t elem = 0) noexcept;
  // A change of a copy of another worker's entry, gathered for its owner.
  void Forward(const stick::Shard& sh, stick::Entry* e, stick::OpHow how, stick::Data d,
               int64_t v, uint32_t elem = 0) noexcept;
  uint16_t StickOwner(const stick::Shard& sh, const uint8_t* key) const noexcept;
  bool StickSend(uint16_t worker, const stick::Msg& m) noexcept;  // false: ring full (counted)
  // Before the request's rules: asks the owners of the keys its track-sc rules (and the
  // default backend's stick match/on rules) name that live on another worker; true while
  // answers are awaited (the stream waits).
  bool StickAsk(uint32_t si) noexcept;
  // An answer to StickAsk: the entry's copy made or refreshed, held for the stream.
  void StickAnswer(const stick::Msg& m) noexcept;
  // Another worker's lookup, or changes, of an entry this worker owns.
  void StickServeLookup(const stick::Msg& m) noexcept;
  void StickApply(const stick::Msg& m) noexcept;
  // A stream or a counter lets a copy go: removed once nothing holds it.
  void Unhold(stick::Shard& sh, stick::Entry* e) noexcept;
  void ReleasePins(Stream& t) noexcept;
  // show table / set table / clear table (base::Op::kStick*).
  void ServeStick(base::Request& r) noexcept;
  // Sticking rules (HAProxy's process_sticking_rules and process_store_rules): the
  // backend's match / on / store-request rules once it is chosen, its store-response rules
  // on the response; then the stores take the stream's server (StickCommit).
  void StickingRules(uint32_t si, bool response) noexcept;
  // One rule whose condition passed, with its key's sample.
  void StickRuleKey(Stream& t, const rules::StickRule& r, const rules::Sample& key,
                    rules::Ctx& c) noexcept;
  // The server of `backend` an entry names (its server_key, else its server_id), or kNoServer.
  uint32_t StoredServer(const stick::Shard& sh, stick::Entry* e, uint32_t backend) const noexcept;
  // The server a stick match found, when it may take the stream now (up or draining, or
  // `option persist`, or force-persist; a free slot, and no stream queued on it before);
  // kNoServer otherwise, with `full` set when only a slot is missing.
  uint32_t StuckServer(const Stream& t, bool* full) const noexcept;
  // The response starts (TCP: the server connection is up; HTTP: a final head): the
  // backend's store-response rules, then the commit of every store.
  void StickOnResponse(uint32_t si) noexcept;
  // The server answered: each store keeps the stream's server's id, and lets go.
  void StickCommit(Stream& t) noexcept;
  // The stream ends: stores never committed let go (an entry only they made goes).
  void StickDropStores(Stream& t) noexcept;

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
  Queue srv_queues_[kMaxServers];  // streams a stick match sent to a full server (HAProxy's)
  Balancer balancer_;
  base::Timers* wheel_ = nullptr;  // the worker's
  bool listening_[tcp::kMaxListeners] = {};
  tcp::FlowKey listened_[tcp::kMaxListeners] = {};
  uint32_t nlistened_ = 0;
  uint64_t next_seq_ = 1;                    // session ids: see NewSession
  uint64_t random_ = 0x9e3779b97f4a7c15ull;  // balance random's state (xorshift64)
  uint64_t rate_window_ms_ = 0;
  uint32_t rate_count_ = 0;
  // HTTP mode: one head at a time is parsed and rewritten (the analyzers run to the end
  // without yielding), so one scratch buffer and one parsed head serve the worker.
  uint8_t* scratch_ = nullptr;  // http::kMaxHeadBytesCap
  uint8_t* out_ = nullptr;      // the rewritten head: kHeadOutBytesCap
  http::MessageHead* head_ = nullptr;
  http::WsAccept ws_;  // WebSocket handshakes' accept values
  uint64_t scratch_uid_ = 0;  // whose request head scratch_ and head_ hold (0: none)
  // option http-buffer-request: the body read for the rules (chunked: decoded), whose.
  uint8_t* body_ = nullptr;  // http::kMaxHeadBytesCap + 1
  uint32_t body_len_ = 0;
  bool body_complete_ = false;
  uint64_t body_uid_ = 0;
  uint32_t body_stream_ = 0;  // ... and which of its streams (Session::nstreams)
  // Rules: the part, and one evaluation's arena, variables and edits (an evaluation runs to
  // its end without yielding, so one of each serves the worker).
  const rules::RulesSnap* rules_ = nullptr;
  rules::Arena* arena_ = nullptr;
  char* rules_tmp_ = nullptr;  // rules::kArenaBytes
  pcre2_real_match_data_8* md_ = nullptr;
  rules::Vars* vars_ = nullptr;
  HeadEdits* edits_ = nullptr;
  rules::AuthCache* auth_ = nullptr;  // hashed passwords checked (http_auth)
  stick::Shard* shards_ = nullptr;    // one per table of s_.stick
  uint32_t nshards_ = 0;
  StickView* stick_view_ = nullptr;
  Session::StkCtr pending_sc_[3];  // tracked by tcp-request connection, before the session
  // Changes gathered for the owner of one copied entry (FlushStick sends them).
  stick::Msg out_msg_;
  stick::Entry* out_e_ = nullptr;
  uint16_t out_dst_ = 0;
  bool res_rules_ = false;  // RunHttpRules is running http-response rules
  // Services' calls (service_call.h): the records, and per slot its session and state.
  enum class CallState : uint8_t { kFree, kBody, kPosted, kTaken };
  ServiceCall* calls_ = nullptr;  // kServiceCalls
  uint32_t call_si_[kServiceCalls] = {};
  CallState call_state_[kServiceCalls] = {};
};

}  // namespace sluice::proxy
