// Internal to dataplane/tcp: the part of SACK loss recovery (tcp_recovery.cc) that runs on
// every ACK and every send, inline where it is called.
#pragma once

#include "dataplane/tcp/tcp.h"

namespace sluice::tcp {

// The probe timeout's floor: two ticks of the timer wheel (a timer for one tick may fire at
// once), as Linux's TCP_TIMEOUT_MIN is two of its ticks. A probe that was not needed costs
// one duplicate segment (the probe resends, and the peer's DSACK keeps the window); the
// 4 ms floor this replaces was 40% of a 32 MiB download at 3% loss on the testbed.
inline constexpr uint64_t kProbeMinUs = 2'000;
inline constexpr uint64_t kWorstDelayedAckUs = 200'000;  // RFC 8985 WCDelAckT

inline uint64_t TcpStack::ProbeTimeoutUs(const Tcb* t) const noexcept {
  uint64_t pto = 2ull * t->rtt.srtt_us();
  // One segment in flight: its ACK may be delayed (section 7.2, WCDelAckT).
  if (t->snd_max - t->snd_una <= t->snd_mss) pto += kWorstDelayedAckUs;
  if (pto < kProbeMinUs) pto = kProbeMinUs;
  const uint32_t rto = t->rtt.Rto();
  return pto > rto ? rto : pto;  // a probe first even then; the timeout follows it
}

inline void TcpStack::ArmLossTimer(Tcb* t, bool only_earlier) noexcept {
  const uint32_t rto = t->rtt.Rto();
  // RFC 8985 section 7.2: a probe when SACK is on, no probe runs, an RTT is known, the
  // last timeout was answered, and data is outstanding (a lone FIN is left to the timeout).
  // Also in a SACK recovery, unlike RFC 8985: a recovery no ACK answers for a probe timeout
  // (the receiver holding the ACK of the retransmission that filled its last hole) would
  // otherwise wait for the timeout; the probe's answer lets it go on (SendLossProbe).
  if (!t->sack_ok || t->tlp_out || t->snd_bytes == 0 || !t->rtt.has_sample() ||
      t->rtt.backoff() != 0) {
    return ArmRtx(t, rto);
  }
  const uint64_t pto = ProbeTimeoutUs(t);
  if (only_earlier && t->rtx_timer.armed &&
      wheel_->now() + (pto + 999) / 1000 >= t->rtx_timer.expiry) {
    return;
  }
  ArmRtx(t, pto);
  t->rtx_kind = kRtxProbe;
}

}  // namespace sluice::tcp
