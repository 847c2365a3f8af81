// The rules compiler on whole configurations (controlplane/rules/rules_compile.h): pattern
// reference numbering as HAProxy's `show acl` shows it, where each rule list goes, and the
// configurations it refuses, with file, line and keyword.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "controlplane/config/config.h"
#include "controlplane/rules/rules_compile.h"
#include "dataplane/stick/stick.h"

namespace sluice::rulescp {
namespace {

constexpr const char* kHead =
    "dataplane\n    port client net_tap0,iface=x0\n    address client 10.0.0.1/24\n"
    "defaults\n    mode http\n    timeout connect 1s\n    timeout client 1s\n"
    "    timeout server 1s\n";  // 8 lines

std::string TempFile(const std::string& name, const std::string& text) {
  const std::string path = "/tmp/sluice-rules-compile-" + name;
  std::ofstream(path) << text;
  return path;
}

struct Out {
  CompiledRules rules;
  std::vector<config::Diagnostic> diags;
};

Out CompileText(const std::string& body) {
  const config::ParseOutcome o = config::ParseText(kHead + body, "t.cfg");
  for (const auto& d : o.diagnostics) {
    EXPECT_NE(d.severity, config::Diagnostic::Severity::kAlert) << d.message;
  }
  Out out;
  out.rules = Compile(o.config, &out.diags);
  return out;
}

std::string OnlyAlert(const Out& o, int* line) {
  std::string msg;
  int n = 0;
  for (const auto& d : o.diags) {
    if (d.severity != config::Diagnostic::Severity::kAlert) continue;
    msg = d.message;
    *line = d.line;
    ++n;
  }
  EXPECT_EQ(n, 1) << msg;
  return msg;
}

TEST(RulesCompile, ReferencesNumberedAsHaproxy) {
  const std::string wl = TempFile("wl.lst", "127.0.0.2\n192.168.0.0/16\n");
  const std::string geo = TempFile("geo.map", "10.0.0.0/8 PRIV\n");
  const Out o = CompileText(
      "frontend fe\n    bind 10.0.0.1:80\n"  // 9-10
      "    acl whitelist src -f " +
      wl +
      "\n"                                              // 11
      "    acl is_admin path_beg /admin\n"              // 12
      "    http-request deny if is_admin !whitelist\n"  // 13
      "    http-request set-header X-C %[src,map_ip(" +
      geo +
      ",ZZ)]\n"  // 14
      "    acl again src -M -f " +
      geo +
      "\n"  // 15
      "    log-format \"%ci %[src,map_ip(" +
      geo +
      ",ZZ)]\"\n"  // 16
      "    default_backend be\n"
      "backend be\n    server s 10.0.0.2:80\n");
  for (const auto& d : o.diags) ADD_FAILURE() << d.message;
  const PatternStore& st = *o.rules.store;
  ASSERT_EQ(st.size(), 5u);
  EXPECT_EQ(st.Ref(0)->file, wl);
  EXPECT_EQ(st.Ref(0)->entries.size(), 2u);
  EXPECT_EQ(st.Ref(1)->display, "acl 'src' file 't.cfg' line 11.");  // the inline values
  EXPECT_EQ(st.Ref(2)->display, "acl 'path_beg' file 't.cfg' line 12.");
  EXPECT_TRUE(st.Ref(3)->map);  // geo.map as a map, its users newest first
  EXPECT_EQ(st.Ref(3)->Describe(),
            "pattern loaded from file '" + geo +
                "' used by map at file 't.cfg' line 16, by acl at file 't.cfg' line 15, by map at "
                "file 't.cfg' line 14. "
                "curr_ver=0 next_ver=0 entry_cnt=1");
  EXPECT_TRUE(st.Ref(3)->acl);  // -M: the ACL reads the map's reference (HAProxy shares it)
  EXPECT_EQ(st.Ref(3)->entries.size(), 1u);
  EXPECT_EQ(st.Ref(4)->display, "acl 'src' file 't.cfg' line 15.");  // its inline values
  const rules::RulesSnap& snap = *o.rules.snap;
  EXPECT_TRUE(snap.active);
  ASSERT_EQ(snap.frontends.size(), 1u);
  EXPECT_EQ(snap.frontends[0].http_req.size(), 2u);
  EXPECT_EQ(snap.frontends[0].log_exprs.size(), 1u);
  EXPECT_EQ(snap.frontends[0].http_req[0].line, 13u);
}

TEST(RulesCompile, ForcedIdsAreSharedAndSkipped) {
  const Out o = CompileText(
      "frontend fe\n    bind 10.0.0.1:80\n"
      "    acl a path_beg -u 1 /x\n"
      "    acl b path_beg -u 1 /y\n"  // the same id: the same list
      "    acl c path_beg /z\n"       // the lowest id not taken: 0
      "    acl d path_beg /w\n"       // then 2
      "    acl e path_end -u 1 .x\n"  // another method cannot share it
      "    default_backend be\nbackend be\n    server s 10.0.0.2:80\n");
  int line = 0;
  EXPECT_NE(OnlyAlert(o, &line).find("already used"), std::string::npos);
  EXPECT_EQ(line, 15);
  PatternStore& st = *o.rules.store;
  PatRef* one = st.Lookup("#1", false);
  ASSERT_NE(one, nullptr);
  EXPECT_EQ(one->entries.size(), 2u);
  EXPECT_EQ(st.Lookup("#0", false)->entries.front()->pattern, "/z");
  EXPECT_EQ(st.Lookup("#2", false)->entries.front()->pattern, "/w");
}

TEST(RulesCompile, RefusedWithFileAndLine) {
  const std::string tail = "    default_backend be\nbackend be\n    server s 10.0.0.2:80\n";
  struct Case {
    const char* rule;
    const char* want;  // a part of the alert
  } cases[] = {
      {"http-request set-header Content-Length 1", "framing and connection fields"},
      {"http-request del-header transfer-encoding", "framing and connection fields"},
      {"http-request deny deny_status 418", "is not supported by sluice"},
      {"http-request deny if nosuch", "no such ACL : 'nosuch'"},
      {"http-request set-header X %[nosuch]", "unknown fetch method 'nosuch'"},
      // haproxy 2.6.12 has req.fhdr and res.fhdr, no bare fhdr.
      {"http-request set-header X %[fhdr(host)]", "unknown fetch method 'fhdr'"},
      {"http-request set-header X %[fhdr_cnt(host)]", "unknown fetch method 'fhdr_cnt'"},
      // str() is an empty string; str alone misses its argument (haproxy 2.6.12 alike).
      {"http-request set-header X %[str]", "fetch method 'str' : missing arguments (got 0/1)"},
      {"http-request set-header X %[src,nosuch]", "unknown converter 'nosuch'"},
      {"acl a src -z", "is not a valid ACL option"},
      {"acl a hdr_val(x) 20:10", "'20:10' is not a valid number range."},
      {"acl a src not-an-ip", "'not-an-ip' is not a valid IPv4 or IPv6 address."},
      {"http-request frobnicate", "is not supported by sluice"},
      {"use_backend nosuch", "unable to find required use_backend: 'nosuch'."},
      // Captures (texts of HAProxy 2.6 where it has them).
      {"http-request capture req.hdr(a)", "expects <expression> [ 'len' <length> | id <idx> ]"},
      {"http-response capture res.hdr(a) len 4", "expects 'id', found 'len'"},
      {"http-request capture req.hdr(a) id 5",
       "Proxy 'fe': unable to find capture id '5' referenced by http-request capture rule."},
      {"http-response capture res.hdr(a) id 0",
       "Proxy 'fe': unable to find capture id '0' referenced by http-response capture rule."},
      {"capture request header Host len 1025", "1024 bytes of captures in all per frontend"},
      // Stick tables (HAProxy 2.6's texts; fe has no table).
      {"http-request track-sc0 src",
       "Proxy 'fe': unable to find table 'fe' referenced by track-sc0"},
      {"http-request track-sc1 src table nosuch",
       "Proxy 'fe': unable to find table 'nosuch' referenced by track-sc1"},
      {"http-request track-sc0 src table", "missing table name"},
      {"http-request deny if { src_http_req_rate gt 1 }", "no table to look the client up in"},
      {"http-request deny if { sc_http_req_rate gt 1 }", "expects a stick counter number"},
      {"tcp-request connection track-sc0 req.hdr(host) table be",
       "needs an HTTP proxy"},
      {"http-request set-header X %[src,table_http_req_cnt(nosuch)]",
       "unable to find table 'nosuch' referenced in arg 1 of conversion keyword "
       "'table_http_req_cnt'"},
      {"http-request set-header X %[src,table_gpt0]",  // fe has no table of its own
       "referenced in arg 1 of conversion keyword 'table_gpt0'"},
      {"http-request set-header X %[src,in_table(be,1)]",
       "invalid arg 2 in converter 'in_table' : expected ')'"},
      {"http-request set-header X %[src,table_get_gpt0(be)]", "unknown converter"},
  };
  for (const Case& c : cases) {
    const Out o =
        CompileText("frontend fe\n    bind 10.0.0.1:80\n    " + std::string(c.rule) + "\n" + tail);
    int line = 0;
    const std::string msg = OnlyAlert(o, &line);
    EXPECT_NE(msg.find(c.want), std::string::npos) << c.rule << ": " << msg;
    EXPECT_EQ(line, 11) << c.rule;
  }
}

// Capture slots: request and response ids counted apart, from 0, in declaration order
// (`capture ... header`, `declare capture`, `http-request capture ... len`), each with its
// place in the stream's capture block.
// `str()` is the empty string, as haproxy 2.6.12 reads it.
TEST(RulesCompile, EmptyParenthesesGiveAnEmptyString) {
  const Out o = CompileText(
      "frontend fe\n    bind 10.0.0.1:80\n    http-request set-header X1 \"%[str()]\"\n"
      "    http-request set-var(txn.a) str()\n"
      "    default_backend be\nbackend be\n    server s 10.0.0.2:80\n");
  for (const auto& d : o.diags) {
    EXPECT_NE(d.severity, config::Diagnostic::Severity::kAlert) << d.message;
  }
}

TEST(RulesCompile, CaptureSlotsInDeclarationOrder) {
  const Out o = CompileText(
      "frontend fe\n    bind 10.0.0.1:80\n"
      "    capture request header Host len 8\n"
      "    capture request header User-Agent len 5\n"
      "    capture response header Server len 4\n"
      "    http-request capture req.hdr(x-foo) len 3\n"
      "    declare capture response len 6\n"
      "    http-response capture res.hdr(x-bar) id 1\n"
      "    http-request capture req.hdr(x-bar) id 0 if { path /x }\n"
      "    default_backend be\n"
      "backend be\n    server s 10.0.0.2:80\n");
  for (const auto& d : o.diags) ADD_FAILURE() << d.message;
  const rules::ProxyRules& fe = o.rules.snap->frontends.at(0);
  ASSERT_EQ(fe.req_caps.size(), 3u);
  ASSERT_EQ(fe.res_caps.size(), 2u);
  EXPECT_EQ(fe.req_caps[0].header, "Host");
  EXPECT_EQ(fe.req_caps[1].header, "User-Agent");
  EXPECT_EQ(fe.req_caps[2].header, "");
  EXPECT_EQ(fe.res_caps[0].header, "Server");
  EXPECT_EQ(fe.res_caps[1].header, "");
  EXPECT_EQ(fe.req_caps[2].len, 3);
  EXPECT_EQ(fe.res_caps[1].len, 6);
  // Offsets in file order across both directions: 0, 8, 13 (Server), 17, 20.
  EXPECT_EQ(fe.req_caps[0].off, 0);
  EXPECT_EQ(fe.req_caps[1].off, 8);
  EXPECT_EQ(fe.res_caps[0].off, 13);
  EXPECT_EQ(fe.req_caps[2].off, 17);
  EXPECT_EQ(fe.res_caps[1].off, 20);
  ASSERT_EQ(fe.http_req.size(), 2u);
  EXPECT_EQ(fe.http_req[0].act, rules::Act::kCapture);
  EXPECT_EQ(fe.http_req[0].var, 2u);
  EXPECT_EQ(fe.http_req[1].var, 0u);
  ASSERT_EQ(fe.http_res.size(), 1u);
  EXPECT_EQ(fe.http_res[0].var, 1u);
  EXPECT_TRUE(o.rules.snap->active);
}

// capture cookie NAME len N: the last line applies; a length over 63 is cut to 63 with
// HAProxy 2.6.12's warning; malformed lines get its alert; a backend's is ignored with a
// warning.
TEST(RulesCompile, CaptureCookie) {
  const Out o = CompileText(
      "frontend fe\n    bind 10.0.0.1:80\n"
      "    capture cookie SESS len 10\n"
      "    capture cookie OTHER len 100\n"
      "    default_backend be\n"
      "backend be\n    server s 10.0.0.2:80\n");
  ASSERT_EQ(o.diags.size(), 1u);
  EXPECT_EQ(o.diags[0].severity, config::Diagnostic::Severity::kWarning);
  EXPECT_EQ(o.diags[0].message, "truncating capture length to 63 bytes for frontend 'fe'.");
  const rules::ProxyRules& fe = o.rules.snap->frontends.at(0);
  EXPECT_EQ(fe.cookie_name, "OTHER");
  EXPECT_EQ(fe.cookie_len, 63);
  EXPECT_TRUE(o.rules.snap->active);
  // The parser's alerts and warning (config::ParseText).
  for (const char* bad : {"capture cookie X len", "capture cookie len 10", "capture cookie"}) {
    const config::ParseOutcome b = config::ParseText(
        std::string(kHead) + "frontend fe\n    bind 10.0.0.1:80\n    " + std::string(bad) +
            "\n    default_backend be\nbackend be\n    server s 10.0.0.2:80\n",
        "t.cfg");
    ASSERT_EQ(b.diagnostics.size(), 1u) << bad;
    EXPECT_EQ(b.diagnostics[0].severity, config::Diagnostic::Severity::kAlert);
    EXPECT_EQ(b.diagnostics[0].message, "'capture' expects 'cookie' <cookie_name> 'len' <len>.")
        << bad;
  }
  const config::ParseOutcome be = config::ParseText(
      std::string(kHead) + "frontend fe\n    bind 10.0.0.1:80\n    default_backend be\n"
              "backend be\n    capture cookie SESS len 10\n    server s 10.0.0.2:80\n",
      "t.cfg");
  ASSERT_EQ(be.diagnostics.size(), 1u);
  EXPECT_EQ(be.diagnostics[0].severity, config::Diagnostic::Severity::kWarning);
  EXPECT_EQ(be.diagnostics[0].message,
            "'capture' ignored because backend 'be' has no frontend capability.");
}

// Stick tables: the layout the workers use, track-sc and sc_* fetches compiled.
TEST(RulesCompile, StickTablesAndTracking) {
  const Out o = CompileText(
      "frontend fe\n    bind 10.0.0.1:80\n"
      "    stick-table type ip size 1m expire 15m store http_req_rate(10s),gpt0\n"
      "    http-request track-sc0 src\n"
      "    http-request deny deny_status 429 if { sc_http_req_rate(0) gt 20 }\n"
      "    http-request sc-set-gpt0(0) 1 if { path /block }\n"
      "    tcp-request connection track-sc1 src table be\n"
      "    default_backend be\n"
      "backend be\n    stick-table type string len 16 size 10 store gpc0,conn_cur\n"
      "    server s 10.0.0.2:80\n");
  for (const auto& d : o.diags) ADD_FAILURE() << d.message;
  ASSERT_EQ(o.rules.stick->tables.size(), 2u);
  const stick::TableDef& fe = o.rules.stick->tables[0];
  EXPECT_EQ(fe.name, "fe");
  EXPECT_EQ(fe.size, 1048576u);
  EXPECT_EQ(fe.expire_ms, 900000u);
  // HAProxy's data order: gpt0 before http_req_rate whatever `store` says.
  EXPECT_EQ(fe.off[static_cast<size_t>(stick::Data::kGpt0)], 0);
  EXPECT_EQ(fe.off[static_cast<size_t>(stick::Data::kHttpReqRate)], 4);
  EXPECT_EQ(fe.period[static_cast<size_t>(stick::Data::kHttpReqRate)], 10000u);
  EXPECT_FALSE(fe.Stores(stick::Data::kConnCur));
  const stick::TableDef& be = o.rules.stick->tables[1];
  EXPECT_EQ(be.type, stick::KeyType::kString);
  EXPECT_EQ(be.key_len, 16u);
  const rules::ProxyRules& r = o.rules.snap->frontends.at(0);
  ASSERT_EQ(r.http_req.size(), 3u);
  EXPECT_EQ(r.http_req[0].act, rules::Act::kTrackSc);
  EXPECT_EQ(r.http_req[0].var, 0u);  // fe's table
  EXPECT_EQ(r.http_req[2].act, rules::Act::kScSetGpt0);
  ASSERT_EQ(r.tcp_conn.size(), 1u);
  EXPECT_EQ(r.tcp_conn[0].status, 1u);  // sc1
  EXPECT_EQ(r.tcp_conn[0].var, 1u);     // be's table
}

// Sticking rules (a backend's): where each kind goes, the table each names, the server's id
// and name added to the tables they store into (HAProxy adds both), and HAProxy 2.6.12's
// alerts (`haproxy -c` on the same lines).
TEST(RulesCompile, StickingRules) {
  const Out o = CompileText(
      "frontend fe\n    bind 10.0.0.1:80\n    default_backend be\n"
      "backend be\n    stick-table type ip size 1m expire 30m store http_req_rate(10s)\n"
      "    stick match src table other\n"
      "    stick on src if { path /a }\n"
      "    stick store-request req.hdr(x-user) table other\n"
      "    stick store-response res.hdr(x-srv) table other\n"
      "    force-persist if { path /f }\n    ignore-persist unless { path /f }\n"
      "    server s 10.0.0.2:80\n"
      "backend other\n    stick-table type string len 32 size 10k\n"
      "backend looked\n    stick-table type ip size 10\n"
      "    server t 10.0.0.2:80\n");
  for (const auto& d : o.diags) ADD_FAILURE() << d.message;
  const rules::ProxyRules& be = o.rules.snap->backends.at(0);
  ASSERT_EQ(be.persist.size(), 2u);
  EXPECT_TRUE(be.persist[0].force);
  EXPECT_FALSE(be.persist[1].force);
  ASSERT_EQ(be.stick_req.size(), 3u);
  ASSERT_EQ(be.stick_res.size(), 1u);
  EXPECT_EQ(be.stick_req[0].kind, rules::StickRuleKind::kMatch);
  EXPECT_EQ(be.stick_req[0].table, 1u);
  EXPECT_EQ(be.stick_req[1].kind, rules::StickRuleKind::kOn);
  EXPECT_EQ(be.stick_req[1].table, 0u);
  EXPECT_TRUE(be.stick_req[1].cond.present);
  EXPECT_EQ(be.stick_req[2].kind, rules::StickRuleKind::kStoreRequest);
  EXPECT_EQ(be.stick_res[0].kind, rules::StickRuleKind::kStoreResponse);
  EXPECT_TRUE(o.rules.snap->active);
  // server_id first, server_key after the other data (HAProxy's type order).
  const stick::TableDef& t = o.rules.stick->tables[0];
  EXPECT_EQ(t.off[static_cast<size_t>(stick::Data::kServerId)], 0);
  EXPECT_EQ(t.off[static_cast<size_t>(stick::Data::kHttpReqRate)], 4);
  EXPECT_GT(t.off[static_cast<size_t>(stick::Data::kServerKey)], 4);
  EXPECT_TRUE(o.rules.stick->tables[1].Stores(stick::Data::kServerKey));
  // A table only matched against, or used by none, gets neither.
  EXPECT_FALSE(o.rules.stick->tables[2].Stores(stick::Data::kServerId));
  EXPECT_FALSE(o.rules.stick->tables[2].Stores(stick::Data::kServerKey));

  struct Case {
    const char* rule;
    const char* want;
  } cases[] = {
      {"stick", "'stick' expects 'on', 'match', or 'store'."},
      {"stick foo src", "'stick' expects 'on', 'match', or 'store'."},
      {"stick on", "'stick' expects a fetch method."},
      {"stick store-request", "'stick' expects a fetch method."},
      {"stick on src junk", "'stick': unknown keyword 'junk'."},
      {"stick on nosuchfetch", "'stick': unknown fetch method 'nosuchfetch'"},
      {"stick on src table nosuch", "Proxy 'be': unable to find stick-table 'nosuch'."},
      {"stick on res.hdr(x)",
       "'stick': fetch method 'res.hdr' extracts information from 'HTTP response headers', "
       "none of which is available during request."},
      {"stick store-response req.hdr(x)",
       "'stick': fetch method 'req.hdr' extracts information from 'HTTP request headers', "
       "none of which is available for 'store-response'."},
      {"force-persist",
       "'force-persist' requires either 'if' or 'unless' followed by a condition."},
      {"ignore-persist foo",
       "'ignore-persist' requires either 'if' or 'unless' followed by a condition."},
      {"force-persist if TRUE junk",
       "error detected while parsing a 'force-persist' rule : no such ACL : 'junk'."},
  };
  for (const Case& c : cases) {
    const Out e = CompileText(
        "frontend fe\n    bind 10.0.0.1:80\n    default_backend be\n"
        "backend be\n    stick-table type ip size 1m\n    " + std::string(c.rule) +
        "\n    server s 10.0.0.2:80\n");
    int line = 0;
    EXPECT_EQ(OnlyAlert(e, &line), c.want) << c.rule;
    EXPECT_EQ(line, 14) << c.rule;
  }
  // A backend with no table of its own, none named (HAProxy names the backend).
  const Out none = CompileText(
      "frontend fe\n    bind 10.0.0.1:80\n    default_backend be\n"
      "backend be\n    stick on src\n    server s 10.0.0.2:80\n");
  int line = 0;
  EXPECT_EQ(OnlyAlert(none, &line), "Proxy 'be': unable to find stick-table 'be'.");
}

// gpt(N) / gpc(N) actions and fetches: HAProxy 2.6.12's texts for bad ones (its `-c` on the
// same lines), and what the good ones compile to.
TEST(RulesCompile, ArrayActionsAndFetches) {
  auto compile = [](const std::string& rule) {
    return CompileText("frontend fe\n    bind 10.0.0.1:80\n"
                       "    stick-table type ip size 1k store gpc(3),gpt(2),gpc_rate(2,10s)\n"
                       "    http-request track-sc0 src\n    " + rule +
                       "\n    default_backend be\nbackend be\n    server s 10.0.0.2:80\n");
  };
  struct Case {
    const char* rule;
    const char* want;
  } bad[] = {
      {"http-request sc-inc-gpc(1)",
       "Missing gpc ID 'sc-inc-gpc(1)'. Expects sc-inc-gpc(<GPC ID>,<Track ID>)."},
      {"http-request sc-inc-gpc",
       "invalid gpc ID 'sc-inc-gpc'. Expects sc-inc-gpc(<GPC ID>,<Track ID>)."},
      {"http-request sc-inc-gpc(1,3)",
       "invalid stick table track ID 'sc-inc-gpc(1,3)'. The max allowed ID is 2."},
      {"http-request sc-inc-gpc(1,0,1)",
       "invalid stick table track ID 'sc-inc-gpc(1,0,1)'. Expects sc-inc-gpc(<GPC ID>,<Track "
       "ID>)."},
      {"http-request sc-inc-gpc(a,0)",
       "Missing gpc ID 'sc-inc-gpc(a,0)'. Expects sc-inc-gpc(<GPC ID>,<Track ID>)."},
      {"http-request sc-set-gpt(1) 7",
       "Missing gpt ID 'sc-set-gpt(1)'. Expects sc-set-gpt(<GPT ID>,<Track ID>)."},
      {"http-request return lf-string %[sc_get_gpc(1)]",
       "fetch method 'sc_get_gpc' : missing arguments (got 1/2), type 'integer' expected."},
      {"http-request return lf-string %[src_get_gpc(1)]",
       "fetch method 'src_get_gpc' : missing arguments (got 1/2), type 'table' expected."},
      {"http-request return lf-string %[sc0_get_gpc(1)]", "unknown fetch method 'sc0_get_gpc'"},
      {"http-request return lf-string %[src,table_gpt(fe)]",
       "invalid arg 1 in converter 'table_gpt' : failed to parse 'fe' as type 'integer' at "
       "position 1"},
  };
  for (const Case& c : bad) {
    const Out e = compile(c.rule);
    int line = 0;
    const std::string got = OnlyAlert(e, &line);
    EXPECT_NE(got.find(c.want), std::string::npos) << c.rule << ": " << got;
  }
  // Indexes past the arrays (5, 100, 101) and no value are taken, as HAProxy takes them.
  const Out o = compile(
      "http-request sc-inc-gpc(101,0)\n    http-request sc-set-gpt(1,0)\n"
      "    http-request sc-set-gpt(5,2) req.hdr(x)\n    http-request sc-set-gpt0(0)\n"
      "    http-request set-var(txn.a) sc_get_gpc(100,1,fe)\n"
      "    http-request set-var(txn.b) src,table_gpc_rate(1)");
  for (const auto& d : o.diags) ADD_FAILURE() << d.message;
  const auto& rules = o.rules.snap->frontends.at(0).http_req;
  ASSERT_EQ(rules.size(), 7u);
  EXPECT_EQ(rules[1].act, rules::Act::kScIncGpc);
  EXPECT_EQ(rules[1].expr.stick.data, static_cast<uint8_t>(stick::Data::kGpc));
  EXPECT_EQ(rules[1].expr.stick.elem, 101);
  EXPECT_EQ(rules[2].act, rules::Act::kScSetGpt0);
  EXPECT_EQ(rules[2].var, 2u);  // element 1
  EXPECT_EQ(rules[3].var, 6u);
  EXPECT_EQ(rules[3].status, 2);
  EXPECT_EQ(rules[4].var, 0u);  // gpt0
  const stick::TableDef& t = o.rules.stick->tables[0];
  EXPECT_EQ(t.Elems(stick::Data::kGpc), 3u);
  EXPECT_EQ(t.Elems(stick::Data::kGpt), 2u);
  EXPECT_EQ(t.Elems(stick::Data::kGpcRate), 2u);
  EXPECT_EQ(t.period[static_cast<size_t>(stick::Data::kGpcRate)], 10000u);
  EXPECT_EQ(t.ArrayTail(), 4u);
  // gpc0 and gpc1 fall back to the array's elements; gpt1 does not exist as a legacy type.
  EXPECT_EQ(stick::Resolve(t, stick::Data::kGpc1, 0).d, stick::Data::kGpc);
  EXPECT_EQ(stick::Resolve(t, stick::Data::kGpc1, 0).elem, 1);
  EXPECT_TRUE(stick::Resolve(t, stick::Data::kGpc1Rate, 0).ok);
  EXPECT_FALSE(stick::Resolve(t, stick::Data::kGpc, 3).ok);
}

// hdr() follows the direction it is evaluated in: an http-response rule's (and a stick
// store-response's) reads the response, as haproxy 2.6.12 does; a request rule's the request.
TEST(RulesCompile, HdrOnResponses) {
  const Out o = CompileText(
      "frontend fe\n    bind 10.0.0.1:80\n    default_backend be\n"
      "    http-request set-var(txn.a) hdr(x-a)\n"
      "    http-response set-var(txn.b) hdr(x-a)\n"
      "backend be\n    stick-table type string len 32 size 10\n"
      "    stick store-response hdr(x-srv)\n    server s 10.0.0.2:80\n");
  for (const auto& d : o.diags) ADD_FAILURE() << d.message;
  EXPECT_EQ(o.rules.snap->frontends.at(0).http_req.at(0).expr.fetch, rules::Fetch::kHdr);
  EXPECT_EQ(o.rules.snap->frontends.at(0).http_res.at(0).expr.fetch, rules::Fetch::kResHdr);
  EXPECT_EQ(o.rules.snap->backends.at(0).stick_res.at(0).expr.fetch, rules::Fetch::kResHdr);
}

TEST(RulesCompile, UseBackendModesMustAgree) {
  const Out o = CompileText(
      "frontend fe\n    bind 10.0.0.1:80\n    use_backend bt if TRUE\n    default_backend bh\n"
      "backend bh\n    server s 10.0.0.2:1\n"
      "backend bt\n    mode tcp\n    server s 10.0.0.2:1\n");
  int line = 0;
  const std::string msg = OnlyAlert(o, &line);
  EXPECT_EQ(msg,
            "http frontend 'fe' (t.cfg:9) tries to use incompatible tcp backend 'bt' (t.cfg:15) "
            "in a 'use_backend' rule (see 'mode').");
  EXPECT_EQ(line, 11);
}

// The statistics page's part (rules::StatsService): its URI, `stats http-request` rules
// then the check `stats auth` makes (an auth rule unless the credentials are one of its
// accounts), `stats admin`'s condition; ignored with HAProxy's warning outside HTTP mode;
// `http-request use-service prometheus-exporter`.
TEST(RulesCompile, StatsPageAndUseService) {
  const Out o = CompileText(
      "frontend fe\n    bind 10.0.0.1:80\n    stats uri /st\n    stats auth u:p\n"
      "    stats realm R\n    stats http-request allow if { src 10.0.0.0/8 }\n"
      "    stats admin if { src 10.0.0.2 }\n"
      "    http-request use-service prometheus-exporter if { path /metrics }\n"
      "    default_backend be\n"
      "backend be\n    stats enable\n    server s 10.0.0.2:80\n"
      "listen tcp\n    mode tcp\n    bind 10.0.0.1:81\n    stats enable\n"
      "    server s 10.0.0.2:80\n");
  const rules::RulesSnap& snap = *o.rules.snap;
  EXPECT_TRUE(snap.active);
  const rules::StatsService& fe = snap.frontends[0].stats;
  EXPECT_TRUE(fe.on);
  EXPECT_EQ(fe.uri, "/st");
  EXPECT_TRUE(fe.admin_set);
  ASSERT_EQ(fe.rules.size(), 2u);
  EXPECT_EQ(fe.rules[0].act, rules::Act::kAllow);
  EXPECT_EQ(fe.rules[1].act, rules::Act::kAuth);
  EXPECT_EQ(fe.rules[1].name, "R");
  EXPECT_TRUE(fe.rules[1].cond.unless);
  ASSERT_FALSE(snap.userlists.empty());
  const rules::Userlist& list = snap.userlists.back();
  EXPECT_EQ(list.name, "<stats:fe>");
  ASSERT_EQ(list.users.size(), 1u);
  EXPECT_EQ(list.users[0].name, "u");
  EXPECT_TRUE(list.users[0].insecure);
  ASSERT_EQ(snap.frontends[0].http_req.size(), 1u);
  EXPECT_EQ(snap.frontends[0].http_req[0].act, rules::Act::kUseService);
  const rules::StatsService& be = snap.backends[0].stats;
  EXPECT_TRUE(be.on);
  EXPECT_EQ(be.uri, "/haproxy?stats");
  EXPECT_TRUE(be.rules.empty());
  // The TCP listen's page is ignored, with HAProxy's warning.
  EXPECT_FALSE(snap.frontends[1].stats.on);
  int warnings = 0;
  for (const auto& d : o.diags) {
    if (d.severity != config::Diagnostic::Severity::kWarning) continue;
    ++warnings;
    EXPECT_EQ(d.message, "'stats' statement ignored for listen 'tcp' as it requires HTTP mode.");
  }
  EXPECT_EQ(warnings, 1);

  const std::string tail = "    default_backend be\nbackend be\n    server s 10.0.0.2:80\n";
  for (const auto& [rule, want] : std::vector<std::pair<std::string, std::string>>{
           {"stats http-request redirect location /", "expects 'allow', 'deny' or 'auth'"},
           {"stats admin if nosuch", "no such ACL : 'nosuch'"},
           {"http-request use-service lua.x", "unknown service 'lua.x'"},
           {"http-request use-service prometheus-exporter extra", "found 'extra'"}}) {
    const Out bad = CompileText("frontend fe\n    bind 10.0.0.1:80\n    " + rule + "\n" + tail);
    int line = 0;
    EXPECT_NE(OnlyAlert(bad, &line).find(want), std::string::npos) << rule;
    EXPECT_EQ(line, 11) << rule;
  }
}

}  // namespace
}  // namespace sluice::rulescp
