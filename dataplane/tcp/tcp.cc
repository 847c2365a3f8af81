// The stack's set-up, connection table, API calls and timer dispatch.
#include "dataplane/tcp/tcp.h"

#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include <cstddef>
#include <new>

#include "dataplane/tcp/tcp_inl.h"

namespace sluice::tcp {

using counters::Counter;

uint32_t MaxSegmentData(const Tcb& t) { return t.snd_mss - (t.ts_ok ? 12u : 0u); }

TcpStack::~TcpStack() {
  if (tcbs_) {
    for (uint32_t i = 0; i <= cfg_.max_conns; ++i) {
      if (tcbs_[i].in_use) FreeTcb(&tcbs_[i], CloseReason::kAborted, false);
    }
    rte_free(tcbs_);
  }
  if (wheel_ && own_wheel_) {
    wheel_->~TimerWheel();
    rte_free(wheel_);
  }
  if (table_) rte_hash_free(table_);
}

bool TcpStack::Init(const char* name, const StackConfig& cfg, SegmentSink* sink, TcpUser* user,
                    rte_mempool* pool, counters::WorkerCounters* counters, int socket_id,
                    base::Timers* timers) {
  cfg_ = cfg;
  sink_ = sink;
  user_ = user;
  pool_ = pool;
  counters_ = counters;
  isn_ = IsnGenerator(cfg.isn_key);
  // Process-wide names: every stack gets the same field and flag.
  static const rte_mbuf_dynfield kSumField = {"sluice_tcp_payload_sum", sizeof(uint32_t),
                                              alignof(uint32_t), 0};
  static const rte_mbuf_dynflag kSumFlag = {"sluice_tcp_payload_sum_ok", 0};
  sum_offset_ = rte_mbuf_dynfield_register(&kSumField);
  const int bit = rte_mbuf_dynflag_register(&kSumFlag);
  sum_flag_ = sum_offset_ >= 0 && bit >= 0 ? 1ull << bit : 0;
  cookies_ = SynCookies(cfg.cookie_key);
  rte_hash_parameters params{};
  params.name = name;
  params.entries = cfg.max_conns;
  params.key_len = sizeof(FlowKey);
  params.hash_func = rte_hash_crc;  // CRC32-C instructions: SSE4.2 is DPDK's x86 baseline
  params.socket_id = socket_id;
  table_ = rte_hash_create(&params);
  if (!table_) return false;
  // Key positions run from 0 to entries: one spare TCB.
  void* mem = rte_zmalloc_socket(name, sizeof(Tcb) * (cfg.max_conns + 1), 64, socket_id);
  if (!mem) return false;
  tcbs_ = static_cast<Tcb*>(mem);
  for (uint32_t i = 0; i <= cfg.max_conns; ++i) new (&tcbs_[i]) Tcb();
  if (timers) {
    wheel_ = timers;
    return true;
  }
  void* wmem = rte_zmalloc_socket(name, sizeof(base::Timers), 64, socket_id);
  if (!wmem) return false;
  wheel_ = new (wmem) base::Timers(now_us_ / 1000);
  own_wheel_ = true;
  return true;
}

Tcb* TcpStack::Lookup(const FlowKey& key) noexcept {
  const int32_t pos = rte_hash_lookup(table_, &key);
  return pos < 0 ? nullptr : &tcbs_[pos];
}

void TcpStack::TimeWaitUnlink(Tcb* t) noexcept {
  if (!t->in_tw_list) return;
  if (t->tw_prev == UINT32_MAX) {
    tw_head_ = t->tw_next;
  } else {
    tcbs_[t->tw_prev].tw_next = t->tw_next;
  }
  if (t->tw_next == UINT32_MAX) {
    tw_tail_ = t->tw_prev;
  } else {
    tcbs_[t->tw_next].tw_prev = t->tw_prev;
  }
  t->tw_prev = t->tw_next = UINT32_MAX;
  t->in_tw_list = false;
}

bool TcpStack::RecycleTimeWait() noexcept {
  if (tw_head_ == UINT32_MAX) return false;
  counters_->Inc(Counter::tcp_time_wait_recycled);
  FreeTcb(&tcbs_[tw_head_], CloseReason::kNormal, false);
  return true;
}

Tcb* TcpStack::NewTcb(const FlowKey& key) noexcept {
  // A full table takes the place of the oldest TIME_WAIT connection (its user was told it
  // closed; only the 4-tuple guard is lost, as when Linux exceeds tcp_max_tw_buckets).
  if (nconns_ >= cfg_.max_conns && !RecycleTimeWait()) return nullptr;
  int32_t pos = rte_hash_add_key(table_, &key);
  // Near full, a cuckoo insert can fail although slots are free: the key's two buckets are
  // full. Free TIME_WAIT entries (oldest first) until one of them frees a slot it can use.
  for (unsigned i = 0; pos < 0 && i < 64 && RecycleTimeWait(); ++i) {
    pos = rte_hash_add_key(table_, &key);
  }
  if (pos < 0) return nullptr;
  Tcb* t = &tcbs_[pos];
  t->~Tcb();
  new (t) Tcb();
  t->key = key;
  t->in_use = true;
  t->rtt = RttEstimator(cfg_.rtt);
  t->cc.Init(536, cfg_.congestion);
  ++nconns_;
  counters_->Set(Counter::tcp_connections, nconns_);
  return t;
}

void TcpStack::FreeTcb(Tcb* t, CloseReason why, bool notify) noexcept {
  if (!t->in_use) return;
  if (t->state == State::kSynReceived && t->passive && half_open_ > 0) --half_open_;
  wheel_->Cancel(&t->rtx_timer);
  wheel_->Cancel(&t->ack_timer);
  wheel_->Cancel(&t->ka_timer);
  TimeWaitUnlink(t);
  while (t->sq_head) {
    rte_mbuf* d = t->sq_head;
    t->sq_head = d->next;
    d->next = nullptr;
    rte_pktmbuf_free_seg(d);
  }
  t->sq_tail = t->sq_cur = nullptr;
  t->sq_count = 0;
  for (unsigned i = 0; i < t->nooo; ++i) rte_pktmbuf_free(t->ooo[i].m);
  t->nooo = 0;
  rte_hash_del_key(table_, &t->key);
  t->in_use = false;
  t->state = State::kClosed;
  --nconns_;
  counters_->Set(Counter::tcp_connections, nconns_);
  if (notify) user_->OnClosed(Id(t), why);
}

const TcpStack::Listener* TcpStack::FindListener(const FlowKey& key) const noexcept {
  for (const Listener& l : listeners_) {
    if (!l.used || l.local.local_port != key.local_port || l.local.is_v6 != key.is_v6) continue;
    bool any = true;
    for (uint8_t b : l.local.local_addr) any = any && b == 0;
    if (any || std::memcmp(l.local.local_addr, key.local_addr, 16) == 0) return &l;
  }
  return nullptr;
}

bool TcpStack::Listen(const FlowKey& local, uint32_t tag) noexcept {
  for (Listener& l : listeners_) {
    if (!l.used) {
      l.local = local;
      l.tag = tag;
      l.used = true;
      return true;
    }
  }
  return false;
}

void TcpStack::Unlisten(const FlowKey& local) noexcept {
  for (Listener& l : listeners_) {
    if (l.used && l.local.local_port == local.local_port &&
        std::memcmp(l.local.local_addr, local.local_addr, 16) == 0 &&
        l.local.is_v6 == local.is_v6) {
      l.used = false;
    }
  }
}

ConnId TcpStack::Connect(const FlowKey& key) noexcept {
  if (Lookup(key)) return kNoConn;
  Tcb* t = NewTcb(key);
  if (!t) {
    counters_->Inc(Counter::tcp_drop_conn_table_full);
    return kNoConn;
  }
  counters_->Inc(Counter::tcp_active_opens);
  t->iss = isn_.Isn(key, now_us_);
  t->snd_una = t->snd_nxt = t->snd_max = t->iss;
  t->recover = t->high_rxt = t->rxt_mark = t->snd_una;  // no recovery point yet (RFC 6582)
  t->state = State::kSynSent;
  SendSyn(t);
  return Id(t);
}

uint32_t TcpStack::SendSpace(ConnId c) const noexcept {
  const Tcb& t = tcbs_[c];
  if (t.sq_count >= kSendRing || t.snd_bytes >= cfg_.snd_buf) return 0;
  return cfg_.snd_buf - t.snd_bytes;
}

bool TcpStack::Send(ConnId c, rte_mbuf* data) noexcept {
  Tcb* t = &tcbs_[c];
  const bool open = t->state == State::kEstablished || t->state == State::kCloseWait;
  const uint32_t len = data->pkt_len;
  if (!open || t->fin_queued || t->sq_count + data->nb_segs > kSendRing ||
      t->snd_bytes + len > cfg_.snd_buf) {
    if (open) {
      counters_->Inc(Counter::tcp_drop_send_queue_full);
      t->want_writable = true;
    }
    return false;
  }
  // Each segment of the chain becomes its own entry, freed as soon as it is acknowledged.
  rte_mbuf* seg = data;
  while (seg) {
    rte_mbuf* next = seg->next;
    seg->next = nullptr;
    seg->nb_segs = 1;
    seg->pkt_len = seg->data_len;
    if (seg->data_len == 0) {
      rte_pktmbuf_free_seg(seg);
    } else {
      if (t->sq_tail) {
        t->sq_tail->next = seg;
      } else {
        t->sq_head = seg;
      }
      t->sq_tail = seg;
      ++t->sq_count;
    }
    seg = next;
  }
  t->snd_bytes += len;
  Output(t);
  return true;
}

void TcpStack::Consumed(ConnId c, uint32_t bytes) noexcept {
  Tcb* t = &tcbs_[c];
  if (!t->in_use) return;
  const uint32_t before = t->rcv_adv - t->rcv_nxt;
  t->user_held = bytes > t->user_held ? 0 : t->user_held - bytes;
  // Send a window update when the window opens usefully (RFC 9293 3.8.6.2.2).
  const uint32_t space = cfg_.rcv_buf > t->user_held ? cfg_.rcv_buf - t->user_held : 0;
  if (space >= before + 2u * t->snd_mss || (before < t->snd_mss && space >= t->snd_mss)) {
    if (t->state == State::kEstablished || t->state == State::kFinWait1 ||
        t->state == State::kFinWait2) {
      SendAck(t);
    }
  }
}

void TcpStack::Shutdown(ConnId c) noexcept {
  Tcb* t = &tcbs_[c];
  if (!t->in_use || t->fin_queued) return;
  switch (t->state) {
    case State::kSynSent:
      FreeTcb(t, CloseReason::kNormal, true);
      return;
    case State::kSynReceived:
    case State::kEstablished:
      t->state = State::kFinWait1;
      break;
    case State::kCloseWait:
      t->state = State::kLastAck;
      break;
    default:
      return;
  }
  t->fin_queued = true;
  Output(t);
}

void TcpStack::SetKeepalive(ConnId c, uint32_t idle_ms, uint32_t intvl_ms, uint8_t count) noexcept {
  Tcb* t = &tcbs_[c];
  if (!t->in_use) return;
  t->ka_idle_ms = idle_ms;
  t->ka_intvl_ms = intvl_ms ? intvl_ms : 1;
  t->ka_cnt = count;
  t->ka_probes = 0;
  t->last_rcv_ms = wheel_->now();
  if (idle_ms == 0) {
    wheel_->Cancel(&t->ka_timer);
    return;
  }
  wheel_->Arm(&t->ka_timer, wheel_->now() + idle_ms);
}

// Linux's tcp_keepalive_timer: while data is in flight or the window is probed, the
// retransmission timer watches the peer; otherwise a probe (SEG.SEQ = SND.UNA - 1, no data:
// the peer must answer with an ACK) once the peer has been silent for the idle time, and
// again every interval, until `count` probes went unanswered.
void TcpStack::OnKeepaliveTimer(Tcb* t) noexcept {
  if (t->ka_idle_ms == 0 || (t->state != State::kEstablished && t->state != State::kCloseWait)) {
    return;
  }
  const uint64_t now_ms = wheel_->now();
  if (t->snd_una != t->snd_max || t->persist) {
    t->ka_probes = 0;
    wheel_->Arm(&t->ka_timer, now_ms + t->ka_idle_ms);
    return;
  }
  if (now_ms - t->last_rcv_ms < t->ka_idle_ms) {
    wheel_->Arm(&t->ka_timer, t->last_rcv_ms + t->ka_idle_ms);
    return;
  }
  if (t->ka_probes >= t->ka_cnt) {
    counters_->Inc(Counter::tcp_keepalive_drops);
    SendResetFor(t->key, t->snd_nxt, t->rcv_nxt, true);
    FreeTcb(t, CloseReason::kTimeout, true);
    return;
  }
  ++t->ka_probes;
  counters_->Inc(Counter::tcp_keepalive_probes);
  SendData(t, t->snd_una - 1, 0, false);
  wheel_->Arm(&t->ka_timer, now_ms + t->ka_intvl_ms);
}

void TcpStack::Abort(ConnId c) noexcept {
  Tcb* t = &tcbs_[c];
  // TIME_WAIT: the user was told the connection closed; the TCB only guards the 4-tuple.
  if (!t->in_use || t->state == State::kTimeWait) return;
  if (t->state != State::kSynSent) {
    SendResetFor(t->key, t->snd_nxt, t->rcv_nxt, true);
  }
  FreeTcb(t, CloseReason::kAborted, true);
}

void TcpStack::Tick() noexcept {
  if (own_wheel_) wheel_->Advance(now_us_ / 1000, [this](base::TimerNode* n) { OnTimer(n); });
}

void TcpStack::OnTimer(base::TimerNode* n) noexcept {
  // The timers live inside the Tcb: recover it from the node's address.
  auto* raw = reinterpret_cast<char*>(n);
  if (n->expiry == 0) return;
  const ptrdiff_t off = raw - reinterpret_cast<char*>(tcbs_);
  const ptrdiff_t idx = off / static_cast<ptrdiff_t>(sizeof(Tcb));
  Tcb* t = &tcbs_[idx];
  if (!t->in_use) return;
  if (n == &t->ack_timer) {
    OnAckTimer(t);
  } else if (n == &t->ka_timer) {
    OnKeepaliveTimer(t);
  } else {
    OnRtxTimer(t);
  }
}

}  // namespace sluice::tcp
