// Initial sequence numbers (RFC 6528) and SYN cookies (RFC 4987 section 3.6).
//
// ISN = M + F(local, remote, secret): M is a clock ticking every 4 us, F a keyed SipHash of
// the connection's addresses and ports.
//
// A SYN cookie is the ISN of a SYN-ACK whose state was not kept. Its 32 bits:
//   [31..27] t      minutes counter mod 32 (cookies live 2 minutes)
//   [26..24] mss    index into kCookieMss
//   [23..0]  mac    SipHash(secret, addresses, ports, client ISN, t, mss) & 0xffffff
// Window scale and SACK-permitted do not fit; when the client sent timestamps they ride in
// the low 5 bits of our TSval and come back in its TSecr, as Linux does:
//   [4] sack-permitted, [3..0] window scale (0xf: none).
#pragma once

#include <cstdint>

#include "dataplane/tcp/siphash.h"

namespace sluice::tcp {

// Address and ports of a connection, as the hashes see it (IPv4 addresses in the first 4
// bytes, zero elsewhere). Network byte order throughout.
struct FlowKey {
  uint8_t local_addr[16] = {};
  uint8_t remote_addr[16] = {};
  uint16_t local_port = 0;
  uint16_t remote_port = 0;
  uint32_t is_v6 = 0;
};
static_assert(sizeof(FlowKey) == 40);

inline constexpr uint16_t kCookieMss[8] = {536, 1220, 1360, 1400, 1440, 1452, 1460, 8960};

struct CookieOptions {
  uint16_t mss = 536;
  bool has_wscale = false;
  uint8_t wscale = 0;
  bool sack_permitted = false;
};

class IsnGenerator {
 public:
  explicit IsnGenerator(const SipKey& key) : key_(key) {}
  // `now_us`: a monotonic clock in microseconds.
  uint32_t Isn(const FlowKey& flow, uint64_t now_us) const noexcept;

 private:
  SipKey key_;
};

class SynCookies {
 public:
  explicit SynCookies(const SipKey& key) : key_(key) {}

  // The cookie (our ISN) for a SYN with sequence `client_isn` and these options. The MSS
  // is rounded down to the largest table entry not above it.
  uint32_t Make(const FlowKey& flow, uint32_t client_isn, uint16_t mss,
                uint64_t now_minutes) const noexcept;
  // Checks the ACK completing the handshake: `ack` acknowledges our ISN + 1, `seq` is the
  // client ISN + 1. Returns false for a forged or expired cookie; else sets out->mss.
  bool Check(const FlowKey& flow, uint32_t seq, uint32_t ack, uint64_t now_minutes,
             CookieOptions* out) const noexcept;

  // The low TSval bits that carry window scale and SACK-permitted, and their decoding.
  static uint32_t EncodeTsOptions(uint32_t ts_val, const CookieOptions& o) noexcept;
  static void DecodeTsOptions(uint32_t ts_ecr, CookieOptions* o) noexcept;

 private:
  uint32_t Mac(const FlowKey& flow, uint32_t client_isn, uint32_t t,
               uint32_t mss_index) const noexcept;
  SipKey key_;
};

}  // namespace sluice::tcp
