// The TCP proxy's shared vocabulary (DESIGN.md section 1). The vectors of ProxyConfigSnap
// carry `slow path:` markers (STYLE rule 6): the control plane fills them before publishing;
// workers never grow them, they only index them.
//
//  - ProxyConfigSnap: frontends, backends and servers as the control plane last published
//    them (part of the RCU snapshot; immutable once published). Indices are stable for the
//    life of the process: servers and proxies come from the configuration file, so a
//    session keeps indices, never pointers, across loop iterations.
//  - ProxyStats: one block per worker, written by that worker only (relaxed stores) and
//    summed by the control plane for `show stat`. Health-check results of a server live in
//    the block of the worker that runs its checks (ServerSnap::check_worker).
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/health/expect.h"
#include "dataplane/proxy/algo.h"
#include "dataplane/snapshot/snapshot.h"
#include "dataplane/tcp/syncookie.h"
#include "dataplane/tcp/tcp.h"

namespace sluice::proxy {

inline constexpr uint32_t kMaxFrontends = 64;
inline constexpr uint32_t kMaxBackends = 64;
inline constexpr uint32_t kMaxServers = 1024;
inline constexpr uint32_t kNoServer = UINT32_MAX;

struct ServerSnap {
  uint32_t backend = 0;  // index in backends
  uint8_t addr[16] = {};
  bool is_v6 = false;
  uint16_t port = 0;
  uint32_t weight = 1;   // effective weight for new traffic (0: none)
  uint32_t iweight = 1;  // initial weight (static-rr keeps to it)
  uint32_t maxconn = 0;  // this worker's share of the server's maxconn; 0 = unlimited
  int32_t pool_max = -1;  // pool-max-conn, this worker's share: -1 unlimited, 0 none
  uint64_t pool_purge_us = 5'000'000;  // pool-purge-delay: idle connections' life; 0: for ever
  bool usable = true;    // admin READY and operationally UP: takes new connections
  // Neither in maintenance nor DOWN (HAProxy's cur_state != STOPPED): a stick match may send
  // it a stream, draining or not.
  bool persist = true;
  uint32_t id = 0;  // HAProxy's puid (`id N`, else its rank in the backend): stick tables keep it
  bool non_stick = false;  // `non-stick`: never stored by sticking rules
  bool backup = false;
  // Health checks, run by worker `check_worker`.
  bool check = false;  // checks configured and enabled (not maint, not disabled)
  uint8_t check_addr[16] = {};
  uint16_t check_port = 0;
  uint32_t inter_ms = 2000, fastinter_ms = 2000, downinter_ms = 2000;
  uint8_t rise = 2, fall = 3;
  uint16_t check_worker = 0;
  uint32_t check_epoch = 0;  // a new value restarts the checks with health = init_health
  uint8_t init_health = 2;   // HAProxy starts a checked server UP with health = rise
};

// TCP keep-alive of one side's connections (TcpStack::SetKeepalive); idle_ms 0: off.
struct KeepaliveSnap {
  uint32_t idle_ms = 0, intvl_ms = 0;
  uint8_t cnt = 0;
};

// HTTP connection management (option http-keep-alive | http-server-close | httpclose) and
// server connection sharing (http-reuse), as in config::ProxyConfig.
enum class HttpConnMode : uint8_t { kKeepAlive, kServerClose, kClose };
enum class HttpReuse : uint8_t { kNever, kSafe, kAggressive, kAlways };

// option forwardfor [except NET] [header NAME] [if-none].
struct ForwardForSnap {
  bool on = false;
  bool if_none = false;
  bool has_except = false;
  bool except_v6 = false;
  uint8_t except_len = 0;  // prefix length
  uint8_t except_addr[16] = {};
  uint8_t header_len = 0;
  char header[63] = {};  // longer names are refused by the configuration
};

// The codes sluice answers with itself, each with its slot in the errorfile tables.
inline constexpr uint16_t kReplyCodes[] = {400, 403, 408, 422, 500, 502, 503, 504};
inline constexpr uint32_t kReplySlots = sizeof(kReplyCodes) / sizeof(kReplyCodes[0]);
// An `errorfile` per reply slot: an index in ProxyConfigSnap::error_pages, -1 for HAProxy's.
struct ErrorfileSnap {
  int16_t page[kReplySlots] = {-1, -1, -1, -1, -1, -1, -1, -1};
};

struct BackendSnap {
  Algo algo = Algo::kRoundRobin;
  uint32_t first_server = 0;  // servers[first_server, first_server + nservers)
  uint32_t nservers = 0;
  uint32_t connect_ms = 5000, server_ms = 0, queue_ms = 0, tunnel_ms = 0, check_ms = 0;
  uint32_t server_fin_ms = 0;  // timeout server-fin (0: server_ms)
  uint8_t retries = 3;
  bool redispatch = false;
  bool persist = false;  // option persist: a stick match may send a stream to a DOWN server
  bool httpchk = false;
  // `http-check expect`: check_expects[first_expect, first_expect + nexpects) of the
  // snapshot, in the order written (HAProxy's default, 2xx or 3xx, when none is).
  uint16_t first_expect = 0, nexpects = 0;
  bool httpchk_head = false;  // the check's method is HEAD: its answer has no body
  char httpchk_request[256] = {};  // the whole request, CRLF-terminated
  uint16_t httpchk_request_len = 0;
  KeepaliveSnap ka;  // option srvtcpka
  // balance uri [whole] [len N] [depth N] | url_param NAME | hdr(NAME), hash-type.
  bool hash_consistent = false;  // hash-type consistent (else map-based)
  bool uri_whole = false;
  uint16_t uri_len = 0, uri_depth = 0;  // 0: no limit
  uint8_t hash_name_len = 0;            // url_param's or hdr's NAME
  char hash_name[63] = {};
  // HTTP mode.
  bool http = false;
  bool accept_invalid = false;  // option accept-invalid-http-response
  HttpConnMode conn_mode = HttpConnMode::kKeepAlive;
  HttpReuse reuse = HttpReuse::kSafe;
  ForwardForSnap fwd;
  ErrorfileSnap errorfiles;
};

enum class LogMode : uint8_t {
  kNone,     // the frontend has no log target
  kConnect,  // HAProxy's default format: one line when a connection is accepted
  kSession,  // option tcplog or log-format: one line when the session ends
};

struct FrontendSnap {
  uint32_t backend = 0;  // index in backends; UINT32_MAX: none
  LogMode log = LogMode::kNone;
  uint32_t maxconn = 0;  // this worker's share; 0 = unlimited
  uint32_t client_ms = 0;
  uint32_t client_fin_ms = 0;  // timeout client-fin (0: client_ms)
  KeepaliveSnap ka;  // option clitcpka
  // HTTP mode: the frontend's mode, or its default backend's (a TCP frontend upgrades).
  bool http = false;
  bool accept_invalid = false;  // option accept-invalid-http-request
  bool buffer_request = false;  // option http-buffer-request
  HttpConnMode conn_mode = HttpConnMode::kKeepAlive;
  uint32_t http_request_ms = 0, http_keep_alive_ms = 0;
  ForwardForSnap fwd;
  ErrorfileSnap errorfiles;
};

struct BindSnap {
  tcp::FlowKey local;  // local address (0 = any) and port
  uint32_t frontend = 0;
  bool open = true;  // the frontend is enabled: listened on, and accepted connections kept
};

// The snapshot part "proxy" (dataplane/snapshot/snapshot.h).
struct ProxyConfigSnap : snapshot::Part {
  // slow path: the control plane fills it before publication; workers only index it
  std::vector<FrontendSnap> frontends;
  // slow path: the control plane fills it before publication; workers only index it
  std::vector<BackendSnap> backends;
  // slow path: the control plane fills it before publication; workers only index it
  std::vector<ServerSnap> servers;
  // slow path: the control plane fills it before publication; workers only index it
  std::vector<std::string> error_pages;  // `errorfile` answers, whole
  // slow path: the control plane fills it before publication; workers only index it
  std::vector<check::Expect> check_expects;  // the backends' `http-check expect` rules
  uint32_t global_maxconn = 0;           // this worker's share; 0 = unlimited
  uint32_t rate_limit_cps = 0;           // this worker's share of connections per second; 0 = none
  // HTTP heads' bounds (`tune.bufsize` less `tune.maxrewrite`, and HAProxy's HTX size of
  // that; `tune.http.maxhdr` less the start line), and the room a rewritten head may take
  // beyond the received one (`tune.maxrewrite`).
  // HAProxy's defaults (http::kMaxHeadBytes, kMaxHtxHead, kMaxHeaders: proxy.cc checks).
  uint32_t http_head_bytes = 15360;
  uint32_t http_htx_head = 15312;
  uint32_t http_max_fields = 100;
  uint32_t http_rewrite = 1024;
};

// The snapshot part "listeners": a bind's index is its listener tag - kBindTagBase. A fixed
// array (the TCP stack's listener table bounds it): nothing to follow on accept.
struct ListenerSnap : snapshot::Part {
  BindSnap binds[tcp::kMaxListeners];
  uint32_t nbinds = 0;  // more binds than that are a configuration error (config::kMaxBinds)
};

// A statistic written by one worker and read by anyone.
class Stat {
 public:
  void Add(uint64_t n = 1) noexcept {
    v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  void Sub(uint64_t n = 1) noexcept {
    v_.store(v_.load(std::memory_order_relaxed) - n, std::memory_order_relaxed);
  }
  void Set(uint64_t n) noexcept { v_.store(n, std::memory_order_relaxed); }
  void Max(uint64_t n) noexcept {
    if (n > v_.load(std::memory_order_relaxed)) Set(n);
  }
  uint64_t Get() const noexcept { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

// A short text written by one worker and read by anyone: a sequence count around atomic
// words, so that a reader never takes half of a change (it reads again). Longer texts are cut
// to kMax bytes.
class StatText {
 public:
  static constexpr size_t kMax = 63;
  void Set(std::string_view text) noexcept {
    uint64_t w[kWords] = {};
    const size_t n = text.size() < kMax ? text.size() : kMax;
    auto* bytes = reinterpret_cast<unsigned char*>(w);
    bytes[0] = static_cast<unsigned char>(n);
    if (n) std::memcpy(bytes + 1, text.data(), n);
    const uint32_t seq = seq_.load(std::memory_order_relaxed);
    seq_.store(seq + 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    for (size_t i = 0; i < kWords; ++i) words_[i].store(w[i], std::memory_order_relaxed);
    seq_.store(seq + 2, std::memory_order_release);
  }
  // slow path: control plane
  std::string Get() const {
    uint64_t w[kWords];
    for (;;) {
      const uint32_t before = seq_.load(std::memory_order_acquire);
      for (size_t i = 0; i < kWords; ++i) w[i] = words_[i].load(std::memory_order_relaxed);
      std::atomic_thread_fence(std::memory_order_acquire);
      if (!(before & 1) && seq_.load(std::memory_order_relaxed) == before) break;
    }
    const auto* bytes = reinterpret_cast<const char*>(w);
    return std::string(bytes + 1, static_cast<unsigned char>(bytes[0]));
  }

 private:
  static constexpr size_t kWords = (kMax + 1) / 8;
  std::atomic<uint32_t> seq_{0};
  std::atomic<uint64_t> words_[kWords] = {};
};

struct FrontendStats {
  Stat cur, max, tot, bin, bout, denied, errors, rate_max;
  Stat denied_req;  // requests refused by http-request deny / tcp-request content reject
  Stat denied_sess;  // sessions refused by tcp-request session reject (dses)
  // HTTP: requests, and responses by class (1xx .. 5xx, other), as `show stat` has them.
  Stat req_tot, hrsp[6];
  Stat intercepted;  // requests answered by a service (stats page, Prometheus exporter)
};

struct BackendStats {
  Stat qcur, qmax, cur, max, tot, bin, bout, econ, eresp, retries, redispatches, cli_abrt, srv_abrt,
      lbtot, last_sess_ms, qtime_ms_sum, ctime_ms_sum, ttime_ms_sum, timed;
  Stat denied_resp;  // responses refused by http-response deny
  Stat req_tot, hrsp[6];  // HTTP, as FrontendStats
};

struct ServerStats {
  Stat qcur, qmax, cur, max, tot, bin, bout, econ, eresp, retries, redispatches, cli_abrt, srv_abrt,
      lbtot, last_sess_ms, qtime_ms_sum, ctime_ms_sum, ttime_ms_sum, timed;
  Stat reuse;             // streams given an idle connection from the pool instead of a new connect
  Stat req_tot, hrsp[6];  // HTTP, as FrontendStats
  // Health checks (only in the block of the server's check worker).
  Stat check_status;  // check::CheckStatus (dataplane/health/check_status.h)
  Stat check_code;    // L7: HTTP status; L4CON: errno-like 111
  Stat check_duration_ms;
  Stat check_health;  // 0 .. rise + fall - 1
  Stat check_up;      // 1 when health says UP
  Stat check_fails;   // chkfail
  Stat check_downs;   // UP -> DOWN transitions (chkdown)
  Stat check_epoch;   // the ServerSnap::check_epoch these results belong to
  Stat check_count;   // checks completed
  Stat check_detail;  // check::CheckDetail: which of HAProxy's texts an L7RSP shows
  StatText check_reason;  // L7STS: the answer's reason phrase (HAProxy's info)
};

// One session as `show sess` sees it: the payload records of a base::Op::kShowSessions
// reply (dataplane/base/request.h), written by the session's worker.
struct SessionInfo {
  uint64_t uid;
  uint64_t serial;  // a session counter (`show sess <id>`'s id=)
  uint8_t client_addr[16];
  uint8_t front_addr[16];
  uint8_t local_addr[16];  // our end of the server connection
  uint8_t server_addr[16];
  uint16_t client_port, front_port, local_port, server_port;  // host order
  bool is_v6, server_v6;
  uint32_t frontend, backend, server;
  uint64_t age_ms;
  // HTTP mode (haproxy's txn line): HAProxy's method number (OPTIONS 0, GET 1, HEAD 2, POST
  // 3, PUT 4, DELETE 5, TRACE 6, CONNECT 7, other 8), the answer's status (0: none yet) and
  // each message's state as HttpMsgState numbers it.
  bool http;
  uint8_t meth;
  uint16_t status;
  uint8_t req_state, res_state;
};

// HAProxy 2.6's HTTP message states (enum h1_state), for `show sess <id>`'s txn line.
enum class HttpMsgState : uint8_t {
  kRqBefore = 0,
  kRpBefore = 1,
  kError = 2,
  kBody = 3,
  kData = 4,
  kEnding = 5,
  kTrailers = 6,
  kDone = 7,
  kClosing = 8,
  kClosed = 9,
  kTunnel = 10,
};

// The request line kept for a log line (HAProxy's `tune.http.logurilen` default).
inline constexpr uint32_t kLogRequestBytes = 1024;
// A log line's level as `set-log-level` leaves it: 0..7 (syslog), silent (no line), or the
// default (info).
inline constexpr uint8_t kLogLevelSilent = 8;
inline constexpr uint8_t kLogLevelDefault = 0xff;
// The `%[expr]` values of a log-format: how many, and their bytes in all.
inline constexpr uint32_t kLogSamples = 8;
inline constexpr uint32_t kLogSampleBytes = 512;
inline constexpr uint16_t kLogSampleMissing = 0xffff;
// The captures of a log line (rules/capture.h's bounds).
inline constexpr uint32_t kLogCaptures = 16;
inline constexpr uint32_t kLogCaptureBytes = 1024;
inline constexpr uint32_t kLogCipherBytes = 48;  // OpenSSL's longest cipher name is 31
inline constexpr uint32_t kLogCookieBytes = 63;  // capture cookie (rules/capture.h)
inline constexpr uint8_t kLogCookieMissing = 0xff;

// One log line's worth of a session, written by its worker when the session ends (or is
// accepted, LogMode::kConnect) and turned into text by the control plane (controlplane/log).
struct LogRecord {
  uint64_t accept_us;                   // the worker's clock
  int32_t tw_ms, tc_ms, tt_ms;          // -1: phase not reached
  uint64_t bytes_uploaded, bytes_read;  // client -> server, server -> client
  uint8_t client_addr[16], front_addr[16], local_addr[16], server_addr[16];
  uint16_t client_port, front_port, local_port, server_port;  // host order; 0: none
  bool is_v6, server_v6, connect_only, redispatched;
  uint8_t level;  // syslog level of the line (http-request set-log-level); kLogLevelDefault: info
  char term_cause, term_phase;
  uint32_t frontend, backend, server;  // kNoServer / UINT32_MAX when none
  uint8_t service;  // answered by a service: ServiceKind + 1 (<STATS>, <PROMEX>); 0: none
  uint32_t actconn, feconn, beconn, srv_conn, retries, srv_queue, backend_queue;
  // HTTP mode (option httplog, log-format's HTTP variables).
  bool http;
  uint16_t status;                  // %ST (0: none)
  int32_t ti_ms, treq_ms, tres_ms;  // %Ti %TR %Tr (-1: not reached)
  int32_t ta_ms;                    // %Ta
  uint64_t request_us;              // %tr: when the request's first byte came (worker clock)
  uint16_t request_len;             // %r: the request line as written to the server
  char request[kLogRequestBytes];   //     (empty: none was parsed, "<BADREQ>")
  // %[expr]: the values in the format's order, one after the other in `samples`.
  uint8_t nsamples;
  uint16_t sample_len[kLogSamples];  // kLogSampleMissing: no sample ("-")
  char samples[kLogSampleBytes];
  // %hr %hs: the frontend's request and response captures, each slot's length at its entry
  // (request i: i, response i: rules::kMaxCaptures + i; kLogSampleMissing: none), the bytes
  // one after the other in slot order.
  uint8_t ncap_req, ncap_res;
  uint16_t cap_len[2 * kLogCaptures];
  char caps[kLogCaptureBytes];
  // %CC %CS: `capture cookie`'s request and response "name=value" (kLogCookieMissing: none).
  uint8_t cookie_len[2];
  char cookies[2][kLogCookieBytes];
  // TLS (%ft's '~', %sslv, %sslc): the client connection's version (0: not TLS) and cipher.
  uint16_t ssl_version;
  char ssl_cipher[kLogCipherBytes];  // NUL-terminated
};

// A single-producer (the worker: `head`) single-consumer (the control plane: `tail`) ring of
// log records. Each index has one writer; a full ring drops the record and counts it, so a
// worker never waits for the control plane.
inline constexpr uint32_t kLogRingSize = 4096;  // a power of two
struct LogRing {
  std::atomic<uint64_t> head{0};
  std::atomic<uint64_t> tail{0};
  Stat dropped;
  LogRecord records[kLogRingSize];
};

// The last invalid request of a frontend or invalid response of a backend, as received, for
// `show errors` (HAProxy keeps one per proxy and direction). Written by one worker as a
// seqlock: `seq` is odd while the worker writes; a reader copies and keeps the copy only if
// `seq` was even and unchanged around it.
inline constexpr uint32_t kErrorCaptureBytes = 15360;  // a head's bound (http::kMaxHeadBytes)
struct ErrorCapture {
  std::atomic<uint32_t> seq{0};
  uint64_t when_us;                    // the worker's clock
  uint32_t event;                      // the worker's error count when this one came
  uint32_t frontend, backend, server;  // indexes; UINT32_MAX / kNoServer: none
  uint8_t src_addr[16];
  uint16_t src_port;  // host order
  bool is_v6;
  uint8_t error;  // http::HeadError
  uint32_t len, error_at;
  uint8_t data[kErrorCaptureBytes];
};

struct ProxyStats {
  FrontendStats frontends[kMaxFrontends];
  BackendStats backends[kMaxBackends];
  ServerStats servers[kMaxServers];
  LogRing log;
  Stat error_events;  // invalid requests and responses seen (`show errors`' total)
  // Requests handed to the control plane (service_call.h): it takes them when this moves.
  Stat service_posted;
  ErrorCapture request_errors[kMaxFrontends];
  ErrorCapture response_errors[kMaxBackends];
};

}  // namespace sluice::proxy
