// Pattern indexes: Find is the packet path (no allocation); Add and Remove run between
// bursts when the control plane asks (dataplane/rules/pattern.h).
#define PCRE2_CODE_UNIT_WIDTH 8
#include "dataplane/rules/pattern.h"

#include <hs/hs.h>
#include <pcre2.h>

#include <algorithm>

namespace sluice::rules {
namespace {

constexpr std::string_view kMatchNames[] = {"found", "bool", "int", "ip",  "bin", "len", "str",
                                            "beg",   "sub",  "dir", "dom", "end", "reg"};

char Lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

// `s` lowered into `tmp` (kArenaBytes); a longer sample is cut, and cannot match then.
std::string_view Lowered(std::string_view s, char* tmp) noexcept {
  const size_t n = s.size() < kArenaBytes ? s.size() : kArenaBytes;
  for (size_t i = 0; i < n; ++i) tmp[i] = Lower(s[i]);
  return {tmp, n};
}

bool EqualNoCase(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

size_t FindSub(std::string_view hay, std::string_view needle, bool icase) noexcept {
  if (needle.size() > hay.size()) return std::string_view::npos;
  for (size_t i = 0; i + needle.size() <= hay.size(); ++i) {
    if (icase ? EqualNoCase(hay.substr(i, needle.size()), needle)
              : hay.compare(i, needle.size(), needle) == 0) {
      return i;
    }
  }
  return std::string_view::npos;
}

// HAProxy's match_word(): `word` is in `s` delimited by `delim` (or the string's ends) on
// both sides; for dom, HAProxy's pattern may itself begin or end with the delimiter.
bool MatchWord(std::string_view s, std::string_view word, std::string_view delims,
               bool icase) noexcept {
  auto is_delim = [&](char c) { return delims.find(c) != std::string_view::npos; };
  while (!word.empty() && is_delim(word.front())) word.remove_prefix(1);
  while (!word.empty() && is_delim(word.back())) word.remove_suffix(1);
  if (word.empty()) return false;
  size_t from = 0;
  while (from + word.size() <= s.size()) {
    const size_t at = FindSub(s.substr(from), word, icase);
    if (at == std::string_view::npos) return false;
    const size_t b = from + at, e = b + word.size();
    const bool left = b == 0 || is_delim(s[b - 1]);
    const bool right = e == s.size() || is_delim(s[e]);
    if (left && right) return true;
    from = b + 1;
  }
  return false;
}

void MaskAddr(uint8_t* a, bool v6, uint8_t plen) noexcept {
  const unsigned bytes = v6 ? 16 : 4;
  for (unsigned i = 0; i < bytes; ++i) {
    const int bits = static_cast<int>(plen) - static_cast<int>(i * 8);
    if (bits >= 8) continue;
    a[i] = bits <= 0 ? 0 : static_cast<uint8_t>(a[i] & (0xff00 >> bits));
  }
}

// The ip key: [family][length][address masked], as PatEntry::key.
uint32_t IpKey(const uint8_t* addr, bool v6, uint8_t plen, char* out) noexcept {
  out[0] = v6 ? 6 : 4;
  out[1] = static_cast<char>(plen);
  uint8_t a[16];
  std::memcpy(a, addr, v6 ? 16 : 4);
  MaskAddr(a, v6, plen);
  std::memcpy(out + 2, a, v6 ? 16 : 4);
  return v6 ? 18 : 6;
}

bool IsV4Mapped(const uint8_t* a) noexcept {
  static constexpr uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(a, kPrefix, 12) == 0;
}

}  // namespace

std::string_view MatchName(Match m) noexcept { return kMatchNames[static_cast<unsigned>(m)]; }

bool MatchByName(std::string_view name, Match* m) noexcept {
  for (unsigned i = 0; i < sizeof(kMatchNames) / sizeof(kMatchNames[0]); ++i) {
    if (kMatchNames[i] == name) {
      *m = static_cast<Match>(i);
      return true;
    }
  }
  return false;
}

PatEntry::~PatEntry() {
  if (regex) pcre2_code_free(regex);
  delete value.load(std::memory_order_relaxed);
}

PatternIndex::PatternIndex(Match m, bool icase) : match_(m), icase_(icase) {
  if (m == Match::kReg) md_ = pcre2_match_data_create(1, nullptr);
}

PatternIndex::~PatternIndex() {
  if (md_) pcre2_match_data_free(md_);
  if (hs_scratch_) hs_free_scratch(hs_scratch_);
  if (hs_db_) hs_free_database(hs_db_);
}

// slow path: control plane, when it builds an index
bool PatternIndex::CompileRegexes() {
  if (match_ != Match::kReg || list_.empty()) return false;
  // Every pattern HAProxy's PCRE would take, as one database; one that Hyperscan refuses
  // (back-references, look-around...) is left to PCRE2 and the rest compiled again.
  std::vector<uint32_t> ids;
  for (uint32_t i = 0; i < list_.size(); ++i) ids.push_back(i);
  const unsigned flags = HS_FLAG_SINGLEMATCH | HS_FLAG_ALLOWEMPTY | (icase_ ? HS_FLAG_CASELESS : 0);
  while (!ids.empty()) {
    std::vector<const char*> exprs;
    std::vector<unsigned> fl(ids.size(), flags);
    for (const uint32_t i : ids) exprs.push_back(list_[i]->key.c_str());
    hs_database_t* db = nullptr;
    hs_compile_error_t* err = nullptr;
    const hs_error_t rc =
        hs_compile_multi(exprs.data(), fl.data(), ids.data(), static_cast<unsigned>(ids.size()),
                         HS_MODE_BLOCK, nullptr, &db, &err);
    if (rc == HS_SUCCESS) {
      if (hs_alloc_scratch(db, &hs_scratch_) != HS_SUCCESS) {
        hs_free_database(db);
        break;
      }
      hs_db_ = db;
      break;
    }
    const int bad = err ? err->expression : -1;
    hs_free_compile_error(err);
    if (bad < 0) break;  // not one pattern's fault: PCRE2 for all
    pcre_only_.push_back(ids[static_cast<size_t>(bad)]);
    ids.erase(ids.begin() + bad);
  }
  if (!hs_db_) {
    pcre_only_.clear();
    return false;
  }
  std::sort(pcre_only_.begin(), pcre_only_.end());
  return true;
}

void PatternIndex::Reserve(size_t n) {
  reserved_ = n;
  if (keyed()) {
    keys_.reserve(n);
  } else {
    list_.reserve(n);
  }
}

void PatternIndex::CountLength(uint32_t len, int delta) {
  uint32_t& c = len_count_[len];
  c = static_cast<uint32_t>(static_cast<int>(c) + delta);
  if (c == 0) len_count_.erase(len);
  lens_.clear();
  for (const auto& [l, n] : len_count_) lens_.push_back(l);
  std::sort(lens_.begin(), lens_.end(), std::greater<uint32_t>());
}

void PatternIndex::Add(const PatEntry* e) {
  // An entry already there is left as it is: an index built for a swap may already hold
  // additions queued after the swap (pattern_sync.cc).
  if (!keyed()) {
    if (std::find(list_.begin(), list_.end(), e) != list_.end()) return;
    ++size_;
    list_.push_back(e);
    return;
  }
  auto [it, fresh] = keys_.try_emplace(std::string_view(e->key), e);
  if (!fresh) {  // a duplicate: after the last one with this key
    const PatEntry* p = it->second;
    if (p == e) return;
    for (auto n = next_.find(p); n != next_.end(); n = next_.find(p)) {
      p = n->second;
      if (p == e) return;
    }
    next_[p] = e;
    ++size_;
    return;
  }
  ++size_;
  if (match_ == Match::kBeg || match_ == Match::kEnd) {
    CountLength(static_cast<uint32_t>(e->key.size()), 1);
  } else if (match_ == Match::kIp) {
    if (e->v6) {
      if (v6_count_[e->plen]++ == 0) v6_lens_[e->plen / 64] |= uint64_t{1} << (e->plen % 64);
    } else {
      if (v4_count_[e->plen]++ == 0) v4_lens_ |= uint64_t{1} << e->plen;
    }
  }
}

void PatternIndex::Remove(const PatEntry* e) {
  if (!keyed()) {
    auto it = std::find(list_.begin(), list_.end(), e);
    if (it != list_.end()) {
      list_.erase(it);
      --size_;
    }
    return;
  }
  auto it = keys_.find(std::string_view(e->key));
  if (it == keys_.end()) return;
  const PatEntry* head = it->second;
  if (head != e) {  // a later duplicate: unlink it
    const PatEntry* p = head;
    for (auto n = next_.find(p); n != next_.end(); n = next_.find(p)) {
      if (n->second == e) {
        auto after = next_.find(e);
        if (after != next_.end()) {
          n->second = after->second;
          next_.erase(after);
        } else {
          next_.erase(n);
        }
        --size_;
        return;
      }
      p = n->second;
    }
    return;
  }
  --size_;
  auto n = next_.find(e);
  if (n != next_.end()) {  // the next duplicate takes the key (its key bytes are equal)
    const PatEntry* next = n->second;
    next_.erase(n);
    keys_.erase(it);
    keys_.emplace(std::string_view(next->key), next);
    return;
  }
  keys_.erase(it);
  if (match_ == Match::kBeg || match_ == Match::kEnd) {
    CountLength(static_cast<uint32_t>(e->key.size()), -1);
  } else if (match_ == Match::kIp) {
    if (e->v6) {
      if (--v6_count_[e->plen] == 0) v6_lens_[e->plen / 64] &= ~(uint64_t{1} << (e->plen % 64));
    } else {
      if (--v4_count_[e->plen] == 0) v4_lens_ &= ~(uint64_t{1} << e->plen);
    }
  }
}

// slow path: control plane
void PatternIndex::Equal(const PatEntry* e, std::vector<const PatEntry*>* out) const {
  if (!keyed()) {
    for (const PatEntry* x : list_) {
      if (x->key == e->key && x->lo == e->lo && x->hi == e->hi) out->push_back(x);
    }
    return;
  }
  auto it = keys_.find(std::string_view(e->key));
  if (it == keys_.end()) return;
  const PatEntry* p = it->second;
  out->push_back(p);
  for (auto n = next_.find(p); n != next_.end(); n = next_.find(p)) {
    p = n->second;
    out->push_back(p);
  }
}

const PatEntry* PatternIndex::FindKeyed(std::string_view k) const noexcept {
  auto it = keys_.find(k);
  return it == keys_.end() ? nullptr : it->second;
}

const PatEntry* PatternIndex::FindLengths(std::string_view s, bool suffix) const noexcept {
  for (const uint32_t len : lens_) {
    if (len > s.size()) continue;
    const std::string_view part = suffix ? s.substr(s.size() - len) : s.substr(0, len);
    if (const PatEntry* e = FindKeyed(part)) return e;
  }
  return nullptr;
}

const PatEntry* PatternIndex::FindIp(const uint8_t* a, bool v6) const noexcept {
  char key[18];
  if (!v6) {
    for (int len = 32; len >= 0; --len) {
      if (!(v4_lens_ >> len & 1)) continue;
      const uint32_t n = IpKey(a, false, static_cast<uint8_t>(len), key);
      if (const PatEntry* e = FindKeyed({key, n})) return e;
    }
    return nullptr;
  }
  for (int len = 128; len >= 0; --len) {
    if (!(v6_lens_[len / 64] >> (len % 64) & 1)) continue;
    const uint32_t n = IpKey(a, true, static_cast<uint8_t>(len), key);
    if (const PatEntry* e = FindKeyed({key, n})) return e;
  }
  return nullptr;
}

namespace {

// Hyperscan's match callback: keeps the lowest id (the first pattern in list order).
int OnHsMatch(unsigned id, unsigned long long, unsigned long long, unsigned, void* ctx) {
  auto* best = static_cast<uint32_t*>(ctx);
  if (id < *best) *best = id;
  return id == 0 ? 1 : 0;  // nothing comes before the first: stop
}

}  // namespace

const PatEntry* PatternIndex::FindList(const Sample& s, std::string_view str) const noexcept {
  if (hs_db_) {
    uint32_t best = UINT32_MAX;
    hs_scan(hs_db_, str.empty() ? "" : str.data(), static_cast<unsigned>(str.size()), 0,
            hs_scratch_, OnHsMatch, &best);
    for (const uint32_t pos : pcre_only_) {  // those Hyperscan could not take, in order
      if (pos >= best) break;
      const PatEntry* e = list_[pos];
      if (pcre2_match(e->regex, reinterpret_cast<PCRE2_SPTR>(str.data()), str.size(), 0, 0, md_,
                      nullptr) >= 0) {
        best = pos;
        break;
      }
    }
    return best < list_.size() ? list_[best] : nullptr;
  }
  for (const PatEntry* e : list_) {
    switch (match_) {
      case Match::kInt:
        if (s.sint >= e->lo && s.sint <= e->hi) return e;
        break;
      case Match::kLen: {
        const int64_t n = static_cast<int64_t>(str.size());
        if (n >= e->lo && n <= e->hi) return e;
        break;
      }
      case Match::kSub:
        if (FindSub(str, e->key, icase_) != std::string_view::npos) return e;
        break;
      // HAProxy's delimiters: '/' and '?' for dir; also '.' and ':' for dom.
      case Match::kDir:
        if (MatchWord(str, e->key, "/?", icase_)) return e;
        break;
      case Match::kDom:
        if (MatchWord(str, e->key, "/?.:", icase_)) return e;
        break;
      case Match::kEnd:
        if (str.size() >= e->key.size() &&
            (icase_ ? EqualNoCase(str.substr(str.size() - e->key.size()), e->key)
                    : str.substr(str.size() - e->key.size()) == e->key)) {
          return e;
        }
        break;
      case Match::kReg: {
        const int rc = pcre2_match(e->regex, reinterpret_cast<PCRE2_SPTR>(str.data()), str.size(),
                                   0, 0, md_, nullptr);
        if (rc >= 0) return e;
        break;
      }
      default:
        return nullptr;
    }
  }
  return nullptr;
}

const PatEntry* PatternIndex::Find(const Sample& s, char* tmp) const noexcept {
  switch (match_) {
    case Match::kFound:
    case Match::kBool:
      return nullptr;  // decided by the caller: no patterns take part
    case Match::kIp: {
      if (s.type == SmpType::kIpv4) {
        if (const PatEntry* e = FindIp(s.addr, false)) return e;
        if (!v6_lens_[0] && !v6_lens_[1] && !v6_lens_[2]) return nullptr;
        uint8_t m[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        std::memcpy(m + 12, s.addr, 4);
        return FindIp(m, true);
      }
      if (s.type != SmpType::kIpv6) return nullptr;
      if (const PatEntry* e = FindIp(s.addr, true)) return e;
      if (IsV4Mapped(s.addr)) return FindIp(s.addr + 12, false);
      return nullptr;
    }
    case Match::kStr:
    case Match::kBin:
      return FindKeyed(icase_ ? Lowered(s.str, tmp) : s.str);
    case Match::kBeg:
      return FindLengths(icase_ ? Lowered(s.str, tmp) : s.str, false);
    default:
      return FindList(s, s.str);
  }
}

pcre2_real_match_data_8* NewMatchData() { return pcre2_match_data_create(32, nullptr); }

void FreeMatchData(pcre2_real_match_data_8* md) {
  if (md) pcre2_match_data_free(md);
}

void ApplyPatternOps(PatternTable& t, PatternOp* ops, uint32_t n) {
  for (uint32_t i = 0; i < n; ++i) {
    PatternOp& op = ops[i];
    if (op.ref >= t.sets.size()) continue;
    switch (op.kind) {
      case PatternOp::kAdd:
        if (t.sets[op.ref]) t.sets[op.ref]->Add(op.entry);
        break;
      case PatternOp::kRemove:
        if (t.sets[op.ref]) t.sets[op.ref]->Remove(op.entry);
        break;
      case PatternOp::kSwap: {
        PatternIndex* old = t.sets[op.ref];
        t.sets[op.ref] = op.index;
        op.index = old;
        break;
      }
    }
  }
}

}  // namespace sluice::rules
