// The TLS fetches (ssl_fc*, ssl_c*): what the client connection negotiated, from the facts
// the TLS layer filled when its handshake ended (base::TlsFacts); no sample without TLS.
#include <string_view>

#include "dataplane/rules/expr.h"
#include "dataplane/rules/sample_text.h"

namespace sluice::rules {

bool TlsFetch(Fetch f, Ctx& c, Sample* out) noexcept {
  switch (f) {
    case Fetch::kSslFc:
      *out = Sample::Bool(c.tls != nullptr);
      return true;
    case Fetch::kSslFcSni:
      if (!c.tls || !c.tls->sni) return false;
      *out = Sample::Str(std::string_view(c.tls->sni));
      return true;
    case Fetch::kSslFcProtocol:
      if (!c.tls) return false;
      *out = Sample::Str(std::string_view(base::TlsVersionName(c.tls->version)));
      return true;
    case Fetch::kSslFcCipher:
      if (!c.tls || !c.tls->cipher) return false;
      *out = Sample::Str(std::string_view(c.tls->cipher));
      return true;
    case Fetch::kSslFcAlpn:
      if (!c.tls || !c.tls->alpn) return false;
      *out = Sample::Str(
          std::string_view(reinterpret_cast<const char*>(c.tls->alpn), c.tls->alpn_len));
      return true;
    case Fetch::kSslFcSessionReused:
      if (!c.tls) return false;
      *out = Sample::Bool(c.tls->reused);
      return true;
    case Fetch::kSslCUsed:
      if (!c.tls) return false;
      *out = Sample::Bool(c.tls->client_cert);
      return true;
    case Fetch::kSslCVerify:
      if (!c.tls) return false;
      *out = Sample::Int(c.tls->verify_result);
      return true;
    case Fetch::kSslCSDn: {
      if (!c.tls || !c.tls->client_cert || !c.tls->subject_dn) return false;
      constexpr uint32_t kDnBytes = 1024;
      char* p = c.arena ? c.arena->Take(kDnBytes) : nullptr;
      if (!p) return false;
      const uint32_t n = c.tls->subject_dn(c.tls->peer, p, kDnBytes);
      c.arena->Trim(p, n);
      if (n == 0) return false;
      *out = Sample::Str(std::string_view(p, n));
      return true;
    }
    default:
      return false;
  }
}

}  // namespace sluice::rules
