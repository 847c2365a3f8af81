// Slow path: the checks of the proxy sections that need the whole configuration, run after
// every file is read. They resolve `default_backend` to an index, assign the ids haproxy
// would (the next free number from 1, in file order), refuse the settings a proxy inherited
// but sluice cannot do, and warn where haproxy warns (a frontend without `bind`, missing
// timeouts). Every diagnostic names the line it is about.
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "controlplane/config/parse_context.h"
#include "dataplane/net/addr_text.h"

namespace sluice::config {
namespace {

using Severity = Diagnostic::Severity;

std::string Label(const ProxyConfig& p) {
  return std::string(KindName(p.kind)) + " " + Quoted(p.name);
}

// Next free number from 1 for each zero id, in order. `by_rank` (servers): each item
// counts, its own id or not, so an item takes the first free id at or above its rank
// (HAProxy 2.6: `s1, s2 id 10, s3` are 1, 10, 3).
template <class T>
void AssignIds(std::vector<T>& items, bool by_rank = false) {
  std::set<uint32_t> used;
  for (const T& item : items) {
    if (item.id != 0) used.insert(item.id);
  }
  uint32_t next = 1;
  for (T& item : items) {
    if (item.id != 0) {
      if (by_rank) ++next;
      continue;
    }
    while (used.count(next) != 0) ++next;
    item.id = next++;
    used.insert(item.id);
  }
}

// Settings from a defaults section that sluice refuses in the proxy that uses them.
void CheckInherited(ParseContext& ctx, const ProxyConfig& p, const SectionState& st) {
  const Origin& header = st.header;
  if (p.HasBackend() && st.balance.IsSet()) {
    ctx.AddAt(Severity::kAlert, header.file, header.line, "balance",
              Label(p) + " uses '" + st.balance_text + "' of the defaults section (set at " +
                  At(st.balance.file, st.balance.line) +
                  "): sluice supports roundrobin, static-rr, leastconn, first, source, uri, "
                  "url_param, hdr(NAME) and random.");
  }
}

// haproxy's warnings about proxies that cannot work as intended.
void WarnIncomplete(ParseContext& ctx, const ProxyConfig& p, const SectionState& st) {
  const Origin& header = st.header;
  if (p.HasFrontend() && p.binds.empty()) {
    ctx.AddAt(Severity::kWarning, header.file, header.line, header.keyword,
              Label(p) +
                  " has no 'bind' line and receives no connection; declare it as a backend "
                  "if that was intended.");
  }
  std::vector<std::string> missing;
  if (p.HasFrontend() && p.timeout_client_ms == 0) missing.push_back("'timeout client'");
  if (p.HasBackend() && p.timeout_connect_ms == 0) missing.push_back("'timeout connect'");
  if (p.HasBackend() && p.timeout_server_ms == 0) missing.push_back("'timeout server'");
  if (!missing.empty()) {
    std::string list;
    for (size_t i = 0; i < missing.size(); ++i) {
      if (i > 0) list += i + 1 == missing.size() ? " and " : ", ";
      list += missing[i];
    }
    ctx.AddAt(Severity::kWarning, header.file, header.line, "timeout",
              "missing timeouts for " + Label(p) + ": set " + list +
                  " here or in a 'defaults' section, or idle connections are never closed.");
  }
  const bool switching = std::any_of(p.rule_lines.begin(), p.rule_lines.end(),
                                     [](const RuleLine& r) { return r.args[0] == "use_backend"; });
  if (p.kind == ProxyConfig::Kind::kFrontend && p.default_backend.empty() && !switching) {
    ctx.AddAt(Severity::kWarning, header.file, header.line, header.keyword,
              Label(p) +
                  " has no 'default_backend' nor 'use_backend', so its connections have "
                  "nowhere to go.");
  }
}

// default_backend NAME: the index of the backend or listen section NAME.
void ResolveDefaultBackend(ParseContext& ctx, size_t index) {
  auto& proxies = ctx.config.proxies;
  ProxyConfig& p = proxies[index];
  if (!p.HasFrontend()) return;
  if (p.default_backend.empty()) {
    if (p.kind == ProxyConfig::Kind::kListen) p.default_backend_index = static_cast<int>(index);
    return;
  }
  bool frontend_only = false;
  for (size_t j = 0; j < proxies.size(); ++j) {
    if (proxies[j].name != p.default_backend) continue;
    if (proxies[j].HasBackend()) {
      p.default_backend_index = static_cast<int>(j);
      return;
    }
    frontend_only = true;
  }
  const Origin& where = ctx.proxy_state[index].default_backend;
  ctx.AddAt(Severity::kAlert, where.file, where.line, "default_backend",
            Label(p) + " : 'default_backend' " + Quoted(p.default_backend) +
                (frontend_only ? " is a frontend, not a backend." : " names no backend."));
}

bool IsPortAddress(const DataplaneConfig& dp, const net::IpAddr& a) {
  for (const PortConfig& port : dp.ports) {
    for (const net::IpPrefix& pa : port.addresses) {
      if (pa.addr == a) return true;
    }
  }
  return false;
}

// Two sections listening on one address and port cannot tell their connections apart; an
// address that is not one of the ports' receives nothing.
void CheckBinds(ParseContext& ctx) {
  const auto& proxies = ctx.config.proxies;
  const DataplaneConfig& dp = ctx.config.dataplane;
  std::map<std::string, std::pair<size_t, const BindConfig*>> seen;
  // The test services' listeners (one per service and address of its port) share the
  // workers' listener table.
  size_t total = 0;
  for (const PortConfig& pc : dp.ports) total += pc.services.size() * pc.addresses.size();
  for (size_t i = 0; i < proxies.size(); ++i) {
    for (const BindConfig& b : proxies[i].binds) {
      if (++total == kMaxBinds + 1) {
        ctx.AddAt(Severity::kAlert, b.file, b.line, "bind",
                  "'bind' " + EndpointText(b.addr, b.any, b.port) + " of " + Label(proxies[i]) +
                      ": sluice listens on at most " + std::to_string(kMaxBinds) +
                      " addresses and ports over all frontends and services (a port range "
                      "counts each port).");
      }
    }
  }
  for (size_t i = 0; i < proxies.size(); ++i) {
    if (proxies[i].disabled) continue;
    for (const BindConfig& b : proxies[i].binds) {
      const std::string text = EndpointText(b.addr, b.any, b.port);
      auto [it, inserted] = seen.emplace(text, std::make_pair(i, &b));
      if (!inserted) {
        ctx.AddAt(Severity::kAlert, b.file, b.line, "bind",
                  "'bind' " + text + " of " + Label(proxies[i]) + " is already bound by " +
                      Label(proxies[it->second.first]) + " at " +
                      At(it->second.second->file, it->second.second->line) + ".");
        continue;
      }
      if (dp.present && !b.any && !IsPortAddress(dp, b.addr)) {
        ctx.AddAt(Severity::kWarning, b.file, b.line, "bind",
                  "'bind' " + text + ": " + net::ToString(b.addr) +
                      " is not an address of any port of the 'dataplane' section, so no "
                      "connection reaches it.");
      }
    }
  }
}

// An HTTP frontend cannot hand its requests to a TCP backend; the other way round is an
// upgrade to HTTP at the backend (HAProxy 2.6, same message).
void CheckModes(ParseContext& ctx, size_t index) {
  const ProxyConfig& p = ctx.config.proxies[index];
  if (!p.HasFrontend() || !p.mode_http || p.default_backend_index < 0) return;
  const ProxyConfig& b = ctx.config.proxies[static_cast<size_t>(p.default_backend_index)];
  if (b.mode_http) return;
  ctx.AddAt(Severity::kAlert, "", 0, "mode",
            "http " + std::string(KindName(p.kind)) + " " + Quoted(p.name) + " (" +
                At(p.file, p.line) + ") tries to use incompatible tcp " +
                std::string(KindName(b.kind)) + " " + Quoted(b.name) + " (" + At(b.file, b.line) +
                ") as its default backend (see 'mode').");
}

// Sluice speaks HTTP/1.1 only: an HTTP frontend's `alpn` offers no `h2`, or clients that
// take it would speak HTTP/2 to an HTTP/1 parser. A TCP frontend passes the bytes on and
// keeps it (its server may speak HTTP/2).
// `wire` without h2; whether it had it.
bool DropH2(std::string* wire) {
  std::string kept;
  bool dropped = false;
  for (size_t i = 0; i < wire->size(); i += 1 + static_cast<uint8_t>((*wire)[i])) {
    const std::string name = wire->substr(i + 1, static_cast<uint8_t>((*wire)[i]));
    if (name == "h2") {
      dropped = true;
    } else {
      kept += wire->substr(i, 1 + name.size());
    }
  }
  *wire = std::move(kept);
  return dropped;
}

void CheckAlpn(ParseContext& ctx, ProxyConfig& p) {
  if (!p.mode_http) return;
  int warned_line = 0;
  std::string warned_file;
  for (BindConfig& b : p.binds) {
    if (!b.tls) continue;
    auto t = std::make_shared<BindTlsConfig>(*b.tls);
    bool dropped = DropH2(&t->alpn);
    for (BindTlsConfig::Cert& c : t->crts) {  // crt-list lines' own `alpn`
      if (!c.conf) continue;
      auto own = std::make_shared<BindTlsConfig>(*c.conf);
      if (DropH2(&own->alpn)) {
        dropped = true;
        c.conf = std::move(own);
      }
    }
    if (!dropped) continue;
    if (warned_line != b.line || warned_file != b.file) {  // once per bind line
      warned_line = b.line;
      warned_file = b.file;
      ctx.AddAt(Severity::kWarning, b.file, b.line, "bind",
                "'bind " + b.text + "' : 'alpn' : sluice does not speak HTTP/2 yet: 'h2' is "
                "not offered to clients of " + Label(p) + ".");
    }
    b.tls = std::move(t);
  }
}

// Each backend's range of slots in the workers' server table: its servers, then an equal
// share of what is left (at most kDynamicServerSlots) for `add server`.
void LayOutServerSlots(ParseContext& ctx) {
  uint32_t configured = 0, backends = 0;
  for (const ProxyConfig& p : ctx.config.proxies) {
    if (!p.HasBackend()) continue;
    configured += static_cast<uint32_t>(p.servers.size());
    ++backends;
  }
  if (configured > kServerSlots) {
    ctx.Alert("too many servers: " + std::to_string(configured) + " in all, sluice's workers " +
              "hold " + std::to_string(kServerSlots) + ".");
    return;
  }
  const uint32_t spare =
      backends ? std::min(kDynamicServerSlots, (kServerSlots - configured) / backends) : 0;
  for (ProxyConfig& p : ctx.config.proxies) {
    if (p.HasBackend()) p.slots = static_cast<uint32_t>(p.servers.size()) + spare;
  }
}

}  // namespace

// The model holds what the workers use: HAProxy's `fastinter` and `downinter` default to
// `inter`.
void ResolveCheckTimes(ServerConfig& s) {
  if (s.inter_ms == 0) s.inter_ms = 2000;
  if (s.fastinter_ms == 0) s.fastinter_ms = s.inter_ms;
  if (s.downinter_ms == 0) s.downinter_ms = s.inter_ms;
}

void CheckProxies(ParseContext& ctx) {
  auto& proxies = ctx.config.proxies;
  for (size_t i = 0; i < proxies.size(); ++i) {
    const SectionState& st = ctx.proxy_state[i];
    CheckInherited(ctx, proxies[i], st);
    if (!proxies[i].disabled) WarnIncomplete(ctx, proxies[i], st);
    ResolveDefaultBackend(ctx, i);
    CheckModes(ctx, i);
    CheckAlpn(ctx, proxies[i]);
  }
  CheckBinds(ctx);
  LayOutServerSlots(ctx);
  AssignIds(proxies);
  for (ProxyConfig& p : proxies) {
    AssignIds(p.servers, true);
    for (ServerConfig& s : p.servers) ResolveCheckTimes(s);
  }
}

}  // namespace sluice::config
