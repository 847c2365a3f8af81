// `http-check` in backends: the request a health check sends (`http-check send`) and what
// its answer must show (`http-check expect`); `option httpchk` is read with the other options
// (proxy_cfg.cc).
#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "controlplane/config/parse_context.h"

namespace sluice::config {
namespace {

template <size_t N>
bool OneOf(const std::string& word, const std::string_view (&list)[N]) {
  return std::find(std::begin(list), std::end(list), word) != std::end(list);
}

// http-check expect status CODES, where CODES is a comma list of codes and ranges.
void HttpCheckExpect(ParseContext& ctx, const Args& args) {
  ctx.keyword = "http-check";
  if (!Allowed(ctx, kBackendCap, "http-check expect")) return;
  if (args.size() < 4 || args[2] != "status") {
    ctx.Alert(
        "'http-check expect' supports only 'status CODES' in sluice "
        "(http-check expect status 200,300-399)" +
        (args.size() > 2 ? ", got " + Quoted(args[2]) : std::string()) + ".");
    return;
  }
  if (args.size() > 4) {
    ctx.Alert("'http-check expect status' takes one list of codes, got extra argument " +
              Quoted(args[4]) + ".");
    return;
  }
  std::vector<unsigned> codes;
  const std::string_view list = args[3];
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t comma = list.find(',', pos);
    if (comma == std::string_view::npos) comma = list.size();
    const std::string_view item = list.substr(pos, comma - pos);
    pos = comma + 1;
    const size_t dash = item.find('-');
    const auto lo = ParseDecimal(item.substr(0, dash));
    const auto hi = dash == std::string_view::npos ? lo : ParseDecimal(item.substr(dash + 1));
    if (!lo || !hi || *lo < 100 || *hi > 599 || *lo > *hi) {
      ctx.Alert(
          "'http-check expect status' expects status codes between 100 and 599, alone or "
          "as ranges, separated by commas (200,300-399), got " +
          Quoted(list) + ".");
      return;
    }
    for (uint64_t c = *lo; c <= *hi; ++c) {
      if (std::find(codes.begin(), codes.end(), c) == codes.end()) {
        codes.push_back(static_cast<unsigned>(c));
      }
    }
  }
  SectionState& state = State(ctx);
  if (state.own_expect) {
    ctx.Alert("'http-check expect' is already set at " + At(state.expect.file, state.expect.line) +
              "; sluice supports one per section.");
    return;
  }
  state.own_expect = true;
  state.expect = Here(ctx);
  Target(ctx).expect_status = std::move(codes);
}

constexpr std::string_view kHttpCheckNotYet[] = {
    "connect", "comment", "set-var", "set-var-fmt", "unset-var", "send-state", "disable-on-404",
};

// http-check send [meth M] [uri U] [ver V] [hdr NAME VALUE]...: the check's request.
void HttpCheckSend(ParseContext& ctx, const Args& args) {
  ctx.keyword = "http-check";
  if (!Allowed(ctx, kBackendCap, "http-check send")) return;
  ProxyConfig& p = Target(ctx);
  std::vector<std::pair<std::string, std::string>> headers;
  std::string meth = p.httpchk_method, uri = p.httpchk_uri, ver = p.httpchk_version;
  for (size_t i = 2; i < args.size(); ++i) {
    const std::string& k = args[i];
    if ((k == "meth" || k == "uri" || k == "ver") && i + 1 < args.size()) {
      (k == "meth" ? meth : k == "uri" ? uri : ver) = args[++i];
    } else if (k == "hdr" && i + 2 < args.size()) {
      headers.emplace_back(args[i + 1], args[i + 2]);
      i += 2;
    } else {
      ctx.Alert("'http-check send' supports meth, uri, ver and hdr NAME VALUE in sluice, got " +
                Quoted(k) + ".");
      return;
    }
  }
  size_t len = meth.size() + uri.size() + ver.size() + 6;
  for (const auto& [n, v] : headers) len += n.size() + v.size() + 4;
  if (len > 255) {  // proxy::BackendSnap::httpchk_request
    ctx.Alert("'http-check send' makes a request of " + std::to_string(len) +
              " bytes; sluice sends at most 255.");
    return;
  }
  p.httpchk_method = meth;
  p.httpchk_uri = uri;
  p.httpchk_version = ver;
  p.httpchk_headers = std::move(headers);
}

}  // namespace

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
