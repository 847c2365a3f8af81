// Slow path: the configuration line lexer. It follows haproxy's parse_line() rules (see
// configuration.txt 2.6, section 2.2 "Quoting and escaping"):
//   - blanks (space, tab) separate words; `#` outside quotes starts a comment;
//   - "double quotes" keep blanks and `#`, expand "${VAR}" and honour backslash escapes;
//   - 'single quotes' take everything literally up to the next single quote;
//   - outside quotes, `\ `, `\#`, `\\`, `\'`, `\"`, `\$`, `\r`, `\n`, `\t` and `\xNN` are
//     escapes, and "${VAR}" is expanded too (an undefined variable expands to nothing);
//   - quoted and unquoted parts glue into one word: `a"b c"d` is the word `ab cd`.
// It never throws on its own and accepts any byte sequence; limits bound every loop.
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "controlplane/config/config.h"

namespace sluice::config {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

bool IsVariableNameChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string Column(size_t index) { return std::to_string(index + 1); }

class LineSplitter {
 public:
  explicit LineSplitter(std::string_view line) : line_(line) {}

  base::Result<std::vector<std::string>> Run();

 private:
  enum class Quote { kNone, kDouble, kSingle };

  // Each returns false after setting error_.
  bool Append(char c);
  bool AppendEscape();    // line_[pos_] is a backslash
  bool AppendVariable();  // line_[pos_] is '$' and line_[pos_ + 1] is '{'
  bool EndWord();
  bool Fail(std::string message) {
    error_ = std::move(message);
    return false;
  }
  bool AtVariable() const {
    return line_[pos_] == '$' && pos_ + 1 < line_.size() && line_[pos_ + 1] == '{';
  }

  std::string_view line_;
  size_t pos_ = 0;
  std::vector<std::string> words_;
  std::string word_;
  bool in_word_ = false;    // a word has started (a character or a quote was seen)
  size_t total_bytes_ = 0;  // bytes in all words, bounded by kMaxLineBytes
  std::string error_;
};

bool LineSplitter::Append(char c) {
  if (++total_bytes_ > kMaxLineBytes) {
    return Fail("line too long after environment variable expansion (limit is " +
                std::to_string(kMaxLineBytes) + " bytes)");
  }
  word_.push_back(c);
  in_word_ = true;
  return true;
}

bool LineSplitter::AppendEscape() {
  const size_t start = pos_;
  if (pos_ + 1 >= line_.size()) {  // a trailing backslash stands for itself
    ++pos_;
    return Append('\\');
  }
  const char next = line_[pos_ + 1];
  switch (next) {
    case ' ':
    case '#':
    case '\\':
    case '\'':
    case '"':
    case '$':
      pos_ += 2;
      return Append(next);
    case 'r':
      pos_ += 2;
      return Append('\r');
    case 'n':
      pos_ += 2;
      return Append('\n');
    case 't':
      pos_ += 2;
      return Append('\t');
    case 'x': {
      const int hi = pos_ + 2 < line_.size() ? HexValue(line_[pos_ + 2]) : -1;
      const int lo = pos_ + 3 < line_.size() ? HexValue(line_[pos_ + 3]) : -1;
      if (hi < 0 || lo < 0) {
        return Fail("truncated or invalid hexadecimal sequence at column " + Column(start));
      }
      if (hi == 0 && lo == 0) return Fail("'\\x00' is not allowed at column " + Column(start));
      pos_ += 4;
      return Append(static_cast<char>(hi * 16 + lo));
    }
    default:  // not an escape: the backslash is kept and the next character read normally
      ++pos_;
      return Append('\\');
  }
}

bool LineSplitter::AppendVariable() {
  const size_t start = pos_;
  const size_t name_begin = pos_ + 2;
  size_t i = name_begin;
  while (i < line_.size() && line_[i] != '}') {
    if (!IsVariableNameChar(line_[i])) {
      return Fail("invalid character in environment variable name at column " + Column(i));
    }
    ++i;
  }
  if (i >= line_.size()) {
    return Fail("missing closing '}' after '${' at column " + Column(start));
  }
  if (i == name_begin) return Fail("empty environment variable name at column " + Column(start));
  const std::string name(line_.substr(name_begin, i - name_begin));
  pos_ = i + 1;
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) return true;
  for (size_t k = 0; value[k] != '\0'; ++k) {
    if (!Append(value[k])) return false;
  }
  return true;
}

bool LineSplitter::EndWord() {
  if (!in_word_) return true;
  if (words_.size() >= kMaxLineWords) {
    return Fail("too many words on the line (limit is " + std::to_string(kMaxLineWords) + ")");
  }
  words_.push_back(std::move(word_));
  word_.clear();
  in_word_ = false;
  return true;
}

base::Result<std::vector<std::string>> LineSplitter::Run() {
  if (line_.size() > kMaxLineBytes) {
    return base::Error{"line too long (limit is " + std::to_string(kMaxLineBytes) + " bytes)"};
  }
  if (!line_.empty() && line_.back() == '\r') line_.remove_suffix(1);  // CRLF files
  const size_t nul = line_.find('\0');
  if (nul != std::string_view::npos) {
    return base::Error{"NUL character at column " + Column(nul)};
  }

  Quote quote = Quote::kNone;
  size_t quote_start = 0;
  bool ok = true;
  while (ok && pos_ < line_.size()) {
    const char c = line_[pos_];
    if (quote == Quote::kSingle) {
      if (c == '\'') {
        quote = Quote::kNone;
        ++pos_;
      } else {
        ++pos_;
        ok = Append(c);
      }
    } else if (quote == Quote::kDouble) {
      if (c == '"') {
        quote = Quote::kNone;
        ++pos_;
      } else if (c == '\\') {
        ok = AppendEscape();
      } else if (AtVariable()) {
        ok = AppendVariable();
      } else {
        ++pos_;
        ok = Append(c);
      }
    } else if (IsBlank(c)) {
      ++pos_;
      ok = EndWord();
    } else if (c == '#') {
      break;
    } else if (c == '"' || c == '\'') {
      quote = c == '"' ? Quote::kDouble : Quote::kSingle;
      quote_start = pos_;
      in_word_ = true;  // "" is an empty word
      ++pos_;
    } else if (c == '\\') {
      ok = AppendEscape();
    } else if (AtVariable()) {
      ok = AppendVariable();
    } else {
      ++pos_;
      ok = Append(c);
    }
  }
  if (!ok) return base::Error{error_};
  if (quote != Quote::kNone) {
    return base::Error{std::string("unmatched ") + (quote == Quote::kDouble ? "double" : "single") +
                       " quote starting at column " + Column(quote_start)};
  }
  if (!EndWord()) return base::Error{error_};
  return std::move(words_);
}

}  // namespace

base::Result<std::vector<std::string>> SplitLine(std::string_view line) {
  return LineSplitter(line).Run();
}

}  // namespace sluice::config
