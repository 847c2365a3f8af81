// The converters of HAProxy 2.6 (doc/configuration.txt 7.3.1) on the worker: what they write
// goes to the evaluation's Arena; nothing allocates.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "dataplane/rules/expr.h"
#include "dataplane/rules/sample_text.h"

namespace sluice::rules {
namespace {

bool ArgInt(const Arg& a, Ctx& c, int64_t* v) noexcept {
  if (!a.is_var) {
    *v = a.i;
    return true;
  }
  const Sample* s = c.vars ? c.vars->Get(a.var) : nullptr;
  if (!s) return false;
  Sample t = *s;
  if (!Cast(t, SmpType::kSint, c)) return false;
  *v = t.sint;
  return true;
}

bool Arith(const Step& st, Sample& s, Ctx& c) noexcept {
  if (!Cast(s, SmpType::kSint, c)) return false;
  int64_t v = 0;
  if (st.conv != Conv::kNeg && !ArgInt(st.a[0], c, &v)) return false;
  const int64_t x = s.sint;
  switch (st.conv) {
    // HAProxy saturates at the integer's bounds.
    case Conv::kAdd:
      if (__builtin_add_overflow(x, v, &s.sint)) s.sint = v > 0 ? INT64_MAX : INT64_MIN;
      break;
    case Conv::kSub:
      if (__builtin_sub_overflow(x, v, &s.sint)) s.sint = v < 0 ? INT64_MAX : INT64_MIN;
      break;
    case Conv::kMul:
      if (__builtin_mul_overflow(x, v, &s.sint))
        s.sint = (x < 0) != (v < 0) ? INT64_MIN : INT64_MAX;
      break;
    // HAProxy: a division by zero gives the largest integer of the sign, a modulo 0 gives 0.
    case Conv::kDiv:
      if (v == 0) {
        s.sint = x >= 0 ? INT64_MAX : INT64_MIN;
      } else if (!(x == INT64_MIN && v == -1)) {
        s.sint = x / v;
      }
      break;
    case Conv::kMod:
      s.sint = v == 0 || (x == INT64_MIN && v == -1) ? 0 : x % v;
      break;
    case Conv::kAnd:
      s.sint = x & v;
      break;
    case Conv::kOr:
      s.sint = x | v;
      break;
    case Conv::kXor:
      s.sint = x ^ v;
      break;
    case Conv::kNeg:
      s.sint = static_cast<int64_t>(0 - static_cast<uint64_t>(x));
      break;
    default:
      return false;
  }
  return true;
}

// word / field: `idx` 1-based, negative from the end; `count` pieces with their delimiters.
bool Split(const Step& st, Sample& s, Ctx& c, bool words) noexcept {
  if (!Cast(s, SmpType::kStr, c)) return false;
  const int64_t idx = st.a[0].i;
  const std::string_view delims = st.a[1].s;
  const int64_t count = st.a[2].set ? st.a[2].i : 1;
  const std::string_view v = s.str;
  auto is_delim = [&](char ch) { return delims.find(ch) != std::string_view::npos; };
  // The pieces' starts and ends, at most 1024 of them.
  constexpr uint32_t kMaxPieces = 1024;
  uint32_t starts[kMaxPieces], ends[kMaxPieces], n = 0;
  size_t i = 0;
  while (i <= v.size() && n < kMaxPieces) {
    if (words) {
      while (i < v.size() && is_delim(v[i])) ++i;
      if (i >= v.size()) break;
    }
    const size_t b = i;
    while (i < v.size() && !is_delim(v[i])) ++i;
    starts[n] = static_cast<uint32_t>(b);
    ends[n++] = static_cast<uint32_t>(i);
    ++i;
  }
  if (idx == 0) return false;
  if (n == 0) {
    s.str = {};
    return true;
  }
  int64_t first = idx > 0 ? idx - 1 : static_cast<int64_t>(n) + idx - (count > 0 ? count - 1 : 0);
  if (idx < 0 && count == 0) first = 0;
  if (first < 0 || first >= static_cast<int64_t>(n)) {
    s.str = {};  // HAProxy: an empty sample
    return true;
  }
  int64_t last = count == 0
                     ? (idx > 0 ? static_cast<int64_t>(n) - 1 : static_cast<int64_t>(n) + idx)
                     : first + count - 1;
  if (last >= static_cast<int64_t>(n)) last = static_cast<int64_t>(n) - 1;
  s.str = v.substr(starts[first], ends[last] - starts[first]);
  return true;
}

bool Encode(const Step& st, Sample& s, Ctx& c) noexcept {
  if (s.type == SmpType::kSint && (st.conv == Conv::kHex || st.conv == Conv::kBase64)) {
    char* b = c.arena->Take(8);  // an integer's binary form: 8 bytes, big-endian (HAProxy)
    if (!b) return false;
    for (int i = 0; i < 8; ++i)
      b[i] = static_cast<char>(static_cast<uint64_t>(s.sint) >> (56 - 8 * i));
    s = Sample::Str({b, 8});
  }
  if (!Cast(s, SmpType::kStr, c)) return false;
  const std::string_view v = s.str;
  if (st.conv == Conv::kHex) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    char* p = c.arena->Take(static_cast<uint32_t>(v.size() * 2));
    if (!p) return false;
    for (size_t i = 0; i < v.size(); ++i) {
      p[2 * i] = kHex[static_cast<uint8_t>(v[i]) >> 4];
      p[2 * i + 1] = kHex[static_cast<uint8_t>(v[i]) & 15];
    }
    s.str = {p, v.size() * 2};
    return true;
  }
  if (st.conv == Conv::kBase64) {
    static constexpr char kB64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const size_t n = (v.size() + 2) / 3 * 4;
    char* p = c.arena->Take(static_cast<uint32_t>(n));
    if (!p) return false;
    size_t k = 0;
    for (size_t i = 0; i < v.size(); i += 3) {
      const uint32_t b0 = static_cast<uint8_t>(v[i]);
      const uint32_t b1 = i + 1 < v.size() ? static_cast<uint8_t>(v[i + 1]) : 0;
      const uint32_t b2 = i + 2 < v.size() ? static_cast<uint8_t>(v[i + 2]) : 0;
      const uint32_t w = b0 << 16 | b1 << 8 | b2;
      p[k++] = kB64[w >> 18 & 63];
      p[k++] = kB64[w >> 12 & 63];
      p[k++] = i + 1 < v.size() ? kB64[w >> 6 & 63] : '=';
      p[k++] = i + 2 < v.size() ? kB64[w & 63] : '=';
    }
    s.str = {p, n};
    return true;
  }
  if (st.conv == Conv::kUrlDec) {
    char* p = c.arena->Take(static_cast<uint32_t>(v.size()));
    if (!p) return false;
    size_t k = 0;
    for (size_t i = 0; i < v.size(); ++i) {
      if (v[i] == '%') {
        if (i + 2 >= v.size() + 0 || HexDigit(v[i + 1]) < 0 || HexDigit(v[i + 2]) < 0) {
          return false;  // HAProxy: an invalid escape fails the conversion
        }
        p[k++] = static_cast<char>(HexDigit(v[i + 1]) << 4 | HexDigit(v[i + 2]));
        i += 2;
      } else if (v[i] == '+' && st.a[0].i) {
        p[k++] = ' ';
      } else {
        p[k++] = v[i];
      }
    }
    c.arena->Trim(p, static_cast<uint32_t>(k));
    s.str = {p, k};
    return true;
  }
  // json: escape for a JSON string (HAProxy's default "ascii" mode: \uXXXX for controls and
  // bytes above 0x7e).
  char* p = c.arena->Take(static_cast<uint32_t>(v.size() * 6));
  if (!p) return false;
  size_t k = 0;
  for (const char ch : v) {
    const uint8_t b = static_cast<uint8_t>(ch);
    switch (ch) {
      case '"':
        p[k++] = '\\';
        p[k++] = '"';
        continue;
      case '\\':
        p[k++] = '\\';
        p[k++] = '\\';
        continue;
      case '/':
        p[k++] = '\\';
        p[k++] = '/';
        continue;
      case '\b':
        p[k++] = '\\';
        p[k++] = 'b';
        continue;
      case '\f':
        p[k++] = '\\';
        p[k++] = 'f';
        continue;
      case '\r':
        p[k++] = '\\';
        p[k++] = 'r';
        continue;
      case '\n':
        p[k++] = '\\';
        p[k++] = 'n';
        continue;
      case '\t':
        p[k++] = '\\';
        p[k++] = 't';
        continue;
      default:
        break;
    }
    if (b < 0x20 || b > 0x7e) {
      static constexpr char kHex[] = "0123456789abcdef";
      p[k++] = '\\';
      p[k++] = 'u';
      p[k++] = '0';
      p[k++] = '0';
      p[k++] = kHex[b >> 4];
      p[k++] = kHex[b & 15];
      continue;
    }
    p[k++] = ch;
  }
  c.arena->Trim(p, static_cast<uint32_t>(k));
  s.str = {p, k};
  return true;
}

bool MapConv(const Step& st, Sample& s, Ctx& c) noexcept {
  const PatternIndex* idx = st.ref < c.pats->sets.size() ? c.pats->sets[st.ref] : nullptr;
  const SmpType in = st.match == Match::kIp    ? SmpType::kIpv6
                     : st.match == Match::kInt ? SmpType::kSint
                                               : SmpType::kStr;
  Sample key = s;
  bool ok = true;
  if (in == SmpType::kIpv6) {
    if (key.type != SmpType::kIpv4 && key.type != SmpType::kIpv6) {
      ok = Cast(key, SmpType::kIpv4, c) || Cast(key, SmpType::kIpv6, c);
    }
  } else {
    ok = Cast(key, in, c);
  }
  if (!ok) return false;  // the key cannot be read as the map's type: no sample
  const PatEntry* e = idx ? idx->Find(key, c.tmp) : nullptr;
  const MapValue* v = e ? e->value.load(std::memory_order_acquire) : nullptr;
  if (!v) {
    if (!st.has_default) return false;
    v = &st.dflt;
  }
  switch (st.out) {
    case SmpType::kSint:
      if (!v->int_ok) return false;
      s = Sample::Int(v->sint);
      return true;
    case SmpType::kIpv4:
    case SmpType::kIpv6:
      if (!v->ip_ok) return false;
      s = Sample::Ip(v->addr, v->v6);
      return true;
    default:
      s = Sample::Str(v->text);
      return true;
  }
}

}  // namespace

bool DoConv(const Step& st, Sample& s, Ctx& c) noexcept {
  switch (st.conv) {
    case Conv::kLower:
    case Conv::kUpper: {
      if (!Cast(s, SmpType::kStr, c)) return false;
      char* p = c.arena->Take(static_cast<uint32_t>(s.str.size()));
      if (!p) return false;
      for (size_t i = 0; i < s.str.size(); ++i) {
        p[i] = st.conv == Conv::kLower ? Lower(s.str[i]) : Upper(s.str[i]);
      }
      s.str = {p, s.str.size()};
      return true;
    }
    case Conv::kLength:
      if (!Cast(s, SmpType::kStr, c)) return false;
      s = Sample::Int(static_cast<int64_t>(s.str.size()));
      return true;
    case Conv::kBytes: {
      if (!Cast(s, SmpType::kStr, c)) return false;
      int64_t off = 0, len = -1;
      if (!ArgInt(st.a[0], c, &off)) return false;
      if (st.a[1].set && !ArgInt(st.a[1], c, &len)) return false;
      if (off < 0) return false;
      if (static_cast<uint64_t>(off) >= s.str.size()) {
        s.str = {};  // HAProxy: an empty sample
        return true;
      }
      s.str = s.str.substr(static_cast<size_t>(off),
                           len < 0 ? std::string_view::npos : static_cast<size_t>(len));
      return true;
    }
    case Conv::kWord:
      return Split(st, s, c, true);
    case Conv::kField:
      return Split(st, s, c, false);
    case Conv::kRegsub: {
      if (!Cast(s, SmpType::kStr, c) || !st.regex || !c.md) return false;
      const uint32_t room = kArenaBytes - c.arena->used();
      const uint32_t want = room < 4096 ? room : 4096;
      char* p = c.arena->Take(want);
      if (!p) return false;
      PCRE2_SIZE n = want;
      const uint32_t opts = static_cast<uint32_t>(st.a[2].i);  // PCRE2_SUBSTITUTE_GLOBAL or 0
      const int rc =
          pcre2_substitute(st.regex, reinterpret_cast<PCRE2_SPTR>(s.str.data()), s.str.size(), 0,
                           opts, c.md, nullptr, reinterpret_cast<PCRE2_SPTR>(st.a[1].s.data()),
                           st.a[1].s.size(), reinterpret_cast<PCRE2_UCHAR*>(p), &n);
      if (rc < 0) return false;
      c.arena->Trim(p, static_cast<uint32_t>(n));
      s.str = {p, n};
      return true;
    }
    case Conv::kHex:
    case Conv::kBase64:
    case Conv::kUrlDec:
    case Conv::kJson:
      return Encode(st, s, c);
    case Conv::kIpmask: {
      if (s.type != SmpType::kIpv4 && s.type != SmpType::kIpv6 && !Cast(s, SmpType::kIpv4, c) &&
          !Cast(s, SmpType::kIpv6, c)) {
        return false;
      }
      const bool v6 = s.type == SmpType::kIpv6;
      if (v6 && !st.a[1].set) return false;
      const int64_t len = v6 ? st.a[1].i : st.a[0].i;
      for (int i = 0; i < (v6 ? 16 : 4); ++i) {
        const int64_t bits = len - i * 8;
        if (bits >= 8) continue;
        s.addr[i] = bits <= 0 ? 0 : static_cast<uint8_t>(s.addr[i] & (0xff00 >> bits));
      }
      return true;
    }
    case Conv::kConcat: {
      if (!Cast(s, SmpType::kStr, c)) return false;
      std::string_view mid;
      if (st.a[1].set) {
        const Sample* v = c.vars ? c.vars->Get(st.a[1].var) : nullptr;
        if (v) {
          Sample t = *v;
          if (AsText(t, c)) mid = t.str;
        }
      }
      const std::string_view a = st.a[0].s, b = st.a[2].s;
      const size_t n = s.str.size() + a.size() + mid.size() + b.size();
      char* p = c.arena->Take(static_cast<uint32_t>(n));
      if (!p) return false;
      size_t k = 0;
      for (const std::string_view part : {s.str, a, mid, b}) {
        if (!part.empty()) std::memcpy(p + k, part.data(), part.size());
        k += part.size();
      }
      s.str = {p, n};
      return true;
    }
    case Conv::kAdd:
    case Conv::kSub:
    case Conv::kMul:
    case Conv::kDiv:
    case Conv::kMod:
    case Conv::kAnd:
    case Conv::kOr:
    case Conv::kXor:
    case Conv::kNeg:
      return Arith(st, s, c);
    case Conv::kNot:
    case Conv::kBool:
    case Conv::kOdd:
    case Conv::kEven: {
      if (!Cast(s, SmpType::kSint, c)) return false;
      const int64_t x = s.sint;
      const bool r = st.conv == Conv::kNot    ? x == 0
                     : st.conv == Conv::kBool ? x != 0
                     : st.conv == Conv::kOdd  ? (x & 1) != 0
                                              : (x & 1) == 0;
      s = Sample::Bool(r);
      return true;
    }
    case Conv::kMap:
      return MapConv(st, s, c);
    case Conv::kSetVar:
      if (c.vars) c.vars->Set(st.a[0].var, s);
      return true;
    case Conv::kToStr:
      return AsText(s, c);
    case Conv::kToInt:
      return Cast(s, SmpType::kSint, c);
    case Conv::kTable:
      return c.stick && c.stick->Convert(st.stick, s, c);
  }
  return false;
}

}  // namespace sluice::rules
