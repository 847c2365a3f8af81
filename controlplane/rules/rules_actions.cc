// Slow path: the actions of the rule lines (controlplane/rules/rules_actions.h).
#define PCRE2_CODE_UNIT_WIDTH 8
#include "controlplane/rules/rules_actions.h"

#include <pcre2.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "controlplane/rules/pattern_store.h"
#include "dataplane/rules/capture.h"

namespace sluice::rulescp {

using base::Error;
using rules::Act;

size_t CondAt(const std::vector<std::string>& w, size_t from) {
  for (size_t i = from; i < w.size(); ++i) {
    if (w[i] == "if" || w[i] == "unless") return i;
  }
  return w.size();
}

base::Result<uint32_t> AddCaptureSlot(rules::ProxyRules* fe, bool response, std::string header,
                                      int64_t len) {
  auto& slots = response ? fe->res_caps : fe->req_caps;
  uint32_t used = 0;
  for (const auto* list : {&fe->req_caps, &fe->res_caps}) {
    for (const rules::CaptureSlot& c : *list) used += c.len;
  }
  if (slots.size() >= rules::kMaxCaptures || len < 0 ||
      len > static_cast<int64_t>(rules::kCaptureBytes - used)) {
    return Error{"sluice keeps at most " + std::to_string(rules::kMaxCaptures) +
                 " captures each way and " + std::to_string(rules::kCaptureBytes) +
                 " bytes of captures in all per frontend (" + std::to_string(used) +
                 " bytes declared before this one)"};
  }
  rules::CaptureSlot c;
  c.header = std::move(header);
  c.len = static_cast<uint16_t>(len);
  c.off = static_cast<uint16_t>(used);
  slots.push_back(std::move(c));
  return static_cast<uint32_t>(slots.size() - 1);
}

namespace {

std::string ReadFile(const std::string& path, bool* ok) {
  std::ifstream in(path, std::ios::binary);
  *ok = static_cast<bool>(in);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The value of sc-set-gpt0 / sc-set-gpt: an expression, an integer, or none (0, as
// HAProxy 2.6.12 sets).
base::Result<bool> ParseGptValue(RuleLine& x, const std::vector<std::string>& w, size_t at,
                                 size_t cond, const ExprScope& scope, rules::Rule* r) {
  if (cond > at + 2) return Error{"'" + w[at] + "' expects an integer or an expression"};
  const std::string v = cond == at + 1 ? "0" : w[at + 1];
  if (auto ok = x.c.ParseExpr(v, scope, &r->expr); !ok) {
    int64_t n = 0;  // an integer alone is int(<v>)
    if (!ParseI64(v, &n)) return ok;
    if (auto again = x.c.ParseExpr("int(" + v + ")", scope, &r->expr); !again) return again;
  }
  return true;
}

// track-sc<N> <key> [table <name>], sc-inc-gpc0|1(<N>), sc-set-gpt0(<N>) <expr>: the action
// word at w[at]; `found` false when it is none of them.
base::Result<bool> ParseStickAction(RuleLine& x, const std::vector<std::string>& w, size_t at,
                                    size_t cond, const ExprScope& scope, rules::Rule* r,
                                    bool* found) {
  const std::string& act = w[at];
  *found = false;
  auto number = [&](std::string_view text) -> int {
    return text.size() == 1 && text[0] >= '0' && text[0] <= '2' ? text[0] - '0' : -1;
  };
  if (act.size() == 9 && act.substr(0, 8) == "track-sc") {
    const int sc = number(act.substr(8));
    if (sc < 0) return true;
    *found = true;
    if (cond <= at + 1) return Error{"'" + act + "' expects a key expression"};
    r->act = Act::kTrackSc;
    r->status = static_cast<uint16_t>(sc);
    if (auto ok = x.c.ParseExpr(w[at + 1], scope, &r->expr); !ok) return ok;
    int table = x.c.table();
    size_t i = at + 2;
    if (i < cond && w[i] == "table") {
      if (i + 1 >= cond) return Error{"missing table name"};
      table = x.c.stick() ? x.c.stick()->Find(w[i + 1]) : -1;
      if (table < 0) {
        return Error{"Proxy '" + x.proxy + "': unable to find table '" + w[i + 1] +
                     "' referenced by " + act};
      }
      i += 2;
    }
    if (i < cond) {
      return Error{"'" + act + "' expects either 'if' or 'unless' followed by a condition but "
                   "found '" + w[i] + "'"};
    }
    if (table < 0) {
      return Error{"Proxy '" + x.proxy + "': unable to find table '" + x.proxy +
                   "' referenced by " + act};
    }
    r->var = static_cast<uint32_t>(table);
    return true;
  }
  // sc-inc-gpc(I,N) and sc-set-gpt(I,N): an array's element (HAProxy 2.6's texts).
  if (act.substr(0, 10) == "sc-inc-gpc" || act.substr(0, 10) == "sc-set-gpt") {
    const bool inc = act[3] == 'i';
    const std::string what = inc ? "gpc" : "gpt";
    const std::string usage = ". Expects " + act.substr(0, 10) + "(<" + (inc ? "GPC" : "GPT") +
                              " ID>,<Track ID>).";
    if (act.size() == 10 || act[10] == '(') {
      *found = true;
      if (act.size() == 10 || act.back() != ')') {
        return Error{"invalid " + what + " ID '" + act + "'" + usage};
      }
      const std::string inner = act.substr(11, act.size() - 12);
      const size_t comma = inner.find(',');
      int64_t idx = 0;
      if (comma == std::string::npos || !ParseI64(inner.substr(0, comma), &idx)) {
        return Error{"Missing " + what + " ID '" + act + "'" + usage};
      }
      const std::string track = inner.substr(comma + 1);
      int64_t sc = 0;
      if (track.find(',') != std::string::npos || !ParseI64(track, &sc)) {
        return Error{"invalid stick table track ID '" + act + "'" + usage};
      }
      if (sc < 0 || sc > 2) {
        return Error{"invalid stick table track ID '" + act + "'. The max allowed ID is 2."};
      }
      const uint8_t elem = idx < 0 || idx > 254 ? 255 : static_cast<uint8_t>(idx);
      if (inc) {
        r->act = Act::kScIncGpc;
        r->expr.stick.sc = static_cast<int8_t>(sc);
        r->expr.stick.data = static_cast<uint8_t>(stick::Data::kGpc);
        r->expr.stick.elem = elem;
        if (cond != at + 1) {
          return Error{"'" + act + "' expects either 'if' or 'unless' followed by a condition "
                       "but found '" + w[at + 1] + "'"};
        }
        return true;
      }
      r->act = Act::kScSetGpt0;
      r->var = static_cast<uint32_t>(elem) + 1;
      r->status = static_cast<uint16_t>(sc);
      return ParseGptValue(x, w, at, cond, scope, r);
    }
  }
  const bool gpc = act.size() == 14 && (act.substr(0, 11) == "sc-inc-gpc0" ||
                                        act.substr(0, 11) == "sc-inc-gpc1");
  const bool gpt = act.size() == 14 && act.substr(0, 11) == "sc-set-gpt0";
  if (!gpc && !gpt) return true;
  if (act[11] != '(' || act[13] != ')' || number(act.substr(12, 1)) < 0) return true;
  *found = true;
  r->expr.stick.sc = static_cast<int8_t>(number(act.substr(12, 1)));
  if (gpc) {
    r->act = Act::kScIncGpc;
    r->expr.stick.data =
        static_cast<uint8_t>(act[10] == '0' ? stick::Data::kGpc0 : stick::Data::kGpc1);
    if (cond != at + 1) {
      return Error{"'" + act + "' expects either 'if' or 'unless' followed by a condition but "
                   "found '" + w[at + 1] + "'"};
    }
    return true;
  }
  r->act = Act::kScSetGpt0;
  r->var = 0;  // gpt0 itself (sc-set-gpt names element var - 1)
  r->status = static_cast<uint16_t>(r->expr.stick.sc);
  return ParseGptValue(x, w, at, cond, scope, r);
}

}  // namespace

base::Result<rules::Rule> ParseHttpRule(RuleLine& x, bool response) {
  const auto& w = x.line->args;
  const std::string kw = w[0];
  if (w.size() < 2) return Error{"'" + kw + "' expects an action"};
  const std::string& act = w[1];
  rules::Rule r;
  r.line = static_cast<uint32_t>(x.line->line);
  ExprScope scope{true, response};
  scope.on_response = response;
  size_t cond = CondAt(w, 2);
  auto need = [&](size_t n) -> base::Result<bool> {
    if (cond < 2 + n)
      return Error{"'" + kw + " " + act + "' expects " + std::to_string(n) + " argument" +
                   (n > 1 ? "s" : "")};
    return true;
  };
  if ((act == "set-header" || act == "add-header" || act == "del-header" ||
       act == "replace-header" || act == "replace-value") &&
      cond > 2) {
    // The message's framing and connection fields are the proxy's own (it writes them for
    // each side): a rule may not change them, or the two sides would read different bodies.
    std::string lname = w[2];
    for (char& ch : lname) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (lname == "content-length" || lname == "transfer-encoding" || lname == "connection") {
      return Error{"'" + kw + " " + act + "' of '" + w[2] +
                   "' is not supported by sluice: the "
                   "proxy writes the message's framing and connection fields itself"};
    }
  }
  bool stick = false;
  if (!response) {
    if (auto ok = ParseStickAction(x, w, 1, cond, scope, &r, &stick); !ok) {
      return Error{ok.error()};
    }
  }
  if (stick) {
    // track-sc<N>, sc-inc-gpc0|1, sc-set-gpt0: parsed
  } else if (act == "allow") {
    r.act = Act::kAllow;
  } else if (act == "deny" || act == "tarpit") {
    r.act = act == "deny" ? Act::kDeny : Act::kTarpit;
    r.status = response ? 502 : 403;
    for (size_t i = 2; i < cond; ++i) {
      if (w[i] == "deny_status" && i + 1 < cond) {
        int64_t v = 0;
        if (!ParseI64(w[i + 1], &v) || v < 200 || v > 599) {
          return Error{"status code '" + w[i + 1] + "' out of range"};
        }
        static constexpr int kPages[] = {400, 403, 405, 408, 410, 422, 429, 500, 502, 503, 504};
        if (std::find(std::begin(kPages), std::end(kPages), v) == std::end(kPages)) {
          return Error{"status code '" + w[i + 1] +
                       "' is not supported by sluice (it has "
                       "pages for 400, 403, 405, 408, 410, 422, 429, 500, 502, 503 and 504)"};
        }
        r.status = static_cast<uint16_t>(v);
        ++i;
      } else {
        return Error{"'" + kw + " " + act + "': unexpected argument '" + w[i] + "'"};
      }
    }
  } else if (act == "return" && !response) {
    r.act = Act::kReturn;
    r.status = 200;
    for (size_t i = 2; i < cond; ++i) {
      const std::string& k = w[i];
      if (i + 1 >= cond) return Error{"'" + kw + " return' : missing argument after '" + k + "'"};
      const std::string& v = w[++i];
      if (k == "status") {
        int64_t n = 0;
        if (!ParseI64(v, &n) || n < 200 || n > 599) {
          return Error{"'" + kw + " return' : status code '" + v + "' out of range"};
        }
        r.status = static_cast<uint16_t>(n);
      } else if (k == "content-type") {
        r.name = v;
      } else if (k == "string") {
        r.body = v;
      } else if (k == "lf-string") {
        r.body_lf = true;
        if (auto ok = x.c.ParseLogFmt(v, scope, &r.value); !ok) return Error{ok.error()};
      } else if (k == "file" || k == "lf-file") {
        bool ok = false;
        const std::string body = ReadFile(v, &ok);
        if (!ok) return Error{"'" + kw + " return' : failed to open file '" + v + "'"};
        if (k == "file") {
          r.body = body;
        } else {
          r.body_lf = true;
          if (auto p = x.c.ParseLogFmt(body, scope, &r.value); !p) return Error{p.error()};
        }
      } else {
        return Error{"'" + kw + " return' : unknown keyword '" + k + "'"};
      }
    }
    if ((r.body_lf || !r.body.empty()) && r.name.empty()) {
      return Error{"'" + kw + " return' : a content type is required for a body"};
    }
  } else if (act == "redirect" && !response) {
    r.act = Act::kRedirect;
    r.status = 302;
    if (cond < 4) return Error{"'" + kw + " redirect' expects 'location', 'prefix' or 'scheme'"};
    if (w[2] == "location") {
      r.redirect = rules::RedirectKind::kLocation;
    } else if (w[2] == "prefix") {
      r.redirect = rules::RedirectKind::kPrefix;
    } else if (w[2] == "scheme") {
      r.redirect = rules::RedirectKind::kScheme;
    } else {
      return Error{"'" + kw + " redirect' expects 'location', 'prefix' or 'scheme' but got '" +
                   w[2] + "'"};
    }
    if (auto ok = x.c.ParseLogFmt(w[3], scope, &r.value); !ok) return Error{ok.error()};
    for (size_t i = 4; i < cond; ++i) {
      if (w[i] == "code" && i + 1 < cond) {
        int64_t n = 0;
        if (!ParseI64(w[i + 1], &n) || (n != 301 && n != 302 && n != 303 && n != 307 && n != 308)) {
          return Error{"'" + kw + " redirect': unsupported HTTP code '" + w[i + 1] + "'"};
        }
        r.status = static_cast<uint16_t>(n);
        ++i;
      } else if (w[i] == "drop-query") {
        r.drop_query = true;
      } else if (w[i] == "append-slash") {
        r.append_slash = true;
      } else {
        return Error{"'" + kw + " redirect': unexpected keyword '" + w[i] + "'"};
      }
    }
  } else if (act == "set-header" || act == "add-header") {
    r.act = act == "set-header" ? Act::kSetHeader : Act::kAddHeader;
    r.name = w[2];
    if (cond > 4) return Error{"'" + kw + " " + act + "' expects exactly 2 arguments"};
    if (auto ok = x.c.ParseLogFmt(w[3], scope, &r.value); !ok) return Error{ok.error()};
  } else if (act == "set-log-level") {
    if (auto ok = need(1); !ok) return Error{ok.error()};
    static constexpr std::string_view kLevels[] = {"emerg",  "alert", "crit",  "err",   "warning",
                                                   "notice", "info",  "debug", "silent"};
    r.act = Act::kSetLogLevel;
    r.status = 0xffff;
    for (size_t l = 0; l < std::size(kLevels); ++l) {
      if (w[2] == kLevels[l]) r.status = static_cast<uint16_t>(l);  // silent: 8
    }
    if (r.status == 0xffff) {
      return Error{"'" + kw + " set-log-level' : unsupported log level '" + w[2] + "'"};
    }
  } else if (act == "replace-header" || act == "replace-value") {
    if (auto ok = need(3); !ok) return Error{ok.error()};
    r.act = act == "replace-header" ? Act::kReplaceHeader : Act::kReplaceValue;
    r.name = w[2];
    int code = 0;
    PCRE2_SIZE at = 0;
    pcre2_code* re = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(w[3].data()), w[3].size(), 0, &code,
                                   &at, nullptr);
    if (!re) return Error{"'" + kw + " " + act + "' : invalid regex '" + w[3] + "'"};
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    x.c.KeepRegex(re);
    r.regex = re;
    // HAProxy's \N references become PCRE2's ${N} (the format is evaluated first).
    if (auto ok = x.c.ParseLogFmt(w[4], scope, &r.value); !ok) return Error{ok.error()};
    for (rules::LfPiece& p : r.value.pieces) {
      if (p.is_expr) continue;
      std::string t;
      for (size_t i = 0; i < p.text.size(); ++i) {
        if (p.text[i] == '\\' && i + 1 < p.text.size() && p.text[i + 1] >= '0' &&
            p.text[i + 1] <= '9') {
          t += "${" + std::string(1, p.text[++i]) + "}";
        } else if (p.text[i] == '$') {
          t += "$$";
        } else {
          t.push_back(p.text[i]);
        }
      }
      p.text = t;
    }
  } else if (act == "del-header") {
    if (auto ok = need(1); !ok) return Error{ok.error()};
    r.act = Act::kDelHeader;
    r.name = w[2];
  } else if (!response && (act == "set-path" || act == "set-pathq" || act == "set-uri" ||
                           act == "set-query" || act == "set-method")) {
    if (auto ok = need(1); !ok) return Error{ok.error()};
    r.act = act == "set-path"    ? Act::kSetPath
            : act == "set-pathq" ? Act::kSetPathq
            : act == "set-uri"   ? Act::kSetUri
            : act == "set-query" ? Act::kSetQuery
                                 : Act::kSetMethod;
    if (auto ok = x.c.ParseLogFmt(w[2], scope, &r.value); !ok) return Error{ok.error()};
  } else if (response && act == "set-status") {
    if (auto ok = need(1); !ok) return Error{ok.error()};
    r.act = Act::kSetStatus;
    int64_t n = 0;
    if (!ParseI64(w[2], &n) || n < 100 || n > 999) {
      return Error{"'" + kw + " set-status' expects an integer status code between 100 and 999"};
    }
    r.status = static_cast<uint16_t>(n);
    for (size_t i = 3; i + 1 < cond; i += 2) {
      if (w[i] == "reason") r.body = w[i + 1];
    }
  } else if (act == "auth" && !response) {
    // http-request auth [realm REALM]: the realm defaults to the proxy's name.
    r.act = Act::kAuth;
    r.name = x.proxy;
    size_t i = 2;
    if (i < cond && w[i] == "realm") {
      if (i + 1 >= cond) return Error{"missing realm value"};
      r.name = w[i + 1];
      i += 2;
    }
    if (i < cond) {
      return Error{"'" + kw + " auth' expects either 'if' or 'unless' followed by a condition "
                   "but found '" + w[i] + "'"};
    }
  } else if (act == "use-service" && !response) {
    // http-request use-service prometheus-exporter: HAProxy 2.6's one service but the
    // Lua ones, answered by the control plane (docs/metrics.md).
    if (auto ok = need(1); !ok) return Error{ok.error()};
    if (w[2] != "prometheus-exporter") {
      return Error{"'" + kw + " use-service' : unknown service '" + w[2] +
                   "' (sluice has 'prometheus-exporter')"};
    }
    if (cond != 3) {
      return Error{"'" + kw + " use-service' expects either 'if' or 'unless' followed by a "
                   "condition but found '" + w[3] + "'"};
    }
    r.act = Act::kUseService;
  } else if (act == "capture") {
    // http-request capture <sample> [ len <length> | id <id> ]; http-response: id only.
    const std::string usage = response ? "<expression> id <idx>"
                                       : "<expression> [ 'len' <length> | id <idx> ]";
    if (response && cond == 5 && w[3] != "id") {
      return Error{"expects 'id', found '" + w[3] + "'"};
    }
    if (cond != 5 || (w[3] != "id" && w[3] != "len")) return Error{"expects " + usage};
    if (auto ok = x.c.ParseExpr(w[2], scope, &r.expr); !ok) return Error{ok.error()};
    int64_t n = 0;
    if (!ParseI64(w[4], &n) || n < 0) {
      return Error{"'" + kw + " capture' : invalid " + (w[3] == "len" ? "length" : "id") + " '" +
                   w[4] + "'"};
    }
    r.act = Act::kCapture;
    if (w[3] == "len") {
      if (!x.fe) return Error{"proxy '" + x.proxy + "' has no frontend capability"};
      auto slot = AddCaptureSlot(x.fe, false, "", n);
      if (!slot) return Error{slot.error()};
      r.var = *slot;
    } else {
      r.var = static_cast<uint32_t>(n);  // checked once the proxy is read
    }
  } else if (act.substr(0, 8) == "set-var(" || act.substr(0, 10) == "unset-var(") {
    const bool unset = act[0] == 'u';
    const size_t open = act.find('(');
    if (act.back() != ')') return Error{"'" + kw + " " + act + "': missing closing ')'"};
    const std::string name = act.substr(open + 1, act.size() - open - 2);
    if (auto ok = CheckVarName(name); !ok) return Error{ok.error()};
    r.act = unset ? Act::kUnsetVar : Act::kSetVar;
    r.var = x.c.VarSlot(name);
    if (!unset) {
      if (auto ok = need(1); !ok) return Error{ok.error()};
      if (auto ok = x.c.ParseExpr(w[2], scope, &r.expr); !ok) return Error{ok.error()};
    }
  } else {
    return Error{"'" + kw + "' expects 'allow', 'deny', 'tarpit', 'auth', 'return', 'redirect', " +
                 "'track-sc0..2', 'sc-inc-gpc0|1(...)', 'sc-set-gpt0(...)', " +
                 "'set-header', 'add-header', 'del-header', 'replace-header', 'replace-value', " +
                 "'set-log-level', " + "'set-path', 'set-pathq', " +
                 "'set-uri', 'set-query', 'set-method', 'set-status', 'capture', " +
                 "'set-var(...)', 'use-service' or " +
                 "'unset-var(...)'; '" + act + "' is not supported by sluice"};
  }
  if (auto ok = x.c.ParseCond(w, cond, &r.cond); !ok) return Error{ok.error()};
  return r;
}

base::Result<rules::Rule> ParseTcpRule(RuleLine& x) {
  const auto& w = x.line->args;
  if (w.size() < 3) {
    return Error{"'tcp-request' expects 'connection', 'session' or 'content' and an action"};
  }
  if (w[1] != "connection" && w[1] != "session" && w[1] != "content") {
    return Error{"'tcp-request' expects 'connection', 'session', 'content' or 'inspect-delay' "
                 "but got '" + w[1] + "'"};
  }
  rules::Rule r;
  r.line = static_cast<uint32_t>(x.line->line);
  if (w[2] == "accept") {
    r.act = Act::kAccept;
  } else if (w[2] == "reject") {
    r.act = Act::kReject;
  } else if (w[2].substr(0, 8) == "set-var(" && w[2].back() == ')') {
    const std::string name = w[2].substr(8, w[2].size() - 9);
    if (auto ok = CheckVarName(name); !ok) return Error{ok.error()};
    r.act = Act::kSetVar;
    r.var = x.c.VarSlot(name);
    if (w.size() < 4) return Error{"'tcp-request " + w[1] + " " + w[2] + "' expects a sample"};
    if (auto ok = x.c.ParseExpr(w[3], ExprScope{w[1] == "content" && x.http, false}, &r.expr);
        !ok) {
      return Error{ok.error()};
    }
  } else {
    bool stick = false;
    const size_t cond = CondAt(w, 3);
    if (auto ok = ParseStickAction(x, w, 2, cond,
                                   ExprScope{w[1] == "content" && x.http, false}, &r, &stick);
        !ok) {
      return Error{ok.error()};
    }
    if (!stick) {
      return Error{"'tcp-request " + w[1] + "' expects 'accept', 'reject', 'set-var(...)', " +
                   "'track-sc0..2', 'sc-inc-gpc0|1(...)' or 'sc-set-gpt0(...)'; '" + w[2] +
                   "' is not supported by sluice"};
    }
  }
  if (auto ok = x.c.ParseCond(w, CondAt(w, 3), &r.cond); !ok) return Error{ok.error()};
  return r;
}


}  // namespace sluice::rulescp
