// SNI and ALPN for a worker's handshakes (tls_ctx.h).
#include "dataplane/tls/tls_ctx.h"

#include <openssl/ssl.h>

#include <cstring>

namespace sluice::tls {

namespace {

void FreeSet(void* /*parent*/, void* ptr, CRYPTO_EX_DATA* /*ad*/, int /*idx*/, long /*argl*/,
             void* /*argp*/) {
  delete static_cast<CertSet*>(ptr);
}

// Made by the control plane (Install), before the sets it owns exist.
int SetIndex() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, &FreeSet);
  return index;
}

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualNoCase(const char* a, size_t alen, const char* b, size_t blen) {
  if (alen != blen) return false;
  for (size_t i = 0; i < blen; ++i) {
    if (a[i] != Lower(b[i])) return false;
  }
  return true;
}

// SNI (RFC 6066 section 3): switches the connection to the certificate whose name matches.
// `arg` is the set of the context the connection started with, alive as long as it is (the
// connection holds a reference on it, as its session context).
int OnServerName(SSL* ssl, int* alert, void* arg) {
  const auto* set = static_cast<const CertSet*>(arg);
  if (!set) return SSL_TLSEXT_ERR_NOACK;
  const char* sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  const int i = sni ? MatchSni(*set, sni) : -1;
  if (i < 0) {
    if (!set->strict_sni) return SSL_TLSEXT_ERR_OK;  // the first certificate
    *alert = SSL_AD_UNRECOGNIZED_NAME;
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  if (i > 0) SSL_set_SSL_CTX(ssl, set->ctxs[static_cast<size_t>(i)]);
  return SSL_TLSEXT_ERR_OK;
}

// ALPN (RFC 7301): the first of the bind's protocols the client offers; none in common: no
// answer, as HAProxy.
int OnAlpn(SSL* /*ssl*/, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
           unsigned int inlen, void* arg) {
  const auto* set = static_cast<const CertSet*>(arg);
  if (!set || set->alpn.empty()) return SSL_TLSEXT_ERR_NOACK;
  unsigned char* selected = nullptr;
  const auto* ours = reinterpret_cast<const unsigned char*>(set->alpn.data());
  if (SSL_select_next_proto(&selected, outlen, ours, static_cast<unsigned>(set->alpn.size()), in,
                            inlen) != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace

CertSet::~CertSet() {
  for (size_t i = 1; i < ctxs.size(); ++i) SSL_CTX_free(ctxs[i]);
}

bool Install(CertSet* set) {
  if (set->ctxs.empty()) return false;
  for (SSL_CTX* ctx : set->ctxs) {
    SSL_CTX_set_tlsext_servername_callback(ctx, &OnServerName);
    SSL_CTX_set_tlsext_servername_arg(ctx, set);
    SSL_CTX_set_alpn_select_cb(ctx, &OnAlpn, set);
  }
  const int index = SetIndex();
  return index >= 0 && SSL_CTX_set_ex_data(set->ctxs[0], index, set) == 1;
}

int MatchSni(const CertSet& set, const char* sni) {
  const size_t len = std::strlen(sni);
  for (const CertSet::Name& n : set.names) {
    if (n.name[0] != '*' && EqualNoCase(n.name.data(), n.name.size(), sni, len)) {
      return static_cast<int>(n.ctx);
    }
  }
  const char* dot = std::strchr(sni, '.');
  if (!dot || dot == sni) return -1;
  const size_t rest = len - static_cast<size_t>(dot - sni);  // ".example.com"
  for (const CertSet::Name& n : set.names) {
    if (n.name[0] == '*' && EqualNoCase(n.name.data() + 1, n.name.size() - 1, dot, rest)) {
      return static_cast<int>(n.ctx);
    }
  }
  return -1;
}

}  // namespace sluice::tls
