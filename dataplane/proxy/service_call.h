// Requests a worker hands to the control plane to answer (docs/stats-page.md, docs/metrics.md):
// the statistics page (`stats uri`) and the Prometheus exporter (`http-request use-service
// prometheus-exporter`) on a data-plane frontend. The worker matches the request, checks
// `stats auth` and `stats admin`, keeps a ServiceCall in its bounded table and counts it in
// ProxyStats::service_posted; the control plane, seeing that count move, takes the calls
// (base::Op::kServiceTake), renders each answer and sends it back in slices
// (base::Op::kServiceData) that the worker queues for the client as its send queue takes
// them. No string is built on a worker: it only copies the request in and the bytes out.
#pragma once

#include <cstdint>

namespace sluice::proxy {

enum class ServiceKind : uint8_t { kStats, kPrometheus };

inline constexpr uint32_t kServiceCalls = 32;          // per worker, at once (more: 503)
inline constexpr uint32_t kServiceUriBytes = 2048;     // a longer target: 400
inline constexpr uint32_t kServiceBodyBytes = 8192;    // the admin form's body; longer: 400
inline constexpr uint32_t kServiceSliceBytes = 16384;  // answer bytes per kServiceData

// One handed-over request, as kServiceTake copies it into its reply.
struct ServiceCall {
  uint64_t uid = 0;    // the session's (0: a free slot)
  uint32_t slot = 0;   // its index in the worker's table
  uint32_t proxy = 0;  // whose `stats` settings apply: a frontend's or a backend's index
  ServiceKind kind = ServiceKind::kStats;
  bool frontend = true;  // `proxy` is a frontend's index
  bool admin = false;    // `stats admin`'s condition held
  bool head = false;     // HEAD: the answer has no body
  bool post = false;
  uint8_t minor = 1;  // HTTP/1.minor of the request
  uint16_t uri_len = 0, body_len = 0;
  char uri[kServiceUriBytes];  // the request's path (an absolute URI's), query included
  char body[kServiceBodyBytes];
};

// kServiceData's `arg`: the slot, the payload's length, the answer's status (on its first
// slice, else 0), whether it is the last slice and whether the connection closes after it
// (an answer delimited by the close).
struct ServiceData {
  uint32_t slot = 0;
  uint32_t len = 0;
  uint16_t status = 0;
  bool last = false;
  bool close = false;
  constexpr uint64_t Pack() const noexcept {
    return (uint64_t{slot} & 0xff) | (uint64_t{len} & 0xffffff) << 8 |
           (uint64_t{status} & 0x3ff) << 32 | uint64_t{last} << 62 | uint64_t{close} << 63;
  }
  static constexpr ServiceData Unpack(uint64_t a) noexcept {
    return {static_cast<uint32_t>(a & 0xff), static_cast<uint32_t>(a >> 8 & 0xffffff),
            static_cast<uint16_t>(a >> 32 & 0x3ff), (a >> 62 & 1) != 0, (a >> 63 & 1) != 0};
  }
};
static_assert(kServiceCalls <= 0xff && kServiceSliceBytes <= 0xffffff);

}  // namespace sluice::proxy
