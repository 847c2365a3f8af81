// Slow path: session-ticket key files (ticket_keys.h).
#include "controlplane/tls/ticket_keys.h"

#include <openssl/rand.h>

namespace sluice::tls {

TicketKeyStore::TicketKeyStore(const std::vector<BindInput>& binds) {
  std::vector<Ref> seen;  // in order of first mention
  drawn_.resize(binds.size());
  for (auto& k : drawn_) RAND_bytes(k.data(), static_cast<int>(k.size()));
  for (const BindInput& in : binds) {
    const auto& t = in.bind->tls;
    int ref = -1;
    if (t && !t->ticket_keys_file.empty()) {
      for (size_t i = 0; i < seen.size(); ++i) {
        if (seen[i].file == t->ticket_keys_file) ref = static_cast<int>(i);
      }
      if (ref < 0) {
        ref = static_cast<int>(seen.size());
        seen.push_back({0, t->ticket_keys_file, t->ticket_keys});
      }
    }
    ref_of_bind_.push_back(ref);
  }
  // HAProxy keeps its references newest first and numbers them in that order.
  const int n = static_cast<int>(seen.size());
  for (int i = n - 1; i >= 0; --i) {
    seen[static_cast<size_t>(i)].id = static_cast<uint32_t>(n - 1 - i);
    refs_.push_back(std::move(seen[static_cast<size_t>(i)]));
  }
  for (int& r : ref_of_bind_) {
    if (r >= 0) r = n - 1 - r;
  }
}

std::string TicketKeyStore::Rotate(size_t ref, const std::string& key) {
  Ref& r = refs_[ref];
  if (key.size() != r.keys[0].size()) return "'set ssl tls-key' received a key of wrong size.\n";
  r.keys.erase(r.keys.begin());
  r.keys.push_back(key);
  return "";
}

TicketKeys TicketKeyStore::ForBind(size_t bind) const {
  TicketKeys out;
  if (bind >= ref_of_bind_.size() || ref_of_bind_[bind] < 0) return out;
  const Ref& r = refs_[static_cast<size_t>(ref_of_bind_[bind])];
  out.bits = r.keys[0].size() == 48 ? 128 : 256;
  for (size_t i = 0; i < 3; ++i) {
    ParseTicketKey(reinterpret_cast<const uint8_t*>(r.keys[i].data()), r.keys[i].size(),
                   &out.keys[i]);
  }
  return out;
}

}  // namespace sluice::tls
