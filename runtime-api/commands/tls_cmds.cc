// Slow path. TLS session-ticket keys: `show tls-keys [id|*]` and `set ssl tls-key`, with
// HAProxy 2.6's answers (../shared/compat/haproxy-2.6/transcripts 80-82f). As in HAProxy, a
// user-level session may read and set them (checked against haproxy 2.6.12). Certificates:
// `show ssl cert [[*]FILE]`, `set ssl cert FILE <<PEM`, `commit ssl cert`, `abort ssl cert`
// (transcripts 83-86h; showing needs the operator level, changing the admin level),
// `new ssl cert`, `del ssl cert`, `show ssl crt-list [-n] [LIST]`, `show ssl ca-file [F[:N]]`
// (haproxy 2.6.12's texts).
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

void Reply(Call& call, const TlsControl::Answer& a) {
  if (a.error) {
    call.Error(a.text);
  } else {
    call.Message(a.text);
  }
}

constexpr std::string_view kNoTls = "Can't display the certificate: Not found or the certificate "
                                    "is a bundle!\n";

std::unique_ptr<Dump> ShowSslCert(Call& call) {
  TlsControl* tls = call.appliance.Tls();
  const std::string name(Arg(call, 3));
  if (name.empty()) {
    return std::make_unique<TextDump>(tls ? tls->ShowCerts().text : "# filename\n");
  }
  const TlsControl::Answer a =
      tls ? tls->ShowCert(name) : TlsControl::Answer{std::string(kNoTls), true};
  if (a.error) {
    call.Error(a.text);
    return nullptr;
  }
  return std::make_unique<TextDump>(a.text);
}

std::unique_ptr<Dump> SetSslCert(Call& call) {
  if (Arg(call, 3).empty() || call.payload.empty()) {
    call.Error("'set ssl cert expects a filename and a certificate as a payload\n");
    return nullptr;
  }
  TlsControl* tls = call.appliance.Tls();
  const std::string path(Arg(call, 3));
  Reply(call, tls ? tls->SetCert(path, std::string(call.payload))
                  : TlsControl::Answer{"Can't replace a certificate which is not referenced by "
                                       "the configuration!\nCan't update " + path + "!\n",
                                       true});
  return nullptr;
}

std::unique_ptr<Dump> CommitSslCert(Call& call) {
  if (Arg(call, 3).empty()) {
    call.Error("'commit ssl cert expects a filename\n");
    return nullptr;
  }
  TlsControl* tls = call.appliance.Tls();
  const std::string path(Arg(call, 3));
  Reply(call, tls ? tls->CommitCert(path)
                  : TlsControl::Answer{"No ongoing transaction! !\nCan't commit " + path + "!\n",
                                       true});
  return nullptr;
}

std::unique_ptr<Dump> AbortSslCert(Call& call) {
  if (Arg(call, 3).empty()) {
    call.Error("'abort ssl cert' expects a filename\n");
    return nullptr;
  }
  TlsControl* tls = call.appliance.Tls();
  Reply(call, tls ? tls->AbortCert(std::string(Arg(call, 3)))
                  : TlsControl::Answer{"No ongoing transaction!\n", true});
  return nullptr;
}

std::unique_ptr<Dump> NewSslCert(Call& call) {
  if (Arg(call, 3).empty()) {
    call.Error("'new ssl cert' expects a filename\n");
    return nullptr;
  }
  TlsControl* tls = call.appliance.Tls();
  Reply(call, tls ? tls->NewCert(std::string(Arg(call, 3)))
                  : TlsControl::Answer{"Certificates cannot be created here.\n", true});
  return nullptr;
}

std::unique_ptr<Dump> DelSslCert(Call& call) {
  if (Arg(call, 3).empty()) {
    call.Error("'del ssl cert' expects a certificate name\n");
    return nullptr;
  }
  TlsControl* tls = call.appliance.Tls();
  const std::string path(Arg(call, 3));
  Reply(call, tls ? tls->DelCert(path)
                  : TlsControl::Answer{"Can't remove the certificate: certificate '" + path +
                                           "' doesn't exist!\n\n",
                                       true});
  return nullptr;
}

// A show command's answer: its text as a dump, or its error.
std::unique_ptr<Dump> Shown(Call& call, const TlsControl::Answer& a) {
  if (a.error) {
    call.Error(a.text);
    return nullptr;
  }
  return std::make_unique<TextDump>(a.text);
}

// show ssl crt-list [-n] [LIST]
std::unique_ptr<Dump> ShowSslCrtList(Call& call) {
  const bool numbered = Arg(call, 3) == "-n";
  const std::string list(Arg(call, numbered ? 4 : 3));
  TlsControl* tls = call.appliance.Tls();
  return Shown(call, tls ? tls->ShowCrtList(numbered, list)
                         : TlsControl::Answer{list.empty() && !numbered ? "" :
                                              "didn't find the specified filename\n",
                                              !list.empty() || numbered});
}

// show ssl ca-file [FILE[:N]]
std::unique_ptr<Dump> ShowSslCaFile(Call& call) {
  TlsControl* tls = call.appliance.Tls();
  const std::string name(Arg(call, 3));
  return Shown(call, tls ? tls->ShowCaFile(name)
                         : (name.empty() ? TlsControl::Answer{"# filename\n", false}
                                         : TlsControl::Answer{"Can't display the CA file : Not "
                                                              "found!\n",
                                                              true}));
}

std::unique_ptr<Dump> ShowOcspResponse(Call& call) {
  TlsControl* tls = call.appliance.Tls();
  const std::string key(Arg(call, 3));
  const TlsControl::Answer a =
      tls ? tls->ShowOcsp(key)
          : (key.empty() ? TlsControl::Answer{"# Certificate IDs\n", false}
                         : TlsControl::Answer{"Certificate ID does not match any certificate.\n",
                                              true});
  if (a.error) {
    call.Error(a.text);
    return nullptr;
  }
  return std::make_unique<TextDump>(a.text);
}

// The response in base64 on the line, or as a payload (its lines joined).
std::unique_ptr<Dump> SetOcspResponse(Call& call) {
  std::string b64(call.payload.empty() ? Arg(call, 3) : call.payload);
  std::erase_if(b64, [](char c) { return c == '\n' || c == '\r' || c == ' ' || c == '\t'; });
  if (b64.empty()) {
    call.Error("'set ssl ocsp-response' expects response in base64 encoding.\n");
    return nullptr;
  }
  TlsControl* tls = call.appliance.Tls();
  Reply(call, tls ? tls->SetOcsp(b64)
                  : TlsControl::Answer{"OCSP single response: Certificate ID does not match any "
                                       "certificate or issuer.\n",
                                       true});
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
    {{"show", "ssl", "cert"},
     Level::kOperator,
     &ShowSslCert,
     "show ssl cert [<certfile>]",
     "display the SSL certificates used in memory, or the details of a file"},
    {{"set", "ssl", "cert"},
     Level::kAdmin,
     &SetSslCert,
     "set ssl cert <certfile> <payload>",
     "replace a certificate file"},
    {{"commit", "ssl", "cert"},
     Level::kAdmin,
     &CommitSslCert,
     "commit ssl cert <certfile>",
     "commit a certificate file"},
    {{"abort", "ssl", "cert"},
     Level::kAdmin,
     &AbortSslCert,
     "abort ssl cert <certfile>",
     "abort a transaction for a certificate file"},
    {{"new", "ssl", "cert"},
     Level::kAdmin,
     &NewSslCert,
     "new ssl cert <certfile>",
     "create a new certificate file to be used in a crt-list or a directory"},
    {{"del", "ssl", "cert"},
     Level::kAdmin,
     &DelSslCert,
     "del ssl cert <certfile>",
     "delete an unused certificate file"},
    {{"show", "ssl", "crt-list"},
     Level::kOperator,
     &ShowSslCrtList,
     "show ssl crt-list [-n] [<list>]",
     "show the list of crt-lists or the content of a crt-list file <list>"},
    {{"show", "ssl", "ca-file"},
     Level::kOperator,
     &ShowSslCaFile,
     "show ssl ca-file [<cafile>[:<index>]]",
     "display the SSL CA files used in memory, or the details of a <cafile>, or a single "
     "certificate of index <index> of a CA file <cafile>"},
    {{"show", "ssl", "ocsp-response"},
     Level::kOperator,
     &ShowOcspResponse,
     "show ssl ocsp-response [id]",
     "display the IDs of the OCSP responses used in memory, or the details of a single OCSP "
     "response"},
    {{"set", "ssl", "ocsp-response"},
     Level::kAdmin,
     &SetOcspResponse,
     "set ssl ocsp-response <resp|payload>",
     "update a certificate's OCSP Response from a base64-encode DER"},
};

}  // namespace

std::span<const CommandRow> TlsCommands() { return kTlsCommands; }

}  // namespace sluice::cli
