// What the proxy hands the control plane: the log record of a session (on the worker's log
// ring) and the answers to the control plane's requests (base::Request: `show sess`,
// `shutdown session`, `shutdown sessions server`). Session life itself is in proxy.cc.
#include <rte_byteorder.h>
#include <rte_mbuf.h>

#include <cstring>

#include "dataplane/proxy/proxy.h"

namespace sluice::proxy {

using tcp::kNoConn;

namespace {

// A flow key's two ends for a log record or a `show sess` line, ports in host order: the
// peer's (remote) and ours (local).
void CopyEnds(const tcp::FlowKey& k, uint8_t* remote_addr, uint16_t* remote_port,
              uint8_t* local_addr, uint16_t* local_port, bool* is_v6) noexcept {
  std::memcpy(remote_addr, k.remote_addr, 16);
  std::memcpy(local_addr, k.local_addr, 16);
  *remote_port = rte_be_to_cpu_16(k.remote_port);
  *local_port = rte_be_to_cpu_16(k.local_port);
  *is_v6 = k.is_v6 != 0;
}

// HAProxy's method numbers (OPTIONS 0, GET 1, HEAD 2, POST 3, PUT 4, DELETE 5, CONNECT 7,
// other 8), indexed by http::Method.
constexpr uint8_t kHaproxyMethod[] = {8, 1, 2, 3, 4, 5, 0, 7};
static_assert(static_cast<size_t>(http::Method::kConnect) + 1 == sizeof kHaproxyMethod);

}  // namespace

void Proxy::CaptureError(const Session& s, bool request, const uint8_t* data, uint32_t len,
                         uint32_t error_at, uint8_t error) noexcept {
  const Stream& t = s.strm;
  const uint32_t slot = request ? s.frontend : t.backend;
  if (slot >= (request ? kMaxFrontends : kMaxBackends)) return;
  ErrorCapture& c = request ? s_.stats->request_errors[slot] : s_.stats->response_errors[slot];
  s_.stats->error_events.Add();
  const uint32_t seq = c.seq.load(std::memory_order_relaxed);
  c.seq.store(seq + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  c.when_us = tcp_->now_us();
  c.event = static_cast<uint32_t>(s_.stats->error_events.Get());
  c.frontend = s.frontend;
  c.backend = t.backend;
  c.server = t.server;
  bool v6 = false;
  uint16_t local_port = 0;
  uint8_t local[16];
  CopyEnds(s.cli_key, c.src_addr, &c.src_port, local, &local_port, &v6);
  c.is_v6 = v6;
  c.error = error;
  c.len = len < kErrorCaptureBytes ? len : kErrorCaptureBytes;
  c.error_at = error_at;
  std::memcpy(c.data, data, c.len);
  c.seq.store(seq + 2, std::memory_order_release);
}

void Proxy::Log(const Session& s, bool connect_only) noexcept {
  const Stream& t = s.strm;
  LogRing& ring = s_.stats->log;
  const uint64_t head = ring.head.load(std::memory_order_relaxed);
  if (head - ring.tail.load(std::memory_order_acquire) >= kLogRingSize) {
    ring.dropped.Add();
    tcp_->counters().Inc(counters::Counter::proxy_drop_log_ring_full);
    return;
  }
  if (t.log_level == kLogLevelSilent) return;  // set-log-level silent
  LogRecord& r = ring.records[head & (kLogRingSize - 1)];
  r.level = t.log_level;
  const uint64_t now = tcp_->now_us();
  auto ms = [](uint64_t from, uint64_t to) { return static_cast<int32_t>((to - from) / 1000); };
  r.accept_us = s.accept_us;
  r.tt_ms = ms(s.accept_us, now);
  // Tw: time queued (0 when never queued); Tc: the connect that succeeded (-1: none).
  r.tw_ms = t.queue_us ? ms(t.queue_us, t.connect_us > t.queue_us ? t.connect_us : now) : 0;
  if (connect_only) r.tw_ms = -1;
  r.tc_ms = t.established_us ? ms(t.connect_us, t.established_us) : -1;
  r.bytes_uploaded = t.bytes_in;
  r.bytes_read = t.bytes_out;
  CopyEnds(s.cli_key, r.client_addr, &r.client_port, r.front_addr, &r.front_port, &r.is_v6);
  CopyEnds(t.srv_key, r.server_addr, &r.server_port, r.local_addr, &r.local_port, &r.server_v6);
  r.connect_only = connect_only;
  r.redispatched = t.redispatched;
  r.ssl_version = s.ssl_version;
  uint32_t n = 0;
  for (const char* p = s.ssl_cipher; p && *p && n + 1 < kLogCipherBytes; ++p) {
    r.ssl_cipher[n++] = *p;
  }
  r.ssl_cipher[n] = '\0';
  r.term_cause = t.term.cause;
  r.term_phase = t.term.phase;
  r.frontend = s.frontend;
  r.backend = t.backend;
  r.server = t.server;
  r.service = t.service;
  const bool has_be = t.backend < kMaxBackends;
  r.actconn = nsessions_;
  r.feconn = static_cast<uint32_t>(s_.stats->frontends[s.frontend].cur.Get());
  r.beconn = has_be ? static_cast<uint32_t>(s_.stats->backends[t.backend].cur.Get()) : 0;
  r.srv_conn =
      t.server != kNoServer ? static_cast<uint32_t>(s_.stats->servers[t.server].cur.Get()) : 0;
  r.retries = has_be && cfg_ && t.backend < cfg_->backends.size()
                  ? cfg_->backends[t.backend].retries - t.retries_left
                  : 0;
  r.http = t.http;
  if (t.http) {
    // HAProxy's HTTP timers (configuration.txt 8.4): Ti idle before the request, TR to
    // receive its head, Tr the server's answer, Ta the whole request.
    const uint64_t start = t.first_byte_us ? t.first_byte_us : now;
    r.status = t.status;
    r.request_us = start;
    r.ti_ms = ms(t.req_start_us ? t.req_start_us : s.accept_us, start);
    r.treq_ms = t.head_us ? ms(start, t.head_us) : -1;
    const uint64_t sent = t.established_us > t.head_us ? t.established_us : t.head_us;
    r.tres_ms = t.res_head_us && sent ? ms(sent, t.res_head_us) : -1;
    r.ta_ms = ms(start, now);
    if (t.backend >= kMaxBackends) r.tw_ms = -1;  // never reached a backend
    if (t.service) r.tw_ms = r.tc_ms = 0;  // a service is there at once (HAProxy's applets)
    r.bytes_read = t.log_bytes;
    // An answer cut short (killed, a client or a server gone mid-body, or all read from the
    // server but not yet all sent) counts the body bytes passed on so far, as HAProxy counts
    // what it forwarded.
    if ((t.res.state == MsgState::kBody || t.res.state == MsgState::kDone) && !t.body_counted) {
      r.bytes_read += t.res.body == http::Body::kChunked ? t.res.chunks.data_bytes() : t.res.moved;
    }
    r.request_len = 0;
    for (const rte_mbuf* m = t.req_line; m && r.request_len < kLogRequestBytes; m = m->next) {
      const uint32_t take = m->data_len < kLogRequestBytes - r.request_len
                                ? m->data_len
                                : kLogRequestBytes - r.request_len;
      std::memcpy(r.request + r.request_len, rte_pktmbuf_mtod(m, const char*), take);
      r.request_len = static_cast<uint16_t>(r.request_len + take);
    }
  }
  r.srv_queue = 0;  // no per-server queue: sessions wait in the backend's
  r.backend_queue = has_be ? queues_[t.backend].len : 0;
  r.nsamples = 0;
  r.ncap_req = r.ncap_res = 0;
  r.cookie_len[0] = r.cookie_len[1] = kLogCookieMissing;
  if (rules_ && rules_->active) [[unlikely]] {
    LogSamples(s, &r);
    LogCaptures(s, &r);
  }
  ring.head.store(head + 1, std::memory_order_release);
}

uint32_t Proxy::SlotOf(uint64_t uid) const noexcept {
  const uint32_t si = static_cast<uint32_t>((uid / s_.nworkers) % max_sessions_);
  return sessions_[si].strm.phase != Phase::kFree && sessions_[si].uid == uid ? si : UINT32_MAX;
}

void Proxy::Describe(uint32_t si, uint64_t now, SessionInfo* e) const noexcept {
  const Session& s = sessions_[si];
  const Stream& t = s.strm;
  std::memset(e, 0, sizeof *e);
  e->uid = s.uid;
  // A session counter over the workers, as HAProxy's uniq_id (`show sess <id>`'s id=).
  e->serial = s.uid / s_.nworkers / max_sessions_ * s_.nworkers + s_.worker;
  if (s.cli != kNoConn) {
    CopyEnds(tcp_->tcb(s.cli).key, e->client_addr, &e->client_port, e->front_addr, &e->front_port,
             &e->is_v6);
  }
  if (t.srv != kNoConn) {
    CopyEnds(tcp_->tcb(t.srv).key, e->server_addr, &e->server_port, e->local_addr, &e->local_port,
             &e->server_v6);
  }
  e->frontend = s.frontend;
  e->backend = t.backend;
  e->server = t.server;
  e->age_ms = (now - s.accept_us) / 1000;
  e->http = t.http;
  if (t.http) {
    e->meth = kHaproxyMethod[static_cast<size_t>(t.meth)];
    e->status = t.status;
    const auto state = [](MsgState m, bool request) {
      switch (m) {
        case MsgState::kHead:
          return request ? HttpMsgState::kRqBefore : HttpMsgState::kRpBefore;
        case MsgState::kBody:
          return HttpMsgState::kData;
        case MsgState::kDone:
          return HttpMsgState::kDone;
        case MsgState::kTunnel:
          return HttpMsgState::kTunnel;
      }
      return HttpMsgState::kError;
    };
    e->req_state = static_cast<uint8_t>(state(t.req.state, true));
    e->res_state = static_cast<uint8_t>(state(t.res.state, false));
  }
}

void Proxy::ShowSessions(base::Request& r) noexcept {
  const uint64_t now = tcp_->now_us();
  const uint32_t room = r.capacity / sizeof(SessionInfo);
  SessionInfo e;
  if (r.arg != 0) {  // one session: its slot, at once
    const uint32_t si = SlotOf(r.arg);
    if (si != UINT32_MAX && room > 0) {
      Describe(si, now, &e);
      std::memcpy(r.payload, &e, sizeof e);
      r.used = sizeof e;
      r.count = 1;
    }
    return;  // done
  }
  uint64_t i = r.cursor;
  const uint64_t scan_end =
      i + kShowSessionsScan < max_sessions_ ? i + kShowSessionsScan : max_sessions_;
  for (; i < scan_end && r.count < room; ++i) {
    if (sessions_[i].strm.phase == Phase::kFree) continue;
    Describe(static_cast<uint32_t>(i), now, &e);
    // The payload is a byte buffer of the control plane's: copied, never cast.
    std::memcpy(r.payload + r.used, &e, sizeof e);
    r.used += sizeof e;
    ++r.count;
  }
  r.cursor = i;
  r.done = i >= max_sessions_;
}

void Proxy::Serve(base::Request& r) noexcept {
  r.count = 0;
  r.used = 0;
  r.done = true;
  r.status = base::ReplyStatus::kOk;
  if (!sessions_) {  // no proxy on this worker
    r.status = base::ReplyStatus::kUnknownOp;
    return;
  }
  switch (r.op) {
    case base::Op::kShowSessions:
      return ShowSessions(r);
    case base::Op::kShutdownSession: {
      const uint32_t si = SlotOf(r.arg);
      if (si != UINT32_MAX) {
        KillSession(si, 'K');
        r.count = 1;
      }
      return;
    }
    case base::Op::kShutdownServerSessions:
      break;
    case base::Op::kStickDump:
    case base::Op::kStickUsed:
    case base::Op::kStickSet:
    case base::Op::kStickClear:
      return ServeStick(r);
    case base::Op::kServiceTake:
      return ServeServiceTake(r);
    case base::Op::kServiceData:
      return ServeServiceData(r);
    default:
      r.status = base::ReplyStatus::kUnknownOp;
      return;
  }
  // Two passes: a kill frees a server slot and may dispatch a queued session to the same
  // server; only the sessions on it now are killed, as HAProxy does. One walk of the table
  // (a rare admin command; `show sess` is the sliced one).
  for (uint32_t i = 0; i < max_sessions_; ++i) {
    Session& s = sessions_[i];
    s.doomed = s.strm.phase != Phase::kFree && s.strm.server == r.arg;
  }
  for (uint32_t i = 0; i < max_sessions_; ++i) {
    if (!sessions_[i].doomed) continue;
    sessions_[i].doomed = false;
    if (sessions_[i].strm.phase == Phase::kFree) continue;
    KillSession(i, 'K');
    ++r.count;
  }
}

}  // namespace sluice::proxy
