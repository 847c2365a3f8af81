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

}  // namespace sluice::app
