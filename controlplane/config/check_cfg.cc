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
#include <pcre2.h>

namespace sluice::config {
namespace {

template <size_t N>
bool OneOf(const std::string& word, const std::string_view (&list)[N]) {
  return std::find(std::begin(list), std::end(list), word) != std::end(list);
}

// The longest `http-check expect string` the workers match (proxy::BackendSnap).
constexpr size_t kMaxExpectString = 64;

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
  int err = 0;
  PCRE2_SIZE at = 0;
  pcre2_code* re = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(regex.data()), regex.size(), 0,
                                 &err, &at, nullptr);
  if (!re) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(err, msg, sizeof msg);
    ctx.Alert("'http-check expect rstatus': failed to compile regex " + Quoted(regex) + ": " +
              reinterpret_cast<const char*>(msg) + ".");
    return false;
  }
  pcre2_match_data* md = pcre2_match_data_create_from_pattern(re, nullptr);
  for (unsigned code = 100; code <= 599; ++code) {
    const std::string text = std::to_string(code);
    if (pcre2_match(re, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), 0, 0, md,
                    nullptr) >= 0) {
      codes->push_back(code);
    }
  }
  pcre2_match_data_free(md);
  pcre2_code_free(re);
  return true;
}

// http-check expect [!] status CODES | rstatus REGEX | string TEXT: what the answer to a
// check must show. HAProxy's other matches (rstring, hdr, fhdr, custom) and its options
// (min-recv, comment, ok-status, ...) are refused.
void HttpCheckExpect(ParseContext& ctx, const Args& args) {
  ctx.keyword = "http-check";
  if (!Allowed(ctx, kBackendCap, "http-check expect")) return;
  size_t at = 2;
  const bool negate = at < args.size() && args[at] == "!";
  if (negate) ++at;
  const std::string match = at < args.size() ? args[at] : std::string();
  if (match != "status" && match != "rstatus" && match != "string") {
    ctx.Alert(
        "'http-check expect' supports [!] status CODES, rstatus REGEX and string TEXT in "
        "sluice" +
        (match.empty() ? std::string() : ", got " + Quoted(match)) + ".");
    return;
  }
  if (at + 1 >= args.size()) {
    ctx.Alert("'http-check expect " + match + "' expects a pattern.");
    return;
  }
  if (at + 2 < args.size()) {
    ctx.Alert("'http-check expect " + match + "' takes one pattern, got extra argument " +
              Quoted(args[at + 2]) + ".");
    return;
  }
  const std::string& pattern = args[at + 1];
  std::vector<unsigned> codes;
  if (match == "status" && !ParseStatusList(ctx, pattern, &codes)) return;
  if (match == "rstatus" && !ParseStatusRegex(ctx, pattern, &codes)) return;
  if (match == "string" && pattern.size() > kMaxExpectString) {
    ctx.Alert("'http-check expect string' matches at most " + std::to_string(kMaxExpectString) +
              " bytes in sluice, got " + std::to_string(pattern.size()) + ".");
    return;
  }
  if (match != "string" && negate) {
    std::vector<unsigned> others;
    for (unsigned c = 100; c <= 599; ++c) {
      if (std::find(codes.begin(), codes.end(), c) == codes.end()) others.push_back(c);
    }
    codes = std::move(others);
  }
  SectionState& state = State(ctx);
  if (state.own_expect) {
    ctx.Alert("'http-check expect' is already set at " + At(state.expect.file, state.expect.line) +
              "; sluice supports one per section.");
    return;
  }
  state.own_expect = true;
  state.expect = Here(ctx);
  ProxyConfig& p = Target(ctx);
  p.expect_set = match != "string";
  p.expect_status = std::move(codes);
  p.expect_string = match == "string" ? pattern : std::string();
  p.expect_negate = negate;
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
    HttpCheckExpect(ctx, args);
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
