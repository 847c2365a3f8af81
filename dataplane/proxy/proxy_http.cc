// HTTP mode: the request and response analyzers of an HTTP/1.1 stream (docs/http.md).
//
// A session's client bytes wait in Session::req_in and a stream's server bytes in
// Stream::res_in until the message they belong to is known. A head is scanned where it lies
// (http::HeadScanner), copied once into the worker's scratch buffer and parsed
// (http::ParseHead), rewritten for the other side into fresh mbufs (http::HeadWriter) and
// queued ahead of the body; body bytes move from the input fifo to the output fifo in the
// mbufs they arrived in, up to the message's end (Content-Length, chunked, or the server's
// close). When the response has left, EndTransaction parks the server connection for reuse
// or closes it, and starts the session's next stream in place or closes the client.
#include <rte_mbuf.h>

#include <cstring>

#include "dataplane/http/h1_output.h"
#include "dataplane/http/h1_replies.h"
#include "dataplane/proxy/proxy.h"

namespace sluice::proxy {

using tcp::ConnId;
using tcp::kNoConn;

namespace {

// Scans the bytes of `in` not scanned yet for the end of the head; `in` starts with the
// message.
void ScanHead(http::HeadScanner& sc, const MbufFifo& in, uint32_t limit) noexcept {
  uint32_t skip = sc.bytes();
  for (const rte_mbuf* seg = in.head; seg && !sc.done() && !sc.overflow(); seg = seg->next) {
    const uint32_t len = seg->data_len;
    if (skip >= len) {
      skip -= len;
      continue;
    }
    sc.Scan(rte_pktmbuf_mtod_offset(seg, const uint8_t*, skip), len - skip, limit);
    skip = 0;
  }
}

// Copies the first `n` bytes of `in` to `out`.
void CopyOut(const MbufFifo& in, uint32_t n, uint8_t* out) noexcept {
  for (const rte_mbuf* seg = in.head; seg && n; seg = seg->next) {
    const uint32_t take = seg->data_len < n ? seg->data_len : n;
    std::memcpy(out, rte_pktmbuf_mtod(seg, const uint8_t*), take);
    out += take;
    n -= take;
  }
}

// The client's address as text (RFC 5952 for IPv6) for X-Forwarded-For; returns its length.
uint32_t FormatIp(const uint8_t* a, bool v6, char* out) noexcept {
  char* p = out;
  auto dec = [&p](unsigned v) {
    if (v >= 100) *p++ = static_cast<char>('0' + v / 100);
    if (v >= 10) *p++ = static_cast<char>('0' + v / 10 % 10);
    *p++ = static_cast<char>('0' + v % 10);
  };
  if (!v6) {
    for (int i = 0; i < 4; ++i) {
      if (i) *p++ = '.';
      dec(a[i]);
    }
    return static_cast<uint32_t>(p - out);
  }
  uint16_t w[8];
  for (int i = 0; i < 8; ++i) w[i] = static_cast<uint16_t>(a[2 * i] << 8 | a[2 * i + 1]);
  int best = -1, best_len = 1;  // the longest run of two or more zero words
  for (int i = 0; i < 8;) {
    int j = i;
    while (j < 8 && w[j] == 0) ++j;
    if (j - i > best_len) best = i, best_len = j - i;
    i = j == i ? i + 1 : j;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 8; ++i) {
    if (i == best) {
      *p++ = ':';
      if (i == 0) *p++ = ':';
      i += best_len - 1;
      continue;
    }
    if (i) *p++ = ':';
    bool lead = true;
    for (int shift = 12; shift >= 0; shift -= 4) {
      const unsigned d = (w[i] >> shift) & 0xf;
      if (lead && d == 0 && shift) continue;
      lead = false;
      *p++ = kHex[d];
    }
  }
  return static_cast<uint32_t>(p - out);
}

bool InPrefix(const ForwardForSnap& f, const uint8_t* addr, bool v6) noexcept {
  if (!f.has_except || f.except_v6 != v6) return false;
  const unsigned bits = f.except_len;
  for (unsigned i = 0; i < bits / 8; ++i) {
    if (addr[i] != f.except_addr[i]) return false;
  }
  if (bits % 8 == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xff << (8 - bits % 8));
  return (addr[bits / 8] & mask) == (f.except_addr[bits / 8] & mask);
}

// The field that manages the connection (RFC 9110 section 7.6.1): each side writes its own,
// keeping only an "upgrade" token, as HAProxy does (other fields it names pass).
bool IsConnection(std::string_view name) noexcept { return http::EqualsNoCase(name, "connection"); }

// The Connection field as passed on: its tokens but close and keep-alive, which each side
// decides for itself (HAProxy 2.6); empty when none is left.
std::string_view ConnectionTokens(std::string_view v, char* buf, uint32_t cap) noexcept {
  uint32_t n = 0;
  size_t i = 0;
  while (i <= v.size()) {
    size_t j = v.find(',', i);
    if (j == std::string_view::npos) j = v.size();
    size_t a = i, b = j;
    while (a < b && (v[a] == ' ' || v[a] == '\t')) ++a;
    while (b > a && (v[b - 1] == ' ' || v[b - 1] == '\t')) --b;
    const std::string_view t = v.substr(a, b - a);
    if (!t.empty() && !http::EqualsNoCase(t, "close") && !http::EqualsNoCase(t, "keep-alive") &&
        n + t.size() + 2 <= cap) {
      if (n) {
        buf[n++] = ',';
        buf[n++] = ' ';
      }
      std::memcpy(buf + n, t.data(), t.size());
      n += static_cast<uint32_t>(t.size());
    }
    i = j + 1;
  }
  return {buf, n};
}

// A Content-Length value as written on: as received, or the one value of an equal list.
std::string_view ContentLengthText(const uint8_t* head, const http::HeaderField& f,
                                   const http::MessageHead& h, char* buf) noexcept {
  const std::string_view v = f.value.In(head);
  if (v.find(',') == std::string_view::npos) return v;
  return http::Decimal(h.content_length, buf);
}

// A response head's size as HAProxy stores it, which is what its log's %B counts (with the
// body's data): measured on HAProxy 2.6 (tests/integration/data/h1_haproxy_notes.md, f).
uint64_t StoredSize(const uint8_t* p, const http::MessageHead& h) noexcept {
  uint64_t n = 20 + h.version.len + 3 + h.reason.len + 1;
  for (uint16_t i = 0; i < h.nfields; ++i) {
    const http::HeaderField& f = h.fields[i];
    if (http::EqualsNoCase(f.name.In(p), "connection")) continue;
    n += f.name.len + f.value.len;
  }
  return n;
}

// The same for one of HAProxy's error answers (slow path: errors only).
uint64_t ReplyStoredSize(uint16_t code) noexcept {
  const std::string_view r = http::ErrorReply(code);
  const size_t end = r.find("\r\n\r\n");
  const size_t first = r.find("\r\n");
  uint64_t n = 20 + 8 + 3 + (first - 13) + 1 + (r.size() - end - 4);
  for (size_t i = first + 2; i < end;) {
    const size_t eol = r.find("\r\n", i);
    n += eol - i - 2;  // name and value, without ": "
    i = eol + 2;
  }
  return n;
}

uint32_t Fnv(std::string_view s) noexcept {
  uint32_t h = 2166136261u;
  for (const char c : s) h = (h ^ static_cast<uint8_t>(c)) * 16777619u;
  h ^= h >> 16;
  h *= 0x7feb352du;
  h ^= h >> 15;
  return h;
}

// What balance uri / url_param / hdr hash in this request (HAProxy's configuration.txt
// 4.2 `balance`); -1 when the request has none of it.
int64_t RequestHash(const uint8_t* head, const http::MessageHead& h, const BackendSnap& be) {
  const std::string_view target = h.target.In(head);
  const std::string_view name(be.hash_name, be.hash_name_len);
  switch (be.algo) {
    case Algo::kUri: {
      std::string_view uri = be.uri_whole ? target : target.substr(0, target.find('?'));
      if (be.uri_depth) {  // the first `depth` directories
        unsigned slashes = 0;
        for (size_t i = 0; i < uri.size(); ++i) {
          if (uri[i] == '/' && ++slashes > be.uri_depth) {
            uri = uri.substr(0, i);
            break;
          }
        }
      }
      if (be.uri_len && uri.size() > be.uri_len) uri = uri.substr(0, be.uri_len);
      return Fnv(uri);
    }
    case Algo::kUrlParam: {
      const size_t q = target.find('?');
      if (q == std::string_view::npos) return -1;
      std::string_view query = target.substr(q + 1);
      while (!query.empty()) {
        const size_t amp = query.find('&');
        const std::string_view pair = query.substr(0, amp);
        if (pair.size() > name.size() && pair.substr(0, name.size()) == name &&
            pair[name.size()] == '=') {
          return Fnv(pair.substr(name.size() + 1));
        }
        if (amp == std::string_view::npos) break;
        query.remove_prefix(amp + 1);
      }
      return -1;
    }
    case Algo::kHdr: {
      const int f = h.Find(head, name);
      return f < 0 ? -1 : Fnv(h.fields[f].value.In(head));
    }
    default:
      return -1;
  }
}

}  // namespace

bool Proxy::CopyFields(http::HeadWriter& w, const uint8_t* head, const http::MessageHead& h,
                       bool drop_cl, std::string_view watch, const Proxy* edits,
                       bool drop_expect) noexcept {
  bool seen = false;
  char cl[20];
  for (uint16_t i = 0; i < h.nfields; ++i) {
    const http::HeaderField& f = h.fields[i];
    const std::string_view name = f.name.In(head);
    if (f.dup) continue;  // (RFC 9110 section 8.6)
    if (IsConnection(name)) {
      char tokens[256];
      const std::string_view kept = ConnectionTokens(f.value.In(head), tokens, sizeof tokens);
      if (!kept.empty()) w.Field("connection", kept);
      continue;
    }
    if (i == h.cl_field) {
      if (!drop_cl) w.Field("content-length", ContentLengthText(head, f, h, cl));
      continue;
    }
    if (edits && edits->EditDrops(name)) continue;  // del-header, set-header
    if (drop_expect && http::EqualsNoCase(name, "expect") &&
        http::EqualsNoCase(f.value.In(head), "100-continue")) {
      continue;
    }
    if (!watch.empty() && http::EqualsNoCase(name, watch)) seen = true;
    w.Field(head, f);
  }
  return seen;
}

namespace {

HttpConnMode Stronger(HttpConnMode a, HttpConnMode b) noexcept {
  return static_cast<uint8_t>(a) > static_cast<uint8_t>(b) ? a : b;
}

}  // namespace

rte_mbuf* Proxy::CopyToMbufs(const uint8_t* p, uint32_t n) noexcept {
  rte_mbuf* first = nullptr;
  rte_mbuf* last = nullptr;
  while (n) {
    rte_mbuf* m = rte_pktmbuf_alloc(s_.pool);
    if (!m) {
      if (first) rte_pktmbuf_free(first);
      tcp_->counters().Inc(counters::Counter::proxy_drop_no_mbuf);
      return nullptr;
    }
    const uint32_t room = rte_pktmbuf_tailroom(m);
    const uint32_t take = n < room ? n : room;
    std::memcpy(rte_pktmbuf_mtod(m, uint8_t*), p, take);
    m->data_len = static_cast<uint16_t>(take);
    m->pkt_len = take;
    if (last) {
      last->next = m;
    } else {
      first = m;
    }
    last = m;
    p += take;
    n -= take;
  }
  return first;
}

void Proxy::DropFront(MbufFifo& f, uint32_t n) noexcept {
  while (n && f.head) {
    rte_mbuf* seg = f.head;
    if (seg->data_len <= n) {
      n -= seg->data_len;
      rte_pktmbuf_free_seg(f.Pop());
      continue;
    }
    rte_pktmbuf_adj(seg, static_cast<uint16_t>(n));
    tcp_->ForgetSum(seg);  // the sum the stack kept covered the bytes cut
    f.bytes -= n;
    n = 0;
  }
}

bool Proxy::MoveBody(HttpMsg& m, MbufFifo& in, MbufFifo& out) noexcept {
  while (in.head && (m.state == MsgState::kBody || m.state == MsgState::kTunnel)) {
    rte_mbuf* seg = in.head;
    const uint32_t len = seg->data_len;
    const uint8_t* data = rte_pktmbuf_mtod(seg, const uint8_t*);
    uint32_t take = len;
    bool done = false;
    if (m.state == MsgState::kBody && m.body == http::Body::kLength) {
      take = m.left < len ? static_cast<uint32_t>(m.left) : len;
      m.left -= take;
      done = m.left == 0;
    } else if (m.state == MsgState::kBody && m.body == http::Body::kChunked) {
      take = m.chunks.Scan(data, len);
      if (m.chunks.error()) return false;
      done = m.chunks.done();
    }
    if (take < len) {
      // The message ends inside this segment: what follows (the next message) is copied
      // into a segment of its own and stays.
      rte_mbuf* rest = CopyToMbufs(data + take, len - take);
      if (!rest) return false;
      in.Pop();
      rte_pktmbuf_trim(seg, static_cast<uint16_t>(len - take));
      tcp_->ForgetSum(seg);
      rest->next = in.head;
      in.head = rest;
      if (!in.tail) in.tail = rest;
      in.bytes += len - take;
    } else {
      in.Pop();
    }
    out.Push(seg);
    m.moved += take;
    if (done) m.state = MsgState::kDone;
  }
  return true;
}

bool Proxy::LoadRequestHead(Session& s, uint32_t len) noexcept {
  CopyOut(s.req_in, len, scratch_);
  http::ParseOptions o = HeadOptions(true);
  o.accept_invalid = cfg_->frontends[s.frontend].accept_invalid;
  scratch_uid_ = s.uid;
  return http::ParseHead(scratch_, len, o, head_);
}

bool Proxy::LoadHeadForServer(Session& s) noexcept {
  const uint32_t len = s.strm.head_out_len;
  if (!len || s.strm.to_srv.bytes < len || len > cfg_->http_head_bytes) return false;
  CopyOut(s.strm.to_srv, len, scratch_);
  http::ParseOptions o = HeadOptions(true);
  o.accept_invalid = true;  // it was checked when it came in; this is our own writing
  scratch_uid_ = s.uid;
  return http::ParseHead(scratch_, len, o, head_);
}

Proxy::AnResult Proxy::WaitHttpRequest(uint32_t si) noexcept {
  Session& s = sessions_[si];
  Stream& t = s.strm;
  if (!t.first_byte_us && s.req_in.bytes) t.first_byte_us = tcp_->now_us();
  ScanHead(t.req.head, s.req_in, cfg_->http_head_bytes);
  if (t.req.head.overflow()) {
    const uint32_t n =
        s.req_in.bytes < cfg_->http_head_bytes ? s.req_in.bytes : cfg_->http_head_bytes;
    CopyOut(s.req_in, n, scratch_);
    scratch_uid_ = 0;
    CaptureError(s, true, scratch_, n, n, static_cast<uint8_t>(http::HeadError::kTooLarge));
    s_.stats->frontends[s.frontend].errors.Add();
    HttpReply(si, 400, 'P', 'R');
    return AnResult::kClosed;
  }
  if (!t.req.head.done() && s.req_in.head) {
    // What cannot start a request is refused now, not at the line's end (HAProxy).
    const rte_mbuf* first = s.req_in.head;
    const uint32_t peek = first->data_len < 64 ? first->data_len : 64;
    const int32_t bad = http::BadRequestStart(rte_pktmbuf_mtod(first, const uint8_t*), peek);
    if (bad >= 0) {
      CaptureError(s, true, rte_pktmbuf_mtod(first, const uint8_t*), first->data_len,
                   static_cast<uint32_t>(bad), static_cast<uint8_t>(http::HeadError::kStartLine));
      s_.stats->frontends[s.frontend].errors.Add();
      HttpReply(si, 400, 'P', 'R');
      return AnResult::kClosed;
    }
  }
  // An HTTP/0.9 request is its request line alone: while waiting for an empty line that will
  // not come, look at the first line (a whole head's is looked at by the parser, below).
  const uint32_t line = t.req.head.first_line();
  if (!t.req.head.done() && line && line <= cfg_->http_head_bytes) {
    CopyOut(s.req_in, line, scratch_);
    scratch_uid_ = 0;
    if (http::IsHttp09Line(scratch_, line)) t.req.head.EndAt(line);
  }
  if (!t.req.head.done()) {
    if (!s.cli_eof) return AnResult::kWait;
    CloseClient(si, 'C', 'R');
    return AnResult::kClosed;
  }
  bool parsed = LoadRequestHead(s, t.req.head.bytes());
  if (parsed && head_->http09 && line < t.req.head.bytes()) {
    // (accept-invalid) HTTP/0.9: what followed the request line is not its head.
    t.req.head.EndAt(line);
    parsed = LoadRequestHead(s, line);
  }
  if (!parsed) {
    CaptureError(s, true, scratch_, t.req.head.bytes(), head_->error_at,
                 static_cast<uint8_t>(head_->error));
    s_.stats->frontends[s.frontend].errors.Add();
    HttpReply(si, http::RequestErrorStatus(head_->error), 'P', 'R');
    return AnResult::kClosed;
  }
  const http::MessageHead& h = *head_;
  t.head_us = tcp_->now_us();
  t.meth = h.meth;
  t.req_minor = h.minor;
  t.req.body = h.body;
  t.req.left = h.content_length;
  t.cli_keep_alive = h.KeepAlive();
  t.expect_continue = h.expect_continue;
  if (cfg_->frontends[s.frontend].buffer_request && h.body != http::Body::kNone) {
    // HAProxy's buffer holds the head and the body's data as HTX: `tune.bufsize` less
    // `tune.maxrewrite` (http_htx_head), less the head's HTX size (without an `Expect:
    // 100-continue` it answers) and a data block's 8 bytes: the room left for the body.
    uint32_t head_htx = http::HtxSize(h);
    const int e = h.expect_continue && h.minor >= 1 ? h.Find(scratch_, "expect") : -1;
    if (e >= 0) head_htx -= h.fields[e].name.len + h.fields[e].value.len + 8u;
    t.body_room = cfg_->http_htx_head > head_htx + 8 ? cfg_->http_htx_head - head_htx - 8 : 0;
  }
  // A WebSocket handshake: the 101 must answer this key (RFC 6455 section 4.2.2).
  t.ws_check = false;
  if (h.conn_upgrade) [[unlikely]] {
    const int key = h.Find(scratch_, "sec-websocket-key");
    if (key >= 0) t.ws_check = ws_.Compute(h.fields[key].value.In(scratch_), t.ws_accept);
  }
  s_.stats->frontends[s.frontend].req_tot.Add();
  return AnResult::kDone;
}

Proxy::AnResult Proxy::WaitHttpBody(uint32_t si) noexcept {
  Session& s = sessions_[si];
  Stream& t = s.strm;
  if (!cfg_->frontends[s.frontend].buffer_request || t.req.body == http::Body::kNone) {
    return AnResult::kDone;
  }
  if (t.expect_continue && t.req_minor >= 1 && !t.continue_sent) {
    // HAProxy answers an HTTP/1.1 request's `Expect: 100-continue` itself before it reads
    // the body, and the server does not get that field.
    t.continue_sent = true;
    SendToClient(s, "HTTP/1.1 100 Continue\r\n\r\n");
  }
  const uint32_t head = t.req.head.bytes();
  const uint32_t raw = s.req_in.bytes - head;
  bool complete = false, full = false;
  if (t.req.body == http::Body::kLength) {
    complete = raw >= t.req.left;
    full = raw >= t.body_room;
  } else {
    // Only the bytes not scanned yet: a body that comes a byte at a time costs its bytes.
    if (t.body_scanned == 0) t.body_scan.RequireCrlf();  // as the body is passed on
    uint32_t skip = head + t.body_scanned;
    for (const rte_mbuf* seg = s.req_in.head;
         seg && !t.body_scan.done() && !t.body_scan.error(); seg = seg->next) {
      if (skip >= seg->data_len) {
        skip -= seg->data_len;
        continue;
      }
      t.body_scanned += t.body_scan.Scan(rte_pktmbuf_mtod_offset(seg, const uint8_t*, skip),
                                         seg->data_len - skip);
      skip = 0;
    }
    if (t.body_scan.error()) {
      s_.stats->frontends[s.frontend].errors.Add();
      HttpReply(si, 400, 'P', 'R');
      return AnResult::kClosed;
    }
    complete = t.body_scan.done();
    full = t.body_scan.data_bytes() >= t.body_room || raw >= http::kMaxHeadBytesCap;
  }
  if (!complete && !full && !s.cli_eof) return AnResult::kWait;
  if (scratch_uid_ != s.uid && !LoadRequestHead(s, head)) {  // another's head was read since
    HttpReply(si, 400, 'P', 'R');
    return AnResult::kClosed;
  }
  LoadRequestBody(s);
  return AnResult::kDone;
}

void Proxy::LoadRequestBody(const Session& s) noexcept {
  const Stream& t = s.strm;
  // The raw bytes after the head (a chunked body's framing included), at most kMaxHeadBytesCap.
  const uint32_t head = t.req.head.bytes();
  uint32_t want = s.req_in.bytes - head;
  if (t.req.body == http::Body::kNone) want = 0;
  if (t.req.body == http::Body::kLength && want > t.req.left) {
    want = static_cast<uint32_t>(t.req.left);
  }
  if (want > http::kMaxHeadBytesCap) want = http::kMaxHeadBytesCap;
  uint32_t n = 0, skip = head;
  for (const rte_mbuf* seg = s.req_in.head; seg && n < want; seg = seg->next) {
    uint32_t len = seg->data_len;
    if (skip >= len) {
      skip -= len;
      continue;
    }
    const uint32_t off = skip;
    skip = 0;
    len -= off;
    if (len > want - n) len = want - n;
    std::memcpy(body_ + n, rte_pktmbuf_mtod_offset(seg, const uint8_t*, off), len);
    n += len;
  }
  body_uid_ = s.uid;
  body_stream_ = s.nstreams;
  body_len_ = n;
  body_complete_ = false;
  if (t.req.body == http::Body::kChunked) {
    if (!http::DecodeChunked(body_, n, &body_len_, &body_complete_)) body_complete_ = false;
  } else {
    body_complete_ = n == t.req.left;
  }
  if (body_len_ > t.body_room) {  // the buffer is full: the rules see what it holds
    body_len_ = t.body_room;
    body_complete_ = false;
  }
}

rte_mbuf* Proxy::WriteRequestHead(const Session& s, uint32_t* len) noexcept {
  const http::MessageHead& h = *head_;
  const FrontendSnap& fe = cfg_->frontends[s.frontend];
  const BackendSnap& be = cfg_->backends[s.strm.backend];
  const HttpConnMode mode = Stronger(fe.conn_mode, be.conn_mode);
  const ForwardForSnap& fwd = be.fwd.on ? be.fwd : fe.fwd;
  http::HeadWriter w(out_, HeadOutBytes());
  const bool edited = edits_->uid == s.uid && !edits_->response;
  if (edited && (edits_->method_len || edits_->target_len)) {
    w.Raw(edits_->method_len ? edits_->Str(edits_->method_off, edits_->method_len)
                             : h.method.In(scratch_));
    w.Raw(" ");
    w.Raw(edits_->target_len ? edits_->Str(edits_->target_off, edits_->target_len)
                             : h.target.In(scratch_));
    w.Raw(h.minor == 0 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n");
  } else {
    w.StartLine(scratch_, h, true);
  }
  const std::string_view fwd_name(fwd.header, fwd.header_len);
  const bool has_fwd =
      CopyFields(w, scratch_, h, h.cl_dropped, fwd.on ? fwd_name : "", edited ? this : nullptr,
                 s.strm.continue_sent);
  if (edited) {
    WriteEdits(w);
    edits_->uid = 0;
  }
  if (fwd.on && !(fwd.if_none && has_fwd)) {
    const tcp::FlowKey& k = s.cli_key;
    if (!InPrefix(fwd, k.remote_addr, k.is_v6 != 0)) {
      char ip[48];
      w.Field(fwd_name, std::string_view(ip, FormatIp(k.remote_addr, k.is_v6 != 0, ip)));
    }
  }
  // What HAProxy adds for the server (an upgrade keeps its own Connection field): close when
  // it will not keep the connection, keep-alive for an HTTP/1.0 request that it will (not a
  // chunked one: HAProxy does not keep that server connection).
  const bool keep = mode == HttpConnMode::kKeepAlive && be.reuse != HttpReuse::kNever;
  if (!h.conn_upgrade && !keep && h.minor >= 1) w.Field("connection", "close");
  if (!h.conn_upgrade && keep && h.minor == 0 && h.body != http::Body::kChunked) {
    w.Field("connection", "keep-alive");
  }
  w.End();
  if (w.overflow()) return nullptr;
  *len = w.size();
  return CopyToMbufs(out_, w.size());
}

Proxy::AnResult Proxy::HttpRequestXfer(uint32_t si) noexcept {
  Session& s = sessions_[si];
  Stream& t = s.strm;
  const uint32_t head_len = t.req.head.bytes();
  // Another session's head may have been parsed since (an analyzer that waited): again.
  if (scratch_uid_ != s.uid && !LoadRequestHead(s, head_len)) {
    HttpReply(si, 400, 'P', 'R');
    return AnResult::kClosed;
  }
  scratch_uid_ = 0;
  const FrontendSnap& fe = cfg_->frontends[s.frontend];
  const BackendSnap& be = cfg_->backends[t.backend];
  if (Stronger(fe.conn_mode, be.conn_mode) == HttpConnMode::kClose) t.cli_keep_alive = false;
  if (be.algo == Algo::kRandom) {
    random_ ^= random_ << 13;
    random_ ^= random_ >> 7;
    random_ ^= random_ << 17;
    t.lb_hash = static_cast<int64_t>(random_ & 0xffffffffu);
  } else if (HashesRequest(be.algo)) {
    t.lb_hash = RequestHash(scratch_, *head_, be);
  }
  s_.stats->backends[t.backend].req_tot.Add();
  uint32_t len = 0;
  rte_mbuf* out = WriteRequestHead(s, &len);
  if (!out) {
    HttpReply(si, 500, 'P', 'R');
    return AnResult::kClosed;
  }
  // The request line for the log, as written (HAProxy's %r).
  const void* crlf = std::memchr(out_, '\r', len);
  const uint32_t line = crlf ? static_cast<uint32_t>(static_cast<const uint8_t*>(crlf) - out_) : 0;
  t.req_line = CopyToMbufs(out_, line < kLogRequestBytes ? line : kLogRequestBytes);
  DropFront(s.req_in, head_len);
  conns_->Consumed(s.cli, head_len);
  t.to_srv.PushSynth(out, len);
  t.head_out_len = len;
  t.req.state = t.req.body == http::Body::kNone ? MsgState::kDone : MsgState::kBody;
  if (t.req.body == http::Body::kChunked) t.req.chunks.RequireCrlf();
  if (!MoveBody(t.req, s.req_in, t.to_srv)) {
    HttpReply(si, 400, 'P', 'R');
    return AnResult::kClosed;
  }
  return AnResult::kDone;
}

void Proxy::HttpClientData(uint32_t si) noexcept {
  Session& s = sessions_[si];
  Stream& t = s.strm;
  switch (t.phase) {
    case Phase::kRequest:
      if (t.req_an & (kAnReqWaitHttp | kAnReqHttpBody)) RunRequestAnalyzers(si);
      return;
    case Phase::kService:
      return ServiceClientData(si);
    case Phase::kClosing:
    case Phase::kFree:
      if (s.cli != kNoConn) conns_->Consumed(s.cli, s.req_in.bytes);
      s.req_in.Clear();
      return;
    case Phase::kQueued:
    case Phase::kConnecting:
    case Phase::kEstablished:
      break;
  }
  if (!MoveBody(t.req, s.req_in, t.to_srv)) {
    if (!t.res_head_sent) return HttpReply(si, 400, 'P', 'R');
    return KillSession(si, 'C');
  }
  if (s.cli_eof) {
    t.cli_keep_alive = false;
    if (t.req.state == MsgState::kBody) return KillSession(si, 'C');  // cut short
  }
  if (t.phase == Phase::kEstablished) Forward(si, true);
}

rte_mbuf* Proxy::WriteResponseHead(const Session& s, uint32_t* len) noexcept {
  const http::MessageHead& h = *head_;
  const Stream& t = s.strm;
  http::HeadWriter w(out_, HeadOutBytes());
  const bool edited = edits_->uid == s.uid && edits_->response && h.status >= 200;
  if (edited && edits_->status) {
    char num[20];
    w.Raw(h.version.In(scratch_));
    w.Raw(" ");
    w.Raw(http::Decimal(edits_->status, num));
    w.Raw(" ");
    w.Raw(edits_->Str(edits_->reason_off, edits_->reason_len));
    w.Raw("\r\n");
  } else {
    w.StartLine(scratch_, h, false);
  }
  // 1xx and 204 answers have no Content-Length (RFC 9110 8.6): HAProxy drops it.
  CopyFields(w, scratch_, h, h.cl_dropped || h.status < 200 || h.status == 204, "",
             edited ? this : nullptr);
  if (edited) WriteEdits(w);
  // What HAProxy adds for the client: close on an HTTP/1.1 answer when the connection ends
  // after it, keep-alive when it stays and the answer or the request is HTTP/1.0.
  if (!t.tunnel && h.status >= 200) {
    if (!t.cli_keep_alive && h.minor >= 1) w.Field("connection", "close");
    if (t.cli_keep_alive && (h.minor == 0 || t.req_minor == 0)) {
      w.Field("connection", "keep-alive");
    }
  }
  w.End();
  if (edited) edits_->uid = 0;
  if (w.overflow()) return nullptr;
  *len = w.size();
  return CopyToMbufs(out_, w.size());
}

void Proxy::HttpServerData(uint32_t si) noexcept {
  Session& s = sessions_[si];
  Stream& t = s.strm;
  if (t.phase != Phase::kEstablished) return;
  const BackendSnap& be = cfg_->backends[t.backend];
  if (t.retry_head && t.res_in.bytes) {  // the answer has started: no retry from here
    rte_pktmbuf_free(t.retry_head);
    t.retry_head = nullptr;
  }
  while (t.res.state == MsgState::kHead) {
    ScanHead(t.res.head, t.res_in, cfg_->http_head_bytes);
    if (t.res.head.overflow()) return HttpReply(si, 502, 'P', 'H');
    if (!t.res.head.done()) {
      if (t.srv_eof) return KillSession(si, 'S');
      if (t.to_cli.bytes) Forward(si, false);  // an interim answer (100 Continue) goes now
      return;
    }
    const uint32_t head_len = t.res.head.bytes();
    CopyOut(t.res_in, head_len, scratch_);
    scratch_uid_ = 0;
    http::ParseOptions o = HeadOptions(false);
    o.accept_invalid = be.accept_invalid;
    o.request_method = t.meth;
    if (!http::ParseHead(scratch_, head_len, o, head_)) {
      CaptureError(s, false, scratch_, head_len, head_->error_at,
                   static_cast<uint8_t>(head_->error));
      s_.stats->backends[t.backend].eresp.Add();
      s_.stats->servers[t.server].eresp.Add();
      return HttpReply(si, 502, 'P', 'H');
    }
    const http::MessageHead& h = *head_;
    if (h.status == 101 && t.ws_check) [[unlikely]] {
      // A 101 to a WebSocket handshake with another Sec-WebSocket-Accept (or none) is an
      // invalid answer, as in HAProxy: the client gets a 502, not the server's tunnel.
      const int at = h.Find(scratch_, "sec-websocket-accept");
      const std::string_view accept = at >= 0 ? h.fields[at].value.In(scratch_) : "";
      if (accept != std::string_view(t.ws_accept, http::kWsAcceptLen)) {
        s_.stats->backends[t.backend].eresp.Add();
        s_.stats->servers[t.server].eresp.Add();
        return HttpReply(si, 502, 'P', 'H');
      }
    }
    const bool interim = h.status < 200 && h.status != 101;
    t.log_bytes += StoredSize(scratch_, h);
    if (h.status == 101) t.tunnel = true;  // Upgrade: bytes pass both ways from here
    if (!interim && !t.tunnel) {
      const FrontendSnap& fe = cfg_->frontends[s.frontend];
      const HttpConnMode mode = Stronger(fe.conn_mode, be.conn_mode);
      const bool framed = h.body != http::Body::kUntilClose;
      t.cli_keep_alive = t.cli_keep_alive && framed && !s.cli_eof;
      t.srv_reusable = mode == HttpConnMode::kKeepAlive && be.reuse != HttpReuse::kNever &&
                       h.KeepAlive() && framed &&
                       !(t.req_minor == 0 && t.req.body == http::Body::kChunked);
    }
    if (!interim && nshards_) [[unlikely]] StickOnResponse(si);
    if (!interim && rules_ && rules_->active && !ResponseRules(si)) return;
    const bool set_status = edits_->uid == s.uid && edits_->response && edits_->status;
    const uint16_t status = set_status ? edits_->status : h.status;
    uint32_t len = 0;
    rte_mbuf* out = WriteResponseHead(s, &len);
    if (!out) return HttpReply(si, 502, 'P', 'H');
    DropFront(t.res_in, head_len);
    if (t.srv != kNoConn) conns_->Consumed(t.srv, head_len);
    t.to_cli.PushSynth(out, len);
    if (interim) {
      t.res.head.Reset();  // the final answer follows
      continue;
    }
    t.status = status;
    t.res_head_sent = true;
    t.res_head_us = tcp_->now_us();
    CountStatus(s);
    if (t.tunnel) {
      t.res.state = t.req.state = MsgState::kTunnel;
      t.cli_keep_alive = t.srv_reusable = false;
      MoveBody(t.req, s.req_in, t.to_srv);
      Forward(si, true);
    } else {
      t.res.body = h.body;
      t.res.left = h.content_length;
      t.res.state = h.body == http::Body::kNone ? MsgState::kDone : MsgState::kBody;
    }
  }
  if (!MoveBody(t.res, t.res_in, t.to_cli)) return KillSession(si, 'S');
  if (t.srv_eof && t.res.state == MsgState::kBody && t.res.body == http::Body::kUntilClose) {
    t.res.state = MsgState::kDone;
  }
  if (t.res.state == MsgState::kDone && t.res_in.bytes) {
    // Bytes after the response: the connection is out of step; it is not reused.
    t.srv_reusable = false;
    if (t.srv != kNoConn) conns_->Consumed(t.srv, t.res_in.bytes);
    t.res_in.Clear();
  }
  Forward(si, false);
}

std::string_view Proxy::ReplyFor(const Session& s, uint16_t code) const noexcept {
  // The backend's errorfile, else the frontend's, else HAProxy's page (HAProxy's order).
  uint32_t slot = 0;
  while (slot < kReplySlots && kReplyCodes[slot] != code) ++slot;
  if (slot < kReplySlots && cfg_) {
    int16_t page = -1;
    if (s.strm.backend < cfg_->backends.size()) {
      page = cfg_->backends[s.strm.backend].errorfiles.page[slot];
    }
    if (page < 0) page = cfg_->frontends[s.frontend].errorfiles.page[slot];
    if (page >= 0 && static_cast<size_t>(page) < cfg_->error_pages.size()) {
      return cfg_->error_pages[static_cast<size_t>(page)];
    }
  }
  return http::ErrorReply(code);
}

void Proxy::KeepRetryCopy(Session& s) noexcept {
  // Only the rewritten head waits in the server fifo (nothing has gone out yet).
  Stream& t = s.strm;
  if (t.req.body != http::Body::kNone || t.retry_head || t.to_srv.synth == 0) return;
  const uint32_t len = t.to_srv.synth < HeadOutBytes() ? t.to_srv.synth : HeadOutBytes();
  CopyOut(t.to_srv, len, out_);
  t.retry_head = CopyToMbufs(out_, len);
  t.retry_len = t.retry_head ? len : 0;
}

bool Proxy::RetryOnNewConnection(uint32_t si) noexcept {
  Session& s = sessions_[si];
  Stream& t = s.strm;
  if (!t.reused || !t.retry_head || t.res_in.bytes || t.res.head.bytes()) return false;
  conns_->AbortDetached(&t.srv);
  t.to_srv.Clear();
  t.to_srv.PushSynth(t.retry_head, t.retry_len);
  t.retry_head = nullptr;
  t.reused = false;
  t.no_reuse = true;
  t.srv_eof = t.srv_shut = false;
  t.res = HttpMsg{};
  s_.stats->servers[t.server].retries.Add();
  s_.stats->backends[t.backend].retries.Add();
  const uint32_t server = t.server;
  ReleaseServer(si);
  t.phase = Phase::kConnecting;
  if (!ConnectTo(si, server)) ConnectFailed(si, false);
  return true;
}

void Proxy::CountStatus(const Session& s) noexcept {
  const Stream& t = s.strm;
  if (nshards_) StickCountStatus(const_cast<Session&>(s), t.status);
  const unsigned cls = t.status / 100;
  const unsigned i = cls >= 1 && cls <= 5 ? cls - 1 : 5;
  s_.stats->frontends[s.frontend].hrsp[i].Add();
  if (t.backend < kMaxBackends) s_.stats->backends[t.backend].hrsp[i].Add();
  if (t.server != kNoServer) {
    s_.stats->servers[t.server].hrsp[i].Add();
    s_.stats->servers[t.server].req_tot.Add();
  }
}

void Proxy::EndTransaction(uint32_t si) noexcept {
  Session& s = sessions_[si];
  Stream& t = s.strm;
  if (t.phase == Phase::kService) [[unlikely]] return EndService(si);
  if (t.phase != Phase::kEstablished || t.to_cli.bytes || t.res.state != MsgState::kDone) return;
  if (t.req.state != MsgState::kDone) {
    // The server answered before the request was all sent: neither side is in step.
    t.cli_keep_alive = t.srv_reusable = false;
  }
  t.log_bytes += t.res.body == http::Body::kChunked ? t.res.chunks.data_bytes() + 1 : t.res.moved;
  t.body_counted = true;
  if (cfg_->frontends[s.frontend].log == LogMode::kSession) Log(s, false);
  if (t.srv != kNoConn) {
    const int32_t pool_max = cfg_->servers[t.server].pool_max;  // pool-max-conn
    if (t.srv_reusable && !t.own_sni && !t.srv_eof && !t.srv_shut && t.res_in.bytes == 0 &&
        (pool_max < 0 || conns_->pool().idle(t.server) < static_cast<uint32_t>(pool_max))) {
      const ConnId c = t.srv;
      t.srv = kNoConn;
      conns_->Park(c, t.server, cfg_->servers[t.server].pool_purge_us);
    } else {
      conns_->CloseDetached(&t.srv);
    }
  }
  FinishStream(s);
  ReleaseServer(si);
  const bool again = t.cli_keep_alive && s.cli != kNoConn && !s.cli_eof && !s.cli_shut;
  t = Stream{};
  t.http = true;
  if (!again) return CloseAfterSend(si);
  NextStream(si);  // the next stream of the session, in place (HAProxy's keep-alive)
}

void Proxy::CloseAfterSend(uint32_t si) noexcept {
  Session& s = sessions_[si];
  s.strm.phase = Phase::kClosing;
  if (s.cli != kNoConn) {
    conns_->Consumed(s.cli, s.req_in.bytes);
    if (!s.cli_shut) {
      s.cli_shut = true;
      conns_->Shutdown(s.cli);
    }
  }
  s.req_in.Clear();
  if (s.cli == kNoConn) return MaybeFinish(si);
  ArmSessionTimer(si);
}

void Proxy::SendToClient(const Session& s, std::string_view bytes) noexcept {
  if (s.cli == kNoConn || bytes.empty()) return;
  rte_mbuf* m = CopyToMbufs(reinterpret_cast<const uint8_t*>(bytes.data()),
                            static_cast<uint32_t>(bytes.size()));
  // Nothing else is queued for the client on this stream: the send queue takes it.
  while (m) {
    rte_mbuf* next = m->next;
    m->next = nullptr;
    if (!conns_->Send(s.cli, m)) {
      rte_pktmbuf_free(m);
      if (next) rte_pktmbuf_free(next);
      break;
    }
    m = next;
  }
}

void Proxy::HttpReply(uint32_t si, uint16_t code, char cause, char phase) noexcept {
  const std::string_view reply = ReplyFor(sessions_[si], code);
  HttpReplyText(si, code, reply, {}, cause, phase);
}

void Proxy::HttpReplyText(uint32_t si, uint16_t code, std::string_view head, std::string_view body,
                          char cause, char phase) noexcept {
  Session& s = sessions_[si];
  Stream& t = s.strm;
  if (t.term.cause == '-') t.term = TermState{cause, phase};
  t.status = code;
  Unqueue(si);
  conns_->AbortDetached(&t.srv);
  SendToClient(s, head);
  SendToClient(s, body);
  CountStatus(s);
  if (cfg_->frontends[s.frontend].log == LogMode::kSession) {
    t.log_bytes = body.empty() ? (http::IsRawReply(code) ? 0 : ReplyStoredSize(code))
                               : head.size() + body.size();
    Log(s, false);
  }
  // After an answer to a whole request, the client may go on (HAProxy keeps it for 502,
  // 503, 504); after a raw error, or with a request half read, it is closed.
  const bool again = !http::IsRawReply(code) && t.req.state == MsgState::kDone &&
                     t.cli_keep_alive && s.cli != kNoConn && !s.cli_eof && !s.cli_shut;
  FinishStream(s);
  ReleaseServer(si);
  t = Stream{};
  t.http = true;
  if (!again) return CloseAfterSend(si);
  NextStream(si);
}

void Proxy::NextStream(uint32_t si) noexcept {
  Session& s = sessions_[si];
  Stream& t = s.strm;
  if (s.req_in.bytes) t.first_byte_us = tcp_->now_us();
  t.phase = Phase::kRequest;
  t.req_an = kHttpModeAnalyzers;
  t.req_start_us = tcp_->now_us();
  ++s.nstreams;
  ArmSessionTimer(si);
  if (s.req_in.bytes) RunRequestAnalyzers(si);  // a pipelined request is there already
}

}  // namespace sluice::proxy
