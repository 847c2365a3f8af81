// Slow path: `bind ADDR:PORT[-END][,...] [options]` in a frontend or listen section
// (configuration.txt 2.6, section 5.1): the addresses and ports listened on, and the options
// that say how a connection accepted there is read.
#include <openssl/evp.h>

#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "controlplane/config/parse_context.h"
#include "dataplane/net/addr_text.h"

namespace sluice::config {

FileRead ReadBoundedFile(const std::string& path, size_t max_bytes, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return FileRead::kCannotOpen;
  out->assign(max_bytes + 1, '\0');
  in.read(out->data(), static_cast<std::streamsize>(max_bytes + 1));
  out->resize(static_cast<size_t>(in.gcount()));
  return out->size() > max_bytes ? FileRead::kTooBig : FileRead::kOk;
}

std::optional<std::string> DecodeBase64(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0) return std::nullopt;
  std::string out(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock counts the padding's zero bytes; '=' only at the end.
  size_t pad = 0;
  while (pad < 2 && text[text.size() - 1 - pad] == '=') ++pad;
  if (text.substr(0, text.size() - pad).find('=') != std::string_view::npos) return std::nullopt;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

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
  const std::string where = "'bind " + std::string(list) + "' in section '" +
                            std::string(KindName(Target(ctx).kind)) + "'";
  std::optional<BindTlsConfig> tls;
  if (!ParseBindOptions(ctx, args, where, &tls)) return;
  std::shared_ptr<const BindTlsConfig> shared;
  if (tls) shared = std::make_shared<const BindTlsConfig>(std::move(*tls));
  for (BindConfig& b : binds) {
    b.text = std::string(list);
    b.tls = shared;
  }
  auto& out = Target(ctx).binds;
  out.insert(out.end(), binds.begin(), binds.end());
}

}  // namespace sluice::config
