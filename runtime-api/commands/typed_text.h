// Slow path. Pieces of HAProxy's typed and json outputs that `show info` and `show stat`
// share: the long names of the origin, nature and scope tag letters ("MGP" is Metric, Gauge,
// Process) and JSON string quoting.
#pragma once

#include <string>
#include <string_view>

namespace sluice::cli {

std::string_view TagOriginName(char c);  // 'M' -> "Metric"; unknown letters "Unknown"
std::string_view TagNatureName(char c);  // 'G' -> "Gauge"
std::string_view TagScopeName(char c);   // 'P' -> "Process"

// Appends `s` as a JSON string: quotes, `"` and `\` escaped, control bytes as \u00XX.
void AppendJsonString(std::string& out, std::string_view s);

}  // namespace sluice::cli
