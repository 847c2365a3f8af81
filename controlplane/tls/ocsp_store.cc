// Slow path: OCSP responses of the certificate files (ocsp_store.h).
#include "controlplane/tls/ocsp_store.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdint>

namespace sluice::tls {

namespace {

std::string Hex(const unsigned char* p, size_t n, bool upper) {
  const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out.push_back(digits[p[i] >> 4]);
    out.push_back(digits[p[i] & 15]);
  }
  return out;
}

std::string Der(OCSP_CERTID* id) {
  unsigned char* der = nullptr;
  const int n = i2d_OCSP_CERTID(id, &der);
  std::string out = n > 0 ? std::string(reinterpret_cast<char*>(der), static_cast<size_t>(n)) : "";
  OPENSSL_free(der);
  return out;
}

// The first single response's certificate id, DER; "" when `der` is not a successful basic
// OCSP response.
std::string ResponseId(const std::string& der, bool* parsed) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  OCSP_RESPONSE* resp = d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(der.size()));
  *parsed = resp != nullptr;
  std::string out;
  OCSP_BASICRESP* basic = nullptr;
  if (resp && OCSP_response_status(resp) == OCSP_RESPONSE_STATUS_SUCCESSFUL &&
      (basic = OCSP_response_get1_basic(resp)) != nullptr && OCSP_resp_count(basic) > 0) {
    OCSP_SINGLERESP* single = OCSP_resp_get0(basic, 0);
    out = Der(const_cast<OCSP_CERTID*>(OCSP_SINGLERESP_get0_id(single)));
  }
  OCSP_BASICRESP_free(basic);
  OCSP_RESPONSE_free(resp);
  ERR_clear_error();
  return out;
}

}  // namespace

void OcspStore::ComputeId(Slot& s, const std::string& pem) {
  s.cid_der.clear();
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* leaf = bio ? PEM_read_bio_X509(bio, nullptr, nullptr, nullptr) : nullptr;
  X509* issuer = nullptr;
  while (leaf && bio) {  // the chain's issuer of the leaf
    X509* c = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    if (!c) break;
    if (!issuer && X509_check_issued(c, leaf) == X509_V_OK) {
      issuer = c;
    } else {
      X509_free(c);
    }
  }
  BIO_free(bio);
  if (leaf && !issuer && !s.issuer_pem.empty()) {
    bio = BIO_new_mem_buf(s.issuer_pem.data(), static_cast<int>(s.issuer_pem.size()));
    issuer = bio ? PEM_read_bio_X509(bio, nullptr, nullptr, nullptr) : nullptr;
    BIO_free(bio);
  }
  if (leaf && issuer) {
    OCSP_CERTID* id = OCSP_cert_to_id(EVP_sha1(), leaf, issuer);
    if (id) s.cid_der = Der(id);
    OCSP_CERTID_free(id);
  }
  X509_free(issuer);
  X509_free(leaf);
  ERR_clear_error();
}

OcspStore::OcspStore(const std::vector<BindInput>& binds, const CertStore& certs) {
  for (const auto& [path, pem] : certs.current()) {
    Slot s;
    s.path = path;
    const config::BindTlsConfig::Cert* conf = nullptr;
    for (const BindInput& in : binds) {
      if (!in.bind->tls) continue;
      for (const auto& c : in.bind->tls->crts) {
        if (c.path == path) conf = &c;
      }
    }
    if (conf) s.issuer_pem = conf->issuer_pem;
    ComputeId(s, pem);
    if (conf && !conf->ocsp_der.empty()) {
      bool parsed = false;
      const std::string id = ResponseId(conf->ocsp_der, &parsed);
      if (!parsed || id.empty() || id != s.cid_der) {
        if (error_.empty()) {
          error_ = "Error when loading OCSP response '" + path + ".ocsp': " +
                   (parsed ? "the response is not the certificate's (no issuer in the chain "
                             "or " + path + ".issuer, or another certificate id)"
                           : std::string("unable to parse it"));
        }
      } else {
        s.response = conf->ocsp_der;
      }
    }
    slots_.push_back(std::move(s));
  }
}

uint32_t OcspStore::SlotOf(const std::string& path) const {
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i].path == path) return static_cast<uint32_t>(i);
  }
  return UINT32_MAX;
}

std::vector<std::string> OcspStore::Responses() const {
  std::vector<std::string> out;
  for (const Slot& s : slots_) out.push_back(s.response);
  return out;
}

std::map<std::string, std::string> OcspStore::Keys() const {
  std::map<std::string, std::string> out;
  for (const Slot& s : slots_) {
    if (!s.response.empty()) {
      out[s.path] =
          Hex(reinterpret_cast<const unsigned char*>(s.cid_der.data()), s.cid_der.size(), false);
    }
  }
  return out;
}

void OcspStore::Refresh(const CertStore& certs) {
  for (Slot& s : slots_) {
    auto it = certs.current().find(s.path);
    if (it == certs.current().end()) continue;
    const std::string before = s.cid_der;
    ComputeId(s, it->second);
    if (s.cid_der != before) s.response.clear();
  }
}

Answer OcspStore::List() const {
  std::string out = "# Certificate IDs\n";
  for (const Slot& s : slots_) {
    if (s.response.empty()) continue;
    const auto* p = reinterpret_cast<const unsigned char*>(s.cid_der.data());
    OCSP_CERTID* id = d2i_OCSP_CERTID(nullptr, &p, static_cast<long>(s.cid_der.size()));
    if (!id) continue;
    ASN1_OCTET_STRING* name_hash = nullptr;
    ASN1_OCTET_STRING* key_hash = nullptr;
    ASN1_INTEGER* serial = nullptr;
    OCSP_id_get0_info(&name_hash, nullptr, &key_hash, &serial, id);
    BIGNUM* bn = ASN1_INTEGER_to_BN(serial, nullptr);
    char* serial_hex = bn ? BN_bn2hex(bn) : nullptr;
    out += "Certificate ID key : " +
           Hex(reinterpret_cast<const unsigned char*>(s.cid_der.data()), s.cid_der.size(), false) +
           "\n Certificate ID:\n   Issuer Name Hash: " +
           Hex(ASN1_STRING_get0_data(name_hash), static_cast<size_t>(ASN1_STRING_length(name_hash)),
               true) +
           "\n   Issuer Key Hash: " +
           Hex(ASN1_STRING_get0_data(key_hash), static_cast<size_t>(ASN1_STRING_length(key_hash)),
               true) +
           "\n   Serial Number: " + (serial_hex ? serial_hex : "") + "\n";
    OPENSSL_free(serial_hex);
    BN_free(bn);
    OCSP_CERTID_free(id);
  }
  return {out, false};
}

Answer OcspStore::Show(const std::string& key) const {
  for (const Slot& s : slots_) {
    if (s.response.empty() ||
        key != Hex(reinterpret_cast<const unsigned char*>(s.cid_der.data()), s.cid_der.size(),
                   false)) {
      continue;
    }
    const auto* p = reinterpret_cast<const unsigned char*>(s.response.data());
    OCSP_RESPONSE* resp = d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(s.response.size()));
    BIO* bio = BIO_new(BIO_s_mem());
    std::string out;
    if (resp && bio && OCSP_RESPONSE_print(bio, resp, 0) == 1) {
      char* data = nullptr;
      const long n = BIO_get_mem_data(bio, &data);
      out.assign(data, static_cast<size_t>(n > 0 ? n : 0));
    }
    BIO_free(bio);
    OCSP_RESPONSE_free(resp);
    ERR_clear_error();
    return {out, false};
  }
  return {"Certificate ID does not match any certificate.\n", true};
}

Answer OcspStore::Set(const std::string& der) {
  bool parsed = false;
  const std::string id = ResponseId(der, &parsed);
  if (!parsed || id.empty()) return {"Unable to parse OCSP response.\n", true};
  for (Slot& s : slots_) {
    if (!s.cid_der.empty() && s.cid_der == id) {
      s.response = der;
      return {"OCSP Response updated!\n", false};
    }
  }
  return {"OCSP single response: Certificate ID does not match any certificate or issuer.\n",
          true};
}

}  // namespace sluice::tls
