// Slow path: the TLS binds' contexts (tls_build.h).
#include "controlplane/tls/tls_build.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>
#include <string>

#include "controlplane/tls/cert_store.h"
#include "controlplane/tls/ocsp_store.h"
#include "controlplane/tls/ticket_keys.h"
#include "dataplane/tls/tls_ctx.h"

namespace sluice::tls {

namespace {

using base::Error;

// OpenSSL's last error, for a message.
std::string LastError() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (!e) return "unknown error";
  char text[256];
  ERR_error_string_n(e, text, sizeof text);
  return text;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return s;
}

// The names a certificate serves: its DNS subjectAltNames, else its subject's common name.
std::vector<std::string> NamesOf(X509* x) {
  std::vector<std::string> out;
  auto* sans =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans, i);
    if (gn->type != GEN_DNS) continue;
    const ASN1_STRING* s = gn->d.dNSName;
    out.push_back(Lower(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                    static_cast<size_t>(ASN1_STRING_length(s)))));
  }
  GENERAL_NAMES_free(sans);
  if (!out.empty()) return out;
  X509_NAME* subject = X509_get_subject_name(x);
  const int i = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (i >= 0) {
    const ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i));
    out.push_back(Lower(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                    static_cast<size_t>(ASN1_STRING_length(s)))));
  }
  return out;
}

// Loads the certificate, its chain and its key from `pem` into `ctx`; the leaf's names go to
// *names.
bool UseCert(SSL_CTX* ctx, const std::string& pem, std::vector<std::string>* names) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (!bio) return false;
  X509* leaf = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  bool ok = leaf && SSL_CTX_use_certificate(ctx, leaf) == 1;
  if (ok && names) *names = NamesOf(leaf);
  X509_free(leaf);
  while (ok) {
    X509* extra = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    if (!extra) break;
    ok = SSL_CTX_add0_chain_cert(ctx, extra) == 1;
    if (!ok) X509_free(extra);
  }
  ERR_clear_error();  // the end of the certificates
  BIO_free(bio);
  if (!ok) return false;
  bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* key = bio ? PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr) : nullptr;
  BIO_free(bio);
  ok = key && SSL_CTX_use_PrivateKey(ctx, key) == 1 && SSL_CTX_check_private_key(ctx) == 1;
  EVP_PKEY_free(key);
  return ok;
}

// Adds the certificates of `pem` to `store`, and their subjects to `names` when given: how
// many there were.
int AddCas(X509_STORE* store, const std::string& pem, STACK_OF(X509_NAME)* names) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  int n = 0;
  while (bio) {
    X509* ca = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    if (!ca) break;
    X509_STORE_add_cert(store, ca);
    if (names) {
      if (X509_NAME* name = X509_NAME_dup(X509_get_subject_name(ca))) {
        sk_X509_NAME_push(names, name);
      }
    }
    X509_free(ca);
    ++n;
  }
  BIO_free(bio);
  ERR_clear_error();  // the end of the certificates
  return n;
}

// `verify optional|required`: the client's certificate is asked for (its CA names sent) and
// checked against `ca-file`, and against `crl-file` when there is one (the whole chain's).
// A certificate that does not verify fails the handshake, as in HAProxy without
// `ca-ignore-err`/`crt-ignore-err`.
bool UseClientCerts(SSL_CTX* ctx, const config::BindTlsConfig& t) {
  using V = config::BindTlsConfig::Verify;
  if (t.verify == V::kNone) return true;
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  STACK_OF(X509_NAME)* names = sk_X509_NAME_new_null();
  if (!names || AddCas(store, t.ca_pem, names) == 0) {
    sk_X509_NAME_pop_free(names, X509_NAME_free);
    return false;
  }
  SSL_CTX_set_client_CA_list(ctx, names);
  if (!t.crl_pem.empty()) {
    BIO* bio = BIO_new_mem_buf(t.crl_pem.data(), static_cast<int>(t.crl_pem.size()));
    int ncrls = 0;
    while (bio) {
      X509_CRL* crl = PEM_read_bio_X509_CRL(bio, nullptr, nullptr, nullptr);
      if (!crl) break;
      X509_STORE_add_crl(store, crl);
      X509_CRL_free(crl);
      ++ncrls;
    }
    BIO_free(bio);
    ERR_clear_error();
    if (ncrls == 0) return false;
    X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
  }
  SSL_CTX_set_verify(ctx,
                     SSL_VERIFY_PEER | (t.verify == V::kRequired
                                            ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT
                                            : 0),
                     nullptr);
  return true;
}

// The TLS versions (0: the library's highest) and the cipher lists (empty: OpenSSL's) of a
// bind's or a server's context: "" or what failed, in HAProxy's words.
std::string UseVersionsAndCiphers(SSL_CTX* ctx, uint16_t min_ver, uint16_t max_ver,
                                  const std::string& ciphers, const std::string& suites) {
  if (SSL_CTX_set_min_proto_version(ctx, min_ver) != 1 ||
      (max_ver && SSL_CTX_set_max_proto_version(ctx, max_ver) != 1)) {
    return "unable to set the TLS versions";
  }
  if (!ciphers.empty() && SSL_CTX_set_cipher_list(ctx, ciphers.c_str()) != 1) {
    return "unable to set SSL cipher list to '" + ciphers + "'";
  }
  if (!suites.empty() && SSL_CTX_set_ciphersuites(ctx, suites.c_str()) != 1) {
    return "unable to set TLS 1.3 cipher suites to '" + suites + "'";
  }
  return "";
}

// DHE key exchange with the RFC 7919 group of at least `bits` (`tune.ssl.default-dh-param`,
// 2048 by default as HAProxy's; 1024 gets ffdhe2048, the smallest there is).
bool UseDhGroup(SSL_CTX* ctx, uint32_t bits) {
  char name[16];
  std::snprintf(name, sizeof name, "ffdhe%u",
                bits <= 2048 ? 2048u : bits <= 3072 ? 3072u : bits <= 4096 ? 4096u
                                                      : bits <= 6144 ? 6144u : 8192u);
  EVP_PKEY_CTX* pctx = EVP_PKEY_CTX_new_from_name(nullptr, "DH", nullptr);
  EVP_PKEY* dh = nullptr;
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("group", name, 0),
                         OSSL_PARAM_construct_end()};
  const bool ok = pctx && EVP_PKEY_paramgen_init(pctx) == 1 &&
                  EVP_PKEY_CTX_set_params(pctx, params) == 1 &&
                  EVP_PKEY_paramgen(pctx, &dh) == 1 && SSL_CTX_set0_tmp_dh_pkey(ctx, dh) == 1;
  if (!ok) EVP_PKEY_free(dh);
  EVP_PKEY_CTX_free(pctx);
  return ok;
}

bool IsEcdsa(SSL_CTX* ctx) {
  EVP_PKEY* key = SSL_CTX_get0_privatekey(ctx);
  return key && EVP_PKEY_get_base_id(key) == EVP_PKEY_EC;
}

// One context with the bind's settings and one certificate.
base::Result<SSL_CTX*> MakeContext(const config::BindTlsConfig& t, const std::string& path,
                                   const std::string& pem, uint32_t ocsp_slot,
                                   const std::array<unsigned char, 80>& ticket_keys,
                                   std::vector<std::string>* names) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx) return Error{"cannot create an SSL context: " + LastError()};
  // Renegotiation refused (RFC 5746 clients are told no; HAProxy 2.6 refuses it too);
  // stateless tickets only (no server-side cache, so no lock shared between workers).
  uint64_t options = SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE;
  if (t.no_tls_tickets) options |= SSL_OP_NO_TICKET;
  SSL_CTX_set_options(ctx, options);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_timeout(ctx, t.lifetime_s);  // tune.ssl.lifetime: sessions and tickets
  if (t.maxrecord) {  // tune.ssl.maxrecord, within what OpenSSL takes (512 to 16384)
    SSL_CTX_set_max_send_fragment(ctx, std::clamp<uint32_t>(t.maxrecord, 512, 16384));
  }
  // The session id context HAProxy gives its sessions: a ticket either issued resumes on the
  // other when they share the ticket keys (checked against haproxy 2.6.12).
  static constexpr unsigned char kSidCtx[] = {'h', 'a', 'p', 'r', 'o', 'x', 'y'};
  SSL_CTX_set_session_id_context(ctx, kSidCtx, sizeof kSidCtx);
  std::string fail = UseVersionsAndCiphers(ctx, t.min_ver, t.max_ver, t.ciphers, t.ciphersuites);
  if (!fail.empty()) {
    // the versions or the cipher lists
  } else if (!t.curves.empty() && SSL_CTX_set1_curves_list(ctx, t.curves.c_str()) != 1) {
    fail = "unable to set SSL curves list to '" + t.curves + "'";
  } else if (!UseDhGroup(ctx, t.dh_bits)) {
    fail = "unable to set the DH parameters";
  } else if (!UseClientCerts(ctx, t)) {
    fail = "unable to load the CA file '" + t.ca_file + "' or the CRL file '" + t.crl_file + "'";
  } else if (!UseCert(ctx, pem, names)) {
    fail = "unable to load the certificate and key of '" + path + "'";
  } else if (ocsp_slot != UINT32_MAX && !UseOcsp(ctx, ocsp_slot)) {
    fail = "unable to set the OCSP stapling of '" + path + "'";
  } else if (!t.ticket_keys_file.empty() ? !UseTicketKeys(ctx)
                                          : SSL_CTX_set_tlsext_ticket_keys(
                                                ctx, const_cast<unsigned char*>(ticket_keys.data()),
                                                ticket_keys.size()) != 1) {
    fail = "unable to set the session ticket keys";
  }
  if (fail.empty()) return ctx;
  SSL_CTX_free(ctx);
  return Error{fail + " (" + LastError() + ")"};
}

// The set's names in MatchSni's order (exact names, then wildcards, each in `crt` order),
// one entry per name: a name served by an ECDSA and an RSA certificate gets both (the first
// of each kind); otherwise the first certificate naming it serves it.
void IndexNames(CertSet* set, std::vector<std::pair<std::string, uint32_t>> names) {
  std::stable_partition(names.begin(), names.end(),
                        [](const auto& n) { return !n.first.starts_with("*."); });
  std::map<std::string, size_t> at;
  for (auto& [name, ctx] : names) {
    auto [it, fresh] = at.emplace(name, set->names.size());
    if (fresh) {
      set->names.push_back({std::move(name), ctx});
      continue;
    }
    CertSet::Name& n = set->names[it->second];
    const bool had_ecdsa = IsEcdsa(set->ctxs[n.ctx]);
    if (n.rsa != CertSet::kNoCtx || had_ecdsa == IsEcdsa(set->ctxs[ctx])) continue;
    n.rsa = had_ecdsa ? ctx : n.ctx;
    n.ctx = had_ecdsa ? n.ctx : ctx;
    set->dual = true;
  }
}

// One worker's contexts for one bind, with its CertSet hung on the first. A crt-list line's
// certificate gets the line's options (Cert::conf) and serves the names of its SNI filters
// when it has positive ones (`!NAME` filters take names from its wildcards).
base::Result<SSL_CTX*> MakeSet(const config::BindTlsConfig& t,
                               const std::array<unsigned char, 80>& ticket_keys,
                               const CertStore& certs, const OcspStore& ocsp) {
  auto* set = new CertSet();
  set->strict_sni = t.strict_sni;
  std::vector<std::pair<std::string, uint32_t>> all_names;
  for (size_t i = 0; i < t.crts.size(); ++i) {
    std::vector<std::string> names;
    const auto& c = t.crts[i];
    const config::BindTlsConfig& own = c.conf ? *c.conf : t;
    auto ctx = MakeContext(own, c.path, certs.Current(c.path, c.pem), ocsp.SlotOf(c.path),
                           ticket_keys, &names);
    if (!ctx) {
      if (!set->ctxs.empty()) SSL_CTX_free(set->ctxs[0]);  // the others go with the set
      delete set;
      return Error{ctx.error()};
    }
    set->ctxs.push_back(*ctx);
    set->alpn.push_back(own.alpn);
    set->curves.push_back(own.curves != t.curves ? own.curves : std::string());
    const auto u = static_cast<uint32_t>(i);
    bool filtered = false;
    for (const std::string& f : c.filters) {
      if (f[0] == '!') {
        set->negatives.push_back({Lower(f.substr(1)), u});
      } else {
        if (!filtered) names.clear();  // positive filters replace the certificate's names
        filtered = true;
        names.push_back(Lower(f));
      }
    }
    for (std::string& n : names) all_names.emplace_back(std::move(n), u);
  }
  IndexNames(set, std::move(all_names));
  SSL_CTX* first = set->ctxs[0];
  if (!Install(set)) {
    SSL_CTX_free(first);
    delete set;
    return Error{"unable to attach the certificates to the SSL context (" + LastError() + ")"};
  }
  return first;
}

// The tickets' part of a snapshot: the keys of every bind and the ciphers they use.
bool SetTickets(TlsSnap* snap, const TicketKeyStore& keys, size_t nbinds) {
  snap->tickets.clear();
  for (size_t i = 0; i < nbinds; ++i) snap->tickets.push_back(keys.ForBind(i));
  snap->cbc128 = EVP_CIPHER_fetch(nullptr, "AES-128-CBC", nullptr);
  snap->cbc256 = EVP_CIPHER_fetch(nullptr, "AES-256-CBC", nullptr);
  return snap->cbc128 && snap->cbc256;
}

}  // namespace

// A server's client context: TLS 1.2 at least, its certificate checked against `ca-file`
// unless `verify none`, `alpn` offered.
base::Result<SSL_CTX*> MakeServerContext(const config::ServerConfig& s) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (!ctx) return Error{"cannot create an SSL context: " + LastError()};
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
  std::string fail = UseVersionsAndCiphers(ctx, s.min_ver ? s.min_ver : TLS1_2_VERSION,
                                           s.max_ver, s.ciphers, s.ciphersuites);
  if (fail.empty() && !s.verify_none) {
    if (AddCas(SSL_CTX_get_cert_store(ctx), s.ca_pem, nullptr) == 0) {
      fail = "no certificate in the CA file '" + s.ca_file + "'";
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  }
  if (fail.empty() && !s.alpn.empty() &&
      SSL_CTX_set_alpn_protos(ctx, reinterpret_cast<const unsigned char*>(s.alpn.data()),
                              static_cast<unsigned>(s.alpn.size())) != 0) {
    fail = "unable to set the ALPN protocols";
  }
  if (fail.empty()) return ctx;
  SSL_CTX_free(ctx);
  return Error{fail};
}

base::Result<std::shared_ptr<const TlsSnap>> BuildTlsSnap(
    const std::vector<BindInput>& binds, const std::vector<const config::ServerConfig*>& servers,
    unsigned nworkers, const TicketKeyStore& keys, const CertStore& certs,
    const OcspStore& ocsp) {
  if (std::none_of(binds.begin(), binds.end(), [](const BindInput& b) { return b.bind->tls; }) &&
      std::none_of(servers.begin(), servers.end(),
                   [](const config::ServerConfig* s) { return s->ssl; })) {
    return std::shared_ptr<const TlsSnap>();
  }
  auto snap = std::make_shared<TlsSnap>();
  snap->servers.resize(servers.size());
  snap->server_sni.resize(servers.size());
  for (size_t i = 0; i < servers.size(); ++i) {
    const config::ServerConfig& s = *servers[i];
    if (!s.ssl) continue;
    snap->server_sni[i] = s.sni;
    for (unsigned w = 0; w < nworkers; ++w) {
      auto ctx = MakeServerContext(s);
      if (!ctx) {
        return Error{"[" + s.file + ":" + std::to_string(s.line) + "] : 'server " + s.name +
                     "' : " + ctx.error()};
      }
      snap->servers[i].push_back(*ctx);
    }
  }
  if (!SetTickets(snap.get(), keys, binds.size())) {
    return Error{"cannot fetch the session tickets' ciphers: " + LastError()};
  }
  snap->ocsp = ocsp.Responses();
  snap->binds.resize(binds.size());
  snap->handshake_ms.resize(binds.size());
  for (size_t i = 0; i < binds.size(); ++i) {
    const config::BindConfig& b = *binds[i].bind;
    snap->handshake_ms[i] = binds[i].handshake_ms;
    if (!b.tls) continue;
    for (unsigned w = 0; w < nworkers; ++w) {
      auto ctx = MakeSet(*b.tls, keys.DrawnKeys(i), certs, ocsp);
      if (!ctx) {
        return Error{"parsing [" + b.file + ":" + std::to_string(b.line) + "] : 'bind " + b.text +
                     "' : " + ctx.error()};
      }
      snap->binds[i].push_back(*ctx);
    }
  }
  return std::shared_ptr<const TlsSnap>(std::move(snap));
}

std::shared_ptr<const TlsSnap> Rekey(const TlsSnap& old, const TicketKeyStore& keys,
                                     const OcspStore& ocsp) {
  auto snap = std::make_shared<TlsSnap>();
  snap->binds = old.binds;
  for (auto& row : snap->binds) {
    for (SSL_CTX* ctx : row) SSL_CTX_up_ref(ctx);
  }
  snap->handshake_ms = old.handshake_ms;
  snap->servers = old.servers;
  for (auto& row : snap->servers) {
    for (SSL_CTX* ctx : row) SSL_CTX_up_ref(ctx);
  }
  snap->server_sni = old.server_sni;
  snap->ocsp = ocsp.Responses();
  if (!SetTickets(snap.get(), keys, old.binds.size())) return nullptr;
  return snap;
}

}  // namespace sluice::tls
