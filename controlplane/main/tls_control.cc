// Slow path: the Runtime API's TLS commands over the appliance (tls_control.h).
#include "controlplane/main/tls_control.h"

#include <openssl/evp.h>

#include "controlplane/config/config.h"

namespace sluice::app {

namespace {

std::string EncodeBase64(const std::string& raw) {
  std::string out((raw.size() + 2) / 3 * 4 + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(raw.data()),
                                static_cast<int>(raw.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

}  // namespace

std::vector<cli::TicketKeysView> TlsCliControl::TicketKeys() {
  std::vector<cli::TicketKeysView> out;
  const tls::TicketKeyStore* store = app_.ticket_keys();
  if (!store) return out;
  for (const tls::TicketKeyStore::Ref& r : store->refs()) {
    cli::TicketKeysView v{r.id, r.file, {}};
    for (const std::string& k : r.keys) v.keys.push_back(EncodeBase64(k));
    out.push_back(std::move(v));
  }
  return out;
}

std::string TlsCliControl::SetTicketKey(size_t index, const std::string& key) {
  std::optional<std::string> raw = config::DecodeBase64(key);
  if (!raw) return "'set ssl tls-key' received invalid base64 encoded TLS key.\n";
  return app_.SetTicketKey(index, *raw);
}

namespace {

cli::TlsControl::Answer From(const tls::Answer& a) { return {a.text, a.error}; }

}  // namespace

cli::TlsControl::Answer TlsCliControl::ShowCerts() {
  return app_.certs() ? From(app_.certs()->List()) : Answer{"# filename\n", false};
}

cli::TlsControl::Answer TlsCliControl::ShowCert(const std::string& name) {
  if (!app_.certs()) {
    return {"Can't display the certificate: Not found or the certificate is a bundle!\n", true};
  }
  return From(app_.certs()->Show(name));
}

cli::TlsControl::Answer TlsCliControl::SetCert(const std::string& path,
                                               const std::string& payload) {
  if (!app_.certs()) {
    return {"Can't replace a certificate which is not referenced by the configuration!\nCan't "
            "update " + path + "!\n",
            true};
  }
  return From(app_.certs()->Set(path, payload));
}

cli::TlsControl::Answer TlsCliControl::CommitCert(const std::string& path) {
  if (!app_.certs()) return {"No ongoing transaction! !\nCan't commit " + path + "!\n", true};
  return From(app_.CommitCert(path));
}

cli::TlsControl::Answer TlsCliControl::AbortCert(const std::string& path) {
  if (!app_.certs()) return {"No ongoing transaction!\n", true};
  return From(app_.certs()->Abort(path));
}

cli::TlsControl::Answer TlsCliControl::ShowOcsp(const std::string& key) {
  if (!app_.ocsp()) {
    return key.empty() ? Answer{"# Certificate IDs\n", false}
                       : Answer{"Certificate ID does not match any certificate.\n", true};
  }
  return From(key.empty() ? app_.ocsp()->List() : app_.ocsp()->Show(key));
}

cli::TlsControl::Answer TlsCliControl::SetOcsp(const std::string& base64) {
  std::optional<std::string> der = config::DecodeBase64(base64);
  if (!der) return {"'set ssl ocsp-response' received invalid base64 encoded response.\n", true};
  if (!app_.ocsp()) {
    return {"OCSP single response: Certificate ID does not match any certificate or issuer.\n",
            true};
  }
  return From(app_.SetOcspResponse(*der));
}

}  // namespace sluice::app
