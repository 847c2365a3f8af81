// Slow path, control plane: the certificate files the binds name, as the Runtime API shows and
// replaces them (`show ssl cert`, `set ssl cert FILE <<`, `commit ssl cert`, `abort ssl cert`,
// HAProxy 2.6's texts, transcripts 83-86h). A file's current PEM is the configuration's until
// a transaction on it is committed; the contexts are then built again from the current PEMs
// (tls_build.cc) and published, so the next handshake serves the new certificate.
#pragma once

#include <map>
#include <optional>
#include <utility>
#include <string>
#include <vector>

#include "controlplane/tls/tls_build.h"

namespace sluice::tls {

// A Runtime API answer: its text, and whether it is an error (cli_err) or a message (cli_msg).
struct Answer {
  std::string text;
  bool error = false;
};

class CertStore {
 public:
  // `servers`: their `ca-file`s are listed by `show ssl ca-file` with the binds'.
  CertStore(const std::vector<BindInput>& binds,
            const std::vector<const config::ServerConfig*>& servers);

  // The PEM a bind's `crt` file serves now.
  const std::string& Current(const std::string& path, const std::string& configured) const;

  using Answer = tls::Answer;
  Answer List() const;                         // `show ssl cert`
  Answer Show(const std::string& name) const;  // `show ssl cert [*]FILE`
  Answer Set(const std::string& path, const std::string& payload);
  // `commit ssl cert FILE`: on success the new PEM is current and *committed is set (the
  // caller builds the contexts again); the answer says so.
  Answer Commit(const std::string& path, bool* committed);
  Answer Abort(const std::string& path);
  // `new ssl cert FILE`: an empty certificate, to be set and committed; `del ssl cert FILE`
  // deletes one no bind serves (HAProxy 2.6.12's texts).
  Answer New(const std::string& path);
  Answer Delete(const std::string& path);
  bool Used(const std::string& path) const { return Instances(path) != 0; }
  // `show ssl crt-list [-n] [LIST]`: the crt-list files and `crt` directories, or one's lines.
  Answer ShowCrtList(bool numbered, const std::string& list) const;
  // `show ssl ca-file [FILE[:N]]`: the CA files of binds, crt-list lines and servers.
  Answer ShowCaFile(const std::string& name) const;
  // The files, sorted (OcspStore's slots), and what each serves now.
  const std::map<std::string, std::string>& current() const { return current_; }
  // `show ssl cert FILE`'s "OCSP Response Key: " value for a file (set by the appliance).
  void SetOcspKeys(std::map<std::string, std::string> keys) { ocsp_keys_ = std::move(keys); }

 private:
  std::map<std::string, std::string> current_;  // path -> PEM, sorted as HAProxy lists them
  int Instances(const std::string& path) const {
    auto it = instances_.find(path);
    return it == instances_.end() ? 0 : it->second;
  }
  std::map<std::string, int> instances_;        // path -> bind lines serving it
  std::map<std::string, std::string> ocsp_keys_;  // path -> its OCSP response's key
  std::optional<std::string> tx_path_;          // the one transaction, as in HAProxy
  std::string tx_pem_;
  struct ListLine {
    std::string cert;
    int line = 0;
    std::string opts;     // "alpn h2 verify none": shown in brackets
    std::string filters;  // "b.test !x.b.test"
  };
  std::map<std::string, std::vector<ListLine>> lists_;  // crt-list file or directory -> lines
  std::map<std::string, std::string> cas_;              // CA file -> its PEM
};

// `show ssl cert FILE`'s lines for a certificate in `pem` (HAProxy 2.6's layout; an empty
// `pem`: a `new ssl cert` not set yet).
enum class CertStatus { kUsed, kUnused, kEmpty };
std::string CertDetail(const std::string& name, CertStatus status, const std::string& pem,
                       const std::string& ocsp_key);

}  // namespace sluice::tls
