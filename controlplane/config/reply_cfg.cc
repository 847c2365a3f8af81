// The answers a proxy sends instead of HAProxy's own pages: `errorfile CODE FILE` and
// `http-error status CODE ...` (configuration.txt 4.2), each kept as the whole answer's bytes
// (ProxyConfig::errorfiles).
#include <algorithm>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "controlplane/config/parse_context.h"
#include "dataplane/http/h1.h"

namespace sluice::config {
namespace {

// errorfile CODE FILE (configuration.txt 4.2): the file is a whole HTTP answer, read now and
// checked as an answer; HAProxy's codes only.
constexpr unsigned kErrorfileCodes[] = {200, 400, 401, 403, 404, 405, 407, 408, 410,
                                        413, 425, 429, 500, 501, 502, 503, 504};

}  // namespace

void Errorfile(ParseContext& ctx, const KeywordRow&, const Args& args) {
  uint64_t code = 0;
  if (!ParseUnsignedArg(ctx, args[1], 100, 599, &code)) return;
  if (std::find(std::begin(kErrorfileCodes), std::end(kErrorfileCodes), code) ==
      std::end(kErrorfileCodes)) {
    ctx.Alert("status code '" + args[1] + "' not handled.");
    return;
  }
  std::ifstream in(args[2], std::ios::binary);
  if (!in) {
    ctx.Alert("error opening file " + Quoted(args[2]) + ".");
    return;
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.size() > http::kMaxHeadBytes) {
    ctx.Alert("file " + Quoted(args[2]) + " is larger than " + std::to_string(http::kMaxHeadBytes) +
              " bytes (tune.bufsize less tune.maxrewrite).");
    return;
  }
  // A whole answer: a head that parses, then a body as long as it says.
  http::HeadScanner scan;
  const auto* p = reinterpret_cast<const uint8_t*>(text.data());
  const uint32_t n = static_cast<uint32_t>(text.size());
  scan.Scan(p, n);
  http::ParseOptions o;
  o.request = false;
  auto head = std::make_unique<http::MessageHead>();
  if (!scan.done() || !http::ParseHead(p, scan.bytes(), o, head.get()) ||
      (head->body == http::Body::kLength && head->content_length != n - scan.bytes())) {
    ctx.Alert("Unable to convert message in HTX (" + Quoted(args[2]) +
              "): not a whole HTTP answer with its Content-Length.");
    return;
  }
  auto& files = Target(ctx).errorfiles;
  std::erase_if(files, [&](const auto& f) { return f.first == code; });
  files.emplace_back(static_cast<unsigned>(code), std::move(text));
}

}  // namespace sluice::config
