// Slow path, control plane: the session-ticket keys of the binds' `tls-ticket-keys` files,
// as the Runtime API shows and rotates them (`show tls-keys`, `set ssl tls-key`), and their
// form in the "tls" snapshot part (tls::TicketKeys).
#pragma once

#include <array>
#include <string>
#include <vector>

#include "controlplane/tls/tls_build.h"
#include "dataplane/tls/tls_ctx.h"

namespace sluice::tls {

class TicketKeyStore {
 public:
  // One reference per file the binds name (listener order), numbered as HAProxy 2.6 numbers
  // them: the file named last is 0.
  explicit TicketKeyStore(const std::vector<BindInput>& binds);

  struct Ref {
    uint32_t id = 0;
    std::string file;
    std::vector<std::string> keys;  // raw bytes, oldest first: [1] encrypts
  };
  const std::vector<Ref>& refs() const { return refs_; }  // id order
  // HAProxy's rotation: `key` (raw bytes) becomes the newest key, the oldest goes, and the one
  // that was newest encrypts from now on. HAProxy's error text, or "" when done.
  std::string Rotate(size_t ref, const std::string& key);
  // Bind `bind`'s keys in the workers' form (bits 0: the bind has no key file).
  TicketKeys ForBind(size_t bind) const;
  // The keys drawn at start for a bind without a key file (OpenSSL's own ticket scheme,
  // shared by the bind's workers and kept when its contexts are built again).
  const std::array<unsigned char, 80>& DrawnKeys(size_t bind) const { return drawn_[bind]; }

 private:
  std::vector<Ref> refs_;
  std::vector<int> ref_of_bind_;
  std::vector<std::array<unsigned char, 80>> drawn_;  // per bind
};

}  // namespace sluice::tls
