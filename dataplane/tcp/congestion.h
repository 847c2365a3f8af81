// Congestion control behind one interface (AESTHETICS practice 13: variants chosen once).
// NewReno (RFC 5681 slow start and congestion avoidance, RFC 6582 recovery) and CUBIC
// (RFC 9438, Linux's default) implement the same calls; CongestionControl holds the one a
// stack was configured with (`tcp-congestion` in the dataplane section).
#pragma once

#include <cmath>
#include <cstdint>

namespace sluice::tcp {

// No window grows past this (1 GiB): far above any window a peer can advertise (65535 << 14)
// plus what is in flight, and it keeps a 32-bit window from wrapping when a long transfer
// never sees a loss (as Linux's snd_cwnd_clamp).
inline constexpr uint32_t kMaxCwnd = 1u << 30;

inline uint32_t GrowCwnd(uint32_t cwnd, uint32_t by) {
  return by >= kMaxCwnd || cwnd >= kMaxCwnd - by ? kMaxCwnd : cwnd + by;
}

// Shared by every controller. RFC 5681 section 3.1 with RFC 6928's initial window: 10
// segments, capped by 14600 bytes (at least 2 segments).
inline uint32_t InitialWindow(uint32_t smss) {
  return smss * 10 < 14600 ? smss * 10 : (14600 > 2 * smss ? 14600 : 2 * smss);
}
// Slow start with appropriate byte counting (RFC 3465, L = 2 SMSS).
inline uint32_t SlowStartStep(uint32_t cwnd, uint32_t acked, uint32_t smss) {
  return GrowCwnd(cwnd, acked < 2 * smss ? acked : 2 * smss);
}

class NewReno {
 public:
  void Init(uint32_t smss) noexcept {
    smss_ = smss;
    cwnd_ = InitialWindow(smss);
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
      cwnd_ = SlowStartStep(cwnd_, acked, smss_);
      return;
    }
    bytes_acked_ += acked;
    if (bytes_acked_ >= cwnd_) {
      bytes_acked_ -= cwnd_;
      cwnd_ = GrowCwnd(cwnd_, smss_);
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
  // A reduction found unnecessary (RFC 3708: every retransmission came back as a duplicate):
  // the window and threshold it started from.
  void Undo(uint32_t prior_cwnd, uint32_t prior_ssthresh) noexcept {
    if (prior_cwnd > cwnd_) cwnd_ = prior_cwnd;
    if (prior_ssthresh > ssthresh_) ssthresh_ = prior_ssthresh;
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

// CUBIC (RFC 9438). Windows in segments as doubles inside, bytes outside. Slow start and
// recovery entry/exit as NewReno; in congestion avoidance the window follows
// W_cubic(t) = C (t - K)^3 + W_max (section 4.2) from the start of the avoidance epoch,
// aiming at W_cubic(t + RTT) (4.4, 4.5), never below the Reno-friendly estimate W_est
// (4.3); a congestion event multiplies by beta = 0.7 (4.6) with fast convergence (4.7).
class Cubic {
 public:
  static constexpr double kC = 0.4;
  static constexpr double kBeta = 0.7;
  static constexpr double kAlpha = 3 * (1 - kBeta) / (1 + kBeta);  // Reno-friendly increase

  void Init(uint32_t smss) noexcept {
    smss_ = smss;
    cwnd_ = InitialWindow(smss);
    ssthresh_ = UINT32_MAX;
    in_recovery_ = false;
    w_max_ = 0;
    epoch_us_ = 0;
    bytes_acked_ = 0;
  }
  uint32_t cwnd() const { return cwnd_; }
  uint32_t ssthresh() const { return ssthresh_; }
  bool in_recovery() const { return in_recovery_; }
  double w_max() const { return w_max_; }
  double k() const { return k_; }

  void OnAck(uint32_t acked, uint64_t now_us, uint32_t srtt_us) noexcept {
    if (in_recovery_) return;
    if (cwnd_ < ssthresh_) {  // slow start (RFC 5681, ABC with L = 2 SMSS)
      cwnd_ = SlowStartStep(cwnd_, acked, smss_);
      return;
    }
    const double cwnd_seg = static_cast<double>(cwnd_) / smss_;
    if (epoch_us_ == 0) {  // the first ACK of this avoidance stage starts its epoch
      epoch_us_ = now_us ? now_us : 1;
      if (w_max_ < cwnd_seg) {  // no congestion event seen, or the window grew past it
        w_max_ = cwnd_seg;
        k_ = 0;
      } else {
        k_ = std::cbrt((w_max_ - cwnd_seg) / kC);  // equation 2
      }
      w_est_ = cwnd_seg;
    }
    const double t = static_cast<double>(now_us - epoch_us_) / 1e6;
    const double rtt = static_cast<double>(srtt_us) / 1e6;
    // Reno-friendly region (4.3): W_est grows by alpha segments per window acknowledged.
    w_est_ += kAlpha * (static_cast<double>(acked) / smss_) / cwnd_seg;
    const double w_now = WCubic(t);
    double target_seg;
    if (w_now < w_est_) {
      target_seg = w_est_;
    } else {
      // Concave and convex regions (4.4, 4.5): a target one RTT ahead, clamped to
      // [cwnd, 1.5 cwnd], approached by (target - cwnd) / cwnd per segment acknowledged.
      double target = WCubic(t + rtt);
      if (target < cwnd_seg) target = cwnd_seg;
      if (target > 1.5 * cwnd_seg) target = 1.5 * cwnd_seg;
      target_seg = cwnd_seg + (target - cwnd_seg) / cwnd_seg * (static_cast<double>(acked) / smss_);
    }
    // Whole bytes only: fractions are kept in bytes_acked_ until they make a byte.
    const double grow = (target_seg - cwnd_seg) * smss_;
    if (grow > 0) {
      bytes_acked_ += static_cast<uint32_t>(grow * 1024);
      cwnd_ = GrowCwnd(cwnd_, bytes_acked_ / 1024);
      bytes_acked_ %= 1024;
    }
  }
  // Loss detected by duplicate ACKs or SACK (4.6, with fast convergence 4.7).
  void EnterRecovery(uint32_t flight) noexcept {
    Reduce(flight);
    cwnd_ = ssthresh_;
    in_recovery_ = true;
  }
  void ExitRecovery() noexcept {
    in_recovery_ = false;
    bytes_acked_ = 0;
  }
  // A reduction found unnecessary (RFC 3708): the window and threshold it started from, and
  // the cubic curve's plateau no lower than that window (a new avoidance epoch).
  void Undo(uint32_t prior_cwnd, uint32_t prior_ssthresh) noexcept {
    if (prior_cwnd > cwnd_) cwnd_ = prior_cwnd;
    if (prior_ssthresh > ssthresh_) ssthresh_ = prior_ssthresh;
    const double prior_seg = static_cast<double>(prior_cwnd) / smss_;
    if (prior_seg > w_max_) w_max_ = prior_seg;
    in_recovery_ = false;
    epoch_us_ = 0;
    bytes_acked_ = 0;
  }
  // Retransmission timeout (4.8): the same reduction, then one segment and slow start.
  void OnRto(uint32_t flight) noexcept {
    Reduce(flight);
    cwnd_ = smss_;
    in_recovery_ = false;
    bytes_acked_ = 0;
  }

 private:
  double WCubic(double t) const noexcept {
    const double d = t - k_;
    return kC * d * d * d + w_max_;
  }
  void Reduce(uint32_t flight) noexcept {
    const double cwnd_seg = static_cast<double>(cwnd_) / smss_;
    w_max_ = cwnd_seg < w_max_ ? cwnd_seg * (1 + kBeta) / 2 : cwnd_seg;  // fast convergence
    // ssthresh from cwnd, as Linux (RFC 9438 section 4.6 allows it when cwnd does not grow
    // while the sender is not limited by it: ProcessAck sees to that), or from the flight
    // when it is larger. From the flight alone, a loss found after a stall (a probe, a
    // delayed ACK) would take the window down to two segments.
    const auto reduced = static_cast<uint32_t>((flight > cwnd_ ? flight : cwnd_) * kBeta);
    ssthresh_ = reduced > 2 * smss_ ? reduced : 2 * smss_;
    epoch_us_ = 0;
    bytes_acked_ = 0;
  }
  uint32_t smss_ = 536;
  uint32_t cwnd_ = 0;
  uint32_t ssthresh_ = UINT32_MAX;
  uint32_t bytes_acked_ = 0;  // 1/1024 bytes of growth not yet added
  bool in_recovery_ = false;
  double w_max_ = 0, k_ = 0, w_est_ = 0;
  uint64_t epoch_us_ = 0;  // 0: no avoidance epoch running
};

enum class CcAlgo : uint8_t { kCubic, kNewReno };

// The controller a connection runs, chosen once by its stack's configuration.
class CongestionControl {
 public:
  void Init(uint32_t smss, CcAlgo algo) noexcept {
    algo_ = algo;
    if (algo_ == CcAlgo::kCubic) {
      cubic_.Init(smss);
    } else {
      reno_.Init(smss);
    }
  }
  uint32_t cwnd() const { return algo_ == CcAlgo::kCubic ? cubic_.cwnd() : reno_.cwnd(); }
  uint32_t ssthresh() const {
    return algo_ == CcAlgo::kCubic ? cubic_.ssthresh() : reno_.ssthresh();
  }
  bool in_recovery() const {
    return algo_ == CcAlgo::kCubic ? cubic_.in_recovery() : reno_.in_recovery();
  }
  void OnAck(uint32_t acked, uint64_t now_us, uint32_t srtt_us) noexcept {
    if (algo_ == CcAlgo::kCubic) return cubic_.OnAck(acked, now_us, srtt_us);
    reno_.OnAck(acked);
  }
  void EnterRecovery(uint32_t flight) noexcept {
    if (algo_ == CcAlgo::kCubic) return cubic_.EnterRecovery(flight);
    reno_.EnterRecovery(flight);
  }
  void ExitRecovery() noexcept {
    if (algo_ == CcAlgo::kCubic) return cubic_.ExitRecovery();
    reno_.ExitRecovery();
  }
  void OnRto(uint32_t flight) noexcept {
    if (algo_ == CcAlgo::kCubic) return cubic_.OnRto(flight);
    reno_.OnRto(flight);
  }
  void Undo(uint32_t prior_cwnd, uint32_t prior_ssthresh) noexcept {
    if (algo_ == CcAlgo::kCubic) return cubic_.Undo(prior_cwnd, prior_ssthresh);
    reno_.Undo(prior_cwnd, prior_ssthresh);
  }

 private:
  CcAlgo algo_ = CcAlgo::kCubic;
  NewReno reno_;
  Cubic cubic_;
};

}  // namespace sluice::tcp
