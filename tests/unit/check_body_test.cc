// The health checks' answer scan for `http-check expect string` (dataplane/check/
// body_match.h): the text found in the body only, across any cut, up to Content-Length.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "dataplane/check/body_match.h"

namespace sluice::check {
namespace {

struct Result {
  bool decided = false;  // Feed said the outcome was known before the answer's end
  bool found = false;
};

Result Scan(const std::string& text, const std::string& answer) {
  uint8_t next[64];
  KmpTable(text.data(), static_cast<uint8_t>(text.size()), next);
  BodyMatch m;
  Result r;
  for (const char c : answer) {
    if (m.Feed(c, text.data(), static_cast<uint8_t>(text.size()), next)) {
      r.decided = true;
      break;
    }
  }
  r.found = m.found;
  return r;
}

TEST(CheckBody, TheTextIsLookedForInTheBodyOnly) {
  EXPECT_TRUE(Scan("OK", "HTTP/1.0 200 OK\r\n\r\nall OK here").found);
  EXPECT_FALSE(Scan("OK", "HTTP/1.0 200 OK\r\nX-OK: OK\r\n\r\nnope").found);
  // A bare LF ends lines as a CRLF does.
  EXPECT_TRUE(Scan("up", "HTTP/1.0 200 OK\nServer: x\n\nstatus: up\n").found);
}

TEST(CheckBody, PartialMatchesRestartWhereTheTableSays) {
  EXPECT_TRUE(Scan("abab", "HTTP/1.0 200 OK\r\n\r\naabababx").found);
  EXPECT_TRUE(Scan("aab", "HTTP/1.0 200 OK\r\n\r\naaab").found);
  EXPECT_FALSE(Scan("abc", "HTTP/1.0 200 OK\r\n\r\nababab").found);
  uint8_t next[8];
  KmpTable("abacab", 6, next);
  const uint8_t want[] = {0, 0, 1, 0, 1, 2};
  EXPECT_EQ(std::memcmp(next, want, 6), 0);
}

TEST(CheckBody, ContentLengthEndsTheBody) {
  // Found early: decided at once.
  const Result a = Scan("ok", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nok........");
  EXPECT_TRUE(a.decided && a.found);
  // The whole body in and no text: decided, not found; what follows is not the body.
  const Result b = Scan("ok", "HTTP/1.1 200 OK\r\ncontent-length:  3\r\n\r\nabcok");
  EXPECT_TRUE(b.decided);
  EXPECT_FALSE(b.found);
  // An empty body is decided at the blank line.
  EXPECT_TRUE(Scan("ok", "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n").decided);
  // Without Content-Length the close decides: nothing is decided on the bytes alone.
  const Result c = Scan("ok", "HTTP/1.0 200 OK\r\n\r\nabc");
  EXPECT_FALSE(c.decided);
  EXPECT_FALSE(c.found);
}

}  // namespace
}  // namespace sluice::check
