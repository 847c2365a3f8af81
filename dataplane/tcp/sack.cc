#include "dataplane/tcp/sack.h"

namespace sluice::tcp {

void SackScoreboard::Insert(SackBlock b) noexcept {
  // Find the first range that ends at or after b.left; merge every overlapping/adjacent one.
  unsigned i = 0;
  while (i < n_ && SeqLt(r_[i].right, b.left)) ++i;
  unsigned j = i;
  while (j < n_ && SeqLe(r_[j].left, b.right)) {
    b.left = SeqMin(b.left, r_[j].left);
    b.right = SeqMax(b.right, r_[j].right);
    ++j;
  }
  const unsigned merged = j - i;
  if (merged == 0) {
    if (n_ == kMaxRanges) {
      if (i == n_) return;  // above everything we keep: forget it
      --n_;                 // drop the highest range to make room
    }
    for (unsigned k = n_; k > i; --k) r_[k] = r_[k - 1];
    r_[i] = b;
    ++n_;
    return;
  }
  r_[i] = b;
  for (unsigned k = i + 1; k + merged - 1 < n_; ++k) r_[k] = r_[k + merged - 1];
  n_ -= merged - 1;
}

void SackScoreboard::Update(Seq snd_una, Seq snd_max, const SackBlock* blocks,
                            unsigned n) noexcept {
  // Forget what SND.UNA has passed.
  unsigned drop = 0;
  while (drop < n_ && SeqLe(r_[drop].right, snd_una)) ++drop;
  for (unsigned k = drop; k < n_; ++k) r_[k - drop] = r_[k];
  n_ -= drop;
  if (n_ && SeqLt(r_[0].left, snd_una)) r_[0].left = snd_una;
  for (unsigned k = 0; k < n; ++k) {
    SackBlock b = blocks[k];
    if (!SeqLt(b.left, b.right)) continue;
    if (SeqLe(b.right, snd_una) || SeqGt(b.right, snd_max)) continue;
    if (SeqLt(b.left, snd_una)) b.left = snd_una;
    Insert(b);
  }
}

bool SackScoreboard::IsSacked(Seq s) const noexcept {
  for (unsigned i = 0; i < n_; ++i) {
    if (SeqInWindow(s, r_[i].left, r_[i].right)) return true;
  }
  return false;
}

uint32_t SackScoreboard::SackedAbove(Seq s) const noexcept {
  uint32_t bytes = 0;
  for (unsigned i = 0; i < n_; ++i) {
    if (SeqLe(r_[i].right, s)) continue;
    const Seq left = SeqMax(r_[i].left, s);
    bytes += r_[i].right - left;
  }
  return bytes;
}

bool SackScoreboard::IsLost(Seq s, uint32_t smss) const noexcept {
  unsigned ranges_above = 0;
  for (unsigned i = 0; i < n_; ++i) {
    if (SeqGt(r_[i].left, s)) ++ranges_above;
  }
  return ranges_above >= kDupThresh || SackedAbove(s) > (kDupThresh - 1) * smss;
}

bool SackScoreboard::NextHole(Seq from, Seq* start, uint32_t* len) const noexcept {
  Seq cur = from;
  for (unsigned i = 0; i < n_; ++i) {
    if (SeqLe(r_[i].right, cur)) continue;
    if (SeqLt(cur, r_[i].left)) {
      *start = cur;
      *len = r_[i].left - cur;
      return true;
    }
    cur = r_[i].right;
  }
  return false;
}

uint32_t SackScoreboard::Pipe(Seq snd_una, Seq snd_max, Seq high_rxt,
                              uint32_t smss) const noexcept {
  // Walk the sequence space in SMSS steps, as SetPipe does per octet range.
  uint32_t pipe = 0;
  Seq s = snd_una;
  unsigned steps = 0;
  while (SeqLt(s, snd_max) && steps < 1u << 20) {
    const uint32_t seg = SeqDiff(snd_max, s) < static_cast<int32_t>(smss)
                             ? static_cast<uint32_t>(SeqDiff(snd_max, s))
                             : smss;
    if (!IsSacked(s)) {
      if (!IsLost(s, smss)) pipe += seg;
      if (SeqLt(s, high_rxt)) pipe += seg;
    }
    s += seg;
    ++steps;
  }
  return pipe;
}

}  // namespace sluice::tcp
