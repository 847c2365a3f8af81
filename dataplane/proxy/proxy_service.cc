// Services: requests a data-plane frontend does not pass to a server but hands to the control
// plane to answer (dataplane/proxy/service_call.h; docs/stats-page.md, docs/metrics.md): the
// statistics page (`stats uri`, matched after the proxy's http-request rules as HAProxy 2.6
// does) and `http-request use-service prometheus-exporter`. The stream waits in
// Phase::kService with its call in the worker's bounded table: the request target and an
// admin form's body are copied in, the answer's bytes come back in slices and wait in the
// stream's to_cli like a server's would, so a slow client holds back the control plane
// (it sends a slice again until the worker takes it), never a buffer without a bound.
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include <cstring>

#include "dataplane/proxy/proxy.h"

namespace sluice::proxy {

using tcp::kNoConn;

namespace {

// The path of an absolute-form target ("http://host/p?q" -> "/p?q"); others as they are.
std::string_view PathOf(std::string_view target) noexcept {
  if (target.empty() || target[0] == '/') return target;
  const size_t scheme = target.find("://");
  if (scheme == std::string_view::npos) return target;
  const size_t path = target.find('/', scheme + 3);
  return path == std::string_view::npos ? std::string_view("/") : target.substr(path);
}

}  // namespace

bool Proxy::InitServices(const char* name, int socket_id) noexcept {
  calls_ = static_cast<ServiceCall*>(
      rte_zmalloc_socket(name, sizeof(ServiceCall) * kServiceCalls, 64, socket_id));
  return calls_ != nullptr;
}

bool Proxy::StatsRequest(uint32_t si, const rules::StatsService& st, bool frontend,
                         uint32_t proxy) noexcept {
  Session& s = sessions_[si];
  Stream& t = s.strm;
  // HAProxy serves the page to GET, HEAD and POST whose URI starts with `stats uri` (the
  // path of an absolute URI).
  if (t.meth != http::Method::kGet && t.meth != http::Method::kHead &&
      t.meth != http::Method::kPost) {
    return false;
  }
  if (scratch_uid_ != s.uid && !LoadRequestHead(s, t.req.head.bytes())) return false;
  const std::string_view target = PathOf(head_->target.In(scratch_));
  if (target.substr(0, st.uri.size()) != st.uri) return false;
  // `stats http-request` and the `stats auth` check: a rule that answers ends it here.
  if (!st.rules.empty() && !RunHttpRules(si, st.rules.data(), st.rules.size())) return true;
  const bool admin = st.admin_set && RequestCond(si, st.admin);
  StartService(si, ServiceKind::kStats, frontend, proxy, admin);
  return true;
}

void Proxy::StartService(uint32_t si, ServiceKind kind, bool frontend, uint32_t proxy,
                         bool admin) noexcept {
  Session& s = sessions_[si];
  Stream& t = s.strm;
  if (scratch_uid_ != s.uid && !LoadRequestHead(s, t.req.head.bytes())) {
    return HttpReply(si, 400, 'P', 'R');
  }
  // The path (an absolute URI's): what follows `stats uri` is read from it.
  const std::string_view target = PathOf(head_->target.In(scratch_));
  // A body the answer needs is read whole first: only a Content-Length one, within bounds.
  const bool body = t.req.body != http::Body::kNone;
  if (target.size() > kServiceUriBytes ||
      (body && (t.req.body != http::Body::kLength || t.req.left > kServiceBodyBytes))) {
    return HttpReply(si, 400, 'P', 'R');
  }
  uint32_t slot = 0;
  while (slot < kServiceCalls && call_state_[slot] != CallState::kFree) ++slot;
  if (slot == kServiceCalls || !calls_) {
    tcp_->counters().Inc(counters::Counter::proxy_service_full);
    return HttpReply(si, 503, 'R', 'R');
  }
  ServiceCall& c = calls_[slot];
  c.uid = s.uid;
  c.slot = slot;
  c.proxy = proxy;
  c.kind = kind;
  c.frontend = frontend;
  c.admin = admin;
  c.head = t.meth == http::Method::kHead;
  c.post = t.meth == http::Method::kPost;
  c.minor = t.req_minor;
  c.uri_len = static_cast<uint16_t>(target.size());
  std::memcpy(c.uri, target.data(), target.size());
  c.body_len = 0;
  call_si_[slot] = si;
  call_state_[slot] = CallState::kBody;
  t.call = static_cast<uint8_t>(slot);
  t.service = static_cast<uint8_t>(static_cast<uint8_t>(kind) + 1);
  t.phase = Phase::kService;
  t.req_an = 0;
  t.res.state = MsgState::kBody;  // until the last slice: no EndTransaction before
  t.last_srv_us = tcp_->now_us();
  s_.stats->frontends[s.frontend].intercepted.Add();
  // The request line for the log, as received.
  const uint32_t head_len = t.req.head.bytes();
  const void* cr = std::memchr(scratch_, '\r', head_len);
  const uint32_t line = cr ? static_cast<uint32_t>(static_cast<const uint8_t*>(cr) - scratch_) : 0;
  t.req_line = CopyToMbufs(scratch_, line < kLogRequestBytes ? line : kLogRequestBytes);
  t.log_bytes = 0;
  DropFront(s.req_in, head_len);
  conns_->Consumed(s.cli, head_len);
  t.req.state = body ? MsgState::kBody : MsgState::kDone;
  ArmSessionTimer(si);
  ServiceClientData(si);
}

void Proxy::ServiceClientData(uint32_t si) noexcept {
  Session& s = sessions_[si];
  Stream& t = s.strm;
  if (t.call == kNoCall || call_state_[t.call] != CallState::kBody) return;  // pipelined: kept
  if (t.req.state == MsgState::kBody) {
    const uint32_t want = static_cast<uint32_t>(t.req.left);
    if (s.req_in.bytes < want) {
      if (s.cli_eof) KillSession(si, 'C');  // the body was cut short
      return;
    }
    ServiceCall& c = calls_[t.call];
    uint32_t n = 0;
    for (const rte_mbuf* seg = s.req_in.head; seg && n < want; seg = seg->next) {
      const uint32_t take = seg->data_len < want - n ? seg->data_len : want - n;
      std::memcpy(c.body + n, rte_pktmbuf_mtod(seg, const uint8_t*), take);
      n += take;
    }
    c.body_len = static_cast<uint16_t>(n);
    DropFront(s.req_in, want);
    conns_->Consumed(s.cli, want);
    t.req.state = MsgState::kDone;
  }
  PostCall(t.call);
}

void Proxy::PostCall(uint32_t slot) noexcept {
  call_state_[slot] = CallState::kPosted;
  s_.stats->service_posted.Add();  // the control plane takes the calls when this moves
}

void Proxy::ServeServiceTake(base::Request& r) noexcept {
  auto* out = reinterpret_cast<ServiceCall*>(r.payload);
  const uint32_t room = r.capacity / static_cast<uint32_t>(sizeof(ServiceCall));
  for (uint32_t slot = 0; slot < kServiceCalls && r.count < room; ++slot) {
    if (call_state_[slot] != CallState::kPosted) continue;
    std::memcpy(&out[r.count++], &calls_[slot], sizeof(ServiceCall));
    call_state_[slot] = CallState::kTaken;
  }
  r.used = r.count * static_cast<uint32_t>(sizeof(ServiceCall));
  // More may wait than the payload held: the control plane asks again.
  for (uint32_t slot = 0; slot < kServiceCalls; ++slot) {
    if (call_state_[slot] == CallState::kPosted) r.done = false;
  }
}

void Proxy::ServeServiceData(base::Request& r) noexcept {
  const ServiceData d = ServiceData::Unpack(r.arg);
  if (d.slot >= kServiceCalls || call_state_[d.slot] != CallState::kTaken ||
      calls_[d.slot].uid != r.cursor || d.len > r.capacity) {
    r.seen = 1;  // gone: the client left, or the session ended
    return;
  }
  const uint32_t si = call_si_[d.slot];
  Session& s = sessions_[si];
  Stream& t = s.strm;
  if (s.cli == kNoConn || t.phase != Phase::kService) {
    r.seen = 1;
    return;
  }
  if (t.to_cli.bytes) return;  // the client's send queue is full: count 0, sent again later
  if (d.len) {
    rte_mbuf* m = CopyToMbufs(r.payload, d.len);
    if (!m) return;  // no mbuf now: later
    t.to_cli.Push(m);
  }
  r.count = 1;
  t.bytes_out += d.len;
  t.log_bytes += d.len;
  t.last_srv_us = tcp_->now_us();
  s_.stats->frontends[s.frontend].bout.Add(d.len);
  if (d.status) {
    t.status = d.status;
    t.res_head_sent = true;
    t.res_head_us = tcp_->now_us();
    CountStatus(s);
  }
  if (d.close) t.cli_keep_alive = false;
  if (d.last) t.res.state = MsgState::kDone;
  Forward(si, false);  // EndTransaction -> EndService once the last byte is out
}

void Proxy::EndService(uint32_t si) noexcept {
  Session& s = sessions_[si];
  Stream& t = s.strm;
  if (t.to_cli.bytes || t.res.state != MsgState::kDone) return;
  FreeCall(t);
  if (t.term.cause == '-') t.term = TermState{'L', 'R'};  // answered by the proxy itself
  if (cfg_->frontends[s.frontend].log == LogMode::kSession) Log(s, false);
  const bool again = t.cli_keep_alive && t.req.state == MsgState::kDone && s.cli != kNoConn &&
                     !s.cli_eof && !s.cli_shut;
  FinishStream(s);
  t = Stream{};
  t.http = true;
  if (!again) return CloseAfterSend(si);
  NextStream(si);
}

void Proxy::FreeCall(Stream& t) noexcept {
  if (t.call == kNoCall) return;
  call_state_[t.call] = CallState::kFree;
  calls_[t.call].uid = 0;
  t.call = kNoCall;
}

}  // namespace sluice::proxy
