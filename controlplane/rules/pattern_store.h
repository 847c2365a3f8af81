// Slow path. The control plane's pattern references (HAProxy's `struct pat_ref`): every ACL
// value list and map, with its id, its file, its users, its versions and its entries in the
// order they came. This is the master copy the Runtime API reads and changes (`show|get|add|
// del|set|clear|prepare|commit acl|map`, doc/management.txt); the workers hold indexes of the
// current version only (dataplane/rules/pattern.h), kept in step by the operations this store
// queues (TakeOps) and the appliance carries to them (docs/decisions/0011-pattern-sets.md).
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <absl/container/flat_hash_map.h>

#include "dataplane/base/result.h"
#include "dataplane/rules/pattern.h"

namespace sluice::rulescp {

// Parses `text` as a pattern of method `m` into `e` (its key, range, network or regex).
// The error is HAProxy's text ("'x' is not a valid IPv4 or IPv6 address.").
base::Result<bool> ParsePattern(rules::Match m, bool icase, std::string_view text,
                                rules::PatEntry* e);
// A decimal integer with an optional sign, all of `s`; false on anything else or overflow.
bool ParseI64(std::string_view s, int64_t* out);
// A map value read as every output type can (text, integer, address).
std::unique_ptr<rules::MapValue> ParseMapValue(std::string_view text);

struct PatRef {
  uint32_t id = 0;                 // its position: the workers' set index
  uint32_t cli_id = 0;             // what `show acl|map` prints and `#<id>` names (`-u` forces it)
  bool acl = false, map = false;   // used by an ACL, by a map converter
  std::string file;                // empty for values written in the configuration
  std::string display;             // `show acl` description of an inline list
  std::vector<std::string> users;  // "acl at file 'F' line N", newest first
  rules::Match match = rules::Match::kStr;
  bool icase = false;
  uint32_t curr_ver = 0, next_ver = 0;
  // Every entry of every version, in the order added.
  std::list<std::unique_ptr<rules::PatEntry>> entries;
  absl::flat_hash_map<const rules::PatEntry*, std::list<std::unique_ptr<rules::PatEntry>>::iterator>
      where;
  std::unique_ptr<rules::PatternIndex> index;  // the control plane's, current version
  std::string Describe() const;                // the `show acl|map` line after "(file) "
};

// What the workers must do, in order: add or remove one entry in set `ref`'s index, or take
// a new index (`swap`, built by BuildIndex) in place of theirs.
struct WorkerOp {
  enum Kind : uint8_t { kAdd, kRemove, kSwap } kind;
  uint32_t ref;
  const rules::PatEntry* entry;  // kAdd, kRemove
};

class PatternStore {
 public:
  // A reference for `-f FILE` / map(FILE): shared by every user of the same file with the same
  // method; the file is read at once. `user` is "acl at file 'F' line N" or "map at ...".
  base::Result<uint32_t> FileRef(const std::string& file, rules::Match m, bool icase, bool map,
                                 const std::string& user);
  // A reference for the values written on an `acl` line (may stay empty); `forced_id` is
  // `-u ID`'s (-1: the lowest id no reference has).
  base::Result<uint32_t> InlineRef(rules::Match m, bool icase, const std::string& display,
                                   int64_t forced_id = -1);
  // Adds a pattern (map: key and value) to the current version, as read from the config.
  base::Result<bool> AddInitial(uint32_t ref, std::string_view key, std::string_view value);

  size_t size() const { return refs_.size(); }
  PatRef* Ref(uint32_t id) { return id < refs_.size() ? refs_[id].get() : nullptr; }
  const PatRef* Ref(uint32_t id) const { return id < refs_.size() ? refs_[id].get() : nullptr; }
  // `#<id>` or a file name, among the references used as ACLs (`map` false) or maps.
  PatRef* Lookup(std::string_view name, bool map);
  std::vector<const PatRef*> List(bool map) const;

  // Runtime API operations; errors are HAProxy's texts. Each queues the workers' operations.
  base::Result<bool> Add(PatRef& r, std::string_view key, std::string_view value, bool has_ver,
                         uint32_t ver);
  // del by key (every entry with that key) or by "#0x..." reference.
  base::Result<bool> Delete(PatRef& r, std::string_view key_or_ref);
  // set by key (every entry with that key) or by reference: false when none is found.
  base::Result<bool> Set(PatRef& r, std::string_view key_or_ref, std::string_view value);
  void Clear(PatRef& r, bool has_ver, uint32_t ver);
  uint32_t Prepare(PatRef& r);
  base::Result<bool> Commit(PatRef& r, uint32_t ver);
  // The entry that `value` matches in the current version, or nullptr.
  const rules::PatEntry* MatchValue(const PatRef& r, std::string_view value);
  // An entry by "#0x..." reference in `r`, or nullptr.
  rules::PatEntry* ByRef(PatRef& r, std::string_view text);

  // A new index of `r`'s current version (for a worker, or the control plane).
  std::unique_ptr<rules::PatternIndex> BuildIndex(const PatRef& r) const;
  // The operations queued since the last call, and what may be freed once every worker has
  // applied them (removed entries, replaced map values).
  std::vector<WorkerOp> TakeOps() { return std::move(ops_); }
  struct Garbage {
    std::vector<std::unique_ptr<rules::PatEntry>> entries;
    std::vector<std::unique_ptr<rules::MapValue>> values;
    bool empty() const { return entries.empty() && values.empty(); }
  };
  Garbage TakeGarbage() { return std::move(garbage_); }
  uint64_t changes() const { return changes_; }

 private:
  uint32_t NewRef(int64_t forced_id = -1);
  base::Result<rules::PatEntry*> NewEntry(PatRef& r, std::string_view key, std::string_view value,
                                          uint32_t ver);
  void Remove(PatRef& r, rules::PatEntry* e);

  std::vector<std::unique_ptr<PatRef>> refs_;
  std::vector<WorkerOp> ops_;
  Garbage garbage_;
  uint64_t next_seq_ = 1;
  uint64_t changes_ = 0;
};

}  // namespace sluice::rulescp
