// `http-check` in backends: the request a health check sends (`http-check send`) and what
// its answer must show (`http-check expect`); `option httpchk` is read with the other options
// (proxy_cfg.cc).
#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>
#include <vector>

#include "controlplane/config/parse_context.h"

#define PCRE2_CODE_UNIT_WIDTH 8

namespace sluice::config {
namespace {

template <size_t N>
bool OneOf(const std::string& word, const std::string_view (&list)[N]) {
  return std::find(std::begin(list), std::end(list), word) != std::end(list);
}

// `http-check expect` rules per backend (the workers run them on each answer).
constexpr size_t kMaxExpects = 16;

// Codes from 100 to 599 as `status` lists them: a comma list of codes and ranges.
bool ParseStatusList(ParseContext& ctx, std::string_view list, std::vector<unsigned>* codes) {
  for (const std::string_view item : CommaItems(list)) {
    uint64_t lo = 0, hi = 0;
    if (!ParseRange(item, &lo, &hi) || lo < 100 || hi > 599 || lo > hi) {
      ctx.Alert(
          "'http-check expect status' expects status codes between 100 and 599, alone or "
          "as ranges, separated by commas (200,300-399), got " +
          Quoted(list) + ".");
      return false;
    }
    for (uint64_t c = lo; c <= hi; ++c) {
      if (std::find(codes->begin(), codes->end(), c) == codes->end()) {
        codes->push_back(static_cast<unsigned>(c));
      }
    }
  }
  return true;
}

// The codes from 100 to 599 whose three digits `rstatus REGEX` matches (HAProxy matches the
// status code's text): the regex runs here, once per code, and the workers test a set.
bool ParseStatusRegex(ParseContext& ctx, const std::string& regex, std::vector<unsigned>* codes) {
  std::string error;
  const check::Regex re = check::CompileRegex(regex, &error);
  if (!re) {
    ctx.Alert("'http-check expect rstatus': failed to compile regex " + Quoted(regex) + ": " +
              error + ".");
    return false;
  }
  pcre2_real_match_data_8* md = check::NewMatchData();
  for (unsigned code = 100; code <= 599; ++code) {
    if (check::RegexMatches(re.get(), std::to_string(code), md)) codes->push_back(code);
  }
  check::FreeMatchData(md);
  return true;
}

// hdr's `-m` method.
bool ParseHeaderMatch(ParseContext& ctx, const std::string& what, const std::string& m,
                      check::HeaderMatch* out) {
  static constexpr std::pair<std::string_view, check::HeaderMatch> kMethods[] = {
      {"str", check::HeaderMatch::kStr}, {"beg", check::HeaderMatch::kBeg},
      {"end", check::HeaderMatch::kEnd}, {"sub", check::HeaderMatch::kSub},
      {"reg", check::HeaderMatch::kReg}};
  for (const auto& [name, method] : kMethods) {
    if (m == name) {
      *out = method;
      return true;
    }
  }
  if (m.empty()) {
    ctx.Alert("'http-check expect' : '" + what +
              "' : '-m' expects at a matching pattern ('str', 'beg', 'end', 'sub' or 'reg').");
  } else {
    ctx.Alert("'http-check expect' : '" + what +
              "' : '-m' only supports 'str', 'beg', 'end', 'sub' or 'reg' (got " + Quoted(m) +
              ").");
  }
  return false;
}

bool CheckRegex(ParseContext& ctx, const std::string& what, const std::string& regex) {
  std::string error;
  if (check::CompileRegex(regex, &error)) return true;
  ctx.Alert("'http-check expect " + what + "': failed to compile regex " + Quoted(regex) + ": " +
            error + ".");
  return false;
}

// hdr|fhdr name [-m M] NAME [value [-m M] VALUE], from args[at] (the word hdr or fhdr).
// Returns the next argument's index, or 0 after an alert.
size_t ParseHeaderExpect(ParseContext& ctx, const Args& args, size_t at, HttpCheckExpect* e) {
  const std::string what = args[at];
  e->kind = check::ExpectKind::kHeader;
  e->full = what == "fhdr";
  const auto arg = [&](size_t i) { return i < args.size() ? args[i] : std::string(); };
  if (arg(at + 1) != "name" || arg(at + 2).empty()) {
    ctx.Alert("'http-check expect' : '" + what +
              "' expects at the name keyword as first argument followed by a pattern.");
    return 0;
  }
  size_t i = at + 2;
  if (arg(i) == "-m") {
    if (!ParseHeaderMatch(ctx, what, arg(i + 1), &e->name_match)) return 0;
    i += 2;
  }
  e->pattern = arg(i);
  if (e->pattern.empty()) {
    ctx.Alert("'http-check expect' : '" + what +
              "' expects at the name keyword as first argument followed by a pattern.");
    return 0;
  }
  if (e->name_match == check::HeaderMatch::kReg) {
    if (!CheckRegex(ctx, what, e->pattern)) return 0;
  } else {
    // Names are compared lower-case, as HAProxy stores them.
    for (char& c : e->pattern) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  ++i;
  if (arg(i) != "value") return i;
  ++i;
  if (arg(i) == "-m") {
    if (!ParseHeaderMatch(ctx, what, arg(i + 1), &e->value_match)) return 0;
    i += 2;
  }
  if (i >= args.size() || args[i].empty()) {
    ctx.Alert("'http-check expect' : '" + what + "' expect a pattern with the value keyword.");
    return 0;
  }
  e->has_value = true;
  e->value = args[i];
  if (e->value_match == check::HeaderMatch::kReg && !CheckRegex(ctx, what, e->value)) return 0;
  return i + 1;
}

constexpr std::string_view kExpectOptions[] = {"min-recv",     "comment",    "ok-status",
                                                "error-status", "tout-status", "on-success",
                                                "on-error",     "status-code"};

// http-check expect [!] status CODES | rstatus REGEX | string TEXT | rstring REGEX |
// hdr|fhdr name [-m M] NAME [value [-m M] VALUE]: one more rule the answer to a check must
// pass, in the order written (HAProxy 2.6's tcp-check rules). HAProxy's options (min-recv,
// comment, ok-status, ...) and its log-format forms (string-lf, name-lf, value-lf) are
// refused.
void ParseHttpCheckExpect(ParseContext& ctx, const Args& args) {
  ctx.keyword = "http-check";
  if (!Allowed(ctx, kBackendCap, "http-check expect")) return;
  if (args.size() < 3) {
    ctx.Alert("'http-check expect' expects at least a matching pattern as arguments.");
    return;
  }
  HttpCheckExpect e;
  size_t at = 2;
  std::string match = args[at];
  while (!match.empty() && match[0] == '!') {  // "!" alone or glued to the match, as HAProxy
    e.negate = !e.negate;
    match.erase(0, 1);
    if (match.empty() && at + 1 < args.size()) match = args[++at];
  }
  if (OneOf(match, kExpectOptions)) {
    ctx.Alert("'http-check expect' : '" + match + "' is not supported by sluice.");
    return;
  }
  size_t next = 0;
  if (match == "hdr" || match == "fhdr") {
    Args words = args;
    words[at] = match;
    next = ParseHeaderExpect(ctx, words, at, &e);
    if (next == 0) return;
  } else if (match == "status" || match == "rstatus" || match == "string" ||
             match == "rstring") {
    if (at + 1 >= args.size() || args[at + 1].empty()) {
      ctx.Alert("'http-check expect' : '" + match + "' expects a <pattern> as argument.");
      return;
    }
    const std::string& pattern = args[at + 1];
    next = at + 2;
    if (match == "status" || match == "rstatus") {
      e.kind = check::ExpectKind::kStatus;
      if (match == "status" && !ParseStatusList(ctx, pattern, &e.codes)) return;
      if (match == "rstatus" && !ParseStatusRegex(ctx, pattern, &e.codes)) return;
      if (e.negate) {
        std::vector<unsigned> others;
        for (unsigned c = 100; c <= 599; ++c) {
          if (std::find(e.codes.begin(), e.codes.end(), c) == e.codes.end()) others.push_back(c);
        }
        e.codes = std::move(others);
        e.negate = false;
      }
    } else {
      e.kind = match == "string" ? check::ExpectKind::kString : check::ExpectKind::kRegex;
      if (e.kind == check::ExpectKind::kRegex && !CheckRegex(ctx, match, pattern)) return;
    }
    e.pattern = pattern;
  } else {
    ctx.Alert(
        "'http-check expect' supports [!] status CODES, rstatus REGEX, string TEXT, rstring "
        "REGEX, hdr and fhdr in sluice" +
        (match.empty() ? std::string() : ", got " + Quoted(match)) + ".");
    return;
  }
  if (next < args.size()) {
    const std::string& extra = args[next];
    ctx.Alert(OneOf(extra, kExpectOptions)
                  ? "'http-check expect' : '" + extra + "' is not supported by sluice."
                  : "'http-check expect' : only one pattern expected, got extra argument " +
                        Quoted(extra) + ".");
    return;
  }
  SectionState& state = State(ctx);
  ProxyConfig& p = Target(ctx);
  if (!state.own_expect) p.http_expects.clear();  // a section's own rules replace the defaults'
  state.own_expect = true;
  if (p.http_expects.size() >= kMaxExpects) {
    ctx.Alert("'http-check expect': sluice runs at most " + std::to_string(kMaxExpects) +
              " rules per section; this one is past that.");
    return;
  }
  p.http_expects.push_back(std::move(e));
}

constexpr std::string_view kHttpCheckNotYet[] = {
    "connect", "comment", "set-var", "set-var-fmt", "unset-var", "send-state", "disable-on-404",
};

// http-check send [meth M] [uri U] [ver V] [hdr NAME VALUE]... [body TEXT]: the check's
// request.
void HttpCheckSend(ParseContext& ctx, const Args& args) {
  ctx.keyword = "http-check";
  if (!Allowed(ctx, kBackendCap, "http-check send")) return;
  ProxyConfig& p = Target(ctx);
  std::vector<std::pair<std::string, std::string>> headers;
  std::string meth = p.httpchk_method, uri = p.httpchk_uri, ver = p.httpchk_version;
  std::string body = p.httpchk_body;
  for (size_t i = 2; i < args.size(); ++i) {
    const std::string& k = args[i];
    if ((k == "meth" || k == "uri" || k == "ver") && i + 1 < args.size()) {
      (k == "meth" ? meth : k == "uri" ? uri : ver) = args[++i];
    } else if (k == "hdr" && i + 2 < args.size()) {
      headers.emplace_back(args[i + 1], args[i + 2]);
      i += 2;
    } else if (k == "body") {
      if (i + 1 >= args.size() || args[i + 1].empty()) {
        ctx.Alert("'http-check send' : 'body' expects a string as argument.");
        return;
      }
      body = args[++i];
    } else {
      ctx.Alert("'http-check send' supports meth, uri, ver, hdr NAME VALUE and body TEXT in "
                "sluice, got " + Quoted(k) + ".");
      return;
    }
  }
  ProxyConfig with = p;
  with.httpchk_method = meth;
  with.httpchk_uri = uri;
  with.httpchk_version = ver;
  with.httpchk_headers = headers;
  with.httpchk_body = body;
  const size_t len = HealthCheckRequest(with).size();
  if (len > 255) {  // proxy::BackendSnap::httpchk_request
    ctx.Alert("'http-check send' makes a request of " + std::to_string(len) +
              " bytes; sluice sends at most 255.");
    return;
  }
  p.httpchk_method = meth;
  p.httpchk_uri = uri;
  p.httpchk_version = ver;
  p.httpchk_headers = std::move(headers);
  p.httpchk_body = std::move(body);
}

}  // namespace

std::string HealthCheckRequest(const ProxyConfig& p) {
  std::string r = p.httpchk_method + " " + p.httpchk_uri + " " + p.httpchk_version + "\r\n";
  for (const auto& [name, value] : p.httpchk_headers) {
    std::string lower = name;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r += lower + ": " + value + "\r\n";
  }
  if (!p.httpchk_body.empty()) {
    r += "content-length: " + std::to_string(p.httpchk_body.size()) + "\r\n";
  }
  if (p.httpchk_version == "HTTP/1.1") r += "connection: close\r\n";
  return r + "\r\n" + p.httpchk_body;
}

void HttpCheck(ParseContext& ctx, const KeywordRow&, const Args& args) {
  const std::string& what = args[1];
  if (what == "expect") {
    ParseHttpCheckExpect(ctx, args);
  } else if (what == "send") {
    HttpCheckSend(ctx, args);
  } else if (OneOf(what, kHttpCheckNotYet)) {
    ctx.Warn("'http-check " + what + "' is not supported yet by sluice, ignored.");
  } else {
    ctx.Alert(
        "'http-check' expects 'expect', 'send', 'connect', 'comment', 'set-var', "
        "'set-var-fmt', 'unset-var', 'send-state' or 'disable-on-404', got " +
        Quoted(what) + ".");
  }
}

}  // namespace sluice::config
