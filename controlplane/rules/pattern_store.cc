// Slow path: pattern references, their files and their Runtime API operations
// (controlplane/rules/pattern_store.h).
#define PCRE2_CODE_UNIT_WIDTH 8
#include "controlplane/rules/pattern_store.h"

#include <pcre2.h>

#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "dataplane/net/addr_text.h"

namespace sluice::rulescp {
namespace {

using base::Error;
using MatchM = rules::Match;
using rules::PatEntry;

std::string_view TrimBlank(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

std::string Lowered(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return out;
}

void MaskTo(uint8_t* a, unsigned bytes, unsigned plen) {
  for (unsigned i = 0; i < bytes; ++i) {
    const int bits = static_cast<int>(plen) - static_cast<int>(i * 8);
    if (bits >= 8) continue;
    a[i] = bits <= 0 ? 0 : static_cast<uint8_t>(a[i] & (0xff00 >> bits));
  }
}

// An IPv4 netmask in dotted form ("255.255.0.0") as a prefix length; -1 when not one.
int NetmaskLength(std::string_view s) {
  const auto a = net::ParseIpv4(s);
  if (!a) return -1;
  const uint32_t m = a->Host();
  const int len = __builtin_popcount(m);
  const uint32_t want = len == 0 ? 0 : ~uint32_t{0} << (32 - len);
  return m == want ? len : -1;
}

}  // namespace

bool ParseI64(std::string_view s, int64_t* out) {
  if (s.empty()) return false;
  size_t i = 0;
  bool neg = false;
  if (s[0] == '-' || s[0] == '+') {
    neg = s[0] == '-';
    i = 1;
  }
  if (i >= s.size()) return false;
  int64_t v = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, s[i] - '0', &v)) {
      return false;
    }
  }
  *out = neg ? -v : v;
  return true;
}

base::Result<bool> ParsePattern(rules::Match m, bool icase, std::string_view text, PatEntry* e) {
  e->pattern = std::string(text);
  switch (m) {
    case MatchM::kFound:
    case MatchM::kBool:
      return Error{"'" + std::string(text) + "': no pattern is allowed with this match method"};
    case MatchM::kInt:
    case MatchM::kLen: {
      const size_t colon = text.find(':');
      int64_t lo = INT64_MIN, hi = INT64_MAX;
      bool ok = true;
      if (colon == std::string_view::npos) {
        ok = ParseI64(text, &lo);
        hi = lo;
      } else {
        const std::string_view a = text.substr(0, colon), b = text.substr(colon + 1);
        if (!a.empty()) ok = ParseI64(a, &lo);
        if (ok && !b.empty()) ok = ParseI64(b, &hi);
        if (a.empty() && b.empty()) ok = false;
      }
      if (!ok) return Error{"'" + std::string(text) + "' is not a number"};
      if (lo > hi) return Error{"'" + std::string(text) + "' is not a valid number range."};
      e->lo = lo;
      e->hi = hi;
      e->key = std::string(text);
      return true;
    }
    case MatchM::kIp: {
      std::optional<net::IpPrefix> p;
      const size_t slash = text.find('/');
      if (slash != std::string_view::npos && text.find('.', slash) != std::string_view::npos) {
        const int len = NetmaskLength(text.substr(slash + 1));
        const auto a = net::ParseIpv4(text.substr(0, slash));
        if (len >= 0 && a) {
          p = net::IpPrefix{net::IpAddr{false, *a, {}}, static_cast<uint8_t>(len)};
        }
      } else {
        p = net::ParsePrefix(text, true);
      }
      if (!p) return Error{"'" + std::string(text) + "' is not a valid IPv4 or IPv6 address."};
      e->v6 = p->addr.is_v6;
      e->plen = p->length;
      net::ToBytes(p->addr, e->addr);
      MaskTo(e->addr, e->v6 ? 16 : 4, e->plen);
      e->key.assign(1, e->v6 ? 6 : 4);
      e->key.push_back(static_cast<char>(e->plen));
      e->key.append(reinterpret_cast<const char*>(e->addr), e->v6 ? 16 : 4);
      return true;
    }
    case MatchM::kBin: {
      if (text.size() % 2) return Error{"'" + std::string(text) + "' is not a valid hex string"};
      std::string out;
      for (size_t i = 0; i < text.size(); i += 2) {
        unsigned v = 0;
        if (std::sscanf(std::string(text.substr(i, 2)).c_str(), "%2x", &v) != 1) {
          return Error{"'" + std::string(text) + "' is not a valid hex string"};
        }
        out.push_back(static_cast<char>(v));
      }
      e->key = std::move(out);
      return true;
    }
    case MatchM::kReg: {
      int code = 0;
      PCRE2_SIZE at = 0;
      pcre2_code* re = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(),
                                     icase ? PCRE2_CASELESS : 0, &code, &at, nullptr);
      if (!re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(code, msg, sizeof(msg));
        return Error{"regex '" + std::string(text) +
                     "' is invalid (error=" + std::string(reinterpret_cast<const char*>(msg)) +
                     ", erroffset=" + std::to_string(at) + ")"};
      }
      pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
      e->regex = re;
      e->key = std::string(text);
      return true;
    }
    default:
      e->key = icase ? Lowered(text) : std::string(text);
      return true;
  }
}

std::unique_ptr<rules::MapValue> ParseMapValue(std::string_view text) {
  auto v = std::make_unique<rules::MapValue>();
  v->text = std::string(text);
  v->int_ok = ParseI64(text, &v->sint);
  if (const auto a = net::ParseIp(text)) {
    v->ip_ok = true;
    v->v6 = a->is_v6;
    net::ToBytes(*a, v->addr);
  }
  return v;
}

std::string PatRef::Describe() const {
  std::string out;
  if (!file.empty()) {
    out = "pattern loaded from file '" + file + "' used by ";
    for (size_t i = 0; i < users.size(); ++i) {
      if (i) out += ", by ";
      out += users[i];
    }
    out += ".";
  } else {
    out = display;
  }
  return out + " curr_ver=" + std::to_string(curr_ver) + " next_ver=" + std::to_string(next_ver) +
         " entry_cnt=" + std::to_string(entries.size());
}

namespace {
constexpr size_t kMinRoom = 64;  // entries an index takes before it is first rebuilt
}  // namespace

uint32_t PatternStore::NewRef(int64_t forced_id) {
  uint32_t cli_id = static_cast<uint32_t>(forced_id);
  if (forced_id < 0) {  // HAProxy: the lowest id not taken
    cli_id = 0;
    for (bool taken = true; taken; ++cli_id) {
      taken = false;
      for (const auto& r : refs_) taken = taken || r->cli_id == cli_id;
      if (!taken) break;
    }
  }
  refs_.push_back(std::make_unique<PatRef>());
  refs_.back()->id = static_cast<uint32_t>(refs_.size() - 1);
  refs_.back()->cli_id = cli_id;
  return refs_.back()->id;
}

base::Result<uint32_t> PatternStore::FileRef(const std::string& file, rules::Match m, bool icase,
                                             bool map, const std::string& user) {
  for (auto& r : refs_) {
    // Shared by users of the same kind: a map's entries carry values, an ACL's do not.
    if (r->file == file && r->match == m && r->icase == icase && r->map == map) {
      r->users.insert(r->users.begin(), user);
      (map ? r->map : r->acl) = true;
      return r->id;
    }
  }
  std::ifstream in(file);
  if (!in) return Error{"failed to open pattern file <" + file + ">"};
  const uint32_t id = NewRef();
  PatRef& r = *refs_[id];
  r.file = file;
  r.match = m;
  r.icase = icase;
  (map ? r.map : r.acl) = true;
  r.users.push_back(user);
  r.index = std::make_unique<rules::PatternIndex>(m, icase);
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    std::string_view s = TrimBlank(line);
    if (s.empty() || s[0] == '#') continue;
    std::string_view key = s, value;
    if (map) {
      const size_t sp = s.find_first_of(" \t");
      key = s.substr(0, sp);
      value = sp == std::string_view::npos ? std::string_view() : TrimBlank(s.substr(sp));
    }
    auto added = AddInitial(id, key, value);
    if (!added) {
      refs_.pop_back();
      return Error{"file '" + file + "' line " + std::to_string(lineno) + ": " + added.error()};
    }
  }
  r.index = BuildIndex(r);  // with room to grow, regexes compiled
  return id;
}

base::Result<uint32_t> PatternStore::InlineRef(rules::Match m, bool icase,
                                               const std::string& display, int64_t forced_id) {
  if (forced_id >= 0) {  // HAProxy: the reference of that id, shared
    for (auto& r : refs_) {
      if (r->cli_id != forced_id) continue;
      if (!r->file.empty() || r->match != m || r->icase != icase) {
        return Error{"id " + std::to_string(forced_id) +
                     " is already used by a pattern list of another kind"};
      }
      r->acl = true;
      return r->id;
    }
  }
  const uint32_t id = NewRef(forced_id);
  PatRef& r = *refs_[id];
  r.acl = true;
  r.match = m;
  r.icase = icase;
  r.display = display;
  r.index = std::make_unique<rules::PatternIndex>(m, icase);
  r.index->Reserve(kMinRoom);
  return id;
}

base::Result<PatEntry*> PatternStore::NewEntry(PatRef& r, std::string_view key,
                                               std::string_view value, uint32_t ver) {
  auto e = std::make_unique<PatEntry>();
  if (auto ok = ParsePattern(r.match, r.icase, key, e.get()); !ok) return Error{ok.error()};
  if (r.map) e->value.store(ParseMapValue(value).release(), std::memory_order_relaxed);
  e->seq = next_seq_++;
  e->version = ver;
  PatEntry* raw = e.get();
  r.entries.push_back(std::move(e));
  r.where[raw] = std::prev(r.entries.end());
  return raw;
}

base::Result<bool> PatternStore::AddInitial(uint32_t ref, std::string_view key,
                                            std::string_view value) {
  PatRef& r = *refs_[ref];
  auto e = NewEntry(r, key, value, r.curr_ver);
  if (!e) return Error{e.error()};
  r.index->Add(*e);
  return true;
}

PatRef* PatternStore::Lookup(std::string_view name, bool map) {
  if (name.empty()) return nullptr;
  if (name[0] == '#') {
    int64_t id = 0;
    if (!ParseI64(name.substr(1), &id) || id < 0) return nullptr;
    for (auto& r : refs_) {
      if (r->cli_id == id) return (map ? r->map : r->acl) ? r.get() : nullptr;
    }
    return nullptr;
  }
  for (auto& r : refs_) {
    if (r->file == name && (map ? r->map : r->acl)) return r.get();
  }
  return nullptr;
}

std::vector<const PatRef*> PatternStore::List(bool map) const {
  std::vector<const PatRef*> out;
  for (const auto& r : refs_) {
    if (map ? r->map : r->acl) out.push_back(r.get());
  }
  return out;
}

base::Result<bool> PatternStore::Add(PatRef& r, std::string_view key, std::string_view value,
                                     bool has_ver, uint32_t ver) {
  const uint32_t v = has_ver ? ver : r.curr_ver;
  auto e = NewEntry(r, key, value, v);
  if (!e) return Error{e.error()};
  if (v == r.curr_ver) {
    if (r.index->Full() || r.match == MatchM::kReg) {
      // A regex list is compiled whole (Hyperscan): every change is a new index.
      // The workers take a new index with twice the room rather than grow theirs.
      r.index = BuildIndex(r);
      ops_.push_back({WorkerOp::kSwap, r.id, nullptr});
    } else {
      r.index->Add(*e);
      ops_.push_back({WorkerOp::kAdd, r.id, *e});
    }
  }
  ++changes_;
  return true;
}

void PatternStore::Remove(PatRef& r, PatEntry* e) {
  auto it = r.where.find(e);
  if (it == r.where.end()) return;
  const bool current = e->version == r.curr_ver;
  if (current && r.match != MatchM::kReg) {
    r.index->Remove(e);
    ops_.push_back({WorkerOp::kRemove, r.id, e});
  }
  garbage_.entries.push_back(std::move(*it->second));
  r.entries.erase(it->second);
  r.where.erase(it);
  if (current && r.match == MatchM::kReg) {  // compiled whole: a new index
    r.index = BuildIndex(r);
    ops_.push_back({WorkerOp::kSwap, r.id, nullptr});
  }
  ++changes_;
}

PatEntry* PatternStore::ByRef(PatRef& r, std::string_view text) {
  if (text.size() < 2 || text[0] != '#') return nullptr;
  const std::string hex(text.substr(1));
  char* end = nullptr;
  const unsigned long long p = std::strtoull(hex.c_str(), &end, 16);
  if (!end || *end) return nullptr;
  // Only compared as a key: never followed unless it is one of r's entries.
  auto it = r.where.find(reinterpret_cast<const PatEntry*>(static_cast<uintptr_t>(p)));
  return it == r.where.end() ? nullptr : it->second->get();
}

base::Result<bool> PatternStore::Delete(PatRef& r, std::string_view key_or_ref) {
  if (!key_or_ref.empty() && key_or_ref[0] == '#') {
    PatEntry* e = ByRef(r, key_or_ref);
    if (!e) return false;
    Remove(r, e);
    return true;
  }
  // Every entry of the current version whose pattern is this key.
  std::vector<PatEntry*> doomed;
  for (auto& e : r.entries) {
    if (e->version == r.curr_ver && e->pattern == key_or_ref) doomed.push_back(e.get());
  }
  for (PatEntry* e : doomed) Remove(r, e);
  return !doomed.empty();
}

base::Result<bool> PatternStore::Set(PatRef& r, std::string_view key_or_ref,
                                     std::string_view value) {
  std::vector<PatEntry*> hit;
  if (!key_or_ref.empty() && key_or_ref[0] == '#') {
    if (PatEntry* e = ByRef(r, key_or_ref)) hit.push_back(e);
  } else {
    for (auto& e : r.entries) {
      if (e->version == r.curr_ver && e->pattern == key_or_ref) hit.push_back(e.get());
    }
  }
  for (PatEntry* e : hit) {
    const rules::MapValue* old =
        e->value.exchange(ParseMapValue(value).release(), std::memory_order_acq_rel);
    garbage_.values.emplace_back(const_cast<rules::MapValue*>(old));
  }
  if (!hit.empty()) ++changes_;
  return !hit.empty();
}

void PatternStore::Clear(PatRef& r, bool has_ver, uint32_t ver) {
  const uint32_t v = has_ver ? ver : r.curr_ver;
  std::vector<PatEntry*> doomed;
  for (auto& e : r.entries) {
    if (e->version == v) doomed.push_back(e.get());
  }
  if (v == r.curr_ver && !doomed.empty()) {
    // One new empty index instead of one removal per entry.
    for (PatEntry* e : doomed) {
      auto it = r.where.find(e);
      garbage_.entries.push_back(std::move(*it->second));
      r.entries.erase(it->second);
      r.where.erase(it);
    }
    r.index = BuildIndex(r);
    ops_.push_back({WorkerOp::kSwap, r.id, nullptr});
    ++changes_;
    return;
  }
  for (PatEntry* e : doomed) Remove(r, e);
}

uint32_t PatternStore::Prepare(PatRef& r) {
  r.next_ver = (r.next_ver > r.curr_ver ? r.next_ver : r.curr_ver) + 1;
  return r.next_ver;
}

base::Result<bool> PatternStore::Commit(PatRef& r, uint32_t ver) {
  // HAProxy: a version between the current one and the last prepared.
  if (static_cast<int32_t>(ver - r.curr_ver) <= 0 || static_cast<int32_t>(ver - r.next_ver) > 0) {
    return false;
  }
  std::vector<PatEntry*> doomed;
  for (auto& e : r.entries) {
    if (static_cast<int32_t>(e->version - ver) < 0) doomed.push_back(e.get());
  }
  for (PatEntry* e : doomed) {
    auto it = r.where.find(e);
    garbage_.entries.push_back(std::move(*it->second));
    r.entries.erase(it->second);
    r.where.erase(it);
  }
  r.curr_ver = ver;
  r.index = BuildIndex(r);
  ops_.push_back({WorkerOp::kSwap, r.id, nullptr});
  ++changes_;
  return true;
}

const PatEntry* PatternStore::MatchValue(const PatRef& r, std::string_view value) {
  rules::Sample s = rules::Sample::Str(value);
  if (r.match == MatchM::kIp) {
    const auto a = net::ParseIp(value);
    if (!a) return nullptr;
    uint8_t b[16];
    net::ToBytes(*a, b);
    s = rules::Sample::Ip(b, a->is_v6);
  } else if (r.match == MatchM::kInt) {
    int64_t v = 0;
    if (!ParseI64(value, &v)) return nullptr;
    s = rules::Sample::Int(v);
  }
  static char tmp[rules::kArenaBytes];
  return r.index->Find(s, tmp);
}

std::unique_ptr<rules::PatternIndex> PatternStore::BuildIndex(const PatRef& r) const {
  auto idx = std::make_unique<rules::PatternIndex>(r.match, r.icase);
  size_t n = 0;
  for (const auto& e : r.entries) n += e->version == r.curr_ver;
  idx->Reserve(n * 2 > kMinRoom ? n * 2 : kMinRoom);
  for (const auto& e : r.entries) {
    if (e->version == r.curr_ver) idx->Add(e.get());
  }
  if (r.match == MatchM::kReg) idx->CompileRegexes();
  return idx;
}

}  // namespace sluice::rulescp
