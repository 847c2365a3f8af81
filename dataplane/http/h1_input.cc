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
    while (a < b && IsBlank(static_cast<uint8_t>(v[a]))) ++a;
    while (b > a && IsBlank(static_cast<uint8_t>(v[b - 1]))) --b;
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

// "HTTP/1.x" at p[i..]: x in *minor. RFC 9112 section 2.3: HTTP-name "/" DIGIT "." DIGIT.
bool Version(const uint8_t* p, uint32_t i, uint32_t end, uint8_t* minor) noexcept {
  if (end - i != 8 || std::memcmp(p + i, "HTTP/", 5) != 0) return false;
  if (p[i + 5] != '1' || p[i + 6] != '.' || p[i + 7] < '0' || p[i + 7] > '9') return false;
  *minor = static_cast<uint8_t>(p[i + 7] - '0');
  return true;
}

bool RequestLine(const uint8_t* p, uint32_t start, uint32_t end, const ParseOptions& opt,
                 MessageHead* h) noexcept {
  // method SP request-target SP HTTP-version (RFC 9112 section 3).
  uint32_t i = start;
  while (i < end && kChars.tchar[p[i]]) ++i;
  if (i == start || i == end || p[i] != ' ') return Fail(h, HeadError::kStartLine, i);
  h->method = Span{static_cast<uint16_t>(start), static_cast<uint16_t>(i - start)};
  h->meth = MethodOf(h->method.In(p));
  const uint32_t t = ++i;
  while (i < end && p[i] != ' ') {
    if (!kChars.target[p[i]] && !(opt.accept_invalid && p[i] >= 0x80)) {
      return Fail(h, HeadError::kStartLine, i);
    }
    ++i;
  }
  if (i == t) return Fail(h, HeadError::kStartLine, i);
  h->target = Span{static_cast<uint16_t>(t), static_cast<uint16_t>(i - t)};
  // No version: an HTTP/0.9 request, which HTTP/1.1 servers refuse.
  if (i == end) return Fail(h, HeadError::kVersion, i);
  ++i;
  if (!Version(p, i, end, &h->minor)) return Fail(h, HeadError::kVersion, i);
  h->version = Span{static_cast<uint16_t>(i), 8};
  return true;
}

bool StatusLine(const uint8_t* p, uint32_t start, uint32_t end, MessageHead* h) noexcept {
  // HTTP-version SP status-code SP [reason-phrase] (RFC 9112 section 4); a missing SP after
  // the code is tolerated as the RFC recommends.
  if (end - start < 12 || !Version(p, start, start + 8, &h->minor)) {
    return Fail(h, HeadError::kStartLine, start);
  }
  h->version = Span{static_cast<uint16_t>(start), 8};
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

// One field line p[start, lf] (RFC 9112 section 5): field-name ":" OWS field-value OWS.
bool FieldLine(const uint8_t* p, uint32_t start, uint32_t lf, const ParseOptions& opt,
               MessageHead* h) noexcept {
  const uint32_t end = ContentEnd(p, start, lf);
  if (IsBlank(p[start])) return Fail(h, HeadError::kObsFold, start);  // section 5.2
  uint32_t i = start;
  while (i < end && p[i] != ':') {
    // No whitespace between name and colon (section 5.1): a 400, whatever the options.
    if (IsBlank(p[i])) return Fail(h, HeadError::kFieldName, i);
    if (!kChars.tchar[p[i]] && !(opt.accept_invalid && p[i] > 0x20 && p[i] != 0x7f)) {
      return Fail(h, HeadError::kFieldName, i);
    }
    ++i;
  }
  if (i == end) return Fail(h, HeadError::kNoColon, i);
  if (i == start) return Fail(h, HeadError::kFieldName, i);
  if (h->nfields == kMaxHeaders) return Fail(h, HeadError::kTooManyFields, start);
  HeaderField& f = h->fields[h->nfields++];
  f.name = Span{static_cast<uint16_t>(start), static_cast<uint16_t>(i - start)};
  f.line = Span{static_cast<uint16_t>(start), static_cast<uint16_t>(lf + 1 - start)};
  uint32_t v = i + 1;
  while (v < end && IsBlank(p[v])) ++v;
  uint32_t e = end;
  while (e > v && IsBlank(p[e - 1])) --e;
  // CR, LF and NUL are never part of a value (RFC 9110 section 5.5).
  for (uint32_t k = v; k < e; ++k) {
    if (p[k] == '\r' || p[k] == 0) return Fail(h, HeadError::kFieldValue, k);
  }
  f.value = Span{static_cast<uint16_t>(v), static_cast<uint16_t>(e - v)};
  return true;
}

// Content-Length (RFC 9110 section 8.6, RFC 9112 section 6.3 rule 5): 1*DIGIT; a list of
// equal values or several equal fields count as one; anything else is an error.
bool ContentLength(std::string_view v, MessageHead* h, bool* seen) noexcept {
  return ForEachElement(v, [&](std::string_view e) {
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
}

}  // namespace

bool EqualsNoCase(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
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
  method = target = version = reason = Span{};
  status = 0;
  meth = Method::kOther;
  minor = 1;
  nfields = 0;
  body = Body::kNone;
  content_length = 0;
  cl_field = host_field = -1;
  te_chunked = cl_dropped = conn_close = conn_keep_alive = conn_upgrade = false;
  expect_continue = false;
  error = HeadError::kNone;
  error_at = head_len = 0;
}

bool ParseHead(const uint8_t* p, uint32_t n, const ParseOptions& opt, MessageHead* h) noexcept {
  h->Reset();
  h->head_len = static_cast<uint16_t>(n);
  if (n > kMaxHeadBytes) return Fail(h, HeadError::kStartLine, 0);
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
  // Field lines up to the empty line.
  i = lf + 1;
  for (;;) {
    if (i >= n) return Fail(h, HeadError::kStartLine, n);
    lf = LineEnd(p, i, n);
    if (lf == n) return Fail(h, HeadError::kStartLine, n);
    if (ContentEnd(p, i, lf) == i) break;  // the empty line
    if (!FieldLine(p, i, lf, opt, h)) return false;
    i = lf + 1;
  }
  // What the fields say about framing and the connection.
  bool cl_seen = false, te_seen = false, host_seen = false;
  for (uint16_t k = 0; k < h->nfields; ++k) {
    const HeaderField& f = h->fields[k];
    const std::string_view name = f.name.In(p);
    const std::string_view value = f.value.In(p);
    switch (name.size()) {
      case 4:
        if (EqualsNoCase(name, "host")) {
          if (host_seen) return Fail(h, HeadError::kHost, f.name.off);
          host_seen = true;
          h->host_field = static_cast<int16_t>(k);
        }
        break;
      case 6:
        if (EqualsNoCase(name, "expect")) {
          h->expect_continue = EqualsNoCase(value, "100-continue");
        }
        break;
      case 10:
        if (EqualsNoCase(name, "connection")) {
          ForEachElement(value, [&](std::string_view t) {
            if (EqualsNoCase(t, "close")) h->conn_close = true;
            if (EqualsNoCase(t, "keep-alive")) h->conn_keep_alive = true;
            if (EqualsNoCase(t, "upgrade")) h->conn_upgrade = true;
            return true;
          });
        }
        break;
      case 14:
        if (EqualsNoCase(name, "content-length")) {
          if (!ContentLength(value, h, &cl_seen)) {
            return Fail(h, HeadError::kContentLength, f.value.off);
          }
          if (h->cl_field < 0) h->cl_field = static_cast<int16_t>(k);
        }
        break;
      case 17:
        if (EqualsNoCase(name, "transfer-encoding")) {
          // Codings are listed in order of application: chunked must come last, once
          // (RFC 9112 section 6.1).
          bool ok = true;
          ForEachElement(value, [&](std::string_view t) {
            if (h->te_chunked) ok = false;  // something after chunked
            if (EqualsNoCase(t, "chunked")) h->te_chunked = true;
            return ok;
          });
          te_seen = true;
          if (!ok) return Fail(h, HeadError::kTransferEncoding, f.value.off);
        }
        break;
      default:
        break;
    }
  }
  if (h->conn_upgrade && h->Find(p, "upgrade") < 0) h->conn_upgrade = false;
  if (opt.request) {
    // A request: TE only with chunked last, and not from an HTTP/1.0 client (section 6.1);
    // TE overrides CL, which is removed and the connection closed after (section 6.3).
    if (te_seen) {
      if (!h->te_chunked || h->minor == 0) {
        return Fail(h, HeadError::kTransferEncoding,
                    h->fields[h->Find(p, "transfer-encoding")].value.off);
      }
      h->body = Body::kChunked;
      if (cl_seen) h->cl_dropped = true;
    } else if (cl_seen && h->content_length > 0) {
      h->body = Body::kLength;
    }
    if (h->minor >= 1 && !host_seen) {
      return Fail(h, HeadError::kHost, h->version.off);  // RFC 9112 section 3.2
    }
    return true;
  }
  // A response (section 6.3): HEAD answers, 1xx, 204 and 304 have no body; then TE, then CL,
  // else the body runs to the close.
  const uint16_t s = h->status;
  if (opt.request_method == Method::kHead || s < 200 || s == 204 || s == 304) {
    h->body = Body::kNone;
  } else if (te_seen) {
    h->body = h->te_chunked ? Body::kChunked : Body::kUntilClose;
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
        } else if (c == '\n') {
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
        } else if (c == '\n') {
          state_ = left_ ? kData : kTrailerBol;
        } else if (!IsBlank(c)) {
          state_ = kError;
          return i;
        }
        break;
      case kExt:  // chunk extensions are passed on unread; control characters are not
        if (c == '\r') {
          state_ = kSizeCr;
        } else if (c == '\n') {
          state_ = left_ ? kData : kTrailerBol;
        } else if ((c < 0x20 && c != '\t') || c == 0x7f) {
          state_ = kError;
          return i;
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
        } else if (c == '\n') {
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
      case kTrailerBol:
        state_ = c == '\r' ? kTrailerCr : c == '\n' ? kDone : kTrailer;
        if (state_ == kDone) return i + 1;
        break;
      case kTrailer:
        if (c == '\n') state_ = kTrailerBol;
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

}  // namespace sluice::http
