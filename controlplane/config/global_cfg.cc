// Slow path: the `global` section's keyword table. Keywords that mean nothing on a DPDK
// appliance are accepted with a warning saying why, so that existing haproxy files load.
#include <grp.h>
#include <pwd.h>

#include <span>
#include <string>

#include "controlplane/config/parse_context.h"
#include "dataplane/net/addr_text.h"

namespace sluice::config {
namespace {

constexpr uint64_t kMaxNbthread = 64;  // haproxy's MAX_THREADS on 64-bit builds

void Nbthread(ParseContext& ctx, const KeywordRow&, const Args& args) {
  uint64_t v = 0;
  if (!ParseUnsignedArg(ctx, args[1], 1, kMaxNbthread, &v)) return;
  ctx.config.global.nbthread = static_cast<unsigned>(v);
  ctx.nbthread_file = ctx.file;
  ctx.nbthread_line = ctx.line;
}

void Maxconn(ParseContext& ctx, const KeywordRow&, const Args& args) {
  uint64_t v = 0;
  if (!ParseUnsignedArg(ctx, args[1], 1, INT32_MAX, &v)) return;
  ctx.config.global.maxconn = static_cast<unsigned>(v);
}

// tune.bufsize N, tune.maxrewrite N, tune.http.maxhdr N: the bounds of HTTP heads (HAProxy
// 2.6.12's messages; Sluice keeps heads of at most 64 KiB and 1024 fields).
void TuneHttp(ParseContext& ctx, const KeywordRow&, const Args& args) {
  GlobalConfig& g = ctx.config.global;
  const std::string& k = args[0];
  uint64_t v = 0;
  bool number = false;
  if (args.size() > 1) {
    if (const std::optional<uint64_t> parsed = ParseDecimal(args[1])) {
      v = *parsed;
      number = true;
    }
  }
  if (k == "tune.bufsize") {
    if (args.size() < 2) {
      ctx.Alert("'tune.bufsize' expects an integer argument.");
    } else if (!number || v == 0) {
      ctx.Alert("'tune.bufsize' expects a positive integer argument.");
    } else if (v < 1024 || v > 65536) {
      ctx.Alert("'tune.bufsize' " + args[1] +
                ": sluice takes a size between 1024 and 65536 bytes (heads of at most 64 KiB).");
    } else {
      g.tune_bufsize = static_cast<uint32_t>(v);
    }
  } else if (k == "tune.maxrewrite") {
    // As HAProxy reads it (atol): what does not parse is 0.
    g.tune_maxrewrite = static_cast<uint32_t>(number && v < UINT32_MAX ? v : 0);
  } else if (!number || v < 1 || v > 32767) {  // tune.http.maxhdr
    ctx.Alert("'tune.http.maxhdr' expects a numeric value between 1 and 32767");
  } else if (v > 1025) {
    ctx.Alert("'tune.http.maxhdr' " + args[1] +
              ": sluice keeps at most 1024 header fields (a value up to 1025).");
  } else {
    g.tune_http_maxhdr = static_cast<uint32_t>(v);
  }
}

// Recorded for the logger to come; checked as haproxy reads it (proxy_cfg.cc).
void Log(ParseContext& ctx, const KeywordRow&, const Args& args) {
  std::string line;
  if (ParseLogLine(ctx, args, false, &line)) ctx.config.global.logs.push_back(std::move(line));
}

bool ParseSocketAddress(std::string_view text, StatsSocketConfig* out) {
  using Kind = StatsSocketConfig::Kind;
  auto host_port = [&](std::string_view hp, bool v6) {
    std::string_view host;
    std::string_view port;
    if (!hp.empty() && hp[0] == '[') {
      const size_t close = hp.find(']');
      if (close == std::string_view::npos || close + 1 >= hp.size() || hp[close + 1] != ':') {
        return false;
      }
      host = hp.substr(1, close - 1);
      port = hp.substr(close + 2);
    } else {
      const size_t colon = hp.rfind(':');
      if (colon == std::string_view::npos) return false;
      host = hp.substr(0, colon);
      port = hp.substr(colon + 1);
    }
    const auto p = ParseDecimal(port);
    if (!p || *p == 0 || *p > 65535) return false;
    auto ip = net::ParseIp(host);
    if (!ip || ip->is_v6 != v6) return false;
    out->kind = v6 ? Kind::kTcp6 : Kind::kTcp4;
    out->address = std::string(host);
    out->port = static_cast<uint16_t>(*p);
    return true;
  };
  if (text.starts_with("unix@")) text.remove_prefix(5);
  if (text.starts_with("/") || text.starts_with("./")) {
    out->kind = Kind::kUnix;
    out->path = std::string(text);
    return out->path.size() < 100;  // sun_path holds 108 bytes with the temporary suffix
  }
  if (text.starts_with("ipv4@")) return host_port(text.substr(5), false);
  if (text.starts_with("ipv6@")) return host_port(text.substr(5), true);
  return host_port(text, false) || host_port(text, true);
}

// `level user|operator|admin` of `stats socket` and `stats rest`, with HAProxy's error.
bool ParseLevel(ParseContext& ctx, std::string_view what, const std::string& v,
                StatsSocketConfig::Level* out) {
  if (v == "user") {
    *out = StatsSocketConfig::Level::kUser;
  } else if (v == "operator") {
    *out = StatsSocketConfig::Level::kOperator;
  } else if (v == "admin") {
    *out = StatsSocketConfig::Level::kAdmin;
  } else {
    ctx.Alert("'" + std::string(what) +
              "' : 'level' only supports 'user', 'operator', and 'admin'.");
    return false;
  }
  return true;
}

// `stats socket ...` (haproxy's bind options that matter for a CLI socket).
void StatsSocket(ParseContext& ctx, const Args& args) {
  if (args.size() < 3) {
    ctx.Alert("'stats socket' expects a path or an address (ipv4@A:P, ipv6@[A]:P).");
    return;
  }
  StatsSocketConfig sock;
  sock.file = ctx.file;
  sock.line = ctx.line;
  if (!ParseSocketAddress(args[2], &sock)) {
    ctx.Alert("'stats socket' : cannot parse address " + Quoted(args[2]) +
              " (expected /path, unix@/path, ipv4@A:P or ipv6@[A]:P).");
    return;
  }
  for (size_t i = 3; i < args.size(); ++i) {
    const std::string& opt = args[i];
    const bool has_value = i + 1 < args.size();
    if (opt == "level" && has_value) {
      if (!ParseLevel(ctx, "stats socket", args[++i], &sock.level)) return;
    } else if (opt == "mode" && has_value) {
      const std::string& v = args[++i];
      uint32_t mode = 0;
      bool ok = !v.empty() && v.size() <= 4;
      for (char c : v) ok = ok && c >= '0' && c <= '7', mode = mode * 8 + (c - '0');
      if (!ok) {
        ctx.Alert("'stats socket' : 'mode' expects an octal mode, got " + Quoted(v) + ".");
        return;
      }
      sock.mode = mode;
    } else if ((opt == "uid" || opt == "gid") && has_value) {
      const auto v = ParseDecimal(args[++i]);
      if (!v || *v > UINT32_MAX) {
        ctx.Alert("'stats socket' : '" + opt + "' expects an integer, got " + Quoted(args[i]) +
                  ".");
        return;
      }
      (opt == "uid" ? sock.uid : sock.gid) = static_cast<uint32_t>(*v);
    } else if (opt == "user" && has_value) {
      const passwd* pw = getpwnam(args[++i].c_str());
      if (!pw) {
        ctx.Alert("'stats socket' : unknown user " + Quoted(args[i]) + ".");
        return;
      }
      sock.uid = pw->pw_uid;
    } else if (opt == "group" && has_value) {
      const group* gr = getgrnam(args[++i].c_str());
      if (!gr) {
        ctx.Alert("'stats socket' : unknown group " + Quoted(args[i]) + ".");
        return;
      }
      sock.gid = gr->gr_gid;
    } else if (opt == "expose-fd" && has_value) {
      ++i;
      ctx.Warn("'stats socket' : 'expose-fd' is ignored: sluice does not hand sockets over.");
    } else if ((opt == "process" || opt == "thread" || opt == "name" || opt == "maxconn") &&
               has_value) {
      ++i;
      ctx.Warn("'stats socket' : '" + opt + "' is ignored by sluice.");
    } else {
      ctx.Alert("'stats socket' : unknown keyword " + Quoted(opt) +
                " (supported: level, mode, uid, gid, user, group).");
      return;
    }
  }
  ctx.config.global.stats_sockets.push_back(std::move(sock));
}

// `stats rest ADDR:PORT [level L] [userlist NAME] [crt FILE] [maxconn N] [max-body N]`
void StatsRest(ParseContext& ctx, const Args& args) {
  if (args.size() < 3) {
    ctx.Alert("'stats rest' expects an address (ipv4@A:P, ipv6@[A]:P or A:P).");
    return;
  }
  StatsSocketConfig addr;
  if (!ParseSocketAddress(args[2], &addr) || addr.kind == StatsSocketConfig::Kind::kUnix) {
    ctx.Alert("'stats rest' : cannot parse address " + Quoted(args[2]) +
              " (expected ipv4@A:P, ipv6@[A]:P or A:P).");
    return;
  }
  StatsRestConfig rest;
  rest.address = addr.address;
  rest.port = addr.port;
  rest.v6 = addr.kind == StatsSocketConfig::Kind::kTcp6;
  rest.file = ctx.file;
  rest.line = ctx.line;
  for (size_t i = 3; i < args.size(); ++i) {
    const std::string& opt = args[i];
    if (i + 1 >= args.size()) {
      ctx.Alert("'stats rest' : '" + opt + "' expects a value.");
      return;
    }
    const std::string& v = args[++i];
    uint64_t n = 0;
    if (opt == "level") {
      if (!ParseLevel(ctx, "stats rest", v, &rest.level)) return;
    } else if (opt == "userlist") {
      rest.userlist = v;
    } else if (opt == "crt") {
      rest.crt = v;
      const std::string path = v.starts_with('/') || ctx.config.global.crt_base.empty()
                                   ? v
                                   : ctx.config.global.crt_base + "/" + v;
      if (ReadBoundedFile(path, kMaxTlsFileBytes, &rest.crt_pem) != FileRead::kOk ||
          rest.crt_pem.find("PRIVATE KEY-----") == std::string::npos ||
          rest.crt_pem.find("BEGIN CERTIFICATE") == std::string::npos) {
        ctx.Alert("'stats rest' : unable to load certificate and key from file " + Quoted(path) +
                  ".");
        return;
      }
    } else if (opt == "maxconn") {
      if (!ParseUnsignedArg(ctx, v, 1, 100000, &n)) return;
      rest.maxconn = static_cast<unsigned>(n);
    } else if (opt == "max-body") {
      if (!ParseUnsignedArg(ctx, v, 1, 1u << 30, &n)) return;
      rest.max_body = n;
    } else {
      ctx.Alert("'stats rest' : unknown keyword " + Quoted(opt) +
                " (supported: level, userlist, crt, maxconn, max-body).");
      return;
    }
  }
  ctx.config.global.stats_rest.push_back(std::move(rest));
}

// `stats socket|rest|timeout|maxconn|bind-process ...`
void Stats(ParseContext& ctx, const KeywordRow&, const Args& args) {
  const std::string& what = args[1];
  ctx.keyword = "stats " + what;
  if (what == "bind-process") {
    ctx.Warn("'stats bind-process' is ignored: sluice runs a single process.");
  } else if (what == "socket") {
    StatsSocket(ctx, args);
  } else if (what == "rest") {
    StatsRest(ctx, args);
  } else if (what == "timeout") {
    const auto ms = args.size() == 3 ? ParseTimeMs(args[2]) : std::nullopt;
    if (!ms || *ms == 0 || *ms > INT32_MAX) {
      ctx.Alert("'stats timeout' expects a positive time (e.g. 10s, 2m).");
      return;
    }
    ctx.config.global.stats_timeout_ms = *ms;
  } else if (what == "maxconn") {
    uint64_t v = 0;
    if (args.size() != 3 || !ParseUnsignedArg(ctx, args[2], 1, 100000, &v)) {
      if (args.size() != 3) ctx.Alert("'stats maxconn' expects an integer.");
      return;
    }
    ctx.config.global.stats_maxconn = static_cast<unsigned>(v);
  } else {
    ctx.keyword = "stats";
    ctx.Alert(
        "'stats' only supports 'socket', 'rest', 'timeout', 'maxconn' and 'bind-process' in "
        "the 'global' section, got " +
        Quoted(what) + ".");
  }
}

constexpr std::string_view kForeground = "sluice runs in the foreground under its supervisor";
constexpr std::string_view kPrivileges =
    "sluice's supervisor sets its privileges and root directory (DPDK needs /dev and /sys)";
constexpr std::string_view kTls =
    "sluice does not take this TLS setting yet (docs/tls.md lists what it takes)";
constexpr std::string_view kNoTlsCache =
    "sluice keeps no TLS session cache: sessions resume with stateless tickets (docs/tls.md)";
constexpr std::string_view kChecks = "health checks are not supported yet by sluice";
constexpr std::string_view kSingleProcess =
    "sluice is one process; set 'workers' in the 'dataplane' section";
constexpr std::string_view kNoFds =
    "sluice's data plane does not use file descriptors or kernel sockets for traffic";
constexpr std::string_view kTune = "haproxy's tunables do not apply to sluice's data plane";
constexpr std::string_view kCores = "cores are chosen with EAL options ('eal-args' in 'dataplane')";
constexpr std::string_view kNotUsed = "sluice does not use it yet";

constexpr KeywordRow kGlobalKeywords[] = {
    {"nbthread", Match::kExact, &Nbthread, 1, 1, "an integer between 1 and 64", ""},
    {"maxconn", Match::kExact, &Maxconn, 1, 1, "an integer between 1 and 2147483647", ""},
    {"stats", Match::kExact, &Stats, 1, -1,
     "'socket', 'rest', 'timeout', 'maxconn' or 'bind-process'", ""},
    {"log", Match::kExact, &Log, 1, -1, "a target and a facility (log 127.0.0.1:514 local0)", ""},
    NotYetRow("log-send-hostname"),
    NotYetRow("log-tag"),
    NotYetRow("hard-stop-after"),
    NotYetRow("server-state-file"),
    NotYetRow("server-state-base"),
    IgnoredRow(Match::kExact, "daemon", kForeground),
    IgnoredRow(Match::kExact, "master-worker", kForeground),
    IgnoredRow(Match::kExact, "pidfile", kForeground),
    IgnoredRow(Match::kExact, "quiet", kForeground),
    IgnoredRow(Match::kExact, "chroot", kPrivileges),
    IgnoredRow(Match::kExact, "user", kPrivileges),
    IgnoredRow(Match::kExact, "group", kPrivileges),
    IgnoredRow(Match::kExact, "uid", kPrivileges),
    IgnoredRow(Match::kExact, "gid", kPrivileges),
    IgnoredRow(Match::kExact, "set-dumpable", "core dumps are set up by sluice's supervisor"),
    IgnoredRow(Match::kExact, "nbproc", kSingleProcess),
    IgnoredRow(Match::kExact, "cpu-map", kCores),
    IgnoredRow(Match::kExact, "numa-cpu-mapping", kCores),
    IgnoredRow(Match::kExact, "ulimit-n", kNoFds),
    IgnoredRow(Match::kExact, "maxpipes", kNoFds),
    IgnoredRow(Match::kExact, "noepoll", kNoFds),
    IgnoredRow(Match::kExact, "nopoll", kNoFds),
    IgnoredRow(Match::kExact, "nosplice", kNoFds),
    IgnoredRow(Match::kExact, "noreuseport", kNoFds),
    IgnoredRow(Match::kExact, "busy-polling",
               "sluice's workers always poll (see 'idle-sleep' in 'dataplane')"),
    IgnoredRow(Match::kExact, "node", kNotUsed),
    IgnoredRow(Match::kExact, "description", kNotUsed),
    IgnoredRow(Match::kExact, "localpeer", "peers are not supported by sluice"),
    IgnoredRow(Match::kExact, "spread-checks", kChecks),
    IgnoredRow(Match::kExact, "max-spread-checks", kChecks),
    IgnoredRow(Match::kExact, "external-check", kChecks),
    {"ca-base", Match::kExact, &SslDefaultBind, 1, 1, "a directory", ""},
    {"crt-base", Match::kExact, &SslDefaultBind, 1, 1, "a directory", ""},
    IgnoredRow(Match::kExact, "maxsslconn", kTls),
    IgnoredRow(Match::kExact, "maxsslrate", kTls),
    {"ssl-default-bind-ciphers", Match::kExact, &SslDefaultBind, 0, -1, "", ""},
    {"ssl-default-bind-ciphersuites", Match::kExact, &SslDefaultBind, 0, -1, "", ""},
    {"ssl-default-bind-curves", Match::kExact, &SslDefaultBind, 0, -1, "", ""},
    {"ssl-default-bind-options", Match::kExact, &SslDefaultBind, 0, -1, "", ""},
    {"ssl-default-server-ciphers", Match::kExact, &SslDefaultBind, 0, -1, "", ""},
    {"ssl-default-server-ciphersuites", Match::kExact, &SslDefaultBind, 0, -1, "", ""},
    {"ssl-default-server-options", Match::kExact, &SslDefaultBind, 0, -1, "", ""},
    {"ssl-server-verify", Match::kExact, &SslGlobal, 0, -1, "", ""},
    {"ssl-load-extra-files", Match::kExact, &SslGlobal, 0, -1, "", ""},
    {"tune.ssl.lifetime", Match::kExact, &SslGlobal, 0, -1, "", ""},
    {"tune.ssl.maxrecord", Match::kExact, &SslGlobal, 0, -1, "", ""},
    {"tune.ssl.default-dh-param", Match::kExact, &SslGlobal, 0, -1, "", ""},
    IgnoredRow(Match::kExact, "tune.ssl.cachesize", kNoTlsCache),
    IgnoredRow(Match::kExact, "tune.ssl.force-private-cache", kNoTlsCache),
    IgnoredRow(Match::kPrefix, "ssl-", kTls),
    {"tune.bufsize", Match::kExact, &TuneHttp, 0, -1, "", ""},
    {"tune.maxrewrite", Match::kExact, &TuneHttp, 0, -1, "", ""},
    {"tune.http.maxhdr", Match::kExact, &TuneHttp, 0, -1, "", ""},
    IgnoredRow(Match::kPrefix, "tune.", kTune),
    IgnoredRow(Match::kPrefix, "h1-case-adjust", "sluice does not change the case of header names"),
    IgnoredRow(Match::kPrefix, "lua-", "sluice has no Lua engine"),
    IgnoredRow(Match::kPrefix, "profiling.", kNotUsed),
    IgnoredRow(Match::kPrefix, "httpclient.", kNotUsed),
    IgnoredRow(Match::kExact, "strict-limits", kNotUsed),
    IgnoredRow(Match::kExact, "expose-experimental-directives", kNotUsed),
    IgnoredRow(Match::kExact, "insecure-fork-wanted", "sluice never forks"),
    IgnoredRow(Match::kExact, "insecure-setuid-wanted", "sluice never changes its user"),
    IgnoredRow(Match::kExact, "unix-bind", kNotUsed),
    IgnoredRow(Match::kExact, "default-path", kNotUsed),
    IgnoredRow(Match::kExact, "maxconnrate", kNotUsed),
    IgnoredRow(Match::kExact, "maxsessrate", kNotUsed),
    IgnoredRow(Match::kExact, "maxcomprate", kNotUsed),
    IgnoredRow(Match::kExact, "maxcompcpuusage", kNotUsed),
    IgnoredRow(Match::kExact, "maxzlibmem", kNotUsed),
};

}  // namespace

std::span<const KeywordRow> GlobalKeywords() { return kGlobalKeywords; }

}  // namespace sluice::config
