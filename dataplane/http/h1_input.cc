// HTTP/1.1 framing on the worker's fast path: head scanning, head parsing, chunked bodies
// (h1.h). Every rule cites RFC 9112 (or HAProxy's documented behaviour where it is stricter
// or looser) and is pinned by tests/unit/h1_test.cc.
#include "dataplane/http/h1.h"

#include <cstring>

namespace sluice::http {
namespace {

// tchar (RFC 9110 section 5.6.2): the characters of a token, so of a method and a field name.
struct CharTable {
  bool tchar[256] = {};
  bool target[256] = {};  // request-target characters HAProxy lets through without
                          // `accept-invalid-http-request`: visible ASCII
  constexpr CharTable() {
    for (int c = '0'; c <= '9'; ++c) tchar[c] = true;
    for (int c = 'a'; c <= 'z'; ++c) tchar[c] = true;
    for (int c = 'A'; c <= 'Z'; ++c) tchar[c] = true;
    for (const char c : std::string_view("!#$%&'*+-.^_`|~")) tchar[static_cast<uint8_t>(c)] = true;
    for (int c = 0x21; c < 0x7f; ++c) target[c] = true;
  }
};
constexpr CharTable kChars;

char Lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

bool IsBlank(uint8_t c) noexcept { return c == ' ' || c == '\t'; }

// Blanks around list elements and values; a folded value's CR and LF count as blanks too,
// since they are written as spaces.
bool IsOws(uint8_t c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool Fail(MessageHead* h, HeadError e, uint32_t at) noexcept {
  if (h->error == HeadError::kNone) {
    h->error = e;
    h->error_at = static_cast<uint16_t>(at);
  }
  return false;
}

// Each comma-separated element of a list value (RFC 9110 section 5.6.1), blanks trimmed;
// empty elements are skipped. `f` returns false to stop.
template <class F>
bool ForEachElement(std::string_view v, F&& f) noexcept {
  size_t i = 0;
  while (i <= v.size()) {
    size_t j = v.find(',', i);
    if (j == std::string_view::npos) j = v.size();
    size_t a = i, b = j;
    while (a < b && IsOws(static_cast<uint8_t>(v[a]))) ++a;
    while (b > a && IsOws(static_cast<uint8_t>(v[b - 1]))) --b;
    if (b > a && !f(v.substr(a, b - a))) return false;
    i = j + 1;
  }
  return true;
}

Method MethodOf(std::string_view m) noexcept {
  switch (m.size()) {
    case 3:
      if (m == "GET") return Method::kGet;
      if (m == "PUT") return Method::kPut;
      break;
    case 4:
      if (m == "HEAD") return Method::kHead;
      if (m == "POST") return Method::kPost;
      break;
    case 6:
      if (m == "DELETE") return Method::kDelete;
      break;
    case 7:
      if (m == "OPTIONS") return Method::kOptions;
      if (m == "CONNECT") return Method::kConnect;
      break;
    default:
      break;
  }
  return Method::kOther;
}

// Where the line starting at `i` ends: the index of its LF, or `n`.
uint32_t LineEnd(const uint8_t* p, uint32_t i, uint32_t n) noexcept {
  const void* lf = std::memchr(p + i, '\n', n - i);
  return lf ? static_cast<uint32_t>(static_cast<const uint8_t*>(lf) - p) : n;
}

// The end of a line's content: before the CR of a CRLF.
uint32_t ContentEnd(const uint8_t* p, uint32_t start, uint32_t lf) noexcept {
  return (lf > start && p[lf - 1] == '\r') ? lf - 1 : lf;
}

// "HTTP/x.y" at p[i, end) (RFC 9112 section 2.3: HTTP-name "/" DIGIT "." DIGIT). HAProxy
// takes any 1.x or later and writes what is not 1.0 as 1.1; 0.x is refused.
bool Version(const uint8_t* p, uint32_t i, uint32_t end, uint8_t* minor) noexcept {
  if (end - i != 8 || std::memcmp(p + i, "HTTP/", 5) != 0) return false;
  const uint8_t major = p[i + 5], dot = p[i + 6], low = p[i + 7];
  if (major < '1' || major > '9' || dot != '.' || low < '0' || low > '9') return false;
  *minor = (major == '1' && low == '0') ? 0 : 1;
  return true;
}

bool Blank(uint8_t c) noexcept { return c == ' ' || c == '\t'; }

bool RequestLine(const uint8_t* p, uint32_t start, uint32_t end, const ParseOptions& opt,
                 MessageHead* h) noexcept {
  // method SP request-target SP HTTP-version (RFC 9112 section 3); like HAProxy, runs of
  // blanks separate the parts and the line is written back with single spaces.
  uint32_t i = start;
  while (i < end && kChars.tchar[p[i]]) ++i;
  if (i == start || i == end || !Blank(p[i])) return Fail(h, HeadError::kStartLine, i);
  h->method = Span{static_cast<uint16_t>(start), static_cast<uint16_t>(i - start)};
  h->meth = MethodOf(h->method.In(p));
  while (i < end && Blank(p[i])) ++i;
  const uint32_t t = i;
  while (i < end && !Blank(p[i])) {
    // Visible ASCII and DEL; never a fragment (RFC 9112 section 3.2). Other bytes only with
    // accept-invalid-http-request, and never a control character.
    const uint8_t c = p[i];
    const bool ok = (c >= 0x21 && c <= 0x7f && c != '#') ||
                    (opt.accept_invalid && (c >= 0x80 || c == '#'));
    if (!ok) return Fail(h, HeadError::kStartLine, i);
    ++i;
  }
  if (i == t) return Fail(h, HeadError::kStartLine, i);
  h->target = Span{static_cast<uint16_t>(t), static_cast<uint16_t>(i - t)};
  // The forms of RFC 9112 section 3.2: origin ("/..."), absolute ("scheme://..."),
  // authority (CONNECT) and asterisk.
  const std::string_view target = h->target.In(p);
  if (target[0] != '/' && target != "*" && target.find("://") == std::string_view::npos &&
      h->meth != Method::kConnect && !opt.accept_invalid) {
    return Fail(h, HeadError::kStartLine, t);
  }
  while (i < end && Blank(p[i])) ++i;
  if (i == end) {
    // No version: an HTTP/0.9 request, refused unless accept-invalid (then HTTP/1.0).
    if (!opt.accept_invalid) return Fail(h, HeadError::kVersion, i);
    h->minor = 0;
    h->http09 = true;
    return true;
  }
  if (Version(p, i, end, &h->minor)) {
    h->version = Span{static_cast<uint16_t>(i), 8};
    return true;
  }
  if (!opt.accept_invalid) return Fail(h, HeadError::kVersion, i);
  for (uint32_t k = i; k < end; ++k) {
    if (Blank(p[k])) return Fail(h, HeadError::kVersion, k);
  }
  // accept-invalid: an unknown version is passed on as written and treated as HTTP/1.0.
  h->version = Span{static_cast<uint16_t>(i), static_cast<uint16_t>(end - i)};
  h->version_text = true;
  h->minor = 0;
  return true;
}

bool StatusLine(const uint8_t* p, uint32_t start, uint32_t end, MessageHead* h) noexcept {
  // HTTP-version SP status-code SP [reason-phrase] (RFC 9112 section 4); a missing SP after
  // the code is tolerated as the RFC recommends. The version is written back as received.
  uint8_t minor = 1;
  if (end - start < 12 || !Version(p, start, start + 8, &minor)) {
    return Fail(h, HeadError::kStartLine, start);
  }
  h->minor = minor;
  h->version = Span{static_cast<uint16_t>(start), 8};
  h->version_text = true;
  uint32_t i = start + 8;
  if (p[i] != ' ') return Fail(h, HeadError::kStartLine, i);
  ++i;
  unsigned code = 0;
  for (uint32_t k = 0; k < 3; ++k, ++i) {
    if (p[i] < '0' || p[i] > '9') return Fail(h, HeadError::kStartLine, i);
    code = code * 10 + (p[i] - '0');
  }
  if (code < 100) return Fail(h, HeadError::kStartLine, i - 3);
  h->status = static_cast<uint16_t>(code);
  if (i < end && p[i] != ' ') return Fail(h, HeadError::kStartLine, i);
  if (i < end) ++i;
  for (uint32_t k = i; k < end; ++k) {
    if (p[k] == '\r' || p[k] == 0) return Fail(h, HeadError::kStartLine, k);
  }
  h->reason = Span{static_cast<uint16_t>(i), static_cast<uint16_t>(end - i)};
  return true;
}

// One field line p[start, lf] (RFC 9112 section 5): field-name ":" OWS field-value OWS,
// continued over the following lines that start with a blank (obs-fold, section 5.2, which
// HAProxy joins with spaces). `*next` receives where the next line starts.
bool FieldLine(const uint8_t* p, uint32_t start, uint32_t lf, uint32_t n,
               const ParseOptions& opt, MessageHead* h, uint32_t* next) noexcept {
  bool folded = false;
  while (lf + 1 < n && Blank(p[lf + 1])) {  // a continuation line follows
    const uint32_t more = LineEnd(p, lf + 1, n);
    if (more == n) break;
    lf = more;
    folded = true;
  }
  *next = lf + 1;
  const uint32_t end = ContentEnd(p, start, lf);
  uint32_t i = start;
  while (i < end && p[i] != ':') {
    // No whitespace in or after the name (section 5.1) and tchar only, unless
    // accept-invalid-http-request, which passes any name on as written.
    if (!kChars.tchar[p[i]] && !opt.accept_invalid) return Fail(h, HeadError::kFieldName, i);
    ++i;
  }
  if (i == end) return Fail(h, HeadError::kNoColon, i);
  if (i == start) return Fail(h, HeadError::kFieldName, i);
  if (h->nfields >= opt.max_fields || h->nfields == kMaxHeadersCap) {
    return Fail(h, HeadError::kTooManyFields, start);
  }
  HeaderField& f = h->fields[h->nfields++];
  f.name = Span{static_cast<uint16_t>(start), static_cast<uint16_t>(i - start)};
  f.line = Span{static_cast<uint16_t>(start), static_cast<uint16_t>(lf + 1 - start)};
  f.folded = folded;
  f.dup = false;
  uint32_t v = i + 1;
  while (v < end && (folded ? IsOws(p[v]) : IsBlank(p[v]))) ++v;
  uint32_t e = end;
  while (e > v && (folded ? IsOws(p[e - 1]) : IsBlank(p[e - 1]))) --e;
  // A CR that does not end a line is never part of a value (RFC 9112 section 2.2); other
  // control characters are passed on, as HAProxy does.
  for (uint32_t k = v; k < e; ++k) {
    if (p[k] == '\r' && !(folded && k + 1 < e && p[k + 1] == '\n')) {
      return Fail(h, HeadError::kFieldValue, k);
    }
  }
  f.value = Span{static_cast<uint16_t>(v), static_cast<uint16_t>(e - v)};
  return true;
}

// Content-Length (RFC 9110 section 8.6, RFC 9112 section 6.3 rule 5): 1*DIGIT; a list of
// equal values or several equal fields count as one; anything else is an error.
bool ContentLength(std::string_view v, MessageHead* h, bool* seen) noexcept {
  bool any = false;  // an empty value is no length
  const bool ok = ForEachElement(v, [&](std::string_view e) {
    any = true;
    uint64_t n = 0;
    for (const char c : e) {
      if (c < '0' || c > '9' || n > (UINT64_MAX - 9) / 10) return false;
      n = n * 10 + static_cast<uint64_t>(c - '0');
    }
    if (*seen && n != h->content_length) return false;
    *seen = true;
    h->content_length = n;
    return true;
  });
  return ok && any;
}

}  // namespace

int32_t BadRequestStart(const uint8_t* p, uint32_t n) noexcept {
  uint32_t i = 0;
  while (i < n && (p[i] == '\r' || p[i] == '\n')) ++i;
  for (; i < n; ++i) {
    if (IsBlank(p[i])) return -1;  // the method ended: the line parser decides
    if (!kChars.tchar[p[i]]) return static_cast<int32_t>(i);
  }
  return -1;
}

bool IsHttp09Line(const uint8_t* p, uint32_t n) noexcept {
  uint32_t tokens = 0;
  bool in = false;
  uint32_t i = 0;
  while (i < n && (p[i] == '\r' || p[i] == '\n')) ++i;  // empty lines before it
  for (; i < n && p[i] != '\r' && p[i] != '\n'; ++i) {
    if (IsBlank(p[i])) {
      in = false;
    } else if (!in) {
      in = true;
      ++tokens;
    }
  }
  return tokens == 2;
}

bool EqualsNoCase(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

bool NextCookie(std::string_view* rest, std::string_view* name, std::string_view* value) noexcept {
  auto trim = [](std::string_view v) {
    while (!v.empty() && IsBlank(static_cast<uint8_t>(v.front()))) v.remove_prefix(1);
    while (!v.empty() && IsBlank(static_cast<uint8_t>(v.back()))) v.remove_suffix(1);
    return v;
  };
  while (!rest->empty()) {
    const size_t end = rest->find(';');
    const std::string_view pair = rest->substr(0, end);
    *rest = end == std::string_view::npos ? std::string_view() : rest->substr(end + 1);
    const size_t eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    *name = trim(pair.substr(0, eq));
    *value = trim(pair.substr(eq + 1));
    return true;
  }
  return false;
}

int MessageHead::Find(const uint8_t* head, std::string_view name, int from) const noexcept {
  for (int i = from; i < nfields; ++i) {
    if (EqualsNoCase(fields[i].name.In(head), name)) return i;
  }
  return -1;
}

uint32_t HeadScanner::Scan(const uint8_t* p, uint32_t n, uint32_t limit) noexcept {
  uint32_t i = 0;
  while (i < n && state_ < kDone) {
    const uint8_t c = p[i];
    switch (state_) {
      case kLead:  // empty lines before the start line (RFC 9112 section 2.2)
        if (c != '\r' && c != '\n') state_ = kLine;
        break;
      case kLine: {
        const void* lf = std::memchr(p + i, '\n', n - i);
        if (!lf) {
          i = n;
          continue;
        }
        i = static_cast<uint32_t>(static_cast<const uint8_t*>(lf) - p);
        if (first_line_ == 0) first_line_ = bytes_ + i + 1;
        state_ = kBol;
        break;
      }
      case kBol:
        state_ = c == '\n' ? kDone : c == '\r' ? kBolCr : kLine;
        break;
      case kBolCr:
        state_ = c == '\n' ? kDone : kLine;
        break;
      case kDone:
      case kOverflow:
        break;
    }
    ++i;
  }
  bytes_ += i;
  if (bytes_ > limit) state_ = kOverflow;
  return i;
}

void MessageHead::Reset() noexcept {
  method = target = version = reason = upgrade_token = Span{};
  status = 0;
  meth = Method::kOther;
  minor = 1;
  version_text = http09 = false;
  nfields = 0;
  body = Body::kNone;
  content_length = 0;
  cl_field = host_field = -1;
  te_chunked = cl_dropped = conn_close = conn_keep_alive = conn_upgrade = false;
  expect_continue = false;
  error = HeadError::kNone;
  error_at = head_len = 0;
}

uint32_t HtxSize(const MessageHead& h) noexcept {
  uint32_t size = 20 + h.method.len + h.target.len + h.version.len + h.reason.len + 1 +
                  8 * (h.nfields + 2u);
  for (uint16_t i = 0; i < h.nfields; ++i) size += h.fields[i].name.len + h.fields[i].value.len;
  return size;
}

namespace {

// The authority of an absolute-form target ("http://host[:port]/..."), or empty.
std::string_view Authority(std::string_view target) noexcept {
  const size_t scheme = target.find("://");
  if (scheme == std::string_view::npos) return {};
  const std::string_view rest = target.substr(scheme + 3);
  return rest.substr(0, rest.find_first_of("/?"));
}

}  // namespace

bool ParseHead(const uint8_t* p, uint32_t n, const ParseOptions& opt, MessageHead* h) noexcept {
  h->Reset();
  h->head_len = static_cast<uint16_t>(n);
  if (n > opt.max_bytes || n > kMaxHeadBytesCap) return Fail(h, HeadError::kTooLarge, 0);
  uint32_t i = 0;
  while (i < n && (p[i] == '\r' || p[i] == '\n')) ++i;  // RFC 9112 section 2.2
  if (i == n) return Fail(h, HeadError::kStartLine, i);
  // Start line.
  uint32_t lf = LineEnd(p, i, n);
  if (lf == n) return Fail(h, HeadError::kStartLine, n);
  uint32_t end = ContentEnd(p, i, lf);
  for (uint32_t k = i; k < end; ++k) {  // a bare CR is an error (section 2.2)
    if (p[k] == '\r') return Fail(h, HeadError::kBareCr, k);
  }
  if (opt.request ? !RequestLine(p, i, end, opt, h) : !StatusLine(p, i, end, h)) return false;
  if (h->http09 && lf + 1 == n) return true;  // the request line is the whole request
  // Field lines up to the empty line. A continuation line before any field is an error
  // (HAProxy lets it through with accept-invalid, as a field whose name starts blank).
  i = lf + 1;
  for (;;) {
    if (i >= n) return Fail(h, HeadError::kStartLine, n);
    lf = LineEnd(p, i, n);
    if (lf == n) return Fail(h, HeadError::kStartLine, n);
    if (ContentEnd(p, i, lf) == i) break;  // the empty line
    if (h->nfields == 0 && IsBlank(p[i]) && !opt.accept_invalid) {
      return Fail(h, HeadError::kObsFold, i);
    }
    uint32_t next = 0;
    if (!FieldLine(p, i, lf, n, opt, h, &next)) return false;
    i = next;
  }
  if (HtxSize(*h) > opt.max_htx) return Fail(h, HeadError::kTooLarge, 0);
  // What the fields say about framing and the connection.
  bool cl_seen = false, te_seen = false, te_other = false, ws_key = false, ws_upgrade = false;
  for (uint16_t k = 0; k < h->nfields; ++k) {
    HeaderField& f = h->fields[k];
    const std::string_view name = f.name.In(p);
    const std::string_view value = f.value.In(p);
    switch (name.size()) {
      case 4:
        if (EqualsNoCase(name, "host")) {
          // Equal Host fields are one; different ones are an error (RFC 9112 3.2).
          if (h->host_field >= 0) {
            if (h->fields[h->host_field].value.In(p) != value) {
              return Fail(h, HeadError::kHost, f.name.off);
            }
            f.dup = true;
          } else {
            h->host_field = static_cast<int16_t>(k);
          }
        }
        break;
      case 6:
        if (EqualsNoCase(name, "expect")) {
          h->expect_continue = EqualsNoCase(value, "100-continue");
        }
        break;
      case 7:
        if (EqualsNoCase(name, "upgrade")) {
          ws_upgrade = ws_upgrade || EqualsNoCase(value, "websocket");
        }
        break;
      case 10:
        if (EqualsNoCase(name, "connection")) {
          ForEachElement(value, [&](std::string_view t) {
            if (EqualsNoCase(t, "close")) h->conn_close = true;
            if (EqualsNoCase(t, "keep-alive")) h->conn_keep_alive = true;
            if (EqualsNoCase(t, "upgrade")) {
              h->conn_upgrade = true;
              h->upgrade_token =
                  Span{static_cast<uint16_t>(t.data() - reinterpret_cast<const char*>(p)),
                       static_cast<uint16_t>(t.size())};
            }
            return true;
          });
        }
        break;
      case 14:
        if (EqualsNoCase(name, "content-length")) {
          if (!ContentLength(value, h, &cl_seen)) {
            return Fail(h, HeadError::kContentLength, f.value.off);
          }
          if (h->cl_field < 0) {
            h->cl_field = static_cast<int16_t>(k);
          } else {
            f.dup = true;
          }
        }
        break;
      case 17:
        if (EqualsNoCase(name, "transfer-encoding")) {
          // Codings in order of application: chunked last and once (RFC 9112 section 6.1).
          bool ok = true;
          ForEachElement(value, [&](std::string_view t) {
            if (h->te_chunked) ok = false;  // something after chunked
            if (EqualsNoCase(t, "chunked")) {
              h->te_chunked = true;
            } else {
              te_other = true;
            }
            return ok;
          });
          if (!ok) return Fail(h, HeadError::kTransferEncoding, f.value.off);
          te_seen = true;
        } else if (EqualsNoCase(name, "sec-websocket-key")) {
          ws_key = true;
        }
        break;
      default:
        break;
    }
  }
  if (h->conn_upgrade && h->Find(p, "upgrade") < 0) h->conn_upgrade = false;
  if (te_seen && !h->te_chunked && opt.request) {
    // No chunked at all (gzip, identity, empty): the body cannot be delimited.
    return Fail(h, HeadError::kTransferEncoding, 0);
  }
  if (opt.request) {
    // A request: codings other than chunked are refused with HAProxy's 422; TE overrides
    // CL, which is removed and the connection closed after (section 6.3).
    if (te_seen) {
      if (te_other) return Fail(h, HeadError::kTeUnsupported, 0);
      h->body = Body::kChunked;
      if (cl_seen) h->cl_dropped = true;
    } else if (cl_seen && h->content_length > 0) {
      h->body = Body::kLength;
    }
    // An absolute-form target names the host: a Host field must agree (section 3.2.2).
    const std::string_view authority = Authority(h->target.In(p));
    if (!authority.empty() && h->host_field >= 0 && !opt.accept_invalid &&
        !EqualsNoCase(authority, h->fields[h->host_field].value.In(p))) {
      return Fail(h, HeadError::kHost, h->target.off);
    }
    // A WebSocket handshake without its key (RFC 6455 section 4.1).
    if (h->conn_upgrade && ws_upgrade && !ws_key) return Fail(h, HeadError::kUpgrade, 0);
    return true;
  }
  // A response (section 6.3): HEAD answers, 1xx, 204 and 304 have no body; then TE (whose
  // last coding must be chunked: HAProxy answers 502 otherwise), then CL, else the body
  // runs to the close.
  const uint16_t s = h->status;
  if (te_seen && !h->te_chunked) return Fail(h, HeadError::kTransferEncoding, 0);
  if (opt.request_method == Method::kHead || s < 200 || s == 204 || s == 304) {
    h->body = Body::kNone;
  } else if (te_seen) {
    h->body = Body::kChunked;
    if (cl_seen) h->cl_dropped = true;
  } else if (cl_seen) {
    h->body = h->content_length ? Body::kLength : Body::kNone;
  } else {
    h->body = Body::kUntilClose;
  }
  return true;
}

uint32_t ChunkedScanner::Scan(const uint8_t* p, uint32_t n) noexcept {
  uint32_t i = 0;
  while (i < n) {
    const uint8_t c = p[i];
    switch (state_) {
      case kData: {
        const uint64_t take = left_ < n - i ? left_ : n - i;
        left_ -= take;
        data_ += take;
        i += static_cast<uint32_t>(take);
        if (left_ == 0) state_ = kDataCr;
        continue;
      }
      case kSize: {
        const int v = c >= '0' && c <= '9'   ? c - '0'
                      : c >= 'a' && c <= 'f' ? c - 'a' + 10
                      : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                             : -1;
        if (v >= 0) {
          if (++digits_ > 15) {  // 2^60 bytes: a size no one sends
            state_ = kError;
            return i;
          }
          left_ = left_ * 16 + static_cast<uint64_t>(v);
          break;
        }
        if (digits_ == 0) {
          state_ = kError;
          return i;
        }
        if (IsBlank(c)) {
          state_ = kSizeBlank;
        } else if (c == ';') {
          state_ = kExt;
        } else if (c == '\r') {
          state_ = kSizeCr;
        } else if (c == '\n' && !crlf_) {
          state_ = left_ ? kData : kTrailerBol;
        } else {
          state_ = kError;
          return i;
        }
        break;
      }
      case kSizeBlank:
        if (c == ';') {
          state_ = kExt;
        } else if (c == '\r') {
          state_ = kSizeCr;
        } else if (c == '\n' && !crlf_) {
          state_ = left_ ? kData : kTrailerBol;
        } else if (!IsBlank(c)) {
          state_ = kError;
          return i;
        }
        break;
      case kExt:  // chunk extensions are passed on unread (HAProxy takes any byte but LF)
        if (c == '\r') {
          state_ = kSizeCr;
        } else if (c == '\n') {
          if (crlf_) {
            state_ = kError;
            return i;
          }
          state_ = left_ ? kData : kTrailerBol;
        }
        break;
      case kSizeCr:
        if (c != '\n') {
          state_ = kError;
          return i;
        }
        state_ = left_ ? kData : kTrailerBol;
        break;
      case kDataCr:
        if (c == '\r') {
          state_ = kDataLf;
        } else if (c == '\n' && !crlf_) {
          state_ = kSize;
          digits_ = 0;
        } else {
          state_ = kError;
          return i;
        }
        break;
      case kDataLf:
        if (c != '\n') {
          state_ = kError;
          return i;
        }
        state_ = kSize;
        digits_ = 0;
        break;
      case kTrailerBol:  // the final line, or a trailer field (RFC 9112 section 7.1.2)
        if (c == '\r') {
          state_ = kTrailerCr;
        } else if (c == '\n' && !crlf_) {
          state_ = kDone;
          return i + 1;
        } else if (kChars.tchar[c]) {
          state_ = kTrailerName;
        } else {
          state_ = kError;
          return i;
        }
        break;
      case kTrailerName:
        if (c == ':') {
          state_ = kTrailer;
        } else if (!kChars.tchar[c]) {
          state_ = kError;
          return i;
        }
        break;
      case kTrailer:
        if (c == '\r') {
          state_ = kTrailerLf;
        } else if (c == '\n') {
          if (crlf_) {
            state_ = kError;
            return i;
          }
          state_ = kTrailerBol;
        }
        break;
      case kTrailerLf:
        if (c != '\n') {
          state_ = kError;
          return i;
        }
        state_ = kTrailerBol;
        break;
      case kTrailerCr:
        if (c != '\n') {
          state_ = kError;
          return i;
        }
        state_ = kDone;
        return i + 1;
      case kDone:
      case kError:
        return i;
    }
    ++i;
  }
  return i;
}

namespace {

int ChunkHexValue(uint8_t c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool DecodeChunked(uint8_t* b, uint32_t n, uint32_t* out, bool* done) noexcept {
  uint32_t r = 0, w = 0;
  *done = false;
  *out = 0;
  for (;;) {
    uint64_t size = 0;
    uint32_t digits = 0;
    for (int v; r < n && (v = ChunkHexValue(b[r])) >= 0; ++r) {
      if (++digits > 8) return false;  // more than 4 GiB: not a check's answer
      size = size * 16 + static_cast<uint64_t>(v);
    }
    if (r == n) break;  // the size line is not all in
    if (digits == 0) return false;
    while (r < n && b[r] != '\n') ++r;  // extensions, up to the line's end
    if (r == n) break;
    ++r;
    if (size == 0) {  // the last chunk: trailer lines up to an empty one
      for (;;) {
        const uint32_t start = r;
        while (r < n && b[r] != '\n') ++r;
        if (r == n) break;
        const uint32_t line = r++ - start;
        if (line == 0 || (line == 1 && b[start] == '\r')) {
          *done = true;
          break;
        }
      }
      break;
    }
    const auto take = static_cast<uint32_t>(std::min<uint64_t>(size, n - r));
    std::memmove(b + w, b + r, take);
    w += take;
    r += take;
    if (take < size) break;
    if (r < n && b[r] == '\r') ++r;  // the data's line end
    if (r == n) break;
    if (b[r] != '\n') return false;
    ++r;
  }
  *out = w;
  return true;
}

}  // namespace sluice::http
