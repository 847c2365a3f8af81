// Slow path, control plane: the OCSP responses stapled for the binds' certificates, as the
// Runtime API shows and replaces them (`show ssl ocsp-response [KEY]`, `set ssl
// ocsp-response`, HAProxy 2.6's texts and layout, checked against haproxy 2.6.12). A
// certificate file is a slot (CertStore's order); its response comes from FILE.ocsp at start
// and is replaced by `set ssl ocsp-response` with one whose certificate id is the file's. The
// responses reach the workers in the "tls" snapshot part (TlsSnap::ocsp).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "controlplane/tls/cert_store.h"

namespace sluice::tls {

class OcspStore {
 public:
  // The slots of `certs`' files; their certificate ids (from the chain, or FILE.issuer) and
  // the responses of their FILE.ocsp (`binds`' configuration). Error(): a FILE.ocsp that does
  // not parse or is not the certificate's.
  OcspStore(const std::vector<BindInput>& binds, const CertStore& certs);
  const std::string& Error() const { return error_; }

  uint32_t SlotOf(const std::string& path) const;  // UINT32_MAX: none
  std::vector<std::string> Responses() const;      // per slot, DER ("" none)
  // path -> the key `show ssl cert` prints (only for files with a response).
  std::map<std::string, std::string> Keys() const;
  // After `commit ssl cert`: the files' ids again from their current certificates; a response
  // that no longer matches its file's id is dropped.
  void Refresh(const CertStore& certs);

  Answer List() const;                        // `show ssl ocsp-response`
  Answer Show(const std::string& key) const;  // `show ssl ocsp-response KEY`
  Answer Set(const std::string& der);          // `set ssl ocsp-response` (decoded)

 private:
  struct Slot {
    std::string path;
    std::string issuer_pem;  // FILE.issuer, when given
    std::string cid_der;     // the certificate's OCSP id ("" when its issuer is unknown)
    std::string response;    // DER
  };
  void ComputeId(Slot& s, const std::string& pem);
  std::vector<Slot> slots_;
  std::string error_;
};

}  // namespace sluice::tls
