// Slow path: the expression compiler (rules_compile.h's Compiler): fetches, converters,
// ACL terms, conditions and log-format expressions, with HAProxy's errors (docs/rules.md
// lists every keyword). rules_compile.cc runs it over the configuration's rule lines.
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
    {"req.body", Fetch::kBody, "", SmpType::kBin, Match::kBin, true, false},
    {"req.body_len", Fetch::kBodyLen, "", SmpType::kSint, Match::kInt, true, false},
    {"req.body_size", Fetch::kBodySize, "", SmpType::kSint, Match::kInt, true, false},
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

}  // namespace sluice::rulescp
