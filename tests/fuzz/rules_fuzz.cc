// libFuzzer target: the rules compiler (controlplane/rules/rules_compile.h) and evaluator
// (dataplane/rules/expr.h).
// Input: TEXT, then optionally '\n' and an HTTP/1 request head (the rest of the input).
//   TEXT (up to the first '\n') is compiled four ways: its first blank-separated word as a
//   sample expression (ParseExpr), its words as an ACL term (ParseAclTerm), "if WORDS" and
//   "unless WORDS" as conditions (ParseCond), the whole of it as a log-format (ParseLogFmt).
//   The tokens FILE1 and FILE2 stand for two files written at start-up: an ip map
//   ("10.0.0.0/8 A", "1.2.3.4 B") and a string list ("a", "b"). No other file may be
//   named, so the target stays hermetic: an input is refused when it holds "..", when a `-f`
//   word is not followed by FILE1 or FILE2, or when a map converter's first argument does not
//   start with FILE1 or FILE2 followed by ',' or ')'.
//   What compiles is evaluated against the request when its head parses (else with no HTTP
//   message), from 10.0.0.1:40000 to 192.168.0.1:80, frontend "fe", backend "be", server "s1",
//   with userlist "L" (users "a" with clear password "p", "b" with an MD5 crypt hash of "pw";
//   groups "g1", "g2") and the frontend's captures (request slots 0 and 1, response slot 0,
//   holding "cap0", nothing, "res0").
// Invariants: no crash and no leak; "unless" is the negation of "if"; a log-format writes at
// most its capacity.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "controlplane/rules/pattern_store.h"
#include "controlplane/rules/rules_compile.h"
#include "dataplane/base/assert.h"
#include "dataplane/http/h1.h"
#include "dataplane/rules/auth.h"
#include "dataplane/rules/capture.h"
#include "dataplane/rules/expr.h"
#include "dataplane/rules/pattern.h"
#include "dataplane/rules/sample.h"

namespace {

using namespace sluice;

// The two files FILE1 and FILE2 name, in a directory of their own for the process' life.
struct Files {
  std::string dir, f1, f2;
  Files() {
    char tmpl[] = "/tmp/sluice_fuzz_rules_XXXXXX";
    if (!mkdtemp(tmpl)) std::abort();
    dir = tmpl;
    f1 = dir + "/ipmap";
    f2 = dir + "/list";
    std::ofstream(f1, std::ios::binary) << "10.0.0.0/8 A\n1.2.3.4 B\n";
    std::ofstream(f2, std::ios::binary) << "a\nb\n";
  }
  ~Files() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};
const Files g_files;

class Env final : public rules::ProxyEnv {
 public:
  uint32_t UsableServers(uint32_t) const noexcept override { return 1; }
  uint64_t BackendConns(uint32_t) const noexcept override { return 3; }
  uint64_t FrontendConns(uint32_t) const noexcept override { return 4; }
  int64_t ConnSlots(uint32_t) const noexcept override { return 100; }
};

bool IsFileToken(std::string_view s) { return s == "FILE1" || s == "FILE2"; }

// Whether every file the compiler could open is FILE1 or FILE2 (see the header comment).
bool OnlyOurFiles(std::string_view text, const std::vector<std::string>& words) {
  if (text.find("..") != std::string_view::npos) return false;
  for (size_t i = 0; i + 1 < words.size(); ++i) {
    if (words[i] == "-f" && !IsFileToken(words[i + 1])) return false;
  }
  for (size_t at = text.find("map"); at != std::string_view::npos; at = text.find("map", at + 1)) {
    size_t k = at + 3;
    while (k < text.size() && ((text[k] >= 'a' && text[k] <= 'z') || text[k] == '_')) ++k;
    if (k >= text.size() || text[k] != '(') continue;
    const std::string_view arg = text.substr(k + 1, 6);
    if (arg.size() < 6 || !IsFileToken(arg.substr(0, 5)) || (arg[5] != ',' && arg[5] != ')')) {
      return false;
    }
  }
  return true;
}

std::string Subst(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    if (IsFileToken(s.substr(i, 5))) {
      out += s[i + 4] == '1' ? g_files.f1 : g_files.f2;
      i += 5;
    } else {
      out.push_back(s[i++]);
    }
  }
  return out;
}

std::vector<std::string> Words(std::string_view s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    const size_t b = s.find_first_not_of(" \t", i);
    if (b == std::string_view::npos) break;
    const size_t e = std::min(s.find_first_of(" \t", b), s.size());
    out.emplace_back(s.substr(b, e - b));
    i = e;
  }
  return out;
}

// Evaluates `e` once, casts the result every way, and walks a multi-value fetch as an ACL does.
void Exercise(const rules::Expr& e, rules::Ctx& c) {
  using T = rules::SmpType;
  static constexpr T kTypes[] = {T::kBool, T::kSint, T::kIpv4, T::kIpv6, T::kStr, T::kBin};
  c.arena->Reset();
  rules::Sample s;
  if (rules::Eval(e, c, &s)) {
    for (const T t : kTypes) {
      rules::Sample x = s;
      (void)rules::Cast(x, t, c);
    }
  }
  const bool multi = e.fetch == rules::Fetch::kHdr || e.fetch == rules::Fetch::kFhdr ||
                     e.fetch == rules::Fetch::kResHdr || e.fetch == rules::Fetch::kHdrVal;
  if (!multi || e.a[1].set) return;
  uint32_t cursor = 0;
  for (int i = 0; i < 256; ++i) {
    c.arena->Reset();
    rules::Sample m;
    if (!rules::Eval(e, c, &m, &cursor)) break;
    (void)rules::AsText(m, c);
  }
}

http::MessageHead g_head;
char g_tmp[rules::kArenaBytes];
char g_out[4096];
uint8_t g_caps[rules::kCaptureBlock];
rules::AuthCache g_auth;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 32 * 1024) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const size_t nl = in.find('\n');
  const std::string_view raw = in.substr(0, nl);
  if (raw.size() > 4096) return 0;
  const std::vector<std::string> raw_words = Words(raw);
  if (raw_words.empty() || !OnlyOurFiles(raw, raw_words)) return 0;
  const std::string text = Subst(raw);
  const std::vector<std::string> words = Words(text);

  rules::RulesSnap snap;
  rules::Userlist ul;
  ul.name = "L";
  ul.serial = 1;
  ul.groups = {"g1", "g2"};
  ul.users.push_back(rules::AuthUser{"a", "p", true, true, 1});
  ul.users.push_back(rules::AuthUser{"b", "$1$ab$b2XAKzcGJvTR.javvk3280", false, true, 3});
  snap.userlists.push_back(std::move(ul));
  snap.frontends.resize(1);
  snap.frontends[0].req_caps = {rules::CaptureSlot{"host", 8, 0}, rules::CaptureSlot{"", 4, 8}};
  snap.frontends[0].res_caps = {rules::CaptureSlot{"server", 6, 12}};
  snap.fe_names = {"fe"};
  snap.be_names = {"be"};
  snap.srv_names = {"s1"};
  rulescp::PatternStore store;
  rulescp::Compiler comp(&store, &snap, "fuzz.cfg", 1);
  comp.BeginProxy();
  const rulescp::ExprScope scope{true, true};
  rules::Expr expr;
  const bool expr_ok = comp.ParseExpr(words[0], scope, &expr).ok();
  rules::Acl acl{"fuzz", std::vector<rules::AclTerm>(1)};
  const bool acl_ok = comp.ParseAclTerm(words, 0, words.size(), &acl.terms[0]).ok();
  std::vector<std::string> cw{"if"};
  cw.insert(cw.end(), words.begin(), words.end());
  rules::Cond cond_if, cond_unless;
  const bool if_ok = comp.ParseCond(cw, 0, &cond_if).ok();
  cw[0] = "unless";
  const bool unless_ok = comp.ParseCond(cw, 0, &cond_unless).ok();
  rules::LogFmt lf;
  const bool lf_ok = comp.ParseLogFmt(text, scope, &lf).ok();

  // The worker's pattern indexes, one per reference.
  std::vector<std::unique_ptr<rules::PatternIndex>> owned;
  rules::PatternTable pats;
  for (uint32_t i = 0; i < store.size(); ++i) {
    owned.push_back(store.BuildIndex(*store.Ref(i)));
    pats.sets.push_back(owned.back().get());
  }
  snap.nsets = static_cast<uint32_t>(store.size());

  // The request head, when the rest of the input holds one.
  const std::string req(nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1));
  const auto* rp = reinterpret_cast<const uint8_t*>(req.data());
  http::HeadScanner sc;
  const uint32_t used = sc.Scan(rp, static_cast<uint32_t>(req.size()));
  http::ParseOptions opt;
  opt.request = true;
  const bool has_req = sc.done() && http::ParseHead(rp, used, opt, &g_head);

  auto arena = std::make_unique<rules::Arena>();
  auto vars = std::make_unique<rules::Vars>();
  pcre2_real_match_data_8* md = rules::NewMatchData();
  static const Env env{};
  static const uint8_t src[4] = {10, 0, 0, 1}, dst[4] = {192, 168, 0, 1};
  rules::Ctx c{.rules = &snap,
               .pats = &pats,
               .env = &env,
               .arena = arena.get(),
               .tmp = g_tmp,
               .md = md,
               .vars = vars.get(),
               .src = src,
               .dst = dst,
               .v6 = false,
               .src_port = 40000,
               .dst_port = 80,
               .frontend = 0,
               .backend = 0,
               .server = 0,
               .req_head = has_req ? rp : nullptr,
               .req = has_req ? &g_head : nullptr,
               .res_head = nullptr,
               .res = nullptr,
               .caps = g_caps,
               .auth = &g_auth};
  rules::ClearCaptures(g_caps);
  rules::PutCapture(g_caps, 0, 0, 8, "cap0");
  rules::PutCapture(g_caps, rules::kMaxCaptures, 12, 6, "res0");

  vars->Reset(1);
  if (expr_ok) Exercise(expr, c);
  if (acl_ok) {
    Exercise(acl.terms[0].expr, c);
    c.arena->Reset();
    (void)rules::EvalAcl(acl, c);
  }
  if (if_ok && unless_ok) {
    vars->Reset(2);
    c.arena->Reset();
    const bool yes = rules::EvalCond(cond_if, c);
    vars->Reset(2);
    c.arena->Reset();
    const bool no = rules::EvalCond(cond_unless, c);
    LB_RELEASE_ASSERT(yes != no);
  }
  if (lf_ok) {
    for (const uint32_t cap : {0u, 7u, static_cast<uint32_t>(sizeof g_out)}) {
      for (const bool dash : {false, true}) {
        c.arena->Reset();
        LB_RELEASE_ASSERT(rules::EvalLogFmt(lf, c, g_out, cap, dash) <= cap);
      }
    }
  }
  rules::FreeMatchData(md);
  return 0;
}
