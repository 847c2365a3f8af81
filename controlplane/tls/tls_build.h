// Slow path, control plane: the "tls" snapshot part (tls::TlsSnap) from the TLS binds'
// configuration (config::BindTlsConfig). Each worker gets contexts of its own for each bind
// and certificate, so no OpenSSL object is shared between workers on the handshake path;
// the contexts of one bind share one session-ticket key, so a ticket one worker issued
// resumes on any other (docs/tls.md).
#pragma once

#include <memory>
#include <vector>

#include "controlplane/config/config.h"
#include "dataplane/base/result.h"
#include "dataplane/tls/tls.h"

namespace sluice::tls {

struct BindInput {
  const config::BindConfig* bind = nullptr;
  uint32_t handshake_ms = 0;  // the frontend's `timeout client`
};

// One row per bind, in listener order (proxy::ListenerSnap's bind index). Null when no bind
// is TLS. An error names the bind and what OpenSSL refused.
class TicketKeyStore;
class CertStore;
class OcspStore;
// `servers`: every server in proxy::ProxyConfigSnap's order (its TLS settings). The binds'
// certificates are the PEMs `certs` holds now (the configuration's, or committed since).
base::Result<std::shared_ptr<const TlsSnap>> BuildTlsSnap(
    const std::vector<BindInput>& binds, const std::vector<const config::ServerConfig*>& servers,
    unsigned nworkers, const TicketKeyStore& keys, const CertStore& certs,
    const OcspStore& ocsp);
// The same contexts (each referenced once more) with the tickets' keys and the OCSP responses
// as `keys` and `ocsp` hold them now: what `set ssl tls-key` and `set ssl ocsp-response`
// publish. Null when OpenSSL cannot fetch the ciphers.
std::shared_ptr<const TlsSnap> Rekey(const TlsSnap& old, const TicketKeyStore& keys,
                                     const OcspStore& ocsp);

}  // namespace sluice::tls
