// Fast path: segment output (RFC 9293 section 3.8 and 3.10), retransmission and timers.
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include <cstring>

#include "dataplane/tcp/tcp.h"
#include "dataplane/tcp/tcp_inl.h"
#include "dataplane/tcp/tcp_loss_inl.h"

namespace sluice::tcp {

using counters::Counter;

void TcpStack::Transmit(rte_mbuf* m, const FlowKey& key) noexcept {
  counters_->Inc(Counter::tcp_segs_out);
  sink_->SendSegment(m, key);
}

void TcpStack::FillTsOption(const Tcb* t, TcpOptions* opt) const noexcept {
  if (!t->ts_ok) return;
  opt->has_timestamp = true;
  opt->ts_val = TsNow();
  opt->ts_ecr = t->ts_recent;
}

// The window we offer: what the receive budget leaves, never moving the right edge left
// (RFC 9293 section 3.8.6.2.2, receiver's silly window avoidance: grow by at least an MSS).
uint16_t TcpStack::AdvertisedWindow(Tcb* t) noexcept {
  const uint32_t held = t->user_held;
  uint32_t space = cfg_.rcv_buf > held ? cfg_.rcv_buf - held : 0;
  const uint32_t max_wnd = 65535u << t->rcv_wscale;
  if (space > max_wnd) space = max_wnd;
  const Seq edge = t->rcv_nxt + space;
  const uint32_t cur = SeqGt(t->rcv_adv, t->rcv_nxt) ? t->rcv_adv - t->rcv_nxt : 0;
  if (SeqGt(edge, t->rcv_adv) && (space - cur >= t->snd_mss || space >= cfg_.rcv_buf / 2 ||
                                  cur == 0 || !SeqGt(t->rcv_adv, t->rcv_nxt))) {
    t->rcv_adv = edge;
  }
  if (SeqLt(t->rcv_adv, t->rcv_nxt)) t->rcv_adv = t->rcv_nxt;
  uint32_t wnd = t->rcv_adv - t->rcv_nxt;
  if (wnd > max_wnd) {
    wnd = max_wnd;
    t->rcv_adv = t->rcv_nxt + max_wnd;
  }
  return static_cast<uint16_t>(wnd >> t->rcv_wscale);
}

void TcpStack::ForgetSum(rte_mbuf* m) const noexcept { m->ol_flags &= ~sum_flag_; }

bool TcpStack::StoredSum(const rte_mbuf* d, uint32_t* sum) const noexcept {
  if (!(d->ol_flags & sum_flag_) || !sum_flag_) return false;
  *sum = *RTE_MBUF_DYNFIELD(d, sum_offset_, const uint32_t*);
  return true;
}

rte_mbuf* TcpStack::BuildSegment(const Tcb* t, const FlowKey& key, Seq seq, Seq ack, uint8_t flags,
                                 uint16_t window, const TcpOptions& opt,
                                 uint32_t payload_len) noexcept {
  rte_mbuf* m = rte_pktmbuf_alloc(pool_);
  if (!m) {
    counters_->Inc(Counter::tcp_drop_no_mbuf);
    return nullptr;
  }
  uint8_t optbuf[kMaxOptionsLen];
  const size_t optlen = BuildOptions(opt, optbuf, sizeof optbuf);
  const uint32_t hdr = kTcpHeaderLen + static_cast<uint32_t>(optlen);
  // The payload, bytes [seq, seq + len) of the send queue: new data starts where the last
  // segment ended (the cursor); retransmissions start from the head.
  rte_mbuf* d = nullptr;
  Seq d_seq = 0;  // sequence number of d's first byte
  uint32_t skip = 0;
  if (payload_len > 0 && t) {
    d = t->sq_head;
    d_seq = t->snd_una - t->sq_head_off;
    if (t->sq_cur && SeqGe(seq, t->sq_cur_seq)) {
      d = t->sq_cur;
      d_seq = t->sq_cur_seq;
    }
    skip = seq - d_seq;
    while (d && skip >= d->data_len) {
      skip -= d->data_len;
      d_seq += d->data_len;
      d = d->next;
    }
  }
  // A payload that is exactly one received mbuf, unchanged, has its sum already.
  uint32_t psum = 0;
  const bool stored = d && skip == 0 && payload_len == d->data_len && StoredSum(d, &psum);
  // Zero-copy where it fits: the payload is one stretch of one queued mbuf, large enough
  // that a reference costs less than a copy, and every port takes multi-segment frames. The
  // segment is then the header mbuf chained to an indirect mbuf on the queued data, which
  // stays valid while the NIC holds it (reference count) even if acknowledged meanwhile.
  rte_mbuf* ref = nullptr;
  if (cfg_.zero_copy_tx && d && payload_len >= kZeroCopyMinPayload &&
      skip + payload_len <= d->data_len) {
    ref = rte_pktmbuf_alloc(pool_);
    if (ref) {
      rte_pktmbuf_attach(ref, d);
      rte_pktmbuf_adj(ref, static_cast<uint16_t>(skip));
      rte_pktmbuf_trim(ref, static_cast<uint16_t>(ref->data_len - payload_len));
      t->sq_cur = d;
      t->sq_cur_seq = d_seq;
    }
  }
  const uint32_t inline_len = ref ? 0 : payload_len;
  auto* h =
      reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, static_cast<uint16_t>(hdr + inline_len)));
  if (!h) {
    rte_pktmbuf_free(m);
    if (ref) rte_pktmbuf_free(ref);
    counters_->Inc(Counter::tcp_drop_no_mbuf);
    return nullptr;
  }
  St16(h, rte_be_to_cpu_16(key.local_port));
  St16(h + 2, rte_be_to_cpu_16(key.remote_port));
  St32(h + 4, seq);
  St32(h + 8, (flags & kAck) ? ack : 0);
  h[12] = static_cast<uint8_t>((hdr / 4) << 4);
  h[13] = flags;
  St16(h + 14, window);
  St16(h + 16, 0);
  St16(h + 18, 0);
  std::memcpy(h + kTcpHeaderLen, optbuf, optlen);
  if (inline_len > 0) {  // copy the payload behind the header
    uint8_t* dst = h + hdr;
    uint32_t left = inline_len;
    while (d && left > 0) {
      const uint32_t take = d->data_len - skip < left ? d->data_len - skip : left;
      std::memcpy(dst, rte_pktmbuf_mtod_offset(d, const uint8_t*, skip), take);
      dst += take;
      left -= take;
      t->sq_cur = d;
      t->sq_cur_seq = d_seq;
      if (left > 0) {
        d_seq += d->data_len;
        d = d->next;
        skip = 0;
      }
    }
  }
  // The header is a multiple of 4 bytes long, so the payload's sum adds on as it is.
  uint32_t sum = PseudoHeaderSum(key.local_addr, key.remote_addr, key.is_v6, hdr + payload_len);
  if (stored) {
    sum = __rte_raw_cksum_reduce(sum) + __rte_raw_cksum_reduce(psum);
    sum = __rte_raw_cksum(h, hdr, sum);
  } else {
    sum = __rte_raw_cksum(h, hdr + inline_len, sum);
  }
  if (ref) {
    if (!stored) sum = __rte_raw_cksum(rte_pktmbuf_mtod(ref, const void*), payload_len, sum);
    m->next = ref;
    m->nb_segs = 2;
    m->pkt_len += payload_len;
    counters_->Inc(Counter::tcp_zero_copy_segs);
  }
  const auto csum = static_cast<uint16_t>(~__rte_raw_cksum_reduce(sum));
  std::memcpy(h + 16, &csum, 2);  // the sum is computed in memory order: store it as is
  return m;
}

bool TcpStack::SendData(Tcb* t, Seq seq, uint32_t len, bool rexmit) noexcept {
  // A recovery's retransmissions, each to be reported back as a duplicate for its undo.
  if (rexmit && t->undo_armed) {
    if (t->undo_n == 0) t->undo_tsval = TsNow();  // what FillTsOption writes on it
    NoteUndoResend(t, seq, len);
  }
  TcpOptions opt;
  FillTsOption(t, &opt);
  if (t->sack_ok && (t->nooo != 0 || t->dsack_pending)) FillSackBlocks(t, &opt);
  // Options and data together stay within the MSS: SACK blocks give way to data.
  while (opt.nsack > 0 && len + (t->ts_ok ? 12u : 0u) + 4u + 8u * opt.nsack > t->snd_mss) {
    --opt.nsack;
  }
  const uint16_t wnd = AdvertisedWindow(t);
  const bool last = seq + len == t->snd_una + t->snd_bytes;
  const uint8_t flags = static_cast<uint8_t>(kAck | (last && len > 0 ? kPsh : 0));
  rte_mbuf* m = BuildSegment(t, t->key, seq, t->rcv_nxt, flags, wnd, opt, len);
  if (!m) return false;
  t->last_ack_sent = t->rcv_nxt;
  t->ack_now = false;
  t->unacked_segs = 0;
  wheel_->Cancel(&t->ack_timer);
  // Below SND.MAX is a resend whatever the caller calls it (the go-back after a timeout,
  // new-data rules after SND.NXT was pulled back): never timed (Karn).
  const bool resend = rexmit || SeqLt(seq, t->snd_max);
  if (rexmit && SeqGt(seq + len, t->high_rxt)) t->high_rxt = seq + len;
  if (resend) {
    if (t->timing && SeqLe(seq, t->timed_seq)) t->timing = false;  // Karn
  } else if (!t->timing && len > 0) {
    t->timing = true;
    t->timed_seq = seq;
    t->timed_us = now_us_;
  }
  Transmit(m, t->key);
  return true;
}

void TcpStack::SendSyn(Tcb* t) noexcept {
  TcpOptions opt;
  opt.has_mss = true;
  opt.mss = cfg_.mss;
  const bool active = t->state == State::kSynSent;
  // Options we offer (active open) or accept (they were offered to us).
  if (active ? cfg_.wscale > 0 : t->ws_ok) {
    opt.has_wscale = true;
    opt.wscale = cfg_.wscale;
  }
  if (active ? cfg_.sack : t->sack_ok) opt.sack_permitted = true;
  if (active ? cfg_.timestamps : t->ts_ok) {
    opt.has_timestamp = true;
    opt.ts_val = TsNow();
    opt.ts_ecr = active ? 0 : t->ts_recent;
  }
  const uint8_t flags = static_cast<uint8_t>(kSyn | (active ? 0 : kAck));
  // The window in a SYN is never scaled (RFC 7323 section 2.2).
  const uint32_t w = cfg_.rcv_buf < 65535 ? cfg_.rcv_buf : 65535;
  if (!active) t->rcv_adv = t->rcv_nxt + w;  // SYN-SENT: RCV.NXT is not known yet
  rte_mbuf* m =
      BuildSegment(t, t->key, t->iss, t->rcv_nxt, flags, static_cast<uint16_t>(w), opt, 0);
  if (t->snd_max == t->iss) t->snd_max = t->iss + 1;
  t->snd_nxt = t->iss + 1;
  if (!t->timing && t->retries == 0) {
    t->timing = true;
    t->timed_seq = t->iss;
    t->timed_us = now_us_;
  }
  ArmRtx(t, t->rtt.Rto());
  if (m) Transmit(m, t->key);
}

// A pure ACK carries SND.MAX: after a timeout SND.NXT goes back to SND.UNA for the
// retransmissions, and an ACK numbered below the peer's RCV.NXT would be unacceptable to it
// (RFC 9293 section 3.10.7.4), its acknowledgment ignored.
// A segment without data carries SND.MAX, but never beyond the peer's window: a peer whose
// window closed (or shrank) accepts only segments inside it and would drop the ACK with its
// acknowledgment and window fields, which can deadlock two zero windows (RFC 9293 section
// 3.10.7.4 acceptability; Linux's tcp_acceptable_seq makes the same choice).
Seq AckSeq(const Tcb& t) {
  const Seq wnd_end = t.snd_una + t.snd_wnd;
  return SeqLe(t.snd_max, wnd_end) ? t.snd_max : wnd_end;
}

namespace {

// Calls f(block) for each run of contiguous out-of-order segments, lowest first, until f
// returns false.
template <class F>
void ForEachOooRun(const Tcb& t, F f) noexcept {
  for (unsigned i = 0; i < t.nooo;) {
    SackBlock b{t.ooo[i].seq, t.ooo[i].seq + t.ooo[i].len};
    unsigned j = i + 1;
    for (; j < t.nooo && SeqLe(t.ooo[j].seq, b.right); ++j) {
      const Seq end = t.ooo[j].seq + t.ooo[j].len;
      if (SeqGt(end, b.right)) b.right = end;
    }
    if (!f(b)) return;
    i = j;
  }
}

// The run that holds `s`, as a SACK block.
bool OooRunOf(const Tcb& t, Seq s, SackBlock* out) noexcept {
  bool found = false;
  ForEachOooRun(t, [&](const SackBlock& b) {
    if (SeqLt(s, b.left)) return false;
    if (SeqLt(s, b.right)) {
      *out = b;
      found = true;
      return false;
    }
    return true;
  });
  return found;
}

bool Listed(const TcpOptions& opt, unsigned from, const SackBlock& b) noexcept {
  for (unsigned k = from; k < opt.nsack; ++k) {
    if (opt.sack[k].left == b.left) return true;
  }
  return false;
}

}  // namespace

void TcpStack::FillSackBlocks(Tcb* t, TcpOptions* opt) noexcept {
  // A duplicate that arrived is reported first, once (DSACK, RFC 2883 section 4).
  if (__builtin_expect(t->dsack_pending, 0)) {
    opt->sack[opt->nsack++] = t->dsack;
    t->dsack_pending = false;
  }
  if (t->nooo == 0) return;
  // RFC 2018 section 4: the block holding the segment that came last, then the blocks
  // reported first most recently, so that a sender hears of every block while more are
  // held than one option carries (reported lowest first, the higher ones never were, and
  // the sender resent what we held). The lowest fill what room is left.
  const unsigned first = opt->nsack;
  SackBlock b;
  if (t->ooo_recent && OooRunOf(*t, t->ooo_last, &b)) opt->sack[opt->nsack++] = b;
  for (uint8_t h = 0; h < t->nsack_history && opt->nsack < kMaxSackBlocks; ++h) {
    if (OooRunOf(*t, t->sack_history[h], &b) && !Listed(*opt, first, b)) {
      opt->sack[opt->nsack++] = b;
    }
  }
  ForEachOooRun(*t, [&](const SackBlock& run) {
    if (opt->nsack == kMaxSackBlocks) return false;
    if (!Listed(*opt, first, run)) opt->sack[opt->nsack++] = run;
    return true;
  });
  t->ooo_recent = false;
  if (opt->nsack == first) return;
  // The history: this option's first block, then the earlier ones it does not repeat.
  const Seq head = opt->sack[first].left;
  uint8_t n = 0;
  Seq kept[Tcb::kSackHistory];
  kept[n++] = head;
  for (uint8_t h = 0; h < t->nsack_history && n < Tcb::kSackHistory; ++h) {
    if (!OooRunOf(*t, t->sack_history[h], &b) || b.left == head) continue;
    kept[n++] = t->sack_history[h];
  }
  for (uint8_t h = 0; h < n; ++h) t->sack_history[h] = kept[h];
  t->nsack_history = n;
}

void TcpStack::SendAck(Tcb* t) noexcept { SendData(t, AckSeq(*t), 0, false); }

void TcpStack::SendChallengeAck(Tcb* t) noexcept {
  counters_->Inc(Counter::tcp_challenge_acks);
  SendAck(t);
}

void TcpStack::SendFin(Tcb* t, bool again) noexcept {
  TcpOptions opt;
  FillTsOption(t, &opt);
  const Seq seq = again ? t->snd_max - 1 : t->snd_nxt;
  rte_mbuf* m = BuildSegment(t, t->key, seq, t->rcv_nxt, kFin | kAck, AdvertisedWindow(t), opt, 0);
  t->last_ack_sent = t->rcv_nxt;
  t->ack_now = false;
  if (again) {
    counters_->Inc(Counter::tcp_retrans_segs);
  } else {
    t->snd_nxt += 1;
    if (SeqGt(t->snd_nxt, t->snd_max)) t->snd_max = t->snd_nxt;
    if (!t->rtx_timer.armed) ArmRtx(t, t->rtt.Rto());
  }
  if (m) Transmit(m, t->key);
}

void TcpStack::SendResetFor(const FlowKey& key, Seq seq, Seq ack, bool with_ack) noexcept {
  counters_->Inc(Counter::tcp_out_rsts);
  TcpOptions none;
  rte_mbuf* m = BuildSegment(nullptr, key, seq, ack,
                             static_cast<uint8_t>(kRst | (with_ack ? kAck : 0)), 0, none, 0);
  if (m) Transmit(m, key);
}

void TcpStack::Output(Tcb* t) noexcept {
  const bool can_send = t->state == State::kEstablished || t->state == State::kCloseWait ||
                        t->state == State::kFinWait1 || t->state == State::kClosing ||
                        t->state == State::kLastAck;
  if (can_send) {
    // `sacked` mirrors the scoreboard (ProcessAck keeps it): without SACK information or
    // recovery, the send loop is compiled without either.
    if (__builtin_expect(t->sacked != 0 || t->sack_recovery, 0)) {
      SendLoop<true>(t);
    } else {
      SendLoop<false>(t);
    }
  }
  if (t->ack_now) SendAck(t);
}

template <bool kLoss>
void TcpStack::SendLoop(Tcb* t) noexcept {
  // SACK recovery sends what PRR allows (tcp_recovery.cc); only the FIN goes below.
  const bool sack_recovery = kLoss && t->sack_recovery;
  if (sack_recovery) {
    const uint32_t out_before = t->prr_out;
    RecoveryOutput(t);
    // What recovery sent is answered within a probe timeout, or probed (the reordering
    // timer, when it runs, looks first).
    if (t->prr_out != out_before && t->rtx_kind == kRtxRto) ArmLossTimer(t);
  }
  bool sent = false;
  for (int guard = 0; guard < 1024; ++guard) {
    // After a timeout: SACKed bytes are not sent again.
    if (kLoss && SeqLt(t->snd_nxt, t->snd_max)) SkipSacked(t);
    const uint32_t in_flight = t->snd_nxt - t->snd_una;
    const uint32_t sent_data = in_flight > t->snd_bytes ? t->snd_bytes : in_flight;
    const uint32_t unsent = t->snd_bytes - sent_data;
    uint32_t cwnd = t->cc.cwnd();
    // Limited transmit (RFC 3042): the first two duplicate ACKs each let one new segment
    // out, so that a small window still yields the three duplicates fast retransmit needs.
    if (t->dupacks > 0 && t->dupacks < 3 && !t->cc.in_recovery()) {
      cwnd += t->dupacks * MaxSegmentData(*t);
    }
    uint32_t wnd = t->snd_wnd < cwnd ? t->snd_wnd : cwnd;
    const uint32_t usable = wnd > in_flight && !sack_recovery ? wnd - in_flight : 0;
    if (unsent > 0 && usable > 0) {
      const uint32_t max_data = MaxSegmentData(*t);
      uint32_t len = unsent < max_data ? unsent : max_data;
      if (len > usable) {
        // Sender silly window avoidance (RFC 9293 3.8.6.2.1): wait for a useful window
        // unless nothing is in flight.
        if (in_flight > 0 && usable < max_data) break;
        len = usable;
      }
      if (kLoss && SeqLt(t->snd_nxt, t->snd_max)) len = UpToSacked(t, len);
      if (!SendData(t, t->snd_nxt, len, false)) break;
      t->snd_nxt += len;
      if (SeqGt(t->snd_nxt, t->snd_max)) t->snd_max = t->snd_nxt;
      sent = true;
      continue;
    }
    // FIN once all data is out (it needs no window).
    const Seq fin_seq = t->snd_una + t->snd_bytes;
    if (t->fin_queued && unsent == 0 && t->snd_nxt == fin_seq &&
        (t->state == State::kFinWait1 || t->state == State::kLastAck ||
         t->state == State::kClosing)) {
      SendFin(t);
      continue;
    }
    if (unsent > 0 && t->snd_wnd == 0 && in_flight == 0 && !t->rtx_timer.armed) {
      t->persist = true;  // zero window: probe it (RFC 9293 3.8.6.1)
      ArmRtx(t, t->rtt.Rto());
    }
    break;
  }
  // New data out: the timer if none runs, and a probe timer restarts from the end of the
  // burst (RFC 8985 section 7.2), when the flight it is computed from is complete.
  if (sent && (!t->rtx_timer.armed || t->persist)) {
    t->persist = false;
    ArmLossTimer(t);
  } else if (sent && t->rtx_kind == kRtxProbe) {
    ArmLossTimer(t, true);  // earlier only: writes that trickle in never put it off
  }
}

void TcpStack::TrimAcked(Tcb* t, uint32_t bytes) noexcept {
  t->snd_bytes -= bytes;
  while (bytes > 0 && t->sq_head) {
    rte_mbuf* d = t->sq_head;
    const uint32_t left = d->data_len - t->sq_head_off;
    if (bytes < left) {
      t->sq_head_off = static_cast<uint16_t>(t->sq_head_off + bytes);
      return;
    }
    bytes -= left;
    t->sq_head = d->next;
    if (!t->sq_head) t->sq_tail = nullptr;
    if (t->sq_cur == d) t->sq_cur = nullptr;
    d->next = nullptr;
    rte_pktmbuf_free_seg(d);
    --t->sq_count;
    t->sq_head_off = 0;
  }
}

void TcpStack::ArmRtx(Tcb* t, uint64_t after_us) noexcept {
  const uint64_t ms = (after_us + 999) / 1000;
  wheel_->Arm(&t->rtx_timer, wheel_->now() + (ms ? ms : 1));
  t->rtx_kind = kRtxRto;
}

// After a timeout SND.NXT went back to SND.UNA: what the peer SACKed is not sent again
// (RFC 6675 section 5.1 keeps the scoreboard across a timeout).
void TcpStack::SkipSacked(Tcb* t) noexcept {
  // The segment at SND.UNA goes again whatever the scoreboard says: SACK is advisory (RFC
  // 2018 section 8), and a range that starts there means the ACK that passed it was lost.
  // Skipping it could leave a timeout with nothing to send, and nothing to elicit an ACK.
  if (t->snd_nxt == t->snd_una) return;
  const Seq data_end = t->snd_una + t->snd_bytes;
  for (unsigned i = 0; i < t->sb.ranges(); ++i) {
    const SackBlock& r = t->sb.range(i);
    if (SeqGe(t->snd_nxt, r.left) && SeqLt(t->snd_nxt, r.right)) {
      t->snd_nxt = SeqLt(r.right, data_end) ? r.right : data_end;
    }
  }
}

uint32_t TcpStack::UpToSacked(const Tcb* t, uint32_t len) const noexcept {
  for (unsigned i = 0; i < t->sb.ranges(); ++i) {
    const SackBlock& r = t->sb.range(i);
    if (SeqGt(r.left, t->snd_nxt)) {
      const uint32_t gap = r.left - t->snd_nxt;
      return gap < len ? gap : len;
    }
  }
  return len;
}

void TcpStack::EnterTimeWait(Tcb* t) noexcept {
  t->state = State::kTimeWait;
  t->want_writable = false;
  TimeWaitUnlink(t);  // a repeated FIN restarts the wait: to the tail
  t->in_tw_list = true;
  t->tw_prev = tw_tail_;
  t->tw_next = UINT32_MAX;
  if (tw_tail_ == UINT32_MAX) {
    tw_head_ = Id(t);
  } else {
    tcbs_[tw_tail_].tw_next = Id(t);
  }
  tw_tail_ = Id(t);
  wheel_->Cancel(&t->ack_timer);
  ArmRtx(t, static_cast<uint64_t>(cfg_.time_wait_ms) * 1000);
}

void TcpStack::OnAckTimer(Tcb* t) noexcept {
  counters_->Inc(Counter::tcp_delayed_acks);
  SendAck(t);
}

void TcpStack::OnRtxTimer(Tcb* t) noexcept {
  switch (t->state) {
    case State::kTimeWait:
      FreeTcb(t, CloseReason::kNormal, false);
      return;
    case State::kFinWait2:
      FreeTcb(t, CloseReason::kTimeout, true);
      return;
    case State::kSynSent:
    case State::kSynReceived:
      if (++t->retries > cfg_.syn_retries) {
        counters_->Inc(Counter::tcp_attempt_fails);
        if (t->state == State::kSynReceived && t->passive) {
          FreeTcb(t, CloseReason::kTimeout, false);
        } else {
          FreeTcb(t, CloseReason::kTimeout, true);
        }
        return;
      }
      t->timing = false;
      t->rtt.Backoff();
      counters_->Inc(Counter::tcp_retrans_segs);
      SendSyn(t);
      return;
    default:
      break;
  }
  // The window closed with data in flight (the peer took less than we had sent, or shrank
  // its window): a retransmission cannot go before the window opens, so probe for the
  // window instead of spending retries (RFC 9293 section 3.8.6.1: probing never times out
  // while the peer answers).
  if (!t->persist && t->snd_wnd == 0 && t->snd_una != t->snd_max && t->snd_bytes > 0) {
    t->snd_nxt = t->snd_una;
    t->persist = true;
    counters_->Inc(Counter::tcp_zero_window_rto);
  }
  if (t->persist) {
    // Zero-window probe: one byte beyond what the peer accepted elicits an ACK with its
    // window (RFC 9293 section 3.8.6.1).
    t->rtt.Backoff();
    if (t->snd_bytes > (t->snd_nxt - t->snd_una)) {
      SendData(t, t->snd_nxt, 1, false);
    } else {
      SendAck(t);
    }
    ArmRtx(t, t->rtt.Rto());
    return;
  }
  if (t->snd_una == t->snd_max) return;  // nothing outstanding
  if (t->rtx_kind == kRtxProbe) return SendLossProbe(t);
  if (t->rtx_kind == kRtxReorder) return OnReorderTimer(t);
  if (++t->retries > cfg_.max_retries) {
    counters_->Inc(Counter::tcp_timeouts);
    SendResetFor(t->key, t->snd_nxt, t->rcv_nxt, true);
    FreeTcb(t, CloseReason::kTimeout, true);
    return;
  }
  // RTO (RFC 6298 section 5.4-5.7, RFC 5681 section 3.1): back off, collapse the window and
  // go back to SND.UNA.
  counters_->Inc(Counter::tcp_rto_expired);
  StartFrto(t);
  t->cc.OnRto(t->snd_max - t->snd_una);
  t->undo_armed = false;  // a timeout's reduction is not undone by DSACK here
  t->sack_recovery = false;
  t->rtt.Backoff();
  t->timing = false;
  t->dupacks = 0;
  // Everything out is resent from SND.UNA, skipping what the peer SACKed (the scoreboard
  // stays, RFC 6675 section 5.1); no fast recovery starts before SND.UNA passes what was
  // out, so the timeout's reduction is the only one.
  t->recover = t->snd_max;
  t->high_rxt = t->snd_una;
  t->tlp_out = false;
  t->snd_nxt = t->snd_una;
  counters_->Inc(Counter::tcp_retrans_segs);
  ArmRtx(t, t->rtt.Rto());
  Output(t);  // resends from SND.UNA, the FIN included
}

}  // namespace sluice::tcp
