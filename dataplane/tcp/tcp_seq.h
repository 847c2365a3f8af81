// Sequence-number arithmetic modulo 2^32 (RFC 9293 section 3.4; RFC 1982 serial numbers):
// `a` is before `b` when the signed 32-bit difference a - b is negative.
#pragma once

#include <cstdint>

namespace sluice::tcp {

using Seq = uint32_t;

constexpr int32_t SeqDiff(Seq a, Seq b) { return static_cast<int32_t>(a - b); }
constexpr bool SeqLt(Seq a, Seq b) { return SeqDiff(a, b) < 0; }
constexpr bool SeqLe(Seq a, Seq b) { return SeqDiff(a, b) <= 0; }
constexpr bool SeqGt(Seq a, Seq b) { return SeqDiff(a, b) > 0; }
constexpr bool SeqGe(Seq a, Seq b) { return SeqDiff(a, b) >= 0; }
constexpr Seq SeqMax(Seq a, Seq b) { return SeqGt(a, b) ? a : b; }
constexpr Seq SeqMin(Seq a, Seq b) { return SeqLt(a, b) ? a : b; }
// lo <= s < hi, in sequence space (an empty window holds nothing).
constexpr bool SeqInWindow(Seq s, Seq lo, Seq hi) { return SeqLe(lo, s) && SeqLt(s, hi); }

}  // namespace sluice::tcp
