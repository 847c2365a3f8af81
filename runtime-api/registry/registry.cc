// Slow path. Command lookup, help and unknown-command answers (registry.h).
#include "runtime-api/registry/registry.h"

#include <algorithm>
#include <cstdlib>

#include "dataplane/base/assert.h"

namespace sluice::cli {

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kUser:
      return "user";
    case Level::kOperator:
      return "operator";
    case Level::kAdmin:
      return "admin";
  }
  return "user";
}

DumpStatus TextDump::Step(Writer& out) {
  while (done_ < text_.size()) {
    size_t n = std::min(out.Room(), text_.size() - done_);
    if (n == 0 && out.Empty()) n = text_.size() - done_;
    if (n == 0) return DumpStatus::kMore;
    out.Force(std::string_view(text_).substr(done_, n));
    done_ += n;
  }
  return DumpStatus::kDone;
}

bool Call::NeedLevel(Level needed) {
  if (session.level >= needed) return true;
  Error("Permission denied\n");
  return false;
}

namespace {

size_t WordCount(const CommandRow& row) {
  size_t n = 0;
  while (n < row.words.size() && !row.words[n].empty()) ++n;
  return n;
}

// How many leading words of `row` equal the leading words of `args`.
size_t MatchedWords(const CommandRow& row, std::span<const std::string> args) {
  size_t i = 0;
  while (i < row.words.size() && !row.words[i].empty() && i < args.size() && !args[i].empty() &&
         row.words[i] == args[i]) {
    ++i;
  }
  return i;
}

bool SortsBefore(const CommandRow* a, const CommandRow* b) {
  return std::lexicographical_compare(a->words.begin(), a->words.end(), b->words.begin(),
                                      b->words.end());
}

constexpr std::string_view kValidHeader = "The following commands are valid at this level:\n";
constexpr std::string_view kFuzzyHeader =
    "Unknown command, but maybe one of the following ones is a better match:\n";
constexpr std::string_view kUnknownHeader =
    "Unknown command. Please enter one of the following commands only:\n";
constexpr size_t kMaxMatches = 5;  // haproxy's CLI_MAX_MATCHES

}  // namespace

void Registry::Add(std::span<const CommandRow> table) {
  for (const CommandRow& row : table) {
    LB_RELEASE_ASSERT(WordCount(row) > 0 && row.parse != nullptr);
    rows_.push_back(&row);
  }
#ifndef NDEBUG
  if (!DuplicatePrefix().empty()) LB_BUG("duplicate CLI command prefix");
#endif
}

const CommandRow* Registry::Find(std::span<const std::string> args) const {
  for (const CommandRow* row : rows_) {
    const size_t n = WordCount(*row);
    if (MatchedWords(*row, args) == n) return row;
  }
  return nullptr;
}

std::string Registry::DuplicatePrefix() const {
  for (size_t i = 0; i < rows_.size(); ++i) {
    for (size_t j = 0; j < rows_.size(); ++j) {
      if (i == j) continue;
      const size_t n = WordCount(*rows_[i]);
      if (n > WordCount(*rows_[j])) continue;
      if (!std::equal(rows_[i]->words.begin(), rows_[i]->words.begin() + n,
                      rows_[j]->words.begin())) {
        continue;
      }
      auto join = [](const CommandRow& r) {
        std::string s;
        for (size_t k = 0; k < WordCount(r); ++k) s += (k ? " " : "") + std::string(r.words[k]);
        return s;
      };
      return join(*rows_[i]) + " / " + join(*rows_[j]);
    }
  }
  return "";
}

std::string UsageLine(std::string_view usage, std::string_view help) {
  std::string line = "  ";
  line += usage;
  if (usage.size() < 40) line.append(40 - usage.size(), ' ');
  line += ": ";
  line += help;
  line += '\n';
  return line;
}

void AddToFingerprint(Fingerprint& fp, std::string_view word) {
  constexpr int kEdge = 28;  // the begin and end marks, and any byte not a letter or digit
  int from = kEdge;
  for (const char c : word) {
    int to = kEdge;
    if (c >= 'a' && c <= 'z') {
      to = c - 'a' + 1;
    } else if (c >= 'A' && c <= 'Z') {
      to = c - 'A' + 1;
    } else if (c >= '0' && c <= '9') {
      to = 27;
    }
    ++fp[32 * from + to];
    from = to;
  }
  ++fp[32 * from + kEdge];
}

int FingerprintDistance(const Fingerprint& a, const Fingerprint& b) {
  int dist = 0;
  for (size_t i = 0; i < a.size(); ++i) dist += std::abs(int{a[i]} - int{b[i]});
  return dist;
}

std::string Registry::Usage(std::span<const std::string> args, bool is_help) const {
  std::vector<const CommandRow*> visible;
  for (const CommandRow* row : rows_) {
    if (!row->usage.empty()) visible.push_back(row);
  }
  size_t length = 0;
  for (const CommandRow* row : visible) length = std::max(length, MatchedWords(*row, args));

  // Words left after the common prefix: propose the closest commands (fingerprint distance,
  // ties keep registration order), listed in sorted order like the rest.
  std::vector<const CommandRow*> listed;
  const char* header = nullptr;
  if (length < args.size() && !args[length].empty()) {
    Fingerprint want{};
    for (size_t i = length; i < args.size() && i < kMaxCommandWords && !args[i].empty(); ++i) {
      AddToFingerprint(want, args[i]);
    }
    std::vector<std::pair<int, const CommandRow*>> scored;
    for (const CommandRow* row : visible) {
      if (MatchedWords(*row, args) != length) continue;
      Fingerprint have{};
      for (size_t i = length; i < WordCount(*row); ++i) AddToFingerprint(have, row->words[i]);
      scored.emplace_back(FingerprintDistance(want, have), row);
    }
    std::stable_sort(scored.begin(), scored.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (size_t i = 0; i < scored.size() && i < kMaxMatches; ++i) {
      listed.push_back(scored[i].second);
    }
    if (!listed.empty()) header = kFuzzyHeader.data();
  }
  if (header == nullptr) {
    for (const CommandRow* row : visible) {
      if (MatchedWords(*row, args) == length) listed.push_back(row);
    }
    if (is_help) {
      header = kValidHeader.data();
    } else {
      header = length > 0 ? kFuzzyHeader.data() : kUnknownHeader.data();
    }
  }
  std::stable_sort(listed.begin(), listed.end(), SortsBefore);

  std::string text = header;
  for (const CommandRow* row : listed) text += UsageLine(row->usage, row->help);
  text += UsageLine("help [<command>]", "list matching or all commands");
  text += UsageLine("prompt", "toggle interactive mode with prompt");
  text += UsageLine("quit", "disconnect");
  return text;
}

std::string WithSeverity(const Session& session, Severity severity, std::string_view text) {
  std::string out;
  if (session.severity_output == SeverityOutput::kNumber) {
    out = "[" + std::to_string(static_cast<int>(severity)) + "]: ";
  } else if (session.severity_output == SeverityOutput::kString) {
    static constexpr const char* kNames[] = {"emerg",   "alert",  "crit", "err",
                                             "warning", "notice", "info", "debug"};
    out = std::string("[") + kNames[static_cast<int>(severity)] + "]: ";
  }
  out += text;
  return out;
}

}  // namespace sluice::cli
