// Slow path: certificate files and their transactions (cert_store.h).
#include "controlplane/tls/cert_store.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <map>
#include <string>
#include <vector>

namespace sluice::tls {

namespace {

std::string Hex(const unsigned char* p, size_t n) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[p[i] >> 4]);
    out.push_back(kDigits[p[i] & 15]);
  }
  return out;
}

std::string Oneline(const X509_NAME* name) {
  char buf[512];
  return X509_NAME_oneline(name, buf, sizeof buf) ? buf : "";
}

std::string Time(const ASN1_TIME* t) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (!bio) return "";
  ASN1_TIME_print(bio, t);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(n > 0 ? n : 0));
  BIO_free(bio);
  return out;
}

// HAProxy's form: each DNS name, ", " between entries (other kinds print nothing, their
// separator stays).
std::string AltNames(X509* x) {
  std::string out;
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x, NID_subject_alt_name, nullptr, nullptr));
  const int n = names ? sk_GENERAL_NAME_num(names) : 0;
  for (int i = 0; i < n; ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, i);
    if (gn->type == GEN_DNS) {
      const ASN1_STRING* s = gn->d.dNSName;
      out += "DNS:" + std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                  static_cast<size_t>(ASN1_STRING_length(s)));
    }
    if (i + 1 < n) out += ", ";
  }
  GENERAL_NAMES_free(names);
  return out;
}

std::string Algorithm(X509* x) {
  EVP_PKEY* key = X509_get0_pubkey(x);
  if (!key) return "";
  const int bits = EVP_PKEY_get_bits(key);
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
      return "RSA" + std::to_string(bits);
    case EVP_PKEY_EC:
      return "EC" + std::to_string(bits);
    case EVP_PKEY_DSA:
      return "DSA" + std::to_string(bits);
    default:
      return "Unknown";
  }
}

// The payload's certificate and key, checked as `crt` files are at parse time.
bool ValidPem(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* x = bio ? PEM_read_bio_X509(bio, nullptr, nullptr, nullptr) : nullptr;
  BIO_free(bio);
  bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* key = bio ? PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr) : nullptr;
  BIO_free(bio);
  const bool ok = x && key && X509_check_private_key(x, key) == 1;
  X509_free(x);
  EVP_PKEY_free(key);
  ERR_clear_error();
  return ok;
}

}  // namespace

namespace {

// A certificate's lines from Serial to Issuer, as `show ssl cert` and `show ssl ca-file`
// print them.
std::string CertFields(X509* x) {
  std::string out;
  BIGNUM* serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), nullptr);
  char* hex = serial ? BN_bn2hex(serial) : nullptr;
  out += "Serial: " + std::string(hex ? hex : "") + "\n";
  OPENSSL_free(hex);
  BN_free(serial);
  out += "notBefore: " + Time(X509_get0_notBefore(x)) + "\n";
  out += "notAfter: " + Time(X509_get0_notAfter(x)) + "\n";
  out += "Subject Alternative Name: " + AltNames(x) + "\n";
  out += "Algorithm: " + Algorithm(x) + "\n";
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  X509_digest(x, EVP_sha1(), md, &mdlen);
  out += "SHA1 FingerPrint: " + Hex(md, mdlen) + "\n";
  out += "Subject: " + Oneline(X509_get_subject_name(x)) + "\n";
  out += "Issuer: " + Oneline(X509_get_issuer_name(x)) + "\n";
  return out;
}

// Every certificate of a PEM text, in order (the caller frees them).
std::vector<X509*> ReadAll(const std::string& pem) {
  std::vector<X509*> out;
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  while (bio) {
    X509* x = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    if (!x) break;
    out.push_back(x);
  }
  BIO_free(bio);
  ERR_clear_error();
  return out;
}

}  // namespace

std::string CertDetail(const std::string& name, CertStatus status, const std::string& pem,
                       const std::string& ocsp_key) {
  static constexpr const char* kStatus[] = {"Used", "Unused", "Empty"};
  std::string out = "Filename: " + name + "\nStatus: " + kStatus[static_cast<int>(status)] + "\n";
  std::vector<X509*> certs = ReadAll(pem);
  if (!certs.empty()) {
    out += CertFields(certs[0]);
    for (size_t i = 1; i < certs.size(); ++i) {
      out += "Chain Subject: " + Oneline(X509_get_subject_name(certs[i])) + "\n";
      out += "Chain Issuer: " + Oneline(X509_get_issuer_name(certs[i])) + "\n";
    }
  }
  out += "OCSP Response Key: " + ocsp_key + "\n";
  for (X509* x : certs) X509_free(x);
  return out;
}

CertStore::CertStore(const std::vector<BindInput>& binds,
                     const std::vector<const config::ServerConfig*>& servers) {
  const config::BindTlsConfig* last = nullptr;  // the addresses of one line share it
  std::map<std::string, bool> listed;           // a crt-list's lines, once
  for (const BindInput& in : binds) {
    const config::BindTlsConfig* t = in.bind->tls.get();
    if (!t || t == last) continue;
    last = t;
    if (!t->ca_file.empty()) cas_.emplace(t->ca_file, t->ca_pem);
    std::map<std::string, bool> seen_here;
    for (const auto& c : t->crts) {
      current_.emplace(c.path, c.pem);
      ++instances_[c.path];
      if (c.conf && !c.conf->ca_file.empty()) cas_.emplace(c.conf->ca_file, c.conf->ca_pem);
      if (c.list.empty() || (listed.count(c.list) && !seen_here.count(c.list))) continue;
      listed[c.list] = seen_here[c.list] = true;
      std::string opts, filters;
      for (const auto& [kw, value] : c.list_opts) {
        opts += (opts.empty() ? "" : " ") + kw + " " + value;
      }
      for (const std::string& f : c.filters) filters += (filters.empty() ? "" : " ") + f;
      lists_[c.list].push_back({c.path, c.list_line, opts, filters});
    }
  }
  for (const config::ServerConfig* s : servers) {
    if (s->ssl && !s->ca_file.empty()) cas_.emplace(s->ca_file, s->ca_pem);
  }
}

const std::string& CertStore::Current(const std::string& path,
                                      const std::string& configured) const {
  auto it = current_.find(path);
  return it == current_.end() ? configured : it->second;
}

CertStore::Answer CertStore::List() const {
  std::string out;
  if (tx_path_) out += "# transaction\n*" + *tx_path_ + "\n";
  out += "# filename\n";
  for (const auto& [path, pem] : current_) out += path + "\n";
  return {out, false};
}

CertStore::Answer CertStore::Show(const std::string& name) const {
  if (name.starts_with('*')) {
    if (tx_path_ && name.substr(1) == *tx_path_) {
      return {CertDetail(name, CertStatus::kUnused, tx_pem_, ""), false};
    }
  } else if (auto it = current_.find(name); it != current_.end()) {
    auto key = ocsp_keys_.find(name);
    const CertStatus status = it->second.empty() ? CertStatus::kEmpty
                              : Used(name)       ? CertStatus::kUsed
                                                 : CertStatus::kUnused;
    return {CertDetail(name, status, it->second, key == ocsp_keys_.end() ? "" : key->second),
            false};
  }
  return {"Can't display the certificate: Not found or the certificate is a bundle!\n", true};
}

CertStore::Answer CertStore::Set(const std::string& path, const std::string& payload) {
  if (!current_.count(path)) {
    return {"Can't replace a certificate which is not referenced by the configuration!\nCan't "
            "update " + path + "!\n",
            true};
  }
  if (!ValidPem(payload)) {
    return {"unable to load certificate from file '" + path + "'.\nCan't load the payload\n"
            "Can't update " + path + "!\n",
            true};
  }
  // HAProxy 2.6 answers a set on another file than the ongoing transaction's as an update of
  // that transaction.
  const bool update = tx_path_.has_value();
  if (!update) tx_path_ = path;
  tx_pem_ = payload;
  return {std::string("Transaction ") + (update ? "updated" : "created") +
              " for certificate " + *tx_path_ + "!\n",
          false};
}

CertStore::Answer CertStore::Commit(const std::string& path, bool* committed) {
  *committed = false;
  if (!tx_path_) return {"No ongoing transaction! !\nCan't commit " + path + "!\n", true};
  if (*tx_path_ != path) {
    return {"The ongoing transaction is about '" + *tx_path_ + "' but you are trying to set '" +
                path + "'\nCan't commit " + path + "!\n",
            true};
  }
  current_[path] = tx_pem_;
  tx_path_.reset();
  tx_pem_.clear();
  *committed = true;
  // HAProxy writes a dot per bind line the certificate is rebuilt for.
  return {"Committing " + path + std::string(static_cast<size_t>(Instances(path)), '.') +
              "\nSuccess!\n",
          false};
}

CertStore::Answer CertStore::Abort(const std::string& path) {
  if (!tx_path_ || *tx_path_ != path) return {"No ongoing transaction!\n", true};
  tx_path_.reset();
  tx_pem_.clear();
  return {"Transaction aborted for certificate '" + path + "'!\n", false};
}

CertStore::Answer CertStore::New(const std::string& path) {
  if (current_.count(path)) return {"Certificate '" + path + "' already exists!\n", true};
  current_.emplace(path, std::string());
  return {"New empty certificate store '" + path + "'!\n", false};
}

CertStore::Answer CertStore::Delete(const std::string& path) {
  const std::string cant = "Can't remove the certificate: ";
  if (tx_path_ && *tx_path_ == path) {
    return {cant + "ongoing transaction for the certificate '" + path + "'\n", true};
  }
  if (!current_.count(path)) {
    return {cant + "certificate '" + path + "' doesn't exist!\n\n", true};
  }
  if (Used(path)) return {cant + "certificate '" + path + "' in use, can't be deleted!\n\n", true};
  current_.erase(path);
  return {"Certificate '" + path + "' deleted!\n", false};
}

CertStore::Answer CertStore::ShowCrtList(bool numbered, const std::string& list) const {
  if (list.empty()) {
    if (numbered) return {"'show ssl crt-list -n' expects a filename or a directory\n", true};
    std::string out;
    for (const auto& [name, lines] : lists_) out += name + "\n";
    return {out, false};
  }
  auto it = lists_.find(list);
  if (it == lists_.end()) return {"didn't find the specified filename\n", true};
  std::string out = "# " + list + "\n";
  for (const ListLine& l : it->second) {
    out += l.cert;
    if (numbered) out += ":" + std::to_string(l.line);
    if (!l.opts.empty()) out += " [" + l.opts + "]";
    if (!l.filters.empty()) out += " " + l.filters;
    out += "\n";
  }
  return {out, false};
}

CertStore::Answer CertStore::ShowCaFile(const std::string& name) const {
  if (name.empty()) {
    std::string out = "# filename\n";
    for (const auto& [path, pem] : cas_) {
      std::vector<X509*> certs = ReadAll(pem);
      out += path + " - " + std::to_string(certs.size()) + " certificate(s)\n";
      for (X509* x : certs) X509_free(x);
    }
    return {out, false};
  }
  // FILE or FILE:N, N counting from 1 (HAProxy's texts; its index error ends with no newline)
  std::string path = name;
  size_t index = 0;
  if (size_t colon = name.rfind(':'); colon != std::string::npos && !cas_.count(name)) {
    path = name.substr(0, colon);
    const std::string n = name.substr(colon + 1);
    if (n.empty() || n.size() > 9 || n.find_first_not_of("0123456789") != std::string::npos) {
      return {"wrong CA index after colons in '" + name + "'!", true};
    }
    index = std::stoul(n);
    if (index == 0) return {"wrong CA index after colons in '" + name + "'!", true};
  }
  auto it = cas_.find(path);
  if (it == cas_.end()) return {"Can't display the CA file : Not found!\n", true};
  std::vector<X509*> certs = ReadAll(it->second);
  std::string out = index > certs.size() ? "" : "Filename: " + path + "\nStatus: Used\n";
  for (size_t i = 0; i < certs.size(); ++i) {
    if (index && i + 1 != index) continue;
    out += " \nCertificate #" + std::to_string(i + 1) + ":\n" + CertFields(certs[i]);
  }
  for (X509* x : certs) X509_free(x);
  return {out, false};
}

}  // namespace sluice::tls
