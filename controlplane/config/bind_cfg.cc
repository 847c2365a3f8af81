// Slow path: `bind ADDR:PORT[-END][,...] [options]` in a frontend or listen section
// (configuration.txt 2.6, section 5.1): the addresses and ports listened on, and the options
// that say how a connection accepted there is read.
#include <string>
#include <string_view>
#include <vector>

#include "controlplane/config/parse_context.h"
#include "dataplane/net/addr_text.h"

namespace sluice::config {

constexpr size_t kMaxBindsPerLine = 1024;

// bind ADDR:PORT[-END][,ADDR:PORT[-END]...]
void Bind(ParseContext& ctx, const KeywordRow&, const Args& args) {
  if (RefuseInDefaults(ctx) || !Allowed(ctx, kFrontendCap, "bind")) return;
  std::vector<BindConfig> binds;
  const std::string_view list = args[1];
  for (const std::string_view item : CommaItems(list)) {
    if (item.empty()) {
      ctx.Alert("'bind' expects ADDR:PORT[,ADDR:PORT...], got an empty address in " + Quoted(list) +
                ".");
      return;
    }
    auto ep = ParseEndpoint(item);
    if (!ep.ok()) {
      ctx.Alert("'bind' " + Quoted(item) + ": " + ep.error() + ".");
      return;
    }
    if (!ep->has_port || ep->port.empty()) {
      ctx.Alert("'bind' " + Quoted(item) +
                ": missing port (write ADDR:PORT, *:PORT, :PORT or [IPv6]:PORT).");
      return;
    }
    uint64_t lo = 0, hi = 0;
    if (!ParseRange(ep->port, &lo, &hi) || lo == 0 || hi > 65535 || lo > hi) {
      ctx.Alert("'bind' " + Quoted(item) +
                ": expects a port or a port range (8000-8010) between 1 and 65535, got " +
                Quoted(ep->port) + ".");
      return;
    }
    if (!ep->any &&
        (ep->addr.is_v6 ? ep->addr.v6.IsMulticast() : (ep->addr.v4.Host() >> 28) == 0xe)) {
      ctx.Alert("'bind' " + Quoted(item) + ": expects a unicast address.");
      return;
    }
    if (binds.size() + (hi - lo + 1) > kMaxBindsPerLine) {
      ctx.Alert("'bind' " + Quoted(list) + " gives more than " + std::to_string(kMaxBindsPerLine) +
                " addresses and ports; split it.");
      return;
    }
    for (uint64_t port = lo; port <= hi; ++port) {
      BindConfig b;
      b.addr = ep->addr;
      b.any = ep->any;
      b.port = static_cast<uint16_t>(port);
      b.file = ctx.file;
      b.line = ctx.line;
      binds.push_back(std::move(b));
    }
  }
  if (args.size() > 2) {
    ctx.Alert("'bind' option " + Quoted(args[2]) +
              " is not supported yet by sluice (bind lines take no options).");
    return;
  }
  auto& out = Target(ctx).binds;
  out.insert(out.end(), binds.begin(), binds.end());
}

}  // namespace sluice::config
