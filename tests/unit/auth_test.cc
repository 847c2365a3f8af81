// http_auth() and its relatives, `userlist` sections and the workers' password cache
// (dataplane/rules/auth.h), with the answers Debian's haproxy 2.6.12 gave on the same
// Authorization fields (an oracle run: its table is in docs/rules.md, "Authentication").
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "controlplane/config/config.h"
#include "controlplane/rules/rules_compile.h"
#include "dataplane/http/h1.h"
#include "dataplane/rules/auth.h"
#include "dataplane/rules/expr.h"

namespace sluice {
namespace {

// bob's password "pw" as `openssl passwd -6 -salt abcdefgh pw` writes it.
constexpr const char* kBobHash =
    "$6$abcdefgh$KQeXafAQAaOoKTevphVU215RvJdgzyfASRasIOuh12hO8u0r1bGW92ZnTmC9IjsiQ8VPiTXBiZF49d"
    "FL1U4wX/";

constexpr const char* kConfig =
    "dataplane\n    port client net_tap0,iface=x0\n    address client 10.0.0.1/24\n"
    "defaults\n    mode http\n    timeout connect 1s\n    timeout client 1s\n"
    "    timeout server 1s\n"
    "userlist L1\n"
    "    group g1\n"
    "    group g2 users bob\n"
    "    user alice insecure-password secret groups g1\n"
    "    user bob password %BOB%\n"
    "    user nopw\n"
    "frontend fe\n    bind 10.0.0.1:80\n    default_backend be\n"
    "backend be\n    server s 10.0.0.2:80\n";

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string text = kConfig;
    text.replace(text.find("%BOB%"), 5, kBobHash);
    const config::ParseOutcome o = config::ParseText(text, "t.cfg");
    for (const auto& d : o.diagnostics) {
      if (d.severity == config::Diagnostic::Severity::kAlert) ADD_FAILURE() << d.message;
    }
    std::vector<config::Diagnostic> diags;
    rules_ = rulescp::Compile(o.config, &diags);
    for (const auto& d : diags) ADD_FAILURE() << d.message;
    compiler_ = std::make_unique<rulescp::Compiler>(rules_.store.get(), rules_.snap.get(),
                                                    "t.cfg", 100);
    ctx_.rules = rules_.snap.get();
    ctx_.arena = arena_.get();
    ctx_.tmp = tmp_.data();
    ctx_.auth = cache_.get();
  }

  // The request carries `fields` ("Name: value" lines).
  void Request(const std::vector<std::string>& fields) {
    req_ = "GET / HTTP/1.1\r\nHost: x\r\n";
    for (const auto& f : fields) req_ += f + "\r\n";
    req_ += "\r\n";
    http::ParseOptions opts;
    opts.request = true;
    ASSERT_TRUE(http::ParseHead(reinterpret_cast<const uint8_t*>(req_.data()),
                                static_cast<uint32_t>(req_.size()), opts, head_.get()));
    ctx_.req_head = reinterpret_cast<const uint8_t*>(req_.data());
    ctx_.req = head_.get();
  }

  // The sample of `expr` as text, or "<none>".
  std::string Eval(const std::string& expr) {
    rules::Expr e;
    const auto ok = compiler_->ParseExpr(expr, rulescp::ExprScope{true, false}, &e);
    if (!ok) return "compile error: " + ok.error();
    arena_->Reset();
    rules::Sample s;
    if (!rules::Eval(e, ctx_, &s) || !rules::AsText(s, ctx_)) return "<none>";
    return std::string(s.str);
  }

  // "type|user|pass|auth|group" for an Authorization field's value (empty: no field).
  std::string All(const std::string& authorization) {
    Request(authorization.empty() ? std::vector<std::string>{}
                                  : std::vector<std::string>{"Authorization: " + authorization});
    return Eval("http_auth_type") + "|" + Eval("http_auth_user") + "|" + Eval("http_auth_pass") +
           "|" + Eval("http_auth(L1)") + "|" + Eval("http_auth_group(L1)");
  }

  rulescp::CompiledRules rules_;
  std::unique_ptr<rulescp::Compiler> compiler_;
  std::unique_ptr<rules::Arena> arena_ = std::make_unique<rules::Arena>();
  std::vector<char> tmp_ = std::vector<char>(rules::kArenaBytes);
  std::unique_ptr<rules::AuthCache> cache_ = std::make_unique<rules::AuthCache>();
  std::unique_ptr<http::MessageHead> head_ = std::make_unique<http::MessageHead>();
  std::string req_;
  rules::Ctx ctx_;
};

TEST_F(AuthTest, FieldsReadAsHaproxyReadsThem) {
  const std::string none = "<none>|<none>|<none>|<none>|<none>";
  EXPECT_EQ(All(""), none);
  EXPECT_EQ(All("Basic YWxpY2U6c2VjcmV0"), "Basic|alice|secret|1|alice");  // alice:secret
  EXPECT_EQ(All("Basic YWxpY2U6d3Jvbmc="), "Basic|alice|wrong|0|<none>");
  EXPECT_EQ(All("Basic Ym9iOnB3"), "Basic|bob|pw|1|bob");  // bob:pw, a SHA-512 crypt hash
  EXPECT_EQ(All("Basic Ym9iOng="), "Basic|bob|x|0|<none>");
  EXPECT_EQ(All("Basic bm9ib2R5OnB3"), "Basic|nobody|pw|0|<none>");
  EXPECT_EQ(All("Basic !!!notb64"), none);
  EXPECT_EQ(All("Basic YWxpY2U6c2VjcmV0eA"), none);  // no padding
  EXPECT_EQ(All("Basic YWxpY2U="), none);            // "alice": no colon
  EXPECT_EQ(All("Basic YWxpY2U6"), "Basic|alice||0|<none>");
  EXPECT_EQ(All("Basic OnB3"), "Basic||pw|0|<none>");
  EXPECT_EQ(All("Basic YTpiOmM="), "Basic|a|b:c|0|<none>");  // the first colon
  EXPECT_EQ(All("Basic"), none);
  EXPECT_EQ(All("Bearer xyz"), "Bearer|<none>|<none>|<none>|<none>");
  EXPECT_EQ(All("bearer xyz"), "Bearer|<none>|<none>|<none>|<none>");
  EXPECT_EQ(All("basic YWxpY2U6c2VjcmV0"), "Basic|alice|secret|1|alice");
  EXPECT_EQ(All("BASIC YWxpY2U6c2VjcmV0"), "Basic|alice|secret|1|alice");
  EXPECT_EQ(All("B YWxpY2U6c2VjcmV0"), "Basic|alice|secret|1|alice");  // a prefix
  EXPECT_EQ(All("Bear xyz"), "Bearer|<none>|<none>|<none>|<none>");
  EXPECT_EQ(All("Basicx YWxpY2U6c2VjcmV0"), none);
  EXPECT_EQ(All("BasicYWxpY2U6c2VjcmV0"), none);
  EXPECT_EQ(All("Basic  YWxpY2U6c2VjcmV0"), "Basic|alice|secret|1|alice");
  EXPECT_EQ(All("Basic YWxpY2U6c2VjcmV0   "), "Basic|alice|secret|1|alice");
  EXPECT_EQ(All("Basic\tYWxpY2U6c2VjcmV0"), none);
  EXPECT_EQ(All("Basic YWxpY2U6c2VjcmV0 junk"), none);
  EXPECT_EQ(All("Digest username=\"a\""), none);
  EXPECT_EQ(All("Basic YWxpY2U6c2VjcmV0, Basic Ym9iOnB3"), "Basic|alice|secret|1|alice");
  EXPECT_EQ(All("Basic bm9wdzo="), "Basic|nopw||0|<none>");  // a user without a password
  // The first field counts.
  Request({"Authorization: Basic Ym9iOnB3", "Authorization: Basic YWxpY2U6c2VjcmV0"});
  EXPECT_EQ(Eval("http_auth_user"), "bob");
  Request({"Authorization: Bearer tok", "X-Tok: Bearer other"});
  EXPECT_EQ(Eval("http_auth_bearer"), "tok");
  EXPECT_EQ(Eval("http_auth_bearer(x-tok)"), "other");
  EXPECT_EQ(Eval("http_auth(NOPE)"),
            "compile error: unable to find userlist 'NOPE' referenced in arg 1 of fetch method "
            "'http_auth'");
}

// A hashed password is hashed once per worker for the same credentials; a wrong one too.
TEST_F(AuthTest, HashedPasswordsRemembered) {
  All("Basic Ym9iOnB3");
  const uint64_t first = cache_->hashes();
  EXPECT_GE(first, 1u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(All("Basic Ym9iOnB3"), "Basic|bob|pw|1|bob");
  EXPECT_EQ(cache_->hashes(), first);
  EXPECT_GT(cache_->hits(), 0u);
  All("Basic Ym9iOng=");
  All("Basic Ym9iOng=");
  EXPECT_EQ(cache_->hashes(), first + 1);
  // Without a cache (no worker state) a hashed password never matches; a clear one does.
  ctx_.auth = nullptr;
  EXPECT_EQ(All("Basic Ym9iOnB3"), "Basic|bob|pw|0|<none>");
  EXPECT_EQ(All("Basic YWxpY2U6c2VjcmV0"), "Basic|alice|secret|1|alice");
}

// http_auth_group(L) in an ACL: the user authenticates and is in one of the groups named,
// by `user ... groups` or by `group ... users`.
TEST_F(AuthTest, GroupAcl) {
  auto acl = [&](const std::vector<std::string>& words) {
    rules::Acl a;
    a.terms.emplace_back();
    const auto ok = compiler_->ParseAclTerm(words, 0, words.size(), &a.terms[0]);
    EXPECT_TRUE(ok.ok()) << ok.error();
    arena_->Reset();
    return rules::EvalAcl(a, ctx_);
  };
  Request({"Authorization: Basic YWxpY2U6c2VjcmV0"});
  EXPECT_TRUE(acl({"http_auth_group(L1)", "g1"}));
  EXPECT_FALSE(acl({"http_auth_group(L1)", "g2"}));
  Request({"Authorization: Basic Ym9iOnB3"});
  EXPECT_FALSE(acl({"http_auth_group(L1)", "g1"}));
  EXPECT_TRUE(acl({"http_auth_group(L1)", "g1", "g2"}));
  Request({"Authorization: Basic Ym9iOng="});
  EXPECT_FALSE(acl({"http_auth_group(L1)", "g2"}));
  rules::AclTerm t;
  const auto bad = compiler_->ParseAclTerm({"http_auth_group(L1)", "gX"}, 0, 2, &t);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error(), "http_auth_group(): invalid group 'gX'");
}

// The section's checks, with HAProxy's texts.
TEST(Userlist, ConfigChecks) {
  auto diags = [](const std::string& body) {
    const config::ParseOutcome o = config::ParseText(body, "u.cfg");
    std::string out;
    for (const auto& d : o.diagnostics) {
      if (d.line == 0) continue;  // the missing dataplane section
      out += (d.severity == config::Diagnostic::Severity::kAlert ? "A:" : "W:") +
             std::to_string(d.line) + ":" + d.message + "\n";
    }
    return out;
  };
  EXPECT_EQ(diags("userlist L1\n    user alice insecure-password s groups g9\n"),
            "A:2:userlist 'L1': no such group 'g9' specified in user 'alice'\n");
  EXPECT_EQ(diags("userlist L1\n    group g2 users zed\n"),
            "A:2:userlist 'L1': no such user 'zed' specified in group 'g2'\n");
  EXPECT_EQ(diags("userlist L1\n    user a insecure-password x\n    user a insecure-password y\n"),
            "W:3:ignoring duplicated user 'a' in userlist 'L1'.\n");
  EXPECT_EQ(diags("userlist L1\n    group g\n    group g\n"),
            "W:3:ignoring duplicated group 'g' in userlist 'L1'.\n");
  EXPECT_EQ(diags("userlist L1\nuserlist L1\n    user a\n"),
            "W:2:ignoring duplicated userlist 'L1'.\n");
  EXPECT_EQ(diags("userlist L1\n    user a secret x\n"),
            "A:2:'user' only supports 'password', 'insecure-password' and 'groups' options.\n");
  EXPECT_EQ(diags("userlist L1\n    group g members a\n"),
            "A:2:'group' only supports 'users' option.\n");
  EXPECT_EQ(diags("userlist L1\n    user a password $99$nothash\n"),
            "W:2:the encrypted password used for user 'a' is not supported by crypt(3).\n");
}

}  // namespace
}  // namespace sluice
