// libFuzzer target for the health checks' answer scan (dataplane/check/body_match.h): the
// first byte gives the text's length (1 to 16), the text follows, the rest is a server's
// answer. Whatever the bytes, the scan stays in bounds, and its verdict on the body bytes it
// was fed agrees with a plain search of them.
#include <cstddef>
#include <cstdint>
#include <string>

#include "dataplane/check/body_match.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t len = static_cast<uint8_t>(1 + data[0] % 16);
  if (size < 1u + len) return 0;
  const auto* text = reinterpret_cast<const char*>(data + 1);
  uint8_t next[16];
  sluice::check::KmpTable(text, len, next);
  sluice::check::BodyMatch m;
  std::string body;  // the bytes fed while in the body
  bool done = false;
  for (size_t i = 1u + len; i < size && !done; ++i) {
    const bool in_body = m.in_body;
    const char c = static_cast<char>(data[i]);
    done = m.Feed(c, text, len, next);
    if (in_body) body.push_back(c);
  }
  const bool present = body.find(std::string(text, len)) != std::string::npos;
  if (m.found != present) __builtin_trap();
  return 0;
}
