// Congestion control behind one interface (AESTHETICS practice 13: variants chosen once).
// NewReno (RFC 5681 slow start and congestion avoidance, RFC 6582 recovery) is the first
// controller; CUBIC (RFC 9438) is to come as another implementation of the same calls.
#pragma once

#include <cstdint>

namespace sluice::tcp {

class NewReno {
 public:
  // RFC 5681 section 3.1 (IW per RFC 6928's 10 segments, capped by 14600 bytes as there).
  void Init(uint32_t smss) noexcept {
    smss_ = smss;
    cwnd_ = smss * 10 < 14600 ? smss * 10 : (14600 > 2 * smss ? 14600 : 2 * smss);
    ssthresh_ = UINT32_MAX;
    in_recovery_ = false;
    bytes_acked_ = 0;
  }
  uint32_t cwnd() const { return cwnd_; }
  uint32_t ssthresh() const { return ssthresh_; }
  bool in_recovery() const { return in_recovery_; }

  // New data acknowledged outside recovery: slow start, or congestion avoidance with
  // appropriate byte counting (RFC 3465, L = 2 SMSS).
  void OnAck(uint32_t acked) noexcept {
    if (in_recovery_) return;
    if (cwnd_ < ssthresh_) {
      cwnd_ += acked < 2 * smss_ ? acked : 2 * smss_;
      return;
    }
    bytes_acked_ += acked;
    if (bytes_acked_ >= cwnd_) {
      bytes_acked_ -= cwnd_;
      cwnd_ += smss_;
    }
  }
  // Loss detected by duplicate ACKs or SACK (RFC 5681 section 3.2 step 2, RFC 6675 5.1).
  void EnterRecovery(uint32_t flight) noexcept {
    ssthresh_ = HalfFlight(flight);
    cwnd_ = ssthresh_;
    in_recovery_ = true;
  }
  // Full acknowledgement of the recovery point (RFC 6582 section 3.2 step 3).
  void ExitRecovery() noexcept {
    in_recovery_ = false;
    bytes_acked_ = 0;
  }
  // Retransmission timeout (RFC 5681 section 3.1, equation 4 and after).
  void OnRto(uint32_t flight) noexcept {
    ssthresh_ = HalfFlight(flight);
    cwnd_ = smss_;
    in_recovery_ = false;
    bytes_acked_ = 0;
  }

 private:
  uint32_t HalfFlight(uint32_t flight) const noexcept {
    const uint32_t half = flight / 2;
    return half > 2 * smss_ ? half : 2 * smss_;
  }
  uint32_t smss_ = 536;
  uint32_t cwnd_ = 0;
  uint32_t ssthresh_ = UINT32_MAX;
  uint32_t bytes_acked_ = 0;
  bool in_recovery_ = false;
};

}  // namespace sluice::tcp
