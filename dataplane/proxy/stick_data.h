// The data of stick-table entries as the proxy reads and changes them (proxy_stick.cc,
// proxy_stick_remote.cc): HAProxy's frequency-counter ticks, a datum read, added to or set
// on the entry itself, and a sample cast to a table's key.
#pragma once

#include <cstdint>
#include <cstring>

#include "dataplane/rules/expr.h"
#include "dataplane/rules/sample.h"
#include "dataplane/stick/stick.h"

namespace sluice::proxy::stick_data {

using stick::Data;
using stick::Entry;
using stick::FreqCtr;
using stick::Shard;

// HAProxy's rate ticks are wall-clock milliseconds truncated to 32 bits, far from 0: a
// worker clock that starts near 0 is moved as far, so that a fresh counter's first period
// starts as HAProxy's does.
inline uint32_t FreqNow(uint64_t now_ms) { return static_cast<uint32_t>(now_ms) + 0x80000000u; }

// The datum (an array's element `elem`) as an integer (a rate: its value now).
inline int64_t ReadDatum(const Shard& sh, Entry* e, Data d, uint64_t now_ms, uint32_t elem = 0) {
  uint8_t* p = sh.DataOf(e, d, elem);
  switch (stick::Info(d).kind) {
    case stick::Kind::kSint: {
      int32_t v;
      std::memcpy(&v, p, 4);
      return v;
    }
    case stick::Kind::kUint:
    case stick::Kind::kDict: {
      uint32_t v;
      std::memcpy(&v, p, 4);
      return v;
    }
    case stick::Kind::kUll: {
      uint64_t v;
      std::memcpy(&v, p, 8);
      return static_cast<int64_t>(v);
    }
    case stick::Kind::kFreq: {
      FreqCtr f;
      std::memcpy(&f, p, sizeof f);
      return stick::FreqRead(f, sh.def().period[static_cast<size_t>(d)], FreqNow(now_ms));
    }
  }
  return 0;
}

// Adds `n` to a counter the table stores (a rate: `n` events now).
inline void AddLocal(const Shard& sh, Entry* e, Data d, uint64_t n, uint64_t now_ms,
              uint32_t elem = 0) {
  if (!sh.def().Stores(d)) return;
  uint8_t* p = sh.DataOf(e, d, elem);
  switch (stick::Info(d).kind) {
    case stick::Kind::kSint:
    case stick::Kind::kUint: {
      uint32_t v;
      std::memcpy(&v, p, 4);
      v += static_cast<uint32_t>(n);
      std::memcpy(p, &v, 4);
      return;
    }
    case stick::Kind::kUll: {
      uint64_t v;
      std::memcpy(&v, p, 8);
      v += n;
      std::memcpy(p, &v, 8);
      return;
    }
    case stick::Kind::kFreq: {
      FreqCtr f;
      std::memcpy(&f, p, sizeof f);
      stick::FreqAdd(f, sh.def().period[static_cast<size_t>(d)], FreqNow(now_ms),
                     static_cast<uint32_t>(n));
      std::memcpy(p, &f, sizeof f);
      return;
    }
    case stick::Kind::kDict:
      return;
  }
}

// Sets a datum (`set table`, sc-set-gpt0, clr_gpc0): a rate starts a period at `v`.
inline void SetLocal(const Shard& sh, Entry* e, Data d, int64_t v, uint64_t now_ms,
              uint32_t elem = 0) {
  if (!sh.def().Stores(d)) return;
  uint8_t* p = sh.DataOf(e, d, elem);
  switch (stick::Info(d).kind) {
    case stick::Kind::kSint:
    case stick::Kind::kUint: {
      const auto x = static_cast<uint32_t>(v);
      std::memcpy(p, &x, 4);
      return;
    }
    case stick::Kind::kUll: {
      const auto x = static_cast<uint64_t>(v);
      std::memcpy(p, &x, 8);
      return;
    }
    case stick::Kind::kFreq: {
      FreqCtr f;
      f.curr_tick = FreqNow(now_ms) & ~1u;
      f.prev_ctr = 0;
      f.curr_ctr = static_cast<uint32_t>(v);
      std::memcpy(p, &f, sizeof f);
      return;
    }
    case stick::Kind::kDict:  // `set table ... data.server_key N` changes nothing (HAProxy)
      return;
  }
}

// conn_cur counts down, never below 0.
inline void ConnCurDown(const Shard& sh, Entry* e) {
  uint32_t cur;
  uint8_t* p = sh.DataOf(e, Data::kConnCur);
  std::memcpy(&cur, p, 4);
  if (cur) --cur;
  std::memcpy(p, &cur, 4);
}

// The key of `s` for a table of `t`'s type (HAProxy's sample-to-key casts).
inline bool KeyOf(const stick::TableDef& t, rules::Sample s, rules::Ctx& c, uint8_t* key) {
  std::memset(key, 0, t.key_len);
  switch (t.type) {
    case stick::KeyType::kIp:
      if (s.type == rules::SmpType::kIpv6) {
        static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (std::memcmp(s.addr, kMapped, 12) != 0) return false;
        std::memcpy(key, s.addr + 12, 4);
        return true;
      }
      if (s.type != rules::SmpType::kIpv4 && !rules::Cast(s, rules::SmpType::kIpv4, c)) {
        return false;
      }
      std::memcpy(key, s.addr, 4);
      return true;
    case stick::KeyType::kIpv6:
      if (s.type == rules::SmpType::kIpv4) {
        key[10] = key[11] = 0xff;
        std::memcpy(key + 12, s.addr, 4);
        return true;
      }
      if (s.type != rules::SmpType::kIpv6 && !rules::Cast(s, rules::SmpType::kIpv6, c)) {
        return false;
      }
      std::memcpy(key, s.addr, 16);
      return true;
    case stick::KeyType::kInteger: {
      if (!rules::Cast(s, rules::SmpType::kSint, c)) return false;
      const auto v = static_cast<uint32_t>(s.sint);
      std::memcpy(key, &v, 4);
      return true;
    }
    case stick::KeyType::kString:
    case stick::KeyType::kBinary: {
      if (!rules::AsText(s, c)) return false;
      // A string key keeps len - 1 bytes (HAProxy's trailing NUL); a binary one len.
      const uint32_t room = t.type == stick::KeyType::kString ? t.key_len - 1 : t.key_len;
      const size_t n = s.str.size() < room ? s.str.size() : room;
      if (n) std::memcpy(key, s.str.data(), n);
      return true;
    }
  }
  return false;
}

}  // namespace sluice::proxy::stick_data
