// The typed configuration model and the HAProxy-syntax parser that builds it.
//
// The file syntax is HAProxy's (sections, keywords, quoting, "${VAR}" expansion, comments).
// Sluice's own data-plane settings live in a `dataplane` section, documented in
// docs/configuration.md. Diagnostics follow haproxy's style:
//   [ALERT]    (pid) : config : parsing [FILE:LINE] : 'keyword' ...
// and every error of a run is collected so that one `sluice -c` reports them all.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dataplane/base/result.h"
#include "dataplane/health/expect.h"
#include "dataplane/net/addr.h"
#include "dataplane/proxy/algo.h"

namespace sluice::config {

struct Diagnostic {
  enum class Severity { kWarning, kAlert };
  Severity severity = Severity::kAlert;
  std::string file;
  int line = 0;  // 0 when the message is about the whole configuration
  std::string keyword;
  std::string message;  // full text after "parsing [file:line] : "
};

// `port NAME DEVICE`: DEVICE is a PCI address (0000:03:00.0) or a DPDK vdev string
// (net_tap0,iface=sl-client0).
// `service PORT echo|discard|source TCPPORT`: a TCP test service of the data plane on every
// address of the port (off unless configured): echo returns what it receives, discard
// drops it, source sends byte i = i % 251 until the peer closes.
struct ServiceConfig {
  enum class Kind { kEcho, kDiscard, kSource };
  Kind kind = Kind::kEcho;
  uint16_t tcp_port = 0;
  std::string file;
  int line = 0;
};

struct PortConfig {
  std::string name;
  std::string device;
  bool is_pci = false;
  std::vector<net::IpPrefix> addresses;  // `address NAME A/LEN`
  std::optional<uint16_t> vlan;          // `vlan NAME ID`: frames tagged ID are ours
  std::vector<ServiceConfig> services;   // `service NAME KIND TCPPORT`
  std::string file;
  int line = 0;
};

// `route PREFIX via GATEWAY` and `default-gateway GATEWAY` (a /0 route).
struct RouteConfig {
  net::IpPrefix prefix;
  net::IpAddr gateway;
  std::string file;
  int line = 0;
};

enum class HugePages { kAuto, kOn, kOff };

struct DataplaneConfig {
  unsigned workers = 0;      // 0: `nbthread` from global, else 1
  unsigned memory_mb = 512;  // EAL -m
  HugePages hugepages = HugePages::kAuto;
  unsigned mbufs = 16383;           // mbufs in the packet pool
  unsigned neighbours = 1024;       // neighbour (ARP/ND) entries per worker
  unsigned dispatch_ring = 1024;    // entries in each worker's dispatch ring
  unsigned tcp_max_conns = 4096;    // TCP connections per worker (`tcp-connections`)
  bool tcp_newreno = false;         // `tcp-congestion newreno`; CUBIC by default
  unsigned idle_sleep_us = 0;       // sleep when idle (0: pure polling)
  uint16_t local_port_min = 32768;  // ports for connections the appliance opens
  uint16_t local_port_max = 60999;
  std::string file_prefix = "sluice";  // EAL --file-prefix (runtime dir name)
  std::vector<std::string> eal_args;   // `eal-args ...`: extra EAL arguments, appended
  std::vector<PortConfig> ports;
  std::vector<RouteConfig> routes;
  bool present = false;  // a `dataplane` section was seen
};

// `stats socket ADDR [mode OCTAL] [uid N|user NAME] [gid N|group NAME] [level LEVEL]`:
// ADDR is a path or unix@PATH (a unix socket), ipv4@A:P or ipv6@[A]:P (A:P alone also works).
struct StatsSocketConfig {
  enum class Kind { kUnix, kTcp4, kTcp6 };
  enum class Level { kUser, kOperator, kAdmin };
  Kind kind = Kind::kUnix;
  std::string path;     // kUnix
  std::string address;  // kTcp4/kTcp6, numeric
  uint16_t port = 0;
  std::optional<uint32_t> mode;
  std::optional<uint32_t> uid;
  std::optional<uint32_t> gid;
  Level level = Level::kOperator;  // haproxy's default
  std::string file;
  int line = 0;
};

// `stats rest ADDR:PORT [level LEVEL] [userlist NAME] [crt FILE] [maxconn N] [max-body N]`:
// the REST interface's HTTP listener on the host kernel (docs/rest-api.md). ADDR as for
// `stats socket` (ipv4@A:P, ipv6@[A]:P, A:P).
struct StatsRestConfig {
  std::string address;  // numeric
  uint16_t port = 0;
  bool v6 = false;
  StatsSocketConfig::Level level = StatsSocketConfig::Level::kOperator;
  std::string userlist;      // empty: no authentication
  std::string crt, crt_pem;  // `crt`: HTTPS with this certificate and key (PEM)
  unsigned maxconn = 2000;
  size_t max_body = 1u << 20;
  std::string file;
  int line = 0;
};

// `ssl` and its options on a bind line (configuration.txt 2.6, section 5.1): connections
// accepted there are TLS, terminated on the workers (docs/tls.md).
struct BindTlsConfig {
  // A `crt` file as read at parse time: its PEM text (certificate, chain and key, or the
  // key read from FILE.key beside it), checked to hold a certificate and its key.
  struct Cert {
    std::string path;
    std::string pem;
    std::string ocsp_der;    // PATH.ocsp, as HAProxy loads it: the response stapled at start
    std::string issuer_pem;  // PATH.issuer: the issuer when the chain does not carry it
    // Named by a `crt-list` file or found in a `crt` directory (`show ssl crt-list`): the
    // list's path, the line (0 in a directory), the line's options (keyword, value) in the
    // order HAProxy shows them, and its SNI filters ("b.test", "!x.b.test", "*.b2.test").
    std::string list;
    int list_line = 0;
    std::vector<std::pair<std::string, std::string>> list_opts;
    std::vector<std::string> filters;
    // The line's options over the bind's (its `crts` empty); null: the bind's own.
    std::shared_ptr<const BindTlsConfig> conf;
  };
  std::vector<Cert> crts;     // the first one is served when no other matches the SNI
  std::string alpn;           // `alpn h2,http/1.1` in wire form (length-prefixed names)
  uint16_t min_ver = 0x0303;  // TLS versions as on the wire; HAProxy 2.6's default minimum is
  uint16_t max_ver = 0;       // TLSv1.2; 0: the library's highest
  std::string ciphers;        // TLS 1.2 and below (OpenSSL's cipher list syntax)
  std::string ciphersuites;   // TLS 1.3
  std::string curves;
  bool no_tls_tickets = false;
  bool strict_sni = false;
  // `tls-ticket-keys FILE`: the last three keys of the file (48 or 80 bytes each, one size),
  // oldest first; the middle one encrypts, all three decrypt (HAProxy's TLS_TICKETS_NO 3).
  // Empty: keys drawn at start, shared by the bind's workers.
  std::string ticket_keys_file;
  std::vector<std::string> ticket_keys;
  // Client certificates: `verify none|optional|required` (none: none asked for), checked
  // against `ca-file` (PEM, read at parse time; its names are sent as the acceptable CAs)
  // and the revocations of `crl-file`.
  enum class Verify : uint8_t { kNone, kOptional, kRequired };
  Verify verify = Verify::kNone;
  std::string ca_file, ca_pem;
  std::string crl_file, crl_pem;
  // From the global section (every bind starts from its ssl_default_bind):
  uint32_t lifetime_s = 300;  // `tune.ssl.lifetime`: sessions and tickets (HAProxy's 300 s)
  uint32_t maxrecord = 0;     // `tune.ssl.maxrecord`: bytes per record; 0: 16384 (TLS's)
  uint32_t dh_bits = 2048;    // `tune.ssl.default-dh-param`: the DHE group (RFC 7919's)
};

// Standard base64 (RFC 4648 section 4, padded): the bytes, or nothing when `text` is not
// base64 (HAProxy's base64dec: the length a multiple of 4).
std::optional<std::string> DecodeBase64(std::string_view text);

struct GlobalConfig {
  std::optional<unsigned> nbthread;
  std::optional<unsigned> maxconn;
  std::vector<StatsSocketConfig> stats_sockets;
  std::vector<StatsRestConfig> stats_rest;
  std::optional<uint64_t> stats_timeout_ms;  // haproxy's default: 10 s
  std::optional<unsigned> stats_maxconn;
  // tune.bufsize, tune.maxrewrite (cut to half the buffer, as HAProxy does), tune.http.maxhdr:
  // the bounds of HTTP heads (HttpHeadBytes() and the rest below).
  uint32_t tune_bufsize = 16384;
  uint32_t tune_maxrewrite = 1024;
  uint32_t tune_http_maxhdr = 101;
  uint32_t MaxRewrite() const {
    return tune_maxrewrite >= tune_bufsize / 2 ? tune_bufsize / 2 : tune_maxrewrite;
  }
  // The head's bytes (tune.bufsize less tune.maxrewrite, at most 65535: 16-bit offsets), its
  // size as HAProxy stores it (HTX: 48 bytes less), its fields (the start line is one).
  uint32_t HttpHeadBytes() const {
    const uint32_t n = tune_bufsize - MaxRewrite();
    return n > 65535 ? 65535 : n;
  }
  uint32_t HttpHtxHead() const { return tune_bufsize - MaxRewrite() - 48; }
  uint32_t HttpMaxFields() const { return tune_http_maxhdr - 1; }
  // `ssl-default-bind-ciphers|ciphersuites|curves|options`: what a `bind ... ssl` line starts
  // from (its own options win); read before the proxies, as HAProxy's global section is.
  BindTlsConfig ssl_default_bind;
  // `ssl-default-server-ciphers|ciphersuites|options`: what `server ... ssl` starts from
  // (its ciphers, ciphersuites and versions).
  BindTlsConfig ssl_default_server;
  bool ssl_server_verify_none = false;  // `ssl-server-verify none`: servers' default
  // `ssl-load-extra-files`: the companions read beside a certificate (HAProxy's default: all).
  enum ExtraFiles : uint8_t { kBundle = 1, kOcsp = 2, kIssuer = 4, kKey = 8, kSctl = 16 };
  uint8_t ssl_extra_files = kBundle | kOcsp | kIssuer | kKey | kSctl;
  std::string crt_base, ca_base;  // where relative `crt` and `ca-file`/`crl-file` paths are
  std::vector<std::string> logs;  // `log ...` lines as written (the words after the keyword)
};

// One listening address of a frontend or listen section: `bind ADDR:PORT[-END][,...]`.
// `*:80`, `:80` and `0.0.0.0:80` listen on every IPv4 address (any, addr 0.0.0.0);
// `:::80` and `[::]:80` on every IPv6 address (any, addr ::). A port range or a comma list
// gives one BindConfig per address and port.
// Address:port pairs listened on over every frontend and test service (each port of a range
// counts): the workers' listener table (tcp::kMaxListeners; runtime.cc checks they agree).
inline constexpr size_t kMaxBinds = 64;

struct BindConfig {
  net::IpAddr addr;
  bool any = false;
  uint16_t port = 0;
  std::string file;
  int line = 0;
  std::string text;  // the address as written (`:443`), for messages: 'bind :443'
  std::shared_ptr<const BindTlsConfig> tls;  // `ssl`: shared by the addresses of one line
};

// `server NAME ADDR:PORT [params]` in a backend or listen section; `default-server` lines
// before it (in the section, else in its defaults section) give the defaults of the params.
// This is the one model of a server: the control plane's live state (cp::ServerRt) points at
// it and adds only the Runtime API's overrides.
struct ServerConfig {
  std::string name;
  uint32_t id = 0;  // 1-based in its backend, or `id N`
  net::IpAddr addr;
  uint16_t port = 0;
  unsigned weight = 1;     // 0..256 as haproxy
  unsigned maxconn = 0;    // 0: unlimited
  int pool_max_conn = -1;  // idle connections kept for reuse: -1 unlimited, 0 none
  uint32_t pool_purge_ms = 5000;  // pool-purge-delay: how long one stays unused; 0: for ever
  bool check = false;
  // fastinter and downinter: 0 while parsing means `inter`; the whole-configuration check
  // writes the effective values.
  uint32_t inter_ms = 2000, fastinter_ms = 0, downinter_ms = 0;
  unsigned rise = 2, fall = 3;
  std::optional<uint16_t> check_port;     // `port N`
  std::optional<net::IpAddr> check_addr;  // `addr A`
  bool disabled = false, backup = false;
  bool non_stick = false;  // `non-stick`: sticking rules never store it
  // TLS to the server (`ssl`): its certificate checked against `ca-file` unless `verify none`
  // (HAProxy 2.6's default is required), `sni str(NAME)` sent, `alpn` offered (wire form).
  bool ssl = false;
  bool verify_none = false;
  bool verify_set = false;  // `verify` on the line (else `ssl-server-verify` decides)
  std::string ca_file, ca_pem;
  // `ciphers`, `ciphersuites`, `ssl-min-ver`, `ssl-max-ver`; what the line leaves out comes
  // from `ssl-default-server-*` (versions as on the wire; a minimum of TLSv1.2 by default)
  std::string ciphers, ciphersuites;
  uint16_t min_ver = 0;
  uint16_t max_ver = 0;
  std::string sni;       // `sni str(NAME)`: the name
  std::string sni_expr;  // `sni EXPR` otherwise: evaluated on the stream at each connect
  std::string alpn;
  std::string file;
  int line = 0;
};

// The workers' own type (dataplane/proxy/algo.h): one enum from the file to the balancer.
using BalanceAlgo = proxy::Algo;

// A `frontend`, `backend` or `listen` section (mode tcp), with what it inherited from its
// `defaults` section already applied.
// A rule line kept as written for the rules compiler (controlplane/rules): `acl`,
// `http-request`, `http-response`, `tcp-request`, `use_backend`, `capture`, `declare`, in
// file order.
struct RuleLine {
  std::string file;
  int line = 0;
  std::vector<std::string> args;  // args[0] is the keyword
};

// A proxy's `stick-table` (configuration.txt 4.2): its key, its bound, its expiry and the
// data it stores, each as `store` names it (a rate with its period).
struct StickTableConfig {
  std::string file;
  int line = 0;
  std::string type = "ip";  // ip, ipv6, integer, string, binary
  uint32_t key_len = 0;     // string / binary `len` (0: HAProxy's default, 32)
  uint64_t size = 0;
  uint32_t expire_ms = 0;  // 0: not set
  bool nopurge = false;
  bool srvkey_addr = false;  // srvkey addr: server_key is the server's address:port
  struct Store {
    std::string name;        // "http_req_rate"
    uint32_t period_ms = 0;  // rates
    uint32_t elems = 1;      // gpt(N), gpc(N), gpc_rate(N,P): N
  };
  std::vector<Store> store;
};

// `stats ...` in a proxy section: HAProxy's statistics page served on its clients' requests
// (docs/stats-page.md). The page is rendered by the control plane; the workers match the
// URI, check `stats auth` and `stats admin`, and hand the request over.
struct StatsConfig {
  bool enabled = false;                       // any `stats` keyword but the global ones
  std::string uri = "/haproxy?stats";         // stats uri: a prefix of the request target
  std::string realm = "HAProxy Statistics";   // stats realm
  std::vector<std::pair<std::string, std::string>> auth;  // stats auth USER:PASSWORD
  uint32_t refresh_s = 0;                     // stats refresh
  bool hide_version = false, show_legends = false;
  bool show_node = false, show_desc = false;  // stats show-node [NAME], show-desc [TEXT]
  std::string node, desc;
  std::vector<std::string> scope;  // stats scope NAME ("." this proxy): the proxies shown
};

// One `http-check expect` rule: [!] status CODES | rstatus REGEX | string TEXT |
// rstring REGEX | hdr|fhdr name [-m M] NAME [value [-m M] VALUE].
struct HttpCheckExpect {
  check::ExpectKind kind = check::ExpectKind::kStatus;
  bool negate = false;          // string, rstring, hdr, fhdr (status, rstatus: in `codes`)
  std::vector<unsigned> codes;  // status, rstatus: the codes that pass, "!" applied
  std::string pattern;          // string's text, rstring's regex, hdr's name pattern
  check::HeaderMatch name_match = check::HeaderMatch::kStr;
  check::HeaderMatch value_match = check::HeaderMatch::kStr;
  bool has_value = false;
  bool full = false;  // fhdr
  std::string value;
  bool operator==(const HttpCheckExpect&) const = default;
};

struct ProxyConfig {
  enum class Kind { kFrontend, kBackend, kListen };
  Kind kind = Kind::kFrontend;
  bool HasFrontend() const { return kind != Kind::kBackend; }
  bool HasBackend() const { return kind != Kind::kFrontend; }
  std::string name;
  uint32_t id = 0;                // haproxy's proxy uuid (iid): `id N` or assigned
  std::vector<BindConfig> binds;  // several `bind` lines and comma lists `bind a:1,b:2`
  std::string default_backend;    // frontend: `default_backend NAME`, checked to exist
  // Index into Config::proxies, resolved by the whole-configuration check; a listen without
  // default_backend uses itself; -1 when there is none.
  int default_backend_index = -1;
  std::vector<ServerConfig> servers;
  BalanceAlgo balance = BalanceAlgo::kRoundRobin;
  // balance uri [whole] [len N] [depth N] | url_param NAME | hdr(NAME); hash-type.
  bool uri_whole = false;
  unsigned uri_len = 0, uri_depth = 0;  // 0: no limit
  std::string hash_name;                // url_param's or hdr's NAME
  bool hash_consistent = false;         // hash-type consistent (default map-based)
  uint32_t timeout_connect_ms = 0, timeout_client_ms = 0, timeout_server_ms = 0,
           timeout_queue_ms = 0, timeout_tunnel_ms = 0, timeout_check_ms = 0;  // 0: not set
  // timeout client-fin / server-fin: a side's inactivity once a direction is shut (0: not set).
  uint32_t timeout_client_fin_ms = 0, timeout_server_fin_ms = 0;
  unsigned maxconn = 0;  // frontend maxconn; 0: from global maxconn
  unsigned retries = 3;
  bool redispatch = false;  // option redispatch
  bool persist = false;     // option persist (a stick match may pick a DOWN server)
  bool tcplog = false;      // option tcplog
  // TCP keep-alives: option clitcpka (frontend side), option srvtcpka (backend side), option
  // tcpka (both), with clitcpka-idle/-intvl/-cnt and srvtcpka-*; 0: Linux's defaults
  // (7200 s, 75 s, 9 probes), as HAProxy leaves them to the system.
  struct Keepalive {
    bool on = false;
    uint32_t idle_ms = 0, intvl_ms = 0;
    unsigned cnt = 0;
  };
  Keepalive clitcpka, srvtcpka;
  bool httpchk = false;  // option httpchk [METHOD] [URI] [VERSION]
  std::string httpchk_method = "OPTIONS", httpchk_uri = "/", httpchk_version = "HTTP/1.0";
  std::vector<std::pair<std::string, std::string>> httpchk_headers;  // http-check send hdr
  std::string httpchk_body;                                          // http-check send body
  // `http-check expect` lines in the order written; none: any 2xx or 3xx passes.
  std::vector<HttpCheckExpect> http_expects;
  std::vector<std::string> logs;  // `log ...` lines as written (after the keyword), "global"
                                  // for `log global`
  std::string log_format;         // log-format STRING
  std::string log_format_file;    // where it was written (its %[...] are compiled later)
  int log_format_line = 0;
  std::vector<RuleLine> rule_lines;             // acl, http-request, ... (controlplane/rules)
  std::optional<StickTableConfig> stick_table;  // `stick-table`
  // `stats ...`; `stats admin` and `stats http-request` are kept in rule_lines (compiled
  // with the rules: they hold conditions).
  StatsConfig stats;
  bool disabled = false;                        // `disabled` keyword
  // HTTP mode (docs/http.md). A frontend and its backend run HTTP when either is in
  // `mode http` (an HTTP frontend may not use a TCP backend: refused; a TCP frontend may use
  // an HTTP backend, as in HAProxy).
  bool mode_http = false;
  // option http-keep-alive (the default) | http-server-close | httpclose: the last one wins.
  enum class HttpConnMode { kKeepAlive, kServerClose, kClose };
  HttpConnMode http_conn_mode = HttpConnMode::kKeepAlive;
  // http-reuse never|safe|aggressive|always.
  enum class HttpReuse { kNever, kSafe, kAggressive, kAlways };
  HttpReuse http_reuse = HttpReuse::kSafe;
  uint32_t timeout_http_request_ms = 0, timeout_http_keep_alive_ms = 0;  // 0: not set
  // option forwardfor [except NET] [header NAME] [if-none].
  bool forwardfor = false;
  bool forwardfor_if_none = false;
  std::string forwardfor_header = "x-forwarded-for";
  std::optional<net::IpPrefix> forwardfor_except;
  bool httplog = false, httplog_clf = false;  // option httplog [clf]
  bool accept_invalid_request = false, accept_invalid_response = false;
  bool buffer_request = false;  // option http-buffer-request
  // errorfile CODE FILE (and http-error, errorfiles): the whole answer (status line, fields,
  // body) sent instead of HAProxy's page for CODE, read when the configuration is; empty:
  // HAProxy's page (http-error's default-errorfiles). `seq` orders the directives, so that
  // `errorfiles NAME` still gives way to the lines after it when its http-errors section is
  // only read later.
  struct Answer {
    unsigned code = 0;
    std::string text;
    uint64_t seq = 0;
  };
  std::vector<Answer> errorfiles;
  // `errorfiles NAME [CODE...]` (or http-error's `errorfiles NAME`): the answers of the
  // http-errors section NAME (those of CODE... only), resolved once every file is read.
  struct ErrorfilesRef {
    std::string section;
    std::vector<unsigned> codes;  // empty: all of them
    uint64_t seq = 0;
    std::string file;
    int line = 0;
  };
  std::vector<ErrorfilesRef> errorfiles_refs;
  // A backend's room in the workers' server table (proxy::kMaxServers slots in all), after
  // the previous backend's: its servers in file order, then room for servers `add server`
  // brings at run time. Read it with SlotsOf (a model built without the parser has none).
  uint32_t slots = 0;
  uint32_t SlotsOf() const {
    return slots > servers.size() ? slots : static_cast<uint32_t>(servers.size());
  }
  std::string file;
  int line = 0;
};

// The workers' server table (proxy::kMaxServers slots), shared out by LayOutServerSlots.
inline constexpr uint32_t kServerSlots = 1024;
// Slots kept free in each backend for `add server`, at most (fewer when the configured
// servers leave less room: the rest is shared equally).
inline constexpr uint32_t kDynamicServerSlots = 32;

// `defaults [NAME] [from NAME]`: settings for the proxy sections that follow it.
struct DefaultsConfig {
  std::string name;
  std::string mode;                                           // "tcp" or "http"; empty when not set
  std::vector<std::pair<std::string, uint32_t>> timeouts_ms;  // `timeout NAME TIME`, by name
  std::vector<std::string> options;  // `option X` as "X", `no option X` as "no X"
  std::optional<unsigned> retries;
  std::optional<unsigned> maxconn;
  std::vector<std::string> balance;  // `balance ALGO [ARGS]`: the words after the keyword
  // The same settings as proxies inherit them (kind, name, binds and servers unused), and
  // the `default-server` params.
  ProxyConfig proxy;
  ServerConfig default_server;
  std::string file;
  int line = 0;
};

// A `userlist` section (configuration.txt 3.4): users with a password (a crypt(3) hash, or
// clear text with `insecure-password`) and the groups they belong to, for http_auth() and
// `http-request auth`.
// `http-errors NAME` (configuration.txt 3.8): `errorfile CODE FILE` lines that proxies take
// with `errorfiles NAME [CODE...]`.
struct HttpErrorsConfig {
  std::string name;
  std::string file;
  int line = 0;
  std::vector<std::pair<unsigned, std::string>> errorfiles;  // code, the whole answer
};

struct UserlistConfig {
  std::string name;
  std::string file;
  int line = 0;
  struct User {
    std::string name;
    std::string password;   // empty with has_password false: never authenticates
    bool insecure = false;  // insecure-password: compared as written
    bool has_password = false;
    std::vector<std::string> groups;  // `groups g1,g2`
    int line = 0;
  };
  struct Group {
    std::string name;
    std::vector<std::string> users;  // `users u1,u2`
    int line = 0;
  };
  std::vector<User> users;
  std::vector<Group> groups;
};

struct Config {
  GlobalConfig global;
  DataplaneConfig dataplane;
  std::vector<DefaultsConfig> defaults;   // in file order
  std::vector<ProxyConfig> proxies;       // frontend, backend and listen sections, in file order
  std::vector<UserlistConfig> userlists;  // in file order
  std::vector<HttpErrorsConfig> http_errors;  // http-errors sections, in file order
  std::vector<std::string> files;         // files read, in order

  unsigned Workers() const {
    if (dataplane.workers) return dataplane.workers;
    if (global.nbthread) return *global.nbthread;
    return 1;
  }
};

struct ParseOutcome {
  Config config;
  std::vector<Diagnostic> diagnostics;
  bool HasErrors() const;
};

// Reads each path in order (a directory: its *.cfg files in lexical order, as haproxy -f
// does) into one configuration. Never throws on bad input: every problem is a Diagnostic.
ParseOutcome ParseFiles(const std::vector<std::string>& paths);
// The request a backend's HTTP health check sends, as HAProxy 2.6 writes it: the request
// line, the `hdr` fields (names in lower case), `content-length` when there is a body,
// `connection: close` for HTTP/1.1, the empty line, the body.
std::string HealthCheckRequest(const ProxyConfig& p);
// `add server B/NAME ADDR[:PORT] [params]` (the Runtime API): `words` are ADDR and the
// params, read as a `server` line's (no default-server applies, as in HAProxy 2.6); the
// params HAProxy refuses for dynamic servers (cookie, non-stick, track, redir) and `ssl`
// are refused. The error is the text the stats socket answers.
base::Result<ServerConfig> ParseRuntimeServer(const GlobalConfig& global, const std::string& name,
                                              const std::vector<std::string>& words);

// Parses text as if read from `file_name` (used by tests and fuzzers).
ParseOutcome ParseText(const std::string& text, const std::string& file_name);

// One line per diagnostic, in haproxy's style, with `pid` in the prefix (no trailing newline).
std::string FormatDiagnostic(const Diagnostic& d, int pid);

// Lexer limits, as haproxy's: a line longer than this (before or after "${VAR}" expansion)
// or with more words is an error.
inline constexpr size_t kMaxLineBytes = 64 * 1024;
inline constexpr size_t kMaxLineWords = 64;

// Splits one line (without its newline) into words the way haproxy does: `#` comments,
// blanks, "double quotes" with "${VAR}" expansion and escapes, 'single quotes' taken
// literally, backslash escapes and unquoted "${VAR}". The error names the problem (not the
// location). Exposed for tests and fuzzers.
base::Result<std::vector<std::string>> SplitLine(std::string_view line);

}  // namespace sluice::config
