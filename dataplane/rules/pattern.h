// Pattern sets: the values of ACLs and the keys of maps (HAProxy's pattern references,
// doc/configuration.txt section 7.1, doc/management.txt `add acl` / `add map`).
//
//  - A PatEntry is one pattern as the control plane parsed it (its text, the key its match
//    method compares, a map's value). The control plane owns every entry: it allocates it,
//    lists it for `show acl|map`, and frees it only after every worker has dropped it.
//  - A PatternIndex is one thread's lookup structure over the entries of one pattern set,
//    chosen by the match method: exact strings in a hash table, prefixes and networks in
//    hash tables probed by length (longest first), a regex list in one Hyperscan database
//    (PCRE2 with JIT for a pattern it refuses), the other methods (sub, dir, dom, end, int,
//    len) in insertion order as HAProxy keeps them. Each worker
//    owns one index per set and is its only writer: it applies the control plane's additions
//    and removals between bursts (docs/decisions/0011-pattern-sets.md), so a lookup never
//    waits and never sees half a change.
//  - A map's value is read through an atomic pointer: `set map` swaps it and frees the old one
//    once every worker has passed a later request.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <absl/container/flat_hash_map.h>

#include "dataplane/rules/sample.h"

struct pcre2_real_code_8;
struct pcre2_real_match_data_8;
struct hs_database;
struct hs_scratch;

namespace sluice::rules {

// Match methods (`-m`), HAProxy's PAT_MATCH_*.
enum class Match : uint8_t {
  kFound,
  kBool,
  kInt,
  kIp,
  kBin,
  kLen,
  kStr,
  kBeg,
  kSub,
  kDir,
  kDom,
  kEnd,
  kReg
};

// HAProxy's names ("str", "beg", ...), and the method named so; false when none is.
std::string_view MatchName(Match m) noexcept;
bool MatchByName(std::string_view name, Match* m) noexcept;

// A map's value as every output type reads it (map_*_str|int|ip).
struct MapValue {
  std::string text;  // slow path: control plane
  bool int_ok = false;
  int64_t sint = 0;
  bool ip_ok = false, v6 = false;
  uint8_t addr[16] = {};
};

struct PatEntry {
  uint64_t seq = 0;      // insertion order over the whole process
  uint32_t version = 0;  // the set's version it belongs to (prepare / commit)
  std::string pattern;   // slow path: control plane; as given: what `show acl|map` prints
  // The key its index compares, by method: the bytes (lowered for -i) for str/beg/end/sub/
  // dir/dom/bin; for ip, [family][prefix length][address masked to it].
  std::string key;                         // slow path: control plane
  int64_t lo = INT64_MIN, hi = INT64_MAX;  // int, len: the range
  bool v6 = false;                         // ip
  uint8_t plen = 0;
  uint8_t addr[16] = {};
  pcre2_real_code_8* regex = nullptr;           // reg (freed with the entry)
  std::atomic<const MapValue*> value{nullptr};  // maps; owned by the control plane

  PatEntry() = default;
  PatEntry(const PatEntry&) = delete;
  PatEntry& operator=(const PatEntry&) = delete;
  ~PatEntry();
};

// One thread's lookup structure over a pattern set's entries of the current version.
class PatternIndex {
 public:
  // slow path: built by the control plane
  PatternIndex(Match m, bool icase);
  // Room for `n` entries without growing: a worker never rehashes a large table. When an
  // addition would pass it (Full()), the control plane sends a new index built with twice
  // the room instead of the addition (controlplane/rules/pattern_store.cc).
  // slow path: built by the control plane
  void Reserve(size_t n);
  bool Full() const noexcept { return size_ >= reserved_; }
  // reg: compiles the entries into one Hyperscan database (those it cannot take stay with
  // PCRE2, tried in order). The index then takes no more changes: the control plane sends a
  // new one for every change of a regex list. False when Hyperscan took none.
  // slow path: control plane
  bool CompileRegexes();
  bool hyperscan() const noexcept { return hs_db_ != nullptr; }
  ~PatternIndex();
  PatternIndex(const PatternIndex&) = delete;
  PatternIndex& operator=(const PatternIndex&) = delete;

  // slow path: applied between bursts, from the control plane's requests
  void Add(const PatEntry* e);
  // slow path: applied between bursts, from the control plane's requests
  void Remove(const PatEntry* e);

  // The entry `s` matches (the sample already converted to the method's type: a string for
  // str/beg/..., an address for ip, an integer for int/len), or nullptr. Where several
  // match: the longest prefix or network, else the first added. `tmp` (kArenaBytes)
  // holds the lowered sample for -i.
  const PatEntry* Find(const Sample& s, char* tmp) const noexcept;
  // Every entry whose key equals `e`'s (duplicates, in insertion order): for `del acl KEY`.
  // slow path: control plane
  void Equal(const PatEntry* e, std::vector<const PatEntry*>* out) const;

  Match match() const noexcept { return match_; }
  bool icase() const noexcept { return icase_; }
  size_t size() const noexcept { return size_; }
  bool keyed() const noexcept {
    // end is searched in order, as HAProxy's list (the first match in file order wins).
    return match_ == Match::kStr || match_ == Match::kBeg || match_ == Match::kIp ||
           match_ == Match::kBin;
  }

 private:
  const PatEntry* FindKeyed(std::string_view k) const noexcept;
  const PatEntry* FindIp(const uint8_t* a, bool v6) const noexcept;
  const PatEntry* FindLengths(std::string_view s, bool suffix) const noexcept;
  const PatEntry* FindList(const Sample& s, std::string_view str) const noexcept;
  // slow path: control plane requests
  void CountLength(uint32_t len, int delta);

  Match match_;
  bool icase_;
  size_t size_ = 0;
  size_t reserved_ = 0;
  // Keyed methods: the first entry per key; later entries with the same key follow it in
  // `next_` (rare: a file with duplicates, an `add` of a key already there).
  absl::flat_hash_map<std::string_view, const PatEntry*> keys_;
  absl::flat_hash_map<const PatEntry*, const PatEntry*> next_;
  // beg/end: how many keys of each length, and the lengths in use, longest first.
  absl::flat_hash_map<uint32_t, uint32_t> len_count_;
  std::vector<uint32_t> lens_;  // slow path: changed by Add/Remove only
  // ip: prefix lengths in use per family (bit n: /n).
  uint64_t v4_lens_ = 0;
  uint64_t v6_lens_[3] = {};
  uint32_t v4_count_[33] = {};
  uint32_t v6_count_[129] = {};
  // Other methods: the entries in insertion order.
  std::vector<const PatEntry*> list_;  // slow path: changed by Add/Remove only
  pcre2_real_match_data_8* md_ = nullptr;
  // reg compiled (CompileRegexes): pattern ids are positions in list_.
  hs_database* hs_db_ = nullptr;
  hs_scratch* hs_scratch_ = nullptr;
  std::vector<uint32_t> pcre_only_;  // slow path: positions Hyperscan could not take
};

// Each worker's pattern indexes, by set id (the control plane's pattern references). The
// control plane builds it before the worker starts; from then on the worker alone changes it.
struct PatternTable {
  std::vector<PatternIndex*> sets;  // slow path: sized at start, changed by requests only
};

// One change of a base::Op::kPatternOps request.
struct PatternOp {
  enum Kind : uint8_t { kAdd, kRemove, kSwap } kind = kAdd;
  uint32_t ref = 0;
  const PatEntry* entry = nullptr;  // kAdd, kRemove
  PatternIndex* index = nullptr;    // kSwap: the new index in, the replaced one out
};

// slow path: applied between bursts, from the control plane's requests (never per packet)
void ApplyPatternOps(PatternTable& t, PatternOp* ops, uint32_t n);

// PCRE2 match data for one thread's regex matching (regsub), made at start-up.
// slow path: start-up and shutdown
pcre2_real_match_data_8* NewMatchData();
// slow path: start-up and shutdown
void FreeMatchData(pcre2_real_match_data_8* md);

}  // namespace sluice::rules
