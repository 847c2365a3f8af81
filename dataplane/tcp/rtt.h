// Retransmission timeout estimator (RFC 6298). Times are in microseconds. Karn's rule
// (section 3) is the caller's: no sample from a retransmitted segment unless its echoed
// timestamp identifies the transmission (RFC 7323 section 4).
#pragma once

#include <cstdint>

namespace sluice::tcp {

struct RttConfig {
  uint32_t initial_rto_us = 1'000'000;  // RFC 6298 section 2.1
  uint32_t min_rto_us = 200'000;        // Linux's floor; RFC 6298 suggests 1 s (a SHOULD)
  uint32_t max_rto_us = 60'000'000;     // section 2.5: at least 60 s
  uint32_t granularity_us = 1'000;      // G
  uint8_t max_backoff = 12;
};

class RttEstimator {
 public:
  explicit RttEstimator(const RttConfig& cfg = RttConfig{}) : cfg_(cfg) {}

  // A new measurement R (section 2.2 for the first, 2.3 after).
  void Sample(uint32_t r_us) noexcept {
    if (r_us == 0) r_us = 1;
    if (!has_sample_) {
      srtt_us_ = r_us;
      rttvar_us_ = r_us / 2;
      has_sample_ = true;
    } else {
      const uint32_t diff = srtt_us_ > r_us ? srtt_us_ - r_us : r_us - srtt_us_;
      rttvar_us_ = rttvar_us_ - rttvar_us_ / 4 + diff / 4;  // beta = 1/4
      srtt_us_ = srtt_us_ - srtt_us_ / 8 + r_us / 8;        // alpha = 1/8
    }
    backoff_ = 0;
  }

  // The timeout to arm now, with exponential backoff (section 5.5), clamped.
  uint32_t Rto() const noexcept {
    uint64_t base = cfg_.initial_rto_us;
    if (has_sample_) {
      const uint64_t k_var = 4ull * rttvar_us_;
      base = srtt_us_ + (k_var > cfg_.granularity_us ? k_var : cfg_.granularity_us);
    }
    if (base < cfg_.min_rto_us) base = cfg_.min_rto_us;
    const uint64_t rto = base << backoff_;
    return rto > cfg_.max_rto_us ? cfg_.max_rto_us : static_cast<uint32_t>(rto);
  }

  // The retransmission timer expired (section 5.5): double the timeout.
  void Backoff() noexcept {
    if (backoff_ < cfg_.max_backoff) ++backoff_;
  }
  // The timeout was spurious (RFC 4015 section 3): the backoff it added goes.
  void ClearBackoff() noexcept { backoff_ = 0; }
  uint8_t backoff() const { return backoff_; }
  bool has_sample() const { return has_sample_; }
  uint32_t srtt_us() const { return srtt_us_; }
  uint32_t rttvar_us() const { return rttvar_us_; }

 private:
  RttConfig cfg_;
  bool has_sample_ = false;
  uint8_t backoff_ = 0;
  uint32_t srtt_us_ = 0;
  uint32_t rttvar_us_ = 0;
};

}  // namespace sluice::tcp
