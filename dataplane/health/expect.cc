// The rules of `http-check expect` run on a check's answer (expect.h).
#include "dataplane/health/expect.h"

#include <algorithm>
#include <cstring>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

namespace sluice::check {

void RegexFree::operator()(pcre2_real_code_8* re) const noexcept { pcre2_code_free(re); }

// slow path: control plane, on publication
Regex CompileRegex(std::string_view text, std::string* error) {
  int err = 0;
  PCRE2_SIZE at = 0;
  pcre2_code* re = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), 0, &err,
                                 &at, nullptr);
  if (!re) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(err, msg, sizeof msg);
    *error = reinterpret_cast<const char*>(msg);
    return Regex();
  }
  pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);  // where JIT is not there, the interpreter runs
  return Regex(re);
}

pcre2_real_match_data_8* NewMatchData() { return pcre2_match_data_create(16, nullptr); }

void FreeMatchData(pcre2_real_match_data_8* md) {
  if (md) pcre2_match_data_free(md);
}

bool RegexMatches(const pcre2_code* re, std::string_view s, pcre2_match_data* md) noexcept {
  return re && md &&
         pcre2_match(re, reinterpret_cast<PCRE2_SPTR>(s.data()), s.size(), 0, 0, md, nullptr) >= 0;
}

namespace {

bool IsBlank(char c) noexcept { return c == ' ' || c == '\t'; }

// True when `f` holds for one of the value's comma-separated items (blanks around each
// dropped; a comma inside a quoted string does not split), as HAProxy reads a field.
template <class F>
bool AnyItem(std::string_view v, F f) noexcept {
  size_t i = 0;
  for (;;) {
    while (i < v.size() && IsBlank(v[i])) ++i;
    const size_t start = i;
    bool quoted = false;
    for (; i < v.size(); ++i) {
      const char c = v[i];
      if (quoted) {
        if (c == '\\' && i + 1 < v.size()) {
          ++i;
        } else if (c == '"') {
          quoted = false;
        }
      } else if (c == '"') {
        quoted = true;
      } else if (c == ',') {
        break;
      }
    }
    size_t end = i;
    while (end > start && IsBlank(v[end - 1])) --end;
    if (f(v.substr(start, end - start))) return true;
    if (i >= v.size()) return false;
    ++i;
  }
}

bool TextMatches(HeaderMatch m, std::string_view s, std::string_view pat, const pcre2_code* re,
                 pcre2_match_data* md) noexcept {
  switch (m) {
    case HeaderMatch::kStr:
      return s == pat;
    case HeaderMatch::kBeg:
      return s.size() >= pat.size() && s.substr(0, pat.size()) == pat;
    case HeaderMatch::kEnd:
      return s.size() >= pat.size() && s.substr(s.size() - pat.size()) == pat;
    case HeaderMatch::kSub:
      return s.find(pat) != std::string_view::npos;
    case HeaderMatch::kReg:
      return RegexMatches(re, s, md);
  }
  return false;
}

// hdr / fhdr: a field whose (lower-case) name matches and, when a value pattern is given,
// one of whose values (the whole value for fhdr) matches it.
bool HeaderMatches(const Expect& e, const uint8_t* p, const http::MessageHead& head,
                   pcre2_match_data* md) noexcept {
  for (uint16_t i = 0; i < head.nfields; ++i) {
    const http::HeaderField& f = head.fields[i];
    if (!TextMatches(e.name_match, f.name.In(p), e.text, e.re.get(), md)) continue;
    if (!e.has_value) return true;
    const std::string_view value = f.value.In(p);
    const auto one = [&](std::string_view v) {
      return TextMatches(e.value_match, v, e.value, e.value_re.get(), md);
    };
    if (e.full ? one(value) : AnyItem(value, one)) return true;
  }
  return false;
}

Verdict Fail(CheckStatus status, uint16_t code, std::string_view reason,
             CheckDetail detail = CheckDetail::kNone) noexcept {
  Verdict v;
  v.what = Verdict::kFail;
  v.status = status;
  v.code = status == CheckStatus::kL7Rsp ? 0 : code;
  v.reason = reason;
  v.detail = detail;
  return v;
}

}  // namespace

Verdict Evaluate(uint8_t* p, uint32_t len, bool last_read, const Expect* rules, size_t n,
                 const EvalContext& ctx) noexcept {
  http::HeadScanner scan;
  scan.Scan(p, len, http::kMaxHeadBytesCap);
  if (!scan.done()) {
    return last_read || scan.overflow() ? Fail(CheckStatus::kL7Rsp, 0, {}) : Verdict{};
  }
  http::ParseOptions opt;
  opt.request = false;
  opt.request_method = ctx.head_request ? http::Method::kHead : http::Method::kGet;
  opt.max_bytes = http::kMaxHeadBytesCap;
  opt.max_htx = UINT32_MAX;
  opt.max_fields = std::min(ctx.max_fields, http::kMaxHeadersCap);
  http::MessageHead& head = *ctx.head;
  if (!http::ParseHead(p, scan.bytes(), opt, &head)) return Fail(CheckStatus::kL7Rsp, 0, {});
  for (uint16_t i = 0; i < head.nfields; ++i) {
    const http::Span name = head.fields[i].name;
    for (uint16_t j = 0; j < name.len; ++j) {
      uint8_t& c = p[name.off + j];
      if (c >= 'A' && c <= 'Z') c = static_cast<uint8_t>(c + 32);
    }
  }
  const uint16_t code = head.status;
  const std::string_view reason = head.reason.In(p);

  // The body as HAProxy stores it, and whether it is all in.
  uint8_t* body = p + scan.bytes();
  const uint32_t avail = len - scan.bytes();
  uint32_t body_len = 0;
  bool complete = false;
  switch (head.body) {
    case http::Body::kNone:
      complete = true;
      break;
    case http::Body::kLength:
      body_len = static_cast<uint32_t>(std::min<uint64_t>(avail, head.content_length));
      complete = avail >= head.content_length;
      break;
    case http::Body::kChunked:
      if (!http::DecodeChunked(body, avail, &body_len, &complete)) {
        return Fail(CheckStatus::kL7Rsp, 0, {});
      }
      break;
    case http::Body::kUntilClose:
      body_len = avail;
      break;
  }
  last_read = last_read || complete;
  const std::string_view data(reinterpret_cast<const char*>(body), body_len);

  for (size_t i = 0; i < n; ++i) {
    const Expect& e = rules[i];
    switch (e.kind) {
      case ExpectKind::kStatus:
        if (!e.codes.Contains(code)) return Fail(CheckStatus::kL7Sts, code, reason);
        break;
      case ExpectKind::kHeader:
        if (HeaderMatches(e, p, head, ctx.md) == e.negate) {
          return Fail(CheckStatus::kL7Sts, code, reason);
        }
        break;
      case ExpectKind::kString:
      case ExpectKind::kRegex: {
        if (data.empty()) {
          if (!last_read) return Verdict{};
          return Fail(CheckStatus::kL7Rsp, 0, {}, CheckDetail::kNoBody);
        }
        if (!last_read && e.kind == ExpectKind::kString && data.size() < e.text.size()) {
          return Verdict{};
        }
        const bool match = e.kind == ExpectKind::kString
                               ? data.find(e.text) != std::string_view::npos
                               : RegexMatches(e.re.get(), data, ctx.md);
        if (!match && !last_read) return Verdict{};
        if (match == e.negate) {
          return Fail(CheckStatus::kL7Rsp, 0, {},
                      e.negate ? CheckDetail::kUnwantedContent : CheckDetail::kContentMismatch);
        }
        break;
      }
    }
  }
  Verdict v;
  v.what = Verdict::kPass;
  v.status = CheckStatus::kL7Ok;
  v.code = code;
  return v;
}

}  // namespace sluice::check
