// HTTP/1.1 message framing (RFC 9112), hand-written for the worker (docs/decisions/0010):
//
//  - HeadScanner finds where a message head ends, a byte at a time if need be, across the
//    segments it arrives in; it keeps one byte of state and a count, so a head may be split
//    anywhere. The head's bytes stay in their mbufs until the end is found.
//  - ParseHead reads a whole head, copied into the worker's one scratch buffer (bounded by
//    `tune.bufsize` less `tune.maxrewrite`), into a MessageHead: the start line, an index of
//    the header fields and what the framing rules decide (body length, chunked, close,
//    keep-alive, upgrade). It enforces the rules where request smuggling lives and says
//    where the first error is (`show errors`).
//  - ChunkedScanner walks a chunked body as it passes, without copying it: it only needs to
//    know where the message ends.
//
// Nothing here allocates, throws or knows about connections: the proxy (dataplane/proxy)
// feeds it bytes and acts on what it says.
#pragma once

#include <cstdint>
#include <string_view>

namespace sluice::http {

// Header fields per message: HAProxy 2.6 takes 100 (`tune.http.maxhdr` 101 counts the
// start line); one more is a 400 or a 502. `tune.http.maxhdr` changes it, up to
// kMaxHeadersCap (the size of MessageHead::fields).
inline constexpr uint32_t kMaxHeaders = 100;
inline constexpr uint32_t kMaxHeadersCap = 1024;
// HAProxy's bound on a head as it stores it (HTX: bufsize 16384 - maxrewrite 1024 - 48),
// with HtxSize's count; above it a request is a 400 and a response a 502.
inline constexpr uint32_t kMaxHtxHead = 15312;
inline constexpr uint32_t kHtxOverhead = 48;
// The largest head read by default (`tune.bufsize` 16384 less `tune.maxrewrite` 1024,
// HAProxy's defaults). `tune.bufsize` changes it up to kMaxHeadBytesCap: offsets in a head
// fit 16 bits.
inline constexpr uint32_t kMaxHeadBytes = 16384 - 1024;
inline constexpr uint32_t kMaxHeadBytesCap = 65535;

// Finds the end of a head: the empty line after the start line and the header fields
// (RFC 9112 section 2.1), with bare LF accepted as a line end as HAProxy does. Empty lines
// before a request line are skipped (RFC 9112 section 2.2) and counted in the head.
class HeadScanner {
 public:
  // Scans `n` bytes that follow those already scanned. Returns how many of them belong to
  // the head: all `n` while the end is not there, else up to and including the final LF
  // (then done() is true). Past `limit` bytes in all without an end, overflow() is true.
  uint32_t Scan(const uint8_t* p, uint32_t n, uint32_t limit = kMaxHeadBytes) noexcept;
  bool done() const noexcept { return state_ == kDone; }
  bool overflow() const noexcept { return state_ == kOverflow; }
  uint32_t bytes() const noexcept { return bytes_; }  // scanned so far (the head's, when done)
  // Where the first line (after leading empty lines) ends, past its LF; 0 until it does.
  uint32_t first_line() const noexcept { return first_line_; }
  // The head ends at `n` (an HTTP/0.9 request is its request line alone).
  void EndAt(uint32_t n) noexcept {
    state_ = kDone;
    bytes_ = n;
  }
  void Reset() noexcept { *this = HeadScanner{}; }

 private:
  enum State : uint8_t { kLead, kLine, kBol, kBolCr, kDone, kOverflow };
  State state_ = kLead;
  uint32_t bytes_ = 0;
  uint32_t first_line_ = 0;
};

// True when the first bytes of a request already cannot start one: a byte that is neither a
// method character nor a blank before the method ends (a TLS ClientHello, binary noise).
// HAProxy answers those at once instead of waiting for a line end.
// Returns the offset of that byte, or -1.
int32_t BadRequestStart(const uint8_t* p, uint32_t n) noexcept;
// True when the request line p[0, n) (with its line end) has no version: HTTP/0.9.
bool IsHttp09Line(const uint8_t* p, uint32_t n) noexcept;

// A piece of the head: offset and length in the head's bytes.
struct Span {
  uint16_t off = 0, len = 0;
  std::string_view In(const uint8_t* head) const noexcept {
    return {reinterpret_cast<const char*>(head) + off, len};
  }
};

struct HeaderField {
  Span name, value;  // value without its leading and trailing blanks
  Span line;         // the whole field line with its line end
  bool folded = false;  // obs-fold: the value spans lines; its CR and LF are written as SP
  bool dup = false;     // a repeat that says nothing new (equal Host or Content-Length): dropped
};

enum class Method : uint8_t { kOther, kGet, kHead, kPost, kPut, kDelete, kOptions, kConnect };

// How the message's body is delimited (RFC 9112 section 6.3).
enum class Body : uint8_t {
  kNone,        // no body: a request without CL/TE, HEAD answers, 1xx, 204, 304
  kLength,      // Content-Length bytes
  kChunked,     // chunked transfer coding
  kUntilClose,  // a response read until the server closes
};

// Why a head was refused (the error's cause in `show errors` and the tests).
enum class HeadError : uint8_t {
  kNone,
  kStartLine,         // method, target, version or status line malformed
  kVersion,           // not HTTP/x.y, or HTTP/0.x
  kFieldName,         // empty or invalid character in a field name, or blank before ':'
  kFieldValue,        // CR, LF or NUL inside a value
  kNoColon,           // a field line without ':'
  kObsFold,           // a continuation line before any field
  kTooManyFields,     // more than ParseOptions::max_fields (kMaxHeaders)
  kContentLength,     // malformed or conflicting Content-Length
  kTransferEncoding,  // TE without chunked last (request), chunked twice, empty
  kTeUnsupported,     // codings before chunked (gzip, chunked): HAProxy's 422
  kUpgrade,           // a WebSocket upgrade without Sec-WebSocket-Key
  kHost,              // two different Host fields, or one not matching an absolute target
  kTooLarge,          // over ParseOptions::max_bytes or max_htx
  kBareCr,            // CR not followed by LF
};

struct ParseOptions {
  bool request = true;
  // option accept-invalid-http-request / -response: invalid characters in names and
  // targets are let through (never a framing error).
  bool accept_invalid = false;
  // For a response: the request's method (HEAD answers have no body, CONNECT 2xx tunnels).
  Method request_method = Method::kGet;
  // The bounds (`tune.bufsize`, `tune.maxrewrite`, `tune.http.maxhdr`): the head's bytes
  // (at most kMaxHeadBytesCap), its size as HAProxy stores it, its fields (at most
  // kMaxHeadersCap).
  uint32_t max_bytes = kMaxHeadBytes;
  uint32_t max_htx = kMaxHtxHead;
  uint32_t max_fields = kMaxHeaders;
};

struct MessageHead {
  // Start line.
  Span method, target, version;  // request
  Span reason;                   // response
  uint16_t status = 0;           // response
  Method meth = Method::kOther;
  uint8_t minor = 1;  // HTTP/1.minor as it will be written: 0 or 1 (2.0 and 1.2 are 1.1)
  bool version_text = false;  // accept-invalid: the version is written as received
  bool http09 = false;        // a request line without a version
  // Fields.
  uint16_t nfields = 0;
  HeaderField fields[kMaxHeadersCap];
  // Framing and connection management (RFC 9112 sections 6 and 9).
  Body body = Body::kNone;
  uint64_t content_length = 0;
  int16_t cl_field = -1;         // the Content-Length field kept (-1: none)
  bool te_chunked = false;       // Transfer-Encoding present (chunked last)
  bool cl_dropped = false;       // CL given with TE: removed, close after (RFC 9112 6.3)
  bool conn_close = false;       // Connection: close
  bool conn_keep_alive = false;  // Connection: keep-alive
  bool conn_upgrade = false;     // Connection: upgrade with an Upgrade field
  bool expect_continue = false;  // Expect: 100-continue (request)
  Span upgrade_token;            // the Connection field's "upgrade" token, as written
  int16_t host_field = -1;
  // The first error: what and where (offset in the head).
  HeadError error = HeadError::kNone;
  uint16_t error_at = 0;
  uint16_t head_len = 0;

  // Everything but the field array (the fields up to nfields are the valid ones).
  void Reset() noexcept;
  // The index of the first field named `name` (case-insensitive) from `from`, or -1.
  int Find(const uint8_t* head, std::string_view name, int from = 0) const noexcept;
  // Keep-alive after this message as RFC 9112 section 9.3 says for its version.
  bool KeepAlive() const noexcept {
    if (conn_close || cl_dropped) return false;
    return minor >= 1 || conn_keep_alive;
  }
};

// Parses the whole head `p[0, n)` (as HeadScanner delimited it). False on an error
// (head->error and head->error_at say which and where).
bool ParseHead(const uint8_t* p, uint32_t n, const ParseOptions& opt, MessageHead* head) noexcept;

// The status an invalid request gets (400, or 422 for kTeUnsupported).
inline uint16_t RequestErrorStatus(HeadError e) noexcept {
  return e == HeadError::kTeUnsupported ? 422 : 400;
}

// Walks a chunked body (RFC 9112 section 7.1): chunk-size [ext] CRLF data CRLF ... 0 CRLF
// trailers CRLF. Bare LF ends a line as in HAProxy.
class ChunkedScanner {
 public:
  // Scans `n` bytes of the body; returns how many belong to it (fewer than `n` only when it
  // ends inside them: done()). error() on a malformed chunk line.
  uint32_t Scan(const uint8_t* p, uint32_t n) noexcept;
  bool done() const noexcept { return state_ == kDone; }
  bool error() const noexcept { return state_ == kError; }
  void Reset() noexcept { *this = ChunkedScanner{}; }
  uint64_t data_bytes() const noexcept { return data_; }  // chunk data seen (the log's %B)
  // Lines must end with CRLF (a bare LF is an error): for requests, whose chunk framing
  // sluice passes on as received, so that no server reads it differently (docs/http.md).
  void RequireCrlf() noexcept { crlf_ = true; }

 private:
  enum State : uint8_t {
    kSize,        // hex digits of the size
    kSizeBlank,   // blanks after the size
    kExt,         // ;ext
    kSizeCr,      // CR seen after the size line
    kData,        // `left_` bytes of data
    kDataCr,      // CR expected after data
    kDataLf,      // LF expected after data's CR
    kTrailerBol,   // start of a trailer line (or the final empty line)
    kTrailerName,  // a trailer field's name (tchar), up to ':'
    kTrailer,      // a trailer field's value
    kTrailerLf,    // LF expected after a trailer line's CR
    kTrailerCr,   // CR at the start of the final line
    kDone,
    kError,
  };
  State state_ = kSize;
  uint8_t digits_ = 0;
  uint64_t left_ = 0;
  uint64_t data_ = 0;
  bool crlf_ = false;
};

// The head's size as HAProxy stores it (HTX), which is what its bounds apply to: measured on
// HAProxy 2.6 (tests/integration/data/h1_haproxy_notes.md, section a).
uint32_t HtxSize(const MessageHead& h) noexcept;

// Decodes the chunked body b[0, n) in place (RFC 9112 section 7.1, a bare LF ending a line as
// in HAProxy), for what reads a body whole (a check's answer, `req.body`): the data's first
// `*out` bytes are at b; `*done` once the last chunk and its trailers are in. False on a
// malformed chunk.
bool DecodeChunked(uint8_t* b, uint32_t n, uint32_t* out, bool* done) noexcept;

// A case-insensitive comparison of ASCII tokens.
bool EqualsNoCase(std::string_view a, std::string_view b) noexcept;

// The next cookie of a Cookie field's value (';'-separated "name=value" pairs; a Set-Cookie
// field's cookie is its first pair, its attributes follow): `rest` is advanced past it,
// `name` and `value` are without the blanks around them. Pairs without '=' are skipped, as
// HAProxy skips them. False when none is left.
bool NextCookie(std::string_view* rest, std::string_view* name, std::string_view* value) noexcept;

}  // namespace sluice::http
