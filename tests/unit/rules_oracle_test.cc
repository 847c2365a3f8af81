// The rules engine against HAProxy 2.6 itself: tests/unit/data/rules_haproxy_cases.json holds
// what a real HAProxy answered for sample expressions (the body of `http-request return`
// lf-string "%[EXPR]", and whether `{ EXPR -m found }` matched), anonymous ACLs and `if|unless`
// conditions over named ACLs, each with its request, and the lines `haproxy -c` refused. Each
// case is replayed through rulescp::Compiler and rules::Eval / EvalAcl / EvalCond. Where
// Sluice knowingly differs, kKnown says why; an entry there that passes now fails the test
// too, so the list stays exact.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <arpa/inet.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <pcre2.h>
#include <nlohmann/json.hpp>

#include "controlplane/rules/pattern_store.h"
#include "controlplane/rules/rules_compile.h"
#include "dataplane/http/h1.h"
#include "dataplane/rules/expr.h"
#include "dataplane/rules/pattern.h"
#include "dataplane/rules/sample.h"

#ifndef SLUICE_SOURCE_DIR
#define SLUICE_SOURCE_DIR "."
#endif

namespace sluice {
namespace {

using Json = nlohmann::json;

// Where Sluice knowingly differs from HAProxy 2.6: case name -> why.
const std::string kNotBuilt = "not built: outside issue 14's list (docs/rules.md)";
const std::map<std::string, std::string> kKnown = {
    {"b64dec", kNotBuilt},
    {"capture_req_method", kNotBuilt},
    {"capture_req_uri", kNotBuilt},
    {"capture_req_ver", kNotBuilt},
    {"cook_val_b", kNotBuilt},
    {"cpl", kNotBuilt},
    {"crc32", kNotBuilt},
    {"djb2", kNotBuilt},
    {"hdr_ip", kNotBuilt},
    {"hdr_ip_invalid", kNotBuilt},
    {"hex2i", kNotBuilt},
    {"host_only", kNotBuilt},
    {"http_first_req", kNotBuilt},
    {"ltrim", kNotBuilt},
    {"rtrim", kNotBuilt},
    {"port_only", kNotBuilt},
    {"sha1_hex", kNotBuilt},
    {"sha1_raw_binary", kNotBuilt},
    {"url_enc", kNotBuilt},
    {"req_body",
     "without option http-buffer-request the body is not read: req.body is empty (HAProxy's "
     "shows what came with the head)"},
    {"req_body_len",
     "without option http-buffer-request the body is not read: req.body_len is 0"},
    {"json_utf8s", "json's utf8 modes are not built: every mode escapes as ascii"},
    {"method_i",
     "HAProxy compares a known method by its code, so -i does not fold GET; sluice folds"},
};
// Lines HAProxy refuses that Sluice accepts (or that this test cannot feed): name -> why.
const std::map<std::string, std::string> kKnownErrors = {
    {"be_name_in_frontend",
     "fetch placement (frontend or backend rule) is not checked: be_name is empty there"},
    {"map_ip_output_to_ipmask", "converter input types are not checked at load"},
};

const uint8_t* U(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }

// A configuration line's words as HAProxy's lexer gives them: blanks separate words, "..."
// and '...' quote (nothing is escaped within '...'), a backslash escapes a blank, a quote,
// '\', '#' or '$' and writes \r \n \t; other pairs stay as written (\1, \.); an unquoted '#'
// starts a comment.
std::vector<std::string> SplitWords(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  bool in_word = false;
  char quote = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const char ch = s[i];
    if (quote == '\'' && ch != '\'') {
      cur.push_back(ch);
    } else if (ch == '\\' && quote != '\'' && i + 1 < s.size()) {
      const char n = s[++i];
      in_word = true;
      if (n == 'r' || n == 'n' || n == 't') {
        cur.push_back(n == 'r' ? '\r' : n == 'n' ? '\n' : '\t');
      } else {
        if (std::string_view(" \t\\\"'#$").find(n) == std::string_view::npos) cur.push_back('\\');
        cur.push_back(n);
      }
    } else if (quote && ch == quote) {
      quote = 0;
    } else if (quote) {
      cur.push_back(ch);
    } else if (ch == '"' || ch == '\'') {
      quote = ch;
      in_word = true;
    } else if (ch == ' ' || ch == '\t' || ch == '#') {
      if (in_word) out.push_back(cur);
      cur.clear();
      in_word = false;
      if (ch == '#') break;
    } else {
      cur.push_back(ch);
      in_word = true;
    }
  }
  if (in_word) out.push_back(cur);
  return out;
}

// What HAProxy 2.6's lf-string writes for a sample's text (the corpus' notes): 0x01-0x08,
// 0x0A-0x1F and 0x7F as %XX, upper-case; the rest raw (TAB, '%', bytes >= 0x80 included).
// With `hex`, those bytes in lower-case hex instead, as result_hex holds them.
std::string Shown(std::string_view s, bool hex) {
  std::string out;
  for (const char ch : s) {
    const auto b = static_cast<unsigned char>(ch);
    if ((b >= 0x01 && b <= 0x08) || (b >= 0x0A && b <= 0x1F) || b == 0x7F) {
      out += {'%', "0123456789ABCDEF"[b >> 4], "0123456789ABCDEF"[b & 15]};
    } else {
      out.push_back(ch);
    }
  }
  if (!hex) return "\"" + out + "\"";
  std::string h = "hex:";
  for (const char ch : out) {
    const auto b = static_cast<unsigned char>(ch);
    h += {"0123456789abcdef"[b >> 4], "0123456789abcdef"[b & 15]};
  }
  return h;
}

// The corpus, and its files written to a temporary directory for as long as it lives.
struct Corpus {
  Json j;
  std::string dir;
  ~Corpus() {
    std::error_code ec;
    if (!dir.empty()) std::filesystem::remove_all(dir, ec);
  }
  // `FILE:<name>` -> the file's path in `dir` (also for names the corpus does not hold).
  std::string Subst(std::string_view s) const {
    std::string out;
    for (size_t i = 0; i < s.size();) {
      if (s.substr(i, 5) != "FILE:") {
        out.push_back(s[i++]);
        continue;
      }
      size_t e = i + 5;
      while (e < s.size() && (std::isalnum(static_cast<unsigned char>(s[e])) ||
                              std::string_view("._-").find(s[e]) != std::string_view::npos)) {
        ++e;
      }
      out += dir + "/" + std::string(s.substr(i + 5, e - i - 5));
      i = e;
    }
    return out;
  }
  // An error text, empty when the corpus is loaded and its files written.
  std::string Load() {
    const std::string rel = "tests/unit/data/rules_haproxy_cases.json";
    std::ifstream in;
    for (const std::string& p : {std::string(SLUICE_SOURCE_DIR) + "/" + rel, rel, "../../" + rel}) {
      in.open(p, std::ios::binary);
      if (in) break;
      in.clear();
    }
    if (!in) return "cannot find " + rel + " (define SLUICE_SOURCE_DIR)";
    std::stringstream text;
    text << in.rdbuf();
    j = Json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.contains("cases")) return "cannot parse " + rel;
    char tmpl[] = "/tmp/sluice_rules_oracle_XXXXXX";
    if (!mkdtemp(tmpl)) return "mkdtemp failed";
    dir = tmpl;
    for (const auto& [name, body] : j["files"].items()) {
      std::ofstream f(dir + "/" + name, std::ios::binary);
      f << body.get<std::string>();
      if (!f) return "cannot write " + dir + "/" + name;
    }
    return "";
  }
};

// Fails for every mismatch `known` does not list and every entry of `known` that passes now
// (the mismatching names must be `known`'s keys exactly); returns how many were known.
size_t Report(const std::map<std::string, std::string>& mismatches,
              const std::set<std::string>& skipped,
              const std::map<std::string, std::string>& known) {
  size_t n = 0;
  for (const auto& [name, detail] : mismatches) {
    if (known.count(name)) {
      ++n;
      std::printf("[known] %s -- %s\n", detail.c_str(), known.at(name).c_str());
    } else {
      ADD_FAILURE() << "unexpected mismatch: " << detail;
    }
  }
  for (const auto& [name, why] : known) {
    if (!mismatches.count(name) && !skipped.count(name)) {
      ADD_FAILURE() << "stale known entry: " << name << " (" << why << ") now passes";
    }
  }
  return n;
}

class Env final : public rules::ProxyEnv {
 public:
  uint32_t UsableServers(uint32_t) const noexcept override { return 2; }
  uint64_t BackendConns(uint32_t) const noexcept override { return 0; }
  uint64_t FrontendConns(uint32_t) const noexcept override { return 1; }
  int64_t ConnSlots(uint32_t) const noexcept override { return -1; }
};

// The worker's pattern indexes, one per reference, built as references appear (a reference
// compiled once is never changed afterwards here).
struct Sets {
  std::vector<std::unique_ptr<rules::PatternIndex>> owned;
  rules::PatternTable table;
  void Sync(const rulescp::PatternStore& store, rules::RulesSnap* snap) {
    for (size_t i = owned.size(); i < store.size(); ++i) {
      owned.push_back(store.BuildIndex(*store.Ref(static_cast<uint32_t>(i))));
    }
    table.sets.resize(owned.size());
    for (size_t i = 0; i < owned.size(); ++i) table.sets[i] = owned[i].get();
    snap->nsets = static_cast<uint32_t>(store.size());
  }
};

// The corpus' proxies: frontend "fe" (index 0) using backend "be" (index 0) of s1 and s2.
void NameProxies(rules::RulesSnap* snap) {
  snap->fe_names = {"fe"};
  snap->be_names = {"be"};
  snap->srv_names = {"s1", "s2"};
  snap->frontends.resize(1);
  snap->backends.resize(1);
}

TEST(RulesOracle, MatchesHaproxy26) {
  Corpus corpus;
  const std::string err = corpus.Load();
  ASSERT_TRUE(err.empty()) << err;
  const Json& j = corpus.j;
  rules::RulesSnap snap;
  NameProxies(&snap);
  rulescp::PatternStore store;
  rulescp::Compiler c(&store, &snap, "test.cfg", 1);
  c.BeginProxy();
  int line = 10;
  for (const Json& na : j["named_acls"]) {  // a name given twice ORs its lines
    const std::string name = na[0].get<std::string>();
    std::vector<std::string> words{"acl", name};
    for (std::string& w : SplitWords(corpus.Subst(na[1].get<std::string>()))) {
      words.push_back(std::move(w));
    }
    c.At("test.cfg", line++);
    const auto ok = c.DefineAcl(name, words);
    EXPECT_TRUE(ok.ok()) << "named ACL " << name << ": " << ok.error();
  }
  // frontend_prelude: http-request set-var(txn.x) str(hello), set-var(txn.n) int(5).
  const uint32_t slot_x = c.VarSlot("txn.x"), slot_n = c.VarSlot("txn.n");

  Env env;
  Sets sets;
  auto arena = std::make_unique<rules::Arena>();
  std::vector<char> tmp(rules::kArenaBytes);
  std::unique_ptr<pcre2_match_data, decltype(&pcre2_match_data_free)> md(
      pcre2_match_data_create(16, nullptr), &pcre2_match_data_free);
  auto vars = std::make_unique<rules::Vars>();
  auto head = std::make_unique<http::MessageHead>();
  uint8_t src[16] = {}, dst[16] = {};
  const std::string src_text = j["src"].get<std::string>(), dst_text = j["dst"].get<std::string>();
  const bool v6 = src_text.find(':') != std::string::npos;
  ASSERT_EQ(inet_pton(v6 ? AF_INET6 : AF_INET, src_text.c_str(), src), 1);
  ASSERT_EQ(inet_pton(v6 ? AF_INET6 : AF_INET, dst_text.c_str(), dst), 1);
  rules::Ctx ctx;
  ctx.rules = &snap;
  ctx.pats = &sets.table;
  ctx.env = &env;
  ctx.arena = arena.get();
  ctx.tmp = tmp.data();
  ctx.md = md.get();
  ctx.vars = vars.get();
  ctx.src = src;
  ctx.dst = dst;
  ctx.v6 = v6;
  ctx.src_port = 40000;  // HAProxy's client port was whatever the kernel chose
  ctx.dst_port = static_cast<uint16_t>(j["dst_port"].get<int>());
  ctx.frontend = 0;  // frontend "fe", backend "be"
  ctx.backend = 0;
  ctx.server = UINT32_MAX;

  std::map<std::string, std::string> mismatches;
  std::set<std::string> skipped;
  const Json& cases = j["cases"];
  for (size_t i = 0; i < cases.size(); ++i) {
    const Json& k = cases[i];
    const std::string name = k["name"].get<std::string>(), kind = k["kind"].get<std::string>();
    const std::string text = corpus.Subst(k.value(kind, std::string()));  // "expr": EXPR...
    const Json& result = k["result"];
    // The source port changes from run to run: only what holds for any port is checked. A
    // non-200 answer (`status`, result null) says nothing about the rules.
    if ((text.find("src_port") != std::string::npos && text != "src_port,bool") ||
        k.contains("status") || (result.is_null() && !k.contains("result_hex"))) {
      skipped.insert(name);
      continue;
    }
    const Json& r = k["request"];
    std::string req = r["method"].get<std::string>() + " " + r["target"].get<std::string>() + " " +
                      r["version"].get<std::string>() + "\r\n";
    for (const Json& h : r["headers"]) {
      req += h[0].get<std::string>() + ": " + h[1].get<std::string>() + "\r\n";
    }
    req += "\r\n";  // a body is not given: the rules see the head alone
    auto fail = [&](const std::string& want, const std::string& got) {
      mismatches[name] =
          name + ": expected " + want + " got " + got + " (" + kind + " " + text + ")";
    };
    http::ParseOptions opts;
    opts.request = true;
    if (!http::ParseHead(U(req), static_cast<uint32_t>(req.size()), opts, head.get())) {
      fail("a request", "head parse error " + std::to_string(static_cast<int>(head->error)));
      continue;
    }
    ctx.req_head = U(req);
    ctx.req = head.get();
    arena->Reset();
    vars->Reset(1);
    vars->Set(slot_x, rules::Sample::Str("hello"));
    vars->Set(slot_n, rules::Sample::Int(5));
    c.At("test.cfg", static_cast<int>(100 + i));

    if (kind == "expr") {
      // In lf-string "%[EXPR]" the lexer reads the expression double-quoted. A body that is
      // not UTF-8 comes as result_hex (lower case) with result null.
      const bool hex = result.is_null();
      const std::string want = std::string("found=") + (k.value("found", false) ? "1 " : "0 ") +
                               (hex ? "hex:" + k["result_hex"].get<std::string>()
                                    : "\"" + result.get<std::string>() + "\"");
      const std::vector<std::string> w = SplitWords("\"" + text + "\"");
      rules::Expr e;
      const auto ok = w.size() == 1 ? c.ParseExpr(w[0], rulescp::ExprScope{true, false}, &e)
                                    : base::Result<bool>(base::Error{"not one word"});
      if (!ok) {
        fail(want, "compile error: " + ok.error());
        continue;
      }
      sets.Sync(store, &snap);
      rules::Sample s;
      const bool found = rules::Eval(e, ctx, &s);
      std::string body;  // 2.6's lf-string prints nothing for a missing sample
      if (found && rules::AsText(s, ctx)) body.assign(s.str);
      const std::string got = std::string("found=") + (found ? "1 " : "0 ") + Shown(body, hex);
      if (want != got) fail(want, got);
      continue;
    }
    if (!result.is_boolean()) {
      skipped.insert(name);
      continue;
    }
    const std::string want = result.get<bool>() ? "true" : "false";
    bool fired = false;
    if (kind == "acl") {  // `if SEL { ACL }`
      const std::vector<std::string> w = SplitWords(text);
      rules::AclTerm term;
      const auto ok = c.ParseAclTerm(w, 0, w.size(), &term);
      if (!ok) {
        fail(want, "compile error: " + ok.error());
        continue;
      }
      rules::Acl acl;
      acl.name = "oracle";
      acl.terms.push_back(std::move(term));
      sets.Sync(store, &snap);
      fired = rules::EvalAcl(acl, ctx);
    } else if (kind == "cond") {  // `if|unless COND` fired: EvalCond applies `unless`
      std::vector<std::string> w{k["keyword"].get<std::string>()};
      for (std::string& s : SplitWords(text)) w.push_back(std::move(s));
      rules::Cond cond;
      const auto ok = c.ParseCond(w, 0, &cond);
      if (!ok) {
        fail(want, "compile error: " + ok.error());
        continue;
      }
      sets.Sync(store, &snap);
      fired = rules::EvalCond(cond, ctx);
    } else {
      fail("a known kind", "kind '" + kind + "'");
      continue;
    }
    if (want != (fired ? "true" : "false")) fail(want, fired ? "true" : "false");
  }
  const size_t known = Report(mismatches, skipped, kKnown);
  std::printf("rules oracle: %zu cases, %zu passed, %zu known, %zu skipped\n", cases.size(),
              cases.size() - skipped.size() - mismatches.size(), known, skipped.size());
}

// Every line `haproxy -c` refused must fail to compile in Sluice too (the wording is the
// config tests' business): `acl NAME ...`, `http-request set-var(V) EXPR`, `http-request
// return ... lf-string "..."`, and the condition after `if|unless`.
TEST(RulesOracle, RefusesWhatHaproxyRefuses) {
  Corpus corpus;
  const std::string err = corpus.Load();
  ASSERT_TRUE(err.empty()) << err;
  std::map<std::string, std::string> mismatches;
  const Json& errors = corpus.j["errors"];
  for (const Json& e : errors) {
    const std::string name = e["name"].get<std::string>();
    const std::string text = corpus.Subst(e["line"].get<std::string>());
    const std::vector<std::string> w = SplitWords(text);
    rules::RulesSnap snap;
    NameProxies(&snap);
    rulescp::PatternStore store;
    rulescp::Compiler c(&store, &snap, "CFG", e.value("config_line_number", 0));
    c.BeginProxy();
    base::Result<bool> r = true;
    bool fed = false;
    if (w.size() >= 3 && w[0] == "acl") {
      r = c.DefineAcl(w[1], w);
      fed = true;
    } else if (w.size() >= 3 && w[0] == "http-request" && w[1].rfind("set-var(", 0) == 0) {
      rules::Expr x;
      r = c.ParseExpr(w[2], rulescp::ExprScope{true, false}, &x);
      fed = true;
    } else if (w.size() >= 2 && w[0] == "http-request") {
      for (size_t i = 2; i < w.size() && !fed; ++i) {
        if (w[i] == "lf-string" && i + 1 < w.size()) {
          rules::LogFmt f;
          r = c.ParseLogFmt(w[i + 1], rulescp::ExprScope{true, false}, &f);
          fed = true;
        } else if (w[i] == "if" || w[i] == "unless") {
          rules::Cond k;
          r = c.ParseCond(w, i, &k);
          fed = true;
        }
      }
    }
    const std::string alert = e["stderr"].get<std::string>();
    const bool haproxy_refused = e.value("exit_code", 1) != 0;
    if (!fed) {
      mismatches[name] = name + ": cannot feed '" + text + "' to the compiler";
    } else if (!haproxy_refused && !r.ok()) {
      mismatches[name] = name + ": HAProxy accepts '" + text + "', sluice says " + r.error();
    } else if (haproxy_refused && r.ok()) {
      mismatches[name] = name + ": expected an error got none (" + text +
                         "); HAProxy: " + alert.substr(0, alert.find('\n'));
    }
  }
  const size_t known = Report(mismatches, {}, kKnownErrors);
  std::printf("rules oracle errors: %zu lines, %zu refused, %zu known\n", errors.size(),
              errors.size() - mismatches.size(), known);
}

}  // namespace
}  // namespace sluice
