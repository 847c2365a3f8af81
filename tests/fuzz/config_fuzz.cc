// libFuzzer target: arbitrary bytes as a configuration file. The parser never crashes,
// never throws, and every diagnostic names a line within the input.
#include <cstdlib>
#include <string>

#include "controlplane/config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto outcome = sluice::config::ParseText(text, "fuzz.cfg");
  size_t lines = 1;
  for (char c : text) lines += c == '\n';
  for (const auto& d : outcome.diagnostics) {
    if (d.line < 0 || static_cast<size_t>(d.line) > lines) std::abort();
    (void)sluice::config::FormatDiagnostic(d, 1);
  }
  return 0;
}
