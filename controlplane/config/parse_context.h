// Internal to controlplane/config: the parser's state and the keyword-table types shared by
// parser.cc and the per-section tables (global_cfg.cc, defaults_cfg.cc, dataplane_cfg.cc).
// Not part of the module's API; include config.h instead.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "controlplane/config/config.h"

namespace sluice::config {

using Args = std::vector<std::string>;  // the words of a line; Args[0] is the keyword

enum class Section { kNone, kGlobal, kDefaults, kDataplane, kUnsupported };

struct ParseContext;
struct KeywordRow;

using KeywordHandler = void (*)(ParseContext& ctx, const KeywordRow& row, const Args& args);

enum class Match { kExact, kPrefix };

// One row of a section's keyword table (haproxy `struct cfg_kw_list`). The dispatcher checks
// the argument count against min_args/max_args before calling the handler, so handlers may
// index args[1..min_args] freely.
struct KeywordRow {
  std::string_view keyword;
  Match match;
  KeywordHandler handler;
  int min_args;            // words after the keyword
  int max_args;            // -1: no upper bound
  std::string_view usage;  // completes "'KEYWORD' expects USAGE."
  std::string_view note;   // for ignored keywords: why they mean nothing to sluice
};

std::span<const KeywordRow> GlobalKeywords();
std::span<const KeywordRow> DefaultsKeywords();
std::span<const KeywordRow> DataplaneKeywords();

struct ParseContext {
  Config config;
  std::vector<Diagnostic> diagnostics;

  // Where the parser is: diagnostics from Alert()/Warn() carry these.
  Section section = Section::kNone;
  std::string file;
  int line = 0;
  std::string keyword;

  // Locations remembered for the whole-configuration checks.
  std::string dataplane_file;
  int dataplane_line = 0;
  std::string nbthread_file;
  int nbthread_line = 0;
  std::vector<std::string> route_keywords;  // parallel to config.dataplane.routes

  void Alert(std::string message) { Add(Diagnostic::Severity::kAlert, std::move(message)); }
  void Warn(std::string message) { Add(Diagnostic::Severity::kWarning, std::move(message)); }
  void Add(Diagnostic::Severity severity, std::string message);
  void AddAt(Diagnostic::Severity severity, const std::string& at_file, int at_line,
             std::string at_keyword, std::string message);

  void LoadPath(const std::string& path);
  void LoadFile(const std::string& path);
  void ParseBuffer(std::string_view text, const std::string& file_name);
  void ParseLine(std::string_view text);
  void EnterSection(const Args& args);
  void Dispatch(std::span<const KeywordRow> table, std::string_view section_name, const Args& args);
  ParseOutcome Take();
};

// Checks that need the whole configuration (dataplane_cfg.cc).
void CheckWholeConfig(ParseContext& ctx);

// Helpers shared by the keyword tables.

// `text` in single quotes for a message, non-printable bytes as \xNN, long text cut.
std::string Quoted(std::string_view text);
// Decimal digits only; saturates at UINT64_MAX instead of overflowing.
std::optional<uint64_t> ParseDecimal(std::string_view text);
// Alerts "'KEYWORD' expects an integer between MIN and MAX, got 'TEXT'." on failure.
bool ParseUnsignedArg(ParseContext& ctx, std::string_view text, uint64_t min, uint64_t max,
                      uint64_t* out);
// haproxy's time format: an integer with an optional unit (us, ms, s, m, h, d; ms when none).
std::optional<uint64_t> ParseTimeMs(std::string_view text);
// Handlers for rows that are accepted with a warning.
void IgnoreKeyword(ParseContext& ctx, const KeywordRow& row, const Args& args);
void NotSupportedYet(ParseContext& ctx, const KeywordRow& row, const Args& args);

// Rows for keywords accepted with a warning: "'KW' is ignored: WHY." or "'KW' is not
// supported yet by sluice, ignored."
constexpr KeywordRow IgnoredRow(Match match, std::string_view keyword, std::string_view why) {
  return {keyword, match, &IgnoreKeyword, 0, -1, "", why};
}
constexpr KeywordRow NotYetRow(std::string_view keyword) {
  return {keyword, Match::kExact, &NotSupportedYet, 0, -1, "", ""};
}

}  // namespace sluice::config
