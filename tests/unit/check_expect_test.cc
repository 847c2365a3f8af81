// The rules of `http-check expect` on a check's answer (dataplane/health/expect.h), each
// verdict as Debian's HAProxy 2.6.12 gave it on the same answers (tests/integration/
// test_http_check.py runs the same rules against real servers).
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "dataplane/health/expect.h"

namespace sluice::check {
namespace {

Expect Status(unsigned lo, unsigned hi) {
  Expect e;
  e.codes.AddRange(lo, hi);
  return e;
}

Expect Body(ExpectKind kind, const std::string& text, bool negate = false) {
  Expect e;
  e.kind = kind;
  e.text = text;
  e.negate = negate;
  if (kind == ExpectKind::kRegex) {
    std::string error;
    e.re = CompileRegex(text, &error);
  }
  return e;
}

Expect Header(const std::string& name, HeaderMatch nm, const char* value = nullptr,
              HeaderMatch vm = HeaderMatch::kStr, bool full = false) {
  Expect e;
  e.kind = ExpectKind::kHeader;
  e.text = name;
  e.name_match = nm;
  e.full = full;
  std::string error;
  if (nm == HeaderMatch::kReg) e.re = CompileRegex(name, &error);
  if (value) {
    e.has_value = true;
    e.value = value;
    if (vm == HeaderMatch::kReg) e.value_re = CompileRegex(value, &error);
  }
  e.value_match = vm;
  return e;
}

struct Judge {
  std::vector<Expect> rules;
  std::unique_ptr<http::MessageHead> head = std::make_unique<http::MessageHead>();
  pcre2_real_match_data_8* md = NewMatchData();
  bool head_request = false;
  std::string reason;  // the last verdict's, copied out of the buffer
  Judge() = default;
  Judge(Judge&& o) noexcept
      : rules(std::move(o.rules)), head(std::move(o.head)), md(std::exchange(o.md, nullptr)) {}
  ~Judge() { FreeMatchData(md); }

  Verdict Run(std::string answer, bool last_read) {
    EvalContext ctx;
    ctx.head = head.get();
    ctx.md = md;
    ctx.head_request = head_request;
    std::vector<uint8_t> buf(answer.begin(), answer.end());
    const Verdict v = Evaluate(buf.data(), static_cast<uint32_t>(buf.size()), last_read,
                               rules.data(), rules.size(), ctx);
    reason = std::string(v.reason);
    return v;
  }
};

Judge With(Expect e) {
  Judge j;
  j.rules.push_back(std::move(e));
  return j;
}

constexpr char k404[] =
    "HTTP/1.0 404 Not Found Here\r\nContent-Length: 5\r\nX-List: a, b ,c\r\n\r\nc404\n";
constexpr char kChunked[] =
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-List: a, b ,c\r\n\r\n"
    "3\r\nc20\r\n4\r\n0ok\n\r\n0\r\n\r\n";

TEST(CheckExpect, StatusRulesFailWithTheReasonPhrase) {
  Judge j = With(Status(200, 399));
  Verdict v = j.Run(k404, false);
  EXPECT_EQ(v.what, Verdict::kFail);
  EXPECT_EQ(v.status, CheckStatus::kL7Sts);
  EXPECT_EQ(v.code, 404);
  EXPECT_EQ(j.reason, "Not Found Here");
  v = j.Run(kChunked, false);
  EXPECT_EQ(v.what, Verdict::kPass);
  EXPECT_EQ(v.status, CheckStatus::kL7Ok);
  EXPECT_EQ(v.code, 200);
  // The head not all in: wait; the server closed then: L7RSP, no code.
  EXPECT_EQ(j.Run("HTTP/1.1 200 OK\r\nServer: x\r\n", false).what, Verdict::kWait);
  v = j.Run("HTTP/1.1 200 OK\r\nServer: x\r\n", true);
  EXPECT_EQ(v.status, CheckStatus::kL7Rsp);
  EXPECT_EQ(v.code, 0);
  EXPECT_EQ(j.Run("", true).status, CheckStatus::kL7Rsp);
  EXPECT_EQ(j.Run("SSH-2.0-OpenSSH\r\n\r\n", false).status, CheckStatus::kL7Rsp);
}

TEST(CheckExpect, StringIsLookedForInTheBodyAsHaproxyStoresIt) {
  Judge j = With(Body(ExpectKind::kString, "c200ok"));
  // A chunked body is decoded: the text spans two chunks.
  EXPECT_EQ(j.Run(kChunked, false).what, Verdict::kPass);
  // Not in the head.
  Judge h = With(Body(ExpectKind::kString, "Not Found"));
  EXPECT_EQ(h.Run(k404, false).detail, CheckDetail::kContentMismatch);
  // Content-Length ends the body: what follows is not read as the body.
  Judge cl = With(Body(ExpectKind::kString, "ok"));
  const Verdict v = cl.Run("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcok", false);
  EXPECT_EQ(v.what, Verdict::kFail);
  EXPECT_EQ(v.status, CheckStatus::kL7Rsp);
  EXPECT_EQ(v.code, 0);
  // Until the close: a mismatch waits for the rest, a match does not.
  EXPECT_EQ(cl.Run("HTTP/1.0 200 OK\r\n\r\nabc", false).what, Verdict::kWait);
  EXPECT_EQ(cl.Run("HTTP/1.0 200 OK\r\n\r\nabc", true).detail, CheckDetail::kContentMismatch);
  EXPECT_EQ(cl.Run("HTTP/1.0 200 OK\r\n\r\nabok", false).what, Verdict::kPass);
}

TEST(CheckExpect, NegatedAndRegexBodies) {
  Judge no = With(Body(ExpectKind::kString, "c404", true));
  Verdict v = no.Run(k404, false);
  EXPECT_EQ(v.detail, CheckDetail::kUnwantedContent);
  EXPECT_EQ(no.Run("HTTP/1.0 200 OK\r\n\r\nfine", false).what, Verdict::kWait);
  EXPECT_EQ(no.Run("HTTP/1.0 200 OK\r\n\r\nfine", true).what, Verdict::kPass);
  Judge re = With(Body(ExpectKind::kRegex, "c[0-9]+"));
  EXPECT_EQ(re.Run(k404, false).what, Verdict::kPass);
  EXPECT_EQ(re.Run("HTTP/1.0 200 OK\r\n\r\nuntil close body", true).detail,
            CheckDetail::kContentMismatch);
  Judge rn = With(Body(ExpectKind::kRegex, "^c4", true));
  EXPECT_EQ(rn.Run(k404, false).detail, CheckDetail::kUnwantedContent);
  EXPECT_EQ(rn.Run(kChunked, false).what, Verdict::kPass);
}

TEST(CheckExpect, NoBodyIsItsOwnFailureEvenNegated) {
  for (const bool negate : {false, true}) {
    Judge j = With(Body(ExpectKind::kString, "x", negate));
    const Verdict v = j.Run("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false);
    EXPECT_EQ(v.status, CheckStatus::kL7Rsp);
    EXPECT_EQ(v.detail, CheckDetail::kNoBody);
  }
  // A HEAD check's answer has no body whatever its Content-Length says.
  Judge head = With(Status(200, 200));
  head.head_request = true;
  EXPECT_EQ(head.Run("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", false).what,
            Verdict::kPass);
}

TEST(CheckExpect, HeaderRulesReadItemsOrWholeValues) {
  // hdr: each comma-separated item, blanks around it dropped.
  EXPECT_EQ(With(Header("x-list", HeaderMatch::kStr, "b")).Run(k404, false).what,
            Verdict::kPass);
  Judge two = With(Header("x-list", HeaderMatch::kStr, "b ,c"));
  const Verdict v = two.Run(k404, false);
  EXPECT_EQ(v.status, CheckStatus::kL7Sts);
  EXPECT_EQ(v.code, 404);
  EXPECT_EQ(two.reason, "Not Found Here");
  // fhdr: the whole value.
  EXPECT_EQ(With(Header("x-list", HeaderMatch::kStr, "a, b ,c", HeaderMatch::kStr, true))
                .Run(k404, false)
                .what,
            Verdict::kPass);
  // Names without case (the pattern is lower-cased by the configuration), values with it.
  EXPECT_EQ(With(Header("x-l", HeaderMatch::kBeg, "^[ab]$", HeaderMatch::kReg))
                .Run(k404, false)
                .what,
            Verdict::kPass);
  EXPECT_EQ(With(Header("x-list", HeaderMatch::kStr, "B")).Run(k404, false).what,
            Verdict::kFail);
  EXPECT_EQ(With(Header("^x-li", HeaderMatch::kReg)).Run(k404, false).what, Verdict::kPass);
  EXPECT_EQ(With(Header("^X-Li", HeaderMatch::kReg)).Run(k404, false).what, Verdict::kFail);
  EXPECT_EQ(With(Header("length", HeaderMatch::kEnd, "5", HeaderMatch::kEnd)).Run(k404, false)
                .what,
            Verdict::kPass);
  EXPECT_EQ(With(Header("ist", HeaderMatch::kSub, "b ", HeaderMatch::kSub, true))
                .Run(k404, false)
                .what,
            Verdict::kPass);
  // No such field: L7STS with the reason, as HAProxy.
  EXPECT_EQ(With(Header("x-nope", HeaderMatch::kStr)).Run(k404, false).status,
            CheckStatus::kL7Sts);
  // A comma inside a quoted string does not split.
  EXPECT_EQ(With(Header("etag", HeaderMatch::kStr, "\"a,b\""))
                .Run("HTTP/1.1 200 OK\r\nETag: \"a,b\", x\r\nContent-Length: 0\r\n\r\n", false)
                .what,
            Verdict::kPass);
}

TEST(CheckExpect, RulesRunInOrderAndTheFirstFailureDecides) {
  Judge j;
  j.rules.push_back(Status(200, 404));
  j.rules.push_back(Body(ExpectKind::kRegex, "c[0-9]+"));
  j.rules.push_back(Body(ExpectKind::kString, "zzz", true));
  EXPECT_EQ(j.Run(k404, false).what, Verdict::kPass);
  EXPECT_EQ(j.Run(kChunked, false).what, Verdict::kPass);
  EXPECT_EQ(j.Run("HTTP/1.0 200 OK\r\n\r\nuntil close body", true).detail,
            CheckDetail::kContentMismatch);
  EXPECT_EQ(j.Run("HTTP/1.0 500 Oops\r\n\r\nc1", true).status, CheckStatus::kL7Sts);
  EXPECT_EQ(j.Run("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false).detail,
            CheckDetail::kNoBody);
}

TEST(CheckExpect, MalformedChunksAreInvalidAnswers) {
  Judge j = With(Body(ExpectKind::kString, "x"));
  EXPECT_EQ(j.Run("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nx\r\n0\r\n\r\n",
                  false)
                .status,
            CheckStatus::kL7Rsp);
  EXPECT_EQ(j.Run("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nxy\r\n", false)
                .status,
            CheckStatus::kL7Rsp);
  EXPECT_EQ(j.Run("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx", false).what,
            Verdict::kPass);  // found before the chunk's end
}

// Read in two parts cut anywhere, an answer gets at the cut either no verdict yet or the
// verdict of the whole.
TEST(CheckExpect, AnyCutWaitsOrAgreesWithTheWhole) {
  const std::string answers[] = {k404, kChunked, "HTTP/1.0 200 OK\r\n\r\nuntil close body"};
  for (const std::string& a : answers) {
    Judge j;
    j.rules.push_back(Status(200, 404));
    j.rules.push_back(Header("x-list", HeaderMatch::kStr, "c"));
    j.rules.push_back(Body(ExpectKind::kString, "ok"));
    const Verdict whole = j.Run(a, true);
    for (size_t cut = 0; cut < a.size(); ++cut) {
      const Verdict part = j.Run(a.substr(0, cut), false);
      if (part.what == Verdict::kWait) continue;
      EXPECT_EQ(part.what, whole.what) << a << " cut at " << cut;
      EXPECT_EQ(part.status, whole.status) << a << " cut at " << cut;
      EXPECT_EQ(part.detail, whole.detail) << a << " cut at " << cut;
    }
  }
}

}  // namespace
}  // namespace sluice::check
