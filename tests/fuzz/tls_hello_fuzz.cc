// libFuzzer target for what Sluice adds to a TLS server's handshake (dataplane/tls/tls_ctx.cc):
// the SNI match among a bind's certificates (exact, then wildcard) and the ALPN choice, run by
// OpenSSL on whatever a client sends first. The input is the client's bytes, fed to a server
// SSL object through a memory BIO as TlsConns feeds it; the first byte picks strict-sni. Also
// MatchSni on the raw bytes as a name. Whatever the bytes: no crash, no leak, the handshake
// either waits for more or fails.
#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "dataplane/tls/tls_ctx.h"

namespace {

SSL_CTX* MakeCtx(const char* cn) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* x = X509_new();
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), 0);
  X509_gmtime_adj(X509_getm_notAfter(x), 86400);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn),
                             -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509_sign(x, key, EVP_sha256());
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  SSL_CTX_use_certificate(ctx, x);
  SSL_CTX_use_PrivateKey(ctx, key);
  X509_free(x);
  EVP_PKEY_free(key);
  return ctx;
}

// Two sets (strict-sni or not) of three certificates, made once.
sluice::tls::CertSet* MakeSet(bool strict) {
  auto* set = new sluice::tls::CertSet();
  set->ctxs = {MakeCtx("a.test"), MakeCtx("b.test"), MakeCtx("*.wild.test")};
  // a.test as if served by an ECDSA (0) and an RSA (1) certificate: the choice by the
  // client's signature algorithms and suites runs on every hello
  set->names = {{"a.test", 0, 1}, {"b.test", 1}, {"*.wild.test", 2}};
  set->dual = true;
  set->alpn.assign(3, std::string("\x02h2\x08http/1.1", 12));
  set->strict_sni = strict;
  sluice::tls::Install(set);  // the first context owns the set from now on
  return set;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static sluice::tls::CertSet* sets[2] = {MakeSet(false), MakeSet(true)};
  if (size < 1) return 0;
  const std::string name(reinterpret_cast<const char*>(data + 1), size - 1);
  (void)sluice::tls::MatchSni(*sets[0], name, data[0] & 2);
  (void)sluice::tls::ClientHelloSni(data + 1, size - 1);
  (void)sluice::tls::ClientOffersEcdsa(data + 1, size - 1, data[0] & 4);
  SSL* ssl = SSL_new(sets[data[0] & 1]->ctxs[0]);
  BIO* rbio = BIO_new(BIO_s_mem());
  BIO* wbio = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl, rbio, wbio);
  SSL_set_accept_state(ssl);
  BIO_write(rbio, data + 1, static_cast<int>(size - 1));
  SSL_do_handshake(ssl);
  SSL_free(ssl);
  ERR_clear_error();
  return 0;
}
