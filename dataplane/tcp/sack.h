// The sender's SACK scoreboard (RFC 2018, RFC 6675 section 4): which bytes above SND.UNA the
// receiver holds. A bounded array of disjoint, sorted ranges; when it is full the lowest
// ranges win (they decide retransmissions first) and the rest is forgotten, which is safe:
// forgotten bytes count as not SACKed, so they are at worst retransmitted again.
#pragma once

#include <cstdint>

#include "dataplane/tcp/tcp_options.h"
#include "dataplane/tcp/tcp_seq.h"

namespace sluice::tcp {

class SackScoreboard {
 public:
  static constexpr unsigned kMaxRanges = 16;
  static constexpr unsigned kDupThresh = 3;  // RFC 6675 section 2

  void Reset() { n_ = 0; }
  unsigned ranges() const { return n_; }
  const SackBlock& range(unsigned i) const { return r_[i]; }

  // Applies an ACK: drops what is below `snd_una`, merges the blocks that lie within
  // (snd_una, snd_max] (others are ignored as RFC 2018 section 5 allows).
  void Update(Seq snd_una, Seq snd_max, const SackBlock* blocks, unsigned n) noexcept;

  bool IsSacked(Seq s) const noexcept;
  // Bytes SACKed at or above `s`.
  uint32_t SackedAbove(Seq s) const noexcept;
  // RFC 6675 IsLost(SeqNum): enough SACKed data above it (DupThresh discontiguous ranges, or
  // more than (DupThresh - 1) * SMSS bytes).
  bool IsLost(Seq s, uint32_t smss) const noexcept;
  Seq HighestSacked(Seq snd_una) const noexcept { return n_ ? r_[n_ - 1].right : snd_una; }

  // The first hole at or after `from` below the highest SACKed byte: [*start, *start + *len).
  bool NextHole(Seq from, Seq* start, uint32_t* len) const noexcept;

  // RFC 6675 SetPipe(): bytes in flight, given the highest retransmitted byte `high_rxt`.
  uint32_t Pipe(Seq snd_una, Seq snd_max, Seq high_rxt, uint32_t smss) const noexcept;

 private:
  void Insert(SackBlock b) noexcept;
  SackBlock r_[kMaxRanges];
  unsigned n_ = 0;
};

}  // namespace sluice::tcp
