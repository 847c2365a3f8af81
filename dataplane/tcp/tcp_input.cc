// Fast path: segment arrival (RFC 9293 section 3.10.7), with RFC 7323 (PAWS), RFC 5961
// (challenge ACKs) and RFC 2018/6675 (SACK) where they apply.
#include <rte_hash.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include "dataplane/tcp/tcp.h"
#include "dataplane/tcp/tcp_inl.h"
#include "dataplane/tcp/tcp_loss_inl.h"

namespace sluice::tcp {

using counters::Counter;

struct TcpStack::Segment {
  Seq seq = 0;
  Seq ack = 0;
  uint8_t flags = 0;
  uint16_t wnd = 0;
  uint32_t hdr_len = 0;
  uint32_t len = 0;  // payload bytes
  TcpOptions opt;
  bool Has(uint8_t f) const { return (flags & f) != 0; }
  // Sequence space the segment occupies (RFC 9293 SEG.LEN).
  uint32_t SeqLen() const { return len + (Has(kSyn) ? 1 : 0) + (Has(kFin) ? 1 : 0); }
};

namespace {

// RFC 2883 section 4: the first SACK block reports a duplicate when it lies below the
// cumulative ACK, or inside the second block.
bool IsDsack(const TcpOptions& opt, Seq ack) {
  const SackBlock& d = opt.sack[0];
  if (SeqLt(d.left, ack)) return true;
  return opt.nsack > 1 && SeqGe(d.left, opt.sack[1].left) && SeqLe(d.right, opt.sack[1].right);
}

}  // namespace

const char* StateName(State s) {
  switch (s) {
    case State::kClosed:
      return "CLOSED";
    case State::kSynSent:
      return "SYN-SENT";
    case State::kSynReceived:
      return "SYN-RECEIVED";
    case State::kEstablished:
      return "ESTABLISHED";
    case State::kFinWait1:
      return "FIN-WAIT-1";
    case State::kFinWait2:
      return "FIN-WAIT-2";
    case State::kCloseWait:
      return "CLOSE-WAIT";
    case State::kClosing:
      return "CLOSING";
    case State::kLastAck:
      return "LAST-ACK";
    case State::kTimeWait:
      return "TIME-WAIT";
  }
  return "?";
}

void TcpStack::Input(rte_mbuf* m, const FlowKey& key) noexcept {
  counters_->Inc(Counter::tcp_segs_in);
  const uint32_t total = m->data_len;
  if (m->nb_segs != 1 || total < kTcpHeaderLen) {
    counters_->Inc(Counter::tcp_drop_short);
    rte_pktmbuf_free(m);
    return;
  }
  const auto* h = rte_pktmbuf_mtod(m, const uint8_t*);
  Segment seg;
  seg.hdr_len = (h[12] >> 4) * 4u;
  if (seg.hdr_len < kTcpHeaderLen || seg.hdr_len > total) {
    counters_->Inc(Counter::tcp_drop_bad_offset);
    rte_pktmbuf_free(m);
    return;
  }
  // Header and payload summed apart (the header is a multiple of 4 bytes long, so the two
  // add up to the segment's sum): the payload's is kept for sending it on unchanged.
  const uint32_t hsum = __rte_raw_cksum(
      h, seg.hdr_len, PseudoHeaderSum(key.remote_addr, key.local_addr, key.is_v6, total));
  const uint32_t psum = __rte_raw_cksum(h + seg.hdr_len, total - seg.hdr_len, 0);
  if (__rte_raw_cksum_reduce(__rte_raw_cksum_reduce(hsum) + __rte_raw_cksum_reduce(psum)) !=
      0xffff) {
    counters_->Inc(Counter::tcp_drop_bad_checksum);
    rte_pktmbuf_free(m);
    return;
  }
  if (sum_flag_) {
    *RTE_MBUF_DYNFIELD(m, sum_offset_, uint32_t*) = psum;
    m->ol_flags |= sum_flag_;
  }
  if (ParseOptions(h + kTcpHeaderLen, seg.hdr_len - kTcpHeaderLen, &seg.opt) !=
      OptionsStatus::kOk) {
    counters_->Inc(Counter::tcp_drop_bad_options);
    rte_pktmbuf_free(m);
    return;
  }
  seg.seq = Ld32(h + 4);
  seg.ack = Ld32(h + 8);
  seg.flags = h[13] & 0x3f;
  seg.wnd = Ld16(h + 14);
  seg.len = total - seg.hdr_len;
  rte_pktmbuf_adj(m, static_cast<uint16_t>(seg.hdr_len));  // m now holds the payload

  Tcb* t = Lookup(key);
  if (!t) {
    if (const Listener* l = FindListener(key)) return InputListen(m, key, seg, *l);
    counters_->Inc(Counter::tcp_drop_no_listener);
    // RFC 9293 section 3.10.7.1: CLOSED. An RST never answers an RST.
    if (!seg.Has(kRst)) {
      if (seg.Has(kAck)) {
        SendResetFor(key, seg.ack, 0, false);
      } else {
        SendResetFor(key, 0, seg.seq + seg.SeqLen(), true);
      }
    }
    rte_pktmbuf_free(m);
    return;
  }
  if (t->state == State::kSynSent) return InputSynSent(m, t, seg);
  InputSynchronized(m, t, seg);
}

void TcpStack::NegotiateOptions(Tcb* t, const Segment& seg) noexcept {
  const uint16_t peer_mss = seg.opt.has_mss ? seg.opt.mss : 536;  // RFC 9293 3.7.1 default
  t->snd_mss = peer_mss < cfg_.mss ? peer_mss : cfg_.mss;
  if (t->snd_mss < 88) t->snd_mss = 88;  // a floor against tiny-MSS abuse (Linux: 88)
  t->ws_ok = seg.opt.has_wscale && cfg_.wscale > 0;
  t->snd_wscale = t->ws_ok ? seg.opt.wscale : 0;
  t->rcv_wscale = t->ws_ok ? cfg_.wscale : 0;
  t->ts_ok = seg.opt.has_timestamp && cfg_.timestamps;
  if (t->ts_ok) t->ts_recent = seg.opt.ts_val;
  t->sack_ok = seg.opt.sack_permitted && cfg_.sack;
  t->cc.Init(t->snd_mss, cfg_.congestion);
}

// LISTEN (section 3.10.7.2), with SYN cookies (RFC 4987) when the SYN queue is full.
void TcpStack::InputListen(rte_mbuf* m, const FlowKey& key, const Segment& seg,
                           const Listener& l) noexcept {
  rte_pktmbuf_free(m);  // data on a SYN is not kept (we never send TFO cookies)
  if (seg.Has(kRst)) return;
  if (seg.Has(kAck) && !seg.Has(kSyn)) {
    // The ACK of a cookie SYN-ACK?
    CookieOptions co;
    const uint64_t minutes = now_us_ / 60'000'000;
    if (!cookies_.Check(key, seg.seq, seg.ack, minutes, &co)) {
      counters_->Inc(Counter::tcp_syncookies_failed);
      SendResetFor(key, seg.ack, 0, false);
      return;
    }
    if (seg.opt.has_timestamp) SynCookies::DecodeTsOptions(seg.opt.ts_ecr, &co);
    Tcb* t = NewTcb(key);
    if (!t) {
      counters_->Inc(Counter::tcp_drop_conn_table_full);
      return;
    }
    counters_->Inc(Counter::tcp_syncookies_recv);
    t->passive = true;
    t->listener_tag = l.tag;
    t->irs = seg.seq - 1;
    t->rcv_nxt = seg.seq;
    t->rcv_adv = seg.seq + (cfg_.rcv_buf < 65535 ? cfg_.rcv_buf : 65535);
    t->iss = seg.ack - 1;
    t->snd_una = t->snd_nxt = t->snd_max = seg.ack;
    t->recover = t->high_rxt = t->rxt_mark = t->iss;  // no recovery point yet (RFC 6582)
    t->snd_mss = co.mss < cfg_.mss ? co.mss : cfg_.mss;
    t->ws_ok = co.has_wscale;
    t->snd_wscale = co.has_wscale ? co.wscale : 0;
    t->rcv_wscale = co.has_wscale ? cfg_.wscale : 0;
    t->sack_ok = co.sack_permitted && seg.opt.has_timestamp;
    t->ts_ok = seg.opt.has_timestamp && cfg_.timestamps;
    if (t->ts_ok) t->ts_recent = seg.opt.ts_val;
    t->cc.Init(t->snd_mss, cfg_.congestion);
    t->snd_wnd = static_cast<uint32_t>(seg.wnd) << t->snd_wscale;
    t->max_snd_wnd = t->snd_wnd;
    t->snd_wl1 = seg.seq;
    t->snd_wl2 = seg.ack;
    t->state = State::kEstablished;
    counters_->Inc(Counter::tcp_passive_opens);
    user_->OnAccepted(Id(t), t->listener_tag);
    return;
  }
  if (!seg.Has(kSyn)) return;  // neither SYN nor ACK: drop
  if (half_open_ >= cfg_.syn_backlog) {
    counters_->Inc(Counter::tcp_syncookies_sent);
    SendCookieSynAck(key, seg);
    return;
  }
  Tcb* t = NewTcb(key);
  if (!t) {
    counters_->Inc(Counter::tcp_drop_conn_table_full);
    return;
  }
  ++half_open_;
  t->passive = true;
  t->listener_tag = l.tag;
  t->irs = seg.seq;
  t->rcv_nxt = seg.seq + 1;
  NegotiateOptions(t, seg);
  t->iss = isn_.Isn(key, now_us_);
  t->snd_una = t->snd_nxt = t->snd_max = t->iss;
  t->recover = t->high_rxt = t->rxt_mark = t->snd_una;  // no recovery point yet (RFC 6582)
  t->snd_wnd = seg.wnd;  // never scaled in a SYN (RFC 7323 section 2.2)
  t->snd_wl1 = seg.seq;
  t->snd_wl2 = 0;
  t->state = State::kSynReceived;
  SendSyn(t);
}

// A SYN-ACK whose state lives only in its sequence number (RFC 4987 section 3.6).
void TcpStack::SendCookieSynAck(const FlowKey& key, const Segment& seg) noexcept {
  const uint16_t peer_mss = seg.opt.has_mss ? seg.opt.mss : 536;
  const uint16_t mss = peer_mss < cfg_.mss ? peer_mss : cfg_.mss;
  const Seq iss = cookies_.Make(key, seg.seq, mss, now_us_ / 60'000'000);
  TcpOptions opt;
  opt.has_mss = true;
  opt.mss = cfg_.mss;
  // Window scale and SACK-permitted survive only inside the timestamp (as Linux does);
  // without timestamps they are not offered.
  if (seg.opt.has_timestamp && cfg_.timestamps) {
    CookieOptions co;
    co.has_wscale = seg.opt.has_wscale && cfg_.wscale > 0;
    co.wscale = cfg_.wscale;
    co.sack_permitted = seg.opt.sack_permitted && cfg_.sack;
    opt.has_timestamp = true;
    opt.ts_val = SynCookies::EncodeTsOptions(TsNow(), co);
    opt.ts_ecr = seg.opt.ts_val;
    if (co.has_wscale) {
      opt.has_wscale = true;
      opt.wscale = cfg_.wscale;
    }
    opt.sack_permitted = co.sack_permitted;
  }
  const uint32_t w = cfg_.rcv_buf < 65535 ? cfg_.rcv_buf : 65535;
  rte_mbuf* m =
      BuildSegment(nullptr, key, iss, seg.seq + 1, kSyn | kAck, static_cast<uint16_t>(w), opt, 0);
  if (m) Transmit(m, key);
}

// SYN-SENT (section 3.10.7.3).
void TcpStack::InputSynSent(rte_mbuf* m, Tcb* t, const Segment& seg) noexcept {
  rte_pktmbuf_free(m);
  if (seg.Has(kAck) && (SeqLe(seg.ack, t->iss) || SeqGt(seg.ack, t->snd_max))) {
    if (!seg.Has(kRst)) SendResetFor(t->key, seg.ack, 0, false);
    return;
  }
  if (seg.Has(kRst)) {
    if (seg.Has(kAck)) {
      counters_->Inc(Counter::tcp_attempt_fails);
      FreeTcb(t, CloseReason::kRefused, true);
    }
    return;
  }
  if (!seg.Has(kSyn)) return;
  t->irs = seg.seq;
  t->rcv_nxt = seg.seq + 1;
  t->rcv_adv = t->rcv_nxt;  // the first ACK advertises the window
  NegotiateOptions(t, seg);
  if (seg.Has(kAck)) {
    t->snd_una = seg.ack;
    t->snd_wnd = static_cast<uint32_t>(seg.wnd) << t->snd_wscale;
    t->max_snd_wnd = t->snd_wnd;
    t->snd_wl1 = seg.seq;
    t->snd_wl2 = seg.ack;
    if (!t->ts_ok && t->timing) {
      t->rtt.Sample(static_cast<uint32_t>(now_us_ - t->timed_us));
    } else if (t->ts_ok && seg.opt.ts_ecr != 0) {
      t->rtt.Sample((TsNow() - seg.opt.ts_ecr) * 1000u);
    }
    t->timing = false;
    t->retries = 0;
    t->state = State::kEstablished;
    wheel_->Cancel(&t->rtx_timer);
    t->ack_now = true;
    Output(t);
    user_->OnConnected(Id(t));
    return;
  }
  // Simultaneous open (section 3.5, figure 8).
  t->state = State::kSynReceived;
  t->snd_wnd = seg.wnd;
  SendSyn(t);
}

void TcpStack::Established(Tcb* t) noexcept {
  if (half_open_ > 0 && t->passive) --half_open_;
  t->state = State::kEstablished;
  t->retries = 0;
  if (t->passive) {
    counters_->Inc(Counter::tcp_passive_opens);
    user_->OnAccepted(Id(t), t->listener_tag);
  } else {
    user_->OnConnected(Id(t));
  }
}

// Every synchronized state (section 3.10.7.4).
void TcpStack::InputSynchronized(rte_mbuf* m, Tcb* t, Segment& seg) noexcept {
  // PAWS (RFC 7323 section 5.3).
  if (t->ts_ok && seg.opt.has_timestamp && !seg.Has(kRst) && SeqLt(seg.opt.ts_val, t->ts_recent)) {
    counters_->Inc(Counter::tcp_drop_paws);
    rte_pktmbuf_free(m);
    SendAck(t);
    return;
  }
  // Acceptability (first check).
  const uint32_t rcv_wnd = t->rcv_adv - t->rcv_nxt;
  const uint32_t seg_len = seg.SeqLen();
  bool acceptable;
  if (seg_len == 0) {
    acceptable = rcv_wnd == 0 ? seg.seq == t->rcv_nxt
                              : SeqInWindow(seg.seq, t->rcv_nxt, t->rcv_nxt + rcv_wnd);
  } else {
    acceptable =
        rcv_wnd != 0 && (SeqInWindow(seg.seq, t->rcv_nxt, t->rcv_nxt + rcv_wnd) ||
                         SeqInWindow(seg.seq + seg_len - 1, t->rcv_nxt, t->rcv_nxt + rcv_wnd));
  }
  if (!acceptable) {
    rte_pktmbuf_free(m);
    if (seg.Has(kRst)) return;
    counters_->Inc(Counter::tcp_drop_out_of_window);
    // Data we have had, within a window below RCV.NXT: a duplicate, reported (RFC 2883).
    if (t->sack_ok && seg.len > 0 && SeqLe(seg.seq + seg.len, t->rcv_nxt) &&
        SeqGt(seg.seq + seg.len, t->rcv_nxt - cfg_.rcv_buf)) {
      NoteDsack(t, seg.seq, seg.seq + seg.len);
    }
    SendAck(t);
    return;
  }
  // RST (RFC 5961 section 3.2): exactly RCV.NXT resets, elsewhere in the window challenges.
  if (seg.Has(kRst)) {
    rte_pktmbuf_free(m);
    if (seg.seq != t->rcv_nxt) {
      SendChallengeAck(t);
      return;
    }
    if (t->state == State::kSynReceived && t->passive) {
      FreeTcb(t, CloseReason::kRefused, false);  // back to LISTEN: nobody knew of it
      return;
    }
    if (t->state != State::kTimeWait) counters_->Inc(Counter::tcp_estab_resets);
    FreeTcb(t, CloseReason::kReset, t->state != State::kTimeWait);
    return;
  }
  // SYN in a synchronized state (RFC 5961 section 4): challenge ACK.
  if (seg.Has(kSyn)) {
    rte_pktmbuf_free(m);
    SendChallengeAck(t);
    return;
  }
  if (!seg.Has(kAck)) {
    rte_pktmbuf_free(m);
    return;
  }
  // The peer is alive (keep-alive, RFC 1122 section 4.2.3.6).
  t->last_rcv_ms = wheel_->now();
  t->ka_probes = 0;
  // Trim what lies before RCV.NXT (a retransmission overlapping received data).
  if (SeqLt(seg.seq, t->rcv_nxt)) {
    const uint32_t dup = t->rcv_nxt - seg.seq;
    // DSACK (RFC 2883 section 4): what arrived twice is the first block of the next ACK.
    if (t->sack_ok && seg.len > 0) {
      NoteDsack(t, seg.seq, seg.seq + (dup < seg.len ? dup : seg.len));
    }
    if (dup >= seg.len) {
      seg.seq += seg.len;
      seg.len = 0;
      rte_pktmbuf_trim(m, static_cast<uint16_t>(m->data_len));
      m->ol_flags &= ~sum_flag_;  // the stored sum no longer covers the payload
      if (seg.Has(kFin) && seg.seq != t->rcv_nxt) seg.flags &= static_cast<uint8_t>(~kFin);
      t->ack_now = true;  // a duplicate: the peer needs to hear where we are
    } else {
      rte_pktmbuf_adj(m, static_cast<uint16_t>(dup));
      m->ol_flags &= ~sum_flag_;
      seg.seq += dup;
      seg.len -= dup;
    }
  }
  // Trim what lies beyond the window.
  const Seq wnd_end = t->rcv_nxt + rcv_wnd;
  if (seg.len > 0 && SeqGt(seg.seq + seg.len, wnd_end)) {
    const uint32_t excess = (seg.seq + seg.len) - wnd_end;
    rte_pktmbuf_trim(m, static_cast<uint16_t>(excess > seg.len ? seg.len : excess));
    m->ol_flags &= ~sum_flag_;
    seg.len -= excess > seg.len ? seg.len : excess;
    seg.flags &= static_cast<uint8_t>(~kFin);
    t->ack_now = true;
  }
  if (t->state == State::kSynReceived) {
    if (SeqLe(seg.ack, t->snd_una) || SeqGt(seg.ack, t->snd_max)) {
      rte_pktmbuf_free(m);
      SendResetFor(t->key, seg.ack, 0, false);
      return;
    }
    t->snd_wnd = static_cast<uint32_t>(seg.wnd) << t->snd_wscale;
    t->max_snd_wnd = t->snd_wnd;
    t->snd_wl1 = seg.seq;
    t->snd_wl2 = seg.ack;
    // Our SYN is acknowledged: account for it before the user may queue data.
    t->snd_una = seg.ack;
    if (t->ts_ok && seg.opt.has_timestamp && seg.opt.ts_ecr != 0) {
      t->rtt.Sample((TsNow() - seg.opt.ts_ecr) * 1000u);
    } else if (t->timing) {
      t->rtt.Sample(static_cast<uint32_t>(now_us_ - t->timed_us));
    }
    t->timing = false;
    wheel_->Cancel(&t->rtx_timer);
    Established(t);
    if (!t->in_use) {  // the user closed it from OnAccepted
      rte_pktmbuf_free(m);
      return;
    }
  }
  // Timestamps: remember the peer's (RFC 7323 section 4.3).
  if (t->ts_ok && seg.opt.has_timestamp && SeqLe(seg.seq, t->last_ack_sent)) {
    t->ts_recent = seg.opt.ts_val;
  }
  if (!ProcessAck(t, seg)) {
    rte_pktmbuf_free(m);
    return;
  }
  ProcessData(m, t, seg);
  if (!t->in_use) return;
  if (!t->fin_received) {
    // A FIN beyond RCV.NXT is kept, as its data is (RFC 9293 section 3.10.7.4: segments are
    // processed in sequence; Linux's out-of-order queue keeps FINs too), so a sender whose
    // FIN overtook a lost segment need not time out to send it again.
    // The first one counts (a different FIN later is ignored), and only inside the window.
    const Seq fin_seq = seg.seq + seg.len;
    if (seg.Has(kFin) && !t->ooo_fin && SeqGt(fin_seq, t->rcv_nxt) && SeqLt(fin_seq, t->rcv_adv)) {
      t->ooo_fin = true;
      t->ooo_fin_seq = fin_seq;
    }
    if (t->ooo_fin && SeqGt(t->rcv_nxt, t->ooo_fin_seq)) t->ooo_fin = false;  // data beyond it
    if ((seg.Has(kFin) && fin_seq == t->rcv_nxt) || (t->ooo_fin && t->ooo_fin_seq == t->rcv_nxt)) {
      ProcessFin(t);
    }
  }
  if (!t->in_use) return;
  Output(t);
}

bool TcpStack::ProcessAck(Tcb* t, const Segment& seg) noexcept {
  // RFC 5961 section 5.2: an ACK for data never sent, or older than the largest window.
  if (SeqGt(seg.ack, t->snd_max)) {
    counters_->Inc(Counter::tcp_challenge_acks);
    SendAck(t);
    return false;
  }
  if (SeqLt(seg.ack, t->snd_una - t->max_snd_wnd)) {
    SendChallengeAck(t);
    return false;
  }
  // RACK's reordering test (RFC 8985 section 6.2 step 3, without per-segment times): the
  // cumulative ACK passes a hole below SACKed data that was never resent, so the segments
  // there arrived after later ones did. HighRxt says what was resent, in this recovery or
  // in one that ended with retransmissions beyond its recovery point (new data lost while
  // it ran): a hole such a retransmission filled is not reordering.
  if (t->sb.ranges() > 0 && SeqGt(seg.ack, t->snd_una) && SeqGe(t->snd_una, t->recover) &&
      SeqLe(t->high_rxt, t->snd_una)) {
    t->reordering = true;
  }
  const bool dsack = t->sack_ok && seg.opt.nsack > 0 && IsDsack(seg.opt, seg.ack);
  if (dsack) {
    counters_->Inc(Counter::tcp_dsack_recv);
    // Bytes of what this recovery resent that the peer got twice (RFC 3708 section 3.2).
    if (t->undo_armed) {
      NoteUndoDsack(t, seg.opt.sack[0].left, seg.opt.sack[0].right);
      // The last duplicate came after the recovery ended (the late original filled the
      // hole after its retransmission had): the undo comes now.
      if (!t->cc.in_recovery() && AllResentDuplicated(t)) UndoRecovery(t);
    }
  }
  if (t->sack_ok && (seg.opt.nsack > 0 || t->sb.ranges() > 0)) {
    // Also without blocks: what the cumulative ACK passed leaves the scoreboard.
    t->sb.Update(SeqGt(seg.ack, t->snd_una) ? seg.ack : t->snd_una, t->snd_max, seg.opt.sack,
                 seg.opt.nsack);
  }
  const Seq una_before = t->snd_una;
  const uint32_t wnd_before = t->snd_wnd;
  const uint32_t win = static_cast<uint32_t>(seg.wnd) << t->snd_wscale;
  // A duplicate ACK (RFC 5681 section 2): against SND.UNA and the window as they were
  // before this ACK, so a window update is none wherever it is asked. With SACK blocks the
  // window may move (Linux tunes its receive buffer as out-of-order data arrives): they
  // count all the same, as RFC 6675 section 5 counts SACKs rather than identical ACKs.
  const auto dupack = [&] {
    return seg.ack == una_before && seg.len == 0 && !seg.Has(kFin) && una_before != t->snd_max &&
           (win == wnd_before || (t->sack_ok && seg.opt.nsack > 0));
  };
  if (SeqGt(seg.ack, t->snd_una)) {
    uint32_t acked = seg.ack - t->snd_una;
    // RTT (RFC 6298 with Karn's rule; with timestamps, RFC 7323 section 4). One segment per
    // round trip is timed in microseconds, timestamps or not; the timestamps' millisecond
    // clock adds samples only where it can tell them apart (2 ms and more), so a LAN's
    // round trip is not read as 0 or 1 ms (the reordering window and the probe timeout are
    // fractions and multiples of it).
    if (t->timing && SeqGt(seg.ack, t->timed_seq)) {
      t->rtt.Sample(static_cast<uint32_t>(now_us_ - t->timed_us));
      t->timing = false;
    } else if (t->ts_ok && seg.opt.has_timestamp && seg.opt.ts_ecr != 0 &&
               TsNow() - seg.opt.ts_ecr >= 2) {
      t->rtt.Sample((TsNow() - seg.opt.ts_ecr) * 1000u);
    }
    // Our FIN occupies one sequence number beyond the data.
    const bool fin_acked = t->fin_queued && seg.ack == t->snd_una + t->snd_bytes + 1;
    const uint32_t data_acked = acked > t->snd_bytes ? t->snd_bytes : acked;
    TrimAcked(t, data_acked);
    t->snd_una = seg.ack;
    if (SeqLt(t->snd_nxt, t->snd_una)) t->snd_nxt = t->snd_una;
    t->retries = 0;
    if (t->tlp_out && SeqGe(seg.ack, t->tlp_end)) {  // the probe arrived
      // A resent probe that was needed repaired a loss: one reduction, as a recovery would
      // have made (RFC 8985 section 7.4). A DSACK (RFC 2883) says the peer had a probe
      // already: only its ACKs were late, nothing was lost. An ACK that reaches the probe's
      // end exactly without one may be the original's, the probe's DSACK still to come: the
      // next ACK decides (as Linux's tcp_process_tlp_ack), a duplicate or a DSACK for no
      // loss, an ACK beyond for one. Reduced at once, a held flight released by the
      // receiver's window update cost a reduction (12 in eight lossless 32 MiB downloads).
      if (!t->tlp_rexmit || dsack) {
        if (t->tlp_rexmit) counters_->Inc(Counter::tcp_probes_not_needed);
        t->tlp_out = false;
      } else if (SeqGt(seg.ack, t->tlp_end)) {
        t->tlp_out = false;
        if (!t->cc.in_recovery()) {
          t->undo_armed = false;  // a new reduction: the last recovery's is not undone now
          t->cc.EnterRecovery(t->snd_max - una_before);
          t->cc.ExitRecovery();
          counters_->Inc(Counter::tcp_probe_recoveries);
        }
      }
      // It left after our FIN: an ACK for it short of the FIN means the peer dropped the FIN
      // out of order, and only a timeout would send it again.
      if (t->fin_queued && t->snd_bytes == 0 && seg.ack == t->snd_max - 1) SendFin(t, true);
    } else if (t->tlp_out && t->sack_recovery) {
      t->tlp_out = false;  // a recovery's probe was answered: the next stall may have one
    }
    // Congestion control: recovery as NewReno (RFC 6582) without SACK, RFC 6675 with PRR
    // with it (SackRecovery), growth by the controller.
    if (t->cc.in_recovery()) {
      if (SeqGe(seg.ack, t->recover)) {
        t->cc.ExitRecovery();
        t->sack_recovery = false;
        t->dupacks = 0;
        counters_->Inc(Counter::tcp_recoveries_done);
        // Nothing was lost, the reduction was not needed: every byte resent came back as a
        // duplicate (DSACK, RFC 3708 section 3.2), or (one segment resent) this ACK echoes a
        // timestamp older than the resend's, so the original filled the hole (Eifel, RFC
        // 3522; with more holes an original may fill one and a resend another). The window
        // goes back. Otherwise the undo waits for late duplicates.
        const bool one = t->undo_n == 1 && t->undo_rxt[0].right - t->undo_rxt[0].left <= t->snd_mss;
        const bool eifel = one && t->ts_ok && seg.opt.has_timestamp && seg.opt.ts_ecr != 0 &&
                           static_cast<int32_t>(seg.opt.ts_ecr - t->undo_tsval) < 0;
        if (t->undo_armed && (AllResentDuplicated(t) || eifel)) UndoRecovery(t);
      } else if (!t->sack_ok) {
        // Partial ACK: retransmit the next hole at once.
        const Seq start = t->snd_una;
        uint32_t len = MaxSegmentData(*t);
        const uint32_t avail = t->snd_una + t->snd_bytes - start;
        if (len > avail) len = avail;
        if (len > 0) {
          SendData(t, start, len, true);
          counters_->Inc(Counter::tcp_retrans_segs);
        }
      }
    } else {
      t->dupacks = 0;
      // The recovery point follows SND.UNA (a sequence number 2^31 behind would read as
      // ahead), except while a timeout's recovery runs up to it.
      if (SeqGt(t->snd_una, t->recover)) t->recover = t->snd_una - 1;
      // The window grows only while it is what limits the sender (RFC 9438 section 4.6
      // asks for it where ssthresh comes from cwnd; Linux's tcp_is_cwnd_limited): a
      // flight short of it by more than a segment (idle, or the application or the
      // peer's window limiting) leaves it as it is.
      if (t->snd_max - una_before + t->snd_mss >= t->cc.cwnd()) {
        t->cc.OnAck(acked, now_us_, t->rtt.srtt_us());
      }
    }
    if (t->snd_una == t->snd_max) {
      wheel_->Cancel(&t->rtx_timer);
      t->persist = false;
    } else {
      ArmLossTimer(t);
    }
    if (fin_acked) {
      switch (t->state) {
        case State::kFinWait1:
          t->state = State::kFinWait2;
          ArmRtx(t, static_cast<uint64_t>(cfg_.fin_wait2_ms) * 1000);
          break;
        case State::kClosing:
          // Both FINs are acknowledged: the user is done with this connection (the TCB stays
          // in TIME_WAIT, invisible to the user, until 2 MSL pass).
          EnterTimeWait(t);
          user_->OnClosed(Id(t), CloseReason::kNormal);
          break;
        case State::kLastAck:
          FreeTcb(t, CloseReason::kNormal, true);
          return false;
        default:
          break;
      }
    }
    // F-RTO decides before the user may queue more (and Output send) from SND.NXT.
    if (__builtin_expect(t->frto != 0, 0)) {
      FrtoAck(t, true, false, dsack ? &seg.opt.sack[0] : nullptr,
              seg.opt.has_timestamp ? seg.opt.ts_ecr : 0);
    }
    if (t->want_writable && cfg_.snd_buf > t->snd_bytes) {
      t->want_writable = false;
      user_->OnWritable(Id(t));
      if (!t->in_use) return false;
    }
  } else if (dupack()) {
    // Early retransmit (RFC 5827): with fewer than four segments outstanding and nothing
    // new to send, three duplicates can never come; one fewer than outstanding will do.
    const uint32_t seg_size = MaxSegmentData(*t);
    const uint32_t outstanding = (t->snd_max - t->snd_una + seg_size - 1) / seg_size;
    const bool nothing_new = t->snd_bytes <= t->snd_max - t->snd_una;
    uint8_t dupthresh = 3;
    if (nothing_new && outstanding < 4) dupthresh = outstanding > 1 ? outstanding - 1 : 1;
    if (t->dupacks < 255) ++t->dupacks;
    if (t->sack_ok) {
      // SACK connections find losses in SackRecovery, duplicate or not.
    } else if (t->dupacks >= dupthresh && !t->cc.in_recovery() && SeqGt(t->snd_una, t->recover)) {
      t->recover = t->snd_max;
      t->cc.EnterRecovery(t->snd_max - t->snd_una);
      const uint32_t avail = t->snd_bytes;
      const uint32_t len = avail < MaxSegmentData(*t) ? avail : MaxSegmentData(*t);
      if (len > 0) {
        SendData(t, t->snd_una, len, true);
        counters_->Inc(Counter::tcp_fast_retrans);
        counters_->Inc(Counter::tcp_retrans_segs);
      }
      ArmRtx(t, t->rtt.Rto());
    }
  }
  // Window update (section 3.10.7.4, SND.WL1/WL2 rule).
  if (SeqLt(t->snd_wl1, seg.seq) || (t->snd_wl1 == seg.seq && SeqLe(t->snd_wl2, seg.ack))) {
    t->snd_wnd = win;
    if (win > t->max_snd_wnd) t->max_snd_wnd = win;
    t->snd_wl1 = seg.seq;
    t->snd_wl2 = seg.ack;
    if (win > 0 && t->persist) {
      t->persist = false;
      wheel_->Cancel(&t->rtx_timer);
      if (t->snd_una != t->snd_max) ArmRtx(t, t->rtt.Rto());
    }
  }
  // A probe's answer awaited past its end (above): a duplicate ACK or a DSACK says the
  // original and the probe both arrived.
  if (__builtin_expect(t->tlp_out, 0) && t->snd_una == una_before &&
      SeqGe(t->snd_una, t->tlp_end) && (dsack || (seg.opt.nsack == 0 && dupack()))) {
    if (dsack) counters_->Inc(Counter::tcp_probes_not_needed);
    t->tlp_out = false;
  }
  if (__builtin_expect(t->frto != 0, 0) && t->snd_una == una_before) {
    // A duplicate with no SACK block beyond a DSACK says nothing of loss on a SACK connection
    // (a window update, a duplicate's answer: RFC 6675 section 5).
    const bool sacks = seg.opt.nsack > (dsack ? 1 : 0);
    FrtoAck(t, false, dupack() && sacks, dsack ? &seg.opt.sack[0] : nullptr,
            seg.opt.has_timestamp ? seg.opt.ts_ecr : 0);
  }
  // SACK information or a recovery (neither without SACK): loss detection and PRR.
  if (t->sb.ranges() || t->sack_recovery) {
    // Bytes this ACK delivered (RFC 6937 DeliveredData): acknowledged plus newly SACKed.
    const uint32_t sacked_before = t->sacked;
    t->sacked = t->sb.ranges() ? t->sb.SackedAbove(t->snd_una) : 0;
    const int64_t delivered = static_cast<int64_t>(t->snd_una - una_before) + t->sacked -
                              static_cast<int64_t>(sacked_before);
    SackRecovery(t, delivered > 0 ? static_cast<uint32_t>(delivered) : 0);
  } else {
    t->sacked = 0;
  }
  return true;
}

void TcpStack::ProcessData(rte_mbuf* m, Tcb* t, const Segment& seg) noexcept {
  const bool can_receive = t->state == State::kEstablished || t->state == State::kFinWait1 ||
                           t->state == State::kFinWait2;
  if (seg.len == 0 || !can_receive) {
    rte_pktmbuf_free(m);
    return;
  }
  if (seg.seq == t->rcv_nxt) {
    const bool filled_hole = t->nooo > 0;
    t->rcv_nxt += seg.len;
    t->user_held += seg.len;
    user_->OnData(Id(t), m, seg.len);
    if (!t->in_use) return;
    DrainOoo(t);
    if (!t->in_use) return;
    // ACK every second full segment at once, others after the delayed-ACK time (RFC 1122
    // 4.2.3.2, RFC 5681 section 4.2); at once when a hole was filled.
    if (filled_hole || ++t->unacked_segs >= 2) {
      t->ack_now = true;
    } else if (!t->ack_timer.armed) {
      wheel_->Arm(&t->ack_timer, wheel_->now() + cfg_.delack_ms);
    }
    return;
  }
  // Out of order: keep it (bounded), ACK at once with SACK blocks.
  t->ack_now = true;
  unsigned pos = 0;
  while (pos < t->nooo && SeqLt(t->ooo[pos].seq, seg.seq)) ++pos;
  if (pos < t->nooo && t->ooo[pos].seq == seg.seq && t->ooo[pos].len >= seg.len) {
    if (t->sack_ok) NoteDsack(t, seg.seq, seg.seq + seg.len);  // held already: a duplicate
    rte_pktmbuf_free(m);
    return;
  }
  if (t->nooo == kOooMax) {
    counters_->Inc(Counter::tcp_drop_ooo_full);
    rte_pktmbuf_free(m);
    return;
  }
  for (unsigned k = t->nooo; k > pos; --k) t->ooo[k] = t->ooo[k - 1];
  t->ooo[pos] = OooSegment{seg.seq, seg.len, m};
  ++t->nooo;
  t->ooo_recent = true;
  t->ooo_last = seg.seq;
  counters_->Inc(Counter::tcp_ooo_queued);
}

void TcpStack::UndoRecovery(Tcb* t) noexcept {
  t->cc.Undo(t->undo_cwnd, t->undo_ssthresh);
  t->undo_armed = false;
  t->reordering = true;  // what looked lost was late: RACK's window from now on
  counters_->Inc(Counter::tcp_dsack_undos);
}

void TcpStack::NoteDsack(Tcb* t, Seq left, Seq right) noexcept {
  counters_->Inc(Counter::tcp_dsack_sent);
  t->dsack = SackBlock{left, right};
  t->dsack_pending = true;
}

void TcpStack::DrainOoo(Tcb* t) noexcept {
  while (t->nooo > 0 && t->in_use) {
    OooSegment s = t->ooo[0];
    if (SeqGt(s.seq, t->rcv_nxt)) break;
    for (unsigned k = 1; k < t->nooo; ++k) t->ooo[k - 1] = t->ooo[k];
    --t->nooo;
    const uint32_t end_off = s.len;
    const uint32_t skip = t->rcv_nxt - s.seq;
    if (skip >= end_off) {
      rte_pktmbuf_free(s.m);
      continue;
    }
    rte_pktmbuf_adj(s.m, static_cast<uint16_t>(skip));
    if (skip) s.m->ol_flags &= ~sum_flag_;
    const uint32_t len = s.len - skip;
    t->rcv_nxt += len;
    t->user_held += len;
    user_->OnData(Id(t), s.m, len);
  }
}

void TcpStack::ProcessFin(Tcb* t) noexcept {
  t->fin_received = true;
  t->rcv_nxt += 1;
  t->ack_now = true;
  switch (t->state) {
    case State::kEstablished:
      t->state = State::kCloseWait;
      break;
    case State::kFinWait1:
      t->state = State::kClosing;  // our FIN not acknowledged yet
      break;
    case State::kFinWait2:
      EnterTimeWait(t);
      break;
    default:
      break;
  }
  SendAck(t);
  user_->OnPeerClosed(Id(t));
  if (t->in_use && t->state == State::kTimeWait) user_->OnClosed(Id(t), CloseReason::kNormal);
}

}  // namespace sluice::tcp
