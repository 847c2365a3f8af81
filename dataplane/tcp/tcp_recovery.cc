// SACK loss recovery of the sender (docs/tcp.md "Loss recovery"): loss detection by SACK
// with a reordering window (after RACK, RFC 8985 section 6, at the granularity of the
// scoreboard's holes), tail loss probes (RFC 8985 section 7), RFC 6675 recovery with its
// pipe and NextSeg rules 1 and 2, lost retransmissions found and sent again in the same
// recovery, and Proportional Rate Reduction (RFC 6937) for how much to send on each ACK.
//
// Hole granularity: the stack keeps no send time per segment. Original data goes out in
// sequence order, so "a segment sent after this one was delivered" (RACK's test) is "a
// byte above this hole is SACKed"; the reordering window then runs from the first such
// SACK instead of from the hole's send time, which is later by at most one RTT of the hole
// and therefore never declares a loss earlier than RACK would. Retransmissions of one
// recovery are ordered by `rxt_mark`, SND.MAX when the last of them left: once data above
// it is SACKed, every retransmission still missing was sent before delivered data and is
// lost (RACK with its reordering window at zero in recovery, section 6.2 step 4).
#include "dataplane/tcp/tcp.h"
#include "dataplane/tcp/tcp_loss_inl.h"

namespace sluice::tcp {

using counters::Counter;

namespace {

constexpr uint8_t kMaxHeadResends = 2;     // lost-retransmission resends before the RTO
constexpr uint64_t kReorderMinUs = 1'000;  // one tick of the wheel

}  // namespace

void TcpStack::SendLossProbe(Tcb* t) noexcept {
  // The probe is the last segment sent, again, even when new data could go (RFC 8985
  // section 7.3 prefers new data). A Linux receiver holds its ACK for in-order data while
  // its window does not move (the reader is behind: tcp_input.c's __tcp_ack_snd_check) and
  // may hold the ACK of a retransmission that filled its last hole; a new segment is then
  // held too and the timeout follows, 200 ms later. A duplicate is answered at once, with a
  // DSACK (RFC 2883) that says nothing was lost, and puts the receiver in quick-ACK mode.
  // A lost tail is found as before: the duplicate arrives out of order and is SACKed.
  // On the testbed at 1% loss each way this took the timeouts of a 32 MiB download from
  // 1.8 to 0.3 (docs/tcp.md "Loss recovery").
  //
  // A probe no ACK answers within another probe timeout is followed by a second one, the
  // segment at SND.UNA, before the timeout: a receiver holding the ACK of a flight it has
  // whole answers a duplicate of its first segment at once where the duplicate of the last
  // one was seen to go unanswered (the testbed at 3% loss each way: the timeout's resend of
  // SND.UNA was always answered within microseconds, the first probe before it never).
  const uint32_t mss = MaxSegmentData(*t);
  const uint32_t in_flight = t->snd_nxt - t->snd_una;
  const uint32_t sent_data = in_flight < t->snd_bytes ? in_flight : t->snd_bytes;
  if (sent_data == 0) return ArmRtx(t, t->rtt.Rto());  // only the FIN is out: the timeout
  const uint32_t len = sent_data < mss ? sent_data : mss;
  const Seq end = t->snd_una + sent_data;
  const bool second = t->tlp_out;
  const Seq start = second ? t->snd_una : end - len;
  if (!SendData(t, start, len, true)) return ArmRtx(t, t->rtt.Rto());
  counters_->Inc(Counter::tcp_retrans_segs);
  counters_->Inc(Counter::tcp_loss_probes);
  if (t->sack_recovery) counters_->Inc(Counter::tcp_recovery_probes);
  if (second) return ArmRtx(t, t->rtt.Rto());
  t->tlp_out = true;
  t->tlp_rexmit = true;
  t->tlp_end = end;
  ArmRtx(t, ProbeTimeoutUs(t));
  t->rtx_kind = kRtxProbe;
}

void TcpStack::EnterSackRecovery(Tcb* t) noexcept {
  counters_->Inc(Counter::tcp_sack_recoveries);
  counters_->Inc(Counter::tcp_fast_retrans);
  const uint32_t flight = t->snd_max - t->snd_una;
  t->recover = t->snd_max;
  t->undo_armed = true;
  t->undo_cwnd = t->cc.cwnd();
  t->undo_ssthresh = t->cc.ssthresh();
  t->undo_n = 0;
  t->cc.EnterRecovery(flight);
  t->sack_recovery = true;
  t->prr_delivered = 0;
  t->prr_out = 0;
  t->recover_fs = flight ? flight : 1;
  t->high_rxt = t->snd_una;
  t->rxt_mark = t->snd_max;
  t->rxt_us = 0;
  t->head_resends = 0;
  t->lost_end = t->snd_una;
  t->nrxt_sends = 0;
  t->tlp_out = false;
  ArmRtx(t, t->rtt.Rto());  // the recovery's own guard
}

bool TcpStack::NextLost(const Tcb* t, Seq from, Seq* start, uint32_t* len) const noexcept {
  if (t->sb.NextHole(from, start, len)) return true;
  // Above the highest SACK: what was sent before a retransmission that was delivered.
  const Seq s = SeqMax(from, t->sb.HighestSacked(t->snd_una));
  const Seq data_end = t->snd_una + t->snd_bytes;  // never the FIN's number
  const Seq end = SeqLt(t->lost_end, data_end) ? t->lost_end : data_end;
  if (SeqLt(s, end)) {
    *start = s;
    *len = end - s;
    return true;
  }
  return false;
}

uint32_t TcpStack::RecoveryPipe(const Tcb* t) const noexcept {
  // Every byte out that is not SACKed, less the holes below the highest SACK that this
  // recovery has not resent yet (lost, and not in the network any more).
  const uint32_t out = t->snd_max - t->snd_una;
  uint32_t lost = 0;
  Seq from = SeqMax(t->high_rxt, t->snd_una);
  Seq start;
  uint32_t len;
  while (NextLost(t, from, &start, &len)) {
    lost += len;
    from = start + len;
  }
  const uint32_t gone = t->sacked + lost;
  return out > gone ? out - gone : 0;
}

void TcpStack::SackRecovery(Tcb* t, uint32_t delivered) noexcept {
  const uint32_t mss = MaxSegmentData(*t);
  bool entered = false;
  if (!t->sack_recovery) {
    // Nothing missing, or a timeout's recovery runs up to `recover`.
    // Duplicate ACKs without SACK blocks do not count on a SACK connection (RFC 6675
    // section 5: they come from duplicates the receiver got, as DSACK would say).
    if (t->sb.ranges() == 0 || SeqLt(t->snd_una, t->recover) || t->snd_una == t->snd_max) {
      return;
    }
    // The probe was sent after everything else: a SACK for it shows what it did not (not
    // once the cumulative ACK reached its end: its DSACK may still be on the way).
    const bool probe_answered = t->tlp_out && SeqLt(t->snd_una, t->tlp_end) &&
                                SeqGe(t->sb.HighestSacked(t->snd_una), t->tlp_end);
    // DupThresh SACKed segments above the hole are enough until reordering shows (RACK
    // section 6.2 step 4); then only the reordering window decides.
    if (probe_answered || (!t->reordering && t->sb.IsLost(t->snd_una, mss))) {
      if (probe_answered) counters_->Inc(Counter::tcp_probe_recoveries);
      EnterSackRecovery(t);
      entered = true;
    } else {
      // A hole with SACKed data above it: lost unless it arrives within the reordering
      // window (RACK: a quarter of the smoothed RTT, the whole RTT once reordering showed).
      if (t->rtx_kind != kRtxReorder) {
        ArmRtx(t, ReorderWindowUs(t));
        t->rtx_kind = kRtxReorder;
      }
      return;
    }
  }
  t->prr_delivered += delivered;
  // A partial ACK: a new segment heads the queue.
  if (t->rxt_una != t->snd_una) {
    t->head_resends = 0;
    // RACK: a retransmission was delivered, so whatever was sent before it and is still
    // missing is lost. Only what left before that retransmission: SND.MAX of an ACK's time
    // would take data still queued on the path for lost (a bottleneck's queue holds a
    // window's worth), and resend it all.
    uint8_t kept = 0;
    for (uint8_t i = 0; i < t->nrxt_sends; ++i) {
      const Tcb::RxtSend& r = t->rxt_sends[i];
      if (SeqLt(r.start, t->snd_una)) {
        if (SeqGt(r.snd_max, t->lost_end)) t->lost_end = r.snd_max;
      } else {
        t->rxt_sends[kept++] = r;
      }
    }
    t->nrxt_sends = kept;
    // The new lowest hole was resent later than the old one: timing it from now errs late,
    // never early.
    if (t->rxt_us != 0) t->rxt_us = now_us_;
    t->rxt_una = t->snd_una;
  }
  if (!entered && LostRetransmission(t)) {
    ResendPass(t);
  }
  // PRR (RFC 6937 section 3): proportional while the pipe is above ssthresh, then slow
  // start back up to it, bounded by what was delivered (PRR-SSRB).
  const uint32_t pipe = RecoveryPipe(t);
  const uint32_t ssthresh = t->cc.ssthresh();
  int64_t sndcnt;
  if (pipe > ssthresh) {
    const uint64_t share =
        (static_cast<uint64_t>(t->prr_delivered) * ssthresh + t->recover_fs - 1) / t->recover_fs;
    sndcnt = static_cast<int64_t>(share) - t->prr_out;
  } else {
    const int64_t behind = static_cast<int64_t>(t->prr_delivered) - t->prr_out;
    const int64_t limit = (behind > delivered ? behind : delivered) + mss;
    const int64_t gap = static_cast<int64_t>(ssthresh) - pipe;
    sndcnt = gap < limit ? gap : limit;
  }
  if (entered && sndcnt < mss) sndcnt = mss;  // the fast retransmit goes regardless
  t->prr_budget = sndcnt > 0 ? static_cast<uint32_t>(sndcnt) : 0;
}

uint64_t TcpStack::ReorderWindowUs(const Tcb* t) const noexcept {
  const uint64_t srtt = t->rtt.srtt_us();
  const uint64_t w = t->reordering ? srtt : srtt / 4;
  return w > kReorderMinUs ? w : kReorderMinUs;
}

uint64_t TcpStack::RetransmitWindowUs(const Tcb* t) const noexcept {
  return t->rtt.srtt_us() + ReorderWindowUs(t);
}

bool TcpStack::LostRetransmission(Tcb* t) noexcept {
  // A hole this recovery already resent is still missing while data sent after the last
  // retransmission is SACKed, or more than an RTT and the reordering window after the
  // segment at SND.UNA was resent (RACK's test by time: the ACKs of what was in flight
  // then have all come back; it also serves a receiver that cannot SACK so far ahead).
  Seq start;
  uint32_t len;
  if (!SeqGt(t->high_rxt, t->snd_una) || !NextLost(t, t->snd_una, &start, &len) ||
      !SeqLt(start, t->high_rxt)) {
    return false;  // nothing resent is missing
  }
  // A segment resent this way twice and still missing: the timeout (with its backoff and
  // its retry limit) takes over, or a path that keeps dropping it would spin here.
  if (t->head_resends >= kMaxHeadResends) return false;
  // In order of sending; the reordering window is zero in recovery unless reordering
  // showed (section 6.2 step 4), when only time decides.
  if (!t->reordering && SeqGt(t->sb.HighestSacked(t->snd_una), t->rxt_mark)) return true;
  if (t->rxt_us != 0 && now_us_ - t->rxt_us > RetransmitWindowUs(t)) return true;
  // Not yet: the reordering timer looks again when the window has passed.
  if (t->rxt_us != 0 && t->rtx_kind != kRtxReorder) {
    const uint64_t due = t->rxt_us + RetransmitWindowUs(t) + 1;
    ArmRtx(t, due > now_us_ ? due - now_us_ : kReorderMinUs);
    t->rtx_kind = kRtxReorder;
  }
  return false;
}

void TcpStack::ResendPass(Tcb* t) noexcept {
  ++t->head_resends;
  t->nrxt_sends = 0;
  t->high_rxt = t->snd_una;
  t->rxt_mark = t->snd_max;
  t->rxt_us = 0;
  counters_->Inc(Counter::tcp_lost_retransmits);
}

void TcpStack::RecoveryOutput(Tcb* t) noexcept {
  const uint32_t mss = MaxSegmentData(*t);
  for (int guard = 0; guard < 256 && t->prr_budget > 0; ++guard) {
    uint32_t len;
    Seq start;
    if (NextLost(t, SeqMax(t->high_rxt, t->snd_una), &start, &len)) {
      // NextSeg rule 1: the first hole not yet resent, a segment at most, data only.
      if (len > mss) len = mss;
      const uint32_t data_left = t->snd_una + t->snd_bytes - start;
      if (SeqGe(start, t->snd_una + t->snd_bytes)) return;
      if (len > data_left) len = data_left;
      if (!SendData(t, start, len, true)) return;
      counters_->Inc(Counter::tcp_retrans_segs);
      t->rxt_mark = t->snd_max;
      if (t->nrxt_sends < Tcb::kRxtSends) t->rxt_sends[t->nrxt_sends++] = {start, t->snd_max};
      if (start == t->snd_una) {
        t->rxt_us = now_us_;
        t->rxt_una = start;
      }
    } else {
      // Rule 2: new data, within the peer's window.
      const Seq nxt = t->snd_nxt;
      if (!SendNewSegment(t)) {
        // Every byte is delivered but a FIN sent above the holes: the peer may have dropped
        // it out of order, so it goes again, once.
        const Seq data_end = t->snd_una + t->snd_bytes;
        if (t->snd_bytes == 0 && SeqGt(t->snd_max, data_end) && SeqLe(t->high_rxt, data_end)) {
          SendFin(t, true);
          t->high_rxt = t->snd_max;
        }
        return;
      }
      len = t->snd_nxt - nxt;
    }
    t->prr_out += len;
    t->prr_budget = len < t->prr_budget ? t->prr_budget - len : 0;
  }
}

bool TcpStack::SendNewSegment(Tcb* t) noexcept {
  const uint32_t mss = MaxSegmentData(*t);
  const uint32_t in_flight = t->snd_nxt - t->snd_una;
  const uint32_t sent_data = in_flight < t->snd_bytes ? in_flight : t->snd_bytes;
  const uint32_t unsent = t->snd_bytes - sent_data;
  const uint32_t room = t->snd_wnd > in_flight ? t->snd_wnd - in_flight : 0;
  uint32_t len = unsent < mss ? unsent : mss;
  if (len > room) len = room;
  if (len == 0 || !SendData(t, t->snd_nxt, len, false)) return false;
  t->snd_nxt += len;
  if (SeqGt(t->snd_nxt, t->snd_max)) t->snd_max = t->snd_nxt;
  return true;
}

void TcpStack::OnReorderTimer(Tcb* t) noexcept {
  ArmRtx(t, t->rtt.Rto());
  if (t->sack_recovery) {
    if (!LostRetransmission(t)) return;
    ResendPass(t);
    const uint32_t mss = MaxSegmentData(*t);
    if (t->prr_budget < mss) t->prr_budget = mss;
    Output(t);
    return;
  }
  if (t->sb.ranges() == 0 || SeqLt(t->snd_una, t->recover)) return;
  counters_->Inc(Counter::tcp_reo_timeouts);
  EnterSackRecovery(t);
  t->prr_budget = MaxSegmentData(*t);  // the fast retransmit
  Output(t);
}

}  // namespace sluice::tcp

namespace sluice::tcp {

void TcpStack::NoteUndoResend(Tcb* t, Seq seq, uint32_t len) noexcept {
  const Seq end = seq + len;
  for (uint8_t i = 0; i < t->undo_n; ++i) {
    if (SeqLt(seq, t->undo_rxt[i].right) && SeqGt(end, t->undo_rxt[i].left)) {
      t->undo_armed = false;  // resent twice: it was probably lost; nothing to undo
      return;
    }
  }
  if (t->undo_n > 0 && t->undo_rxt[t->undo_n - 1].right == seq) {
    t->undo_rxt[t->undo_n - 1].right = end;
    return;
  }
  if (t->undo_n == Tcb::kUndoRanges) {
    t->undo_armed = false;  // too scattered to account for: kept
    return;
  }
  t->undo_rxt[t->undo_n++] = Tcb::UndoRange{seq, end, 0};
}

void TcpStack::NoteUndoDsack(Tcb* t, Seq left, Seq right) noexcept {
  for (uint8_t i = 0; i < t->undo_n; ++i) {
    Tcb::UndoRange& r = t->undo_rxt[i];
    const Seq l = SeqGt(left, r.left) ? left : r.left;
    const Seq h = SeqLt(right, r.right) ? right : r.right;
    if (SeqGt(h, l)) {
      const uint32_t room = (r.right - r.left) - r.dup;
      const uint32_t add = h - l;
      r.dup += add < room ? add : room;
    }
  }
}

bool TcpStack::AllResentDuplicated(const Tcb* t) noexcept {
  if (t->undo_n == 0) return false;
  for (uint8_t i = 0; i < t->undo_n; ++i) {
    if (t->undo_rxt[i].dup != t->undo_rxt[i].right - t->undo_rxt[i].left) return false;
  }
  return true;
}

}  // namespace sluice::tcp

namespace sluice::tcp {

// F-RTO (RFC 5682 section 3, the SACK version, as Linux runs it) with the timestamp and DSACK
// tests of Linux's undo: a timeout is spurious when what was sent before it arrives after
// all (a delay, held or lost ACKs). Then the window comes back and what went out is not sent
// again; otherwise the timeout's slow start from SND.UNA goes on.
void TcpStack::StartFrto(Tcb* t) noexcept {
  // A timeout again while F-RTO had not decided (a stall longer than the backed-off
  // timeout): it starts over from step 2 with what the first saved, its timestamp included,
  // as Linux's retrans_stamp (section 2.2; Linux's icsk_retransmits case).
  if (t->frto != 0 && t->retries > 1 && t->snd_una == t->frto_una) {
    t->frto = 1;
    return;
  }
  // Otherwise only a first timeout outside a recovery (section 2.1 step 1; Linux's
  // new_recovery): a recovery's own timeout already found losses.
  if (t->retries != 1 || t->sack_recovery || t->cc.in_recovery() || !t->sack_ok ||
      t->snd_bytes == 0) {
    t->frto = 0;
    return;
  }
  t->frto = 1;
  t->frto_una = t->snd_una;
  t->frto_max = t->snd_max;
  t->frto_cwnd = t->cc.cwnd();
  t->frto_ssthresh = t->cc.ssthresh();
  t->frto_tsval = TsNow();  // what FillTsOption writes on the resend
}

void TcpStack::FrtoAck(Tcb* t, bool advanced, bool dupack, const SackBlock* dsack,
                       uint32_t ts_ecr) noexcept {
  // The peer had the resent segment already (DSACK, RFC 2883), or this ACK echoes a
  // timestamp older than the resend's, so the original got there (Eifel, RFC 3522).
  const bool had_it = dsack && SeqLe(dsack->left, t->frto_una) && SeqGt(dsack->right, t->frto_una);
  const bool original =
      advanced && t->ts_ok && ts_ecr != 0 && static_cast<int32_t>(ts_ecr - t->frto_tsval) < 0;
  if (had_it || (t->frto == 1 && original)) return SpuriousTimeout(t);
  if (t->frto == 2) {
    // Step 3: data sent before the timeout and never resent was acknowledged (3.b), or a
    // duplicate ACK says the loss was real (3.a): slow start from SND.UNA, as the timeout
    // began it.
    if (advanced) return SpuriousTimeout(t);
    if (dupack) {
      t->frto = 0;
      t->snd_nxt = t->snd_una;
    }
    return;
  }
  if (!advanced) {
    if (dupack) t->frto = 0;  // step 2.a
    return;
  }
  // Step 2: the resend's ACK (or the original's). Everything out then acknowledged tells
  // nothing (2.a); otherwise up to two new segments go (2.b) and the next ACK decides.
  if (SeqGe(t->snd_una, t->frto_max)) {
    t->frto = 0;
    return;
  }
  const Seq back = t->snd_nxt;
  t->snd_nxt = t->snd_max;
  if (!SendNewSegment(t)) {  // nothing new to send, or no room: the conventional way
    t->snd_nxt = back;
    t->frto = 0;
    return;
  }
  SendNewSegment(t);
  t->frto = 2;
}

void TcpStack::SpuriousTimeout(Tcb* t) noexcept {
  // RFC 4015's response as Linux's undo: the window and threshold before the timeout, its
  // backoff gone, and no resending of what is still on its way (SND.NXT back to SND.MAX).
  // Losses the SACKs show are left to a recovery of their own.
  t->cc.Undo(t->frto_cwnd, t->frto_ssthresh);
  t->rtt.ClearBackoff();
  t->frto = 0;
  if (SeqLt(t->snd_nxt, t->snd_max)) t->snd_nxt = t->snd_max;
  t->recover = t->snd_una - 1;
  counters_->Inc(counters::Counter::tcp_spurious_rtos);
}

}  // namespace sluice::tcp
