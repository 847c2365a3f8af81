// Slow path: converters (`,lower`, `,map_str(...)`, `,table_*(...)`...) as the expression
// compiler takes them (rules_compile.h's Compiler::ParseConv): their names, arguments and
// types, with HAProxy's errors (docs/rules.md lists them).
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <string>
#include <string_view>
#include <vector>

#include "controlplane/rules/pattern_store.h"
#include "controlplane/rules/rules_actions.h"
#include "controlplane/rules/rules_compile.h"
#include "dataplane/net/addr_text.h"

namespace sluice::rulescp {
namespace {

using base::Error;
using rules::Conv;
using rules::Match;
using rules::SmpType;

// A converter's name, its argument kinds (as FetchDef::args, plus v: variable or integer),
// and its input and output types.
struct ConvDef {
  std::string_view name;
  Conv conv;
  std::string_view args;
  SmpType in, out;
};

constexpr ConvDef kConvs[] = {
    {"lower", Conv::kLower, "", SmpType::kStr, SmpType::kStr},
    {"upper", Conv::kUpper, "", SmpType::kStr, SmpType::kStr},
    {"length", Conv::kLength, "", SmpType::kStr, SmpType::kSint},
    {"bytes", Conv::kBytes, "nN", SmpType::kBin, SmpType::kBin},
    {"word", Conv::kWord, "isI", SmpType::kStr, SmpType::kStr},
    {"field", Conv::kField, "isI", SmpType::kStr, SmpType::kStr},
    {"regsub", Conv::kRegsub, "ssS", SmpType::kStr, SmpType::kStr},
    {"hex", Conv::kHex, "", SmpType::kBin, SmpType::kStr},
    {"base64", Conv::kBase64, "", SmpType::kBin, SmpType::kStr},
    {"ipmask", Conv::kIpmask, "mM", SmpType::kIpv4, SmpType::kIpv4},
    {"json", Conv::kJson, "S", SmpType::kStr, SmpType::kStr},
    {"url_dec", Conv::kUrlDec, "I", SmpType::kStr, SmpType::kStr},
    {"concat", Conv::kConcat, "SVS", SmpType::kStr, SmpType::kStr},
    {"add", Conv::kAdd, "n", SmpType::kSint, SmpType::kSint},
    {"sub", Conv::kSub, "n", SmpType::kSint, SmpType::kSint},
    {"mul", Conv::kMul, "n", SmpType::kSint, SmpType::kSint},
    {"div", Conv::kDiv, "n", SmpType::kSint, SmpType::kSint},
    {"mod", Conv::kMod, "n", SmpType::kSint, SmpType::kSint},
    {"and", Conv::kAnd, "n", SmpType::kSint, SmpType::kSint},
    {"or", Conv::kOr, "n", SmpType::kSint, SmpType::kSint},
    {"xor", Conv::kXor, "n", SmpType::kSint, SmpType::kSint},
    {"neg", Conv::kNeg, "", SmpType::kSint, SmpType::kSint},
    {"not", Conv::kNot, "", SmpType::kSint, SmpType::kBool},
    {"bool", Conv::kBool, "", SmpType::kSint, SmpType::kBool},
    {"odd", Conv::kOdd, "", SmpType::kSint, SmpType::kBool},
    {"even", Conv::kEven, "", SmpType::kSint, SmpType::kBool},
    {"set-var", Conv::kSetVar, "v", SmpType::kAny, SmpType::kAny},
};

SmpType OutOfMapSuffix(std::string_view s, bool* ok) {
  *ok = true;
  if (s == "str") return SmpType::kStr;
  if (s == "int") return SmpType::kSint;
  if (s == "ip") return SmpType::kIpv4;
  *ok = false;
  return SmpType::kStr;
}

}  // namespace

base::Result<bool> Compiler::ParseConv(std::string_view name, const std::vector<std::string>& args,
                                       rules::Step* st, SmpType* type) {
  bool table = false;
  if (auto ok = ParseTableConv(name, args, st, type, &table); !ok || table) return ok;
  // The map family: map, map_<match>, map_<match>_<out>.
  if (name.substr(0, 3) == "map" && (name.size() == 3 || name[3] == '_')) {
    Match m = Match::kStr;
    SmpType out = SmpType::kStr;
    std::string_view rest = name.size() > 3 ? name.substr(4) : std::string_view();
    if (!rest.empty()) {
      const size_t us = rest.find('_');
      const std::string_view meth = rest.substr(0, us);
      if (!rules::MatchByName(meth, &m) || m == Match::kFound || m == Match::kBool ||
          m == Match::kBin || m == Match::kLen) {
        return Error{"unknown converter '" + std::string(name) + "'"};
      }
      if (us != std::string_view::npos) {
        bool ok = false;
        out = OutOfMapSuffix(rest.substr(us + 1), &ok);
        if (!ok) return Error{"unknown converter '" + std::string(name) + "'"};
      }
    }
    if (args.empty() || args.size() > 2) {
      return Error{"invalid args in converter '" + std::string(name) + "' : expects 1 to 2 " +
                   "arguments"};
    }
    const std::string user = "map at file '" + file_ + "' line " + std::to_string(line_);
    auto ref = store_->FileRef(args[0], m, false, true, user);
    if (!ref) {
      return Error{"invalid args in converter '" + std::string(name) + "' : " + ref.error()};
    }
    // The values must read as the output type (HAProxy checks them as it loads the file).
    if (out != SmpType::kStr) {
      int line = 0;
      for (const auto& e : store_->Ref(*ref)->entries) {
        ++line;
        const rules::MapValue* v = e->value.load(std::memory_order_relaxed);
        if (v && ((out == SmpType::kSint && !v->int_ok) || (out != SmpType::kSint && !v->ip_ok))) {
          return Error{"invalid args in converter '" + std::string(name) + "' : unable to parse '" +
                       v->text + "' at line " + std::to_string(line) + " of file '" + args[0] +
                       "'"};
        }
      }
    }
    st->conv = Conv::kMap;
    st->ref = *ref;
    st->match = m;
    st->out = out;
    if (args.size() == 2) {
      st->has_default = true;
      auto v = ParseMapValue(args[1]);
      st->dflt.text = v->text;
      st->dflt.int_ok = v->int_ok;
      st->dflt.sint = v->sint;
      st->dflt.ip_ok = v->ip_ok;
      st->dflt.v6 = v->v6;
      std::memcpy(st->dflt.addr, v->addr, 16);
      if (out == SmpType::kSint && !v->int_ok) {
        return Error{"invalid args in converter '" + std::string(name) +
                     "' : map default value is not an integer"};
      }
    }
    *type = out;
    return true;
  }
  const ConvDef* def = nullptr;
  for (const ConvDef& d : kConvs) {
    if (d.name == name) def = &d;
  }
  if (!def) return Error{"unknown converter '" + std::string(name) + "'"};
  size_t min = 0;
  for (const char k : def->args) {
    if (k >= 'a' && k <= 'z') ++min;
  }
  if (args.size() < min || args.size() > def->args.size()) {
    return Error{
        "invalid args in converter '" + std::string(name) + "' : expects " + std::to_string(min) +
        (min == def->args.size() ? "" : " to " + std::to_string(def->args.size())) + " arguments"};
  }
  st->conv = def->conv;
  for (size_t i = 0; i < args.size(); ++i) {
    const char k = static_cast<char>(def->args[i] | 0x20);
    rules::Arg& a = st->a[i];
    a.set = true;
    if (k == 'i') {
      if (!ParseI64(args[i], &a.i)) {
        return Error{"invalid args in converter '" + std::string(name) + "' : invalid integer " +
                     "value '" + args[i] + "'"};
      }
    } else if (k == 'm') {  // a mask: a length, or (IPv4) a dotted netmask
      if (!ParseI64(args[i], &a.i)) {
        const auto m = net::ParseIpv4(args[i]);
        const uint32_t h = m ? m->Host() : 1;
        const int len = __builtin_popcount(h);
        if (!m || h != (len == 0 ? 0 : ~uint32_t{0} << (32 - len)) || i > 0) {
          return Error{"invalid args in converter '" + std::string(name) + "' : invalid mask"};
        }
        a.i = len;
      }
    } else if (k == 'n') {  // an integer or a variable
      if (!ParseI64(args[i], &a.i)) {
        if (auto ok = CheckVarName(args[i]); !ok) {
          return Error{"invalid args in converter '" + std::string(name) + "' : " + ok.error()};
        }
        a.is_var = true;
        a.var = VarSlot(args[i]);
      }
    } else if (k == 'v') {
      if (args[i].empty()) {
        a.set = false;
        continue;
      }
      if (auto ok = CheckVarName(args[i]); !ok) {
        return Error{"invalid args in converter '" + std::string(name) + "' : " + ok.error()};
      }
      a.is_var = true;
      a.var = VarSlot(args[i]);
    } else {
      a.s = args[i];
    }
  }
  if (def->conv == Conv::kRegsub) {
    bool global = false, icase = false;
    if (st->a[2].set) {
      for (const char c : st->a[2].s) {
        if (c == 'g') {
          global = true;
        } else if (c == 'i') {
          icase = true;
        } else {
          return Error{"invalid args in converter 'regsub' : invalid regex flag '" +
                       std::string(1, c) + "'"};
        }
      }
    }
    int code = 0;
    PCRE2_SIZE at = 0;
    pcre2_code* re =
        pcre2_compile(reinterpret_cast<PCRE2_SPTR>(st->a[0].s.data()), st->a[0].s.size(),
                      icase ? PCRE2_CASELESS : 0, &code, &at, nullptr);
    if (!re)
      return Error{"invalid args in converter 'regsub' : invalid regex '" + st->a[0].s + "'"};
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    snap_->regexes.push_back(re);
    st->regex = re;
    // HAProxy's \N references become PCRE2's ${N}; a literal '$' is doubled.
    std::string subst;
    const std::string& s = st->a[1].s;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '9') {
        subst += "${" + std::string(1, s[++i]) + "}";
      } else if (s[i] == '$') {
        subst += "$$";
      } else {
        subst.push_back(s[i]);
      }
    }
    st->a[1].s = subst;
    st->a[2].i = global ? PCRE2_SUBSTITUTE_GLOBAL : 0;
  }
  if (def->conv == Conv::kJson && st->a[0].set && st->a[0].s != "ascii" && st->a[0].s != "utf8" &&
      st->a[0].s != "utf8s" && st->a[0].s != "utf8p" && st->a[0].s != "utf8ps") {
    return Error{
        "invalid args in converter 'json' : Unexpected input code type. Allowed value "
        "are 'ascii', 'utf8', 'utf8s', 'utf8p' and 'utf8ps'."};
  }
  if (def->conv == Conv::kIpmask) {
    if (st->a[0].i < 0 || st->a[0].i > 32 ||
        (st->a[1].set && (st->a[1].i < 0 || st->a[1].i > 128))) {
      return Error{"invalid args in converter 'ipmask' : invalid mask"};
    }
  }
  *type = def->out == SmpType::kAny ? *type : def->out;
  return true;
}

}  // namespace sluice::rulescp
