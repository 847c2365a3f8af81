// What an HTTP health check's answer must show (`http-check expect`, HAProxy 2.6's
// tcpcheck_eval_expect_http): the backend's rules in the order written, each run on the
// answer as read so far. The first rule that fails ends the check with its status (L7STS for
// a status or header rule, with the status line's reason as its words; L7RSP for a body
// rule); a rule that needs more of the answer waits, until the answer is complete, the
// server closed or the check's buffer (`tune.bufsize`) is full ("last read"), as HAProxy
// waits. Every rule passed: L7OK.
//
// The answer is read from one contiguous buffer the check fills (dataplane/check): its head with
// the proxy's parser (dataplane/http/h1.h), its body as HAProxy stores it, a chunked body
// decoded in place. Header names are compared lower-cased, as HAProxy keeps them. Nothing
// here allocates, throws or knows about connections; the answer is outside input:
// tests/fuzz/check_answer_fuzz.cc runs any bytes through it, cut anywhere.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "dataplane/health/check_status.h"
#include "dataplane/http/h1.h"

struct pcre2_real_code_8;
struct pcre2_real_match_data_8;

namespace sluice::check {

// The HTTP status codes a status rule accepts (`http-check expect status 200,301-302`, or
// the codes whose text an `rstatus` regex matches): one bit per code from 100 to 599.
class StatusSet {
 public:
  static constexpr unsigned kMin = 100, kMax = 599;
  void Add(unsigned code) noexcept {
    if (code >= kMin && code <= kMax)
      bits_[(code - kMin) / 64] |= uint64_t{1} << ((code - kMin) % 64);
  }
  void AddRange(unsigned lo, unsigned hi) noexcept {
    for (unsigned c = lo; c <= hi && c <= kMax; ++c) Add(c);
  }
  bool empty() const noexcept {
    for (const uint64_t w : bits_) {
      if (w) return false;
    }
    return true;
  }
  bool Contains(unsigned code) const noexcept {
    if (code < kMin || code > kMax) return false;
    return (bits_[(code - kMin) / 64] >> ((code - kMin) % 64)) & 1;
  }
  bool operator==(const StatusSet&) const = default;

 private:
  uint64_t bits_[(kMax - kMin) / 64 + 1] = {};
};

struct RegexFree {
  void operator()(pcre2_real_code_8* re) const noexcept;
};
using Regex = std::unique_ptr<pcre2_real_code_8, RegexFree>;

// `text` compiled (and JIT-compiled where PCRE2 can); empty with `error` set when it does not
// compile.
// slow path: control plane
Regex CompileRegex(std::string_view text, std::string* error);
// True when `re` (null: false) matches somewhere in `s`; `md` from NewMatchData.
bool RegexMatches(const pcre2_real_code_8* re, std::string_view s,
                  pcre2_real_match_data_8* md) noexcept;
// Match data for one thread's matching (made at start-up).
// slow path: start-up and shutdown
pcre2_real_match_data_8* NewMatchData();
// slow path: start-up and shutdown
void FreeMatchData(pcre2_real_match_data_8* md);

enum class ExpectKind : uint8_t {
  kStatus,  // status CODES, rstatus REGEX (the codes it matches, worked out once)
  kString,  // string TEXT: in the body
  kRegex,   // rstring REGEX: on the body
  kHeader,  // hdr / fhdr name [-m M] NAME [value [-m M] VALUE]
};

// hdr's `-m` methods: names are compared without case (as HAProxy stores them, lower-case),
// values with it.
enum class HeaderMatch : uint8_t { kStr, kBeg, kEnd, kSub, kReg };

// One rule as the control plane built it.
struct Expect {
  ExpectKind kind = ExpectKind::kStatus;
  bool negate = false;  // "!" of string, rstring, hdr (status and rstatus: `codes` inverted)
  StatusSet codes;      // kStatus
  // kString: the text; kHeader: the name pattern (lower-case; unused with -m reg).
  std::string text;  // slow path: filled by the control plane; workers only read it
  HeaderMatch name_match = HeaderMatch::kStr, value_match = HeaderMatch::kStr;
  bool has_value = false;  // kHeader: a value pattern given
  bool full = false;       // fhdr: a field's whole value, not its comma-separated items
  std::string value;       // slow path: filled by the control plane; workers only read it
  Regex re;                // kRegex; kHeader's name with -m reg
  Regex value_re;          // kHeader's value with -m reg
};

struct Verdict {
  enum What : uint8_t { kWait, kPass, kFail } what = kWait;
  CheckStatus status = CheckStatus::kUnknown;  // kPass: L7OK; kFail: L7STS or L7RSP
  CheckDetail detail = CheckDetail::kNone;     // kFail with L7RSP: HAProxy's words
  uint16_t code = 0;                           // the answer's status (0 for L7RSP)
  std::string_view reason;  // L7STS: the status line's reason, in the answer's bytes
};

// What Evaluate needs beside the rules: the head's index and PCRE2 match data (both the
// worker's, made at start-up), the bounds on the head and the check's method.
struct EvalContext {
  http::MessageHead* head = nullptr;
  pcre2_real_match_data_8* md = nullptr;
  uint32_t max_fields = http::kMaxHeaders;  // tune.http.maxhdr
  bool head_request = false;                // the check sends HEAD: no body comes
};

// Runs `rules[0, n)` on the answer `p[0, len)` as read so far (from its status line on).
// `last_read`: no more of it will come (the server closed, or the buffer is full). The
// buffer is rewritten: header names lower-cased, a chunked body decoded in place.
Verdict Evaluate(uint8_t* p, uint32_t len, bool last_read, const Expect* rules, size_t n,
                 const EvalContext& ctx) noexcept;

}  // namespace sluice::check
