// libFuzzer target: the HTTP/1 request and response parser (dataplane/http/h1.h). The first
// byte picks request or response, accept-invalid and the split step; the rest is a message.
// Invariants: no crash; the head end and the chunked body end found over segments cut every
// `step` bytes are the ones found in one piece (the split-point property); a parsed head's
// spans lie inside the head; a rewritten head parses again with the same fields.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "dataplane/http/h1.h"
#include "dataplane/http/h1_output.h"

namespace {

using namespace sluice::http;

void Check(bool ok) {
  if (!ok) std::abort();
}

uint32_t ScanHead(const uint8_t* p, uint32_t n, uint32_t step, bool* done) {
  HeadScanner sc;
  uint32_t used = 0;
  for (uint32_t at = 0; at < n && !sc.done() && !sc.overflow(); at += step) {
    const uint32_t len = n - at < step ? n - at : step;
    used += sc.Scan(p + at, len);
  }
  *done = sc.done();
  return used;
}

long ScanChunked(const uint8_t* p, uint32_t n, uint32_t step) {
  ChunkedScanner sc;
  long used = 0;
  for (uint32_t at = 0; at < n; at += step) {
    const uint32_t len = n - at < step ? n - at : step;
    used += sc.Scan(p + at, len);
    if (sc.error()) return -1;
    if (sc.done()) return used;
  }
  return -2;
}

MessageHead g_head, g_again;
uint8_t g_out[kMaxHeadBytes + 1024];

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > 64 * 1024) return 0;
  const uint8_t ctl = data[0];
  const uint8_t* p = data + 1;
  const auto n = static_cast<uint32_t>(size - 1);
  ParseOptions opt;
  opt.request = !(ctl & 1);
  opt.accept_invalid = ctl & 2;
  opt.request_method = (ctl & 4) ? Method::kHead : Method::kGet;
  const uint32_t step = 1 + (ctl >> 3);
  bool done_whole = false, done_split = false;
  const uint32_t whole = ScanHead(p, n, n ? n : 1, &done_whole);
  const uint32_t split = ScanHead(p, n, step, &done_split);
  Check(done_whole == done_split && (!done_whole || whole == split));
  if (!done_whole) return 0;
  if (!ParseHead(p, whole, opt, &g_head)) {
    Check(g_head.error != HeadError::kNone && g_head.error_at <= whole);
    return 0;
  }
  for (uint16_t i = 0; i < g_head.nfields; ++i) {
    const HeaderField& f = g_head.fields[i];
    Check(f.name.off + f.name.len <= whole && f.value.off + f.value.len <= whole);
  }
  HeadWriter w(g_out, sizeof g_out);
  w.StartLine(p, g_head, opt.request);
  for (uint16_t i = 0; i < g_head.nfields; ++i) w.Field(p, g_head.fields[i]);
  w.End();
  Check(!w.overflow());
  Check(ParseHead(g_out, w.size(), opt, &g_again));
  Check(g_again.nfields == g_head.nfields && g_again.body == g_head.body &&
        g_again.content_length == g_head.content_length);
  if (g_head.body == Body::kChunked) {
    Check(ScanChunked(p + whole, n - whole, n) == ScanChunked(p + whole, n - whole, step));
  }
  return 0;
}
