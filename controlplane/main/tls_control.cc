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
  for (const tls::TicketKeyStore::Ref& r : app_.ticket_keys()->refs()) {
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

cli::TlsControl::Answer TlsCliControl::ShowCerts() { return From(app_.certs()->List()); }

cli::TlsControl::Answer TlsCliControl::ShowCert(const std::string& name) {
  return From(app_.certs()->Show(name));
}

cli::TlsControl::Answer TlsCliControl::SetCert(const std::string& path,
                                               const std::string& payload) {
  return From(app_.certs()->Set(path, payload));
}

cli::TlsControl::Answer TlsCliControl::CommitCert(const std::string& path) {
  return From(app_.CommitCert(path));
}

cli::TlsControl::Answer TlsCliControl::AbortCert(const std::string& path) {
  return From(app_.certs()->Abort(path));
}

cli::TlsControl::Answer TlsCliControl::NewCert(const std::string& path) {
  return From(app_.certs()->New(path));
}

cli::TlsControl::Answer TlsCliControl::DelCert(const std::string& path) {
  return From(app_.certs()->Delete(path));
}

cli::TlsControl::Answer TlsCliControl::ShowCrtList(bool numbered, const std::string& list) {
  return From(app_.certs()->ShowCrtList(numbered, list));
}

cli::TlsControl::Answer TlsCliControl::ShowCaFile(const std::string& name) {
  return From(app_.certs()->ShowCaFile(name));
}

cli::TlsControl::Answer TlsCliControl::ShowOcsp(const std::string& key) {
  return From(key.empty() ? app_.ocsp()->List() : app_.ocsp()->Show(key));
}

cli::TlsControl::Answer TlsCliControl::SetOcsp(const std::string& base64) {
  std::optional<std::string> der = config::DecodeBase64(base64);
  if (!der) return {"'set ssl ocsp-response' received invalid base64 encoded response.\n", true};
  return From(app_.SetOcspResponse(*der));
}

}  // namespace sluice::app
