// Slow path. TLS session-ticket keys: `show tls-keys [id|*]` and `set ssl tls-key`, with
// HAProxy 2.6's answers (../shared/compat/haproxy-2.6/transcripts 80-82f). As in HAProxy, a
// user-level session may read and set them (checked against haproxy 2.6.12).
#include <string>

#include "runtime-api/commands/commands.h"
#include "runtime-api/commands/proxy_lookup.h"

namespace sluice::cli {
namespace {

std::vector<TicketKeysView> Refs(Call& call) {
  TlsControl* tls = call.appliance.Tls();
  return tls ? tls->TicketKeys() : std::vector<TicketKeysView>{};
}

// HAProxy's reference lookup: `#ID`, else a file name. -1 when none matches.
int FindRef(const std::vector<TicketKeysView>& refs, std::string_view what) {
  for (size_t i = 0; i < refs.size(); ++i) {
    if (what.starts_with('#') ? what.substr(1) == std::to_string(refs[i].id)
                              : what == refs[i].file) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

std::unique_ptr<Dump> ShowTlsKeys(Call& call) {
  const std::vector<TicketKeysView> refs = Refs(call);
  const std::string_view what = Arg(call, 2);
  std::string out;
  if (what.empty()) {
    out = "# id (file)\n";
    for (const TicketKeysView& r : refs) out += std::to_string(r.id) + " (" + r.file + ")\n";
    return std::make_unique<TextDump>(out);
  }
  const int only = what == "*" ? -1 : FindRef(refs, what);
  if (what != "*" && only < 0) {
    call.Error("'show tls-keys' unable to locate referenced filename\n");
    return nullptr;
  }
  out = "# id secret\n";
  for (size_t i = 0; i < refs.size(); ++i) {
    if (only >= 0 && static_cast<size_t>(only) != i) continue;
    const std::string id = std::to_string(refs[i].id);
    out += "# " + id + " (" + refs[i].file + ")\n";
    for (size_t k = 0; k < refs[i].keys.size(); ++k) {
      out += id + "." + std::to_string(k) + " " + refs[i].keys[k] + "\n";
    }
  }
  return std::make_unique<TextDump>(out);
}

std::unique_ptr<Dump> SetTlsKey(Call& call) {
  if (Arg(call, 3).empty() || Arg(call, 4).empty()) {
    call.Error("'set ssl tls-key' expects a filename and the new TLS key in base64 encoding.\n");
    return nullptr;
  }
  const std::vector<TicketKeysView> refs = Refs(call);
  const int ref = FindRef(refs, Arg(call, 3));
  if (ref < 0) {
    call.Error("'set ssl tls-key' unable to locate referenced filename\n");
    return nullptr;
  }
  const std::string error =
      call.appliance.Tls()->SetTicketKey(static_cast<size_t>(ref), std::string(Arg(call, 4)));
  if (!error.empty()) {
    call.Error(error);
  } else {
    call.Message("TLS ticket key updated!\n");
  }
  return nullptr;
}

constexpr CommandRow kTlsCommands[] = {
    {{"show", "tls-keys"},
     Level::kUser,
     &ShowTlsKeys,
     "show tls-keys [id|*]",
     "show tls keys references or dump tls ticket keys when id specified"},
    {{"set", "ssl", "tls-key"},
     Level::kUser,
     &SetTlsKey,
     "set ssl tls-key [id|file] <key>",
     "set the next TLS key for the <id> or <file> listener to <key>"},
};

}  // namespace

std::span<const CommandRow> TlsCommands() { return kTlsCommands; }

}  // namespace sluice::cli
