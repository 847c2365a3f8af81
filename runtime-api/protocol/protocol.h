// Slow path. The stats socket's wire protocol, as HAProxy 2.6 speaks it
// (../shared/compat/haproxy-2.6/RUNTIME-API.md section 1): a request line holds one or more
// commands separated by `;`, each command is words separated by blanks, a backslash escapes
// the next byte (`\;`, `\\`, `\ `), and a line ending in ` <<` takes the following lines as
// its payload up to an empty line. Also the bounded, resumable output writer through which
// every command answers.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::cli {

// haproxy's MAX_CLI_ARGS: words past this one are glued to the last word, as haproxy does.
inline constexpr size_t kMaxArgs = 64;
// haproxy's tune.bufsize default: the longest request line (or line plus payload).
inline constexpr size_t kMaxRequestBytes = 16384;

// Splits a request line at every `;` not escaped by a backslash. Escapes are kept in the
// pieces (SplitWords removes them). "a;b" -> {"a", "b"}; "a\;b" -> {"a\;b"}; "" -> {""}.
std::vector<std::string> SplitChain(std::string_view line);

// Splits one command into words at unescaped blanks (space, tab) and removes the escapes:
// `\X` becomes X for any X, so `\\` is one backslash and `\ ` a blank inside a word. A
// trailing lone backslash is dropped. At most kMaxArgs words; the rest of the line is kept
// unsplit (escapes removed) in the last one.
std::vector<std::string> SplitWords(std::string_view command);

// True when `line` asks for a payload: it ends with "<<" preceded by a blank (or is "<<").
// The marker must not be glued to the last word (haproxy's rule).
bool HasPayloadMarker(std::string_view line);
// `line` without its payload marker and the blanks before it.
std::string_view StripPayloadMarker(std::string_view line);

// A bounded output buffer. Commands write whole records (a line, a JSON object) with Put,
// which writes all or nothing: when the record does not fit, the command's dump step returns
// DumpStatus::kMore and is called again once the client has drained the buffer (haproxy's
// applet_putstr()/io_handler contract). An empty buffer accepts one record of any size, so a
// record longer than the capacity cannot stall a dump (the overshoot is that one record).
class Writer {
 public:
  Writer(std::string& out, size_t capacity) : out_(out), capacity_(capacity) {}
  bool Put(std::string_view record);
  // Appends regardless of room: terminators and prompts (a few bytes).
  void Force(std::string_view bytes) { out_.append(bytes); }
  size_t Room() const { return out_.size() >= capacity_ ? 0 : capacity_ - out_.size(); }
  bool Empty() const { return out_.empty(); }

 private:
  std::string& out_;
  size_t capacity_;
};

}  // namespace sluice::cli
