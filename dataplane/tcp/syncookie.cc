#include "dataplane/tcp/syncookie.h"

namespace sluice::tcp {

namespace {
constexpr uint32_t kMacBits = 24;
constexpr uint32_t kMacMask = (1u << kMacBits) - 1;
constexpr uint64_t kCookieLifetimeMinutes = 2;
}  // namespace

uint32_t IsnGenerator::Isn(const FlowKey& flow, uint64_t now_us) const noexcept {
  const auto f = static_cast<uint32_t>(SipHash24(key_, &flow, sizeof flow));
  return f + static_cast<uint32_t>(now_us / 4);
}

uint32_t SynCookies::Mac(const FlowKey& flow, uint32_t client_isn, uint32_t t,
                         uint32_t mss_index) const noexcept {
  struct {
    FlowKey flow;
    uint32_t client_isn;
    uint32_t t_and_mss;
  } in{flow, client_isn, t << 3 | mss_index};
  return static_cast<uint32_t>(SipHash24(key_, &in, sizeof in)) & kMacMask;
}

uint32_t SynCookies::Make(const FlowKey& flow, uint32_t client_isn, uint16_t mss,
                          uint64_t now_minutes) const noexcept {
  uint32_t idx = 0;
  for (uint32_t i = 0; i < 8; ++i) {
    if (kCookieMss[i] <= mss) idx = i;
  }
  const auto t = static_cast<uint32_t>(now_minutes & 31);
  return t << 27 | idx << kMacBits | Mac(flow, client_isn, t, idx);
}

bool SynCookies::Check(const FlowKey& flow, uint32_t seq, uint32_t ack, uint64_t now_minutes,
                       CookieOptions* out) const noexcept {
  const uint32_t cookie = ack - 1;
  const uint32_t client_isn = seq - 1;
  const uint32_t t = cookie >> 27;
  const uint32_t idx = (cookie >> kMacBits) & 7;
  const uint64_t age = (now_minutes - t) & 31;
  if (age > kCookieLifetimeMinutes) return false;
  if ((cookie & kMacMask) != Mac(flow, client_isn, t, idx)) return false;
  out->mss = kCookieMss[idx];
  return true;
}

uint32_t SynCookies::EncodeTsOptions(uint32_t ts_val, const CookieOptions& o) noexcept {
  const uint32_t ws = o.has_wscale ? (o.wscale > 14 ? 14u : o.wscale) : 0xfu;
  uint32_t ts = (ts_val & ~0x1fu) | (o.sack_permitted ? 0x10u : 0u) | ws;
  // Never ahead of the clock: the segments that follow carry the clock itself, and a peer
  // doing PAWS (RFC 7323 section 5) drops any whose timestamp is below the SYN-ACK's (as
  // Linux's cookie_init_timestamp, the 32 values below keep the low bits).
  if (static_cast<int32_t>(ts - ts_val) > 0) ts -= 32;
  return ts;
}

void SynCookies::DecodeTsOptions(uint32_t ts_ecr, CookieOptions* o) noexcept {
  const uint32_t ws = ts_ecr & 0xf;
  o->has_wscale = ws != 0xf;
  o->wscale = o->has_wscale ? static_cast<uint8_t>(ws) : 0;
  o->sack_permitted = (ts_ecr & 0x10) != 0;
}

}  // namespace sluice::tcp
