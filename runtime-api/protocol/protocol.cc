// Slow path. Request tokenizing and the bounded writer (protocol.h).
#include "runtime-api/protocol/protocol.h"

namespace sluice::cli {

std::vector<std::string> SplitChain(std::string_view line) {
  std::vector<std::string> pieces;
  std::string current;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == '\\' && i + 1 < line.size()) {
      current.push_back(c);
      current.push_back(line[++i]);
    } else if (c == ';') {
      pieces.push_back(std::move(current));
      current.clear();
    } else {
      current.push_back(c);
    }
  }
  pieces.push_back(std::move(current));
  return pieces;
}

namespace {
bool IsBlank(char c) { return c == ' ' || c == '\t'; }
}  // namespace

std::vector<std::string> SplitWords(std::string_view command) {
  std::vector<std::string> words;
  size_t i = 0;
  while (i < command.size()) {
    while (i < command.size() && IsBlank(command[i])) ++i;
    if (i >= command.size()) break;
    const bool last = words.size() + 1 == kMaxArgs;
    std::string word;
    while (i < command.size() && (last || !IsBlank(command[i]))) {
      if (command[i] == '\\') {
        if (++i >= command.size()) break;  // a trailing lone backslash is dropped
      }
      word.push_back(command[i++]);
    }
    if (last) {
      while (!word.empty() && IsBlank(word.back())) word.pop_back();
    }
    words.push_back(std::move(word));
  }
  return words;
}

bool HasPayloadMarker(std::string_view line) {
  if (!line.ends_with("<<")) return false;
  if (line.size() == 2) return true;
  return IsBlank(line[line.size() - 3]);
}

std::string_view StripPayloadMarker(std::string_view line) {
  if (!HasPayloadMarker(line)) return line;
  line.remove_suffix(2);
  while (!line.empty() && IsBlank(line.back())) line.remove_suffix(1);
  return line;
}

bool Writer::Put(std::string_view record) {
  if (!out_.empty() && out_.size() + record.size() > capacity_) return false;
  out_.append(record);
  return true;
}

}  // namespace sluice::cli
