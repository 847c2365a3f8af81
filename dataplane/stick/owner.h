// Which worker owns a stick-table key (DESIGN.md sections 2 and 8, docs/stick-tables.md):
// an address (ip and ipv6 tables, an IPv4 address mapped into IPv6 as its IPv4 one) on the
// worker that owns that client's flows, so tracking `src` never leaves the worker; any
// other key on the worker hash(key) names. The workers and the control plane (which routes
// `set table` and `clear table ... key` to the owner) call this one function.
#pragma once

#include <rte_hash_crc.h>

#include <cstdint>
#include <cstring>

#include "dataplane/net/flow.h"
#include "dataplane/stick/stick.h"

namespace sluice::stick {

inline uint16_t OwnerOf(const TableDef& t, const uint8_t* key, const net::FlowSteering& s,
                        uint16_t nworkers) noexcept {
  if (nworkers <= 1) return 0;
  static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (t.type == KeyType::kIp || (t.type == KeyType::kIpv6 && !std::memcmp(key, kMapped, 12))) {
    uint32_t be;
    std::memcpy(&be, t.type == KeyType::kIp ? key : key + 12, 4);
    return static_cast<uint16_t>(s.OwnerOfClientV4(be) % nworkers);
  }
  if (t.type == KeyType::kIpv6) return static_cast<uint16_t>(s.OwnerOfClientV6(key) % nworkers);
  return static_cast<uint16_t>(rte_hash_crc(key, t.key_len, 0x51ce) % nworkers);
}

}  // namespace sluice::stick
