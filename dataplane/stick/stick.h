// Stick tables on the workers (HAProxy 2.6 configuration.txt `stick-table`, section 7.3.3
// `sc_*`, management.txt `show table`): each worker holds a shard of every table, the
// entries of the keys it owns (a client's address lives on the worker that owns the
// client's flows, DESIGN.md section 2), written by that worker alone. The control plane
// compiles the tables' definitions (TableDef) into the snapshot part "stick"; a worker's
// shards are sized at start-up and never allocate afterwards.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/base/timer_wheel.h"
#include "dataplane/snapshot/snapshot.h"

struct rte_hash;

namespace sluice::stick {

// HAProxy's data types, in its order (STKTABLE_DT_*): `show table` writes an entry's data
// in this order, whatever the order of `store`.
enum class Data : uint8_t {
  kServerId,
  kGpt0,
  kGpc0,
  kGpc0Rate,
  kConnCnt,
  kConnRate,
  kConnCur,
  kSessCnt,
  kSessRate,
  kHttpReqCnt,
  kHttpReqRate,
  kHttpErrCnt,
  kHttpErrRate,
  kBytesInCnt,
  kBytesInRate,
  kBytesOutCnt,
  kBytesOutRate,
  kGpc1,
  kGpc1Rate,
  kServerKey,  // the server's name (a dictionary entry in HAProxy): its index + 1, 0 for none
  kHttpFailCnt,
  kHttpFailRate,
  // Arrays (`store gpt(N)`, `gpc(N)`, `gpc_rate(N,P)`, N from 1 to 100): `show table`
  // writes their elements last, as gpt0.. gpc0.. gpc0_rate(P)..; the legacy gpt0, gpc0,
  // gpc1 and their rates fall back to elements 0 and 1 when only the array is stored.
  kGpt,
  kGpc,
  kGpcRate,
  kCount,
};
inline constexpr size_t kDataTypes = static_cast<size_t>(Data::kCount);
inline constexpr uint32_t kMaxArray = 100;  // elements of gpt(N), gpc(N), gpc_rate(N,P)
inline bool IsArray(Data d) noexcept { return d >= Data::kGpt && d < Data::kCount; }

// The name `store` and `data.<name>` use; whether it is a rate (takes a period) and how it
// is stored (a 32-bit integer, a 64-bit one, a frequency counter).
// kDict: HAProxy's dictionary entry (server_key), kept as the server's index + 1 and
// written as its name.
enum class Kind : uint8_t { kSint, kUint, kUll, kFreq, kDict };
struct DataInfo {
  std::string_view name;
  Kind kind;
};
const DataInfo& Info(Data d) noexcept;
// The type named `name` ("http_req_rate"; "server_name", HAProxy's old name of server_key),
// or Data::kCount.
Data DataByName(std::string_view name) noexcept;

// HAProxy's frequency counter over a period (freq_ctr.h): events of the current period and
// of the previous one; the rate read is the current count plus the previous one weighted by
// the part of the period still to run. Ticks are the worker's milliseconds.
struct FreqCtr {
  uint32_t curr_tick = 0;
  uint32_t curr_ctr = 0;
  uint32_t prev_ctr = 0;
};
void FreqAdd(FreqCtr& f, uint32_t period_ms, uint32_t now_ms, uint32_t inc) noexcept;
uint32_t FreqRead(const FreqCtr& f, uint32_t period_ms, uint32_t now_ms) noexcept;

enum class KeyType : uint8_t { kIp, kIpv6, kInteger, kString, kBinary };
inline constexpr uint32_t kMaxKeyBytes = 64;  // string and binary `len` at most this

// A table as the configuration defines it, and where each stored datum is in an entry.
struct TableDef {
  std::string name;  // slow path: compiled; the proxy's name
  KeyType type = KeyType::kIp;
  uint32_t key_len = 4;  // bytes of the key (ip 4, ipv6 16, integer 4, string/binary `len`)
  uint64_t size = 0;     // entries in all the shards (see Shard::Init for each one's share)
  uint32_t expire_ms = 0;  // 0: entries never expire (they are purged when the table is full)
  bool nopurge = false;
  bool srvkey_addr = false;  // server_key names a server by its address:port (else its name)
  int16_t off[kDataTypes];       // bytes into the entry's data (an array: element 0); -1: none
  uint32_t period[kDataTypes];  // rates: the period in ms
  uint8_t elems[kDataTypes];    // an array's elements (1 for the others)
  uint32_t data_bytes = 0;
  TableDef() {
    for (auto& o : off) o = -1;
    for (auto& p : period) p = 0;
    for (auto& n : elems) n = 1;
  }
  bool Stores(Data d) const noexcept { return off[static_cast<size_t>(d)] >= 0; }
  uint32_t Elems(Data d) const noexcept { return elems[static_cast<size_t>(d)]; }
  // Elements of the arrays stored past their element 0 (a `show table` row carries them
  // after StickRow).
  uint32_t ArrayTail() const noexcept {
    uint32_t n = 0;
    for (Data d : {Data::kGpt, Data::kGpc, Data::kGpcRate}) {
      if (Stores(d)) n += Elems(d) - 1;
    }
    return n;
  }
};

// Where datum `d` (element `elem` of an array) of a table lives: itself, or for gpt0, gpc0,
// gpc1 and their rates when only the array is stored, the array's element 0 or 1 (HAProxy
// 2.6). `ok` false: the table stores neither.
struct Slot {
  Data d;
  uint8_t elem;
  bool ok;
};
Slot Resolve(const TableDef& t, Data d, uint32_t elem) noexcept;
inline uint32_t ElemBytes(Data d) noexcept;

// The snapshot part "stick": every table, by index (a proxy's table has the proxy's name).
struct StickSnap : snapshot::Part {
  std::vector<TableDef> tables;  // slow path: compiled
  int Find(std::string_view name) const noexcept {
    for (size_t i = 0; i < tables.size(); ++i) {
      if (tables[i].name == name) return static_cast<int>(i);
    }
    return -1;
  }
};

// What the control plane and a worker exchange for `show|set|clear table`: a row, then
// (TableDef::ArrayTail) int64_t values of the arrays' elements past 0, in type order.
struct StickRow {
  alignas(8) uint8_t key[kMaxKeyBytes];
  uint64_t ref;     // the entry's reference (worker and pool index), printed as a pointer
  uint32_t use;     // streams tracking it
  uint32_t exp_ms;  // left before it expires (0: none, or due)
  int64_t values[kDataTypes];  // the stored data, by Data (rates: their value now)
};
struct StickSet {
  alignas(8) uint8_t key[kMaxKeyBytes];
  uint32_t n = 0;
  struct Item {
    uint8_t data;
    int64_t value;
  } items[kDataTypes];
};
enum class FilterOp : uint8_t { kEq, kNe, kLe, kGe, kLt, kGt };
struct StickFilter {
  uint8_t data;
  FilterOp op;
  int64_t value;
};
inline constexpr uint32_t kMaxFilters = 4;
struct StickClear {
  bool has_key = false;
  alignas(8) uint8_t key[kMaxKeyBytes];
  uint32_t nfilters = 0;
  StickFilter filters[kMaxFilters];
};
// Whether `v` passes filter `f` (HAProxy's show/clear table comparisons).
inline bool Passes(const StickFilter& f, int64_t v) noexcept {
  switch (f.op) {
    case FilterOp::kEq:
      return v == f.value;
    case FilterOp::kNe:
      return v != f.value;
    case FilterOp::kLe:
      return v <= f.value;
    case FilterOp::kGe:
      return v >= f.value;
    case FilterOp::kLt:
      return v < f.value;
    case FilterOp::kGt:
      return v > f.value;
  }
  return false;
}

// One entry: its timer (expiry), how many streams track it, its place in the shard's
// least-recently-used list, its key and its data (TableDef's layout).
struct Entry {
  base::TimerNode timer{base::kTimerStick};
  uint32_t use = 0;
  uint16_t table = 0;
  // Made by a sticking rule's store and not yet given its server: `show table` leaves it out
  // (HAProxy inserts such an entry only once the server answered).
  bool pending = false;
  // A copy of an entry another worker owns (docs/stick-tables.md, "Keys another worker
  // owns"): kept while a stream here tracks it; what changes it is also sent to the owner.
  bool remote = false;
  uint32_t lru_prev = UINT32_MAX, lru_next = UINT32_MAX;
  uint64_t exp_ms = 0;  // the worker's ms when it expires (0: never)
  uint8_t* key() noexcept { return reinterpret_cast<uint8_t*>(this + 1); }
  const uint8_t* key() const noexcept { return reinterpret_cast<const uint8_t*>(this + 1); }
};

// What workers send each other about the entries of keys another worker owns (DESIGN.md
// section 8): fixed-size elements on each worker's stick ring (many producers, the owner
// consumes). kLookup asks the owner for an entry's data (`tag`: the asking session's id);
// kReply carries it back (`found`, the data in the table's layout); kOps are changes the
// owner applies in order, and answers nothing.
inline constexpr uint32_t kMsgData = 256;  // an entry's data, at most (TableDef::data_bytes)
enum class MsgKind : uint8_t { kLookup, kReply, kOps };
// One change: add `value` to a datum (a rate: `value` events), set it, count conn_cur
// down (never below 0), count the entry's trackers up or down, write a server_key, or
// nothing but the touch every message gives its entry (a `stick match`).
enum class OpHow : uint8_t { kAdd, kSet, kConnCurDown, kUse, kUnuse, kRaw, kTouch };
struct MsgOp {
  uint8_t data;
  OpHow how;
  uint8_t elem;  // an array's element
  int64_t value;
};
inline constexpr uint32_t kMaxMsgOps = kMsgData / sizeof(MsgOp);
struct Msg {
  MsgKind kind = MsgKind::kOps;
  uint8_t from = 0;
  uint8_t nops = 0;
  bool found = false;
  uint16_t table = 0;
  uint64_t tag = 0;
  alignas(8) uint8_t key[kMaxKeyBytes];
  union {
    uint8_t data[kMsgData];
    MsgOp ops[kMaxMsgOps];
  };
};

// A worker's part of one table: a fixed pool of entries and an rte_hash from key to entry.
class Shard {
 public:
  Shard() = default;
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;
  ~Shard();
  // Start-up only: room for `capacity` entries of `def`'s layout (copied). False when memory
  // is short.
  // Expiry timers go on `wheel` (the worker's; nullptr: entries never expire).
  bool Init(const TableDef& def, uint32_t table, uint32_t capacity, uint16_t worker,
            int socket_id, base::Timers* wheel);

  // The entry of `key` (def.key_len bytes), or nullptr.
  Entry* Lookup(const uint8_t* key) noexcept;
  // The entry of `key`, created (data zeroed) when missing. When the shard is full, the
  // least recently used entry no stream tracks is purged first, unless `nopurge`; nullptr
  // when none could be. `created` (when given) is set when the entry is new.
  Entry* Get(const uint8_t* key, bool* created = nullptr) noexcept;
  // An update: moves the entry to the LRU's head and pushes its expiry (the table's
  // `expire` from now).
  void Touch(Entry* e, uint64_t now_ms) noexcept;
  // Removes the entry (and cancels its timer).
  void Remove(Entry* e) noexcept;
  // Marks a new entry as a copy of another worker's (counted apart from the owned ones).
  void MarkRemote(Entry* e) noexcept {
    if (!e->remote) ++remote_;
    e->remote = true;
  }
  // Its expiry timer is due: an entry a stream tracks (use > 0) stays, pushed a whole
  // `expire` further, and goes once released and due again; an untracked one goes now.
  // True when it was removed.
  bool Expire(Entry* e, uint64_t now_ms) noexcept;

  // Where datum `d` (an array's element `elem`) of `e` is (the table stores it).
  uint8_t* DataOf(Entry* e, Data d, uint32_t elem = 0) const noexcept {
    return reinterpret_cast<uint8_t*>(e) + data_at_ +
           static_cast<uint32_t>(def_.off[static_cast<size_t>(d)]) + elem * ElemBytes(d);
  }
  // The entry's whole data (def().data_bytes), as a stick::Msg carries it.
  uint8_t* DataBlock(Entry* e) const noexcept { return reinterpret_cast<uint8_t*>(e) + data_at_; }
  const TableDef& def() const noexcept { return def_; }
  uint32_t used() const noexcept { return used_; }
  uint32_t owned() const noexcept { return used_ - remote_; }  // without the copies
  uint32_t capacity() const noexcept { return capacity_; }
  // Pool indexes run from 0 to slots() (walks for `show table`).
  uint32_t slots() const noexcept { return slots_; }
  uint64_t purged() const noexcept { return purged_; }
  uint64_t full() const noexcept { return full_; }  // creations refused (nopurge, all in use)
  // The entry at pool index `i` when it is live (walks for `show table`), else nullptr.
  Entry* At(uint32_t i) noexcept;
  uint32_t entry_bytes() const noexcept { return stride_; }

 private:
  Entry* EntryAt(uint32_t i) const noexcept {
    return reinterpret_cast<Entry*>(pool_ + static_cast<size_t>(i) * stride_);
  }
  uint32_t IndexOf(const Entry* e) const noexcept {
    return static_cast<uint32_t>((reinterpret_cast<const uint8_t*>(e) - pool_) / stride_);
  }
  void LruUnlink(uint32_t i) noexcept;
  void LruPushHead(uint32_t i) noexcept;

  TableDef def_;  // a copy: the shard outlives any snapshot
  base::Timers* wheel_ = nullptr;
  rte_hash* hash_ = nullptr;
  uint8_t* pool_ = nullptr;
  uint8_t* live_ = nullptr;  // one byte per pool index
  uint32_t stride_ = 0, data_at_ = 0, capacity_ = 0, slots_ = 0, used_ = 0, table_ = 0;
  uint32_t remote_ = 0;
  uint32_t lru_head_ = UINT32_MAX, lru_tail_ = UINT32_MAX;
  uint64_t purged_ = 0, full_ = 0;
};

inline uint32_t ElemBytes(Data d) noexcept {
  const Kind k = Info(d).kind;
  return k == Kind::kFreq ? sizeof(FreqCtr) : k == Kind::kUll ? 8 : 4;
}

}  // namespace sluice::stick
