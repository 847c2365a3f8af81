// HTTP credentials and userlists on the worker (dataplane/rules/auth.h).
#include "dataplane/rules/auth.h"

#include <crypt.h>

#include <cstring>
#include <new>

namespace sluice::rules {
namespace {

// A prefix of `word` (case-insensitive), not empty.
bool PrefixOf(std::string_view s, std::string_view word) noexcept {
  if (s.empty() || s.size() > word.size()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char a = s[i];
    if (a >= 'A' && a <= 'Z') a = static_cast<char>(a + 32);
    if (a != word[i]) return false;
  }
  return true;
}

int B64Value(char ch) noexcept {
  if (ch >= 'A' && ch <= 'Z') return ch - 'A';
  if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
  if (ch >= '0' && ch <= '9') return ch - '0' + 52;
  if (ch == '+') return 62;
  if (ch == '/') return 63;
  return -1;
}

// Strict base64 (RFC 4648 with padding) into `out` (room for 3/4 of the input); returns the
// decoded length, or -1.
int64_t B64Decode(std::string_view in, char* out) noexcept {
  if (in.empty() || in.size() % 4) return -1;
  int64_t n = 0;
  for (size_t i = 0; i < in.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      const char ch = in[i + k];
      if (ch == '=' && i + 4 == in.size() && k >= 2) {
        v[k] = 0;
        ++pad;
        continue;
      }
      if (pad) return -1;  // data after padding
      v[k] = B64Value(ch);
      if (v[k] < 0) return -1;
    }
    const uint32_t w = static_cast<uint32_t>(v[0] << 18 | v[1] << 12 | v[2] << 6 | v[3]);
    out[n++] = static_cast<char>(w >> 16);
    if (pad < 2) out[n++] = static_cast<char>(w >> 8 & 0xff);
    if (pad < 1) out[n++] = static_cast<char>(w & 0xff);
  }
  return n;
}

}  // namespace

bool ReadCredentials(Ctx& c, std::string_view field, Credentials* out) noexcept {
  *out = Credentials{};
  if (!c.req || !c.req_head) return false;
  if (field.empty()) field = "authorization";
  const http::MessageHead& h = *c.req;
  std::string_view v;
  bool found = false;
  for (uint16_t i = 0; i < h.nfields && !found; ++i) {
    if (http::EqualsNoCase(h.fields[i].name.In(c.req_head), field)) {
      v = h.fields[i].value.In(c.req_head);
      found = true;
    }
  }
  if (!found) return false;
  v = v.substr(0, v.find(','));
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  const size_t sp = v.find(' ');
  if (sp == std::string_view::npos) return false;
  const std::string_view scheme = v.substr(0, sp);
  std::string_view token = v.substr(sp);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  if (token.empty()) return false;
  if (PrefixOf(scheme, "basic")) {
    char* buf = c.arena ? c.arena->Take(static_cast<uint32_t>(token.size() / 4 * 3 + 1)) : nullptr;
    if (!buf) return false;
    const int64_t n = B64Decode(token, buf);
    if (n < 0) return false;
    const std::string_view text(buf, static_cast<size_t>(n));
    const size_t colon = text.find(':');
    if (colon == std::string_view::npos) return false;
    out->type = Credentials::Type::kBasic;
    out->user = text.substr(0, colon);
    out->pass = text.substr(colon + 1);
    return true;
  }
  if (PrefixOf(scheme, "bearer")) {
    out->type = Credentials::Type::kBearer;
    out->bearer = token;
    return true;
  }
  return false;
}

AuthCache::AuthCache() : cd_(new (std::nothrow) crypt_data()) {}

AuthCache::~AuthCache() { delete cd_; }

bool AuthCache::Check(const Userlist& l, uint32_t u, std::string_view pass) noexcept {
  const AuthUser& user = l.users[u];
  if (pass.size() > kMaxPassBytes || !cd_) return false;
  // FNV-1a over the user and the password picks the entry.
  uint64_t hv = 1469598103934665603ull ^ u;
  for (const char ch : pass) hv = (hv ^ static_cast<uint8_t>(ch)) * 1099511628211ull;
  Entry& e = e_[hv % kEntries];
  const bool cacheable = pass.size() <= kPassBytes;
  if (cacheable && e.list == l.serial && e.user == u && e.len == pass.size() &&
      std::memcmp(e.pass, pass.data(), pass.size()) == 0) {
    ++hits_;
    return e.ok;
  }
  char text[kMaxPassBytes + 1];
  std::memcpy(text, pass.data(), pass.size());
  text[pass.size()] = '\0';
  ++hashes_;
  const char* got = crypt_r(text, user.password.c_str(), cd_);
  const bool ok = got && got[0] != '*' && user.password == got;
  if (cacheable) {
    e.list = l.serial;
    e.user = u;
    e.len = static_cast<uint8_t>(pass.size());
    e.ok = ok;
    std::memcpy(e.pass, pass.data(), pass.size());
  }
  return ok;
}

const AuthUser* Authenticate(Ctx& c, const Userlist& l, bool* basic) noexcept {
  Credentials cr;
  *basic = false;
  if (!ReadCredentials(c, {}, &cr) || cr.type != Credentials::Type::kBasic) return nullptr;
  *basic = true;
  for (uint32_t i = 0; i < l.users.size(); ++i) {
    const AuthUser& u = l.users[i];
    if (u.name != cr.user) continue;
    if (!u.has_password) return nullptr;
    if (u.insecure) return u.password == cr.pass ? &u : nullptr;
    return c.auth && c.auth->Check(l, i, cr.pass) ? &u : nullptr;
  }
  return nullptr;
}

}  // namespace sluice::rules
