// Evaluating sample expressions, ACLs and conditions on the worker (dataplane/rules/expr.h):
// the fetches and the casts of HAProxy 2.6 (doc/configuration.txt 7.3); the converters are in
// rules_conv.cc. What a cast writes goes to the evaluation's Arena; nothing allocates.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <cstdio>

#include "dataplane/rules/auth.h"
#include "dataplane/rules/capture.h"
#include "dataplane/rules/expr.h"
#include "dataplane/rules/sample_text.h"

namespace sluice::rules {
namespace {

std::string_view Sv(const uint8_t* head, http::Span s) noexcept { return s.In(head); }

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
    std::string_view v = Sv(head, f.value), k, val;
    while (http::NextCookie(&v, &k, &val)) {
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
    case Fetch::kSslFcSni:
    case Fetch::kSslFcProtocol:
    case Fetch::kSslFcCipher:
    case Fetch::kSslFcAlpn:
    case Fetch::kSslFcSessionReused:
    case Fetch::kSslCUsed:
    case Fetch::kSslCVerify:
    case Fetch::kSslCSDn:
      return TlsFetch(e.fetch, c, out);
    case Fetch::kCaptureReqHdr:
    case Fetch::kCaptureResHdr: {
      if (!c.caps || !c.rules || c.frontend >= c.rules->frontends.size() || e.a[0].i < 0)
        return false;
      const bool res = e.fetch == Fetch::kCaptureResHdr;
      const ProxyRules& pr = c.rules->frontends[c.frontend];
      const auto& slots = res ? pr.res_caps : pr.req_caps;
      const auto i = static_cast<size_t>(e.a[0].i);
      if (i >= slots.size()) return false;
      std::string_view v;
      if (!GetCapture(c.caps, static_cast<uint32_t>(i + (res ? kMaxCaptures : 0)), slots[i].off,
                      &v)) {
        return false;
      }
      *out = Sample::Str(v);
      return true;
    }
    case Fetch::kHttpAuth:
    case Fetch::kHttpAuthGroup: {
      const auto l = static_cast<size_t>(e.a[0].i);
      if (!c.rules || e.a[0].i < 0 || l >= c.rules->userlists.size()) return false;
      bool basic = false;
      const AuthUser* u = Authenticate(c, c.rules->userlists[l], &basic);
      if (e.fetch == Fetch::kHttpAuth) {
        if (!basic) return false;
        *out = Sample::Bool(u != nullptr);
        return true;
      }
      if (!u) return false;
      *out = Sample::Str(u->name);
      return true;
    }
    case Fetch::kStick:
      return c.stick && c.stick->Fetch(e.stick, c, out);
    case Fetch::kHttpAuthType:
    case Fetch::kHttpAuthUser:
    case Fetch::kHttpAuthPass:
    case Fetch::kHttpAuthBearer: {
      Credentials cr;
      const std::string_view field =
          e.fetch == Fetch::kHttpAuthBearer && e.a[0].set ? std::string_view(e.a[0].s) : "";
      if (!ReadCredentials(c, field, &cr)) return false;
      const bool basic = cr.type == Credentials::Type::kBasic;
      switch (e.fetch) {
        case Fetch::kHttpAuthType:
          *out = Sample::Str(basic ? "Basic" : "Bearer");
          return true;
        case Fetch::kHttpAuthUser:
        case Fetch::kHttpAuthPass:
          if (!basic) return false;
          *out = Sample::Str(e.fetch == Fetch::kHttpAuthUser ? cr.user : cr.pass);
          return true;
        default:
          if (basic) return false;
          *out = Sample::Str(cr.bearer);
          return true;
      }
    }
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
    // The body as `option http-buffer-request` read it (without the option none is read:
    // an empty body; HAProxy shows what happened to come with the head).
    case Fetch::kBody:
      *out = Sample::Str(c.req_body ? std::string_view(reinterpret_cast<const char*>(c.req_body),
                                                       c.req_body_len)
                                    : std::string_view());
      out->type = SmpType::kBin;
      return true;
    case Fetch::kBodyLen:
      *out = Sample::Int(c.req_body ? c.req_body_len : 0);
      return true;
    case Fetch::kBodySize:
      // The declared length, or a chunked body's once all of it is in (HAProxy 2.6).
      if (c.req->body == http::Body::kLength) {
        *out = Sample::Int(static_cast<int64_t>(c.req->content_length));
        return true;
      }
      if (c.req->body == http::Body::kNone) {
        *out = Sample::Int(0);
        return true;
      }
      if (!c.req_body || !c.req_body_complete) return false;
      *out = Sample::Int(c.req_body_len);
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
    if (t.expr.fetch == Fetch::kHttpAuthGroup) [[unlikely]] {
      // The values are the list's groups: the user authenticates and belongs to one of them.
      const auto l = static_cast<size_t>(t.expr.a[0].i);
      if (!c.rules || l >= c.rules->userlists.size()) continue;
      bool basic = false;
      const AuthUser* u = Authenticate(c, c.rules->userlists[l], &basic);
      if (u && (u->groups & t.auth_groups)) return true;
      continue;
    }
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
