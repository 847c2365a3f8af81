// Slow path. The routing tables, built once at start-up before the workers run
// (FILE_EXEMPT of scripts/dev/tidy.py).
#include <rte_lpm.h>
#include <rte_lpm6.h>

#include <string>

#include "dataplane/net/net.h"

namespace sluice::net {

bool CreateRouteTables(NetConfig& cfg, const char* name, int socket_id) {
  rte_lpm_config c4{};
  c4.max_rules = kMaxRoutes;
  c4.number_tbl8s = 256;
  cfg.lpm4 = rte_lpm_create((std::string(name) + "4").c_str(), socket_id, &c4);
  rte_lpm6_config c6{};
  c6.max_rules = kMaxRoutes;
  c6.number_tbl8s = 1u << 12;
  cfg.lpm6 = rte_lpm6_create((std::string(name) + "6").c_str(), socket_id, &c6);
  return cfg.lpm4 && cfg.lpm6;
}

void FreeRouteTables(NetConfig& cfg) {
  if (cfg.lpm4) rte_lpm_free(cfg.lpm4);
  if (cfg.lpm6) rte_lpm6_free(cfg.lpm6);
  cfg.lpm4 = nullptr;
  cfg.lpm6 = nullptr;
}

bool AddRoute(NetConfig& cfg, const IpPrefix& prefix, const Route& route) {
  if (cfg.nroutes == kMaxRoutes) return false;
  const uint32_t idx = cfg.nroutes;
  int rc;
  if (prefix.addr.is_v6) {
    rc = rte_lpm6_add(cfg.lpm6, prefix.addr.v6.b.data(), prefix.length, idx);
  } else {
    rc = rte_lpm_add(cfg.lpm4, prefix.addr.v4.Host(), prefix.length, idx);
  }
  if (rc != 0) return false;
  cfg.routes[idx] = route;
  cfg.nroutes++;
  return true;
}

bool BuildConnectedRoutes(NetConfig& cfg) {
  for (unsigned p = 0; p < cfg.nports; ++p) {
    const PortAddrs& pa = cfg.ports[p];
    Route r{static_cast<uint16_t>(p), false, {}};
    for (unsigned i = 0; i < pa.n_v4; ++i) {
      if (!AddRoute(cfg, IpPrefix{IpAddr{false, pa.v4[i], {}}, pa.v4_len[i]}, r)) return false;
    }
    for (unsigned i = 0; i < pa.n_v6; ++i) {
      if (!AddRoute(cfg, IpPrefix{IpAddr{true, {}, pa.v6[i]}, pa.v6_len[i]}, r)) return false;
    }
  }
  return true;
}

}  // namespace sluice::net
