// Stick tables on the workers (dataplane/stick/stick.h).
#include "dataplane/stick/stick.h"

#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

#include <cstdio>
#include <cstring>

namespace sluice::stick {
namespace {

constexpr DataInfo kInfo[kDataTypes] = {
    {"server_id", Kind::kSint},       {"gpt0", Kind::kUint},
    {"gpc0", Kind::kUint},            {"gpc0_rate", Kind::kFreq},
    {"conn_cnt", Kind::kUint},        {"conn_rate", Kind::kFreq},
    {"conn_cur", Kind::kUint},        {"sess_cnt", Kind::kUint},
    {"sess_rate", Kind::kFreq},       {"http_req_cnt", Kind::kUint},
    {"http_req_rate", Kind::kFreq},   {"http_err_cnt", Kind::kUint},
    {"http_err_rate", Kind::kFreq},   {"bytes_in_cnt", Kind::kUll},
    {"bytes_in_rate", Kind::kFreq},   {"bytes_out_cnt", Kind::kUll},
    {"bytes_out_rate", Kind::kFreq},  {"gpc1", Kind::kUint},
    {"gpc1_rate", Kind::kFreq},       {"server_key", Kind::kDict},
    {"http_fail_cnt", Kind::kUint},   {"http_fail_rate", Kind::kFreq},
    {"gpt", Kind::kUint},             {"gpc", Kind::kUint},
    {"gpc_rate", Kind::kFreq},
};

}  // namespace

const DataInfo& Info(Data d) noexcept { return kInfo[static_cast<size_t>(d)]; }

Slot Resolve(const TableDef& t, Data d, uint32_t elem) noexcept {
  if (IsArray(d)) {
    if (t.Stores(d) && elem < t.Elems(d)) return {d, static_cast<uint8_t>(elem), true};
    return {d, 0, false};
  }
  if (t.Stores(d)) return {d, 0, true};
  Data arr = Data::kCount;
  uint32_t i = 0;
  switch (d) {
    case Data::kGpt0:
      arr = Data::kGpt;
      break;
    case Data::kGpc0:
    case Data::kGpc1:
      arr = Data::kGpc;
      i = d == Data::kGpc1;
      break;
    case Data::kGpc0Rate:
    case Data::kGpc1Rate:
      arr = Data::kGpcRate;
      i = d == Data::kGpc1Rate;
      break;
    default:
      return {d, 0, false};
  }
  if (t.Stores(arr) && i < t.Elems(arr)) return {arr, static_cast<uint8_t>(i), true};
  return {d, 0, false};
}

Data DataByName(std::string_view name) noexcept {
  for (size_t i = 0; i < kDataTypes; ++i) {
    if (kInfo[i].name == name) return static_cast<Data>(i);
  }
  return name == "server_name" ? Data::kServerKey : Data::kCount;
}

// HAProxy 2.6 (freq_ctr.c, freq_ctr.h), to the same values for the same arrivals: the current
// period starts at curr_tick (its low bit clear); an ended period makes the current count the
// previous one, two ended periods forget both.
void FreqAdd(FreqCtr& f, uint32_t period_ms, uint32_t now_ms, uint32_t inc) noexcept {
  if (now_ms - f.curr_tick < period_ms) {
    f.curr_ctr += inc;
    return;
  }
  f.prev_ctr = f.curr_ctr;
  f.curr_ctr = inc;
  uint32_t tick = f.curr_tick + period_ms;
  if (now_ms - tick >= period_ms) {
    f.prev_ctr = 0;
    tick = now_ms;
  }
  f.curr_tick = tick & ~1u;
}

uint32_t FreqRead(const FreqCtr& f, uint32_t period_ms, uint32_t now_ms) noexcept {
  uint32_t curr = f.curr_ctr, past = f.prev_ctr;
  auto remain = static_cast<int32_t>(f.curr_tick + period_ms - now_ms);
  if (remain < 0) {  // the current period is over
    remain += static_cast<int32_t>(period_ms);
    past = remain >= 0 ? curr : 0;
    curr = 0;
  }
  if (curr == 0 && past <= 1) return past;  // HAProxy's anti-flapping
  if (remain < 0) remain = 0;
  const uint64_t total = static_cast<uint64_t>(past) * static_cast<uint32_t>(remain) +
                         static_cast<uint64_t>(curr) * period_ms;
  return static_cast<uint32_t>(total / period_ms);
}

Shard::~Shard() {
  if (hash_) rte_hash_free(hash_);
  rte_free(pool_);
  rte_free(live_);
}

bool Shard::Init(const TableDef& def, uint32_t table, uint32_t capacity, uint16_t worker,
                 int socket_id, base::Timers* wheel) {
  def_ = def;
  wheel_ = wheel;
  table_ = table;
  capacity_ = capacity ? capacity : 1;
  char name[RTE_HASH_NAMESIZE];
  std::snprintf(name, sizeof name, "stk%u_%u", static_cast<unsigned>(table),
                static_cast<unsigned>(worker));
  rte_hash_parameters p{};
  p.name = name;
  // rte_hash takes at least a bucket's worth; the shard's bound is capacity_ all the same.
  slots_ = capacity_ < 8 ? 8 : capacity_;
  p.entries = slots_;
  p.key_len = def.key_len;
  p.hash_func = rte_hash_crc;
  p.socket_id = socket_id;
  p.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE;  // every one of `entries` keys fits
  hash_ = rte_hash_create(&p);
  if (!hash_) return false;
  data_at_ = static_cast<uint32_t>(sizeof(Entry)) + ((def.key_len + 7) & ~7u);
  stride_ = (data_at_ + def.data_bytes + 7) & ~7u;
  // Key positions run from 0 to entries.
  pool_ = static_cast<uint8_t*>(
      rte_zmalloc_socket(name, static_cast<size_t>(stride_) * (slots_ + 1), 64, socket_id));
  live_ = static_cast<uint8_t*>(rte_zmalloc_socket(name, slots_ + 1, 64, socket_id));
  return pool_ && live_;
}

Entry* Shard::Lookup(const uint8_t* key) noexcept {
  const int32_t pos = rte_hash_lookup(hash_, key);
  return pos >= 0 ? EntryAt(static_cast<uint32_t>(pos)) : nullptr;
}

void Shard::LruUnlink(uint32_t i) noexcept {
  Entry* e = EntryAt(i);
  if (e->lru_prev != UINT32_MAX) {
    EntryAt(e->lru_prev)->lru_next = e->lru_next;
  } else {
    lru_head_ = e->lru_next;
  }
  if (e->lru_next != UINT32_MAX) {
    EntryAt(e->lru_next)->lru_prev = e->lru_prev;
  } else {
    lru_tail_ = e->lru_prev;
  }
  e->lru_prev = e->lru_next = UINT32_MAX;
}

void Shard::LruPushHead(uint32_t i) noexcept {
  Entry* e = EntryAt(i);
  e->lru_prev = UINT32_MAX;
  e->lru_next = lru_head_;
  if (lru_head_ != UINT32_MAX) EntryAt(lru_head_)->lru_prev = i;
  lru_head_ = i;
  if (lru_tail_ == UINT32_MAX) lru_tail_ = i;
}

Entry* Shard::Get(const uint8_t* key, bool* created) noexcept {
  if (Entry* e = Lookup(key)) return e;
  if (used_ >= capacity_) {
    // Full: HAProxy trashes the (size >> 8) + 1 least recently touched entries no stream
    // tracks; from the LRU's tail, a bounded walk past tracked ones.
    if (def_.nopurge) {
      ++full_;
      return nullptr;
    }
    uint32_t want = (capacity_ >> 8) + 1, seen = 0;
    for (uint32_t i = lru_tail_; i != UINT32_MAX && want && seen < 1024; ++seen) {
      Entry* old = EntryAt(i);
      i = old->lru_prev;
      if (old->use) continue;
      Remove(old);
      ++purged_;
      --want;
    }
    if (used_ >= capacity_) {
      ++full_;
      return nullptr;
    }
  }
  const int32_t pos = rte_hash_add_key(hash_, key);
  if (pos < 0) {
    ++full_;
    return nullptr;
  }
  const auto i = static_cast<uint32_t>(pos);
  Entry* e = EntryAt(i);
  std::memset(static_cast<void*>(e), 0, stride_);
  new (e) Entry();
  e->table = static_cast<uint16_t>(table_);
  std::memcpy(e->key(), key, def_.key_len);
  live_[i] = 1;
  ++used_;
  LruPushHead(i);
  if (created) *created = true;
  return e;
}

void Shard::Touch(Entry* e, uint64_t now_ms) noexcept {
  const uint32_t i = IndexOf(e);
  if (lru_head_ != i) {
    LruUnlink(i);
    LruPushHead(i);
  }
  if (def_.expire_ms) {
    e->exp_ms = now_ms + def_.expire_ms;
    if (wheel_) wheel_->Arm(&e->timer, e->exp_ms);
  }
}

void Shard::Remove(Entry* e) noexcept {
  const uint32_t i = IndexOf(e);
  if (!live_[i]) return;
  if (wheel_) wheel_->Cancel(&e->timer);
  LruUnlink(i);
  live_[i] = 0;
  --used_;
  if (e->remote) --remote_;
  rte_hash_del_key(hash_, e->key());
}

bool Shard::Expire(Entry* e, uint64_t now_ms) noexcept {
  if (e->use) {
    Touch(e, now_ms);
    return false;
  }
  Remove(e);
  return true;
}

Entry* Shard::At(uint32_t i) noexcept { return i <= slots_ && live_[i] ? EntryAt(i) : nullptr; }

}  // namespace sluice::stick
