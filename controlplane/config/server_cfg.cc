// Slow path: `server` and `default-server` lines, and the address syntax they share with
// `bind`. Sluice has no resolver, so addresses are numeric; it proxies TCP, so a server needs
// a port.
#include <string>
#include <string_view>

#include "controlplane/config/parse_context.h"
#include "dataplane/net/addr_text.h"

namespace sluice::config {
namespace {

constexpr std::string_view kServerParams =
    "weight, maxconn, pool-max-conn, pool-purge-delay, check, no-check, inter, fastinter, "
    "downinter, rise, fall, port, addr, disabled, enabled, backup, no-backup, non-stick, stick, "
    "id, ssl, no-ssl, verify, ca-file, sni, alpn, ciphers, ciphersuites, ssl-min-ver and "
    "ssl-max-ver";

bool LooksLikeHostName(std::string_view s) {
  bool letter = false;
  for (char c : s) {
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    letter = letter || alpha;
    if (!alpha && !(c >= '0' && c <= '9') && c != '-' && c != '.' && c != '_') return false;
  }
  return letter;
}

bool IsUnicast(const net::IpAddr& a) {
  if (a.is_v6) return !a.v6.IsUnspecified() && !a.v6.IsMulticast();
  return a.v4.be != 0 && (a.v4.Host() >> 28) != 0xe;
}

// One `server`/`default-server` line being read: `what` names it in messages ("server s1"
// or "default-server").
class ServerLine {
 public:
  ServerLine(ParseContext& ctx, std::string what) : ctx_(ctx), what_(std::move(what)) {}

  bool Address(std::string_view text, ServerConfig* s);
  // The params args[first..]; false after an alert.
  bool Params(const Args& args, size_t first, bool is_default, ServerConfig* s);
  bool TlsParam(const std::string& p, const std::string* v, ServerConfig* s);

 private:
  void Alert(const std::string& message) { ctx_.Alert("'" + what_ + "' " + message); }
  bool Unsigned(const std::string& param, const std::string& text, uint64_t min, uint64_t max,
                uint64_t* out);
  bool Time(const std::string& param, const std::string& text, uint32_t* out);

  ParseContext& ctx_;
  std::string what_;
};

bool ServerLine::Unsigned(const std::string& param, const std::string& text, uint64_t min,
                          uint64_t max, uint64_t* out) {
  const auto v = ParseDecimal(text);
  if (!v || *v < min || *v > max) {
    Alert(": " + Quoted(param) + " expects an integer between " + std::to_string(min) + " and " +
          std::to_string(max) + ", got " + Quoted(text) + ".");
    return false;
  }
  *out = *v;
  return true;
}

bool ServerLine::Time(const std::string& param, const std::string& text, uint32_t* out) {
  const auto ms = ParseTimeMs(text);
  if (!ms || *ms == 0 || *ms > kMaxTimeoutMs) {
    Alert(": " + Quoted(param) +
          " expects a positive time such as 500ms or 2s (at most 2147483647ms), got " +
          Quoted(text) + ".");
    return false;
  }
  *out = static_cast<uint32_t>(*ms);
  return true;
}

// The TLS params with their value (`v`, null when the line ends), HAProxy 2.6's texts.
bool ServerLine::TlsParam(const std::string& p, const std::string* v, ServerConfig* s) {
  if (p == "verify") {
    if (!v || (*v != "none" && *v != "required")) {
      Alert(": 'verify' : " +
            (v ? "unknown verify method " + Quoted(*v) : std::string("missing verify method")) +
            ", only 'none' and 'required' are supported.");
      return false;
    }
    s->verify_none = *v == "none";
    s->verify_set = true;
  } else if (p == "ciphers" || p == "ciphersuites") {
    if (!v) {
      Alert(": '" + p + "' : missing cipher suite.");
      return false;
    }
    (p == "ciphers" ? s->ciphers : s->ciphersuites) = *v;
  } else if (p == "ssl-min-ver" || p == "ssl-max-ver") {
    const std::optional<uint16_t> ver = v ? TlsVersion(*v) : std::nullopt;
    if (!ver) {
      Alert(": " + Quoted(v ? *v : "") + " : unknown ssl/tls version");
      return false;
    }
    (p == "ssl-min-ver" ? s->min_ver : s->max_ver) = *ver;
  } else if (p == "ca-file") {
    if (!v) {
      Alert(": 'ca-file' : missing CAfile path.");
      return false;
    }
    std::string text;
    if (ReadBoundedFile(*v, kMaxTlsFileBytes, &text) != FileRead::kOk) {
      Alert(": 'ca-file' : unable to load " + *v + ".");
      return false;
    }
    s->ca_file = *v;
    s->ca_pem = std::move(text);
  } else if (p == "sni") {
    if (!v) {
      Alert(": 'sni' : missing sni expression.");
      return false;
    }
    // A sample expression (compiled with the rules, controlplane/rules/server_sni.cc); a
    // constant str(NAME) is kept as the name itself.
    s->sni.clear();
    s->sni_expr.clear();
    const bool constant = v->starts_with("str(") && v->ends_with(")") && v->size() >= 6 &&
                          v->find_first_of("(),", 4) == v->size() - 1;
    (constant ? s->sni : s->sni_expr) = constant ? v->substr(4, v->size() - 5) : *v;
  } else {  // alpn
    s->alpn.clear();
    const std::string list = v ? *v : std::string();  // alive while its items are read
    for (std::string_view name : CommaItems(list)) {
      if (name.empty() || name.size() > 255) {
        s->alpn.clear();
        break;
      }
      s->alpn.push_back(static_cast<char>(name.size()));
      s->alpn.append(name);
    }
    if (s->alpn.empty()) {
      Alert(": 'alpn' : missing the comma-delimited ALPN protocol suite.");
      return false;
    }
  }
  return true;
}

bool ServerLine::Address(std::string_view text, ServerConfig* s) {
  auto ep = ParseEndpoint(text);
  if (!ep.ok()) {
    Alert(Quoted(text) + ": " + ep.error() + ".");
    return false;
  }
  if (ep->any || !IsUnicast(ep->addr)) {
    Alert(Quoted(text) + ": expects a unicast server address.");
    return false;
  }
  if (!ep->has_port || ep->port.empty()) {
    Alert(Quoted(text) +
          " has no port: sluice needs one in mode tcp (write ADDR:PORT or [IPv6]:PORT).");
    return false;
  }
  if (ep->port[0] == '+' || ep->port[0] == '-') {
    Alert(Quoted(text) + ": port offsets (+N, -N) are not supported by sluice; write the port.");
    return false;
  }
  const auto port = ParseDecimal(ep->port);
  if (!port || *port == 0 || *port > 65535) {
    Alert(Quoted(text) + ": expects a port between 1 and 65535, got " + Quoted(ep->port) + ".");
    return false;
  }
  s->addr = ep->addr;
  s->port = static_cast<uint16_t>(*port);
  return true;
}

bool ServerLine::Params(const Args& args, size_t first, bool is_default, ServerConfig* s) {
  for (size_t i = first; i < args.size(); ++i) {
    const std::string& p = args[i];
    if (p == "check" || p == "no-check") {
      s->check = p == "check";
      continue;
    }
    if (p == "disabled" || p == "enabled") {
      s->disabled = p == "disabled";
      continue;
    }
    if (p == "backup" || p == "no-backup") {
      s->backup = p == "backup";
      continue;
    }
    if (p == "non-stick" || p == "stick") {
      s->non_stick = p == "non-stick";
      continue;
    }
    if (p == "ssl" || p == "no-ssl") {
      s->ssl = p == "ssl";
      continue;
    }
    if (p == "verify" || p == "ca-file" || p == "sni" || p == "alpn" || p == "ciphers" ||
        p == "ciphersuites" || p == "ssl-min-ver" || p == "ssl-max-ver") {
      if (!TlsParam(p, i + 1 < args.size() ? &args[i + 1] : nullptr, s)) return false;
      ++i;
      continue;
    }
    const bool valued = p == "weight" || p == "maxconn" || p == "pool-max-conn" ||
                        p == "pool-purge-delay" ||
                        p == "inter" || p == "fastinter" ||
                        p == "downinter" || p == "rise" || p == "fall" || p == "port" ||
                        p == "addr" || p == "id";
    if (!valued) {
      Alert(": unknown or unsupported keyword " + Quoted(p) + " (sluice supports " +
            std::string(kServerParams) + ").");
      return false;
    }
    if (i + 1 >= args.size()) {
      Alert(": " + Quoted(p) + " expects a value.");
      return false;
    }
    const std::string& v = args[++i];
    uint64_t n = 0;
    if (p == "weight") {
      if (!Unsigned(p, v, 0, 256, &n)) return false;
      s->weight = static_cast<unsigned>(n);
    } else if (p == "maxconn") {
      if (!Unsigned(p, v, 0, INT32_MAX, &n)) return false;
      s->maxconn = static_cast<unsigned>(n);
    } else if (p == "pool-max-conn") {
      // -1: no bound (haproxy's default), 0: no idle connection kept.
      if (v == "-1") {
        s->pool_max_conn = -1;
      } else {
        if (!Unsigned(p, v, 0, INT32_MAX, &n)) return false;
        s->pool_max_conn = static_cast<int>(n);
      }
    } else if (p == "pool-purge-delay") {
      // 0: idle connections are never purged (HAProxy's words).
      if (v == "0") {
        s->pool_purge_ms = 0;
      } else if (!Time(p, v, &s->pool_purge_ms)) {
        return false;
      }
    } else if (p == "inter") {
      if (!Time(p, v, &s->inter_ms)) return false;
    } else if (p == "fastinter") {
      if (!Time(p, v, &s->fastinter_ms)) return false;
    } else if (p == "downinter") {
      if (!Time(p, v, &s->downinter_ms)) return false;
    } else if (p == "rise" || p == "fall") {
      if (!Unsigned(p, v, 1, INT32_MAX, &n)) return false;
      (p == "rise" ? s->rise : s->fall) = static_cast<unsigned>(n);
    } else if (p == "port") {
      if (!Unsigned(p, v, 1, 65535, &n)) return false;
      s->check_port = static_cast<uint16_t>(n);
    } else if (p == "addr") {
      const auto a = net::ParseIp(v);
      if (!a || !IsUnicast(*a)) {
        Alert(": 'addr' expects a unicast IPv4 or IPv6 address, got " + Quoted(v) + ".");
        return false;
      }
      s->check_addr = *a;
    } else {  // id
      if (is_default) {
        Alert(": 'id' is not allowed here; give ids on 'server' lines.");
        return false;
      }
      if (!Unsigned(p, v, 1, INT32_MAX, &n)) return false;
      s->id = static_cast<uint32_t>(n);
    }
  }
  return true;
}

}  // namespace

base::Result<Endpoint> ParseEndpoint(std::string_view text) {
  using base::Error;
  Endpoint ep;
  int family = 0;  // 4 or 6 when a prefix says so
  std::string_view rest = text;
  if (rest.starts_with("ipv4@")) {
    family = 4;
    rest.remove_prefix(5);
  } else if (rest.starts_with("ipv6@")) {
    family = 6;
    rest.remove_prefix(5);
  } else if (rest.starts_with("/") || rest.starts_with("unix@") || rest.starts_with("abns@")) {
    return Error{"UNIX sockets are not supported by sluice (TCP over IPv4 and IPv6 only)"};
  } else if (const size_t at = rest.find('@'); at != std::string_view::npos) {
    return Error{Quoted(rest.substr(0, at + 1)) +
                 " addresses are not supported by sluice (only ipv4@ and ipv6@)"};
  }
  std::string_view host;
  bool bracketed = false;
  if (!rest.empty() && rest[0] == '[') {
    bracketed = true;
    const size_t close = rest.find(']');
    if (close == std::string_view::npos) return Error{"missing ']' after the IPv6 address"};
    host = rest.substr(1, close - 1);
    const std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return Error{"expected ':PORT' after ']'"};
      ep.has_port = true;
      ep.port = after.substr(1);
    }
    if (host.empty()) return Error{"no address between '[' and ']'"};
  } else {
    const size_t colon = rest.rfind(':');
    if (colon == std::string_view::npos) {
      host = rest;
    } else {
      host = rest.substr(0, colon);
      ep.has_port = true;
      ep.port = rest.substr(colon + 1);
    }
  }
  if (!bracketed && (host.empty() || host == "*")) {
    ep.any = true;
    ep.addr.is_v6 = family == 6;
    return ep;
  }
  const auto ip = net::ParseIp(host);
  if (!ip) {
    if (!bracketed && net::ParseIpv6(rest)) {
      return Error{"an IPv6 address needs a port after its last colon; write [" +
                   std::string(rest) + "]:PORT"};
    }
    if (LooksLikeHostName(host)) {
      return Error{Quoted(host) +
                   " is not an IP address and sluice has no DNS resolver; write an address"};
    }
    return Error{Quoted(host) + " is not an IPv4 or IPv6 address"};
  }
  if (bracketed && !ip->is_v6) return Error{"brackets are for IPv6 addresses"};
  if ((family == 4 && ip->is_v6) || (family == 6 && !ip->is_v6)) {
    return Error{"'ipv" + std::to_string(family) + "@' expects an IPv" + std::to_string(family) +
                 " address, got " + Quoted(host)};
  }
  ep.addr = *ip;
  ep.any = ip->is_v6 ? ip->v6.IsUnspecified() : ip->v4.be == 0;
  return ep;
}

std::string EndpointText(const net::IpAddr& addr, bool any, uint16_t port) {
  const std::string p = ":" + std::to_string(port);
  if (any) return addr.is_v6 ? "[::]" + p : "*" + p;
  return addr.is_v6 ? "[" + net::ToString(addr) + "]" + p : net::ToString(addr) + p;
}

// server NAME ADDR:PORT [params]
void ServerKeyword(ParseContext& ctx, const KeywordRow&, const Args& args) {
  if (ctx.section == Section::kDefaults) {
    ctx.Alert("'server' is not allowed in a 'defaults' section.");
    return;
  }
  ProxyConfig& proxy = ctx.config.proxies.back();
  if (!proxy.HasBackend()) {
    ctx.Alert("'server' is not allowed in frontend " + Quoted(proxy.name) +
              ": it has no backend capability.");
    return;
  }
  const std::string& name = args[1];
  if (auto c = InvalidNameChar(name)) {
    ctx.Alert("character " + Quoted(std::string(1, *c)) + " is not permitted in server name " +
              Quoted(name) + ".");
    return;
  }
  ServerLine line(ctx, "server " + name);
  ServerConfig s = ctx.proxy_state.back().default_server;
  s.name = name;
  s.id = 0;
  s.file = ctx.file;
  s.line = ctx.line;
  if (!line.Address(args[2], &s) || !line.Params(args, 3, false, &s)) return;
  const GlobalConfig& g = ctx.config.global;
  if (!s.verify_set) s.verify_none = g.ssl_server_verify_none;
  if (s.ciphers.empty()) s.ciphers = g.ssl_default_server.ciphers;
  if (s.ciphersuites.empty()) s.ciphersuites = g.ssl_default_server.ciphersuites;
  if (!s.min_ver) s.min_ver = g.ssl_default_server.min_ver;
  if (!s.max_ver) s.max_ver = g.ssl_default_server.max_ver;
  if (s.ssl && !s.verify_none && s.ca_pem.empty()) {
    ctx.Alert("'server " + proxy.name + "/" + name + "' : verify is enabled by default but no CA "
              "file specified. If you're running on a LAN where you're certain to trust the "
              "server's certificate, please set an explicit 'verify none' statement on the "
              "'server' line, or use 'ssl-server-verify none' in the global section to disable "
              "server-side verifications by default.");
    return;
  }
  const std::string owner = std::string(KindName(proxy.kind)) + " " + Quoted(proxy.name);
  for (const ServerConfig& other : proxy.servers) {
    if (other.name == name) {
      ctx.Alert("'server' : " + owner + " already has a server named " + Quoted(name) +
                " (declared at " + At(other.file, other.line) + ").");
      return;
    }
    if (s.id != 0 && other.id == s.id) {  // ids are assigned only after parsing
      ctx.Alert("'server " + name + "' : id " + std::to_string(s.id) + " is already used by " +
                "server " + Quoted(other.name) + " of " + owner + " (declared at " +
                At(other.file, other.line) + ").");
      return;
    }
  }
  proxy.servers.push_back(std::move(s));
}

base::Result<ServerConfig> ParseRuntimeServer(const GlobalConfig& global, const std::string& name,
                                              const std::vector<std::string>& words) {
  if (auto c = InvalidNameChar(name)) {
    return base::Error{"character " + Quoted(std::string(1, *c)) +
                       " is not permitted in server name " + Quoted(name) + "."};
  }
  if (words.empty()) {
    return base::Error{"'server' expects <name> and <addr>[:<port>] as arguments."};
  }
  // What HAProxy 2.6 refuses for a dynamic server, and what sluice cannot build at run time
  // (a TLS context: its server side is built with the configuration).
  for (const std::string& w : words) {
    if (w == "cookie" || w == "non-stick" || w == "track" || w == "redir") {
      return base::Error{Quoted(w) + " option is not accepted for dynamic server"};
    }
    if (w == "ssl") {
      return base::Error{"'ssl' is not supported by sluice for dynamic servers (servers "
                         "reached over TLS are configured in the file)."};
    }
  }
  ParseContext ctx;
  ctx.config.global = global;
  ctx.file = "add server";
  ServerLine line(ctx, "server " + name);
  ServerConfig s;
  s.name = name;
  Args args(words.begin(), words.end());
  args.insert(args.begin(), name);
  if (!line.Address(words[0], &s) || !line.Params(args, 2, false, &s)) {
    std::string msg = ctx.diagnostics.empty() ? "invalid server" : ctx.diagnostics.back().message;
    const std::string prefix = "'server " + name + "' ";
    if (msg.starts_with(prefix)) msg.erase(0, prefix.size());
    if (msg.starts_with(": ")) msg.erase(0, 2);
    return base::Error{msg};
  }
  ResolveCheckTimes(s);
  return s;
}

// default-server [params]: defaults for the params of the servers after it.
void DefaultServerKeyword(ParseContext& ctx, const KeywordRow&, const Args& args) {
  ServerConfig* target = nullptr;
  if (ctx.section == Section::kDefaults) {
    target = &ctx.config.defaults.back().default_server;
  } else {
    const ProxyConfig& proxy = ctx.config.proxies.back();
    if (!proxy.HasBackend()) {
      ctx.Alert("'default-server' is not allowed in frontend " + Quoted(proxy.name) +
                ": it has no backend capability.");
      return;
    }
    target = &ctx.proxy_state.back().default_server;
  }
  ServerConfig s = *target;
  if (!ServerLine(ctx, "default-server").Params(args, 1, true, &s)) return;
  *target = std::move(s);
}

}  // namespace sluice::config
