// Slow path: the configuration parser. Lines come from the lexer (lexer.cc); the first word
// of a line is either a section header or a keyword looked up in the current section's
// table (global_cfg.cc, proxy_cfg.cc, dataplane_cfg.cc hold the tables). Every problem
// is collected as a Diagnostic; nothing escapes as an exception.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "controlplane/config/config.h"
#include "controlplane/config/parse_context.h"

namespace sluice::config {
namespace {

constexpr size_t kMaxFileBytes = 64u << 20;

// Sections that later versions of sluice bring: recognised so that their bodies are skipped
// quietly after one alert at the header.
constexpr std::string_view kUnsupportedSections[] = {
    "peers", "resolvers", "cache", "program", "ring", "mailers", "fcgi-app", "log-forward",
};

bool IsProxySection(std::string_view word) {
  return word == "frontend" || word == "backend" || word == "listen";
}

bool IsUnsupportedSection(std::string_view word) {
  return std::find(std::begin(kUnsupportedSections), std::end(kUnsupportedSections), word) !=
         std::end(kUnsupportedSections);
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

void ParseContext::Add(Diagnostic::Severity severity, std::string message) {
  Diagnostic d;
  d.severity = severity;
  d.file = file;
  d.line = line;
  d.keyword = keyword;
  d.message = std::move(message);
  diagnostics.push_back(std::move(d));
}

void ParseContext::AddAt(Diagnostic::Severity severity, const std::string& at_file, int at_line,
                         std::string at_keyword, std::string message) {
  Diagnostic d;
  d.severity = severity;
  d.file = at_file;
  d.line = at_line;
  d.keyword = std::move(at_keyword);
  d.message = std::move(message);
  diagnostics.push_back(std::move(d));
}

std::string Quoted(std::string_view text) {
  constexpr size_t kMaxShown = 80;
  std::string out = "'";
  for (size_t i = 0; i < text.size(); ++i) {
    if (i == kMaxShown) {
      out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c >= 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  out += "'";
  return out;
}

std::string At(const std::string& file, int line) { return file + ":" + std::to_string(line); }

std::string_view KindName(ProxyConfig::Kind kind) {
  switch (kind) {
    case ProxyConfig::Kind::kFrontend:
      return "frontend";
    case ProxyConfig::Kind::kBackend:
      return "backend";
    case ProxyConfig::Kind::kListen:
      return "listen";
  }
  return "proxy";
}

std::optional<char> InvalidNameChar(std::string_view name) {
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.' || c == ':';
    if (!ok) return c;
  }
  return std::nullopt;
}

std::optional<uint64_t> ParseDecimal(std::string_view text) {
  if (text.empty()) return std::nullopt;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<uint64_t>(c - '0');
    v = v > (UINT64_MAX - digit) / 10 ? UINT64_MAX : v * 10 + digit;  // saturate
  }
  return v;
}

std::vector<std::string_view> CommaItems(std::string_view list) {
  std::vector<std::string_view> items;
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t comma = list.find(',', pos);
    if (comma == std::string_view::npos) comma = list.size();
    items.push_back(list.substr(pos, comma - pos));
    pos = comma + 1;
  }
  return items;
}

bool ParseRange(std::string_view text, uint64_t* lo, uint64_t* hi) {
  const size_t dash = text.find('-');
  const auto a = ParseDecimal(text.substr(0, dash));
  const auto b = dash == std::string_view::npos ? a : ParseDecimal(text.substr(dash + 1));
  if (!a || !b) return false;
  *lo = *a;
  *hi = *b;
  return true;
}

bool ParseUnsignedArg(ParseContext& ctx, std::string_view text, uint64_t min, uint64_t max,
                      uint64_t* out) {
  const auto v = ParseDecimal(text);
  if (!v || *v < min || *v > max) {
    ctx.Alert("'" + ctx.keyword + "' expects an integer between " + std::to_string(min) + " and " +
              std::to_string(max) + ", got " + Quoted(text) + ".");
    return false;
  }
  *out = *v;
  return true;
}

void IgnoreKeyword(ParseContext& ctx, const KeywordRow& row, const Args& args) {
  ctx.Warn(Quoted(args[0]) + " is ignored: " + std::string(row.note) + ".");
}

void NotSupportedYet(ParseContext& ctx, const KeywordRow&, const Args& args) {
  ctx.Warn(Quoted(args[0]) + " is not supported yet by sluice, ignored.");
}

void ParseContext::Dispatch(std::span<const KeywordRow> table, std::string_view section_name,
                            const Args& args) {
  const std::string_view word = args[0];
  const KeywordRow* found = nullptr;
  for (const KeywordRow& row : table) {
    const bool match = row.match == Match::kExact
                           ? word == row.keyword
                           : word.substr(0, row.keyword.size()) == row.keyword;
    if (match) {
      found = &row;
      break;
    }
  }
  if (found == nullptr) {
    Alert("unknown keyword " + Quoted(word) + " in '" + std::string(section_name) + "' section");
    return;
  }
  const size_t given = args.size() - 1;
  if (given < static_cast<size_t>(found->min_args)) {
    Alert(Quoted(word) + " expects " + std::string(found->usage) + ".");
    return;
  }
  if (found->max_args >= 0 && given > static_cast<size_t>(found->max_args)) {
    Alert(Quoted(word) + " expects " + std::string(found->usage) + ", got extra argument " +
          Quoted(args[static_cast<size_t>(found->max_args) + 1]) + ".");
    return;
  }
  found->handler(*this, *found, args);
}

void ParseContext::EnterSection(const Args& args) {
  const std::string& name = args[0];
  if (IsUnsupportedSection(name)) {
    Alert("section " + Quoted(name) + " is not supported yet by sluice");
    section = Section::kUnsupported;
    return;
  }
  if (name == "global") {
    section = Section::kGlobal;
    if (args.size() > 1) Alert("'global' section takes no argument, got " + Quoted(args[1]) + ".");
    return;
  }
  if (name == "dataplane") {
    section = Section::kDataplane;
    if (!config.dataplane.present) {
      config.dataplane.present = true;
      dataplane_file = file;
      dataplane_line = line;
    }
    if (args.size() > 1) {
      Alert("'dataplane' section takes no argument, got " + Quoted(args[1]) + ".");
    }
    return;
  }
  if (IsProxySection(name)) {
    EnterProxy(*this, args);
    return;
  }
  if (name == "userlist") {
    EnterUserlist(*this, args);
    return;
  }
  if (name == "http-errors") {
    EnterHttpErrors(*this, args);
    return;
  }
  EnterDefaults(*this, args);
}

void ParseContext::ParseLine(std::string_view text) {
  keyword.clear();
  auto words = SplitLine(text);
  if (!words.ok()) {
    if (section != Section::kUnsupported) Alert(words.error() + ".");
    return;
  }
  Args& args = words.value();
  if (args.empty()) return;
  const std::string& word = args[0];
  keyword = word;
  if (word == "global" || word == "defaults" || word == "dataplane" || IsProxySection(word) ||
      word == "userlist" || word == "http-errors" || IsUnsupportedSection(word)) {
    EnterSection(args);
    return;
  }
  switch (section) {
    case Section::kNone:
      Alert("unknown keyword " + Quoted(word) + " out of section.");
      return;
    case Section::kUnsupported:
    case Section::kSkipped:
      return;
    case Section::kUserlist:
      Dispatch(UserlistKeywords(), "userlist", args);
      return;
    case Section::kHttpErrors:
      Dispatch(HttpErrorsKeywords(), "http-errors", args);
      return;
    case Section::kGlobal:
      Dispatch(GlobalKeywords(), "global", args);
      return;
    case Section::kDefaults:
      Dispatch(IsRulesKeyword(word) ? RulesKeywords() : ProxyKeywords(), "defaults", args);
      return;
    case Section::kProxy:
      Dispatch(IsRulesKeyword(word) ? RulesKeywords() : ProxyKeywords(),
               KindName(config.proxies.back().kind), args);
      return;
    case Section::kDataplane:
      Dispatch(DataplaneKeywords(), "dataplane", args);
      return;
  }
}

void ParseContext::ParseBuffer(std::string_view text, const std::string& file_name) {
  config.files.push_back(file_name);
  file = file_name;
  section = Section::kNone;  // like haproxy, each file starts outside any section
  line = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    ++line;
    ParseLine(text.substr(pos, end - pos));
    pos = end + 1;
  }
  keyword.clear();
  line = 0;
}

void ParseContext::LoadFile(const std::string& path) {
  file = path;
  line = 0;
  keyword.clear();
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    const int err = errno;
    Alert("Could not open configuration file " + path + " : " + std::strerror(err));
    return;
  }
  std::string text;
  char buf[65536];
  bool too_big = false;
  bool read_error = false;
  for (;;) {
    const size_t n = std::fread(buf, 1, sizeof buf, f);
    if (n > 0) {
      if (text.size() + n > kMaxFileBytes) {
        too_big = true;
        break;
      }
      text.append(buf, n);
    }
    if (n < sizeof buf) {
      read_error = std::ferror(f) != 0;
      break;
    }
  }
  const int err = errno;
  std::fclose(f);
  if (too_big) {
    Alert("configuration file " + path + " is larger than " + std::to_string(kMaxFileBytes >> 20) +
          " MiB");
    return;
  }
  if (read_error) {
    Alert("Could not read configuration file " + path + " : " + std::strerror(err));
    return;
  }
  ParseBuffer(text, path);
}

void ParseContext::LoadPath(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(fs::path(path), ec)) {
    LoadFile(path);
    return;
  }
  std::vector<std::string> names;
  fs::directory_iterator it(fs::path(path), ec);
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::error_code type_ec;
    if (EndsWith(name, ".cfg") && it->is_regular_file(type_ec)) names.push_back(name);
  }
  if (ec) {
    file = path;
    line = 0;
    keyword.clear();
    Alert("Could not read configuration directory " + path + " : " + ec.message());
    return;
  }
  std::sort(names.begin(), names.end());
  const bool has_slash = !path.empty() && path.back() == '/';
  for (const std::string& name : names) LoadFile(has_slash ? path + name : path + "/" + name);
}

ParseOutcome ParseContext::Take() {
  ParseOutcome outcome;
  outcome.config = std::move(config);
  outcome.diagnostics = std::move(diagnostics);
  return outcome;
}

namespace {

// Runs `body`, turning anything thrown (allocation failure, a bug) into an alert so that the
// callers' promise of never throwing holds.
template <class Body>
ParseOutcome Guarded(Body body) {
  ParseContext ctx;
  try {
    body(ctx);
    CheckWholeConfig(ctx);
    ResolveErrorfiles(ctx);
    CheckProxies(ctx);
    CheckUserlists(ctx);
  } catch (const std::exception& e) {
    ctx.AddAt(Diagnostic::Severity::kAlert, ctx.file, ctx.line, ctx.keyword,
              std::string("internal error while parsing the configuration: ") + e.what());
  } catch (...) {
    ctx.AddAt(Diagnostic::Severity::kAlert, ctx.file, ctx.line, ctx.keyword,
              "internal error while parsing the configuration");
  }
  return ctx.Take();
}

}  // namespace

bool ParseOutcome::HasErrors() const {
  return std::any_of(diagnostics.begin(), diagnostics.end(), [](const Diagnostic& d) {
    return d.severity == Diagnostic::Severity::kAlert;
  });
}

ParseOutcome ParseFiles(const std::vector<std::string>& paths) {
  return Guarded([&](ParseContext& ctx) {
    for (const std::string& path : paths) ctx.LoadPath(path);
  });
}

ParseOutcome ParseText(const std::string& text, const std::string& file_name) {
  return Guarded([&](ParseContext& ctx) { ctx.ParseBuffer(text, file_name); });
}

std::string FormatDiagnostic(const Diagnostic& d, int pid) {
  std::string out = d.severity == Diagnostic::Severity::kAlert ? "[ALERT]    (" : "[WARNING]  (";
  out += std::to_string(pid);
  out += ") : config : ";
  if (d.line > 0) {
    out += "parsing [";
    out += d.file;
    out += ':';
    out += std::to_string(d.line);
    out += "] : ";
  }
  out += d.message;
  return out;
}

}  // namespace sluice::config
