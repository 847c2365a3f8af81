// Slow path: the configuration's rules compiled for the workers
// (controlplane/rules/rules_compile.h; docs/rules.md lists every keyword).
#define PCRE2_CODE_UNIT_WIDTH 8
#include "controlplane/rules/rules_compile.h"

#include "controlplane/rules/rules_actions.h"

#include <pcre2.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <sstream>

#include "dataplane/net/addr_text.h"

namespace sluice::rulescp {
namespace {

using base::Error;
using rules::Act;
using rules::Conv;
using rules::Fetch;
using rules::Match;
using rules::SmpType;

// A fetch's name, its arguments (s: string, i: integer, b: backend, f: frontend, v: variable,
// 4/6: address, u: userlist; upper case: optional) and what it gives.
struct FetchDef {
  std::string_view name;
  Fetch fetch;
  std::string_view args;
  SmpType type;
  Match match;  // the ACL match when none is given
  bool http, response;
};

constexpr FetchDef kFetches[] = {
    {"src", Fetch::kSrc, "", SmpType::kIpv4, Match::kIp, false, false},
    {"src_port", Fetch::kSrcPort, "", SmpType::kSint, Match::kInt, false, false},
    {"dst", Fetch::kDst, "", SmpType::kIpv4, Match::kIp, false, false},
    {"dst_port", Fetch::kDstPort, "", SmpType::kSint, Match::kInt, false, false},
    {"so_id", Fetch::kSoId, "", SmpType::kSint, Match::kInt, false, false},
    {"fe_id", Fetch::kFeId, "", SmpType::kSint, Match::kInt, false, false},
    {"be_id", Fetch::kBeId, "", SmpType::kSint, Match::kInt, false, false},
    {"fe_name", Fetch::kFeName, "", SmpType::kStr, Match::kStr, false, false},
    {"be_name", Fetch::kBeName, "", SmpType::kStr, Match::kStr, false, false},
    {"srv_name", Fetch::kSrvName, "", SmpType::kStr, Match::kStr, false, false},
    {"nbsrv", Fetch::kNbsrv, "B", SmpType::kSint, Match::kInt, false, false},
    {"be_conn", Fetch::kBeConn, "B", SmpType::kSint, Match::kInt, false, false},
    {"fe_conn", Fetch::kFeConn, "F", SmpType::kSint, Match::kInt, false, false},
    {"connslots", Fetch::kConnslots, "B", SmpType::kSint, Match::kInt, false, false},
    {"always_true", Fetch::kAlwaysTrue, "", SmpType::kBool, Match::kBool, false, false},
    {"always_false", Fetch::kAlwaysFalse, "", SmpType::kBool, Match::kBool, false, false},
    {"int", Fetch::kInt, "i", SmpType::kSint, Match::kInt, false, false},
    {"str", Fetch::kStr, "s", SmpType::kStr, Match::kStr, false, false},
    {"bool", Fetch::kBool, "i", SmpType::kBool, Match::kBool, false, false},
    {"ipv4", Fetch::kIpv4, "4", SmpType::kIpv4, Match::kIp, false, false},
    {"ipv6", Fetch::kIpv6, "6", SmpType::kIpv6, Match::kIp, false, false},
    {"var", Fetch::kVar, "v", SmpType::kStr, Match::kStr, false, false},
    {"ssl_fc", Fetch::kSslFc, "", SmpType::kBool, Match::kBool, false, false},
    {"ssl_fc_sni", Fetch::kSslFcSni, "", SmpType::kStr, Match::kStr, false, false},
    {"ssl_fc_protocol", Fetch::kSslFcProtocol, "", SmpType::kStr, Match::kStr, false, false},
    {"ssl_fc_cipher", Fetch::kSslFcCipher, "", SmpType::kStr, Match::kStr, false, false},
    {"ssl_fc_alpn", Fetch::kSslFcAlpn, "", SmpType::kStr, Match::kStr, false, false},
    {"ssl_fc_session_reused", Fetch::kSslFcSessionReused, "", SmpType::kBool, Match::kBool,
     false, false},
    {"ssl_c_used", Fetch::kSslCUsed, "", SmpType::kBool, Match::kBool, false, false},
    {"ssl_c_verify", Fetch::kSslCVerify, "", SmpType::kSint, Match::kInt, false, false},
    {"ssl_c_s_dn", Fetch::kSslCSDn, "", SmpType::kStr, Match::kStr, false, false},
    {"method", Fetch::kMethod, "", SmpType::kStr, Match::kStr, true, false},
    {"path", Fetch::kPath, "", SmpType::kStr, Match::kStr, true, false},
    {"pathq", Fetch::kPathq, "", SmpType::kStr, Match::kStr, true, false},
    {"url", Fetch::kUrl, "", SmpType::kStr, Match::kStr, true, false},
    {"query", Fetch::kQuery, "", SmpType::kStr, Match::kStr, true, false},
    {"url_param", Fetch::kUrlParam, "sS", SmpType::kStr, Match::kStr, true, false},
    {"urlp", Fetch::kUrlParam, "sS", SmpType::kStr, Match::kStr, true, false},
    {"base", Fetch::kBase, "", SmpType::kStr, Match::kStr, true, false},
    {"hdr", Fetch::kHdr, "SI", SmpType::kStr, Match::kStr, true, false},
    {"req.hdr", Fetch::kHdr, "SI", SmpType::kStr, Match::kStr, true, false},
    {"req.fhdr", Fetch::kFhdr, "SI", SmpType::kStr, Match::kStr, true, false},
    {"hdr_cnt", Fetch::kHdrCnt, "S", SmpType::kSint, Match::kInt, true, false},
    {"req.hdr_cnt", Fetch::kHdrCnt, "S", SmpType::kSint, Match::kInt, true, false},
    {"req.fhdr_cnt", Fetch::kFhdrCnt, "S", SmpType::kSint, Match::kInt, true, false},
    {"hdr_val", Fetch::kHdrVal, "SI", SmpType::kSint, Match::kInt, true, false},
    {"req.hdr_val", Fetch::kHdrVal, "SI", SmpType::kSint, Match::kInt, true, false},
    {"cook", Fetch::kCook, "S", SmpType::kStr, Match::kStr, true, false},
    {"req.cook", Fetch::kCook, "S", SmpType::kStr, Match::kStr, true, false},
    {"cook_cnt", Fetch::kCookCnt, "S", SmpType::kSint, Match::kInt, true, false},
    {"req.cook_cnt", Fetch::kCookCnt, "S", SmpType::kSint, Match::kInt, true, false},
    {"req.body_len", Fetch::kBodyLen, "", SmpType::kSint, Match::kInt, true, false},
    {"req.len", Fetch::kReqLen, "", SmpType::kSint, Match::kInt, true, false},
    {"req_len", Fetch::kReqLen, "", SmpType::kSint, Match::kInt, true, false},
    {"req.ver", Fetch::kReqVer, "", SmpType::kStr, Match::kStr, true, false},
    {"req_ver", Fetch::kReqVer, "", SmpType::kStr, Match::kStr, true, false},
    {"req.proto_http", Fetch::kProtoHttp, "", SmpType::kBool, Match::kBool, false, false},
    {"status", Fetch::kStatus, "", SmpType::kSint, Match::kInt, true, true},
    {"res.hdr", Fetch::kResHdr, "SI", SmpType::kStr, Match::kStr, true, true},
    {"shdr", Fetch::kResHdr, "SI", SmpType::kStr, Match::kStr, true, true},
    {"res.hdr_cnt", Fetch::kResHdrCnt, "S", SmpType::kSint, Match::kInt, true, true},
    {"shdr_cnt", Fetch::kResHdrCnt, "S", SmpType::kSint, Match::kInt, true, true},
    {"res.cook", Fetch::kResCook, "S", SmpType::kStr, Match::kStr, true, true},
    {"scook", Fetch::kResCook, "S", SmpType::kStr, Match::kStr, true, true},
    {"res.ver", Fetch::kResVer, "", SmpType::kStr, Match::kStr, true, true},
    {"resp_ver", Fetch::kResVer, "", SmpType::kStr, Match::kStr, true, true},
    {"capture.req.hdr", Fetch::kCaptureReqHdr, "i", SmpType::kStr, Match::kStr, true, false},
    {"capture.res.hdr", Fetch::kCaptureResHdr, "i", SmpType::kStr, Match::kStr, true, true},
    {"http_auth", Fetch::kHttpAuth, "u", SmpType::kBool, Match::kBool, true, false},
    {"http_auth_group", Fetch::kHttpAuthGroup, "u", SmpType::kStr, Match::kStr, true, false},
    {"http_auth_type", Fetch::kHttpAuthType, "", SmpType::kStr, Match::kStr, true, false},
    {"http_auth_user", Fetch::kHttpAuthUser, "", SmpType::kStr, Match::kStr, true, false},
    {"http_auth_pass", Fetch::kHttpAuthPass, "", SmpType::kStr, Match::kStr, true, false},
    {"http_auth_bearer", Fetch::kHttpAuthBearer, "S", SmpType::kStr, Match::kStr, true, false},
};

// HAProxy's predefined ACLs (configuration.txt 7.4), as the ACL lines they stand for.
constexpr std::pair<std::string_view, std::string_view> kPredefined[] = {
    {"FALSE", "always_false"},
    {"TRUE", "always_true"},
    {"LOCALHOST", "src 127.0.0.1/8 ::1"},
    {"HTTP", "req.proto_http"},
    {"HTTP_1.0", "req.ver 1.0"},
    {"HTTP_1.1", "req.ver 1.1"},
    {"HTTP_2.0", "req.ver 2.0"},
    {"HTTP_CONTENT", "req.hdr_val(content-length) gt 0"},
    {"HTTP_URL_ABS", "url_reg ^[^/:]*://"},
    {"HTTP_URL_SLASH", "url_beg /"},
    {"HTTP_URL_STAR", "url *"},
    {"METH_CONNECT", "method CONNECT"},
    {"METH_DELETE", "method DELETE"},
    {"METH_GET", "method GET HEAD"},
    {"METH_HEAD", "method HEAD"},
    {"METH_OPTIONS", "method OPTIONS"},
    {"METH_POST", "method POST"},
    {"METH_PUT", "method PUT"},
    {"METH_TRACE", "method TRACE"},
    {"REQ_CONTENT", "req.len gt 0"},
};

const FetchDef* FindFetch(std::string_view name) {
  for (const FetchDef& f : kFetches) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

// Splits "name(a,b)" into the name and its arguments (backslash escapes and quotes removed).
base::Result<bool> SplitCall(std::string_view text, std::string_view* name,
                             std::vector<std::string>* args, bool* had_parens) {
  const size_t open = text.find('(');
  *had_parens = open != std::string_view::npos;
  if (!*had_parens) {
    *name = text;
    return true;
  }
  if (text.back() != ')') {
    return Error{"missing closing ')' after arguments to '" + std::string(text.substr(0, open)) +
                 "'"};
  }
  *name = text.substr(0, open);
  const std::string_view inner = text.substr(open + 1, text.size() - open - 2);
  std::string cur;
  char quote = 0;
  for (size_t i = 0; i < inner.size(); ++i) {
    const char c = inner[i];
    if (c == '\\' && i + 1 < inner.size()) {
      cur.push_back(inner[++i]);
    } else if (quote) {
      if (c == quote) {
        quote = 0;
      } else {
        cur.push_back(c);
      }
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == ',') {
      args->push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!inner.empty()) args->push_back(cur);
  return true;
}

// Splits "a(x,y),b,c(z)" at the commas outside parentheses.
std::vector<std::string_view> SplitChain(std::string_view text) {
  std::vector<std::string_view> out;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\\') {
      ++i;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')') {
      --depth;
    } else if (c == ',' && depth == 0) {
      out.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  out.push_back(text.substr(start));
  return out;
}

bool ParseInt(std::string_view s, int64_t* out) { return ParseI64(s, out); }

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

// `msg` ended by one period, as HAProxy's alerts.
std::string Period(const std::string& msg) {
  return !msg.empty() && msg.back() == '.' ? msg : msg + ".";
}

std::vector<std::string> LogFormatExprs(std::string_view text) {
  std::vector<std::string> out;
  for (size_t i = 0; i + 1 < text.size(); ++i) {
    if (text[i] != '%') continue;
    if (text[i + 1] == '%') {
      ++i;
      continue;
    }
    size_t j = i + 1;
    if (text[j] == '{') {
      const size_t close = text.find('}', j);
      if (close == std::string_view::npos) break;
      j = close + 1;
    }
    if (j >= text.size() || text[j] != '[') continue;
    int depth = 0;
    size_t k = j + 1;
    for (; k < text.size(); ++k) {
      if (text[k] == '(') ++depth;
      if (text[k] == ')') --depth;
      if (text[k] == ']' && depth <= 0) break;
    }
    out.emplace_back(text.substr(j + 1, k - j - 1));
    i = k;
  }
  return out;
}

uint32_t Compiler::VarSlot(std::string_view name) {
  for (size_t i = 0; i < snap_->var_names.size(); ++i) {
    if (snap_->var_names[i] == name) return static_cast<uint32_t>(i);
  }
  snap_->var_names.emplace_back(name);
  return static_cast<uint32_t>(snap_->var_names.size() - 1);
}

base::Result<bool> CheckVarName(std::string_view v) {
  static constexpr std::string_view kScopes[] = {"proc.", "sess.", "txn.",
                                                 "req.",  "res.",  "check."};
  for (const auto s : kScopes) {
    if (v.substr(0, s.size()) == s && v.size() > s.size()) return true;
  }
  return Error{"invalid variable name '" + std::string(v) +
               "'. A variable name must be start by its scope. The scope can be 'proc', 'sess', "
               "'txn', 'req', 'res' or 'check'"};
}

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
      if (!ParseInt(args[i], &a.i)) {
        return Error{"invalid args in converter '" + std::string(name) + "' : invalid integer " +
                     "value '" + args[i] + "'"};
      }
    } else if (k == 'm') {  // a mask: a length, or (IPv4) a dotted netmask
      if (!ParseInt(args[i], &a.i)) {
        const auto m = net::ParseIpv4(args[i]);
        const uint32_t h = m ? m->Host() : 1;
        const int len = __builtin_popcount(h);
        if (!m || h != (len == 0 ? 0 : ~uint32_t{0} << (32 - len)) || i > 0) {
          return Error{"invalid args in converter '" + std::string(name) + "' : invalid mask"};
        }
        a.i = len;
      }
    } else if (k == 'n') {  // an integer or a variable
      if (!ParseInt(args[i], &a.i)) {
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

base::Result<bool> Compiler::ParseExpr(std::string_view text, const ExprScope& scope,
                                       rules::Expr* out) {
  const std::vector<std::string_view> chain = SplitChain(text);
  std::string_view name;
  std::vector<std::string> args;
  bool parens = false;
  if (auto ok = SplitCall(chain[0], &name, &args, &parens); !ok) return ok;
  const bool fetch_parens = parens;  // the converters' calls reuse `parens`
  // The converters after the fetch: an ACL on a converted sample matches by its output type.
  auto converters = [&](SmpType type) -> base::Result<bool> {
    for (size_t i = 1; i < chain.size(); ++i) {
      std::string_view cname;
      std::vector<std::string> cargs;
      if (auto ok = SplitCall(chain[i], &cname, &cargs, &parens); !ok) return ok;
      rules::Step st;
      if (auto ok = ParseConv(cname, cargs, &st, &type); !ok) return ok;
      out->convs.push_back(std::move(st));
    }
    if (!out->convs.empty()) {
      out->default_match = type == SmpType::kSint                             ? Match::kInt
                           : type == SmpType::kBool                           ? Match::kBool
                           : type == SmpType::kIpv4 || type == SmpType::kIpv6 ? Match::kIp
                                                                              : Match::kStr;
    }
    return true;
  };
  // `hdr` follows the direction it is evaluated in (HAProxy: req.hdr on requests, res.hdr
  // on responses).
  const FetchDef* def = FindFetch(scope.on_response && name == "hdr" ? "res.hdr" : name);
  if (!def) {
    bool found = false;
    if (auto ok = ParseStickFetch(name, args, out, &found); !ok) return ok;
    if (!found) return Error{"unknown fetch method '" + std::string(name) + "'"};
    const bool tracked = out->stick.op == rules::StickOp::kTracked;
    out->default_match = tracked ? Match::kBool : Match::kInt;
    return converters(tracked ? SmpType::kBool : SmpType::kSint);
  }
  if (def->http && !scope.http) {
    return Error{"fetch method '" + std::string(name) + "' needs an HTTP proxy"};
  }
  if (def->response && !scope.response) {
    return Error{"fetch method '" + std::string(name) +
                 "' extracts information from 'HTTP response headers', none of which is "
                 "available " +
                 std::string(scope.where)};
  }
  if (def->http && !def->response && !scope.request) {
    return Error{"fetch method '" + std::string(name) +
                 "' extracts information from 'HTTP request headers', none of which is "
                 "available " +
                 std::string(scope.where)};
  }
  size_t min = 0;
  for (const char k : def->args) {
    if (k >= 'a' && k <= 'z') ++min;
  }
  // Empty parentheses give a required string its empty value (haproxy 2.6.12 takes
  // `str()`; `str` alone is missing its argument).
  if (args.empty() && fetch_parens && min >= 1 && def->args[0] == 's') args.emplace_back();
  if (args.size() < min) {
    return Error{"fetch method '" + std::string(name) + "' : missing arguments (got " +
                 std::to_string(args.size()) + "/" + std::to_string(min) + ")"};
  }
  if (args.size() > def->args.size()) {
    return Error{"fetch method '" + std::string(name) + "' : end of arguments expected at " +
                 "position " + std::to_string(def->args.size() + 1) + ", but got '" +
                 args[def->args.size()] + "'"};
  }
  out->fetch = def->fetch;
  out->default_match = def->match;
  for (size_t i = 0; i < args.size(); ++i) {
    const char k = static_cast<char>(def->args[i] | 0x20);
    rules::Arg& a = out->a[i];
    a.set = true;
    if (k == 'i') {
      if (!ParseInt(args[i], &a.i)) {
        return Error{"fetch method '" + std::string(name) + "' : invalid integer value '" +
                     args[i] + "'"};
      }
    } else if (k == 'b' || k == 'f') {
      const auto& names = k == 'b' ? snap_->be_names : snap_->fe_names;
      a.set = false;
      for (size_t n = 0; n < names.size(); ++n) {
        if (names[n] == args[i]) {
          a.set = true;
          a.i = static_cast<int64_t>(n);
        }
      }
      if (!a.set) {
        return Error{"fetch method '" + std::string(name) + "' : unable to find " +
                     (k == 'b' ? "backend" : "frontend") + " '" + args[i] + "'"};
      }
    } else if (k == 'u') {
      a.set = false;
      for (size_t n = 0; n < snap_->userlists.size(); ++n) {
        if (snap_->userlists[n].name == args[i]) {
          a.set = true;
          a.i = static_cast<int64_t>(n);
        }
      }
      if (!a.set) {
        return Error{"unable to find userlist '" + args[i] + "' referenced in arg " +
                     std::to_string(i + 1) + " of fetch method '" + std::string(name) + "'"};
      }
    } else if (k == 'v') {
      if (auto ok = CheckVarName(args[i]); !ok) {
        return Error{"fetch method '" + std::string(name) + "' : " + ok.error()};
      }
      a.is_var = true;
      a.var = VarSlot(args[i]);
    } else if (k == '4' || k == '6') {
      uint8_t buf[16] = {};
      if (k == '4') {
        const auto ip = net::ParseIpv4(args[i]);
        if (!ip) return Error{"fetch method '" + std::string(name) + "' : invalid IPv4 address"};
        std::memcpy(buf, &ip->be, 4);
      } else {
        const auto ip = net::ParseIpv6(args[i]);
        if (!ip) return Error{"fetch method '" + std::string(name) + "' : invalid IPv6 address"};
        std::memcpy(buf, ip->b.data(), 16);
      }
      a.s.assign(reinterpret_cast<const char*>(buf), 16);
    } else {
      a.s = args[i];
    }
  }
  if (def->fetch == Fetch::kVar) out->a[0].var = VarSlot(args[0]);
  return converters(def->type);
}

base::Result<bool> Compiler::ParseAclTerm(const std::vector<std::string>& w, size_t first,
                                          size_t last, rules::AclTerm* out) {
  if (first >= last) return Error{"missing fetch method"};
  // The criterion: a fetch (with converters), or an ACL keyword `fetch_<match>`.
  std::string crit = w[first];
  const std::string keyword = crit.substr(0, crit.find_first_of("(,"));  // as written
  std::string_view cname = std::string_view(crit).substr(0, crit.find_first_of("(,"));
  bool explicit_match = false;
  Match m = Match::kStr;
  if (!FindFetch(cname)) {
    const size_t us = cname.rfind('_');
    Match sm;
    if (us != std::string_view::npos && rules::MatchByName(cname.substr(us + 1), &sm) &&
        FindFetch(cname.substr(0, us))) {
      crit.erase(us, cname.size() - us);
      m = sm;
      explicit_match = true;
    } else if (us != std::string_view::npos && cname.substr(us + 1) == "ip" &&
               FindFetch(cname.substr(0, us))) {
      crit.erase(us, cname.size() - us);
      m = Match::kIp;
      explicit_match = true;
    }
  }
  if (auto ok = ParseExpr(crit, ExprScope{true, true}, &out->expr); !ok) return ok;
  if (!explicit_match) m = out->expr.default_match;
  size_t i = first + 1;
  std::vector<std::string> files;
  bool icase = false;
  bool map_files = false;
  int64_t forced_id = -1;
  for (; i < last; ++i) {
    const std::string& f = w[i];
    if (f.empty() || f[0] != '-') break;
    if (f == "--") {
      ++i;
      break;
    }
    if (f == "-i") {
      icase = true;
    } else if (f == "-M") {
      map_files = true;  // -f reads the files as maps: the first word of a line is the pattern
    } else if (f == "-n") {
    } else if (f == "-f" || f == "-m" || f == "-u") {
      if (i + 1 >= last) return Error{"'" + f + "' expects an argument"};
      const std::string& v = w[++i];
      if (f == "-f") {
        files.push_back(v);
      } else if (f == "-u") {
        if (!ParseInt(v, &forced_id) || forced_id < 0 || forced_id > INT32_MAX) {
          return Error{"'-u' expects an integer id, got '" + v + "'"};
        }
      } else if (f == "-m") {
        if (!rules::MatchByName(v, &m)) {
          return Error{"unknown matching method '" + v + "' for ACL"};
        }
        explicit_match = true;
      }
    } else {
      return Error{"'" + f + "' is not a valid ACL option. Please use '--' before any pattern " +
                   "beginning with a '-'"};
    }
  }
  if (out->expr.fetch == Fetch::kVar && !explicit_match) {
    return Error{"ACL keyword 'var' requires a matching method ('-m')"};
  }
  out->match = m;
  out->icase = icase;
  // Integer operators: `gt 0` is the range "1:".
  std::vector<std::string> values;
  if ((m == Match::kInt || m == Match::kLen) && i < last) {
    const std::string& op = w[i];
    if (op == "eq" || op == "ge" || op == "gt" || op == "le" || op == "lt") {
      if (i + 1 >= last) return Error{"missing value after operator '" + op + "'"};
      int64_t v = 0;
      if (!ParseInt(w[i + 1], &v)) return Error{"'" + w[i + 1] + "' is not a number"};
      const std::string n = std::to_string(v);
      values.push_back(op == "eq"   ? n
                       : op == "ge" ? n + ":"
                       : op == "gt" ? (v == INT64_MAX ? n : std::to_string(v + 1)) + ":"
                       : op == "le" ? ":" + n
                                    : ":" + (v == INT64_MIN ? n : std::to_string(v - 1)));
      i += 2;
    }
  }
  for (; i < last; ++i) values.push_back(w[i]);
  if (out->expr.fetch == Fetch::kHttpAuthGroup) {
    // The values are group names of the userlist (HAProxy's pat_match_auth).
    if (!files.empty()) return Error{"http_auth_group() takes group names, not files"};
    const rules::Userlist& l = snap_->userlists[static_cast<size_t>(out->expr.a[0].i)];
    for (const std::string& v : values) {
      size_t g = 0;
      while (g < l.groups.size() && l.groups[g] != v) ++g;
      if (g == l.groups.size()) return Error{"http_auth_group(): invalid group '" + v + "'"};
      out->auth_groups |= uint64_t{1} << g;
    }
    return true;
  }
  if ((m == Match::kFound || m == Match::kBool) && !values.empty() && m == Match::kFound) {
    return Error{"'" + values[0] + "': no pattern is allowed with this match method"};
  }
  const std::string acl_user = "acl at file '" + file_ + "' line " + std::to_string(line_);
  for (const std::string& f : files) {
    auto ref = store_->FileRef(f, m, icase, map_files, acl_user);
    if (!ref) return Error{ref.error()};
    store_->Ref(*ref)->acl = true;  // -M: a map's reference, listed by `show acl` too
    out->refs.push_back(*ref);
  }
  if (m != Match::kFound && m != Match::kBool) {
    const std::string display =
        "acl '" + keyword + "' file '" + file_ + "' line " + std::to_string(line_) + ".";
    auto ref = store_->InlineRef(m, icase, display, forced_id);
    if (!ref) return Error{ref.error()};
    for (const std::string& v : values) {
      if (auto ok = store_->AddInitial(*ref, v, ""); !ok) return Error{ok.error()};
    }
    out->refs.push_back(*ref);
  }
  return true;
}

base::Result<bool> Compiler::DefineAcl(const std::string& name,
                                       const std::vector<std::string>& words) {
  rules::AclTerm term;
  if (auto ok = ParseAclTerm(words, 2, words.size(), &term); !ok) {
    return Error{"error detected while parsing ACL '" + name + "' : " + Period(ok.error())};
  }
  for (auto& [n, idx] : named_) {
    if (n == name) {
      snap_->acls[idx].terms.push_back(std::move(term));
      return true;
    }
  }
  rules::Acl acl;
  acl.name = name;
  acl.terms.push_back(std::move(term));
  snap_->acls.push_back(std::move(acl));
  named_.emplace_back(name, static_cast<uint32_t>(snap_->acls.size() - 1));
  return true;
}

base::Result<uint32_t> Compiler::Predefined(std::string_view name) {
  for (const auto& [n, text] : kPredefined) {
    if (n != name) continue;
    std::vector<std::string> words;
    std::istringstream in{std::string(text)};
    for (std::string w; in >> w;) words.push_back(w);
    rules::AclTerm term;
    if (auto ok = ParseAclTerm(words, 0, words.size(), &term); !ok) return Error{ok.error()};
    rules::Acl acl;
    acl.name = std::string(name);
    acl.terms.push_back(std::move(term));
    snap_->acls.push_back(std::move(acl));
    const auto idx = static_cast<uint32_t>(snap_->acls.size() - 1);
    named_.emplace_back(std::string(name), idx);
    return idx;
  }
  return Error{"no such ACL : '" + std::string(name) + "'"};
}

base::Result<bool> Compiler::ParseCond(const std::vector<std::string>& w, size_t first,
                                       rules::Cond* out) {
  if (first >= w.size()) return true;
  if (w[first] != "if" && w[first] != "unless") {
    return Error{"expects 'if' or 'unless' followed by a condition but found '" + w[first] + "'"};
  }
  out->present = true;
  out->unless = w[first] == "unless";
  out->ors.emplace_back();
  for (size_t i = first + 1; i < w.size(); ++i) {
    std::string t = w[i];
    if (t == "||" || t == "or") {
      if (out->ors.back().empty()) return Error{"missing ACL before '||'"};
      out->ors.emplace_back();
      continue;
    }
    bool neg = false;
    while (!t.empty() && t[0] == '!') {
      neg = !neg;
      t.erase(0, 1);
    }
    if (t.empty()) {
      if (i + 1 >= w.size()) return Error{"missing ACL after '!'"};
      t = w[++i];
    }
    rules::CondTerm term;
    term.neg = neg;
    if (t == "{") {
      size_t end = i + 1;
      while (end < w.size() && w[end] != "}") ++end;
      if (end >= w.size()) return Error{"missing closing '}' in condition"};
      rules::AclTerm at;
      if (auto ok = ParseAclTerm(w, i + 1, end, &at); !ok) {
        return Error{"error detected while parsing anonymous ACL : " + Period(ok.error())};
      }
      rules::Acl acl;
      acl.name = "anonymous";
      acl.terms.push_back(std::move(at));
      snap_->acls.push_back(std::move(acl));
      term.acl = static_cast<uint32_t>(snap_->acls.size() - 1);
      i = end;
    } else {
      bool found = false;
      for (auto& [n, idx] : named_) {
        if (n == t) {
          term.acl = idx;
          found = true;
        }
      }
      if (!found) {
        auto p = Predefined(t);
        if (!p) return Error{"no such ACL : '" + t + "'"};
        term.acl = *p;
      }
    }
    out->ors.back().push_back(term);
  }
  if (out->ors.back().empty()) return Error{"missing condition after '" + w[first] + "'"};
  return true;
}

base::Result<bool> Compiler::ParseLogFmt(std::string_view text, const ExprScope& scope,
                                         rules::LogFmt* out) {
  std::string lit;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%' || i + 1 >= text.size()) {
      lit.push_back(text[i]);
      continue;
    }
    if (text[i + 1] == '%') {
      lit.push_back('%');
      ++i;
      continue;
    }
    if (text[i + 1] != '[') {
      return Error{"only literal text and '%[...]' sample expressions are supported here"};
    }
    int depth = 0;
    size_t k = i + 2;
    for (; k < text.size(); ++k) {
      if (text[k] == '(') ++depth;
      if (text[k] == ')') --depth;
      if (text[k] == ']' && depth <= 0) break;
    }
    if (k >= text.size()) return Error{"missing ']' after '%['"};
    if (!lit.empty()) {
      out->pieces.push_back(rules::LfPiece{false, lit, {}});
      lit.clear();
    }
    rules::LfPiece p;
    p.is_expr = true;
    if (auto ok = ParseExpr(text.substr(i + 2, k - i - 2), scope, &p.expr); !ok) return ok;
    out->pieces.push_back(std::move(p));
    i = k;
  }
  if (!lit.empty()) out->pieces.push_back(rules::LfPiece{false, lit, {}});
  return true;
}

namespace {

std::string KindOf(const config::ProxyConfig& p) {
  using K = config::ProxyConfig::Kind;
  return p.kind == K::kFrontend ? "frontend" : p.kind == K::kBackend ? "backend" : "listen";
}

}  // namespace

CompiledRules Compile(const config::Config& cfg, std::vector<config::Diagnostic>* diags) {
  CompiledRules out;
  out.snap = std::make_shared<rules::RulesSnap>();
  out.stick = std::make_shared<stick::StickSnap>();
  std::vector<int> table_of(cfg.proxies.size(), -1);
  const std::vector<std::string> server_tables = TablesStoringServers(cfg);
  for (size_t pi = 0; pi < cfg.proxies.size(); ++pi) {
    if (!cfg.proxies[pi].stick_table) continue;
    table_of[pi] = static_cast<int>(out.stick->tables.size());
    const bool server_id = std::find(server_tables.begin(), server_tables.end(),
                                     cfg.proxies[pi].name) != server_tables.end();
    out.stick->tables.push_back(TableOf(cfg.proxies[pi], server_id));
  }
  out.store = std::make_unique<PatternStore>();
  rules::RulesSnap& snap = *out.snap;
  std::vector<int> fe_of(cfg.proxies.size(), -1), be_of(cfg.proxies.size(), -1);
  for (size_t pi = 0; pi < cfg.proxies.size(); ++pi) {
    const config::ProxyConfig& p = cfg.proxies[pi];
    if (p.HasBackend()) {
      be_of[pi] = static_cast<int>(snap.be_names.size());
      snap.be_names.push_back(p.name);
      for (const auto& s : p.servers) snap.srv_names.push_back(s.name);
    }
    if (p.HasFrontend()) {
      fe_of[pi] = static_cast<int>(snap.fe_names.size());
      snap.fe_names.push_back(p.name);
    }
  }
  snap.frontends.resize(snap.fe_names.size());
  snap.backends.resize(snap.be_names.size());
  // Userlists: each user's groups as bits, from `user ... groups` and `group ... users`.
  static std::atomic<uint64_t> serials{0};
  for (const config::UserlistConfig& l : cfg.userlists) {
    rules::Userlist u;
    u.name = l.name;
    u.serial = ++serials;
    for (const auto& g : l.groups) u.groups.push_back(g.name);
    auto bit = [&](const std::string& group) -> uint64_t {
      for (size_t g = 0; g < u.groups.size() && g < 64; ++g) {
        if (u.groups[g] == group) return uint64_t{1} << g;
      }
      return 0;
    };
    for (const auto& x : l.users) {
      rules::AuthUser a;
      a.name = x.name;
      a.password = x.password;
      a.insecure = x.insecure;
      a.has_password = x.has_password;
      for (const std::string& g : x.groups) a.groups |= bit(g);
      for (const auto& g : l.groups) {
        for (const std::string& member : g.users) {
          if (member == x.name) a.groups |= bit(g.name);
        }
      }
      u.users.push_back(std::move(a));
    }
    snap.userlists.push_back(std::move(u));
  }
  Compiler c(out.store.get(), out.snap.get(), "", 0);
  c.SetStick(out.stick.get());
  for (size_t pi = 0; pi < cfg.proxies.size(); ++pi) {
    const config::ProxyConfig& p = cfg.proxies[pi];
    c.BeginProxy(table_of[pi]);
    // A frontend's rules and a listen's go to its frontend part; a backend's to its backend.
    rules::ProxyRules* fe = fe_of[pi] >= 0 ? &snap.frontends[fe_of[pi]] : nullptr;
    rules::ProxyRules* be = be_of[pi] >= 0 ? &snap.backends[be_of[pi]] : nullptr;
    for (const config::RuleLine& line : p.rule_lines) {
      c.At(line.file, line.line);
      RuleLine x{c, cfg, diags, &line, p.mode_http, fe != nullptr, fe, p.name};
      const std::string& kw = line.args[0];
      if (kw == "capture" || kw == "declare") {
        // capture request|response header NAME len N / declare capture request|response len N
        // (the parser checked the words; captures are a frontend's).
        if (!fe) continue;
        const bool header = kw == "capture";
        const auto& w = line.args;
        int64_t len = 0;
        ParseI64(w.back(), &len);
        if (auto ok = AddCaptureSlot(fe, w[header ? 1 : 2] == "response", header ? w[3] : "", len);
            !ok) {
          x.Alert("'" + kw + "' : " + Period(ok.error()));
        }
      } else if (kw == "acl") {
        if (line.args.size() < 3) {
          x.Alert("'acl' expects a name and a fetch method");
          continue;
        }
        if (auto ok = c.DefineAcl(line.args[1], line.args); !ok) x.Alert(ok.error());
      } else if (kw == "http-request" || kw == "http-response") {
        const bool response = kw == "http-response";
        auto r = ParseHttpRule(x, response);
        if (!r) {
          x.Alert("error detected while parsing an '" + kw + " " +
                  (line.args.size() > 1 ? line.args[1] : "") + "' rule : " + r.error() + ".");
          continue;
        }
        rules::ProxyRules* target = fe ? fe : be;
        (response ? target->http_res : target->http_req).push_back(std::move(*r));
        // A listen section's rules run once, as its frontend's.
      } else if (kw == "tcp-request") {
        auto r = ParseTcpRule(x);
        if (!r) {
          x.Alert("error detected while parsing a 'tcp-request " +
                  (line.args.size() > 1 ? line.args[1] : "") + "' rule : " + r.error() + ".");
          continue;
        }
        if (!fe) continue;  // a backend's are ignored with a warning by the parser
        const std::string& when = line.args[1];
        (when == "connection" ? fe->tcp_conn : when == "session" ? fe->tcp_sess : fe->tcp_content)
            .push_back(std::move(*r));
      } else if (kw == "stick") {
        if (!be) continue;  // a frontend's: ignored with a warning by the parser
        auto r = ParseStickRule(x, p.mode_http);
        if (!r) {
          x.Alert(r.error());
          continue;
        }
        const bool response = r->kind == rules::StickRuleKind::kStoreResponse;
        (response ? be->stick_res : be->stick_req).push_back(std::move(*r));
      } else if (kw == "force-persist" || kw == "ignore-persist") {
        if (!be) continue;  // a frontend's: ignored with a warning by the parser
        const auto& w = line.args;
        rules::PersistRule r;
        r.force = kw == "force-persist";
        if (w.size() < 2 || (w[1] != "if" && w[1] != "unless")) {
          x.Alert("'" + kw + "' requires either 'if' or 'unless' followed by a condition.");
          continue;
        }
        if (auto ok = c.ParseCond(w, 1, &r.cond); !ok) {
          x.Alert("error detected while parsing a '" + kw + "' rule : " + Period(ok.error()));
          continue;
        }
        be->persist.push_back(std::move(r));
      } else if (kw == "use_backend") {
        if (!fe) continue;
        const auto& w = line.args;
        rules::UseBackend u;
        const size_t cond = CondAt(w, 2);
        if (w.size() < 2 || cond != 2) {
          x.Alert("'use_backend' expects a backend name and an optional condition.");
          continue;
        }
        if (w[1].find("%[") != std::string::npos) {
          if (auto ok = c.ParseLogFmt(w[1], ExprScope{p.mode_http, false}, &u.dynamic); !ok) {
            x.Alert("'use_backend' : " + Period(ok.error()));
            continue;
          }
        } else {
          for (size_t b = 0; b < snap.be_names.size(); ++b) {
            if (snap.be_names[b] == w[1]) u.backend = static_cast<uint32_t>(b);
          }
          if (u.backend == UINT32_MAX) {
            x.Alert("unable to find required use_backend: '" + w[1] + "'.");
            continue;
          }
          // The modes must agree: HAProxy refuses an HTTP frontend's TCP backend; a TCP
          // frontend that switches to an HTTP backend would need an upgrade sluice does not do
          // per rule (its default backend decides whether it runs HTTP).
          const config::ProxyConfig* target = nullptr;
          for (const config::ProxyConfig& q : cfg.proxies) {
            if (q.HasBackend() && q.name == w[1]) target = &q;
          }
          const bool fe_http =
              p.mode_http || (p.default_backend_index >= 0 &&
                              cfg.proxies[static_cast<size_t>(p.default_backend_index)].mode_http);
          if (target && fe_http && !target->mode_http) {
            x.Alert("http " + KindOf(p) + " '" + p.name + "' (" + p.file + ":" +
                    std::to_string(p.line) + ") tries to use incompatible tcp " + KindOf(*target) +
                    " '" + target->name + "' (" + target->file + ":" +
                    std::to_string(target->line) + ") in a 'use_backend' rule (see 'mode').");
            continue;
          }
          if (target && !fe_http && target->mode_http) {
            x.Alert("tcp " + KindOf(p) + " '" + p.name + "' switching to http backend '" +
                    target->name +
                    "' is not supported by sluice: write 'mode http' in the frontend.");
            continue;
          }
        }
        if (auto ok = c.ParseCond(w, cond, &u.cond); !ok) {
          x.Alert("error detected while parsing switching rule : " + Period(ok.error()));
          continue;
        }
        fe->use_backend.push_back(std::move(u));
      }
    }
    // `capture ... id N` of a frontend's rules names a slot the frontend declares (anywhere in
    // its section, as HAProxy checks once the proxy is read).
    if (fe) {
      for (const bool response : {false, true}) {
        for (const rules::Rule& r : response ? fe->http_res : fe->http_req) {
          const size_t n = response ? fe->res_caps.size() : fe->req_caps.size();
          if (r.act != Act::kCapture || r.var < n) continue;
          diags->push_back(config::Diagnostic{
              config::Diagnostic::Severity::kAlert, p.file, static_cast<int>(r.line),
              response ? "http-response" : "http-request",
              "Proxy '" + p.name + "': unable to find capture id '" + std::to_string(r.var) +
                  "' referenced by " + (response ? "http-response" : "http-request") +
                  " capture rule."});
        }
      }
    }
  }
  // log-format expressions, after every section (HAProxy resolves them at the end too).
  for (size_t pi = 0; pi < cfg.proxies.size(); ++pi) {
    const config::ProxyConfig& p = cfg.proxies[pi];
    if (fe_of[pi] < 0 || p.log_format.empty()) continue;
    c.At(p.log_format_file, p.log_format_line);
    for (const std::string& e : LogFormatExprs(p.log_format)) {
      rules::LogFmt f;
      rules::LfPiece piece;
      piece.is_expr = true;
      if (auto ok = c.ParseExpr(e, ExprScope{p.mode_http, p.mode_http}, &piece.expr); !ok) {
        diags->push_back(config::Diagnostic{
            config::Diagnostic::Severity::kAlert, p.log_format_file, p.log_format_line,
            "log-format",
            "'log-format' : sample fetch <" + e + "> failed with : " + Period(ok.error())});
        continue;
      }
      f.pieces.push_back(std::move(piece));
      snap.frontends[fe_of[pi]].log_exprs.push_back(std::move(f));
    }
  }
  CompileServerSni(cfg, c, snap, diags);
  snap.nsets = static_cast<uint32_t>(out.store->size());
  for (const auto* side : {&snap.frontends, &snap.backends}) {
    for (const rules::ProxyRules& r : *side) {
      if (!r.tcp_conn.empty() || !r.tcp_sess.empty() || !r.tcp_content.empty() ||
          !r.http_req.empty() ||
          !r.http_res.empty() || !r.use_backend.empty() || !r.log_exprs.empty() ||
          !r.req_caps.empty() || !r.res_caps.empty() || !r.stick_req.empty() ||
          !r.stick_res.empty()) {
        snap.active = true;
      }
    }
  }
  return out;
}

}  // namespace sluice::rulescp
