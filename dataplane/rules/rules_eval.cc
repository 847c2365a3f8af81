// Evaluating sample expressions, ACLs and conditions on the worker (dataplane/rules/expr.h):
// the fetches, the casts and the converters of HAProxy 2.6 (doc/configuration.txt 7.3). What
// a converter writes goes to the evaluation's Arena; nothing allocates.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <cstdio>

#include "dataplane/rules/expr.h"

namespace sluice::rules {
namespace {

char Lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }
char Upper(char c) noexcept { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; }

std::string_view Sv(const uint8_t* head, http::Span s) noexcept { return s.In(head); }

// ---- text of numbers and addresses ----

uint32_t WriteInt(int64_t v, char* out) noexcept {
  char buf[24];
  uint32_t n = 0;
  uint64_t u = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  do {
    buf[n++] = static_cast<char>('0' + u % 10);
    u /= 10;
  } while (u);
  uint32_t k = 0;
  if (v < 0) out[k++] = '-';
  while (n) out[k++] = buf[--n];
  return k;
}

uint32_t WriteIpv4(const uint8_t* a, char* out) noexcept {
  uint32_t k = 0;
  for (int i = 0; i < 4; ++i) {
    if (i) out[k++] = '.';
    k += WriteInt(a[i], out + k);
  }
  return k;
}

// RFC 5952: lower-case hex, the longest run of two or more zero groups as "::".
uint32_t WriteIpv6(const uint8_t* a, char* out) noexcept {
  uint16_t g[8];
  for (int i = 0; i < 8; ++i) g[i] = static_cast<uint16_t>(a[2 * i] << 8 | a[2 * i + 1]);
  int best = -1, best_len = 0;
  for (int i = 0; i < 8;) {
    if (g[i]) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && !g[j]) ++j;
    if (j - i > best_len && j - i >= 2) {
      best = i;
      best_len = j - i;
    }
    i = j;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  uint32_t k = 0;
  for (int i = 0; i < 8; ++i) {
    if (i == best) {
      out[k++] = ':';
      out[k++] = ':';
      i += best_len - 1;
      continue;
    }
    if (i && i != best + best_len) out[k++] = ':';
    bool started = false;
    for (int sh = 12; sh >= 0; sh -= 4) {
      const int d = g[i] >> sh & 0xf;
      if (d || started || sh == 0) {
        out[k++] = kHex[d];
        started = true;
      }
    }
  }
  return k;
}

bool ParseIpv4(std::string_view s, uint8_t* out) noexcept {
  int part = 0;
  uint32_t v = 0;
  bool digit = false;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == '.') {
      if (!digit || v > 255 || part > 3) return false;
      out[part++] = static_cast<uint8_t>(v);
      v = 0;
      digit = false;
      continue;
    }
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + static_cast<uint32_t>(s[i] - '0');
    digit = true;
    if (v > 255) return false;
  }
  return part == 4;
}

int HexDigit(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool ParseIpv6(std::string_view s, uint8_t* out) noexcept {
  uint16_t g[8] = {};
  int n = 0, gap = -1;
  size_t i = 0;
  if (s.size() >= 2 && s[0] == ':' && s[1] == ':') {
    gap = 0;
    i = 2;
  } else if (!s.empty() && s[0] == ':') {
    return false;
  }
  while (i < s.size()) {
    if (n >= 8) return false;
    // An IPv4 tail.
    const size_t end = s.find(':', i);
    const std::string_view tok = s.substr(i, end == std::string_view::npos ? s.npos : end - i);
    if (tok.find('.') != std::string_view::npos) {
      uint8_t v4[4];
      if (end != std::string_view::npos || n > 6 || !ParseIpv4(tok, v4)) return false;
      g[n++] = static_cast<uint16_t>(v4[0] << 8 | v4[1]);
      g[n++] = static_cast<uint16_t>(v4[2] << 8 | v4[3]);
      i = s.size();
      break;
    }
    if (tok.empty() || tok.size() > 4) return false;
    uint32_t v = 0;
    for (const char c : tok) {
      const int d = HexDigit(c);
      if (d < 0) return false;
      v = v << 4 | static_cast<uint32_t>(d);
    }
    g[n++] = static_cast<uint16_t>(v);
    if (end == std::string_view::npos) {
      i = s.size();
      break;
    }
    i = end + 1;
    if (i < s.size() && s[i] == ':') {
      if (gap >= 0) return false;
      gap = n;
      ++i;
    } else if (i == s.size()) {
      return false;
    }
  }
  if (gap < 0 && n != 8) return false;
  if (gap >= 0 && n > 7) return false;
  uint16_t full[8] = {};
  if (gap >= 0) {
    for (int k = 0; k < gap; ++k) full[k] = g[k];
    const int tail = n - gap;
    for (int k = 0; k < tail; ++k) full[8 - tail + k] = g[gap + k];
  } else {
    for (int k = 0; k < 8; ++k) full[k] = g[k];
  }
  for (int k = 0; k < 8; ++k) {
    out[2 * k] = static_cast<uint8_t>(full[k] >> 8);
    out[2 * k + 1] = static_cast<uint8_t>(full[k]);
  }
  return true;
}

// HAProxy's string to integer cast: optional blanks and sign, then digits; trailing bytes
// are ignored; no digit is a failure.
bool ParseInt(std::string_view s, int64_t* out) noexcept {
  size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  bool neg = false;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) neg = s[i++] == '-';
  int64_t v = 0;  // HAProxy: text without digits is 0
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
    if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, s[i] - '0', &v)) {
      v = INT64_MAX;  // saturated, as HAProxy's read_int64()
    }
    ++i;
  }
  *out = neg ? -v : v;
  return true;
}

// ---- HTTP pieces ----

// The target's path start and end (an absolute URI's scheme and authority skipped).
std::string_view TargetPath(std::string_view t) noexcept {
  if (!t.empty() && t[0] != '/' && t[0] != '*') {
    const size_t scheme = t.find("://");
    if (scheme != std::string_view::npos) {
      const size_t slash = t.find('/', scheme + 3);
      if (slash == std::string_view::npos) return {};
      t = t.substr(slash);
    }
  }
  return t;
}

std::string_view Host(const Ctx& c) noexcept {
  const int i = c.req->Find(c.req_head, "host");
  return i < 0 ? std::string_view() : Sv(c.req_head, c.req->fields[i].value);
}

// The `n`-th comma-separated value (0-based) of the occurrences of header `name`, walking
// from a cursor: *field and *off are where the next value starts. Returns false at the end.
bool NextValue(const uint8_t* head, const http::MessageHead& h, std::string_view name, bool full,
               int* field, size_t* off, std::string_view* out) noexcept {
  while (*field < h.nfields) {
    const http::HeaderField& f = h.fields[*field];
    if (!http::EqualsNoCase(Sv(head, f.name), name)) {
      ++*field;
      *off = 0;
      continue;
    }
    const std::string_view v = Sv(head, f.value);
    if (full) {
      *out = v;
      ++*field;
      *off = 0;
      return true;
    }
    if (*off > v.size()) {
      ++*field;
      *off = 0;
      continue;
    }
    size_t end = v.find(',', *off);
    if (end == std::string_view::npos) end = v.size();
    std::string_view part = v.substr(*off, end - *off);
    while (!part.empty() && (part.front() == ' ' || part.front() == '\t')) part.remove_prefix(1);
    while (!part.empty() && (part.back() == ' ' || part.back() == '\t')) part.remove_suffix(1);
    if (end >= v.size()) {
      ++*field;
      *off = 0;
    } else {
      *off = end + 1;
    }
    *out = part;
    return true;
  }
  return false;
}

// hdr(name[,occ]) and its relatives: with a cursor, one occurrence per call; else the
// occurrence `occ` (1-based; negative from the end; 0 or absent: the last).
bool HeaderFetch(const uint8_t* head, const http::MessageHead* h, const Arg* a, bool full,
                 Sample* out, uint32_t* cursor) noexcept {
  if (!h) return false;
  const std::string_view name = a[0].s;
  if (cursor) {  // every occurrence in turn (ACLs)
    int field = static_cast<int>(*cursor >> 16);
    size_t off = *cursor & 0xffff;
    std::string_view v;
    if (!NextValue(head, *h, name, full, &field, &off, &v)) return false;
    *cursor = static_cast<uint32_t>(field) << 16 | static_cast<uint32_t>(off);
    *out = Sample::Str(v);  // another may follow: the caller asks until none does
    return true;
  }
  const int64_t occ = a[1].set ? a[1].i : 0;
  int field = 0;
  size_t off = 0;
  std::string_view v, last;
  int64_t count = 0;
  // Count first for a negative occurrence.
  while (NextValue(head, *h, name, full, &field, &off, &v)) {
    ++count;
    last = v;
    if (occ > 0 && count == occ) {
      *out = Sample::Str(v);
      return true;
    }
  }
  if (count == 0 || occ > 0) return false;
  if (occ == 0 || occ == -1) {
    *out = Sample::Str(last);
    return true;
  }
  const int64_t want = count + occ + 1;  // -2: the one before the last
  if (want < 1) return false;
  field = 0;
  off = 0;
  for (int64_t k = 1; NextValue(head, *h, name, full, &field, &off, &v); ++k) {
    if (k == want) {
      *out = Sample::Str(v);
      return true;
    }
  }
  return false;
}

uint32_t HeaderCount(const uint8_t* head, const http::MessageHead* h, std::string_view name,
                     bool full) noexcept {
  int field = 0;
  size_t off = 0;
  std::string_view v;
  uint32_t n = 0;
  while (NextValue(head, *h, name, full, &field, &off, &v)) ++n;
  return n;
}

// The value of cookie `name` in the Cookie (request) or Set-Cookie (response) fields: the
// last one (HAProxy's sample), or with a cursor each in turn.
bool CookieFetch(const uint8_t* head, const http::MessageHead* h, std::string_view hdr,
                 std::string_view name, Sample* out, int64_t* count) noexcept {
  if (!h) return false;
  bool found = false;
  int64_t n = 0;
  for (int i = 0; i < h->nfields; ++i) {
    const http::HeaderField& f = h->fields[i];
    if (!http::EqualsNoCase(Sv(head, f.name), hdr)) continue;
    std::string_view v = Sv(head, f.value);
    while (!v.empty()) {
      size_t end = v.find(';');
      std::string_view kv = v.substr(0, end);
      v = end == std::string_view::npos ? std::string_view() : v.substr(end + 1);
      while (!kv.empty() && (kv.front() == ' ' || kv.front() == '\t')) kv.remove_prefix(1);
      const size_t eq = kv.find('=');
      if (eq == std::string_view::npos) continue;
      std::string_view k = kv.substr(0, eq), val = kv.substr(eq + 1);
      while (!k.empty() && (k.back() == ' ' || k.back() == '\t')) k.remove_suffix(1);
      while (!val.empty() && (val.back() == ' ' || val.back() == '\t')) val.remove_suffix(1);
      if (!name.empty() && k != name) continue;
      ++n;
      if (!found || !name.empty()) *out = Sample::Str(val);
      found = true;
      if (name.empty()) break;         // no name: the first cookie
      if (hdr == "set-cookie") break;  // a Set-Cookie field carries one cookie
    }
  }
  if (count) *count = n;
  return found;
}

bool UrlParam(std::string_view target, std::string_view name, char delim, Sample* out) noexcept {
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return false;
  std::string_view rest = target.substr(q + 1);
  const size_t hash = rest.find('#');
  if (hash != std::string_view::npos) rest = rest.substr(0, hash);
  while (!rest.empty()) {
    size_t end = rest.find(delim);
    if (delim == '&') {
      const size_t semi = rest.find(';');
      if (semi < end) end = semi;
    }
    const std::string_view kv = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    const size_t eq = kv.find('=');
    if (eq == std::string_view::npos) continue;  // HAProxy: a name without '=' is no param
    if (kv.substr(0, eq) == name) {
      *out = Sample::Str(kv.substr(eq + 1));
      return true;
    }
  }
  return false;
}

std::string_view MethodText(const Ctx& c) noexcept { return Sv(c.req_head, c.req->method); }

bool StrSample(Ctx& c, std::string_view a, std::string_view b, Sample* out) noexcept {
  char* p = c.arena->Take(static_cast<uint32_t>(a.size() + b.size()));
  if (!p) return false;
  if (!a.empty()) std::memcpy(p, a.data(), a.size());
  if (!b.empty()) std::memcpy(p + a.size(), b.data(), b.size());
  *out = Sample::Str({p, a.size() + b.size()});
  return true;
}

bool DoFetch(const Expr& e, Ctx& c, Sample* out, uint32_t* cursor) noexcept {
  const bool http = c.req != nullptr;
  switch (e.fetch) {
    case Fetch::kSrc:
      if (!c.src) return false;
      *out = Sample::Ip(c.src, c.v6);
      return true;
    case Fetch::kDst:
      if (!c.dst) return false;
      *out = Sample::Ip(c.dst, c.v6);
      return true;
    case Fetch::kSrcPort:
      *out = Sample::Int(c.src_port);
      return c.src != nullptr;
    case Fetch::kDstPort:
      *out = Sample::Int(c.dst_port);
      return c.dst != nullptr;
    case Fetch::kSoId:
    case Fetch::kFeId:
      if (c.frontend == UINT32_MAX) return false;
      *out = Sample::Int(c.frontend + 1);
      return true;
    case Fetch::kBeId:
      if (c.backend == UINT32_MAX) return false;
      *out = Sample::Int(c.backend + 1);
      return true;
    case Fetch::kFeName:
      if (c.frontend >= c.rules->fe_names.size()) return false;
      *out = Sample::Str(c.rules->fe_names[c.frontend]);
      return true;
    case Fetch::kBeName:
      if (c.backend >= c.rules->be_names.size()) return false;
      *out = Sample::Str(c.rules->be_names[c.backend]);
      return true;
    case Fetch::kSrvName:
      if (c.server >= c.rules->srv_names.size()) return false;
      *out = Sample::Str(c.rules->srv_names[c.server]);
      return true;
    case Fetch::kNbsrv: {
      const uint32_t b = e.a[0].set ? static_cast<uint32_t>(e.a[0].i) : c.backend;
      if (b == UINT32_MAX || !c.env) return false;
      *out = Sample::Int(c.env->UsableServers(b));
      return true;
    }
    case Fetch::kBeConn: {
      const uint32_t b = e.a[0].set ? static_cast<uint32_t>(e.a[0].i) : c.backend;
      if (b == UINT32_MAX || !c.env) return false;
      *out = Sample::Int(static_cast<int64_t>(c.env->BackendConns(b)));
      return true;
    }
    case Fetch::kFeConn: {
      const uint32_t f = e.a[0].set ? static_cast<uint32_t>(e.a[0].i) : c.frontend;
      if (f == UINT32_MAX || !c.env) return false;
      *out = Sample::Int(static_cast<int64_t>(c.env->FrontendConns(f)));
      return true;
    }
    case Fetch::kConnslots: {
      const uint32_t b = e.a[0].set ? static_cast<uint32_t>(e.a[0].i) : c.backend;
      if (b == UINT32_MAX || !c.env) return false;
      *out = Sample::Int(c.env->ConnSlots(b));
      return true;
    }
    case Fetch::kAlwaysTrue:
      *out = Sample::Bool(true);
      return true;
    case Fetch::kAlwaysFalse:
      *out = Sample::Bool(false);
      return true;
    case Fetch::kBool:
      *out = Sample::Bool(e.a[0].i != 0);
      return true;
    case Fetch::kInt:
      *out = Sample::Int(e.a[0].i);
      return true;
    case Fetch::kStr:
      *out = Sample::Str(e.a[0].s);
      return true;
    case Fetch::kIpv4:
    case Fetch::kIpv6: {
      const bool v6 = e.fetch == Fetch::kIpv6;
      uint8_t a[16] = {};
      std::memcpy(a, e.a[0].s.data(), v6 ? 16 : 4);  // parsed by the compiler
      *out = Sample::Ip(a, v6);
      return true;
    }
    case Fetch::kVar: {
      const Sample* v = c.vars ? c.vars->Get(e.a[0].var) : nullptr;
      if (!v) return false;
      *out = *v;
      return true;
    }
    case Fetch::kSslFc:
      *out = Sample::Bool(false);
      return true;
    case Fetch::kSslFcSni:
      return false;
    case Fetch::kProtoHttp:
      *out = Sample::Bool(http);
      return true;
    default:
      break;
  }
  if (e.fetch >= Fetch::kStatus && e.fetch <= Fetch::kResVer) {
    if (!c.res) return false;
    switch (e.fetch) {
      case Fetch::kStatus:
        *out = Sample::Int(c.res->status);
        return true;
      case Fetch::kResHdr:
        return HeaderFetch(c.res_head, c.res, e.a, false, out, cursor);
      case Fetch::kResHdrCnt:
        *out = Sample::Int(HeaderCount(c.res_head, c.res, e.a[0].s, false));
        return true;
      case Fetch::kResCook:
        return CookieFetch(c.res_head, c.res, "set-cookie", e.a[0].s, out, nullptr);
      case Fetch::kResVer:
        *out = Sample::Str(c.res->minor ? "1.1" : "1.0");
        return true;
      default:
        return false;
    }
  }
  if (!http) return false;
  const std::string_view target = Sv(c.req_head, c.req->target);
  switch (e.fetch) {
    case Fetch::kMethod:
      *out = Sample::Str(MethodText(c));
      return true;
    case Fetch::kPath: {
      std::string_view p = TargetPath(target);
      const size_t q = p.find('?');
      if (q != std::string_view::npos) p = p.substr(0, q);
      if (p.empty()) return false;
      *out = Sample::Str(p);
      return true;
    }
    case Fetch::kPathq: {
      const std::string_view p = TargetPath(target);
      if (p.empty()) return false;
      *out = Sample::Str(p);
      return true;
    }
    case Fetch::kUrl:
      *out = Sample::Str(target);
      return true;
    case Fetch::kQuery: {
      const size_t q = target.find('?');
      if (q == std::string_view::npos) return false;
      *out = Sample::Str(target.substr(q + 1));
      return true;
    }
    case Fetch::kUrlParam:
      return UrlParam(target, e.a[0].s, e.a[1].set ? e.a[1].s[0] : '&', out);
    case Fetch::kBase: {
      const std::string_view host = Host(c);
      std::string_view p = TargetPath(target);
      const size_t q = p.find('?');
      if (q != std::string_view::npos) p = p.substr(0, q);
      return StrSample(c, host, p, out);
    }
    case Fetch::kHdr:
      return HeaderFetch(c.req_head, c.req, e.a, false, out, cursor);
    case Fetch::kFhdr:
      return HeaderFetch(c.req_head, c.req, e.a, true, out, cursor);
    case Fetch::kHdrCnt:
      *out = Sample::Int(HeaderCount(c.req_head, c.req, e.a[0].s, false));
      return true;
    case Fetch::kFhdrCnt:
      *out = Sample::Int(HeaderCount(c.req_head, c.req, e.a[0].s, true));
      return true;
    case Fetch::kHdrVal: {
      Sample s;
      if (!HeaderFetch(c.req_head, c.req, e.a, false, &s, cursor)) return false;
      int64_t v = 0;
      if (!ParseInt(s.str, &v)) return false;
      *out = Sample::Int(v);
      return true;
    }
    case Fetch::kCook:
      return CookieFetch(c.req_head, c.req, "cookie", e.a[0].s, out, nullptr);
    case Fetch::kCookCnt: {
      Sample s;
      int64_t n = 0;
      CookieFetch(c.req_head, c.req, "cookie", e.a[0].s, &s, &n);
      *out = Sample::Int(n);
      return true;
    }
    case Fetch::kBodyLen:
      // The body is not waited for (no option http-buffer-request): what came with the head.
      *out = Sample::Int(0);
      return true;
    case Fetch::kReqLen:
      *out = Sample::Int(c.req->head_len);
      return true;
    case Fetch::kReqVer:
      *out = Sample::Str(c.req->minor ? "1.1" : "1.0");
      return true;
    default:
      return false;
  }
}

// ---- converters ----

bool ArgInt(const Arg& a, Ctx& c, int64_t* v) noexcept {
  if (!a.is_var) {
    *v = a.i;
    return true;
  }
  const Sample* s = c.vars ? c.vars->Get(a.var) : nullptr;
  if (!s) return false;
  Sample t = *s;
  if (!Cast(t, SmpType::kSint, c)) return false;
  *v = t.sint;
  return true;
}

bool Arith(const Step& st, Sample& s, Ctx& c) noexcept {
  if (!Cast(s, SmpType::kSint, c)) return false;
  int64_t v = 0;
  if (st.conv != Conv::kNeg && !ArgInt(st.a[0], c, &v)) return false;
  const int64_t x = s.sint;
  switch (st.conv) {
    // HAProxy saturates at the integer's bounds.
    case Conv::kAdd:
      if (__builtin_add_overflow(x, v, &s.sint)) s.sint = v > 0 ? INT64_MAX : INT64_MIN;
      break;
    case Conv::kSub:
      if (__builtin_sub_overflow(x, v, &s.sint)) s.sint = v < 0 ? INT64_MAX : INT64_MIN;
      break;
    case Conv::kMul:
      if (__builtin_mul_overflow(x, v, &s.sint))
        s.sint = (x < 0) != (v < 0) ? INT64_MIN : INT64_MAX;
      break;
    // HAProxy: a division by zero gives the largest integer of the sign, a modulo 0 gives 0.
    case Conv::kDiv:
      if (v == 0) {
        s.sint = x >= 0 ? INT64_MAX : INT64_MIN;
      } else if (!(x == INT64_MIN && v == -1)) {
        s.sint = x / v;
      }
      break;
    case Conv::kMod:
      s.sint = v == 0 || (x == INT64_MIN && v == -1) ? 0 : x % v;
      break;
    case Conv::kAnd:
      s.sint = x & v;
      break;
    case Conv::kOr:
      s.sint = x | v;
      break;
    case Conv::kXor:
      s.sint = x ^ v;
      break;
    case Conv::kNeg:
      s.sint = static_cast<int64_t>(0 - static_cast<uint64_t>(x));
      break;
    default:
      return false;
  }
  return true;
}

// word / field: `idx` 1-based, negative from the end; `count` pieces with their delimiters.
bool Split(const Step& st, Sample& s, Ctx& c, bool words) noexcept {
  if (!Cast(s, SmpType::kStr, c)) return false;
  const int64_t idx = st.a[0].i;
  const std::string_view delims = st.a[1].s;
  const int64_t count = st.a[2].set ? st.a[2].i : 1;
  const std::string_view v = s.str;
  auto is_delim = [&](char ch) { return delims.find(ch) != std::string_view::npos; };
  // The pieces' starts and ends, at most 1024 of them.
  constexpr uint32_t kMaxPieces = 1024;
  uint32_t starts[kMaxPieces], ends[kMaxPieces], n = 0;
  size_t i = 0;
  while (i <= v.size() && n < kMaxPieces) {
    if (words) {
      while (i < v.size() && is_delim(v[i])) ++i;
      if (i >= v.size()) break;
    }
    const size_t b = i;
    while (i < v.size() && !is_delim(v[i])) ++i;
    starts[n] = static_cast<uint32_t>(b);
    ends[n++] = static_cast<uint32_t>(i);
    ++i;
  }
  if (idx == 0) return false;
  if (n == 0) {
    s.str = {};
    return true;
  }
  int64_t first = idx > 0 ? idx - 1 : static_cast<int64_t>(n) + idx - (count > 0 ? count - 1 : 0);
  if (idx < 0 && count == 0) first = 0;
  if (first < 0 || first >= static_cast<int64_t>(n)) {
    s.str = {};  // HAProxy: an empty sample
    return true;
  }
  int64_t last = count == 0
                     ? (idx > 0 ? static_cast<int64_t>(n) - 1 : static_cast<int64_t>(n) + idx)
                     : first + count - 1;
  if (last >= static_cast<int64_t>(n)) last = static_cast<int64_t>(n) - 1;
  s.str = v.substr(starts[first], ends[last] - starts[first]);
  return true;
}

bool Encode(const Step& st, Sample& s, Ctx& c) noexcept {
  if (s.type == SmpType::kSint && (st.conv == Conv::kHex || st.conv == Conv::kBase64)) {
    char* b = c.arena->Take(8);  // an integer's binary form: 8 bytes, big-endian (HAProxy)
    if (!b) return false;
    for (int i = 0; i < 8; ++i)
      b[i] = static_cast<char>(static_cast<uint64_t>(s.sint) >> (56 - 8 * i));
    s = Sample::Str({b, 8});
  }
  if (!Cast(s, SmpType::kStr, c)) return false;
  const std::string_view v = s.str;
  if (st.conv == Conv::kHex) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    char* p = c.arena->Take(static_cast<uint32_t>(v.size() * 2));
    if (!p) return false;
    for (size_t i = 0; i < v.size(); ++i) {
      p[2 * i] = kHex[static_cast<uint8_t>(v[i]) >> 4];
      p[2 * i + 1] = kHex[static_cast<uint8_t>(v[i]) & 15];
    }
    s.str = {p, v.size() * 2};
    return true;
  }
  if (st.conv == Conv::kBase64) {
    static constexpr char kB64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const size_t n = (v.size() + 2) / 3 * 4;
    char* p = c.arena->Take(static_cast<uint32_t>(n));
    if (!p) return false;
    size_t k = 0;
    for (size_t i = 0; i < v.size(); i += 3) {
      const uint32_t b0 = static_cast<uint8_t>(v[i]);
      const uint32_t b1 = i + 1 < v.size() ? static_cast<uint8_t>(v[i + 1]) : 0;
      const uint32_t b2 = i + 2 < v.size() ? static_cast<uint8_t>(v[i + 2]) : 0;
      const uint32_t w = b0 << 16 | b1 << 8 | b2;
      p[k++] = kB64[w >> 18 & 63];
      p[k++] = kB64[w >> 12 & 63];
      p[k++] = i + 1 < v.size() ? kB64[w >> 6 & 63] : '=';
      p[k++] = i + 2 < v.size() ? kB64[w & 63] : '=';
    }
    s.str = {p, n};
    return true;
  }
  if (st.conv == Conv::kUrlDec) {
    char* p = c.arena->Take(static_cast<uint32_t>(v.size()));
    if (!p) return false;
    size_t k = 0;
    for (size_t i = 0; i < v.size(); ++i) {
      if (v[i] == '%') {
        if (i + 2 >= v.size() + 0 || HexDigit(v[i + 1]) < 0 || HexDigit(v[i + 2]) < 0) {
          return false;  // HAProxy: an invalid escape fails the conversion
        }
        p[k++] = static_cast<char>(HexDigit(v[i + 1]) << 4 | HexDigit(v[i + 2]));
        i += 2;
      } else if (v[i] == '+' && st.a[0].i) {
        p[k++] = ' ';
      } else {
        p[k++] = v[i];
      }
    }
    c.arena->Trim(p, static_cast<uint32_t>(k));
    s.str = {p, k};
    return true;
  }
  // json: escape for a JSON string (HAProxy's default "ascii" mode: \uXXXX for controls and
  // bytes above 0x7e).
  char* p = c.arena->Take(static_cast<uint32_t>(v.size() * 6));
  if (!p) return false;
  size_t k = 0;
  for (const char ch : v) {
    const uint8_t b = static_cast<uint8_t>(ch);
    switch (ch) {
      case '"':
        p[k++] = '\\';
        p[k++] = '"';
        continue;
      case '\\':
        p[k++] = '\\';
        p[k++] = '\\';
        continue;
      case '/':
        p[k++] = '\\';
        p[k++] = '/';
        continue;
      case '\b':
        p[k++] = '\\';
        p[k++] = 'b';
        continue;
      case '\f':
        p[k++] = '\\';
        p[k++] = 'f';
        continue;
      case '\r':
        p[k++] = '\\';
        p[k++] = 'r';
        continue;
      case '\n':
        p[k++] = '\\';
        p[k++] = 'n';
        continue;
      case '\t':
        p[k++] = '\\';
        p[k++] = 't';
        continue;
      default:
        break;
    }
    if (b < 0x20 || b > 0x7e) {
      static constexpr char kHex[] = "0123456789abcdef";
      p[k++] = '\\';
      p[k++] = 'u';
      p[k++] = '0';
      p[k++] = '0';
      p[k++] = kHex[b >> 4];
      p[k++] = kHex[b & 15];
      continue;
    }
    p[k++] = ch;
  }
  c.arena->Trim(p, static_cast<uint32_t>(k));
  s.str = {p, k};
  return true;
}

bool MapConv(const Step& st, Sample& s, Ctx& c) noexcept {
  const PatternIndex* idx = st.ref < c.pats->sets.size() ? c.pats->sets[st.ref] : nullptr;
  const SmpType in = st.match == Match::kIp    ? SmpType::kIpv6
                     : st.match == Match::kInt ? SmpType::kSint
                                               : SmpType::kStr;
  Sample key = s;
  bool ok = true;
  if (in == SmpType::kIpv6) {
    if (key.type != SmpType::kIpv4 && key.type != SmpType::kIpv6) {
      ok = Cast(key, SmpType::kIpv4, c) || Cast(key, SmpType::kIpv6, c);
    }
  } else {
    ok = Cast(key, in, c);
  }
  if (!ok) return false;  // the key cannot be read as the map's type: no sample
  const PatEntry* e = idx ? idx->Find(key, c.tmp) : nullptr;
  const MapValue* v = e ? e->value.load(std::memory_order_acquire) : nullptr;
  if (!v) {
    if (!st.has_default) return false;
    v = &st.dflt;
  }
  switch (st.out) {
    case SmpType::kSint:
      if (!v->int_ok) return false;
      s = Sample::Int(v->sint);
      return true;
    case SmpType::kIpv4:
    case SmpType::kIpv6:
      if (!v->ip_ok) return false;
      s = Sample::Ip(v->addr, v->v6);
      return true;
    default:
      s = Sample::Str(v->text);
      return true;
  }
}

bool DoConv(const Step& st, Sample& s, Ctx& c) noexcept {
  switch (st.conv) {
    case Conv::kLower:
    case Conv::kUpper: {
      if (!Cast(s, SmpType::kStr, c)) return false;
      char* p = c.arena->Take(static_cast<uint32_t>(s.str.size()));
      if (!p) return false;
      for (size_t i = 0; i < s.str.size(); ++i) {
        p[i] = st.conv == Conv::kLower ? Lower(s.str[i]) : Upper(s.str[i]);
      }
      s.str = {p, s.str.size()};
      return true;
    }
    case Conv::kLength:
      if (!Cast(s, SmpType::kStr, c)) return false;
      s = Sample::Int(static_cast<int64_t>(s.str.size()));
      return true;
    case Conv::kBytes: {
      if (!Cast(s, SmpType::kStr, c)) return false;
      int64_t off = 0, len = -1;
      if (!ArgInt(st.a[0], c, &off)) return false;
      if (st.a[1].set && !ArgInt(st.a[1], c, &len)) return false;
      if (off < 0) return false;
      if (static_cast<uint64_t>(off) >= s.str.size()) {
        s.str = {};  // HAProxy: an empty sample
        return true;
      }
      s.str = s.str.substr(static_cast<size_t>(off),
                           len < 0 ? std::string_view::npos : static_cast<size_t>(len));
      return true;
    }
    case Conv::kWord:
      return Split(st, s, c, true);
    case Conv::kField:
      return Split(st, s, c, false);
    case Conv::kRegsub: {
      if (!Cast(s, SmpType::kStr, c) || !st.regex || !c.md) return false;
      const uint32_t room = kArenaBytes - c.arena->used();
      const uint32_t want = room < 4096 ? room : 4096;
      char* p = c.arena->Take(want);
      if (!p) return false;
      PCRE2_SIZE n = want;
      const uint32_t opts = static_cast<uint32_t>(st.a[2].i);  // PCRE2_SUBSTITUTE_GLOBAL or 0
      const int rc =
          pcre2_substitute(st.regex, reinterpret_cast<PCRE2_SPTR>(s.str.data()), s.str.size(), 0,
                           opts, c.md, nullptr, reinterpret_cast<PCRE2_SPTR>(st.a[1].s.data()),
                           st.a[1].s.size(), reinterpret_cast<PCRE2_UCHAR*>(p), &n);
      if (rc < 0) return false;
      c.arena->Trim(p, static_cast<uint32_t>(n));
      s.str = {p, n};
      return true;
    }
    case Conv::kHex:
    case Conv::kBase64:
    case Conv::kUrlDec:
    case Conv::kJson:
      return Encode(st, s, c);
    case Conv::kIpmask: {
      if (s.type != SmpType::kIpv4 && s.type != SmpType::kIpv6 && !Cast(s, SmpType::kIpv4, c) &&
          !Cast(s, SmpType::kIpv6, c)) {
        return false;
      }
      const bool v6 = s.type == SmpType::kIpv6;
      if (v6 && !st.a[1].set) return false;
      const int64_t len = v6 ? st.a[1].i : st.a[0].i;
      for (int i = 0; i < (v6 ? 16 : 4); ++i) {
        const int64_t bits = len - i * 8;
        if (bits >= 8) continue;
        s.addr[i] = bits <= 0 ? 0 : static_cast<uint8_t>(s.addr[i] & (0xff00 >> bits));
      }
      return true;
    }
    case Conv::kConcat: {
      if (!Cast(s, SmpType::kStr, c)) return false;
      std::string_view mid;
      if (st.a[1].set) {
        const Sample* v = c.vars ? c.vars->Get(st.a[1].var) : nullptr;
        if (v) {
          Sample t = *v;
          if (AsText(t, c)) mid = t.str;
        }
      }
      const std::string_view a = st.a[0].s, b = st.a[2].s;
      const size_t n = s.str.size() + a.size() + mid.size() + b.size();
      char* p = c.arena->Take(static_cast<uint32_t>(n));
      if (!p) return false;
      size_t k = 0;
      for (const std::string_view part : {s.str, a, mid, b}) {
        if (!part.empty()) std::memcpy(p + k, part.data(), part.size());
        k += part.size();
      }
      s.str = {p, n};
      return true;
    }
    case Conv::kAdd:
    case Conv::kSub:
    case Conv::kMul:
    case Conv::kDiv:
    case Conv::kMod:
    case Conv::kAnd:
    case Conv::kOr:
    case Conv::kXor:
    case Conv::kNeg:
      return Arith(st, s, c);
    case Conv::kNot:
    case Conv::kBool:
    case Conv::kOdd:
    case Conv::kEven: {
      if (!Cast(s, SmpType::kSint, c)) return false;
      const int64_t x = s.sint;
      const bool r = st.conv == Conv::kNot    ? x == 0
                     : st.conv == Conv::kBool ? x != 0
                     : st.conv == Conv::kOdd  ? (x & 1) != 0
                                              : (x & 1) == 0;
      s = Sample::Bool(r);
      return true;
    }
    case Conv::kMap:
      return MapConv(st, s, c);
    case Conv::kSetVar:
      if (c.vars) c.vars->Set(st.a[0].var, s);
      return true;
    case Conv::kToStr:
      return AsText(s, c);
    case Conv::kToInt:
      return Cast(s, SmpType::kSint, c);
  }
  return false;
}

bool MatchTerm(const AclTerm& t, Sample& s, Ctx& c) noexcept {
  switch (t.match) {
    case Match::kFound:
      return true;
    case Match::kBool:
      if (!Cast(s, SmpType::kSint, c)) return false;
      return s.sint != 0;
    case Match::kInt:
      if (!Cast(s, SmpType::kSint, c)) return false;
      break;
    case Match::kIp:
      if (s.type != SmpType::kIpv4 && s.type != SmpType::kIpv6 && !Cast(s, SmpType::kIpv4, c) &&
          !Cast(s, SmpType::kIpv6, c)) {
        return false;
      }
      break;
    default:
      if (!Cast(s, SmpType::kStr, c)) return false;
      break;
  }
  for (const uint32_t ref : t.refs) {
    const PatternIndex* idx = ref < c.pats->sets.size() ? c.pats->sets[ref] : nullptr;
    if (idx && idx->Find(s, c.tmp)) return true;
  }
  return false;
}

}  // namespace

const Sample* Vars::Get(uint32_t slot) const noexcept {
  for (uint32_t i = 0; i < n; ++i) {
    if (v[i].slot == slot) return &v[i].smp;
  }
  return nullptr;
}

bool Vars::Set(uint32_t slot, const Sample& s) noexcept {
  Var* var = nullptr;
  for (uint32_t i = 0; i < n; ++i) {
    if (v[i].slot == slot) var = &v[i];
  }
  if (!var) {
    if (n == kMaxVars) return false;
    var = &v[n++];
    var->slot = slot;
  }
  var->smp = s;
  if (s.type == SmpType::kStr || s.type == SmpType::kBin) {
    const size_t len = s.str.size() < kVarBytes ? s.str.size() : kVarBytes;
    if (len) std::memcpy(var->buf, s.str.data(), len);
    var->smp.str = {var->buf, len};
  }
  return true;
}

void Vars::Unset(uint32_t slot) noexcept {
  for (uint32_t i = 0; i < n; ++i) {
    if (v[i].slot == slot) {
      v[i] = v[--n];
      if (v[i].smp.type == SmpType::kStr) v[i].smp.str = {v[i].buf, v[i].smp.str.size()};
      return;
    }
  }
}

bool AsText(Sample& s, Ctx& c) noexcept { return Cast(s, SmpType::kStr, c); }

bool Cast(Sample& s, SmpType to, Ctx& c) noexcept {
  if (s.type == to) return true;
  switch (to) {
    case SmpType::kStr:
    case SmpType::kBin: {
      if (s.type == SmpType::kStr || s.type == SmpType::kBin || s.type == SmpType::kMeth) {
        s.type = to;
        return true;
      }
      char* p = c.arena->Take(48);
      if (!p) return false;
      uint32_t n = 0;
      if (s.type == SmpType::kSint || s.type == SmpType::kBool) {
        n = WriteInt(s.sint, p);
      } else if (s.type == SmpType::kIpv4) {
        n = WriteIpv4(s.addr, p);
      } else if (s.type == SmpType::kIpv6) {
        n = WriteIpv6(s.addr, p);
      } else {
        return false;
      }
      c.arena->Trim(p, n);
      s.str = {p, n};
      s.type = to;
      return true;
    }
    case SmpType::kSint:
    case SmpType::kBool:
      if (s.type == SmpType::kSint || s.type == SmpType::kBool) {
        if (to == SmpType::kBool) s.sint = s.sint != 0;
        s.type = to;
        return true;
      }
      if (s.type == SmpType::kStr || s.type == SmpType::kBin) {
        int64_t v = 0;
        if (!ParseInt(s.str, &v)) return false;
        s = to == SmpType::kBool ? Sample::Bool(v != 0) : Sample::Int(v);
        return true;
      }
      if (s.type == SmpType::kIpv4) {
        s = Sample::Int(static_cast<int64_t>(static_cast<uint32_t>(s.addr[0]) << 24 |
                                             s.addr[1] << 16 | s.addr[2] << 8 | s.addr[3]));
        return true;
      }
      return false;
    case SmpType::kIpv4:
      if (s.type == SmpType::kStr) {
        uint8_t a[4];
        if (!ParseIpv4(s.str, a)) return false;
        s = Sample::Ip(a, false);
        return true;
      }
      if (s.type == SmpType::kSint) {
        const uint32_t v = static_cast<uint32_t>(s.sint);
        const uint8_t a[4] = {static_cast<uint8_t>(v >> 24), static_cast<uint8_t>(v >> 16),
                              static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)};
        s = Sample::Ip(a, false);
        return true;
      }
      if (s.type == SmpType::kIpv6) {
        static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (std::memcmp(s.addr, kMapped, 12) != 0) return false;
        uint8_t a[4];
        std::memcpy(a, s.addr + 12, 4);
        s = Sample::Ip(a, false);
        return true;
      }
      return false;
    case SmpType::kIpv6:
      if (s.type == SmpType::kStr) {
        uint8_t a[16];
        if (!ParseIpv6(s.str, a)) return false;
        s = Sample::Ip(a, true);
        return true;
      }
      if (s.type == SmpType::kIpv4) {
        uint8_t a[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        std::memcpy(a + 12, s.addr, 4);
        s = Sample::Ip(a, true);
        return true;
      }
      return false;
    default:
      return false;
  }
}

bool Eval(const Expr& e, Ctx& c, Sample* out, uint32_t* cursor) noexcept {
  if (!DoFetch(e, c, out, cursor)) return false;
  for (const Step& st : e.convs) {
    if (!DoConv(st, *out, c)) return false;
  }
  return true;
}

bool EvalAcl(const Acl& a, Ctx& c) noexcept {
  for (const AclTerm& t : a.terms) {
    uint32_t cursor = 0;
    const bool multi = t.expr.fetch == Fetch::kHdr || t.expr.fetch == Fetch::kFhdr ||
                       t.expr.fetch == Fetch::kResHdr || t.expr.fetch == Fetch::kHdrVal;
    const bool walk = multi && !t.expr.a[1].set;
    for (;;) {
      Sample s;
      if (!Eval(t.expr, c, &s, walk ? &cursor : nullptr)) break;
      if (MatchTerm(t, s, c)) return true;
      if (!walk) break;
    }
  }
  return false;
}

bool EvalCond(const Cond& k, Ctx& c) noexcept {
  if (!k.present) return true;
  bool any = false;
  for (const auto& group : k.ors) {
    bool all = true;
    for (const CondTerm& t : group) {
      const bool v = EvalAcl(c.rules->acls[t.acl], c);
      if (v == t.neg) {
        all = false;
        break;
      }
    }
    if (all) {
      any = true;
      break;
    }
  }
  return k.unless ? !any : any;
}

uint32_t EscapeControls(std::string_view v, char* out, uint32_t cap) noexcept {
  static constexpr char kHex[] = "0123456789ABCDEF";
  uint32_t n = 0;
  for (const char ch : v) {
    const auto b = static_cast<uint8_t>(ch);
    const bool esc = (b >= 0x01 && b <= 0x08) || (b >= 0x0a && b <= 0x1f) || b == 0x7f;
    if (!esc) {
      if (n == cap) break;
      out[n++] = ch;
      continue;
    }
    if (cap - n < 3) break;
    out[n++] = '%';
    out[n++] = kHex[b >> 4];
    out[n++] = kHex[b & 15];
  }
  return n;
}

uint32_t EvalLogFmt(const LogFmt& f, Ctx& c, char* out, uint32_t cap, bool dash) noexcept {
  uint32_t n = 0;
  for (const LfPiece& p : f.pieces) {
    if (!p.is_expr) {  // the configuration's own text, as written
      const size_t k = p.text.size() < cap - n ? p.text.size() : cap - n;
      if (k) std::memcpy(out + n, p.text.data(), k);
      n += static_cast<uint32_t>(k);
      continue;
    }
    Sample s;
    std::string_view v = dash ? "-" : "";
    if (Eval(p.expr, c, &s) && AsText(s, c)) v = s.str;
    // What a sample writes is escaped as HAProxy's log-format does: a CR or LF from a
    // converter never starts a new header line.
    n += EscapeControls(v, out + n, cap - n);
  }
  return n;
}

RulesSnap::~RulesSnap() {
  for (pcre2_real_code_8* r : regexes) pcre2_code_free(r);
}

}  // namespace sluice::rules
