// Tests for the proxy sections of controlplane/config: frontend, backend and listen (mode
// tcp), their defaults inheritance, server and bind lines, and every alert and warning,
// each checked for its file, line and keyword.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "controlplane/config/config.h"
#include "dataplane/net/addr_text.h"

namespace sluice::config {
namespace {

using Severity = Diagnostic::Severity;
using Kind = ProxyConfig::Kind;
using W = std::vector<std::string>;

// A dataplane section with an IPv4 and an IPv6 address (lines 1-4) and a defaults section
// with the three timeouts haproxy wants (lines 5-8). Tests append sections from line 9.
constexpr char kBase[] =
    "dataplane\n"
    "    port p0 net_tap0,iface=sl0\n"
    "    address p0 10.0.0.1/24\n"
    "    address p0 fd00::1/64\n"
    "defaults\n"
    "    timeout client 30s\n"
    "    timeout connect 5s\n"
    "    timeout server 30s\n";

// A frontend (lines 9-11) and its backend (12-13), complete and quiet.
constexpr char kPair[] =
    "frontend fe\n"
    "    bind 10.0.0.1:80\n"
    "    default_backend be\n"
    "backend be\n"
    "    server s1 10.0.0.2:80\n";

ParseOutcome Parse(const std::string& text) { return ParseText(kBase + text, "t.cfg"); }

std::vector<Diagnostic> OfSeverity(const ParseOutcome& o, Severity s) {
  std::vector<Diagnostic> out;
  for (const Diagnostic& d : o.diagnostics) {
    if (d.severity == s) out.push_back(d);
  }
  return out;
}

std::vector<Diagnostic> Warnings(const ParseOutcome& o) {
  return OfSeverity(o, Severity::kWarning);
}

std::string Dump(const ParseOutcome& o) {
  std::string s;
  for (const Diagnostic& d : o.diagnostics) s += FormatDiagnostic(d, 1) + "\n";
  return s;
}

// Parses kBase + `text` and expects no diagnostic at all.
ParseOutcome Clean(const std::string& text) {
  ParseOutcome o = Parse(text);
  EXPECT_TRUE(o.diagnostics.empty()) << text << "\n" << Dump(o);
  return o;
}

void ExpectDiagnostic(const Diagnostic& d, int line, const std::string& keyword,
                      const std::string& message) {
  EXPECT_EQ(d.file, "t.cfg");
  EXPECT_EQ(d.line, line);
  EXPECT_EQ(d.keyword, keyword);
  EXPECT_EQ(d.message, message);
  const std::string formatted = FormatDiagnostic(d, 42);
  EXPECT_NE(formatted.find("parsing [t.cfg:" + std::to_string(line) + "] : " + message),
            std::string::npos)
      << formatted;
}

// Exactly one diagnostic of `severity` (and no alert of the other kind when it is a
// warning), at `line`, about `keyword`, with exactly `message`.
void ExpectOne(Severity severity, const std::string& text, int line, const std::string& keyword,
               const std::string& message) {
  SCOPED_TRACE(text);
  const ParseOutcome o = Parse(text);
  const auto found = OfSeverity(o, severity);
  ASSERT_EQ(found.size(), 1u) << Dump(o);
  if (severity == Severity::kWarning) {
    EXPECT_FALSE(o.HasErrors()) << Dump(o);
  }
  ExpectDiagnostic(found[0], line, keyword, message);
}

void ExpectAlert(const std::string& text, int line, const std::string& keyword,
                 const std::string& message) {
  ExpectOne(Severity::kAlert, text, line, keyword, message);
}

void ExpectWarning(const std::string& text, int line, const std::string& keyword,
                   const std::string& message) {
  ExpectOne(Severity::kWarning, text, line, keyword, message);
}

// One line in a backend that is otherwise complete: "backend be" at 9, the line at 10.
void ExpectBackendAlert(const std::string& line_text, const std::string& keyword,
                        const std::string& message, int line = 10) {
  ExpectAlert("backend be\n    " + line_text + "\n    server s0 10.0.0.9:80\n", line, keyword,
              message);
}

// kPair with `line_text` added to the frontend, at line 12 (the backend moves to 13-14).
std::string WithFrontendLine(const std::string& line_text) {
  return "frontend fe\n    bind 10.0.0.1:80\n    default_backend be\n    " + line_text +
         "\nbackend be\n    server s1 10.0.0.2:80\n";
}

std::string Ip(const net::IpAddr& a) { return net::ToString(a); }

// ---------------------------------------------------------------------------------------
// The model

// The codes the first `http-check expect` rule passes (none without a rule).
std::vector<unsigned> Codes(const ProxyConfig& p) {
  return p.http_expects.empty() ? std::vector<unsigned>{} : p.http_expects[0].codes;
}

TEST(ConfigProxy, FrontendBackendAndListen) {
  const ParseOutcome o = Clean(
      "frontend fe\n"                           // 9
      "    bind 10.0.0.1:80,[fd00::1]:80\n"     // 10
      "    bind :8080\n"                        // 11
      "    maxconn 100\n"                       // 12
      "    default_backend be\n"                // 13
      "    option tcplog\n"                     // 14
      "    log global\n"                        // 15
      "    log-format \"%ci:%cp %b/%s\"\n"      // 16
      "    description the front door\n"        // 17
      "backend be\n"                            // 18
      "    balance leastconn\n"                 // 19
      "    server a 10.0.0.2:9000\n"            // 20
      "    server b [fd00::2]:9001 weight 5\n"  // 21
      "listen li\n"                             // 22
      "    bind *:7000\n"                       // 23
      "    server c 10.0.0.3:7000\n");          // 24
  const auto& px = o.config.proxies;
  ASSERT_EQ(px.size(), 3u);

  const ProxyConfig& fe = px[0];
  EXPECT_EQ(fe.kind, Kind::kFrontend);
  EXPECT_TRUE(fe.HasFrontend());
  EXPECT_FALSE(fe.HasBackend());
  EXPECT_EQ(fe.name, "fe");
  EXPECT_EQ(fe.id, 1u);
  EXPECT_EQ(fe.file, "t.cfg");
  EXPECT_EQ(fe.line, 9);
  ASSERT_EQ(fe.binds.size(), 3u);
  EXPECT_EQ(Ip(fe.binds[0].addr), "10.0.0.1");
  EXPECT_FALSE(fe.binds[0].addr.is_v6);
  EXPECT_FALSE(fe.binds[0].any);
  EXPECT_EQ(fe.binds[0].port, 80);
  EXPECT_EQ(fe.binds[0].file, "t.cfg");
  EXPECT_EQ(fe.binds[0].line, 10);
  EXPECT_EQ(Ip(fe.binds[1].addr), "fd00::1");
  EXPECT_TRUE(fe.binds[1].addr.is_v6);
  EXPECT_EQ(fe.binds[1].line, 10);
  EXPECT_TRUE(fe.binds[2].any);
  EXPECT_FALSE(fe.binds[2].addr.is_v6);
  EXPECT_EQ(Ip(fe.binds[2].addr), "0.0.0.0");
  EXPECT_EQ(fe.binds[2].port, 8080);
  EXPECT_EQ(fe.binds[2].line, 11);
  EXPECT_EQ(fe.maxconn, 100u);
  EXPECT_EQ(fe.default_backend, "be");
  EXPECT_EQ(fe.default_backend_index, 1);
  EXPECT_TRUE(fe.tcplog);
  EXPECT_EQ(fe.logs, W{"global"});
  EXPECT_EQ(fe.log_format, "%ci:%cp %b/%s");
  EXPECT_EQ(fe.timeout_client_ms, 30000u);  // from defaults
  EXPECT_EQ(fe.timeout_connect_ms, 0u);     // a frontend takes no backend setting
  EXPECT_TRUE(fe.servers.empty());

  const ProxyConfig& be = px[1];
  EXPECT_EQ(be.kind, Kind::kBackend);
  EXPECT_FALSE(be.HasFrontend());
  EXPECT_TRUE(be.HasBackend());
  EXPECT_EQ(be.id, 2u);
  EXPECT_EQ(be.line, 18);
  EXPECT_EQ(be.default_backend_index, -1);
  EXPECT_EQ(be.balance, BalanceAlgo::kLeastConn);
  EXPECT_EQ(be.timeout_connect_ms, 5000u);
  EXPECT_EQ(be.timeout_server_ms, 30000u);
  EXPECT_EQ(be.timeout_client_ms, 0u);
  EXPECT_EQ(be.retries, 3u);
  ASSERT_EQ(be.servers.size(), 2u);
  const ServerConfig& a = be.servers[0];
  EXPECT_EQ(a.name, "a");
  EXPECT_EQ(a.id, 1u);
  EXPECT_EQ(Ip(a.addr), "10.0.0.2");
  EXPECT_EQ(a.port, 9000);
  EXPECT_EQ(a.weight, 1u);
  EXPECT_EQ(a.maxconn, 0u);
  EXPECT_FALSE(a.check);
  EXPECT_EQ(a.inter_ms, 2000u);
  EXPECT_EQ(a.fastinter_ms, 2000u);  // `inter`, resolved by the whole-configuration check
  EXPECT_EQ(a.downinter_ms, 2000u);
  EXPECT_EQ(a.rise, 2u);
  EXPECT_EQ(a.fall, 3u);
  EXPECT_FALSE(a.check_port.has_value());
  EXPECT_FALSE(a.check_addr.has_value());
  EXPECT_FALSE(a.disabled);
  EXPECT_FALSE(a.backup);
  EXPECT_EQ(a.file, "t.cfg");
  EXPECT_EQ(a.line, 20);
  const ServerConfig& b = be.servers[1];
  EXPECT_EQ(b.id, 2u);
  EXPECT_TRUE(b.addr.is_v6);
  EXPECT_EQ(Ip(b.addr), "fd00::2");
  EXPECT_EQ(b.port, 9001);
  EXPECT_EQ(b.weight, 5u);

  const ProxyConfig& li = px[2];
  EXPECT_EQ(li.kind, Kind::kListen);
  EXPECT_TRUE(li.HasFrontend());
  EXPECT_TRUE(li.HasBackend());
  EXPECT_EQ(li.id, 3u);
  EXPECT_EQ(li.default_backend_index, 2);  // itself
  EXPECT_EQ(li.timeout_client_ms, 30000u);
  EXPECT_EQ(li.timeout_server_ms, 30000u);
  ASSERT_EQ(li.binds.size(), 1u);
  EXPECT_TRUE(li.binds[0].any);
  EXPECT_EQ(li.binds[0].port, 7000);
  ASSERT_EQ(li.servers.size(), 1u);
  EXPECT_EQ(li.servers[0].id, 1u);
}

TEST(ConfigProxy, ProxySettingsDefaults) {
  const ProxyConfig p;
  EXPECT_EQ(p.balance, BalanceAlgo::kRoundRobin);
  EXPECT_EQ(p.retries, 3u);
  EXPECT_EQ(p.httpchk_method, "OPTIONS");
  EXPECT_EQ(p.httpchk_uri, "/");
  EXPECT_EQ(p.httpchk_version, "HTTP/1.0");
  EXPECT_FALSE(p.redispatch);
  EXPECT_FALSE(p.disabled);
  const ParseOutcome o = ParseText(
      "dataplane\n  port p0 net_tap0\n  address p0 10.0.0.1/24\n"
      "listen l\n  bind 10.0.0.1:1\n  server s 10.0.0.2:1\n",
      "t.cfg");
  ASSERT_EQ(o.config.proxies.size(), 1u);
  const ProxyConfig& l = o.config.proxies[0];  // no defaults section at all
  EXPECT_EQ(l.timeout_client_ms, 0u);
  EXPECT_EQ(l.retries, 3u);
  EXPECT_EQ(l.maxconn, 0u);
  EXPECT_FALSE(o.HasErrors()) << Dump(o);
  const auto w = Warnings(o);
  ASSERT_EQ(w.size(), 1u) << Dump(o);
  EXPECT_EQ(w[0].line, 4);
  EXPECT_EQ(w[0].keyword, "timeout");
  EXPECT_EQ(w[0].message,
            "missing timeouts for listen 'l': set 'timeout client', 'timeout connect' and "
            "'timeout server' here or in a 'defaults' section, or idle connections are never "
            "closed.");
}

// option clitcpka / srvtcpka / tcpka and their -idle/-intvl/-cnt: each side where the section
// has it, inherited from defaults, times in seconds unless a unit is given.
TEST(ConfigProxy, TcpKeepalives) {
  const ParseOutcome o = Clean(
      "defaults ka\n    timeout client 30s\n    timeout connect 5s\n    timeout server 30s\n"
      "    option tcpka\n    srvtcpka-idle 90\n"
      "frontend fe from ka\n    bind 10.0.0.1:80\n    default_backend be\n"
      "    clitcpka-idle 500ms\n    clitcpka-intvl 2\n    clitcpka-cnt 4\n"
      "backend be from ka\n    srvtcpka-cnt 3\n    server s1 10.0.0.2:80\n"
      "listen l\n    bind 10.0.0.1:81\n    option clitcpka\n    server s 10.0.0.3:80\n");
  ASSERT_EQ(o.config.proxies.size(), 3u);
  const ProxyConfig& fe = o.config.proxies[0];
  EXPECT_TRUE(fe.clitcpka.on);
  EXPECT_EQ(fe.clitcpka.idle_ms, 500u);
  EXPECT_EQ(fe.clitcpka.intvl_ms, 2000u);
  EXPECT_EQ(fe.clitcpka.cnt, 4u);
  const ProxyConfig& be = o.config.proxies[1];
  EXPECT_TRUE(be.srvtcpka.on);
  EXPECT_EQ(be.srvtcpka.idle_ms, 90'000u);
  EXPECT_EQ(be.srvtcpka.intvl_ms, 0u);  // Linux's default, filled in the snapshot
  EXPECT_EQ(be.srvtcpka.cnt, 3u);
  const ProxyConfig& l = o.config.proxies[2];  // from the last defaults section, as HAProxy
  EXPECT_TRUE(l.clitcpka.on);
  EXPECT_TRUE(l.srvtcpka.on);
  EXPECT_EQ(l.srvtcpka.idle_ms, 90'000u);
  const ParseOutcome off =
      Clean(kPair + std::string("    option srvtcpka\n    no option srvtcpka\n"));
  EXPECT_FALSE(off.config.proxies[1].srvtcpka.on);

  ExpectWarning(WithFrontendLine("srvtcpka-idle 10"), 12, "srvtcpka-idle",
                "'srvtcpka-idle' ignored because frontend 'fe' has no backend capability.");
  ExpectAlert(WithFrontendLine("clitcpka-idle 0"), 12, "clitcpka-idle",
              "'clitcpka-idle' expects a time such as 30 (seconds), 500ms or 2m, between 1ms "
              "and 32767s, got '0'.");
  ExpectAlert(WithFrontendLine("clitcpka-idle soon"), 12, "clitcpka-idle",
              "'clitcpka-idle' expects a time such as 30 (seconds), 500ms or 2m, between 1ms "
              "and 32767s, got 'soon'.");
  ExpectAlert(WithFrontendLine("option clitcpka now"), 12, "option",
              "'option clitcpka' takes no argument in sluice, got 'now'.");
}

TEST(ConfigProxy, ExampleFileLoadsClean) {
  namespace fs = std::filesystem;
  fs::path path =
      fs::path(__FILE__).parent_path().parent_path().parent_path() / "examples" / "proxy-tcp.cfg";
  std::error_code ec;
  for (fs::path dir = fs::current_path(ec); !fs::exists(path, ec) && !dir.empty();
       dir = dir.parent_path()) {
    path = dir / "examples" / "proxy-tcp.cfg";
    if (dir == dir.root_path()) break;
  }
  ASSERT_TRUE(fs::exists(path, ec)) << path;
  const ParseOutcome o = ParseFiles({path.string()});
  EXPECT_TRUE(o.diagnostics.empty()) << Dump(o);
  const auto& px = o.config.proxies;
  ASSERT_EQ(px.size(), 2u);
  EXPECT_EQ(px[0].name, "fe_main");
  ASSERT_EQ(px[0].binds.size(), 2u);
  EXPECT_EQ(Ip(px[0].binds[0].addr), "10.10.1.1");
  EXPECT_EQ(Ip(px[0].binds[1].addr), "fd10:1::1");
  EXPECT_EQ(px[0].binds[1].port, 8080);
  EXPECT_EQ(px[0].default_backend_index, 1);
  EXPECT_EQ(px[0].timeout_client_ms, 30000u);
  EXPECT_EQ(px[1].name, "be_app");
  EXPECT_EQ(px[1].balance, BalanceAlgo::kRoundRobin);
  EXPECT_EQ(px[1].timeout_connect_ms, 2000u);
  EXPECT_EQ(px[1].timeout_server_ms, 30000u);
  ASSERT_EQ(px[1].servers.size(), 3u);
  const unsigned weights[] = {3, 2, 1};
  for (size_t i = 0; i < 3; ++i) {
    const ServerConfig& s = px[1].servers[i];
    EXPECT_EQ(s.name, "s" + std::to_string(i + 1));
    EXPECT_EQ(Ip(s.addr), "10.10.2.1" + std::to_string(i + 1));
    EXPECT_EQ(s.port, 9000);
    EXPECT_EQ(s.weight, weights[i]);
    EXPECT_TRUE(s.check);
    EXPECT_EQ(s.inter_ms, 1000u);
    EXPECT_EQ(s.rise, 2u);
    EXPECT_EQ(s.fall, 3u);
  }
}

// ---------------------------------------------------------------------------------------
// Section headers, names and ids

TEST(ConfigProxyHeader, Errors) {
  ExpectAlert("frontend\n    bind :80\n", 9, "frontend", "'frontend' expects a name.");
  ExpectAlert("backend\n", 9, "backend", "'backend' expects a name.");
  ExpectAlert("listen\n    foo \"unterminated\n", 9, "listen", "'listen' expects a name.");
  ExpectAlert(std::string(kPair) + "listen l 10.0.0.1:81\n    server s 10.0.0.2:1\n", 14, "listen",
              "'listen' expects NAME [from DEFAULTS], got extra argument '10.0.0.1:81' "
              "(listening addresses go on 'bind' lines).");
  ExpectAlert("backend b/x\n    server s 10.0.0.2:1\n", 9, "backend",
              "character '/' is not permitted in backend name 'b/x'.");
  ExpectAlert(
      "backend b from nowhere\n    server s 10.0.0.2:1\n    timeout connect 1s\n"
      "    timeout server 1s\n",
      9, "backend", "'backend' 'b' : defaults section 'nowhere' not found.");
}

TEST(ConfigProxyHeader, FromNamedDefaults) {
  const ParseOutcome o = Clean(
      "defaults slow\n"           // 9
      "    timeout connect 9s\n"  // 10
      "    timeout server 90s\n"  // 11
      "defaults fast\n"           // 12
      "    timeout connect 1s\n"  // 13
      "    timeout server 2s\n"   // 14
      "backend b1\n    server s 10.0.0.2:1\n"
      "backend b2 from slow\n    server s 10.0.0.2:1\n");
  ASSERT_EQ(o.config.proxies.size(), 2u);
  EXPECT_EQ(o.config.proxies[0].timeout_connect_ms, 1000u);  // the last defaults section
  EXPECT_EQ(o.config.proxies[1].timeout_connect_ms, 9000u);
  EXPECT_EQ(o.config.proxies[1].timeout_server_ms, 90000u);
}

TEST(ConfigProxyHeader, DuplicateNames) {
  // A frontend and a backend may share a name, as in haproxy.
  const ParseOutcome o = Clean(
      "frontend app\n    bind 10.0.0.1:80\n    default_backend app\n"
      "backend app\n    server s 10.0.0.2:80\n");
  EXPECT_EQ(o.config.proxies[0].default_backend_index, 1);
  ExpectAlert(std::string(kPair) + "frontend fe\n    bind 10.0.0.1:81\n    default_backend be\n",
              14, "frontend",
              "frontend 'fe' has the same name as frontend 'fe' declared at t.cfg:9.");
  ExpectAlert(std::string(kPair) + "backend be\n    server s 10.0.0.2:81\n", 14, "backend",
              "backend 'be' has the same name as backend 'be' declared at t.cfg:12.");
  ExpectAlert(std::string(kPair) + "listen be\n    bind 10.0.0.1:81\n    server s 10.0.0.2:81\n",
              14, "listen", "listen 'be' has the same name as backend 'be' declared at t.cfg:12.");
  ExpectAlert(
      "listen x\n    bind 10.0.0.1:81\n    server s 10.0.0.2:81\n"
      "frontend x\n    bind 10.0.0.1:82\n",
      12, "frontend", "frontend 'x' has the same name as listen 'x' declared at t.cfg:9.");
}

TEST(ConfigProxyHeader, Ids) {
  const ParseOutcome o = Clean(
      "backend a\n    server s1 10.0.0.2:1\n    server s2 10.0.0.2:2 id 1\n"
      "    server s3 10.0.0.2:3\n    server s4 10.0.0.2:4 id 7\n"
      "backend b\n    id 1\n    server s 10.0.0.2:1\n"
      "backend c\n    server s 10.0.0.2:1\n"
      "backend d\n    id 3\n    server s 10.0.0.2:1\n"
      "backend e\n    server s 10.0.0.2:1\n");
  const auto& px = o.config.proxies;
  ASSERT_EQ(px.size(), 5u);
  EXPECT_EQ(px[0].id, 2u);  // next free after b's 1
  EXPECT_EQ(px[1].id, 1u);
  EXPECT_EQ(px[2].id, 4u);  // 3 is d's
  EXPECT_EQ(px[3].id, 3u);
  EXPECT_EQ(px[4].id, 5u);
  const auto& s = px[0].servers;
  ASSERT_EQ(s.size(), 4u);
  // Servers: the first free id at or above each one's rank (Debian's haproxy 2.6.12 numbers
  // s3 4: s1 took 2, and s2 counts).
  EXPECT_EQ(s[0].id, 2u);
  EXPECT_EQ(s[1].id, 1u);
  EXPECT_EQ(s[2].id, 4u);
  EXPECT_EQ(s[3].id, 7u);
}

TEST(ConfigProxyHeader, IdErrors) {
  ExpectAlert(
      "backend a\n    id 4\n    server s 10.0.0.2:1\n"
      "backend b\n    server s 10.0.0.2:1\n    id 4\n",
      14, "id", "'id' 4 of backend 'b' is already used by backend 'a' (set at t.cfg:10).");
  ExpectBackendAlert("id 0", "id", "'id' expects an integer between 1 and 2147483647, got '0'.");
  ExpectBackendAlert("id x", "id", "'id' expects an integer between 1 and 2147483647, got 'x'.");
  ExpectBackendAlert("id", "id", "'id' expects an integer between 1 and 2147483647.");
  ExpectAlert("defaults\n    id 3\n", 10, "id", "'id' is not allowed in a 'defaults' section.");
  ExpectBackendAlert("server s1 10.0.0.2:1 id 9\n    server s2 10.0.0.2:2 id 9", "server",
                     "'server s2' : id 9 is already used by server 's1' of backend 'be' "
                     "(declared at t.cfg:10).",
                     11);
  ExpectBackendAlert("server s1 10.0.0.2:1 id 0", "server",
                     "'server s1' : 'id' expects an integer between 1 and 2147483647, got '0'.");
}

TEST(ConfigProxyHeader, DisabledEnabledDescription) {
  const ParseOutcome o = Clean(
      "defaults\n    disabled\n    timeout client 1s\n    timeout connect 1s\n"
      "    timeout server 1s\n"
      "frontend off\n    description \"not yet\"\n"  // disabled: no warnings
      "backend on\n    enabled\n    server s 10.0.0.2:1\n"
      "backend off2\n    enabled\n    disabled\n    server s 10.0.0.2:1\n");
  const auto& px = o.config.proxies;
  ASSERT_EQ(px.size(), 3u);
  EXPECT_TRUE(px[0].disabled);
  EXPECT_FALSE(px[1].disabled);
  EXPECT_TRUE(px[2].disabled);
  ExpectBackendAlert("disabled now", "disabled",
                     "'disabled' expects no argument, got extra argument 'now'.");
  ExpectBackendAlert("enabled 1", "enabled",
                     "'enabled' expects no argument, got extra argument '1'.");
  ExpectAlert("defaults\n    description x\n", 10, "description",
              "'description' is not allowed in a 'defaults' section.");
  ExpectBackendAlert("description", "description", "'description' expects a text.");
}

// ---------------------------------------------------------------------------------------
// bind

TEST(ConfigProxyBind, AddressForms) {
  const ParseOutcome o = Clean(
      "frontend fe\n"
      "    default_backend be\n"
      "    bind *:80,:81,0.0.0.0:82\n"
      "    bind :::83\n"
      "    bind [::]:84\n"
      "    bind ipv6@:85\n"
      "    bind ipv4@10.0.0.1:86,ipv6@fd00::1:87\n"
      "    bind fd00::1:88\n"
      "    bind 10.0.0.1:90-92\n"
      "backend be\n    server s 10.0.0.2:1\n");
  const auto& b = o.config.proxies[0].binds;
  ASSERT_EQ(b.size(), 12u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(b[i].any) << i;
    EXPECT_FALSE(b[i].addr.is_v6) << i;
    EXPECT_EQ(b[i].port, 80 + i);
    EXPECT_EQ(b[i].line, 11);
  }
  for (size_t i = 3; i < 6; ++i) {
    EXPECT_TRUE(b[i].any) << i;
    EXPECT_TRUE(b[i].addr.is_v6) << i;
    EXPECT_TRUE(b[i].addr.v6.IsUnspecified()) << i;
    EXPECT_EQ(b[i].port, 80 + i);
  }
  EXPECT_FALSE(b[6].any);
  EXPECT_EQ(Ip(b[6].addr), "10.0.0.1");
  EXPECT_EQ(b[6].port, 86);
  EXPECT_EQ(Ip(b[7].addr), "fd00::1");
  EXPECT_EQ(b[7].port, 87);
  EXPECT_EQ(Ip(b[8].addr), "fd00::1");  // the last colon starts the port
  EXPECT_EQ(b[8].port, 88);
  for (size_t i = 9; i < 12; ++i) {
    EXPECT_EQ(Ip(b[i].addr), "10.0.0.1");
    EXPECT_EQ(b[i].port, 81 + i);
    EXPECT_EQ(b[i].line, 17);
  }
}

TEST(ConfigProxyBind, Errors) {
  auto bind = [](const std::string& line, const std::string& message) {
    ExpectAlert("frontend fe\n    " + line + "\n    default_backend be\n" +
                    "backend be\n    server s 10.0.0.2:1\n",
                10, "bind", message);
  };
  bind("bind",
       "'bind' expects ADDR:PORT[,ADDR:PORT...] (bind 10.0.0.1:80, bind :80, bind [::]:80).");
  bind("bind 10.0.0.1",
       "'bind' '10.0.0.1': missing port (write ADDR:PORT, *:PORT, :PORT or [IPv6]:PORT).");
  bind("bind [fd00::1]",
       "'bind' '[fd00::1]': missing port (write ADDR:PORT, *:PORT, :PORT or [IPv6]:PORT).");
  bind("bind 10.0.0.1:0",
       "'bind' '10.0.0.1:0': expects a port or a port range (8000-8010) between 1 and 65535, "
       "got '0'.");
  bind("bind 10.0.0.1:70000",
       "'bind' '10.0.0.1:70000': expects a port or a port range "
       "(8000-8010) between 1 and 65535, got '70000'.");
  bind("bind 10.0.0.1:90-80",
       "'bind' '10.0.0.1:90-80': expects a port or a port range "
       "(8000-8010) between 1 and 65535, got '90-80'.");
  bind("bind 10.0.0.1:http",
       "'bind' '10.0.0.1:http': expects a port or a port range "
       "(8000-8010) between 1 and 65535, got 'http'.");
  bind("bind 10.0.0.1:1-2000",
       "'bind' '10.0.0.1:1-2000' gives more than 1024 addresses and ports; split it.");
  // The workers' listener table holds 64: the 65th address:port is an error, on its line.
  bind("bind 10.0.0.1:1000-1064",
       "'bind' 10.0.0.1:1064 of frontend 'fe': sluice listens on at most 64 addresses and "
       "ports over all frontends and services (a port range counts each port).");
  bind("bind www.example.com:80",
       "'bind' 'www.example.com:80': 'www.example.com' is not an IP address and sluice has no "
       "DNS resolver; write an address.");
  bind("bind 10.0.0.300:80",
       "'bind' '10.0.0.300:80': '10.0.0.300' is not an IPv4 or IPv6 address.");
  bind("bind /run/fe.sock",
       "'bind' '/run/fe.sock': UNIX sockets are not supported by sluice (TCP over IPv4 and "
       "IPv6 only).");
  bind("bind abns@fe",
       "'bind' 'abns@fe': UNIX sockets are not supported by sluice (TCP over "
       "IPv4 and IPv6 only).");
  bind("bind fd@3",
       "'bind' 'fd@3': 'fd@' addresses are not supported by sluice (only ipv4@ and "
       "ipv6@).");
  bind("bind fd00::1",
       "'bind' 'fd00::1': an IPv6 address needs a port after its last colon; write "
       "[fd00::1]:PORT.");
  bind("bind [fd00::1:80", "'bind' '[fd00::1:80': missing ']' after the IPv6 address.");
  bind("bind [fd00::1]80", "'bind' '[fd00::1]80': expected ':PORT' after ']'.");
  bind("bind []:80", "'bind' '[]:80': no address between '[' and ']'.");
  bind("bind [10.0.0.1]:80", "'bind' '[10.0.0.1]:80': brackets are for IPv6 addresses.");
  bind("bind ipv4@fd00::1:80",
       "'bind' 'ipv4@fd00::1:80': 'ipv4@' expects an IPv4 address, got 'fd00::1'.");
  bind("bind ipv6@10.0.0.1:80",
       "'bind' 'ipv6@10.0.0.1:80': 'ipv6@' expects an IPv6 address, got '10.0.0.1'.");
  bind("bind 224.0.0.1:80", "'bind' '224.0.0.1:80': expects a unicast address.");
  bind("bind [ff02::1]:80", "'bind' '[ff02::1]:80': expects a unicast address.");
  bind("bind 10.0.0.1:80,",
       "'bind' expects ADDR:PORT[,ADDR:PORT...], got an empty address in "
       "'10.0.0.1:80,'.");
  // The global TLS defaults' errors (HAProxy 2.6.12's texts).
  ExpectAlert("global\n    ssl-default-bind-options ssl-min-ver TLSv1.3 bogus\n", 10,
              "ssl-default-bind-options",
              "unknown option 'bogus' on global statement 'ssl-default-bind-options'.");
  ExpectAlert("global\n    ssl-default-bind-options ssl-min-ver\n", 10,
              "ssl-default-bind-options",
              "'ssl-min-ver' : missing the ssl/tls version on global statement "
              "'ssl-default-bind-options'.");
  ExpectAlert("global\n    ssl-default-bind-ciphers\n", 10, "ssl-default-bind-ciphers",
              "global statement 'ssl-default-bind-ciphers' expects a cipher suite as an "
              "argument.");
  // TLS options (HAProxy 2.6.12's texts; the certificates themselves: test_tls.py).
  bind("bind 10.0.0.1:80 ssl crt /etc/x.pem",
       "'bind 10.0.0.1:80' in section 'frontend' : unable to stat SSL certificate from file "
       "'/etc/x.pem' : No such file or directory.");
  bind("bind 10.0.0.1:80 ssl crt /dev/zero",  // read up to a bound, never to its end
       "'bind 10.0.0.1:80' in section 'frontend' : unable to load certificate from file "
       "'/dev/zero'.");
  bind("bind 10.0.0.1:80 ssl",
       "Proxy 'fe': no SSL certificate specified for bind '10.0.0.1:80' at [t.cfg:10] (use "
       "'crt').");
  bind("bind 10.0.0.1:80 bogus",
       "'bind 10.0.0.1:80' in section 'frontend': unknown keyword 'bogus'.");
  bind("bind 10.0.0.1:80 alpn",
       "'bind 10.0.0.1:80' in section 'frontend' : 'alpn' : missing the comma-delimited ALPN "
       "protocol suite");
  bind("bind 10.0.0.1:80 ssl-min-ver TLSv9",
       "'bind 10.0.0.1:80' in section 'frontend' : 'TLSv9' : unknown ssl/tls version");
  bind("bind 10.0.0.1:80 crt",
       "'bind 10.0.0.1:80' in section 'frontend' : 'crt' : missing certificate location");
  bind("bind 10.0.0.1:80 verify",
       "'bind 10.0.0.1:80' in section 'frontend' : 'verify' : missing verify method");
  bind("bind 10.0.0.1:80 verify bogus",
       "'bind 10.0.0.1:80' in section 'frontend' : 'verify' : unknown verify method 'bogus', "
       "only 'none', 'optional', and 'required' are supported");
  bind("bind 10.0.0.1:80 ca-file",
       "'bind 10.0.0.1:80' in section 'frontend' : 'ca-file' : missing CAfile path");
  bind("bind 10.0.0.1:80 crl-file /nonexistent.crl",
       "'bind 10.0.0.1:80' in section 'frontend' : 'crl-file' : unable to load "
       "/nonexistent.crl");
  bind("bind 10.0.0.1:80 tls-ticket-keys /nonexistent",
       "'bind 10.0.0.1:80' in section 'frontend' : '/nonexistent' : unable to load ssl "
       "tickets keys file");
  ExpectAlert("defaults\n    bind :80\n", 10, "bind",
              "'bind' is not allowed in a 'defaults' section.");
  ExpectWarning("backend be\n    bind :80\n    server s 10.0.0.2:1\n", 10, "bind",
                "'bind' ignored because backend 'be' has no frontend capability.");
}

// Sticking rules belong to backends (HAProxy 2.6.12's texts); `option persist` too.
TEST(ConfigProxyStick, WhereAllowed) {
  ExpectWarning(WithFrontendLine("stick on src"), 12, "stick",
                "'stick' ignored because frontend 'fe' has no backend capability.");
  ExpectAlert("defaults\n    stick on src\n", 10, "stick",
              "'stick' not allowed in 'defaults' section.");
  const ParseOutcome o = Clean("backend be\n    option persist\n    server s 10.0.0.2:1\n");
  ASSERT_FALSE(o.config.proxies.empty());
  EXPECT_TRUE(o.config.proxies[0].persist);
}

TEST(ConfigProxyBind, WholeConfiguration) {
  // The same address and port twice: refused at the second.
  ExpectAlert(std::string(kPair) + "listen li\n    bind 10.0.0.1:80\n    server s 10.0.0.2:1\n", 15,
              "bind",
              "'bind' 10.0.0.1:80 of listen 'li' is already bound by frontend 'fe' at t.cfg:10.");
  ExpectAlert(std::string(kPair) + "listen li\n    bind [::]:80,:::80\n    server s 10.0.0.2:1\n",
              15, "bind",
              "'bind' [::]:80 of listen 'li' is already bound by listen 'li' at t.cfg:15.");
  // ... but a disabled section listens nowhere, and any-address binds overlap freely.
  Clean(std::string(kPair) +
        "listen li\n    disabled\n    bind 10.0.0.1:80\n    server s 10.0.0.2:1\n"
        "listen l2\n    bind *:80,[::]:80,[fd00::1]:80\n    server s 10.0.0.2:1\n");
  // An address no port answers on.
  ExpectWarning(
      "frontend fe\n    bind 192.0.2.7:80\n    default_backend be\n"
      "backend be\n    server s 10.0.0.2:1\n",
      10, "bind",
      "'bind' 192.0.2.7:80: 192.0.2.7 is not an address of any port of the "
      "'dataplane' section, so no connection reaches it.");
}

// ---------------------------------------------------------------------------------------
// server and default-server

TEST(ConfigProxyServer, EveryParameter) {
  const ParseOutcome o = Clean(
      "backend be\n"
      "    server a 10.0.0.2:80 weight 0 maxconn 50 check inter 500ms fastinter 100 "
      "downinter 10s rise 4 fall 5 port 8080 addr 10.0.0.20 disabled backup id 12 "
      "pool-max-conn 0 pool-purge-delay 10s\n"
      "    server b ipv6@fd00::2:443 weight 256 check addr fd00::20 pool-max-conn -1 "
      "pool-purge-delay 0\n"
      "    server c ipv4@10.0.0.3:1 check no-check backup no-backup disabled enabled "
      "non-stick\n");
  const auto& s = o.config.proxies[0].servers;
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].weight, 0u);
  EXPECT_EQ(s[0].maxconn, 50u);
  EXPECT_EQ(s[0].pool_max_conn, 0);
  EXPECT_EQ(s[1].pool_max_conn, -1);
  EXPECT_EQ(s[2].pool_max_conn, -1);  // haproxy's default: no bound
  EXPECT_EQ(s[0].pool_purge_ms, 10000u);
  EXPECT_EQ(s[1].pool_purge_ms, 0u);     // never purged
  EXPECT_EQ(s[2].pool_purge_ms, 5000u);  // haproxy's default
  EXPECT_TRUE(s[0].check);
  EXPECT_EQ(s[0].inter_ms, 500u);
  EXPECT_EQ(s[0].fastinter_ms, 100u);
  EXPECT_EQ(s[0].downinter_ms, 10000u);
  EXPECT_EQ(s[0].rise, 4u);
  EXPECT_EQ(s[0].fall, 5u);
  EXPECT_EQ(s[0].check_port, 8080);
  ASSERT_TRUE(s[0].check_addr.has_value());
  EXPECT_EQ(Ip(*s[0].check_addr), "10.0.0.20");
  EXPECT_TRUE(s[0].disabled);
  EXPECT_TRUE(s[0].backup);
  EXPECT_EQ(s[0].id, 12u);
  EXPECT_EQ(Ip(s[1].addr), "fd00::2");
  EXPECT_EQ(s[1].port, 443);
  EXPECT_EQ(s[1].weight, 256u);
  EXPECT_EQ(Ip(*s[1].check_addr), "fd00::20");
  // Each server counts for the next automatic id, its own id or not: the first free id at
  // or above its rank (HAProxy 2.6.12).
  EXPECT_EQ(s[1].id, 2u);
  EXPECT_FALSE(s[2].check);
  EXPECT_FALSE(s[2].backup);
  EXPECT_FALSE(s[2].disabled);
  EXPECT_EQ(s[2].id, 3u);
  EXPECT_FALSE(s[1].non_stick);
  EXPECT_TRUE(s[2].non_stick);
}

TEST(ConfigProxyServer, DefaultServer) {
  const ParseOutcome o = Clean(
      "defaults\n"  // 9
      "    timeout client 1s\n    timeout connect 1s\n    timeout server 1s\n"
      "    default-server inter 3s rise 5 weight 10 check\n"  // 13
      "backend be\n"                                          // 14
      "    server a 10.0.0.2:1\n"                             // 15
      "    default-server fall 9 no-check port 99 addr 10.0.0.99 disabled backup\n"
      "    server b 10.0.0.2:2 weight 20\n"  // 17
      "    default-server maxconn 7 fastinter 1s downinter 2s enabled\n"
      "    server c 10.0.0.2:3\n"  // 19
      "listen li\n    bind 10.0.0.1:1\n    server d 10.0.0.2:4\n");
  ASSERT_EQ(o.config.defaults.size(), 2u);
  const ServerConfig& ds = o.config.defaults[1].default_server;
  EXPECT_EQ(ds.inter_ms, 3000u);
  EXPECT_EQ(ds.rise, 5u);
  EXPECT_EQ(ds.weight, 10u);
  EXPECT_TRUE(ds.check);
  const auto& s = o.config.proxies[0].servers;
  ASSERT_EQ(s.size(), 3u);
  // a: the defaults section's default-server only (later lines do not change it).
  EXPECT_EQ(s[0].inter_ms, 3000u);
  EXPECT_EQ(s[0].rise, 5u);
  EXPECT_EQ(s[0].weight, 10u);
  EXPECT_TRUE(s[0].check);
  EXPECT_EQ(s[0].fall, 3u);
  EXPECT_FALSE(s[0].check_port.has_value());
  EXPECT_FALSE(s[0].disabled);
  // b: both default-server lines before it, and its own weight.
  EXPECT_EQ(s[1].weight, 20u);
  EXPECT_EQ(s[1].fall, 9u);
  EXPECT_FALSE(s[1].check);
  EXPECT_EQ(s[1].check_port, 99);
  EXPECT_EQ(Ip(*s[1].check_addr), "10.0.0.99");
  EXPECT_TRUE(s[1].disabled);
  EXPECT_TRUE(s[1].backup);
  EXPECT_EQ(s[1].inter_ms, 3000u);
  EXPECT_EQ(s[1].name, "b");
  EXPECT_EQ(s[1].line, 17);
  // c: everything so far.
  EXPECT_EQ(s[2].weight, 10u);
  EXPECT_EQ(s[2].maxconn, 7u);
  EXPECT_EQ(s[2].fastinter_ms, 1000u);
  EXPECT_EQ(s[2].downinter_ms, 2000u);
  EXPECT_FALSE(s[2].disabled);
  EXPECT_TRUE(s[2].backup);
  EXPECT_EQ(s[2].id, 3u);
  // A backend's default-server stays in it.
  const ServerConfig& d = o.config.proxies[1].servers[0];
  EXPECT_EQ(d.weight, 10u);
  EXPECT_EQ(d.fall, 3u);
  EXPECT_FALSE(d.backup);
}

TEST(ConfigProxyServer, AddressErrors) {
  const std::string no_port =
      " has no port: sluice needs one in mode tcp (write ADDR:PORT or [IPv6]:PORT).";
  ExpectBackendAlert("server s1 10.0.0.2", "server", "'server s1' '10.0.0.2'" + no_port);
  ExpectBackendAlert("server s1 10.0.0.2:", "server", "'server s1' '10.0.0.2:'" + no_port);
  ExpectBackendAlert("server s1 [fd00::2]", "server", "'server s1' '[fd00::2]'" + no_port);
  ExpectBackendAlert("server s1 fd00::2", "server",
                     "'server s1' 'fd00::2': an IPv6 address needs a port after its last "
                     "colon; write [fd00::2]:PORT.");
  ExpectBackendAlert("server s1 app.internal:8080", "server",
                     "'server s1' 'app.internal:8080': 'app.internal' is not an IP address and "
                     "sluice has no DNS resolver; write an address.");
  ExpectBackendAlert("server s1 app", "server",
                     "'server s1' 'app': 'app' is not an IP address and sluice has no DNS "
                     "resolver; write an address.");
  ExpectBackendAlert("server s1 10.0.0.2:+1", "server",
                     "'server s1' '10.0.0.2:+1': port offsets (+N, -N) are not supported by "
                     "sluice; write the port.");
  ExpectBackendAlert("server s1 10.0.0.2:0", "server",
                     "'server s1' '10.0.0.2:0': expects a port between 1 and 65535, got '0'.");
  ExpectBackendAlert("server s1 10.0.0.2:65536", "server",
                     "'server s1' '10.0.0.2:65536': expects a port between 1 and 65535, got "
                     "'65536'.");
  ExpectBackendAlert("server s1 0.0.0.0:80", "server",
                     "'server s1' '0.0.0.0:80': expects a unicast server address.");
  ExpectBackendAlert("server s1 :80", "server",
                     "'server s1' ':80': expects a unicast server address.");
  ExpectBackendAlert("server s1 [ff02::1]:80", "server",
                     "'server s1' '[ff02::1]:80': expects a unicast server address.");
  ExpectBackendAlert("server s1 /run/app.sock", "server",
                     "'server s1' '/run/app.sock': UNIX sockets are not supported by sluice "
                     "(TCP over IPv4 and IPv6 only).");
  ExpectBackendAlert("server s1", "server",
                     "'server' expects a name and an address with a port, then parameters "
                     "(server s1 10.0.0.2:80 check).");
  ExpectBackendAlert("server s/1 10.0.0.2:1", "server",
                     "character '/' is not permitted in server name 's/1'.");
}

TEST(ConfigProxyServer, ParameterErrors) {
  const std::string s = "server s1 10.0.0.2:80 ";
  auto alert = [&](const std::string& params, const std::string& message) {
    ExpectBackendAlert(s + params, "server", "'server s1' : " + message);
  };
  alert("weight 257", "'weight' expects an integer between 0 and 256, got '257'.");
  alert("weight -1", "'weight' expects an integer between 0 and 256, got '-1'.");
  alert("maxconn x", "'maxconn' expects an integer between 0 and 2147483647, got 'x'.");
  alert("rise 0", "'rise' expects an integer between 1 and 2147483647, got '0'.");
  alert("fall 0", "'fall' expects an integer between 1 and 2147483647, got '0'.");
  alert("port 0", "'port' expects an integer between 1 and 65535, got '0'.");
  alert("port 65536", "'port' expects an integer between 1 and 65535, got '65536'.");
  for (const char* t : {"inter", "fastinter", "downinter"}) {
    alert(std::string(t) + " 0", "'" + std::string(t) +
                                     "' expects a positive time such as 500ms or 2s (at most "
                                     "2147483647ms), got '0'.");
    alert(std::string(t) + " 2x", "'" + std::string(t) +
                                      "' expects a positive time such as 500ms or 2s (at most "
                                      "2147483647ms), got '2x'.");
  }
  alert("inter 25d",
        "'inter' expects a positive time such as 500ms or 2s (at most "
        "2147483647ms), got '25d'.");
  alert("addr backend.local",
        "'addr' expects a unicast IPv4 or IPv6 address, got "
        "'backend.local'.");
  alert("addr 0.0.0.0", "'addr' expects a unicast IPv4 or IPv6 address, got '0.0.0.0'.");
  alert("weight", "'weight' expects a value.");
  alert("check inter", "'inter' expects a value.");
  alert("pool-purge-delay", "'pool-purge-delay' expects a value.");
  alert("pool-purge-delay abc",
        "'pool-purge-delay' expects a positive time such as 500ms or 2s (at most "
        "2147483647ms), got 'abc'.");
  const std::string supported =
      " (sluice supports weight, maxconn, pool-max-conn, pool-purge-delay, check, no-check, "
      "inter, fastinter, downinter, rise, fall, port, addr, disabled, enabled, backup, "
      "no-backup, non-stick, stick, id, ssl, no-ssl, verify, ca-file, sni, alpn, ciphers, "
      "ciphersuites, ssl-min-ver and ssl-max-ver).";
  // TLS to the server (HAProxy 2.6.12's texts).
  alert("ssl verify bogus",
        "'verify' : unknown verify method 'bogus', only 'none' and 'required' are supported.");
  alert("ssl verify", "'verify' : missing verify method, only 'none' and 'required' are "
                      "supported.");
  alert("ssl verify none sni", "'sni' : missing sni expression.");
  alert("ssl ca-file /nonexistent.pem", "'ca-file' : unable to load /nonexistent.pem.");
  alert("ssl verify none alpn", "'alpn' : missing the comma-delimited ALPN protocol suite.");
  ExpectBackendAlert("server s1 10.0.0.2:443 ssl", "server",
                     "'server be/s1' : verify is enabled by default but no CA file specified. If "
                     "you're running on a LAN where you're certain to trust the server's "
                     "certificate, please set an explicit 'verify none' statement on the 'server' "
                     "line, or use 'ssl-server-verify none' in the global section to disable "
                     "server-side verifications by default.");
  alert("frobnicate", "unknown or unsupported keyword 'frobnicate'" + supported);
  alert("send-proxy", "unknown or unsupported keyword 'send-proxy'" + supported);
  ExpectBackendAlert("default-server id 3", "default-server",
                     "'default-server' : 'id' is not allowed here; give ids on 'server' lines.");
  ExpectBackendAlert("default-server weight 300", "default-server",
                     "'default-server' : 'weight' expects an integer between 0 and 256, got "
                     "'300'.");
  ExpectBackendAlert("default-server resolvers dns", "default-server",
                     "'default-server' : unknown or unsupported keyword 'resolvers'" + supported);
}

TEST(ConfigProxyServer, WhereServersAreAllowed) {
  ExpectBackendAlert("server s1 10.0.0.2:1\n    server s1 10.0.0.3:1", "server",
                     "'server' : backend 'be' already has a server named 's1' (declared at "
                     "t.cfg:10).",
                     11);
  ExpectAlert(
      "frontend fe\n    server s1 10.0.0.2:1\n    bind 10.0.0.1:80\n"
      "    default_backend be\nbackend be\n    server s1 10.0.0.2:1\n",
      10, "server", "'server' is not allowed in frontend 'fe': it has no backend capability.");
  ExpectAlert(
      "frontend fe\n    default-server check\n    bind 10.0.0.1:80\n"
      "    default_backend be\nbackend be\n    server s1 10.0.0.2:1\n",
      10, "default-server",
      "'default-server' is not allowed in frontend 'fe': it has no backend capability.");
  ExpectAlert("defaults\n    server s1 10.0.0.2:1\n", 10, "server",
              "'server' is not allowed in a 'defaults' section.");
  // A server that was refused is not in the model.
  const ParseOutcome o = Parse("backend be\n    server s1 10.0.0.2:1 bogus\n");
  EXPECT_TRUE(o.config.proxies[0].servers.empty());
}

// ---------------------------------------------------------------------------------------
// mode, balance, timeouts

TEST(ConfigProxySettings, Mode) {
  Clean("backend be\n    mode tcp\n    server s 10.0.0.2:1\n");
  Clean("backend be\n    mode http\n    server s 10.0.0.2:1\n");
  ExpectBackendAlert("mode health", "mode",
                     "'mode' expects 'tcp' or 'http', got 'health': 'mode health' no longer "
                     "exists in HAProxy.");
  ExpectBackendAlert("mode udp", "mode", "'mode' expects 'tcp' or 'http', got 'udp'.");
  ExpectBackendAlert("mode tcp http", "mode",
                     "'mode' expects 'tcp' or 'http', got extra argument 'http'.");
  // From defaults, unless the proxy or a later defaults section says `mode tcp`.
  const std::string http_defaults =
      "defaults web\n    mode http\n    timeout client 1s\n"
      "    timeout connect 1s\n    timeout server 1s\n";
  auto http_of = [](const std::string& text) {
    const ParseOutcome o = ParseText(std::string(kBase) + text, "t.cfg");
    EXPECT_FALSE(o.HasErrors()) << Dump(o);
    return !o.config.proxies.empty() && o.config.proxies.back().mode_http;
  };
  EXPECT_TRUE(http_of(http_defaults + "backend be\n    server s 10.0.0.2:1\n"));
  EXPECT_FALSE(http_of(http_defaults + "backend be\n    mode tcp\n    server s 10.0.0.2:1\n"));
  EXPECT_FALSE(http_of(http_defaults + "defaults tcp from web\n    mode tcp\n"
                                       "backend be\n    server s 10.0.0.2:1\n"));
}

TEST(ConfigProxySettings, MixedModes) {
  // HAProxy 2.6: an HTTP frontend may not use a TCP backend (one alert, the two sections'
  // lines in it); a TCP frontend may use an HTTP backend.
  const std::string t =
      "defaults\n    timeout client 1s\n    timeout connect 1s\n    timeout server 1s\n"
      "frontend fe\n    mode http\n    bind :80\n    default_backend be\n"
      "backend be\n    mode tcp\n    server s 10.0.0.2:1\n";
  const ParseOutcome o = ParseText(std::string(kBase) + t, "t.cfg");
  ASSERT_TRUE(o.HasErrors());
  bool found = false;
  for (const Diagnostic& d : o.diagnostics) {
    if (d.message.find("tries to use incompatible") == std::string::npos) continue;
    found = true;
    EXPECT_EQ(FormatDiagnostic(d, 7),
              "[ALERT]    (7) : config : http frontend 'fe' (t.cfg:13) tries to use incompatible "
              "tcp backend 'be' (t.cfg:17) as its default backend (see 'mode').");
  }
  EXPECT_TRUE(found) << Dump(o);
  std::string flipped = t;
  flipped.replace(flipped.find("mode http"), 9, "mode tcp ");
  flipped.replace(flipped.find("mode tcp\n    server"), 8, "mode http");
  const ParseOutcome ok = ParseText(std::string(kBase) + flipped, "t.cfg");
  EXPECT_FALSE(ok.HasErrors()) << Dump(ok);
}

TEST(ConfigProxySettings, HttpOptions) {
  const std::string t =
      "defaults\n    mode http\n    timeout client 1s\n    timeout connect 1s\n"
      "    timeout server 1s\n    timeout http-request 5s\n    timeout http-keep-alive 2s\n"
      "    option forwardfor except 127.0.0.0/8 header X-Client if-none\n"
      "    option httplog clf\n"
      "frontend fe\n    bind :80\n    default_backend be\n    option http-server-close\n"
      "    option httpclose\n    option accept-invalid-http-request\n"
      "backend be\n    http-reuse always\n    server s 10.0.0.2:1\n";
  const ParseOutcome o = ParseText(std::string(kBase) + t, "t.cfg");
  ASSERT_FALSE(o.HasErrors()) << Dump(o);
  const ProxyConfig& fe = o.config.proxies[0];
  const ProxyConfig& be = o.config.proxies[1];
  EXPECT_TRUE(fe.mode_http && be.mode_http);
  EXPECT_EQ(fe.timeout_http_request_ms, 5000u);
  EXPECT_EQ(fe.timeout_http_keep_alive_ms, 2000u);
  EXPECT_TRUE(fe.forwardfor && fe.forwardfor_if_none && fe.forwardfor_except.has_value());
  EXPECT_EQ(fe.forwardfor_header, "X-Client");
  EXPECT_TRUE(fe.httplog && fe.httplog_clf);
  EXPECT_EQ(fe.http_conn_mode, ProxyConfig::HttpConnMode::kClose);  // the last one wins
  EXPECT_TRUE(fe.accept_invalid_request);
  EXPECT_EQ(be.http_reuse, ProxyConfig::HttpReuse::kAlways);
  EXPECT_EQ(be.http_conn_mode, ProxyConfig::HttpConnMode::kKeepAlive);
  ExpectBackendAlert("http-reuse sometimes", "http-reuse",
                     "'http-reuse' expects 'never', 'safe', 'aggressive' or 'always', got "
                     "'sometimes'.");
}

TEST(ConfigProxySettings, Balance) {
  const std::pair<const char*, BalanceAlgo> cases[] = {
      {"roundrobin", BalanceAlgo::kRoundRobin}, {"static-rr", BalanceAlgo::kStaticRr},
      {"leastconn", BalanceAlgo::kLeastConn},   {"first", BalanceAlgo::kFirst},
      {"source", BalanceAlgo::kSource},
  };
  for (const auto& [word, algo] : cases) {
    const ParseOutcome o =
        Clean(std::string("backend be\n    balance ") + word + "\n    server s 10.0.0.2:1\n");
    EXPECT_EQ(o.config.proxies[0].balance, algo) << word;
  }
  ExpectBackendAlert("balance rdp-cookie", "balance",
                     "'balance rdp-cookie' is not supported by sluice (roundrobin, static-rr, "
                     "leastconn, first, source, uri, url_param, hdr(NAME) or random).");
  // The HTTP algorithms and their arguments.
  const ParseOutcome u = Clean(
      "backend be\n    balance uri whole len 12 depth 3\n    hash-type consistent\n"
      "    server s 10.0.0.2:1\n"
      "backend b2\n    balance url_param id check_post\n    server s 10.0.0.2:1\n"
      "backend b3\n    balance hdr(Host)\n    server s 10.0.0.2:1\n"
      "backend b4\n    balance random\n    server s 10.0.0.2:1\n");
  const auto& px = u.config.proxies;
  EXPECT_EQ(px[0].balance, BalanceAlgo::kUri);
  EXPECT_TRUE(px[0].uri_whole && px[0].hash_consistent);
  EXPECT_EQ(px[0].uri_len, 12u);
  EXPECT_EQ(px[0].uri_depth, 3u);
  EXPECT_EQ(px[1].balance, BalanceAlgo::kUrlParam);
  EXPECT_EQ(px[1].hash_name, "id");
  EXPECT_EQ(px[2].balance, BalanceAlgo::kHdr);
  EXPECT_EQ(px[2].hash_name, "Host");
  EXPECT_EQ(px[3].balance, BalanceAlgo::kRandom);
  ExpectBackendAlert("balance uri deep", "balance",
                     "'balance uri' expects [whole] [len N] [depth N], got 'deep'.");
  ExpectBackendAlert("balance url_param", "balance",
                     "'balance url_param' expects a parameter name.");
  ExpectBackendAlert("hash-type ring", "hash-type",
                     "'hash-type' expects 'map-based' or 'consistent', got 'ring'.");
  ExpectBackendAlert("balance fastest", "balance",
                     "'balance' expects roundrobin, static-rr, leastconn, first, source, uri, "
                     "url_param, hdr(NAME), random or rdp-cookie, got 'fastest'.");
  ExpectBackendAlert("balance source 1", "balance", "'balance source' takes no argument, got '1'.");
  ExpectBackendAlert("balance", "balance", "'balance' expects an algorithm and its arguments.");
  ExpectWarning(std::string(kPair) +
                    "frontend f2\n    bind 10.0.0.1:81\n    default_backend be\n"
                    "    balance first\n",
                17, "balance",
                "'balance' ignored because frontend 'f2' has no backend capability.");
  // From defaults: refused in backends that use it, not in frontends.
  const std::string uri =
      "defaults\n    balance rdp-cookie(id)\n    timeout client 1s\n"
      "    timeout connect 1s\n    timeout server 1s\n";
  ExpectAlert(uri + kPair, 17, "balance",
              "backend 'be' uses 'balance rdp-cookie(id)' of the defaults section (set at "
              "t.cfg:10): sluice supports roundrobin, static-rr, leastconn, first, source, uri, "
              "url_param, hdr(NAME) and random.");
  const ParseOutcome o = Clean(uri + "backend be\n    balance source\n    server s 10.0.0.2:1\n");
  EXPECT_EQ(o.config.proxies[0].balance, BalanceAlgo::kSource);
  EXPECT_EQ(o.config.defaults[1].balance, (W{"rdp-cookie(id)"}));
}

TEST(ConfigProxySettings, Errorfile) {
  const std::string path = ::testing::TempDir() + "sluice-503.http";
  const std::string page =
      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
      "Content-Length: 5\r\n\r\nbusy\n";
  {
    std::ofstream f(path, std::ios::binary);
    f << page;
  }
  const ParseOutcome o =
      Clean("backend be\n    errorfile 503 " + path + "\n    server s 10.0.0.2:1\n");
  ASSERT_EQ(o.config.proxies[0].errorfiles.size(), 1u);
  EXPECT_EQ(o.config.proxies[0].errorfiles[0].code, 503u);
  EXPECT_EQ(o.config.proxies[0].errorfiles[0].text, page);
  ExpectBackendAlert("errorfile 599 " + path, "errorfile", "status code '599' not handled.");
  ExpectBackendAlert("errorfile 503 /nonexistent/x", "errorfile",
                     "error opening file '/nonexistent/x'.");
  {
    std::ofstream f(path, std::ios::binary);
    f << "HTTP/1.1 503 Busy\r\nContent-Length: 50\r\n\r\nshort";
  }
  ExpectBackendAlert("errorfile 503 " + path, "errorfile",
                     "Unable to convert message in HTX ('" + path +
                         "'): not a whole HTTP answer with its Content-Length.");
  std::remove(path.c_str());
}

// http-errors sections and `errorfiles NAME [CODE...]`, as Debian's haproxy 2.6.12 served them
// for the same configuration: a section read after the proxy still applies, in the order the
// lines were written (the later line wins), per code when codes are named, through
// http-error's `errorfiles` and from a defaults section; and its alerts.
TEST(ConfigProxySettings, HttpErrorsSections) {
  const std::string dir = ::testing::TempDir();
  auto page = [&](const std::string& name, unsigned code) {
    const std::string path = dir + "sluice-" + name + ".http";
    std::ofstream f(path, std::ios::binary);
    f << "HTTP/1.0 " << code << " X\r\nContent-Length: 8\r\n\r\n" << name << "\n";
    return path;
  };
  const std::string file503 = page("file503", 503), sect503 = page("sect503", 503),
                    sect403 = page("sect403", 403), dflt503 = page("dflt503", 503);
  const ParseOutcome o = Clean(
      "defaults d2\n    mode http\n    timeout client 1s\n    timeout connect 1s\n"
      "    timeout server 1s\n    errorfiles other\n"
      "backend b1\n    errorfile 503 " + file503 + "\n    errorfiles later\n"
      "    server s 10.0.0.2:1\n"
      "backend b2\n    errorfiles later 403\n    errorfile 503 " + file503 + "\n"
      "    server s 10.0.0.2:1\n"
      "backend b3\n    http-error status 503 errorfiles later\n    server s 10.0.0.2:1\n"
      "backend b4\n    server s 10.0.0.2:1\n"
      "backend b5\n    errorfiles later\n    http-error status 503 default-errorfiles\n"
      "    server s 10.0.0.2:1\n"
      "http-errors later\n    errorfile 503 " + sect503 + "\n    errorfile 403 " + sect403 +
      "\nhttp-errors other\n    errorfile 503 " + dflt503 + "\n");
  auto answer = [&](size_t proxy, unsigned code) -> std::string {
    for (const auto& a : o.config.proxies[proxy].errorfiles) {
      if (a.code == code) return a.text.substr(a.text.size() - 8);
    }
    return "";
  };
  EXPECT_EQ(answer(0, 503), "sect503\n");  // errorfiles after errorfile: the section's
  EXPECT_EQ(answer(0, 403), "sect403\n");
  EXPECT_EQ(answer(1, 503), "file503\n");  // errorfile after errorfiles: the file's
  EXPECT_EQ(answer(1, 403), "sect403\n");
  EXPECT_EQ(answer(2, 503), "sect503\n");  // http-error status 503 errorfiles later
  EXPECT_EQ(answer(2, 403), "");
  EXPECT_EQ(answer(3, 503), "dflt503\n");  // from the defaults section
  for (const auto& a : o.config.proxies[4].errorfiles) {  // default-errorfiles after: none
    EXPECT_TRUE(a.code != 503 || a.text.empty()) << a.text;
  }
  EXPECT_EQ(o.config.http_errors.size(), 2u);
  EXPECT_TRUE(o.config.proxies[0].errorfiles_refs.empty());

  ExpectBackendAlert("errorfiles", "errorfiles", "errorfiles : expects <name> as argument.");
  ExpectBackendAlert("errorfiles later 999", "errorfiles",
                     "errorfiles : status code '999' not handled.");
  ExpectBackendAlert("errorfiles nosuch", "errorfiles",
                     "proxy 'be': unknown http-errors section 'nosuch'.");
  ExpectWarning("backend be\n    errorfiles later 404\n    server s0 10.0.0.9:80\n"
                "http-errors later\n    errorfile 503 " + sect503 + "\n",
                10, "errorfiles",
                "proxy 'be' : status '404' not declared in http-errors section 'later'.");
  ExpectAlert("http-errors later\n    errorfile 503\n", 10, "errorfile",
              "errorfile: expects <status_code> and <file> as arguments.");
  ExpectAlert("http-errors later\n    errorfile 999 " + sect503 + "\n", 10, "errorfile",
              "errorfile : status code '999' not handled.");
  ExpectAlert("http-errors later\n    foo bar\n", 10, "foo",
              "unknown keyword 'foo' in 'http-errors' section");
  ExpectAlert("http-errors later\nhttp-errors later\n", 10, "http-errors",
              "http-errors section 'later' already exists (declared at t.cfg:9).");
  ExpectAlert("http-errors\n    errorfile 503 " + sect503 + "\n", 9, "http-errors",
              "missing name for http-errors section.");
  for (const std::string& f : {file503, sect503, sect403, dflt503}) std::remove(f.c_str());
}

// http-error status CODE ...: the answers as haproxy 2.6.12 sent them for the same lines, and
// its alerts.
TEST(ConfigProxySettings, HttpError) {
  const std::string path = ::testing::TempDir() + "sluice-body.html";
  {
    std::ofstream f(path, std::ios::binary);
    f << "<p>file body</p>\n";
  }
  const ParseOutcome o = Clean(
      "backend be\n    http-error status 503 content-type text/html string <b>down</b> hdr "
      "X-Foo bar\n    http-error status 403\n    http-error status 429 content-type text/plain "
      "file " + path + " hdr Retry-After 10 hdr X-A \"b c\"\n"
      "    http-error status 400 content-type text/plain string x\n"
      "    http-error status 400 default-errorfiles\n    server s 10.0.0.2:1\n");
  const auto& files = o.config.proxies[0].errorfiles;
  ASSERT_EQ(files.size(), 4u);
  EXPECT_EQ(files[3].code, 400u);  // default-errorfiles: HAProxy's page again, kept in order
  EXPECT_EQ(files[3].text, "");
  EXPECT_EQ(files[0].code, 503u);
  EXPECT_EQ(files[0].text,
            "HTTP/1.1 503 Service Unavailable\r\nx-foo: bar\r\ncontent-length: 11\r\n"
            "content-type: text/html\r\n\r\n<b>down</b>");
  EXPECT_EQ(files[1].text, "HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n");
  EXPECT_EQ(files[2].text,
            "HTTP/1.1 429 Too Many Requests\r\nretry-after: 10\r\nx-a: b c\r\n"
            "content-length: 17\r\ncontent-type: text/plain\r\n\r\n<p>file body</p>\n");
  std::remove(path.c_str());
  ExpectBackendAlert("http-error status 418 content-type text/plain string x", "http-error",
                     "http-error: status code '418' not handled.");
  ExpectBackendAlert("http-error status 503 string x", "http-error",
                     "http-error : a content type must be defined when non-empty payload is "
                     "configured");
  ExpectBackendAlert("http-error status 503 content-type text/plain string x string y",
                     "http-error",
                     "http-error : unexpected 'string' argument, 'string' already defined");
  ExpectBackendAlert("http-error status 503 content-type text/plain string x hdr X-Y",
                     "http-error", "http-error : 'hdr' expects <name> and <value> as arguments");
  ExpectBackendAlert("http-error 503", "http-error",
                     "http-error : expects at least a <status> as arguments.");
  ExpectBackendAlert("http-error status abc", "http-error",
                     "http-error : Unexpected status code '0'");
  ExpectBackendAlert("http-error status 503 errorfile /nonexist", "http-error",
                     "http-error : error opening file '/nonexist'.");
  ExpectBackendAlert("http-error status 503 frob", "http-error",
                     "http-error : unknown keyword 'frob'.");
  ExpectBackendAlert("http-error status 503 content-type a/b lf-string x", "http-error",
                     "http-error : 'lf-string' is not supported by sluice (string, file, "
                     "errorfile, errorfiles and default-errorfiles are).");
  ExpectWarning("backend be\n    http-error status 503 content-type text/plain\n"
                "    server s 10.0.0.2:1\n",
                10, "http-error",
                "content-type 'text/plain' ignored by the http reply because neither errorfile "
                "nor payload defined.");
  ExpectWarning("backend be\n    http-error status 503 hdr content-length 5\n"
                "    server s 10.0.0.2:1\n",
                10, "http-error", "header 'content-length' always ignored by the http reply.");
}

TEST(ConfigProxySettings, Timeouts) {
  const ParseOutcome o = Clean(
      "listen li\n    bind 10.0.0.1:1\n    server s 10.0.0.2:1\n"
      "    timeout connect 1s\n    timeout client 2s\n    timeout server 3s\n"
      "    timeout queue 4s\n    timeout tunnel 1h\n    timeout check 500ms\n"
      "    timeout client-fin 5s\n    timeout server-fin 6s\n");
  const ProxyConfig& p = o.config.proxies[0];
  EXPECT_EQ(p.timeout_client_fin_ms, 5000u);
  EXPECT_EQ(p.timeout_server_fin_ms, 6000u);
  EXPECT_EQ(p.timeout_connect_ms, 1000u);
  EXPECT_EQ(p.timeout_client_ms, 2000u);
  EXPECT_EQ(p.timeout_server_ms, 3000u);
  EXPECT_EQ(p.timeout_queue_ms, 4000u);
  EXPECT_EQ(p.timeout_tunnel_ms, 3600000u);
  EXPECT_EQ(p.timeout_check_ms, 500u);
  ExpectWarning(std::string(kPair) + "    timeout client 5s\n", 14, "timeout",
                "'timeout client' ignored because backend 'be' has no frontend capability.");
  ExpectWarning(WithFrontendLine("timeout tunnel 1s"), 12, "timeout",
                "'timeout tunnel' ignored because frontend 'fe' has no backend capability.");
  ExpectWarning(std::string(kPair) + "    timeout client-fin 1s\n", 14, "timeout",
                "'timeout client-fin' ignored because backend 'be' has no frontend "
                "capability.");
  ExpectBackendAlert("timeout conect 1s", "timeout",
                     "'timeout' supports 'client', 'server', 'connect', 'queue', 'tunnel', "
                     "'http-request', 'http-keep-alive', 'client-fin', 'server-fin', 'check' and "
                     "'tarpit', got 'conect'.");
  ExpectBackendAlert("timeout connect 1y", "timeout",
                     "'timeout connect' expects a time such as 500ms, 30s, 5m, 1h or 1d (at most "
                     "2147483647ms), got '1y'.");
  ExpectBackendAlert("timeout connect", "timeout",
                     "'timeout' expects a timeout name and a time (timeout client 30s).");
  // Removed from haproxy: refused in proxies and defaults alike.
  ExpectBackendAlert("contimeout 5s", "contimeout",
                     "'contimeout' no longer exists in HAProxy; use 'timeout connect' instead.");
  ExpectBackendAlert("srvtimeout 5s", "srvtimeout",
                     "'srvtimeout' no longer exists in HAProxy; use 'timeout server' instead.");
  ExpectAlert("defaults\n    clitimeout 5s\n", 10, "clitimeout",
              "'clitimeout' no longer exists in HAProxy; use 'timeout client' instead.");
  ExpectBackendAlert("redispatch", "redispatch",
                     "'redispatch' no longer exists in HAProxy; use 'option redispatch' "
                     "instead.");
}

TEST(ConfigProxySettings, MaxconnAndRetries) {
  const ParseOutcome o = Clean(
      "defaults\n    maxconn 500\n    retries 5\n    timeout client 1s\n"
      "    timeout connect 1s\n    timeout server 1s\n"
      "frontend fe\n    bind 10.0.0.1:80\n    default_backend be\n"
      "backend be\n    server s 10.0.0.2:80\n"
      "listen li\n    bind 10.0.0.1:81\n    maxconn 0\n    retries 0\n    server s 10.0.0.2:80\n");
  const auto& px = o.config.proxies;
  EXPECT_EQ(px[0].maxconn, 500u);
  EXPECT_EQ(px[1].maxconn, 0u);  // a backend takes no frontend setting
  EXPECT_EQ(px[1].retries, 5u);
  EXPECT_EQ(px[2].maxconn, 0u);
  EXPECT_EQ(px[2].retries, 0u);
  EXPECT_EQ(o.config.defaults[1].maxconn, 500u);
  EXPECT_EQ(o.config.defaults[1].retries, 5u);
  ExpectWarning(std::string(kPair) + "    maxconn 5\n", 14, "maxconn",
                "'maxconn' ignored because backend 'be' has no frontend capability.");
  ExpectWarning(
      "frontend fe\n    retries 5\n    bind 10.0.0.1:80\n    default_backend be\n"
      "backend be\n    server s 10.0.0.2:80\n",
      10, "retries", "'retries' ignored because frontend 'fe' has no backend capability.");
  ExpectBackendAlert("retries -1", "retries",
                     "'retries' expects an integer between 0 and 2147483647, got '-1'.");
  ExpectAlert(WithFrontendLine("maxconn lots"), 12, "maxconn",
              "'maxconn' expects an integer between 0 and 2147483647, got 'lots'.");
}

// ---------------------------------------------------------------------------------------
// options and health checks

TEST(ConfigProxyOptions, Values) {
  const ParseOutcome o = Clean(
      "defaults\n    option redispatch\n    option tcplog\n    option httpchk\n"
      "    timeout client 1s\n    timeout connect 1s\n    timeout server 1s\n"
      "backend b1\n    server s 10.0.0.2:1\n"
      "backend b2\n    no option redispatch\n    option httpchk /health\n    server s 10.0.0.2:1\n"
      "backend b3\n    option httpchk HEAD /ping\n    server s 10.0.0.2:1\n"
      "backend b4\n    option httpchk GET /ready HTTP/1.1\n    server s 10.0.0.2:1\n");
  const auto& px = o.config.proxies;
  ASSERT_EQ(px.size(), 4u);
  EXPECT_TRUE(px[0].redispatch);
  EXPECT_FALSE(px[0].tcplog);  // a frontend's setting
  EXPECT_TRUE(px[0].httpchk);
  EXPECT_EQ(px[0].httpchk_method, "OPTIONS");
  EXPECT_EQ(px[0].httpchk_uri, "/");
  EXPECT_EQ(px[0].httpchk_version, "HTTP/1.0");
  EXPECT_FALSE(px[1].redispatch);
  EXPECT_EQ(px[1].httpchk_method, "OPTIONS");
  EXPECT_EQ(px[1].httpchk_uri, "/health");
  EXPECT_EQ(px[2].httpchk_method, "HEAD");
  EXPECT_EQ(px[2].httpchk_uri, "/ping");
  EXPECT_EQ(px[2].httpchk_version, "HTTP/1.0");
  EXPECT_EQ(px[3].httpchk_method, "GET");
  EXPECT_EQ(px[3].httpchk_uri, "/ready");
  EXPECT_EQ(px[3].httpchk_version, "HTTP/1.1");
  EXPECT_EQ(o.config.defaults[1].options, (W{"redispatch", "tcplog", "httpchk"}));
  EXPECT_TRUE(o.config.defaults[1].proxy.tcplog);
  const ParseOutcome f = Clean(WithFrontendLine("option tcplog"));
  EXPECT_TRUE(f.config.proxies[0].tcplog);
}

TEST(ConfigProxyOptions, Errors) {
  ExpectBackendAlert("option frobnicate", "option", "unknown option 'frobnicate'.");
  ExpectBackendAlert("no option frobnicate", "no", "unknown option 'frobnicate'.");
  ExpectBackendAlert("no option tcplog", "no", "negation is not supported for option 'tcplog'.");
  ExpectBackendAlert("no option httpchk", "no", "negation is not supported for option 'httpchk'.");
  ExpectBackendAlert("option redispatch 2", "option",
                     "'option redispatch' takes no argument in sluice, got '2'.");
  ExpectBackendAlert("option tcplog clf", "option",
                     "'option tcplog' takes no argument in sluice, got 'clf'.");
  ExpectBackendAlert("option httpchk GET / HTTP/1.1 Host:x", "option",
                     "'option httpchk' expects [METHOD] [URI] [VERSION], got extra argument "
                     "'Host:x'.");
  ExpectBackendAlert("option", "option", "'option' expects an option name.");
  ExpectBackendAlert("no option", "no", "'no option' expects an option name.");
  ExpectBackendAlert("no way", "no", "'no' expects 'option' or 'log', got 'way'.");
  ExpectWarning("backend be\n    option http-buffer-request\n    server s 10.0.0.2:1\n", 10,
                "option",
                "'option http-buffer-request' is only applied from a frontend, listen or "
                "defaults section by sluice: backend 'be' waits for no request body.");
  EXPECT_TRUE(ParseText("frontend fe\n    bind :80\n    option http-buffer-request\n", "t.cfg")
                  .config.proxies[0]
                  .buffer_request);
  ExpectWarning("backend be\n    no option prefer-last-server\n    server s 10.0.0.2:1\n", 10, "no",
                "'no option prefer-last-server' is not supported yet by sluice, ignored.");
  ExpectWarning("backend be\n    option splice-auto\n    server s 10.0.0.2:1\n", 10, "option",
                "'option splice-auto' is ignored: sluice moves mbufs and has no pipes to splice "
                "through.");
  ExpectWarning(WithFrontendLine("option redispatch"), 12, "option",
                "'option redispatch' ignored because frontend 'fe' has no backend capability.");
  ExpectWarning(WithFrontendLine("option httpchk"), 12, "option",
                "'option httpchk' ignored because frontend 'fe' has no backend capability.");
}

TEST(ConfigProxyOptions, HttpCheckExpect) {
  const ParseOutcome o = Clean(
      "defaults\n    http-check expect status 204\n    timeout client 1s\n"
      "    timeout connect 1s\n    timeout server 1s\n"
      "backend b1\n    server s 10.0.0.2:1\n"
      "backend b2\n    option httpchk\n    http-check expect status 200,301-303,200\n"
      "    server s 10.0.0.2:1\n");
  const auto& px = o.config.proxies;
  EXPECT_EQ(Codes(px[0]), (std::vector<unsigned>{204}));
  EXPECT_EQ(Codes(px[1]), (std::vector<unsigned>{200, 301, 302, 303}));
  EXPECT_TRUE(px[1].httpchk);
  // Rules add up in the order written; a section's own replace the defaults'.
  const ParseOutcome many = Clean(
      "defaults\n    http-check expect status 204\n    http-check expect string up\n"
      "    timeout client 1s\n    timeout connect 1s\n    timeout server 1s\n"
      "backend b1\n    server s 10.0.0.2:1\n"
      "backend b2\n    http-check expect status 200\n    http-check expect ! rstring ^down\n"
      "    http-check expect hdr name -m beg X-Up value -m reg ^y\n"
      "    http-check expect !fhdr name x-b\n    server s 10.0.0.2:1\n");
  const auto& mp = many.config.proxies;
  ASSERT_EQ(mp[0].http_expects.size(), 2u);
  EXPECT_EQ(mp[0].http_expects[1].kind, check::ExpectKind::kString);
  EXPECT_EQ(mp[0].http_expects[1].pattern, "up");
  ASSERT_EQ(mp[1].http_expects.size(), 4u);
  EXPECT_EQ(Codes(mp[1]), (std::vector<unsigned>{200}));
  const HttpCheckExpect& rs = mp[1].http_expects[1];
  EXPECT_TRUE(rs.kind == check::ExpectKind::kRegex && rs.negate && rs.pattern == "^down");
  const HttpCheckExpect& hd = mp[1].http_expects[2];
  EXPECT_EQ(hd.kind, check::ExpectKind::kHeader);
  EXPECT_EQ(hd.pattern, "x-up");  // names compared lower-case
  EXPECT_EQ(hd.name_match, check::HeaderMatch::kBeg);
  EXPECT_TRUE(hd.has_value && hd.value == "^y" && hd.value_match == check::HeaderMatch::kReg);
  EXPECT_FALSE(hd.full || hd.negate);
  const HttpCheckExpect& fh = mp[1].http_expects[3];
  EXPECT_TRUE(fh.full && fh.negate && !fh.has_value && fh.pattern == "x-b");
  // http-check send: the check's request line and fields.
  const ParseOutcome send = Clean(
      "backend be\n    option httpchk\n"
      "    http-check send meth GET uri /health ver HTTP/1.1 hdr Host www hdr X-A b\n"
      "    server s 10.0.0.2:1\n");
  const ProxyConfig& sb = send.config.proxies[0];
  EXPECT_EQ(sb.httpchk_method + " " + sb.httpchk_uri + " " + sb.httpchk_version,
            "GET /health HTTP/1.1");
  ASSERT_EQ(sb.httpchk_headers.size(), 2u);
  EXPECT_EQ(sb.httpchk_headers[1].first + "=" + sb.httpchk_headers[1].second, "X-A=b");
  ExpectBackendAlert("http-check send body-lf x", "http-check",
                     "'http-check send' supports meth, uri, ver, hdr NAME VALUE and body TEXT in "
                     "sluice, got 'body-lf'.");
  // [!] status, rstatus (the codes its regex matches, computed here) and string.
  const ParseOutcome forms = Clean(
      "backend b1\n    http-check expect ! status 100-199,300-599\n    server s 10.0.0.2:1\n"
      "backend b2\n    http-check expect rstatus ^20[14]$\n    server s 10.0.0.2:1\n"
      "backend b3\n    http-check expect ! rstatus .\n    server s 10.0.0.2:1\n"
      "backend b4\n    http-check expect ! string \"not ready\"\n    server s 10.0.0.2:1\n");
  const auto& fp = forms.config.proxies;
  std::vector<unsigned> twos;
  for (unsigned c = 200; c <= 299; ++c) twos.push_back(c);
  EXPECT_EQ(Codes(fp[0]), twos);
  EXPECT_EQ(Codes(fp[1]), (std::vector<unsigned>{201, 204}));
  ASSERT_EQ(fp[2].http_expects.size(), 1u);
  EXPECT_TRUE(Codes(fp[2]).empty());  // nothing passes
  const HttpCheckExpect& ns = fp[3].http_expects.at(0);
  EXPECT_TRUE(ns.kind == check::ExpectKind::kString && ns.negate && ns.pattern == "not ready");
  ExpectBackendAlert("http-check expect custom x", "http-check",
                     "'http-check expect' supports [!] status CODES, rstatus REGEX, string TEXT, "
                     "rstring REGEX, hdr and fhdr in sluice, got 'custom'.");
  ExpectBackendAlert("http-check expect rstring (x", "http-check",
                     "'http-check expect rstring': failed to compile regex '(x': missing closing "
                     "parenthesis.");
  ExpectBackendAlert("http-check expect hdr value x", "http-check",
                     "'http-check expect' : 'hdr' expects at the name keyword as first argument "
                     "followed by a pattern.");
  ExpectBackendAlert("http-check expect hdr name -m foo x", "http-check",
                     "'http-check expect' : 'hdr' : '-m' only supports 'str', 'beg', 'end', "
                     "'sub' or 'reg' (got 'foo').");
  ExpectBackendAlert("http-check expect fhdr name x value", "http-check",
                     "'http-check expect' : 'fhdr' expect a pattern with the value keyword.");
  ExpectBackendAlert("http-check expect string a b", "http-check",
                     "'http-check expect' : only one pattern expected, got extra argument 'b'.");
  ExpectBackendAlert("http-check expect min-recv 10 string a", "http-check",
                     "'http-check expect' : 'min-recv' is not supported by sluice.");
  ExpectBackendAlert("http-check expect status", "http-check",
                     "'http-check expect' : 'status' expects a <pattern> as argument.");
  ExpectBackendAlert("http-check expect rstatus (2", "http-check",
                     "'http-check expect rstatus': failed to compile regex '(2': missing closing "
                     "parenthesis.");
  std::string rules;
  for (int i = 0; i < 17; ++i) rules += "    http-check expect status 200\n";
  ExpectBackendAlert(rules.substr(4), "http-check",
                     "'http-check expect': sluice runs at most 16 rules per section; this one is "
                     "past that.",
                     26);
  for (const char* bad : {"99", "600", "2xx", "300-200", "200,", "abc"}) {
    ExpectBackendAlert(std::string("http-check expect status ") + bad, "http-check",
                       "'http-check expect status' expects status codes between 100 and 599, "
                       "alone or as ranges, separated by commas (200,300-399), got '" +
                           std::string(bad) + "'.");
  }
  ExpectBackendAlert("http-check expect status 200 extra", "http-check",
                     "'http-check expect' : only one pattern expected, got extra argument "
                     "'extra'.");
  ExpectBackendAlert("http-check frob", "http-check",
                     "'http-check' expects 'expect', 'send', 'connect', 'comment', 'set-var', "
                     "'set-var-fmt', 'unset-var', 'send-state' or 'disable-on-404', got 'frob'.");
  ExpectBackendAlert("http-check", "http-check", "'http-check' expects 'expect status CODES'.");
  ExpectWarning("backend be\n    http-check comment hello\n    server s 10.0.0.2:1\n", 10,
                "http-check", "'http-check comment' is not supported yet by sluice, ignored.");
  ExpectWarning(WithFrontendLine("http-check expect status 200"), 12, "http-check",
                "'http-check expect' ignored because frontend 'fe' has no backend capability.");
}

// ---------------------------------------------------------------------------------------
// default_backend

TEST(ConfigProxyLinks, DefaultBackend) {
  const ParseOutcome o = Clean(
      "defaults\n    default_backend be\n    timeout client 1s\n    timeout connect 1s\n"
      "    timeout server 1s\n"
      "frontend f1\n    bind 10.0.0.1:1\n"
      "frontend f2\n    bind 10.0.0.1:2\n    default_backend li\n"
      "listen li\n    bind 10.0.0.1:3\n    server s 10.0.0.2:1\n"
      "listen l2\n    bind 10.0.0.1:4\n    default_backend li\n    server s 10.0.0.2:1\n"
      "backend be\n    server s 10.0.0.2:1\n");
  const auto& px = o.config.proxies;
  EXPECT_EQ(px[0].default_backend, "be");  // from defaults
  EXPECT_EQ(px[0].default_backend_index, 4);
  EXPECT_EQ(px[1].default_backend_index, 2);
  EXPECT_EQ(px[2].default_backend, "be");  // a listen inherits it too
  EXPECT_EQ(px[2].default_backend_index, 4);
  EXPECT_EQ(px[3].default_backend_index, 2);
  EXPECT_TRUE(px[4].default_backend.empty());  // a backend does not
  EXPECT_EQ(px[4].default_backend_index, -1);
}

TEST(ConfigProxyLinks, DefaultBackendErrors) {
  ExpectAlert("frontend fe\n    bind 10.0.0.1:80\n    default_backend nope\n", 11,
              "default_backend", "frontend 'fe' : 'default_backend' 'nope' names no backend.");
  ExpectAlert(
      "frontend fe\n    bind 10.0.0.1:80\n    default_backend f2\n"
      "frontend f2\n    bind 10.0.0.1:81\n    default_backend be\n"
      "backend be\n    server s 10.0.0.2:1\n",
      11, "default_backend",
      "frontend 'fe' : 'default_backend' 'f2' is a frontend, not a "
      "backend.");
  // Inherited: the alert names the defaults line that wrote it.
  ExpectAlert(
      "defaults\n    default_backend gone\n    timeout client 1s\n"
      "    timeout connect 1s\n    timeout server 1s\n"
      "frontend fe\n    bind 10.0.0.1:80\n",
      10, "default_backend", "frontend 'fe' : 'default_backend' 'gone' names no backend.");
  ExpectWarning(std::string(kPair) + "    default_backend be\n", 14, "default_backend",
                "'default_backend' ignored because backend 'be' has no frontend capability.");
  ExpectAlert(WithFrontendLine("default_backend b.e/x"), 12, "default_backend",
              "character '/' is not permitted in backend name 'b.e/x'.");
  // use_backend is kept as written for the rules compiler (controlplane/rules).
  const ParseOutcome ub = Clean(std::string(kPair) +
                                "frontend f2\n    bind 10.0.0.1:81\n    use_backend be if "
                                "TRUE\n    default_backend be\n");
  ASSERT_EQ(ub.config.proxies.back().rule_lines.size(), 1u);
  EXPECT_EQ(ub.config.proxies.back().rule_lines[0].line, 16);
  EXPECT_EQ(ub.config.proxies.back().rule_lines[0].args,
            (std::vector<std::string>{"use_backend", "be", "if", "TRUE"}));
  ExpectWarning(std::string(kPair) + "    use_backend be\n", 14, "use_backend",
                "'use_backend' ignored because backend 'be' has no frontend capability.");
  ExpectAlert("defaults\n    http-request deny\n", 10, "http-request",
              "'http-request' not allowed in 'defaults' section.");
}

// ---------------------------------------------------------------------------------------
// log, log-format

TEST(ConfigProxyLog, Lines) {
  const ParseOutcome o = Clean(
      "global\n    log /dev/log local0\n    log 127.0.0.1:514 len 2048 format rfc5424 local1 "
      "notice err\n    log stdout format raw sample 1:2 daemon\n"
      "defaults\n    log global\n    log 10.0.0.5 local2 info\n    log-format \"%ci %b\"\n"
      "    timeout client 1s\n    timeout connect 1s\n    timeout server 1s\n" +
      std::string(kPair) +
      "    log 10.0.0.6 local3\n"
      "listen li\n    no log\n    log global\n    bind 10.0.0.1:81\n    server s 10.0.0.2:1\n");
  EXPECT_EQ(o.config.global.logs,
            (W{"/dev/log local0", "127.0.0.1:514 len 2048 format rfc5424 local1 notice err",
               "stdout format raw sample 1:2 daemon"}));
  EXPECT_EQ(o.config.defaults[1].proxy.logs, (W{"global", "10.0.0.5 local2 info"}));
  const auto& px = o.config.proxies;
  EXPECT_EQ(px[0].logs, (W{"global", "10.0.0.5 local2 info"}));
  EXPECT_EQ(px[0].log_format, "%ci %b");
  EXPECT_EQ(px[1].logs, (W{"global", "10.0.0.5 local2 info", "10.0.0.6 local3"}));
  EXPECT_EQ(px[1].log_format, "");  // a frontend's setting
  EXPECT_EQ(px[2].logs, W{"global"});
}

TEST(ConfigProxyLog, Errors) {
  ExpectBackendAlert("log", "log",
                     "'log' expects 'global' or a target and a facility (log 127.0.0.1:514 "
                     "local0).");
  ExpectBackendAlert("log 127.0.0.1", "log",
                     "'log' expects a facility after the target (log TARGET [len N] [format F] "
                     "[sample R:S] FACILITY [LEVEL [MINLEVEL]]).");
  const std::string facilities =
      " (kern, user, mail, daemon, auth, syslog, lpr, news, uucp, cron, auth2, ftp, ntp, "
      "audit, alert, cron2, local0 to local7).";
  ExpectBackendAlert("log 127.0.0.1 local9", "log",
                     "'log' : unknown facility 'local9'" + facilities);
  ExpectBackendAlert("log 127.0.0.1 local0 loud", "log",
                     "'log' : unknown level 'loud' (emerg, alert, crit, err, warning, notice, "
                     "info, debug).");
  ExpectBackendAlert("log 127.0.0.1 local0 info debug more", "log",
                     "'log' : extra argument 'more' after the facility, the level and the minimum "
                     "level.");
  ExpectBackendAlert("log 127.0.0.1 len 0 local0", "log",
                     "'log' : 'len' expects an integer between 1 and 65535, got '0'.");
  ExpectBackendAlert(
      "log 127.0.0.1 format json local0", "log",
      "'log' : 'format' expects local, rfc3164, rfc5424, priority, short, timed, iso "
      "or raw, got 'json'.");
  ExpectBackendAlert("log 127.0.0.1 sample 3 local0", "log",
                     "'log' : 'sample' expects RANGES:SIZE (1-3:4), got '3'.");
  ExpectBackendAlert("log 127.0.0.1 len", "log", "'log' : 'len' expects a value.");
  ExpectBackendAlert("log global local0", "log", "'log global' takes no argument, got 'local0'.");
  ExpectBackendAlert("no log now", "no log", "'no log' takes no argument, got 'now'.");
  ExpectAlert("global\n    log global\n", 10, "log",
              "'log global' is only valid in 'defaults', 'frontend', 'backend' and 'listen'.");
  ExpectAlert("global\n    log /dev/log\n", 10, "log",
              "'log' expects a facility after the target (log TARGET [len N] [format F] [sample "
              "R:S] FACILITY [LEVEL [MINLEVEL]]).");
  ExpectWarning(std::string(kPair) + "    log-format \"%ci\"\n", 14, "log-format",
                "'log-format' ignored because backend 'be' has no frontend capability.");
  ExpectAlert(WithFrontendLine("log-format %ci %b"), 12, "log-format",
              "'log-format' expects one format string (quote it), got extra argument '%b'.");
}

// ---------------------------------------------------------------------------------------
// Defaults inheritance, in one place

TEST(ConfigProxyDefaults, EverySettingIsInherited) {
  const ParseOutcome o = Clean(
      "defaults base\n"
      "    mode tcp\n"
      "    timeout connect 1s\n    timeout client 2s\n    timeout server 3s\n"
      "    timeout queue 4s\n    timeout tunnel 5s\n    timeout check 6s\n"
      "    balance static-rr\n    retries 7\n    maxconn 8\n"
      "    option redispatch\n    option tcplog\n    option httpchk HEAD /hc\n"
      "    http-check expect status 204\n"
      "    log global\n    log-format \"%ci\"\n"
      "    default-server inter 9s\n"
      "defaults copy from base\n" +
      std::string(kPair) + "listen li\n    bind 10.0.0.1:81\n    server s 10.0.0.2:2\n");
  // The legacy fields of the defaults section are still recorded.
  const DefaultsConfig& d = o.config.defaults[1];
  EXPECT_EQ(d.name, "base");
  EXPECT_EQ(d.mode, "tcp");
  EXPECT_EQ(d.retries, 7u);
  EXPECT_EQ(d.maxconn, 8u);
  EXPECT_EQ(d.balance, W{"static-rr"});
  EXPECT_EQ(d.options, (W{"redispatch", "tcplog", "httpchk"}));
  EXPECT_EQ(d.timeouts_ms.size(), 6u);
  EXPECT_EQ(o.config.defaults[2].name, "copy");
  EXPECT_EQ(o.config.defaults[2].proxy.timeout_tunnel_ms, 5000u);
  EXPECT_EQ(o.config.defaults[2].default_server.inter_ms, 9000u);

  const auto& px = o.config.proxies;
  ASSERT_EQ(px.size(), 3u);
  const ProxyConfig& fe = px[0];
  EXPECT_EQ(fe.timeout_client_ms, 2000u);
  EXPECT_EQ(fe.maxconn, 8u);
  EXPECT_TRUE(fe.tcplog);
  EXPECT_EQ(fe.logs, W{"global"});
  EXPECT_EQ(fe.log_format, "%ci");
  EXPECT_EQ(fe.timeout_server_ms, 0u);
  EXPECT_FALSE(fe.httpchk);
  const ProxyConfig& be = px[1];
  EXPECT_EQ(be.timeout_connect_ms, 1000u);
  EXPECT_EQ(be.timeout_server_ms, 3000u);
  EXPECT_EQ(be.timeout_queue_ms, 4000u);
  EXPECT_EQ(be.timeout_tunnel_ms, 5000u);
  EXPECT_EQ(be.timeout_check_ms, 6000u);
  EXPECT_EQ(be.timeout_client_ms, 0u);
  EXPECT_EQ(be.balance, BalanceAlgo::kStaticRr);
  EXPECT_EQ(be.retries, 7u);
  EXPECT_EQ(be.maxconn, 0u);
  EXPECT_TRUE(be.redispatch);
  EXPECT_TRUE(be.httpchk);
  EXPECT_EQ(be.httpchk_method, "HEAD");
  EXPECT_EQ(be.httpchk_uri, "/hc");
  EXPECT_EQ(Codes(be), (std::vector<unsigned>{204}));
  EXPECT_EQ(be.logs, W{"global"});
  EXPECT_EQ(be.servers[0].inter_ms, 9000u);
  const ProxyConfig& li = px[2];
  EXPECT_EQ(li.timeout_client_ms, 2000u);
  EXPECT_EQ(li.timeout_tunnel_ms, 5000u);
  EXPECT_EQ(li.maxconn, 8u);
  EXPECT_EQ(li.balance, BalanceAlgo::kStaticRr);
  EXPECT_EQ(li.servers[0].inter_ms, 9000u);
}

TEST(ConfigProxyDefaults, ProxySettingsOverrideAndNewDefaultsReset) {
  const ParseOutcome o = Clean(
      "defaults\n    balance leastconn\n    http-check expect status 204\n"
      "    timeout client 1s\n    timeout connect 1s\n    timeout server 1s\n"
      "backend b1\n    balance first\n    http-check expect status 200\n"
      "    server s 10.0.0.2:1\n"
      "defaults\n    timeout client 1s\n    timeout connect 1s\n    timeout server 1s\n"
      "backend b2\n    server s 10.0.0.2:1\n");
  const auto& px = o.config.proxies;
  EXPECT_EQ(px[0].balance, BalanceAlgo::kFirst);
  EXPECT_EQ(Codes(px[0]), (std::vector<unsigned>{200}));
  EXPECT_EQ(px[1].balance, BalanceAlgo::kRoundRobin);
  EXPECT_TRUE(px[1].http_expects.empty());
}

// ---------------------------------------------------------------------------------------
// Warnings about incomplete proxies, and keywords sluice does not have yet

TEST(ConfigProxyWarnings, IncompleteProxies) {
  ExpectWarning("frontend fe\n    default_backend be\nbackend be\n    server s 10.0.0.2:1\n", 9,
                "frontend",
                "frontend 'fe' has no 'bind' line and receives no connection; declare it as a "
                "backend if that was intended.");
  ExpectWarning("listen li\n    server s 10.0.0.2:1\n", 9, "listen",
                "listen 'li' has no 'bind' line and receives no connection; declare it as a "
                "backend if that was intended.");
  ExpectWarning("frontend fe\n    bind 10.0.0.1:80\n", 9, "frontend",
                "frontend 'fe' has no 'default_backend' nor 'use_backend', so its connections "
                "have nowhere to go.");
  ExpectWarning("defaults\n    timeout connect 1s\n    timeout server 1s\n" + std::string(kPair),
                12, "timeout",
                "missing timeouts for frontend 'fe': set 'timeout client' here or in a "
                "'defaults' section, or idle connections are never closed.");
  ExpectWarning("defaults\n    timeout client 1s\n    timeout connect 1s\n" + std::string(kPair),
                15, "timeout",
                "missing timeouts for backend 'be': set 'timeout server' here or in a "
                "'defaults' section, or idle connections are never closed.");
  // A backend without servers is valid (haproxy answers 503 in HTTP; TCP closes).
  Clean("backend be\n");
}

TEST(ConfigProxyWarnings, KeywordsNotSupportedYet) {
  for (const char* kw : {"monitor-uri /up", "fullconn 100", "cookie SRV"}) {
    const std::string word = std::string(kw).substr(0, std::string(kw).find(' '));
    ExpectWarning("backend be\n    " + std::string(kw) + "\n    server s 10.0.0.2:1\n", 10, word,
                  "'" + word + "' is not supported yet by sluice, ignored.");
  }
  for (const char* kw : {"server-template s 3 x:1",
                         "tcp-check connect", "source 10.0.0.1"}) {
    const std::string word = std::string(kw).substr(0, std::string(kw).find(' '));
    ExpectBackendAlert(kw, word, "'" + word + "' is not supported yet by sluice.");
  }
  ExpectBackendAlert("frobnicate", "frobnicate",
                     "unknown keyword 'frobnicate' in 'backend' section");
  ExpectAlert(
      "frontend fe\n    frobnicate\n    bind 10.0.0.1:80\n    default_backend be\n"
      "backend be\n    server s 10.0.0.2:1\n",
      10, "frobnicate", "unknown keyword 'frobnicate' in 'frontend' section");
  ExpectAlert("listen li\n    frobnicate\n    bind 10.0.0.1:80\n    server s 10.0.0.2:1\n", 10,
              "frobnicate", "unknown keyword 'frobnicate' in 'listen' section");
}

TEST(ConfigProxyWarnings, GlobalLogIsRecordedQuietly) {
  const ParseOutcome o = Clean("global\n    log /dev/log local0 info\n");
  EXPECT_EQ(o.config.global.logs, W{"/dev/log local0 info"});
}

// ---------------------------------------------------------------------------------------
// Other sections are still refused; arbitrary input never breaks the parser.

TEST(ConfigProxyRobustness, OtherSectionsStayUnsupported) {
  for (const char* section :
       {"peers", "resolvers", "cache", "program", "ring", "mailers"}) {
    ExpectAlert(std::string(section) + " x\n  foo \"unterminated\n", 9, section,
                "section '" + std::string(section) + "' is not supported yet by sluice");
  }
  // A proxy section after one resumes parsing.
  ExpectAlert("peers p\n  peer a 1.2.3.4:1\n" + std::string(kPair), 9, "peers",
              "section 'peers' is not supported yet by sluice");
}

TEST(ConfigProxyRobustness, ArbitraryBytesNeverCrash) {
  std::mt19937 rng(2024);
  const std::string alphabet =
      std::string("frontbackendlisv :.,[]@*-0123456789\"'#\n\t ") + std::string(1, '\0') + "\xff";
  const std::vector<std::string> seeds = {
      std::string(kBase) + kPair,
      "listen l\n bind [fd00::1]:80,:81\n server s ipv6@fd00::2:80 weight 3 check\n",
      "defaults d\n mode http\n default-server inter 1s\nbackend b from d\n server a 1.2.3.4:5\n",
      "frontend f\n bind :80\n default_backend b\n id 3\nbackend b\n id 3\n"};
  for (int i = 0; i < 3000; ++i) {
    std::string text = seeds[rng() % seeds.size()];
    const int edits = 1 + static_cast<int>(rng() % 16);
    for (int e = 0; e < edits; ++e) {
      const size_t at = text.empty() ? 0 : rng() % (text.size() + 1);
      if (rng() % 2 == 0 || text.empty()) {
        text.insert(at, 1, alphabet[rng() % alphabet.size()]);
      } else {
        text.erase(at < text.size() ? at : text.size() - 1, 1);
      }
    }
    const ParseOutcome o = ParseText(text, "fuzz.cfg");
    for (const Diagnostic& d : o.diagnostics) {
      const std::string line = FormatDiagnostic(d, 1);
      EXPECT_EQ(line.find('\n'), std::string::npos) << line;
    }
    for (const ProxyConfig& p : o.config.proxies) {
      EXPECT_NE(p.id, 0u);
      EXPECT_LT(p.default_backend_index, static_cast<int>(o.config.proxies.size()));
      for (const ServerConfig& s : p.servers) EXPECT_NE(s.id, 0u);
    }
  }
}

// ---------------------------------------------------------------------------------------
// log targets and log-format strings, checked by controlplane/log

TEST(ConfigProxyLog, TargetsCheckedByTheLogger) {
  Clean(
      "global\n    log file@/var/log/sluice.log local0\n    log udp@[::1]:514 local0\n"
      "    log stdout format raw local0\n    log ipv4@10.0.0.7:1514 len 80 local1\n" +
      std::string(kPair) + "    log unix@/dev/log format short sample 1-2:4 daemon\n");
  ExpectBackendAlert("log syslog.example.com local0", "log",
                     "'log' : 'syslog.example.com' is not a numeric IPv4 or IPv6 address "
                     "(sluice resolves no names).");
  ExpectBackendAlert("log 127.0.0.1 len 40 local0", "log",
                     "'log' : 'len' expects an integer between 80 and 65535, got '40'.");
  ExpectBackendAlert("log 127.0.0.1:0 local0", "log",
                     "'log' : port '0' in '127.0.0.1:0' is not between 1 and 65535.");
  ExpectBackendAlert("log 127.0.0.1 sample 1-5:4 local0", "log",
                     "'log' : 'sample' : range '1-5' is not within 1-4.");
  ExpectBackendAlert("log ring@buf1 local0", "log",
                     "'log' : target 'ring@buf1' : 'ring@' is not supported by sluice (an IP "
                     "address and port, udp@, ipv4@, ipv6@, a unix socket path, unix@, stdout, "
                     "stderr or file@PATH).");
  ExpectAlert("global\n    log ipv6@10.0.0.1 local0\n", 10, "log",
              "'log' : 'ipv6@10.0.0.1' is not an IPv6 address.");
  ExpectAlert("defaults\n    log file@ local0\n", 10, "log", "'log' : 'file@' expects a path.");
  // A refused line is not recorded.
  const ParseOutcome o = Parse("global\n    log host.example local0\n    log /dev/log local0\n");
  EXPECT_EQ(o.config.global.logs, W{"/dev/log local0"});
}

TEST(ConfigProxyLog, FormatsCheckedByTheLogger) {
  const ParseOutcome o = Clean(WithFrontendLine(
      "log-format \"%{+Q}o %ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %{-Q}H %pid 100%%\""));
  EXPECT_EQ(o.config.proxies[0].log_format,
            "%{+Q}o %ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %{-Q}H %pid 100%%");
  ExpectAlert(WithFrontendLine("log-format \"%ci %xx\""), 12, "log-format",
              "'log-format' : unknown variable 'xx' (write '%%' for a literal '%').");
  ExpectAlert(WithFrontendLine("log-format \"%ci %rt\""), 12, "log-format",
              "'log-format' : variable 'rt' is not supported by sluice yet.");
  // %[...] is compiled with the rules (controlplane/rules); here only its brackets count.
  Clean(WithFrontendLine("log-format \"%ci %[src,map_ip(/x,ZZ)]\""));
  ExpectAlert(WithFrontendLine("log-format \"%[src\""), 12, "log-format",
              "'log-format' : missing ']' after '%[' at position 0.");
  ExpectAlert("defaults\n    log-format \"50%\"\n", 10, "log-format",
              "'log-format' : '%' at the end of the format (write '%%' for a literal '%').");
  // A backend ignores log-format with a warning, before looking at it.
  ExpectWarning(std::string(kPair) + "    log-format \"%zz\"\n", 14, "log-format",
                "'log-format' ignored because backend 'be' has no frontend capability.");
}

}  // namespace
}  // namespace sluice::config

namespace sluice::config {
namespace {

// `stick-table`: HAProxy 2.6's alerts, as `haproxy -c` printed them (oracle run).
TEST(ConfigStickTable, AlertsAsHaproxy) {
  const std::pair<const char*, const char*> cases[] = {
      {"stick-table type ip", "stick-table: missing size."},
      {"stick-table expire 10s", "stick-table: missing size."},
      {"stick-table size 10", "stick-table: missing type."},
      {"stick-table type foo size 10", "stick-table: unknown type 'foo'."},
      {"stick-table type string len abc size 10", "stick-table: unknown type 'abc'."},
      {"stick-table type ip size", "stick-table: missing argument after 'size'."},
      {"stick-table type ip size 1x",
       "stick-table: unexpected character 'x' in argument of 'size'."},
      {"stick-table type ip size 1 expire 10x",
       "stick-table: unexpected character 'x' in argument of 'expire'."},
      {"stick-table type ip size 1 foo", "stick-table: unknown argument 'foo'."},
      {"stick-table type ip size 1 store foo", "stick-table: unknown store option 'foo'."},
      {"stick-table type ip size 1 store http_req_rate",
       "stick-table: missing argument to store option 'http_req_rate'."},
      {"stick-table type ip size 1 store http_req_cnt(10s)",
       "stick-table: unexpected argument to store option 'http_req_cnt'."},
      {"stick-table type ip size 1 store http_req_rate(10x)",
       "stick-table: error when processing store option 'http_req_rate'."},
      {"stick-table type ip size 1 store http_req_rate(10s",
       "stick-table: missing closing parenthesis after store option 'http_req_rate'."},
      {"stick-table type ip size 1 srvkey foo", "stick-table : unknown server key type 'foo'."},
      {"stick-table type ip size 1 srvkey", "stick-table : unknown server key type ''."},
      // Arrays (haproxy 2.6.12 -c on the same lines).
      {"stick-table type ip size 1 store gpc(0)",
       "stick-table: array size is out of allowed range (1-100) for store option 'gpc'."},
      {"stick-table type ip size 1 store gpc(101)",
       "stick-table: array size is out of allowed range (1-100) for store option 'gpc'."},
      {"stick-table type ip size 1 store gpt(101)",
       "stick-table: array size is out of allowed range (1-100) for store option 'gpt'."},
      {"stick-table type ip size 1 store gpc_rate(101,10s)",
       "stick-table: array size is out of allowed range (1-100) for store option 'gpc_rate'."},
      {"stick-table type ip size 1 store gpc",
       "stick-table: missing argument to store option 'gpc'."},
      {"stick-table type ip size 1 store gpc()",
       "stick-table: array size is out of allowed range (1-100) for store option 'gpc'."},
      {"stick-table type ip size 1 store gpc(abc)",
       "stick-table: array size is out of allowed range (1-100) for store option 'gpc'."},
      {"stick-table type ip size 1 store gpc(-1)",
       "stick-table: array size is out of allowed range (1-100) for store option 'gpc'."},
      {"stick-table type ip size 1 store gpc(2",
       "stick-table: missing closing parenthesis after store option 'gpc'."},
      {"stick-table type ip size 1 store gpc(2,10s)",
       "stick-table: unexpected argument to store option 'gpc'."},
      {"stick-table type ip size 1 store gpc_rate(2)",
       "stick-table: missing argument to store option 'gpc_rate'."},
      {"stick-table type ip size 1 store gpc_rate(10s)",
       "stick-table: missing argument to store option 'gpc_rate'."},
      {"stick-table type ip size 1 store gpc_rate(2,abc)",
       "stick-table: error when processing store option 'gpc_rate'."},
      {"stick-table type ip size 1 store gpt(3),gpt0",
       "stick-table: simultaneous usage of 'gpt' and 'gpt0' in a same table is not permitted as "
       "'gpt' overrides 'gpt0'."},
      {"stick-table type ip size 1 store gpc(3),gpc1",
       "stick-table: simultaneous usage of 'gpc' and 'gpc[0/1]' in a same table is not "
       "permitted as 'gpc' overrides 'gpc[0/1]'."},
      {"stick-table type ip size 1 store gpc_rate(3,10s),gpc0_rate(10s)",
       "stick-table: simultaneous usage of 'gpc_rate' and 'gpc[0/1]_rate' in a same table is "
       "not permitted as 'gpc_rate' overrides 'gpc[0/1]_rate'."},
  };
  for (const auto& [line, message] : cases) {
    ExpectAlert(WithFrontendLine(line), 12, "stick-table", message);
  }
  ExpectWarning(WithFrontendLine("stick-table type ip size 1 store gpt0,gpt0"), 12, "stick-table",
                "stick-table: store option 'gpt0' already enabled, ignored.");
  ExpectWarning(WithFrontendLine("stick-table type ip size 1 store gpc(3),gpc(2)"), 12,
                "stick-table", "stick-table: store option 'gpc' already enabled, ignored.");
  for (const char* ok : {"store gpc(100)", "store gpt(100)", "store gpc_rate(100,10s)",
                         "store gpc(3),gpc0_rate(10s)", "store gpc_rate(3,10s),gpc1"}) {
    const ParseOutcome a = Parse(WithFrontendLine(std::string("stick-table type ip size 1 ") + ok));
    EXPECT_FALSE(a.HasErrors()) << ok << Dump(a);
  }
  {
    const ParseOutcome a =
        Parse(WithFrontendLine("stick-table type ip size 1 store gpc_rate(7,2s),gpt(4)"));
    ASSERT_FALSE(a.HasErrors()) << Dump(a);
    const StickTableConfig& t = *a.config.proxies[0].stick_table;
    ASSERT_EQ(t.store.size(), 2u);
    EXPECT_EQ(t.store[0].elems, 7u);
    EXPECT_EQ(t.store[0].period_ms, 2000u);
    EXPECT_EQ(t.store[1].elems, 4u);
  }
  const ParseOutcome o = Parse(WithFrontendLine(
      "stick-table type string len 8 size 10k expire 1m nopurge srvkey addr store gpc0 store "
      "conn_rate(3s)"));
  ASSERT_FALSE(o.HasErrors()) << Dump(o);
  const StickTableConfig& t = *o.config.proxies[0].stick_table;
  EXPECT_EQ(t.type, "string");
  EXPECT_EQ(t.key_len, 8u);
  EXPECT_EQ(t.size, 10240u);
  EXPECT_EQ(t.expire_ms, 60000u);
  EXPECT_TRUE(t.nopurge);
  EXPECT_TRUE(t.srvkey_addr);
  ASSERT_EQ(t.store.size(), 2u);
  EXPECT_EQ(t.store[1].name, "conn_rate");
  EXPECT_EQ(t.store[1].period_ms, 3000u);
}

// stats ...: the page's settings (docs/stats-page.md), inherited from defaults; `stats
// admin` and `stats http-request` kept for the rules compiler; HAProxy 2.6.12's alerts.
TEST(ConfigProxyStats, SettingsAndAlerts) {
  const ParseOutcome o = Clean(
      "defaults page\n    timeout client 1s\n    timeout connect 1s\n    timeout server 1s\n"
      "    stats uri /d\n    stats refresh 5\n"
      "listen l\n    bind 10.0.0.1:81\n    stats realm My\\ Realm\n    stats auth a:b:c\n"
      "    stats auth v\n    stats scope .\n    stats scope be\n    stats hide-version\n"
      "    stats show-legends\n    stats show-node n1\n    stats show-desc text\n"
      "    stats admin if TRUE\n    stats http-request deny if FALSE\n"
      "    server s 10.0.0.2:80\n"
      "frontend fe\n    bind 10.0.0.1:80\n    stats enable\n    default_backend be\n"
      "backend be\n    server s 10.0.0.2:80\n");
  ASSERT_EQ(o.config.proxies.size(), 3u);
  const StatsConfig& l = o.config.proxies[0].stats;
  EXPECT_TRUE(l.enabled);
  EXPECT_EQ(l.uri, "/d");      // from the defaults
  EXPECT_EQ(l.refresh_s, 5u);  // seconds without a unit
  EXPECT_EQ(l.realm, "My Realm");
  ASSERT_EQ(l.auth.size(), 2u);
  EXPECT_EQ(l.auth[0], (std::pair<std::string, std::string>{"a", "b:c"}));
  EXPECT_EQ(l.auth[1], (std::pair<std::string, std::string>{"v", ""}));
  EXPECT_EQ(l.scope, (std::vector<std::string>{".", "be"}));
  EXPECT_TRUE(l.hide_version && l.show_legends && l.show_node && l.show_desc);
  EXPECT_EQ(l.node, "n1");
  EXPECT_EQ(l.desc, "text");
  ASSERT_EQ(o.config.proxies[0].rule_lines.size(), 2u);
  EXPECT_EQ(o.config.proxies[0].rule_lines[0].args[1], "admin");
  const StatsConfig& fe = o.config.proxies[1].stats;
  EXPECT_TRUE(fe.enabled);
  EXPECT_EQ(fe.uri, "/d");
  EXPECT_EQ(fe.realm, "HAProxy Statistics");
  // As in HAProxy, a defaults section's page is every proxy's that uses it.
  EXPECT_TRUE(o.config.proxies[2].stats.enabled);
  EXPECT_EQ(o.config.proxies[2].stats.uri, "/d");
  EXPECT_EQ(Clean("frontend fe\n    bind 10.0.0.1:80\n    stats refresh 1m\n"
                  "    default_backend be\nbackend be\n    server s 10.0.0.2:80\n")
                .config.proxies[0]
                .stats.refresh_s,
            60u);
  ExpectBackendAlert("stats foo", "stats",
                     "unknown stats parameter 'foo', expects 'admin', 'uri', 'realm', 'auth', "
                     "'scope', 'enable', 'hide-version', 'show-node', 'show-desc' or "
                     "'show-legends'.");
  ExpectBackendAlert("stats socket /tmp/s", "stats",
                     "unknown stats parameter 'socket', expects 'admin', 'uri', 'realm', 'auth', "
                     "'scope', 'enable', 'hide-version', 'show-node', 'show-desc' or "
                     "'show-legends'.");
  ExpectBackendAlert("stats uri", "stats", "'uri' needs an URI prefix.");
  ExpectBackendAlert("stats realm", "stats", "'realm' needs an realm name.");
  ExpectBackendAlert("stats scope", "stats", "'scope' needs a proxy name.");
  ExpectBackendAlert("stats admin", "stats",
                     "'stats admin' requires either 'if' or 'unless' followed by a condition.");
  ExpectBackendAlert("stats admin TRUE", "stats",
                     "'stats admin' requires either 'if' or 'unless' followed by a condition.");
  ExpectBackendAlert("stats refresh xx", "stats",
                     "unexpected character in argument to stats refresh interval: 'xx'.");
  ExpectAlert("defaults\n    stats admin if TRUE\n", 10, "stats",
              "'stats admin' not allowed in 'defaults' section.");
}

// The health check's request as HAProxy 2.6.12 sent it (captured from Debian's haproxy
// for each of these lines): names in lower case, content-length for a body, connection:
// close for HTTP/1.1.
TEST(ConfigProxyHttpCheck, RequestBytesAsHaproxy) {
  struct Case {
    const char* lines;
    const char* want;
  } cases[] = {
      {"    http-check send meth POST uri /health ver HTTP/1.1 hdr Host example.org hdr x-a b "
       "body \"abc def\"\n",
       "POST /health HTTP/1.1\r\nhost: example.org\r\nx-a: b\r\ncontent-length: 7\r\n"
       "connection: close\r\n\r\nabc def"},
      {"    http-check send meth GET uri /a ver HTTP/1.1 hdr Host Example.org\n",
       "GET /a HTTP/1.1\r\nhost: Example.org\r\nconnection: close\r\n\r\n"},
      {"    http-check send meth POST uri /h2 body hello\n",
       "POST /h2 HTTP/1.0\r\ncontent-length: 5\r\n\r\nhello"},
      {"", "OPTIONS / HTTP/1.0\r\n\r\n"},
  };
  for (const Case& c : cases) {
    const ParseOutcome o = Clean(std::string("backend be\n    option httpchk\n") + c.lines +
                                 "    server s 10.0.0.2:80 check\n");
    ASSERT_EQ(o.config.proxies.size(), 1u);
    EXPECT_EQ(HealthCheckRequest(o.config.proxies[0]), c.want) << c.lines;
  }
  ExpectBackendAlert("http-check send body", "http-check",
                     "'http-check send' : 'body' expects a string as argument.");
  ExpectBackendAlert("http-check send body \"\"", "http-check",
                     "'http-check send' : 'body' expects a string as argument.");
  ExpectBackendAlert("http-check send body " + std::string(250, 'x'), "http-check",
                     "'http-check send' makes a request of 293 bytes; sluice sends at most 255.");
}

}  // namespace
}  // namespace sluice::config
