// SNI and ALPN for a worker's handshakes (tls_ctx.h).
#include "dataplane/tls/tls_ctx.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include <algorithm>
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

// Whether the client offers a cipher suite an ECDSA certificate can serve: one with ECDSA
// authentication, or a TLS 1.3 one (any authentication).
bool OffersEcdsaSuite(SSL* ssl) {
  const unsigned char* suites = nullptr;
  const size_t len = SSL_client_hello_get0_ciphers(ssl, &suites);
  for (size_t i = 0; i + 1 < len; i += 2) {
    // TLS 1.3's are 0x13XX (RFC 8446 appendix B.4); they are not told by their "any"
    // authentication, which the renegotiation SCSV has too
    if (suites[i] == 0x13) return true;
    const SSL_CIPHER* c = SSL_CIPHER_find(ssl, suites + i);
    if (c && SSL_CIPHER_get_auth_nid(c) == NID_auth_ecdsa) return true;
  }
  return false;
}

// The certificate for the client's SNI (RFC 6066 section 3), chosen when its ClientHello
// arrives, before OpenSSL picks a version, a cipher and a certificate, so that a name served
// by an ECDSA and an RSA certificate gets the one the client can verify (as HAProxy's
// ssl_sock_switchctx_cbk). `arg` is the set of the context the connection started with,
// alive as long as it is (the connection holds a reference on it, as its session context).
int OnClientHello(SSL* ssl, int* alert, void* arg) {
  const auto* set = static_cast<const CertSet*>(arg);
  if (!set) return SSL_CLIENT_HELLO_SUCCESS;
  const unsigned char* ext = nullptr;
  size_t len = 0;
  std::string_view sni;
  if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &ext, &len) == 1) {
    sni = ClientHelloSni(ext, len);
  }
  bool ecdsa = true;
  if (set->dual && !sni.empty()) {
    const unsigned char* sigalgs = nullptr;
    size_t sigalgs_len = 0;
    if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_signature_algorithms, &sigalgs,
                                  &sigalgs_len) != 1) {
      sigalgs_len = 0;
    }
    ecdsa = ClientOffersEcdsa(sigalgs, sigalgs_len, OffersEcdsaSuite(ssl));
  }
  const int i = sni.empty() ? -1 : MatchSni(*set, sni, ecdsa);
  if (i < 0) {
    if (!set->strict_sni) return SSL_CLIENT_HELLO_SUCCESS;  // the first certificate
    *alert = SSL_AD_UNRECOGNIZED_NAME;
    return SSL_CLIENT_HELLO_ERROR;
  }
  if (i > 0) {
    // What the switch does not carry over from the context (a crt-list line's own options);
    // the ciphers, the verify store, the CA names and ALPN are read from the context.
    const size_t k = static_cast<size_t>(i);
    SSL_CTX* ctx = set->ctxs[k];
    SSL_set_SSL_CTX(ssl, ctx);
    SSL_set_verify(ssl, SSL_CTX_get_verify_mode(ctx), nullptr);
    SSL_set_min_proto_version(ssl, SSL_CTX_get_min_proto_version(ctx));
    SSL_set_max_proto_version(ssl, SSL_CTX_get_max_proto_version(ctx));
    // OpenSSL copies the list it is given: an allocation of the handshake, like its others
    if (k < set->curves.size() && !set->curves[k].empty() &&
        SSL_set1_groups_list(ssl, set->curves[k].c_str()) != 1) {
      *alert = SSL_AD_INTERNAL_ERROR;
      return SSL_CLIENT_HELLO_ERROR;
    }
  }
  return SSL_CLIENT_HELLO_SUCCESS;
}

// The name was chosen by OnClientHello; acknowledging it keeps it in the session (and in
// SSL_get_servername for ssl_fc_sni after a resumption).
int OnServerName(SSL* /*ssl*/, int* /*alert*/, void* /*arg*/) { return SSL_TLSEXT_ERR_OK; }

// ALPN (RFC 7301): the first of the bind's protocols the client offers; none in common: no
// answer, as HAProxy.
int OnAlpn(SSL* /*ssl*/, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
           unsigned int inlen, void* arg) {
  const auto* alpn = static_cast<const CertSet::Wire*>(arg);  // the context's
  if (!alpn || alpn->len == 0) return SSL_TLSEXT_ERR_NOACK;
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, alpn->data, alpn->len, in, inlen) !=
      OPENSSL_NPN_NEGOTIATED) {
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

// slow path: the control plane fills the set before it is published
bool Install(CertSet* set) {
  if (set->ctxs.empty()) return false;
  if (set->alpn.size() != set->ctxs.size()) set->alpn.resize(set->ctxs.size());
  set->alpn_wire.clear();
  for (const std::string& a : set->alpn) {
    set->alpn_wire.push_back(
        {reinterpret_cast<const unsigned char*>(a.data()), static_cast<unsigned>(a.size())});
  }
  for (size_t i = 0; i < set->ctxs.size(); ++i) {
    SSL_CTX* ctx = set->ctxs[i];
    SSL_CTX_set_client_hello_cb(ctx, &OnClientHello, set);
    SSL_CTX_set_tlsext_servername_callback(ctx, &OnServerName);
    SSL_CTX_set_alpn_select_cb(ctx, &OnAlpn, &set->alpn_wire[i]);
  }
  const int index = SetIndex();
  return index >= 0 && SSL_CTX_set_ex_data(set->ctxs[0], index, set) == 1;
}

namespace {

uint32_t Pick(const CertSet::Name& n, bool ecdsa) {
  return ecdsa || n.rsa == CertSet::kNoCtx ? n.ctx : n.rsa;
}

// A crt-list line's `!NAME` filter: its wildcards do not take NAME.
bool Excluded(const CertSet& set, std::string_view sni, uint32_t ctx) {
  for (const CertSet::Name& n : set.negatives) {
    if (n.ctx == ctx && EqualNoCase(n.name.data(), n.name.size(), sni.data(), sni.size())) {
      return true;
    }
  }
  return false;
}

}  // namespace

int MatchSni(const CertSet& set, std::string_view sni, bool ecdsa) {
  for (const CertSet::Name& n : set.names) {
    if (n.name[0] != '*' && EqualNoCase(n.name.data(), n.name.size(), sni.data(), sni.size())) {
      return static_cast<int>(Pick(n, ecdsa));
    }
  }
  const size_t dot = sni.find('.');
  if (dot == std::string_view::npos || dot == 0) return -1;
  const std::string_view rest = sni.substr(dot);  // ".example.com"
  for (const CertSet::Name& n : set.names) {
    if (n.name[0] == '*' &&
        EqualNoCase(n.name.data() + 1, n.name.size() - 1, rest.data(), rest.size()) &&
        !Excluded(set, sni, n.ctx)) {
      return static_cast<int>(Pick(n, ecdsa));
    }
  }
  return -1;
}

std::string_view ClientHelloSni(const uint8_t* ext, size_t len) {
  // ServerNameList: a 2-byte length, then entries of a type byte and a 2-byte-length name.
  if (len < 2 || static_cast<size_t>(ext[0] << 8 | ext[1]) != len - 2) return {};
  for (size_t i = 2; i + 3 <= len;) {
    const uint8_t type = ext[i];
    const size_t n = static_cast<size_t>(ext[i + 1] << 8 | ext[i + 2]);
    if (i + 3 + n > len) return {};
    const auto* name = reinterpret_cast<const char*>(ext + i + 3);
    if (type == 0) {  // host_name: no NUL, at most 255 bytes (RFC 1035's bound)
      if (n == 0 || n > 255 || std::memchr(name, 0, n)) return {};
      return {name, n};
    }
    i += 3 + n;
  }
  return {};
}

bool ClientOffersEcdsa(const uint8_t* sigalgs, size_t sigalgs_len, bool has_ecdsa_suite) {
  if (!has_ecdsa_suite || sigalgs_len < 2) return false;  // no extension: RSA (RFC 5246)
  const size_t len = std::min(sigalgs_len - 2, static_cast<size_t>(sigalgs[0] << 8 | sigalgs[1]));
  for (size_t i = 2; i + 1 < len + 2; i += 2) {
    // ecdsa_secp256r1_sha256 (0x0403) .. sha1 (0x0203): a hash byte 1-6, then 3 (ECDSA)
    if (sigalgs[i + 1] == 3 && sigalgs[i] >= 1 && sigalgs[i] <= 6) return true;
  }
  return false;
}

}  // namespace sluice::tls
