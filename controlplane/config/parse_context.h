// Internal to controlplane/config: the parser's state and the keyword-table types shared by
// parser.cc and the per-section tables (global_cfg.cc, defaults_cfg.cc, proxy_cfg.cc,
// server_cfg.cc, dataplane_cfg.cc). Not part of the module's API; include config.h instead.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "controlplane/config/config.h"
#include "dataplane/base/result.h"
#include "dataplane/net/addr.h"

namespace sluice::config {

using Args = std::vector<std::string>;  // the words of a line; Args[0] is the keyword

// kProxy: a frontend, backend or listen section (config.proxies.back()). kUnsupported: a
// section whose body is skipped after one alert at its header.
// kUserlist: config.userlists.back(); kHttpErrors: config.http_errors.back(); kSkipped: a
// duplicate (or unnamed) section, whose body is ignored.
enum class Section {
  kNone,
  kGlobal,
  kDefaults,
  kDataplane,
  kProxy,
  kUserlist,
  kHttpErrors,
  kSkipped,
  kUnsupported
};

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
// One table for `defaults`, `frontend`, `backend` and `listen`, as haproxy has: handlers
// check what the section allows.
std::span<const KeywordRow> ProxyKeywords();
std::span<const KeywordRow> DataplaneKeywords();
// The rule keywords of proxy sections (rules_cfg.cc): acl, http-request, http-response,
// tcp-request, use_backend. They are kept as written and compiled by controlplane/rules.
std::span<const KeywordRow> RulesKeywords();
bool IsRulesKeyword(std::string_view word);

// A line seen earlier, for diagnostics issued later (inherited settings, whole-configuration
// checks).
struct Origin {
  std::string file;
  int line = 0;  // 0: nothing was written
  std::string keyword;
  bool IsSet() const { return line > 0; }
};

// Parse state of a `defaults` or proxy section that the model does not keep.
struct SectionState {
  Origin header;                // the section's first line
  Origin balance;               // an algorithm sluice refuses, in effect from a defaults section
  std::string balance_text;     // its words, e.g. "balance uri"
  Origin default_backend;       // where `default_backend` was written
  Origin id;                    // where `id N` was written
  bool own_expect = false;      // `http-check expect` written in this very section
  ServerConfig default_server;  // proxies: the `default-server` params in effect
};

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
  std::vector<std::string> route_keywords;   // parallel to config.dataplane.routes
  std::vector<SectionState> defaults_state;  // parallel to config.defaults
  std::vector<SectionState> proxy_state;     // parallel to config.proxies
  uint64_t reply_seq = 0;                    // orders errorfile, errorfiles and http-error

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

// Section headers: `defaults [NAME] [from NAME]` (defaults_cfg.cc) and `frontend|backend|
// listen NAME [from DEFAULTS]` (proxy_cfg.cc).
void EnterDefaults(ParseContext& ctx, const Args& args);
void EnterProxy(ParseContext& ctx, const Args& args);

// Checks that need the whole configuration: dataplane_cfg.cc, then the proxies' (links
// between proxies, ids, binds; resolve_cfg.cc).
void CheckWholeConfig(ParseContext& ctx);
// The section a proxy keyword is read in (proxy_cfg.cc), for the keyword files beside it.
bool InDefaults(const ParseContext& ctx);
// The settings the current line changes: the defaults section's typed copy or the proxy.
ProxyConfig& Target(ParseContext& ctx);
SectionState& State(ParseContext& ctx);
Origin Here(const ParseContext& ctx);
// Alerts and returns true when the current section is a defaults section: for keywords only a
// proxy may carry.
bool RefuseInDefaults(ParseContext& ctx);
enum Capability : unsigned { kFrontendCap = 1, kBackendCap = 2 };
// True when the current section has one of the capabilities `caps`; else warns, as haproxy
// does, that `what` is ignored.
bool Allowed(ParseContext& ctx, unsigned caps, const std::string& what);

// resolve_cfg.cc: a server's `fastinter` and `downinter` as the workers use them (`inter`
// when not given).
void ResolveCheckTimes(ServerConfig& s);
// stats_cfg.cc: `stats ...` in a proxy section (the statistics page).
void Stats(ParseContext& ctx, const KeywordRow& row, const Args& args);
// stick_cfg.cc: `stick-table` in a proxy section.
void StickTable(ParseContext& ctx, const KeywordRow& row, const Args& args);
// A file the configuration names (certificates, keys, CA and CRL files, errorfiles), read
// whole when it holds at most `max_bytes`: never more than max_bytes + 1 bytes are read, so
// /dev/zero or a huge file cannot hold the parser.
enum class FileRead { kOk, kCannotOpen, kTooBig };
FileRead ReadBoundedFile(const std::string& path, size_t max_bytes, std::string* out);
inline constexpr size_t kMaxTlsFileBytes = 1 << 20;  // a PEM bundle, a CRL, a key file

// bind_cfg.cc: `bind` in a frontend or listen section; ssl_bind_cfg.cc: the global
// section's `ssl-default-bind-*` defaults for its TLS options, `crt-base` and `ca-base`.
void Bind(ParseContext& ctx, const KeywordRow& row, const Args& args);
void SslDefaultBind(ParseContext& ctx, const KeywordRow& row, const Args& args);
// The TLS versions `ssl-min-ver` and `ssl-max-ver` name (SSLv3, TLSv1.0 .. TLSv1.3), as on
// the wire.
std::optional<uint16_t> TlsVersion(std::string_view name);
// `tune.ssl.lifetime|maxrecord|default-dh-param`, `ssl-server-verify`, `ssl-load-extra-files`.
void SslGlobal(ParseContext& ctx, const KeywordRow& row, const Args& args);
// A bind line's options after its addresses (ssl_bind_cfg.cc): alerts and returns false on
// the first it cannot take; `tls` is set when `ssl` is given. `where` names the line.
bool ParseBindOptions(ParseContext& ctx, const Args& args, const std::string& where,
                      std::optional<BindTlsConfig>* tls);
// check_cfg.cc: `http-check` in a proxy section.
void HttpCheck(ParseContext& ctx, const KeywordRow& row, const Args& args);
// reply_cfg.cc: `errorfile`, `errorfiles` and `http-error` in a proxy section; http-errors
// sections; the proxies' `errorfiles` resolved once every section is read.
void Errorfile(ParseContext& ctx, const KeywordRow& row, const Args& args);
void Errorfiles(ParseContext& ctx, const KeywordRow& row, const Args& args);
void HttpError(ParseContext& ctx, const KeywordRow& row, const Args& args);
void EnterHttpErrors(ParseContext& ctx, const Args& args);
std::span<const KeywordRow> HttpErrorsKeywords();
void ResolveErrorfiles(ParseContext& ctx);
// userlist_cfg.cc: the section, its keywords, and the check of its names once all is read.
void EnterUserlist(ParseContext& ctx, const Args& args);
std::span<const KeywordRow> UserlistKeywords();
void CheckUserlists(ParseContext& ctx);
void CheckProxies(ParseContext& ctx);

// The `server` and `default-server` keywords (server_cfg.cc).
void ServerKeyword(ParseContext& ctx, const KeywordRow& row, const Args& args);
void DefaultServerKeyword(ParseContext& ctx, const KeywordRow& row, const Args& args);

// An address as haproxy writes it on `bind` and `server` lines: `A:P`, `[A]:P`, `:P`, `*:P`,
// an IPv6 address whose last colon starts the port (`fd10::1:80`, `:::80`), each optionally
// prefixed by `ipv4@` or `ipv6@`. The port text is checked by the caller.
struct Endpoint {
  net::IpAddr addr;
  bool any = false;       // the host was empty, `*`, 0.0.0.0 or ::
  bool has_port = false;  // a port separator was written
  std::string_view port;  // the text after it
};
// The error explains what is wrong with `text` (without naming the keyword).
base::Result<Endpoint> ParseEndpoint(std::string_view text);
// "10.0.0.1:80", "[fd10::1]:80", "*:80" (any IPv4) or "[::]:80" (any IPv6).
std::string EndpointText(const net::IpAddr& addr, bool any, uint16_t port);

// Checks the words of a `log` line (args[1..]) the way haproxy reads them; `log global` is
// allowed when `allow_global`. Alerts and returns false when they are wrong; else returns
// them joined by single spaces in `*out`.
bool ParseLogLine(ParseContext& ctx, const Args& args, bool allow_global, std::string* out);

// Helpers shared by the keyword tables.

// `text` in single quotes for a message, non-printable bytes as \xNN, long text cut.
std::string Quoted(std::string_view text);
// Decimal digits only; saturates at UINT64_MAX instead of overflowing.
std::optional<uint64_t> ParseDecimal(std::string_view text);
// The items of a comma list, empty ones included ("a,,b" has three).
std::vector<std::string_view> CommaItems(std::string_view list);
// "N" or "N-M" into [lo, hi] (lo == hi for "N"); false when either is not decimal.
bool ParseRange(std::string_view text, uint64_t* lo, uint64_t* hi);
// Alerts "'KEYWORD' expects an integer between MIN and MAX, got 'TEXT'." on failure.
bool ParseUnsignedArg(ParseContext& ctx, std::string_view text, uint64_t min, uint64_t max,
                      uint64_t* out);
// haproxy's time format: an integer with an optional unit (us, ms, s, m, h, d; ms when none).
std::optional<uint64_t> ParseTimeMs(std::string_view text);
inline constexpr uint64_t kMaxTimeoutMs = INT32_MAX;  // haproxy's timer limit
// haproxy's invalid_char(): names of proxies and servers use A-Z, a-z, 0-9, '-', '_', '.'
// and ':'. Returns the first other character, or nothing.
std::optional<char> InvalidNameChar(std::string_view name);
// "FILE:LINE".
std::string At(const std::string& file, int line);
// "frontend", "backend" or "listen".
std::string_view KindName(ProxyConfig::Kind kind);
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
