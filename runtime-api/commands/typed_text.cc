// Slow path. Tag names and JSON quoting of the typed and json outputs (typed_text.h).
#include "runtime-api/commands/typed_text.h"

#include <cstdio>

namespace sluice::cli {

std::string_view TagOriginName(char c) {
  switch (c) {
    case 'M':
      return "Metric";
    case 'S':
      return "Status";
    case 'K':
      return "Key";
    case 'C':
      return "Config";
    case 'P':
      return "Product";
    default:
      return "Unknown";
  }
}

std::string_view TagNatureName(char c) {
  switch (c) {
    case 'G':
      return "Gauge";
    case 'L':
      return "Limit";
    case 'M':
      return "Max";
    case 'm':
      return "Min";
    case 'R':
      return "Rate";
    case 'C':
      return "Counter";
    case 'D':
      return "Duration";
    case 'A':
      return "Age";
    case 'T':
      return "Time";
    case 'N':
      return "Name";
    case 'O':
      return "Output";
    case 'a':
      return "Avg";
    default:
      return "Unknown";
  }
}

std::string_view TagScopeName(char c) {
  switch (c) {
    case 'P':
      return "Process";
    case 'S':
      return "Service";
    case 's':
      return "System";
    case 'C':
      return "Cluster";
    default:
      return "Unknown";
  }
}

void AppendJsonString(std::string& out, std::string_view s) {
  out += '"';
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  out += '"';
}

}  // namespace sluice::cli
