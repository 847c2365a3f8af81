// Slow path. What the proxy commands of the Runtime API (show stat, show servers state,
// set server, enable/disable frontend, show sess, ...) read from and ask of the control
// plane: plain snapshots of the proxies, their servers and their sessions, and the
// mutations. The control plane implements ProxyControl and returns it from
// ApplianceContext::Proxy(). The commands resolve names, check syntax and levels, and print
// HAProxy 2.6's answers and formats themselves
// (../shared/compat/haproxy-2.6/RUNTIME-API.md sections 2.2, 2.3, 3.1, 3.4, 3.8); the view
// holds numbers and states, never formatted text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/health/check_status.h"

namespace sluice::cli {

// haproxy's enum healthcheck_status, with its numbers: the workers' own type.
using CheckStatus = check::CheckStatus;

// haproxy's check_statuses[] row of a status.
struct CheckStatusInfo {
  std::string_view name;  // "L4CON": the check_status column
  std::string_view desc;  // "Layer4 connection problem": the check_desc column
  uint8_t result;         // srv_check_result: 0 unknown, 1 neutral, 2 failed, 3 passed, 4 condpass
};
const CheckStatusInfo& GetCheckStatusInfo(CheckStatus status);

// A server's operational state: the numbers are srv_op_state.
enum class ServerOpState : uint8_t { kStopped = 0, kStarting = 1, kRunning = 2, kStopping = 3 };

enum class FrontendState : uint8_t {
  kOpen,     // listening: status OPEN
  kPaused,   // `disable frontend`: sockets released, status PAUSED
  kStopped,  // `shutdown frontend`: for good, status STOP
};

// Counters of one frontend, backend or server. Each `show stat` row prints the ones HAProxy
// prints for its kind and leaves the others out (commands/stat_fields.def): a frontend
// ignores the queue, server and timing counters, a backend or server ignores ereq, dcon,
// dses and the conn_* ones. Rates are per second over the last second, *_max their highest.
struct StatCounters {
  uint32_t qcur = 0;  // connections queued now
  uint32_t qmax = 0;
  uint32_t scur = 0;  // sessions now
  uint32_t smax = 0;
  uint64_t stot = 0;  // sessions since start
  uint64_t bin = 0;   // bytes from clients
  uint64_t bout = 0;  // bytes to clients
  uint64_t dreq = 0;  // denied requests
  uint64_t intercepted = 0;  // requests answered by the stats page or the exporter (frontend)
  uint64_t dresp = 0;
  uint64_t ereq = 0;  // request errors (frontend)
  uint64_t dcon = 0;  // connections denied by rules (frontend)
  uint64_t dses = 0;
  uint64_t econ = 0;  // failed connections to servers
  uint64_t eresp = 0;
  uint64_t wretr = 0;   // connection retries
  uint64_t wredis = 0;  // redispatches
  uint64_t wrew = 0;
  uint64_t eint = 0;  // internal errors
  uint64_t cli_abrt = 0;
  uint64_t srv_abrt = 0;
  uint64_t lbtot = 0;    // times chosen by load balancing
  uint64_t connect = 0;  // connections opened to servers
  uint64_t reuse = 0;
  uint64_t chkfail = 0;  // failed health checks (server)
  uint64_t chkdown = 0;  // UP to DOWN transitions (server, backend)
  uint32_t rate = 0;     // sessions per second
  uint32_t rate_max = 0;
  uint32_t conn_rate = 0;  // connections accepted per second (frontend)
  uint32_t conn_rate_max = 0;
  uint64_t conn_tot = 0;
  uint64_t req_tot = 0;   // HTTP requests
  uint64_t hrsp[6] = {};  // HTTP responses: 1xx, 2xx, 3xx, 4xx, 5xx, other
  uint32_t lastchg_s = 0;   // since the last state change (server, backend)
  uint32_t downtime_s = 0;  // total time DOWN (server, backend)
  int32_t lastsess_s = -1;  // since the last session; -1: never
  uint32_t qtime_ms = 0;    // averages over the last 1024 sessions
  uint32_t ctime_ms = 0;
  uint32_t rtime_ms = 0;
  uint32_t ttime_ms = 0;
  uint32_t qtime_max_ms = 0;
  uint32_t ctime_max_ms = 0;
  uint32_t rtime_max_ms = 0;
  uint32_t ttime_max_ms = 0;
};

// A server's health check (haproxy's check state bits in parentheses).
struct HealthCheckView {
  bool configured = false;   // `check` on the server line (0x02)
  bool enabled = false;      // not `disable health`d (0x04)
  bool paused = false;       // suspended while the server is in maintenance (0x08)
  bool in_progress = false;  // a check runs now (0x01): check_status gets a "* " prefix
  CheckStatus status = CheckStatus::kIni;
  uint32_t code = 0;         // layer 7 code, printed for statuses from L7OK on
  uint64_t duration_ms = 0;  // of the last check, printed once one completed
  std::string output;        // last_chk, the check's own words: "Connection refused"
  uint32_t rise = 2;
  uint32_t fall = 3;
  uint32_t health = 0;  // 0..rise+fall-1: DOWN below rise; rise+fall-1 is fully UP
  uint16_t port = 0;    // the check's port; 0: the server's
  std::string addr;     // the check's address; empty: the server's
};

struct ServerView {
  uint32_t slot = 0;  // the appliance's own index of the server, stable while it exists
  std::string name;
  uint32_t sid = 0;  // `id`, unique in the backend
  std::string addr;  // numeric: "127.0.0.1", "2001:db8::1"
  uint16_t port = 0;
  bool backup = false;
  // The administrative state, haproxy's srv_admin_state bits in parentheses. A server
  // `disabled` in the configuration has config_maint and forced_maint, as in haproxy;
  // `set server ... state ready` clears forced_maint (and forced_drain).
  bool forced_maint = false;  // `state maint`, `disable server` (0x01): status MAINT
  bool config_maint = false;  // `disabled` in the configuration (0x04)
  bool forced_drain = false;  // `state drain` (0x08): status DRAIN
  ServerOpState op_state = ServerOpState::kRunning;
  uint32_t uweight = 1;       // user weight: the configured one, then `set server ... weight`
  uint32_t iweight = 1;       // initial (configured) weight
  uint32_t eweight = 1;       // effective weight: uweight, lowered during a slowstart
  uint32_t maxconn = 0;       // 0: no limit
  uint32_t maxqueue = 0;      // 0: no limit
  uint32_t throttle_pct = 0;  // slowstart ratio, printed while op_state is kStarting
  uint32_t purge_delay_ms = 5000;  // pool-purge-delay
  int32_t pool_max_conn = -1;      // pool-max-conn (-1: no bound)
  HealthCheckView check;
  StatCounters counters;
};

struct ProxyView {
  std::string name;
  uint32_t iid = 0;  // `id`, unique among proxies
  std::string mode = "tcp";
  bool has_frontend = false;  // a frontend or a listen section
  bool has_backend = false;   // a backend or a listen section
  // The frontend side.
  FrontendState frontend_state = FrontendState::kOpen;
  uint32_t maxconn = 0;              // frontend slim
  uint32_t rate_limit_sessions = 0;  // rate_lim (`rate-limit sessions`); 0: none
  StatCounters frontend;
  // The backend side.
  std::string algo = "roundrobin";  // `balance`
  bool dynamic_weights = true;      // false for a static algorithm: weights 0% or 100% only
  // `add server` allowed: neither static-rr nor a map-based hash (HAProxy's BE_LB_PROP_DYN).
  bool dynamic_servers = true;
  uint32_t fullconn = 0;            // backend slim
  StatCounters backend;
  std::vector<ServerView> servers;  // in configuration order
};

// One end of a connection; an empty addr means unknown.
struct Endpoint {
  std::string addr;  // numeric
  uint16_t port = 0;
};

// A client session (haproxy's stream). `show sess` may list none.
struct SessionView {
  uint64_t id = 0;      // nonzero, stable while the session lives; printed "0x%llx" as haproxy
                        // prints its stream pointer, and given back to `shutdown session`
  uint32_t serial = 0;  // `id=` in `show sess <id>`: a counter of sessions
  std::string proto = "tcpv4";  // "tcpv4", "tcpv6"
  Endpoint src;                 // the client
  Endpoint dst;                 // the frontend address it connected to
  std::string frontend;
  uint32_t frontend_iid = 0;
  uint32_t listener_id = 0;  // the `bind` line's id in the frontend
  std::string backend;       // empty: none yet
  uint32_t backend_iid = 0;
  Endpoint backend_src;  // the appliance's end of the server connection
  std::string server;    // empty: none yet
  uint32_t server_sid = 0;
  Endpoint server_dst;
  uint32_t age_s = 0;
  int64_t accept_time_us = 0;  // Unix time
  // HTTP mode: haproxy's txn line (method number, status or -1, message states by name).
  bool http = false;
  int meth = 8;
  int status = -1;
  std::string req_state, res_state;
};

// How far an answer gathered from the workers is (request/reply rings): kWait while replies
// are missing (nothing new; ask again on a later loop iteration), kMore when items arrived
// and others will follow, kDone when nothing follows what was returned.
enum class Gather { kWait, kMore, kDone };

class SessionStream {
 public:
  virtual ~SessionStream() = default;
  // Appends the sessions that arrived since the last call.
  virtual Gather Next(std::vector<SessionView>* out) = 0;
};

// A command the workers carry out: kWait until they answered, then kDone with the error
// message in *error (empty: success).
class PendingAnswer {
 public:
  virtual ~PendingAnswer() = default;
  virtual Gather Poll(std::string* error) = 0;
};

enum class ServerAdminOp { kReady, kDrain, kMaint };
enum class ServerHealthOp { kUp, kStopping, kDown };
enum class FrontendOp { kPause, kResume, kShutdown };
enum class RateLimit { kConnections, kSessions, kSslSessions, kHttpCompression };

// Implemented by the control plane. Everything runs on the control-plane thread. The
// mutations take indexes into the vector the last Proxies() call filled (the command calls
// Proxies() and then at most one mutation, in the same call). Each returns "" on success,
// else the exact text to print as the error (one or more lines, each ending in '\n').
// One captured invalid message (`show errors`): the last invalid request of a frontend or
// invalid response of a backend, as received.
struct ErrorView {
  bool request = true;
  std::string proxy;  // the frontend (request) or backend (response)
  uint32_t proxy_iid = 0;
  std::string other;  // the backend (request; empty: none) or frontend (response)
  int64_t other_iid = -1;
  std::string server;  // empty: none
  int64_t server_id = -1;
  uint32_t event = 0;
  std::string src;  // ADDR:PORT of the client
  int64_t unix_us = 0;
  uint32_t error_at = 0;
  bool start_line = false;  // the error is in the start line (else in a field)
  std::string data;         // the bytes as received (at most a head's bound)
};

class ProxyControl {
 public:
  virtual ~ProxyControl() = default;

  // `show errors`: the captures of every proxy and direction (the latest across workers),
  // in configuration order, and the number of errors seen since start.
  virtual void Errors(std::vector<ErrorView>* out, uint64_t* total) {
    out->clear();
    *total = 0;
  }

  // A fresh snapshot: every frontend, backend and listen section, in configuration order.
  virtual void Proxies(std::vector<ProxyView>* out) = 0;
  // The live sessions (id 0) or the one session `id`, gathered from the workers in slices
  // while the control loop goes on serving others (never null).
  virtual std::unique_ptr<SessionStream> Sessions(uint64_t id) = 0;

  // `set server B/S state ready|drain|maint`, `enable|disable server B/S`. haproxy's
  // semantics: ready clears forced maint and drain, drain sets drain and clears maint, maint
  // sets maint and clears drain; leaving maint restarts the checks at health = rise.
  virtual std::string SetServerAdmin(size_t proxy, size_t server, ServerAdminOp op) = 0;
  // `set server B/S health up|stopping|down`: health = rise+fall-1 (up, stopping) or 0.
  virtual std::string SetServerHealth(size_t proxy, size_t server, ServerHealthOp op) = 0;
  // `set server B/S weight`, `set weight`: the new user weight, 0..256, already checked
  // against the backend's algorithm (dynamic_weights).
  virtual std::string SetServerWeight(size_t proxy, size_t server, uint32_t weight) = 0;
  // `set server B/S addr A [port P]`: the new address (numeric, valid) and port; called only
  // when one of them differs from the view's.
  virtual std::string SetServerAddr(size_t proxy, size_t server, const std::string& addr,
                                    uint16_t port) = 0;
  // `set server B/S check-addr A [port P]`, `check-port P`: the check's new address (empty:
  // the server's) and port (0: the server's). Called only for servers with checks enabled.
  virtual std::string SetServerCheckAddr(size_t proxy, size_t server, const std::string& addr,
                                         uint16_t port) = 0;
  // `set maxconn server B/S N` (0: no limit).
  virtual std::string SetServerMaxconn(size_t proxy, size_t server, uint32_t maxconn) = 0;
  // `enable|disable health B/S` (enable is called only when the check is configured).
  virtual std::string SetServerCheckEnabled(size_t proxy, size_t server, bool enabled) = 0;
  // `shutdown sessions server B/S`: close every session on the server.
  virtual std::string ShutdownServerSessions(size_t proxy, size_t server) = 0;
  // `add server B/NAME ADDR[:PORT] [params]` on backend `proxy` (found, its algorithm
  // dynamic): `words` are ADDR and the params. Empty when it was added (in maintenance, its
  // checks disabled), else HAProxy's error text as the stats socket prints it.
  virtual std::string AddServer(size_t proxy, const std::string& name,
                                const std::vector<std::string>& words) {
    (void)proxy, (void)name, (void)words;
    return "This appliance cannot add servers.\n";
  }
  // `del server B/S` (the server in maintenance, without sessions: checked by the caller).
  virtual std::string DelServer(size_t proxy, size_t server) {
    (void)proxy, (void)server;
    return "This appliance cannot delete servers.\n";
  }

  // `disable frontend` (called when open), `enable frontend` (called when paused),
  // `shutdown frontend` (called when not stopped).
  virtual std::string SetFrontend(size_t proxy, FrontendOp op) = 0;
  // `set maxconn frontend F N`.
  virtual std::string SetFrontendMaxconn(size_t proxy, uint32_t maxconn) = 0;
  // `set maxconn global N` (show info Maxconn); 0 restores the hard limit. haproxy answers
  // "Value out of range.\n" above the hard limit (show info Hard_maxconn).
  virtual std::string SetGlobalMaxconn(uint32_t maxconn) = 0;
  // `set rate-limit connections|sessions|ssl-sessions global N` (per second, 0: none) and
  // `http-compression global N` (given here in bytes per second: N kB/s * 1024).
  virtual std::string SetRateLimit(RateLimit limit, uint64_t value) = 0;
  // `shutdown session ID`: kills the session on its worker; the answer says
  // "No such session (use 'show sess').\n" when the worker has none with that id.
  virtual std::unique_ptr<PendingAnswer> ShutdownSession(uint64_t id) = 0;
};

}  // namespace sluice::cli
