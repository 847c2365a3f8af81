// Slow path: `server ... ssl sni EXPR` (configuration.txt 2.6, section 5.2): the expression
// is compiled with the rules' compiler and evaluated by the worker on the stream each time it
// connects to the server (proxy::Proxy::ConnectTo), so a backend reached over TLS can be sent
// the name the client asked for (`sni ssl_fc_sni`) or the request's Host (`sni req.hdr(host)`).
#include <string>
#include <vector>

#include "controlplane/rules/rules_compile.h"

namespace sluice::rulescp {

void CompileServerSni(const config::Config& cfg, Compiler& c, rules::RulesSnap& snap,
                      std::vector<config::Diagnostic>* diags) {
  size_t first = 0;  // srv_names' order: every backend's slots, proxy by proxy
  snap.server_sni.assign(snap.srv_names.size(), rules::Expr{});
  snap.server_sni_set.assign(snap.srv_names.size(), 0);
  for (const config::ProxyConfig& p : cfg.proxies) {
    if (!p.HasBackend()) continue;
    const size_t base = first;
    first += p.SlotsOf();
    for (size_t j = 0; j < p.servers.size(); ++j) {
      const config::ServerConfig& s = p.servers[j];
      const size_t i = base + j;
      if (!s.ssl || s.sni_expr.empty() || i >= snap.server_sni.size()) continue;
      c.At(s.file, s.line);
      // Fetched on the request (HAProxy's connect time): no response fetch.
      if (auto ok = c.ParseExpr(s.sni_expr, ExprScope{p.mode_http, false}, &snap.server_sni[i]);
          !ok) {
        diags->push_back(config::Diagnostic{
            config::Diagnostic::Severity::kAlert, s.file, s.line, "server",
            "'server " + p.name + "/" + s.name + "' : 'sni' : failed to parse sni expression '" +
                s.sni_expr + "' : " + ok.error()});
        continue;
      }
      snap.server_sni_set[i] = 1;
    }
  }
}

}  // namespace sluice::rulescp
