// Slow path: the proxy sections, `frontend`, `backend` and `listen` (mode tcp or http), and their
// `defaults`. One keyword table serves the four, as in haproxy (configuration.txt 2.6, section
// 4): a keyword meant for the other side of a proxy (`balance` in a frontend,
// `default_backend` in a backend) is ignored with a warning; a defaults section accepts all
// of them and each proxy copies what applies to it from the last defaults section before it
// (or from `from NAME`). What sluice cannot do yet is refused where it is written, or, for a
// defaults section's `balance uri`, at the proxy that would use it (resolve_cfg.cc).
#include <algorithm>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "controlplane/config/parse_context.h"
#include "controlplane/log/log.h"
#include "dataplane/net/addr_text.h"

namespace sluice::config {

bool InDefaults(const ParseContext& ctx) { return ctx.section == Section::kDefaults; }

ProxyConfig& Target(ParseContext& ctx) {
  return InDefaults(ctx) ? ctx.config.defaults.back().proxy : ctx.config.proxies.back();
}

SectionState& State(ParseContext& ctx) {
  return InDefaults(ctx) ? ctx.defaults_state.back() : ctx.proxy_state.back();
}

Origin Here(const ParseContext& ctx) { return Origin{ctx.file, ctx.line, ctx.keyword}; }

bool RefuseInDefaults(ParseContext& ctx) {
  if (!InDefaults(ctx)) return false;
  ctx.Alert(Quoted(ctx.keyword) + " is not allowed in a 'defaults' section.");
  return true;
}

bool Allowed(ParseContext& ctx, unsigned caps, const std::string& what) {
  if (InDefaults(ctx)) return true;
  const ProxyConfig& p = ctx.config.proxies.back();
  if (((caps & kFrontendCap) && p.HasFrontend()) || ((caps & kBackendCap) && p.HasBackend())) {
    return true;
  }
  ctx.Warn("'" + what + "' ignored because " + std::string(KindName(p.kind)) + " " +
           Quoted(p.name) + " has no " + ((caps & kFrontendCap) ? "frontend" : "backend") +
           " capability.");
  return false;
}

namespace {

using Kind = ProxyConfig::Kind;

// The defaults section's legacy fields, or null in a proxy section.
DefaultsConfig* Legacy(ParseContext& ctx) {
  return InDefaults(ctx) ? &ctx.config.defaults.back() : nullptr;
}

std::string Join(const Args& args, size_t first) {
  std::string out;
  for (size_t i = first; i < args.size(); ++i) {
    if (i > first) out += ' ';
    out += args[i];
  }
  return out;
}

// Alerts for keywords that make no sense in a defaults section; true when in one.
void Mode(ParseContext& ctx, const KeywordRow&, const Args& args) {
  const std::string& mode = args[1];
  if (mode == "health") {
    ctx.Alert(
        "'mode' expects 'tcp' or 'http', got 'health': 'mode health' no longer exists in "
        "HAProxy.");
    return;
  }
  if (mode != "tcp" && mode != "http") {
    ctx.Alert("'mode' expects 'tcp' or 'http', got " + Quoted(mode) + ".");
    return;
  }
  Target(ctx).mode_http = mode == "http";
  if (DefaultsConfig* d = Legacy(ctx)) d->mode = mode;
}

struct TimeoutRow {
  std::string_view name;
  unsigned caps;
  uint32_t ProxyConfig::*field;  // null: accepted, not supported yet
};

constexpr TimeoutRow kTimeouts[] = {
    {"client", kFrontendCap, &ProxyConfig::timeout_client_ms},
    {"server", kBackendCap, &ProxyConfig::timeout_server_ms},
    {"connect", kBackendCap, &ProxyConfig::timeout_connect_ms},
    {"queue", kBackendCap, &ProxyConfig::timeout_queue_ms},
    {"tunnel", kBackendCap, &ProxyConfig::timeout_tunnel_ms},
    {"http-request", kFrontendCap, &ProxyConfig::timeout_http_request_ms},
    {"http-keep-alive", kFrontendCap, &ProxyConfig::timeout_http_keep_alive_ms},
    {"client-fin", kFrontendCap, &ProxyConfig::timeout_client_fin_ms},
    {"server-fin", kBackendCap, &ProxyConfig::timeout_server_fin_ms},
    {"check", kBackendCap, &ProxyConfig::timeout_check_ms},
    {"tarpit", kFrontendCap | kBackendCap, nullptr},
};

void Timeout(ParseContext& ctx, const KeywordRow&, const Args& args) {
  const std::string& name = args[1];
  const TimeoutRow* row = nullptr;
  for (const TimeoutRow& r : kTimeouts) {
    if (r.name == name) row = &r;
  }
  if (row == nullptr) {
    ctx.Alert(
        "'timeout' supports 'client', 'server', 'connect', 'queue', 'tunnel', "
        "'http-request', 'http-keep-alive', 'client-fin', 'server-fin', 'check' and "
        "'tarpit', got " +
        Quoted(name) + ".");
    return;
  }
  const auto ms = ParseTimeMs(args[2]);
  if (!ms || *ms > kMaxTimeoutMs) {
    ctx.Alert("'timeout " + name + "' expects a time such as 500ms, 30s, 5m, 1h or 1d " +
              "(at most 2147483647ms), got " + Quoted(args[2]) + ".");
    return;
  }
  const auto value = static_cast<uint32_t>(*ms);
  if (DefaultsConfig* d = Legacy(ctx)) {
    auto& timeouts = d->timeouts_ms;
    auto it = std::find_if(timeouts.begin(), timeouts.end(),
                           [&](const auto& t) { return t.first == name; });
    if (it != timeouts.end()) {
      it->second = value;
    } else {
      timeouts.emplace_back(name, value);
    }
  }
  if (!Allowed(ctx, row->caps, "timeout " + name)) return;
  if (row->field == nullptr) {
    ctx.Warn("'timeout " + name + "' is not supported yet by sluice, ignored.");
    return;
  }
  Target(ctx).*(row->field) = value;
}

// `contimeout`, `redispatch`, ...: keywords haproxy removed; the row's note is the
// replacement.
void Removed(ParseContext& ctx, const KeywordRow& row, const Args& args) {
  ctx.Alert(Quoted(args[0]) + " no longer exists in HAProxy; use " + std::string(row.note) +
            " instead.");
}

// haproxy 2.6's proxy options.
constexpr std::string_view kOptions[] = {
    "abortonclose",
    "accept-invalid-http-request",
    "accept-invalid-http-response",
    "allbackups",
    "checkcache",
    "clitcpka",
    "contstats",
    "disable-h2-upgrade",
    "dontlog-normal",
    "dontlognull",
    "external-check",
    "forwardfor",
    "h1-case-adjust-bogus-client",
    "h1-case-adjust-bogus-server",
    "http-buffer-request",
    "http-ignore-probes",
    "http-keep-alive",
    "http-no-delay",
    "http-pretend-keepalive",
    "http-server-close",
    "http-use-proxy-header",
    "http_proxy",
    "httpchk",
    "httpclose",
    "httplog",
    "idle-close-on-response",
    "independent-streams",
    "ldap-check",
    "log-health-checks",
    "log-separate-errors",
    "logasap",
    "mysql-check",
    "nolinger",
    "originalto",
    "persist",
    "pgsql-check",
    "prefer-last-server",
    "redis-check",
    "redispatch",
    "smtpchk",
    "socket-stats",
    "splice-auto",
    "splice-request",
    "splice-response",
    "spop-check",
    "srvtcpka",
    "ssl-hello-chk",
    "tcp-check",
    "tcp-smart-accept",
    "tcp-smart-connect",
    "tcpka",
    "tcplog",
    "transparent",
};

// option forwardfor [except NETWORK] [header NAME] [if-none]
void ForwardFor(ParseContext& ctx, const Args& args, size_t at, bool negated, ProxyConfig& p) {
  if (negated) {
    p.forwardfor = false;
    return;
  }
  p.forwardfor = true;
  p.forwardfor_if_none = false;
  p.forwardfor_header = "x-forwarded-for";
  p.forwardfor_except.reset();
  for (size_t i = at + 1; i < args.size(); ++i) {
    if (args[i] == "if-none") {
      p.forwardfor_if_none = true;
    } else if ((args[i] == "header" || args[i] == "except") && i + 1 < args.size()) {
      if (args[i] == "header") {
        p.forwardfor_header = args[++i];
        if (p.forwardfor_header.empty() || p.forwardfor_header.size() > 63) {
          ctx.Alert("'option forwardfor header' expects a name of 1 to 63 characters, got " +
                    Quoted(p.forwardfor_header) + ".");
          return;
        }
        continue;
      }
      const auto net = net::ParsePrefix(args[++i], true);
      if (!net) {
        ctx.Alert("'option forwardfor except' expects a network such as 10.0.0.0/8, got " +
                  Quoted(args[i]) + ".");
        return;
      }
      p.forwardfor_except = *net;
    } else {
      ctx.Alert("'option forwardfor' expects [except NETWORK] [header NAME] [if-none], got " +
                Quoted(args[i]) + ".");
      return;
    }
  }
}

// `option NAME ...` or `no option NAME` with NAME at args[at].
void ApplyOption(ParseContext& ctx, const Args& args, size_t at, bool negated) {
  const std::string& name = args[at];
  const size_t extra = args.size() - at - 1;
  const std::string shown = (negated ? "no option " : "option ") + name;
  if (std::find(std::begin(kOptions), std::end(kOptions), name) == std::end(kOptions)) {
    ctx.Alert("unknown option " + Quoted(name) + ".");
    return;
  }
  if (name.starts_with("splice-")) {
    ctx.Warn("'option " + name +
             "' is ignored: sluice moves mbufs and has no pipes to "
             "splice through.");
    return;
  }
  if (negated && (name == "tcplog" || name == "httpchk")) {
    ctx.Alert("negation is not supported for option " + Quoted(name) + ".");
    return;
  }
  const bool bare = name == "redispatch" || name == "persist" || name == "tcplog";
  if ((bare || name.ends_with("tcpka")) && extra > 0) {
    ctx.Alert("'" + shown + "' takes no argument in sluice, got " + Quoted(args[at + 1]) + ".");
    return;
  }
  if (name == "httpchk" && extra > 3) {
    ctx.Alert("'option httpchk' expects [METHOD] [URI] [VERSION], got extra argument " +
              Quoted(args[at + 4]) + ".");
    return;
  }
  if (DefaultsConfig* d = Legacy(ctx)) d->options.push_back(negated ? "no " + name : name);
  ProxyConfig& p = Target(ctx);
  if (name == "redispatch") {
    if (Allowed(ctx, kBackendCap, shown)) p.redispatch = !negated;
  } else if (name == "persist") {
    if (Allowed(ctx, kBackendCap, shown)) p.persist = !negated;
  } else if (name == "clitcpka") {
    if (Allowed(ctx, kFrontendCap, shown)) p.clitcpka.on = !negated;
  } else if (name == "srvtcpka") {
    if (Allowed(ctx, kBackendCap, shown)) p.srvtcpka.on = !negated;
  } else if (name == "tcpka") {
    // Both sides, each where the section has that side (HAProxy's option tcpka).
    if (InDefaults(ctx) || p.HasFrontend()) p.clitcpka.on = !negated;
    if (InDefaults(ctx) || p.HasBackend()) p.srvtcpka.on = !negated;
  } else if (name == "tcplog") {
    p.tcplog = true;
  } else if (name == "http-keep-alive" || name == "http-server-close" || name == "httpclose") {
    // The three exclude each other: the last one written wins (HAProxy 2.6); `no option X`
    // goes back to keep-alive when X was the one in effect.
    using M = ProxyConfig::HttpConnMode;
    const M m = name == "httpclose"           ? M::kClose
                : name == "http-server-close" ? M::kServerClose
                                              : M::kKeepAlive;
    if (!negated) {
      p.http_conn_mode = m;
    } else if (p.http_conn_mode == m) {
      p.http_conn_mode = M::kKeepAlive;
    }
  } else if (name == "http-buffer-request") {
    // Sluice waits for the body before the frontend's rules (HAProxy also before a
    // backend's): in a section without a frontend it changes nothing.
    p.buffer_request = !negated;
    if (!negated && !InDefaults(ctx) && !p.HasFrontend()) {
      ctx.Warn("'" + shown + "' is only applied from a frontend, listen or defaults section "
               "by sluice: backend " + Quoted(p.name) + " waits for no request body.");
    }
  } else if (name == "accept-invalid-http-request") {
    if (Allowed(ctx, kFrontendCap, shown)) p.accept_invalid_request = !negated;
  } else if (name == "accept-invalid-http-response") {
    if (Allowed(ctx, kBackendCap, shown)) p.accept_invalid_response = !negated;
  } else if (name == "httplog") {
    if (!Allowed(ctx, kFrontendCap, shown)) return;
    p.httplog = !negated;
    p.httplog_clf = !negated && extra == 1 && args[at + 1] == "clf";
    if (extra > 1 || (extra == 1 && args[at + 1] != "clf")) {
      ctx.Alert("'option httplog' expects nothing or 'clf', got " + Quoted(args[at + 1]) + ".");
    }
  } else if (name == "forwardfor") {
    ForwardFor(ctx, args, at, negated, p);
  } else if (name == "httpchk") {
    if (!Allowed(ctx, kBackendCap, shown)) return;
    // option httpchk [URI] | METHOD URI [VERSION]
    p.httpchk = true;
    p.httpchk_method = "OPTIONS";
    p.httpchk_uri = "/";
    p.httpchk_version = "HTTP/1.0";
    if (extra == 1) {
      p.httpchk_uri = args[at + 1];
    } else if (extra >= 2) {
      p.httpchk_method = args[at + 1];
      p.httpchk_uri = args[at + 2];
      if (extra == 3) p.httpchk_version = args[at + 3];
    }
  } else {
    ctx.Warn("'" + shown + "' is not supported yet by sluice, ignored.");
  }
}

void Option(ParseContext& ctx, const KeywordRow&, const Args& args) {
  ApplyOption(ctx, args, 1, false);
}

// `no option NAME` and `no log`.
void No(ParseContext& ctx, const KeywordRow&, const Args& args) {
  if (args[1] == "option") {
    if (args.size() < 3) {
      ctx.Alert("'no option' expects an option name.");
      return;
    }
    ApplyOption(ctx, args, 2, true);
  } else if (args[1] == "log") {
    ctx.keyword = "no log";
    if (args.size() > 2) {
      ctx.Alert("'no log' takes no argument, got " + Quoted(args[2]) + ".");
      return;
    }
    Target(ctx).logs.clear();
  } else {
    ctx.Alert("'no' expects 'option' or 'log', got " + Quoted(args[1]) + ".");
  }
}

// clitcpka-idle, clitcpka-intvl, clitcpka-cnt and the srvtcpka-* three. Times default to
// seconds, as in HAProxy (which keeps whole seconds; sluice keeps milliseconds).
void TcpkaParam(ParseContext& ctx, const KeywordRow&, const Args& args) {
  const std::string& kw = args[0];
  const bool cli = kw.starts_with("cli");
  if (!Allowed(ctx, cli ? kFrontendCap : kBackendCap, kw)) return;
  ProxyConfig::Keepalive& ka = cli ? Target(ctx).clitcpka : Target(ctx).srvtcpka;
  if (kw.ends_with("-cnt")) {
    uint64_t v = 0;
    if (!ParseUnsignedArg(ctx, args[1], 1, 127, &v)) return;
    ka.cnt = static_cast<unsigned>(v);
    return;
  }
  const std::string& text = args[1];
  std::optional<uint64_t> ms;
  if (!text.empty() &&
      std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    if (text.size() <= 9) ms = std::stoull(text) * 1000;
  } else {
    ms = ParseTimeMs(text);
  }
  if (!ms || *ms == 0 || *ms > 32767ull * 1000) {
    ctx.Alert("'" + kw + "' expects a time such as 30 (seconds), 500ms or 2m, between 1ms and " +
              "32767s, got " + Quoted(text) + ".");
    return;
  }
  (kw.ends_with("-idle") ? ka.idle_ms : ka.intvl_ms) = static_cast<uint32_t>(*ms);
}

void Retries(ParseContext& ctx, const KeywordRow&, const Args& args) {
  uint64_t v = 0;
  if (!ParseUnsignedArg(ctx, args[1], 0, INT32_MAX, &v)) return;
  if (DefaultsConfig* d = Legacy(ctx)) d->retries = static_cast<unsigned>(v);
  if (Allowed(ctx, kBackendCap, "retries")) Target(ctx).retries = static_cast<unsigned>(v);
}

void Maxconn(ParseContext& ctx, const KeywordRow&, const Args& args) {
  uint64_t v = 0;
  if (!ParseUnsignedArg(ctx, args[1], 0, INT32_MAX, &v)) return;
  if (DefaultsConfig* d = Legacy(ctx)) d->maxconn = static_cast<unsigned>(v);
  if (Allowed(ctx, kFrontendCap, "maxconn")) Target(ctx).maxconn = static_cast<unsigned>(v);
}

constexpr std::string_view kBalanceAlgorithms[] = {
    "roundrobin", "static-rr", "leastconn", "first",      "source",
    "uri",        "url_param", "random",    "rdp-cookie",
};
constexpr std::string_view kBalanceWithParens[] = {"hdr(", "random(", "rdp-cookie("};

void Balance(ParseContext& ctx, const KeywordRow&, const Args& args) {
  const std::string& algo = args[1];
  bool known = std::find(std::begin(kBalanceAlgorithms), std::end(kBalanceAlgorithms), algo) !=
               std::end(kBalanceAlgorithms);
  for (std::string_view p : kBalanceWithParens) {
    known = known || (algo.starts_with(p) && algo.size() > p.size() && algo.back() == ')');
  }
  if (!known) {
    ctx.Alert(
        "'balance' expects roundrobin, static-rr, leastconn, first, source, uri, "
        "url_param, hdr(NAME), random or rdp-cookie, got " +
        Quoted(algo) + ".");
    return;
  }
  const auto supported = std::find_if(std::begin(proxy::kAlgoNames), std::end(proxy::kAlgoNames),
                                      [&](const proxy::AlgoName& s) { return s.name == algo; });
  const bool is_supported = supported != std::end(proxy::kAlgoNames);
  // The HTTP algorithms' names and arguments.
  proxy::Algo http_algo = proxy::Algo::kRoundRobin;
  bool whole = false;
  unsigned len = 0, depth = 0;
  std::string name;
  if (algo == "uri" || algo == "url_param" || algo.starts_with("hdr(") || algo == "random" ||
      algo.starts_with("random(")) {
    if (algo == "uri") {
      http_algo = proxy::Algo::kUri;
      for (size_t i = 2; i < args.size(); ++i) {
        uint64_t v = 0;
        if (args[i] == "whole") {
          whole = true;
        } else if ((args[i] == "len" || args[i] == "depth") && i + 1 < args.size() &&
                   ParseUnsignedArg(ctx, args[i + 1], 1, 65535, &v)) {
          (args[i] == "len" ? len : depth) = static_cast<unsigned>(v);
          ++i;
        } else {
          ctx.Alert("'balance uri' expects [whole] [len N] [depth N], got " + Quoted(args[i]) +
                    ".");
          return;
        }
      }
    } else if (algo == "url_param") {
      http_algo = proxy::Algo::kUrlParam;
      if (args.size() < 3) {
        ctx.Alert("'balance url_param' expects a parameter name.");
        return;
      }
      name = args[2];
      if (args.size() > 3 && args[3] != "check_post") {
        ctx.Alert("'balance url_param' takes a name and [check_post], got " + Quoted(args[3]) +
                  ".");
        return;
      }
    } else if (algo.starts_with("hdr(")) {
      http_algo = proxy::Algo::kHdr;
      name = algo.substr(4, algo.size() - 5);
      if (args.size() > 2 && args[2] != "use_domain_only") {
        ctx.Alert("'balance hdr(NAME)' takes [use_domain_only], got " + Quoted(args[2]) + ".");
        return;
      }
    } else {
      http_algo = proxy::Algo::kRandom;
    }
    if (name.size() > 63) {
      ctx.Alert("'balance " + algo + "': the name is longer than 63 characters.");
      return;
    }
    if (DefaultsConfig* d = Legacy(ctx)) d->balance.assign(args.begin() + 1, args.end());
    if (!Allowed(ctx, kBackendCap, "balance")) return;
    State(ctx).balance = {};
    State(ctx).balance_text.clear();
    ProxyConfig& p = Target(ctx);
    p.balance = http_algo;
    p.uri_whole = whole;
    p.uri_len = len;
    p.uri_depth = depth;
    p.hash_name = name;
    return;
  }
  if (is_supported && args.size() > 2) {
    ctx.Alert("'balance " + algo + "' takes no argument, got " + Quoted(args[2]) + ".");
    return;
  }
  if (DefaultsConfig* d = Legacy(ctx)) d->balance.assign(args.begin() + 1, args.end());
  if (!Allowed(ctx, kBackendCap, "balance")) return;
  SectionState& state = State(ctx);
  state.balance = {};
  state.balance_text.clear();
  if (is_supported) {
    Target(ctx).balance = supported->algo;
  } else if (InDefaults(ctx)) {
    state.balance = Here(ctx);  // refused when a backend uses it
    state.balance_text = "balance " + Join(args, 1);
  } else {
    ctx.Alert("'balance " + algo +
              "' is not supported by sluice (roundrobin, static-rr, leastconn, first, "
              "source, uri, url_param, hdr(NAME) or random).");
  }
}

constexpr std::string_view kFacilities[] = {
    "kern",   "user",   "mail",   "daemon", "auth",   "syslog", "lpr",    "news",
    "uucp",   "cron",   "auth2",  "ftp",    "ntp",    "audit",  "alert",  "cron2",
    "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
};
constexpr std::string_view kLevels[] = {"emerg",   "alert",  "crit", "err",
                                        "warning", "notice", "info", "debug"};
constexpr std::string_view kLogFormats[] = {"local", "rfc3164", "rfc5424", "priority",
                                            "short", "timed",   "iso",     "raw"};

template <size_t N>
bool OneOf(const std::string& word, const std::string_view (&list)[N]) {
  return std::find(std::begin(list), std::end(list), word) != std::end(list);
}

void Log(ParseContext& ctx, const KeywordRow&, const Args& args) {
  std::string line;
  if (ParseLogLine(ctx, args, true, &line)) Target(ctx).logs.push_back(std::move(line));
}

void LogFormat(ParseContext& ctx, const KeywordRow&, const Args& args) {
  if (!Allowed(ctx, kFrontendCap, "log-format")) return;
  std::string error;
  if (!log::LogFormat::Compile(args[1], &error)) {
    ctx.Alert("'log-format' : " + error + ".");
    return;
  }
  Target(ctx).log_format = args[1];
  Target(ctx).log_format_file = ctx.file;
  Target(ctx).log_format_line = ctx.line;
}

void DefaultBackend(ParseContext& ctx, const KeywordRow&, const Args& args) {
  if (!Allowed(ctx, kFrontendCap, "default_backend")) return;
  if (auto c = InvalidNameChar(args[1])) {
    ctx.Alert("character " + Quoted(std::string(1, *c)) + " is not permitted in backend name " +
              Quoted(args[1]) + ".");
    return;
  }
  Target(ctx).default_backend = args[1];
  State(ctx).default_backend = Here(ctx);
}

void Id(ParseContext& ctx, const KeywordRow&, const Args& args) {
  if (RefuseInDefaults(ctx)) return;
  uint64_t v = 0;
  if (!ParseUnsignedArg(ctx, args[1], 1, INT32_MAX, &v)) return;
  auto& proxies = ctx.config.proxies;
  ProxyConfig& self = proxies.back();
  for (size_t i = 0; i + 1 < proxies.size(); ++i) {
    const Origin& other = ctx.proxy_state[i].id;
    if (other.IsSet() && proxies[i].id == v) {
      ctx.Alert("'id' " + std::to_string(v) + " of " + std::string(KindName(self.kind)) + " " +
                Quoted(self.name) + " is already used by " +
                std::string(KindName(proxies[i].kind)) + " " + Quoted(proxies[i].name) +
                " (set at " + At(other.file, other.line) + ").");
      return;
    }
  }
  self.id = static_cast<uint32_t>(v);
  State(ctx).id = Here(ctx);
}

void HttpReuse(ParseContext& ctx, const KeywordRow&, const Args& args) {
  if (!Allowed(ctx, kBackendCap, "http-reuse")) return;
  using R = ProxyConfig::HttpReuse;
  const std::string& v = args[1];
  if (v == "never") {
    Target(ctx).http_reuse = R::kNever;
  } else if (v == "safe") {
    Target(ctx).http_reuse = R::kSafe;
  } else if (v == "aggressive") {
    Target(ctx).http_reuse = R::kAggressive;
  } else if (v == "always") {
    Target(ctx).http_reuse = R::kAlways;
  } else {
    ctx.Alert("'http-reuse' expects 'never', 'safe', 'aggressive' or 'always', got " + Quoted(v) +
              ".");
  }
}

// hash-type map-based|consistent [FUNCTION] [avalanche]: how hashing algorithms map keys.
void HashType(ParseContext& ctx, const KeywordRow&, const Args& args) {
  if (!Allowed(ctx, kBackendCap, "hash-type")) return;
  if (args[1] != "map-based" && args[1] != "consistent") {
    ctx.Alert("'hash-type' expects 'map-based' or 'consistent', got " + Quoted(args[1]) + ".");
    return;
  }
  if (args.size() > 2) {
    ctx.Warn("'hash-type' functions are not supported by sluice (it uses its own hash), " +
             Quoted(args[2]) + " ignored.");
  }
  Target(ctx).hash_consistent = args[1] == "consistent";
}

void Disabled(ParseContext& ctx, const KeywordRow&, const Args&) { Target(ctx).disabled = true; }

void Enabled(ParseContext& ctx, const KeywordRow&, const Args&) { Target(ctx).disabled = false; }

void Description(ParseContext& ctx, const KeywordRow&, const Args&) { RefuseInDefaults(ctx); }

// Keywords whose absence changes what passes (rules, persistence): refused rather than
// ignored.
void Refused(ParseContext& ctx, const KeywordRow&, const Args& args) {
  ctx.Alert(Quoted(args[0]) + " is not supported yet by sluice.");
}

constexpr KeywordRow RefusedRow(std::string_view keyword) {
  return {keyword, Match::kExact, &Refused, 0, -1, "", ""};
}

constexpr KeywordRow kProxyKeywords[] = {
    {"mode", Match::kExact, &Mode, 1, 1, "'tcp' or 'http'", ""},
    {"bind", Match::kExact, &Bind, 1, -1,
     "ADDR:PORT[,ADDR:PORT...] (bind 10.0.0.1:80, bind :80, bind [::]:80)", ""},
    {"server", Match::kExact, &ServerKeyword, 2, -1,
     "a name and an address with a port, then parameters (server s1 10.0.0.2:80 check)", ""},
    {"default-server", Match::kExact, &DefaultServerKeyword, 0, -1, "", ""},
    {"default_backend", Match::kExact, &DefaultBackend, 1, 1, "a backend name", ""},
    {"balance", Match::kExact, &Balance, 1, -1, "an algorithm and its arguments", ""},
    {"timeout", Match::kExact, &Timeout, 2, 2, "a timeout name and a time (timeout client 30s)",
     ""},
    {"option", Match::kExact, &Option, 1, -1, "an option name", ""},
    {"no", Match::kExact, &No, 1, -1, "'option NAME' or 'log'", ""},
    {"retries", Match::kExact, &Retries, 1, 1, "an integer between 0 and 2147483647", ""},
    {"clitcpka-idle", Match::kExact, &TcpkaParam, 1, 1, "a time (seconds by default)", ""},
    {"clitcpka-intvl", Match::kExact, &TcpkaParam, 1, 1, "a time (seconds by default)", ""},
    {"clitcpka-cnt", Match::kExact, &TcpkaParam, 1, 1, "an integer between 1 and 127", ""},
    {"srvtcpka-idle", Match::kExact, &TcpkaParam, 1, 1, "a time (seconds by default)", ""},
    {"srvtcpka-intvl", Match::kExact, &TcpkaParam, 1, 1, "a time (seconds by default)", ""},
    {"srvtcpka-cnt", Match::kExact, &TcpkaParam, 1, 1, "an integer between 1 and 127", ""},
    {"maxconn", Match::kExact, &Maxconn, 1, 1, "an integer between 0 and 2147483647", ""},
    {"http-check", Match::kExact, &HttpCheck, 1, -1, "'expect status CODES'", ""},
    {"log", Match::kExact, &Log, 1, -1,
     "'global' or a target and a facility (log 127.0.0.1:514 local0)", ""},
    {"log-format", Match::kExact, &LogFormat, 1, 1, "one format string (quote it)", ""},
    {"id", Match::kExact, &Id, 1, 1, "an integer between 1 and 2147483647", ""},
    {"http-reuse", Match::kExact, &HttpReuse, 1, 1, "'never', 'safe', 'aggressive' or 'always'",
     ""},
    {"hash-type", Match::kExact, &HashType, 1, 3, "'map-based' or 'consistent'", ""},
    {"errorfile", Match::kExact, &Errorfile, 2, 2, "a status code and a file", ""},
    {"disabled", Match::kExact, &Disabled, 0, 0, "no argument", ""},
    {"enabled", Match::kExact, &Enabled, 0, 0, "no argument", ""},
    {"description", Match::kExact, &Description, 1, -1, "a text", ""},
    {"contimeout", Match::kExact, &Removed, 0, -1, "", "'timeout connect'"},
    {"clitimeout", Match::kExact, &Removed, 0, -1, "", "'timeout client'"},
    {"srvtimeout", Match::kExact, &Removed, 0, -1, "", "'timeout server'"},
    {"redispatch", Match::kExact, &Removed, 0, -1, "", "'option redispatch'"},
    {"errorfiles", Match::kExact, &Errorfiles, 0, -1, "an http-errors section's name", ""},
    {"http-error", Match::kExact, &HttpError, 0, -1, "'status CODE ...'", ""},
    NotYetRow("fullconn"),
    NotYetRow("compression"),
    NotYetRow("unique-id-format"),
    NotYetRow("unique-id-header"),
    NotYetRow("backlog"),
    {"stats", Match::kExact, &Stats, 1, -1, "a stats keyword (stats uri /stats)", ""},
    NotYetRow("monitor-uri"),
    NotYetRow("cookie"),
    NotYetRow("load-server-state-from-file"),
    NotYetRow("email-alert"),
    NotYetRow("rate-limit"),
    NotYetRow("log-tag"),
    RefusedRow("tcp-response"),
    RefusedRow("http-after-response"),
    RefusedRow("use-server"),
    RefusedRow("stick"),
    {"stick-table", Match::kExact, &StickTable, 1, -1, "'type' and 'size'", ""},
    RefusedRow("server-template"),
    RefusedRow("tcp-check"),
    RefusedRow("source"),
};

// What a proxy of `kind` takes from its defaults section (haproxy copies settings by
// capability).
ProxyConfig Inherit(const ProxyConfig& d, Kind kind) {
  ProxyConfig p;
  p.kind = kind;
  p.logs = d.logs;
  p.disabled = d.disabled;
  p.mode_http = d.mode_http;
  p.errorfiles = d.errorfiles;
  p.errorfiles_refs = d.errorfiles_refs;
  p.stats = d.stats;
  p.http_conn_mode = d.http_conn_mode;
  p.forwardfor = d.forwardfor;
  p.forwardfor_if_none = d.forwardfor_if_none;
  p.forwardfor_header = d.forwardfor_header;
  p.forwardfor_except = d.forwardfor_except;
  if (p.HasFrontend()) {
    p.timeout_client_ms = d.timeout_client_ms;
    p.timeout_client_fin_ms = d.timeout_client_fin_ms;
    p.maxconn = d.maxconn;
    p.default_backend = d.default_backend;
    p.log_format = d.log_format;
    p.log_format_file = d.log_format_file;
    p.log_format_line = d.log_format_line;
    p.tcplog = d.tcplog;
    p.clitcpka = d.clitcpka;
    p.httplog = d.httplog;
    p.httplog_clf = d.httplog_clf;
    p.timeout_http_request_ms = d.timeout_http_request_ms;
    p.timeout_http_keep_alive_ms = d.timeout_http_keep_alive_ms;
    p.accept_invalid_request = d.accept_invalid_request;
    p.buffer_request = d.buffer_request;
  }
  if (p.HasBackend()) {
    p.timeout_connect_ms = d.timeout_connect_ms;
    p.timeout_server_ms = d.timeout_server_ms;
    p.timeout_queue_ms = d.timeout_queue_ms;
    p.timeout_tunnel_ms = d.timeout_tunnel_ms;
    p.timeout_server_fin_ms = d.timeout_server_fin_ms;
    p.timeout_check_ms = d.timeout_check_ms;
    p.balance = d.balance;
    p.uri_whole = d.uri_whole;
    p.uri_len = d.uri_len;
    p.uri_depth = d.uri_depth;
    p.hash_name = d.hash_name;
    p.hash_consistent = d.hash_consistent;
    p.retries = d.retries;
    p.redispatch = d.redispatch;
    p.persist = d.persist;
    p.srvtcpka = d.srvtcpka;
    p.http_reuse = d.http_reuse;
    p.accept_invalid_response = d.accept_invalid_response;
    p.httpchk = d.httpchk;
    p.httpchk_method = d.httpchk_method;
    p.httpchk_headers = d.httpchk_headers;
    p.httpchk_body = d.httpchk_body;
    p.httpchk_uri = d.httpchk_uri;
    p.httpchk_version = d.httpchk_version;
    p.http_expects = d.http_expects;
  }
  return p;
}

bool SharesCapability(const ProxyConfig& a, const ProxyConfig& b) {
  return (a.HasFrontend() && b.HasFrontend()) || (a.HasBackend() && b.HasBackend());
}

}  // namespace

bool ParseLogLine(ParseContext& ctx, const Args& args, bool allow_global, std::string* out) {
  if (args[1] == "global") {
    if (!allow_global) {
      ctx.Alert("'log global' is only valid in 'defaults', 'frontend', 'backend' and 'listen'.");
      return false;
    }
    if (args.size() > 2) {
      ctx.Alert("'log global' takes no argument, got " + Quoted(args[2]) + ".");
      return false;
    }
    *out = "global";
    return true;
  }
  // log TARGET [len N] [format F] [sample RANGES:SIZE] FACILITY [LEVEL [MINLEVEL]]
  size_t i = 2;
  while (i < args.size() && (args[i] == "len" || args[i] == "format" || args[i] == "sample")) {
    const std::string& option = args[i];
    if (i + 1 >= args.size()) {
      ctx.Alert("'log' : " + Quoted(option) + " expects a value.");
      return false;
    }
    const std::string& value = args[i + 1];
    const auto len = ParseDecimal(value);
    if (option == "len" && (!len || *len == 0 || *len > 65535)) {
      ctx.Alert("'log' : 'len' expects an integer between 1 and 65535, got " + Quoted(value) + ".");
      return false;
    }
    if (option == "format" && !OneOf(value, kLogFormats)) {
      ctx.Alert(
          "'log' : 'format' expects local, rfc3164, rfc5424, priority, short, timed, iso or "
          "raw, got " +
          Quoted(value) + ".");
      return false;
    }
    if (option == "sample" && value.find(':') == std::string::npos) {
      ctx.Alert("'log' : 'sample' expects RANGES:SIZE (1-3:4), got " + Quoted(value) + ".");
      return false;
    }
    i += 2;
  }
  if (i >= args.size()) {
    ctx.Alert(
        "'log' expects a facility after the target "
        "(log TARGET [len N] [format F] [sample R:S] FACILITY [LEVEL [MINLEVEL]]).");
    return false;
  }
  if (!OneOf(args[i], kFacilities)) {
    ctx.Alert("'log' : unknown facility " + Quoted(args[i]) +
              " (kern, user, mail, daemon, auth, syslog, lpr, news, uucp, cron, auth2, ftp, "
              "ntp, audit, alert, cron2, local0 to local7).");
    return false;
  }
  for (size_t level = i + 1; level < args.size(); ++level) {
    if (level > i + 2) {
      ctx.Alert("'log' : extra argument " + Quoted(args[level]) +
                " after the facility, the level and the minimum level.");
      return false;
    }
    if (!OneOf(args[level], kLevels)) {
      ctx.Alert("'log' : unknown level " + Quoted(args[level]) +
                " (emerg, alert, crit, err, warning, notice, info, debug).");
      return false;
    }
  }
  // What the syntax above allows but a target cannot be: names, other socket families,
  // `len` below 80, sample ranges outside their size.
  std::string line = Join(args, 1);
  if (const auto target = log::ParseLogTarget(line); !target) {
    ctx.Alert("'log' : " + target.error() + ".");
    return false;
  }
  *out = std::move(line);
  return true;
}

// frontend|backend|listen NAME [from DEFAULTS]
void EnterProxy(ParseContext& ctx, const Args& args) {
  const std::string& word = args[0];
  const Kind kind = word == "frontend"  ? Kind::kFrontend
                    : word == "backend" ? Kind::kBackend
                                        : Kind::kListen;
  if (args.size() < 2) {
    ctx.Alert(Quoted(word) + " expects a name.");
    ctx.section = Section::kUnsupported;  // its body would only bring more alerts
    return;
  }
  const std::string& name = args[1];
  if (auto c = InvalidNameChar(name)) {
    ctx.Alert("character " + Quoted(std::string(1, *c)) + " is not permitted in " + word +
              " name " + Quoted(name) + ".");
  }
  // The last defaults section before it, or the one named by `from`; -1: none.
  auto& all_defaults = ctx.config.defaults;
  ptrdiff_t defaults = static_cast<ptrdiff_t>(all_defaults.size()) - 1;
  if (args.size() == 4 && args[2] == "from") {
    while (defaults >= 0 && all_defaults[static_cast<size_t>(defaults)].name != args[3]) {
      --defaults;
    }
    if (defaults < 0) {
      ctx.Alert(Quoted(word) + " " + Quoted(name) + " : defaults section " + Quoted(args[3]) +
                " not found.");
    }
  } else if (args.size() > 2) {
    ctx.Alert(Quoted(word) + " expects NAME [from DEFAULTS], got extra argument " +
              Quoted(args[2]) + " (listening addresses go on 'bind' lines).");
  }
  const DefaultsConfig* from =
      defaults >= 0 ? &all_defaults[static_cast<size_t>(defaults)] : nullptr;

  ProxyConfig proxy = from ? Inherit(from->proxy, kind) : ProxyConfig{};
  proxy.kind = kind;
  proxy.name = name;
  proxy.file = ctx.file;
  proxy.line = ctx.line;
  for (const ProxyConfig& other : ctx.config.proxies) {
    if (other.name == name && SharesCapability(other, proxy)) {
      ctx.Alert(word + " " + Quoted(name) + " has the same name as " +
                std::string(KindName(other.kind)) + " " + Quoted(other.name) + " declared at " +
                At(other.file, other.line) + ".");
      break;
    }
  }

  SectionState state;
  state.header = Origin{ctx.file, ctx.line, word};
  if (from) {
    const SectionState& from_state = ctx.defaults_state[static_cast<size_t>(defaults)];
    if (proxy.HasFrontend()) state.default_backend = from_state.default_backend;
    if (proxy.HasBackend()) {
      state.balance = from_state.balance;
      state.balance_text = from_state.balance_text;
      state.default_server = from->default_server;
    }
  }
  ctx.config.proxies.push_back(std::move(proxy));
  ctx.proxy_state.push_back(std::move(state));
  ctx.section = Section::kProxy;
}

std::span<const KeywordRow> ProxyKeywords() { return kProxyKeywords; }

}  // namespace sluice::config
