// Slow path: the `defaults` section's keyword table. Nothing consumes these settings until
// the proxy sections arrive, but they are checked and recorded now so that files written
// for haproxy load and so that mistakes are reported early.
#include <algorithm>
#include <span>
#include <string>

#include "controlplane/config/parse_context.h"

namespace sluice::config {
namespace {

constexpr uint64_t kMaxTimeoutMs = INT32_MAX;  // haproxy's timer limit

DefaultsConfig& Current(ParseContext& ctx) { return ctx.config.defaults.back(); }

void Mode(ParseContext& ctx, const KeywordRow&, const Args& args) {
  if (args[1] != "tcp" && args[1] != "http") {
    ctx.Alert("'mode' expects 'tcp' or 'http', got " + Quoted(args[1]) + ".");
    return;
  }
  Current(ctx).mode = args[1];
}

constexpr std::string_view kTimeoutNames[] = {
    "client",          "server",     "connect",    "queue", "tunnel", "http-request",
    "http-keep-alive", "client-fin", "server-fin", "check", "tarpit",
};

void Timeout(ParseContext& ctx, const KeywordRow&, const Args& args) {
  const std::string& name = args[1];
  if (std::find(std::begin(kTimeoutNames), std::end(kTimeoutNames), name) ==
      std::end(kTimeoutNames)) {
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
  auto& timeouts = Current(ctx).timeouts_ms;
  auto it = std::find_if(timeouts.begin(), timeouts.end(),
                         [&](const auto& t) { return t.first == name; });
  if (it != timeouts.end()) {
    it->second = static_cast<uint32_t>(*ms);
  } else {
    timeouts.emplace_back(name, static_cast<uint32_t>(*ms));
  }
}

// haproxy 2.6's proxy options that are valid in a defaults section.
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

void RecordOption(ParseContext& ctx, const std::string& name, bool negated) {
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
  Current(ctx).options.push_back(negated ? "no " + name : name);
}

void Option(ParseContext& ctx, const KeywordRow&, const Args& args) {
  RecordOption(ctx, args[1], false);
}

// `no option NAME` and `no log`.
void No(ParseContext& ctx, const KeywordRow&, const Args& args) {
  if (args[1] == "option") {
    if (args.size() < 3) {
      ctx.Alert("'no option' expects an option name.");
      return;
    }
    RecordOption(ctx, args[2], true);
  } else if (args[1] == "log") {
    ctx.keyword = "no log";
    ctx.Warn("'no log' is not supported yet by sluice, ignored.");
  } else {
    ctx.Alert("'no' expects 'option' or 'log', got " + Quoted(args[1]) + ".");
  }
}

void Retries(ParseContext& ctx, const KeywordRow&, const Args& args) {
  uint64_t v = 0;
  if (ParseUnsignedArg(ctx, args[1], 0, INT32_MAX, &v)) {
    Current(ctx).retries = static_cast<unsigned>(v);
  }
}

void Maxconn(ParseContext& ctx, const KeywordRow&, const Args& args) {
  uint64_t v = 0;
  if (ParseUnsignedArg(ctx, args[1], 0, INT32_MAX, &v)) {
    Current(ctx).maxconn = static_cast<unsigned>(v);
  }
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
  Current(ctx).balance.assign(args.begin() + 1, args.end());
}

constexpr KeywordRow kDefaultsKeywords[] = {
    {"mode", Match::kExact, &Mode, 1, 1, "'tcp' or 'http'", ""},
    {"timeout", Match::kExact, &Timeout, 2, 2, "a timeout name and a time (timeout client 30s)",
     ""},
    {"option", Match::kExact, &Option, 1, -1, "an option name", ""},
    {"no", Match::kExact, &No, 1, -1, "'option NAME' or 'log'", ""},
    {"retries", Match::kExact, &Retries, 1, 1, "an integer between 0 and 2147483647", ""},
    {"maxconn", Match::kExact, &Maxconn, 1, 1, "an integer between 0 and 2147483647", ""},
    {"balance", Match::kExact, &Balance, 1, -1, "an algorithm and its arguments", ""},
    NotYetRow("log"),
    NotYetRow("log-format"),
    NotYetRow("default-server"),
    NotYetRow("default_backend"),
    NotYetRow("errorfile"),
    NotYetRow("errorfiles"),
    NotYetRow("http-error"),
    NotYetRow("http-reuse"),
    NotYetRow("http-check"),
    NotYetRow("hash-type"),
    NotYetRow("fullconn"),
    NotYetRow("compression"),
    NotYetRow("unique-id-format"),
    NotYetRow("unique-id-header"),
    NotYetRow("backlog"),
    NotYetRow("stats"),
    NotYetRow("monitor-uri"),
    NotYetRow("cookie"),
    NotYetRow("load-server-state-from-file"),
    NotYetRow("email-alert"),
};

}  // namespace

std::optional<uint64_t> ParseTimeMs(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  const auto value = ParseDecimal(text.substr(0, digits));
  if (!value) return std::nullopt;
  const std::string_view unit = text.substr(digits);
  uint64_t ms = 0;
  const uint64_t v = std::min<uint64_t>(*value, UINT64_MAX / 86400000);  // no overflow below
  if (unit.empty() || unit == "ms") {
    ms = v;
  } else if (unit == "us") {
    ms = (v + 999) / 1000;
  } else if (unit == "s") {
    ms = v * 1000;
  } else if (unit == "m") {
    ms = v * 60000;
  } else if (unit == "h") {
    ms = v * 3600000;
  } else if (unit == "d") {
    ms = v * 86400000;
  } else {
    return std::nullopt;
  }
  return ms;
}

std::span<const KeywordRow> DefaultsKeywords() { return kDefaultsKeywords; }

}  // namespace sluice::config
