// Slow path. HAProxy 2.6's Prometheus exporter ("promex", docs/metrics.md): the families of
// haproxy_process_*, haproxy_frontend_*, haproxy_backend_*, haproxy_server_* and
// haproxy_sticktable_* with HAProxy 2.6.12's names, HELP texts, types, labels, order and
// value formats (tests/fixtures/promex-2.6.12/README.md), then Sluice's own families with
// the global scope: sluice_worker_* (one per per-worker counter, labelled by worker) and
// sluice_acl_entries / sluice_map_entries (each pattern reference's size). The text is
// produced family by family as a Dump, so a large configuration never sits in memory as one
// string and the stick tables' sizes are gathered from the workers without blocking the
// control loop.
//
//   PromexQuery q;
//   if (!ParsePromexQuery("scope=server&no-maint", &q)) -> HTTP 400
//   std::unique_ptr<Dump> body = MakePromexDump(appliance, q);   // then Step() it
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "runtime-api/commands/context.h"
#include "runtime-api/registry/registry.h"

namespace sluice::cli {

// promex's PROMEX_FL_SCOPE_* bits; Sluice's own families come with the global scope.
enum PromexScope : uint32_t {
  kPromexGlobal = 1u << 0,
  kPromexFrontend = 1u << 1,
  kPromexListener = 1u << 2,
  kPromexBackend = 1u << 3,
  kPromexServer = 1u << 4,
  kPromexStickTable = 1u << 5,
  kPromexAll = (1u << 6) - 1,
};

struct PromexQuery {
  uint32_t scopes = kPromexAll;
  bool no_maint = false;  // `no-maint`: no haproxy_server_* sample for servers in maintenance
};

// haproxy's promex_parse_uri() over a query string (the part after '?', '#' and what follows
// ignored): `scope=X` (several OR-ed; the first one clears the default of all; an empty value
// clears every scope so far; `*` selects all), `no-maint`; keys and values URL-decoded, other
// keys ignored. False where HAProxy answers 400: an unknown scope or `scope` without a value.
bool ParsePromexQuery(std::string_view query, PromexQuery* out);

// The exposition text (Content-Type `text/plain; version=0.0.4`). Takes its snapshot of the
// proxies, `show info` and the workers' counters now.
std::unique_ptr<Dump> MakePromexDump(ApplianceContext& appliance, const PromexQuery& query);

}  // namespace sluice::cli
