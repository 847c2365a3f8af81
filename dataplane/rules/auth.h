// HTTP credentials as HAProxy 2.6 reads them for http_auth() and its relatives
// (configuration.txt 7.3.6), and the check of a password against a `userlist`. Verified on
// Debian's haproxy 2.6.12: the first Authorization field, its first comma-separated element;
// the scheme is the text before the first space, taken as Basic or Bearer when it is a
// case-insensitive prefix of one ("B", "bas" and "BASIC" are Basic); Basic's token must be
// strict base64 whose text holds a ':' (the user before the first one, the password after).
//
// Hashed passwords are checked with crypt_r(3) on the worker, which costs from microseconds
// (MD5) to milliseconds (SHA-512's 5000 rounds, bcrypt): each worker remembers the outcome of
// the last checks (AuthCache), so a client sending the same credentials again costs a table
// probe, not a hash (docs/decisions/0012-http-auth-on-workers.md).
#pragma once

#include <cstdint>
#include <string_view>

#include "dataplane/rules/expr.h"

struct crypt_data;

namespace sluice::rules {

struct Credentials {
  enum class Type : uint8_t { kNone, kBasic, kBearer };
  Type type = Type::kNone;
  std::string_view user, pass;  // Basic, decoded into the evaluation's arena
  std::string_view bearer;      // Bearer's token
};

// The credentials of the request head in `c` (field `field`, "authorization" when empty).
// False when there are none, or they cannot be read (Type::kNone then).
bool ReadCredentials(Ctx& c, std::string_view field, Credentials* out) noexcept;

// A worker's memory of the hashed passwords it checked: a direct-mapped table keyed by the
// userlist's serial, the user and the password as sent, so a compiled list that is replaced
// never answers for its successor. Owned by one worker; never shared.
class AuthCache {
 public:
  AuthCache();  // start-up only (allocates crypt_r's 32 KiB of state)
  ~AuthCache();
  AuthCache(const AuthCache&) = delete;
  AuthCache& operator=(const AuthCache&) = delete;
  // Whether `pass` is the password of user `u` of `l` (a hashed one: crypt_r, remembered).
  bool Check(const Userlist& l, uint32_t u, std::string_view pass) noexcept;
  uint64_t hashes() const noexcept { return hashes_; }  // crypt_r calls made
  uint64_t hits() const noexcept { return hits_; }

  static constexpr uint32_t kEntries = 256;
  static constexpr uint32_t kPassBytes = 64;   // longer passwords are hashed every time
  static constexpr uint32_t kMaxPassBytes = 255;  // longer ones never match

 private:
  struct Entry {
    uint64_t list = 0;  // Userlist::serial (0: empty)
    uint32_t user = 0;
    uint8_t len = 0;
    bool ok = false;
    char pass[kPassBytes];
  };
  Entry e_[kEntries];
  crypt_data* cd_ = nullptr;
  uint64_t hashes_ = 0, hits_ = 0;
};

// The user of `l` the request's Basic credentials name, when its password matches; nullptr
// otherwise. `basic` tells whether Basic credentials were there at all (http_auth() is then
// false rather than missing).
const AuthUser* Authenticate(Ctx& c, const Userlist& l, bool* basic) noexcept;

}  // namespace sluice::rules
