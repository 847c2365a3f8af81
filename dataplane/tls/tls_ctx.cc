// SNI and ALPN for a worker's handshakes (tls_ctx.h).
#include "dataplane/tls/tls_ctx.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include <cstdint>
#include <cstring>

#include "dataplane/tls/tls.h"

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

// RFC 5077 tickets under the bind's keys (HAProxy's scheme): a new ticket under keys[1] with
// a random IV; a ticket under any of the three is accepted, and one under another key than
// keys[1] is renewed (2). An unknown name: a full handshake (0).
int OnTicketKey(SSL* ssl, unsigned char key_name[16], unsigned char iv[EVP_MAX_IV_LENGTH],
                EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac, int enc) {
  const auto* conns = static_cast<const TlsConns*>(SSL_get_app_data(ssl));
  const TicketKeys* k = conns ? conns->ActiveTicketKeys() : nullptr;
  const EVP_CIPHER* cbc = k ? conns->TicketCipher(k->bits) : nullptr;
  if (!cbc) return -1;
  int index = 1;
  if (!enc) {
    index = -1;
    for (int i = 0; i < 3; ++i) {
      if (std::memcmp(key_name, k->keys[i].name, 16) == 0) index = i;
    }
    if (index < 0) return 0;
  }
  const TicketKey& key = k->keys[index];
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, const_cast<uint8_t*>(key.hmac),
                                        k->bits / 8),
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_end()};
  if (EVP_MAC_CTX_set_params(mac, params) != 1) return -1;
  if (enc) {
    std::memcpy(key_name, key.name, 16);
    if (RAND_bytes(iv, EVP_CIPHER_get_iv_length(cbc)) != 1) return -1;
    return EVP_EncryptInit_ex(cipher, cbc, nullptr, key.aes, iv) == 1 ? 1 : -1;
  }
  if (EVP_DecryptInit_ex(cipher, cbc, nullptr, key.aes, iv) != 1) return -1;
  return index == 1 ? 1 : 2;
}

// OCSP stapling: a copy of the slot's response, which OpenSSL frees with the connection (the
// allocation is OpenSSL's API: it owns what it sends).
int OnStatus(SSL* ssl, void* arg) {
  const auto* conns = static_cast<const TlsConns*>(SSL_get_app_data(ssl));
  const char* der = nullptr;
  size_t len = 0;
  if (!conns || !conns->OcspResponse(static_cast<uint32_t>(reinterpret_cast<uintptr_t>(arg)),
                                     &der, &len)) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  void* copy = OPENSSL_memdup(der, len);
  if (!copy) return SSL_TLSEXT_ERR_NOACK;
  SSL_set_tlsext_status_ocsp_resp(ssl, static_cast<unsigned char*>(copy), static_cast<long>(len));
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace

bool UseOcsp(SSL_CTX* ctx, uint32_t slot) {
  void* arg = reinterpret_cast<void*>(static_cast<uintptr_t>(slot));
  return SSL_CTX_set_tlsext_status_cb(ctx, &OnStatus) == 1 &&
         SSL_CTX_set_tlsext_status_arg(ctx, arg) == 1;
}

bool ParseTicketKey(const uint8_t* raw, size_t len, TicketKey* out) {
  if (len != 48 && len != 80) return false;
  const size_t half = (len - 16) / 2;  // 16 or 32
  *out = TicketKey{};
  std::memcpy(out->name, raw, 16);
  std::memcpy(out->aes, raw + 16, half);
  std::memcpy(out->hmac, raw + 16 + half, half);
  return true;
}

bool UseTicketKeys(SSL_CTX* ctx) {
  return SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, &OnTicketKey) == 1;
}

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
