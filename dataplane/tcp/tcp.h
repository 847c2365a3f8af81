// The userspace TCP stack of one worker (RFC 9293), owned by that worker (DESIGN.md
// sections 1-3): its connection table, its timers, its buffers. It never blocks, throws or
// allocates from the heap: TCBs come from an array sized at start-up, segments from the
// mbuf pool.
//
// Seams (AESTHETICS practice 8): time comes in through SetNow(), segments go out through a
// SegmentSink and events go up to a TcpUser. The worker plugs in the TSC, its IP output and
// the proxy; tests plug in virtual time, a simulated wire and a checking user.
#pragma once

#include <cstdint>

#include "dataplane/base/timer_wheel.h"
#include "dataplane/counters/counters.h"
#include "dataplane/tcp/congestion.h"
#include "dataplane/tcp/rtt.h"
#include "dataplane/tcp/sack.h"
#include "dataplane/tcp/syncookie.h"
#include "dataplane/tcp/tcp_seq.h"

struct rte_hash;
struct rte_mbuf;
struct rte_mempool;

namespace sluice::tcp {

using ConnId = uint32_t;
inline constexpr ConnId kNoConn = UINT32_MAX;

enum class State : uint8_t {
  kClosed,
  kSynSent,
  kSynReceived,
  kEstablished,
  kFinWait1,
  kFinWait2,
  kCloseWait,
  kClosing,
  kLastAck,
  kTimeWait,
};
const char* StateName(State s);

enum class CloseReason : uint8_t { kNormal, kReset, kTimeout, kRefused, kAborted };

// Where segments go: the IP layer. `m` holds the TCP header and payload (checksum filled);
// the sink prepends the IP header for key.local -> key.remote and transmits, or frees.
class SegmentSink {
 public:
  virtual void SendSegment(rte_mbuf* m, const FlowKey& key) noexcept = 0;

 protected:
  ~SegmentSink() = default;
};

// Events for the layer above. Every call comes from inside the stack's Input/Tick/API calls.
class TcpUser {
 public:
  virtual void OnAccepted(ConnId c, uint32_t listener_tag) noexcept = 0;
  virtual void OnConnected(ConnId c) noexcept = 0;
  // In-order payload; the user owns `data` and reports what it frees with Consumed().
  virtual void OnData(ConnId c, rte_mbuf* data, uint32_t len) noexcept = 0;
  virtual void OnWritable(ConnId c) noexcept = 0;
  virtual void OnPeerClosed(ConnId c) noexcept = 0;  // FIN received: no more data
  // The connection is gone for the user: every later API call on `c` is a no-op. Its id may
  // be reused after this call returns, except that a connection ending in TIME_WAIT keeps
  // its id (and its 4-tuple) until 2 MSL pass.
  virtual void OnClosed(ConnId c, CloseReason why) noexcept = 0;

 protected:
  ~TcpUser() = default;
};

struct StackConfig {
  uint32_t max_conns = 4096;
  uint16_t mss = 1460;             // our MSS (what we advertise and at most send)
  uint32_t rcv_buf = 256 * 1024;   // receive window budget per connection
  uint32_t snd_buf = 256 * 1024;   // send queue bound per connection
  uint32_t syn_backlog = 256;      // half-open connections before SYN cookies
  uint32_t time_wait_ms = 60'000;  // 2 MSL
  uint32_t fin_wait2_ms = 60'000;
  uint32_t delack_ms = 40;
  uint8_t syn_retries = 6;
  uint8_t max_retries = 15;
  bool timestamps = true;
  bool sack = true;
  CcAlgo congestion = CcAlgo::kCubic;
  // Send payloads by reference (header mbuf + indirect mbuf) where it fits: only when every
  // port transmits multi-segment frames (RTE_ETH_TX_OFFLOAD_MULTI_SEGS).
  bool zero_copy_tx = false;
  uint8_t wscale = 7;
  SipKey isn_key;
  SipKey cookie_key;
  RttConfig rtt;
};

inline constexpr unsigned kSendRing = 512;  // mbufs queued per connection
// Payloads from this size on go out by reference when StackConfig::zero_copy_tx allows;
// smaller ones are copied (a copy of a few hundred bytes costs less than a second mbuf).
inline constexpr uint32_t kZeroCopyMinPayload = 512;
inline constexpr unsigned kOooMax = 32;  // out-of-order segments kept per connection
inline constexpr unsigned kMaxListeners = 64;

struct OooSegment {
  Seq seq;
  uint32_t len;
  rte_mbuf* m;
};

// What a connection's retransmission timer runs for while data is outstanding: the
// retransmission timeout, a tail loss probe (RFC 8985 section 7) or the reordering window
// of SACK loss detection (section 6.3).
enum RtxKind : uint8_t { kRtxRto = 0, kRtxProbe = 1, kRtxReorder = 2 };

struct Tcb;
// Payload bytes per segment: the MSS less the options every segment carries (RFC 9293
// section 3.7.1: the MSS counts data only, options come out of it).
uint32_t MaxSegmentData(const Tcb& t);
// The sequence number of a pure ACK: SND.MAX, kept inside the peer's window.
Seq AckSeq(const Tcb& t);

struct Tcb {
  // retransmission, persist, SYN, TIME_WAIT and FIN_WAIT_2 timeouts
  base::TimerNode rtx_timer{base::kTimerTcp};
  base::TimerNode ack_timer{base::kTimerTcp};  // delayed ACK
  base::TimerNode ka_timer{base::kTimerTcp};   // keep-alive (armed only by SetKeepalive)
  FlowKey key;
  State state = State::kClosed;
  bool passive = false;
  bool in_use = false;
  uint32_t listener_tag = 0;
  // Send side (RFC 9293 section 3.3.1).
  Seq iss = 0, snd_una = 0, snd_nxt = 0, snd_max = 0, snd_wl1 = 0, snd_wl2 = 0;
  uint32_t snd_wnd = 0;
  uint32_t max_snd_wnd = 0;
  uint16_t snd_mss = 536;
  uint8_t snd_wscale = 0;
  // Receive side.
  Seq irs = 0, rcv_nxt = 0, rcv_adv = 0, last_ack_sent = 0;
  uint8_t rcv_wscale = 0;
  uint32_t user_held = 0;  // bytes delivered and not yet Consumed()
  // Options agreed in the handshake.
  bool ts_ok = false, sack_ok = false, ws_ok = false;
  uint32_t ts_recent = 0;
  // Send queue: bytes [snd_una, snd_una + snd_bytes) in single-segment mbufs linked through
  // their `next` field, at most kSendRing of them; head_off bytes of the first are already
  // acknowledged. `sq_cur` remembers where the last segment built ended (the mbuf and the
  // sequence number of its first byte) so new data is found without walking the queue.
  rte_mbuf* sq_head = nullptr;
  rte_mbuf* sq_tail = nullptr;
  uint16_t sq_count = 0;
  uint16_t sq_head_off = 0;
  mutable rte_mbuf* sq_cur = nullptr;
  mutable Seq sq_cur_seq = 0;
  uint32_t snd_bytes = 0;
  bool fin_queued = false;  // Shutdown() called: FIN after the queued data
  bool fin_received = false;
  bool ooo_fin = false;  // a FIN arrived beyond RCV.NXT: processed when the data before it is
  Seq ooo_fin_seq = 0;
  bool want_writable = false;
  // Out-of-order receive queue, sorted by sequence.
  OooSegment ooo[kOooMax];
  uint8_t nooo = 0;
  bool dsack_pending = false;  // the next ACK reports `dsack` first (RFC 2883), once
  SackBlock dsack;
  // SACK blocks in RFC 2018 section 4's order: first the block of the segment that came last
  // out of order, then those reported first most recently (a byte of each), then the lowest.
  static constexpr uint8_t kSackHistory = 3;
  bool ooo_recent = false;
  Seq ooo_last = 0;                     // the segment that came last out of order
  Seq sack_history[kSackHistory] = {};  // first blocks reported, the latest first
  uint8_t nsack_history = 0;
  // Loss recovery.
  RttEstimator rtt;
  CongestionControl cc;
  SackScoreboard sb;
  uint8_t dupacks = 0;
  uint8_t retries = 0;
  Seq recover = 0;
  Seq high_rxt = 0;
  // SACK loss recovery (tcp_recovery.cc, docs/tcp.md "Loss recovery").
  uint8_t rtx_kind = 0;        // what rtx_timer runs for while data is outstanding: RtxKind
  bool sack_recovery = false;  // in recovery on a SACK connection (cc.in_recovery() too)
  bool reordering = false;     // a hole was filled by data sent before the SACKs above it
  bool tlp_out = false;        // a tail loss probe is unanswered
  bool tlp_rexmit = false;     // ... and it resent data (not new data)
  uint8_t head_resends = 0;    // lost-retransmission resends of the segment at rxt_una
  Seq tlp_end = 0;             // the end of the probe's data
  Seq rxt_mark = 0;            // SND.MAX when the last retransmission of this recovery left
  uint64_t rxt_us = 0;         // when the segment at rxt_una was last resent (0: not in this pass)
  Seq rxt_una = 0;
  Seq lost_end = 0;  // in recovery, every byte below it not SACKed is lost
  // RACK's test by the cumulative ACK: this pass's latest retransmissions, each with SND.MAX
  // when it left. When SND.UNA passes one, whatever was sent before it and is still missing
  // is lost. Bounded: a retransmission that finds it full is not used so.
  struct RxtSend {
    Seq start, snd_max;
  };
  static constexpr uint8_t kRxtSends = 8;
  uint8_t nrxt_sends = 0;
  RxtSend rxt_sends[kRxtSends];
  uint32_t sacked = 0;  // bytes the scoreboard holds above SND.UNA
  uint32_t prr_delivered = 0, prr_out = 0, recover_fs = 0;  // PRR (RFC 6937)
  uint32_t prr_budget = 0;  // bytes recovery may still send after this ACK
  // Undo (RFC 3708, RFC 3522): the window and threshold before this recovery, the ranges it
  // resent (at most kUndoRanges, each resent once: more, and the recovery is kept) with the
  // bytes of each the peer reported as duplicates (DSACK), our timestamp on the first.
  struct UndoRange {
    Seq left, right;
    uint32_t dup;
  };
  static constexpr uint8_t kUndoRanges = 4;
  bool undo_armed = false;
  uint8_t undo_n = 0;
  uint32_t undo_cwnd = 0, undo_ssthresh = 0;
  uint32_t undo_tsval = 0;
  UndoRange undo_rxt[kUndoRanges];
  // F-RTO (RFC 5682, with SACK) and Eifel detection (RFC 3522, RFC 4015) after a first
  // timeout outside recovery: the ACKs that follow the resend tell a spurious timeout from a
  // real one. frto: 0 off, 1 the first ACK after the resend awaited, 2 the second one (new
  // data sent). The window and threshold before the timeout, SND.UNA and SND.MAX then, and
  // our timestamp on the resend.
  uint8_t frto = 0;
  Seq frto_una = 0, frto_max = 0;
  uint32_t frto_cwnd = 0, frto_ssthresh = 0, frto_tsval = 0;
  bool timing = false;  // an RTT sample in progress (no timestamps)
  Seq timed_seq = 0;
  uint64_t timed_us = 0;
  bool ack_now = false;
  uint8_t unacked_segs = 0;
  bool persist = false;
  // Keep-alive (RFC 9293 section 3.8.4, RFC 1122 section 4.2.3.6): off when ka_idle_ms is 0.
  uint32_t ka_idle_ms = 0, ka_intvl_ms = 0;
  uint8_t ka_cnt = 0;
  uint8_t ka_probes = 0;     // probes sent since the peer was last heard
  uint64_t last_rcv_ms = 0;  // when an acceptable segment last arrived (the wheel's clock)
  // TIME_WAIT list, oldest first: the entries yield to new connections when the table is
  // full (a bounded TIME_WAIT table, as Linux's tcp_max_tw_buckets).
  bool in_tw_list = false;
  uint32_t tw_prev = UINT32_MAX, tw_next = UINT32_MAX;
};

class TcpStack {
 public:
  TcpStack() = default;
  TcpStack(const TcpStack&) = delete;
  TcpStack& operator=(const TcpStack&) = delete;
  ~TcpStack();

  // Start-up only (allocates). `name` must be unique in the process. `timers`: the
  // worker's wheel, which the worker advances, handing this stack's nodes
  // (base::kTimerTcp) to OnTimer; null: the stack runs a wheel of its own, advanced by
  // Tick() (tests and benches that drive a stack alone).
  bool Init(const char* name, const StackConfig& cfg, SegmentSink* sink, TcpUser* user,
            rte_mempool* pool, counters::WorkerCounters* counters, int socket_id,
            base::Timers* timers = nullptr);

  void SetNow(uint64_t now_us) noexcept { now_us_ = now_us; }
  uint64_t now_us() const { return now_us_; }
  // Runs due timers of the stack's own wheel (nothing when it shares the worker's).
  void Tick() noexcept;
  // A due node of this stack's (owner base::kTimerTcp), from whoever advances the wheel.
  void OnTimer(base::TimerNode* n) noexcept;

  // One received segment (`m` starts at the TCP header; the stack owns it). `key` is from
  // our point of view: local = the packet's destination.
  void Input(rte_mbuf* m, const FlowKey& key) noexcept;

  // API for the layer above.
  bool Listen(const FlowKey& local, uint32_t tag) noexcept;  // remote fields ignored;
                                                             // local address 0 = any
  void Unlisten(const FlowKey& local) noexcept;
  ConnId Connect(const FlowKey& key) noexcept;  // kNoConn when the table is full
  // True when the 4-tuple is taken (open or in TIME_WAIT): pick another local port.
  bool InUse(const FlowKey& key) noexcept { return Lookup(key) != nullptr; }
  bool Open(ConnId c) const { return c < cfg_.max_conns + 1 && tcbs_[c].in_use; }
  // Queues an mbuf chain for sending (the stack owns it from now). False, with nothing
  // taken, when the send queue cannot hold it: wait for OnWritable.
  bool Send(ConnId c, rte_mbuf* data) noexcept;
  uint32_t SendSpace(ConnId c) const noexcept;
  // Asks for OnWritable once acknowledgments free send space.
  void WantWritable(ConnId c) noexcept { tcbs_[c].want_writable = true; }
  void Consumed(ConnId c, uint32_t bytes) noexcept;
  void Shutdown(ConnId c) noexcept;  // half-close: FIN after the queued data
  // Keep-alive probes after `idle_ms` without a segment from the peer, then every
  // `intvl_ms`; after `count` unanswered probes the connection is reset and closed with
  // CloseReason::kTimeout (Linux's SO_KEEPALIVE with TCP_KEEPIDLE/KEEPINTVL/KEEPCNT).
  // idle_ms 0 turns them off. Established or CLOSE_WAIT connections only.
  void SetKeepalive(ConnId c, uint32_t idle_ms, uint32_t intvl_ms, uint8_t count) noexcept;
  void Abort(ConnId c) noexcept;  // RST, then OnClosed(kAborted)

  State state(ConnId c) const { return tcbs_[c].state; }
  const Tcb& tcb(ConnId c) const { return tcbs_[c]; }
  uint32_t connections() const { return nconns_; }
  counters::WorkerCounters& counters() { return *counters_; }

 private:
  struct Listener {
    FlowKey local;
    uint32_t tag;
    bool used;
  };
  struct Segment;  // parsed header, tcp_input.cc

  // Connection table.
  Tcb* Lookup(const FlowKey& key) noexcept;
  Tcb* NewTcb(const FlowKey& key) noexcept;
  void FreeTcb(Tcb* t, CloseReason why, bool notify) noexcept;
  ConnId Id(const Tcb* t) const { return static_cast<ConnId>(t - tcbs_); }
  const Listener* FindListener(const FlowKey& key) const noexcept;

  // Input (tcp_input.cc).
  void InputListen(rte_mbuf* m, const FlowKey& key, const Segment& seg, const Listener& l) noexcept;
  void InputSynSent(rte_mbuf* m, Tcb* t, const Segment& seg) noexcept;
  void InputSynchronized(rte_mbuf* m, Tcb* t, Segment& seg) noexcept;
  bool ProcessAck(Tcb* t, const Segment& seg) noexcept;  // false: connection gone
  void ProcessData(rte_mbuf* m, Tcb* t, const Segment& seg) noexcept;
  void ProcessFin(Tcb* t) noexcept;
  void Established(Tcb* t) noexcept;
  void NegotiateOptions(Tcb* t, const Segment& seg) noexcept;
  void DrainOoo(Tcb* t) noexcept;
  void NoteDsack(Tcb* t, Seq left, Seq right) noexcept;
  // A recovery found unnecessary (RFC 3708, RFC 3522): its reduction given back.
  void UndoRecovery(Tcb* t) noexcept;
  // Undo's accounts: a retransmission [seq, seq + len) of the armed recovery; a DSACK.
  static void NoteUndoResend(Tcb* t, Seq seq, uint32_t len) noexcept;
  static void NoteUndoDsack(Tcb* t, Seq left, Seq right) noexcept;
  // Every byte the recovery resent came back as a duplicate.
  static bool AllResentDuplicated(const Tcb* t) noexcept;

  // Output (tcp_output.cc).
  void Output(Tcb* t) noexcept;  // sends what window and data allow, and pending ACKs
  template <bool kLoss>
  void SendLoop(Tcb* t) noexcept;  // kLoss: SACK information or recovery to honour
  bool SendData(Tcb* t, Seq seq, uint32_t len, bool rexmit) noexcept;
  void SendSyn(Tcb* t) noexcept;
  void SendAck(Tcb* t) noexcept;
  // The FIN at SND.NXT; again: the FIN already sent (SND.MAX - 1), once more.
  void SendFin(Tcb* t, bool again = false) noexcept;
  void SendChallengeAck(Tcb* t) noexcept;
  void SendResetFor(const FlowKey& key, Seq seq, Seq ack, bool with_ack) noexcept;
  void SendCookieSynAck(const FlowKey& key, const Segment& seg) noexcept;
  rte_mbuf* BuildSegment(const Tcb* t, const FlowKey& key, Seq seq, Seq ack, uint8_t flags,
                         uint16_t window, const TcpOptions& opt, uint32_t payload_len) noexcept;
  void Transmit(rte_mbuf* m, const FlowKey& key) noexcept;
  uint16_t AdvertisedWindow(Tcb* t) noexcept;
  void FillTsOption(const Tcb* t, TcpOptions* opt) const noexcept;
  // The DSACK and SACK blocks of an ACK we send (RFC 2883, RFC 2018 section 4).
  static void FillSackBlocks(Tcb* t, TcpOptions* opt) noexcept;
  void TrimAcked(Tcb* t, uint32_t bytes) noexcept;
  void ArmRtx(Tcb* t, uint64_t after_us) noexcept;
  void SkipSacked(Tcb* t) noexcept;
  uint32_t UpToSacked(const Tcb* t, uint32_t len) const noexcept;
  // SACK loss recovery (tcp_recovery.cc).
  // The retransmission timer with data outstanding: a tail loss probe when it may run,
  // else the RTO.
  void ArmLossTimer(Tcb* t, bool only_earlier = false) noexcept;
  uint64_t ProbeTimeoutUs(const Tcb* t) const noexcept;
  // After an ACK on a SACK connection with SACK information or in recovery: finds losses
  // (enters recovery), finds lost retransmissions, and sets what recovery may send now
  // (PRR). `delivered`: bytes newly acknowledged or SACKed by this ACK.
  void SackRecovery(Tcb* t, uint32_t delivered) noexcept;
  void EnterSackRecovery(Tcb* t) noexcept;
  // The bytes recovery sends on this ACK: lost holes first, then new data (RFC 6675 NextSeg
  // rules 1 and 2), within prr_budget. Called by Output.
  void RecoveryOutput(Tcb* t) noexcept;
  // The first byte range from `from` on that recovery counts lost: a hole below the highest
  // SACK, or data below lost_end not SACKed.
  bool NextLost(const Tcb* t, Seq from, Seq* start, uint32_t* len) const noexcept;
  // RFC 6675 pipe at hole granularity: bytes neither SACKed nor lost-and-not-resent.
  uint32_t RecoveryPipe(const Tcb* t) const noexcept;
  void SendLossProbe(Tcb* t) noexcept;
  // One segment of new data (RFC 6675 NextSeg rule 2), within the peer's window; false when
  // there is none or no room.
  bool SendNewSegment(Tcb* t) noexcept;
  // F-RTO: a timeout about to reduce the window; each ACK while it decides (`advanced`: it
  // moved SND.UNA; `dupack`: a duplicate ACK; `dsack`: its DSACK block or null; `ts_ecr`:
  // the timestamp it echoes, 0 for none); the window given back.
  void StartFrto(Tcb* t) noexcept;
  void FrtoAck(Tcb* t, bool advanced, bool dupack, const SackBlock* dsack,
               uint32_t ts_ecr) noexcept;
  void SpuriousTimeout(Tcb* t) noexcept;
  // A retransmission of this recovery is lost (RACK's tests, tcp_recovery.cc); when it
  // cannot tell yet, arms the reordering timer for when it can.
  bool LostRetransmission(Tcb* t) noexcept;
  // A new pass over the holes from SND.UNA, after a lost retransmission.
  void ResendPass(Tcb* t) noexcept;
  uint64_t RetransmitWindowUs(const Tcb* t) const noexcept;
  uint64_t ReorderWindowUs(const Tcb* t) const noexcept;
  void OnReorderTimer(Tcb* t) noexcept;
  void OnRtxTimer(Tcb* t) noexcept;
  void OnAckTimer(Tcb* t) noexcept;
  void OnKeepaliveTimer(Tcb* t) noexcept;
  void EnterTimeWait(Tcb* t) noexcept;
  void TimeWaitUnlink(Tcb* t) noexcept;
  bool RecycleTimeWait() noexcept;  // frees the oldest TIME_WAIT connection, if any
  uint32_t TsNow() const { return static_cast<uint32_t>(now_us_ / 1000); }

  StackConfig cfg_;
  SegmentSink* sink_ = nullptr;
  TcpUser* user_ = nullptr;
  rte_mempool* pool_ = nullptr;
  counters::WorkerCounters* counters_ = nullptr;
  rte_hash* table_ = nullptr;
  Tcb* tcbs_ = nullptr;
  uint32_t nconns_ = 0;
  uint32_t half_open_ = 0;
  uint32_t tw_head_ = UINT32_MAX, tw_tail_ = UINT32_MAX;
  Listener listeners_[kMaxListeners] = {};
  uint64_t now_us_ = 0;
  base::Timers* wheel_ = nullptr;  // 1 ms ticks (96 KiB): the worker's, or own_wheel_
  bool own_wheel_ = false;         // allocated by Init, advanced by Tick
  IsnGenerator isn_{SipKey{}};
  SynCookies cookies_{SipKey{}};
  // The payload's one's-complement sum, kept in a dynamic mbuf field by Input when it
  // verifies a segment, so a payload sent on unchanged (the proxy, echo) is not read again
  // for its checksum. -1 / 0: no field registered (then every payload is summed).
  int sum_offset_ = -1;
  uint64_t sum_flag_ = 0;

 public:
  // Forgets the payload sum kept in `m` (its bytes were cut or changed after receipt).
  void ForgetSum(rte_mbuf* m) const noexcept;

 private:
  bool StoredSum(const rte_mbuf* d, uint32_t* sum) const noexcept;
};

}  // namespace sluice::tcp
