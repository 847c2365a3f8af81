// Tests for controlplane/config: the lexer (quoting, escapes, "${VAR}"), the section tables
// and every class of diagnostic, each checked for its file, line and keyword.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
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

// tests/fixtures/config: SLUICE_FIXTURES_DIR when the build defines it, else found next to
// this source file or above the working directory (meson runs tests from the build tree).
std::string FixturesDir() {
  namespace fs = std::filesystem;
  std::vector<fs::path> candidates;
#ifdef SLUICE_FIXTURES_DIR
  candidates.emplace_back(SLUICE_FIXTURES_DIR);
#endif
  candidates.push_back(fs::path(__FILE__).parent_path().parent_path() / "fixtures");
  std::error_code ec;
  for (fs::path dir = fs::current_path(ec); !ec && !dir.empty(); dir = dir.parent_path()) {
    candidates.push_back(dir / "tests" / "fixtures");
    if (dir == dir.root_path()) break;
  }
  for (const fs::path& c : candidates) {
    if (fs::exists(c / "config" / "minimal.cfg", ec)) return c.string();
  }
  return "tests/fixtures";
}

std::string Fixture(const std::string& name) {
  static const std::string dir = FixturesDir();
  return dir + "/config/" + name;
}

// A valid dataplane section (lines 1-3); tests append the line under test at line 4.
constexpr char kBase[] =
    "dataplane\n"
    "    port p0 net_tap0,iface=sl0\n"
    "    address p0 10.0.0.1/24\n";

std::vector<Diagnostic> Alerts(const ParseOutcome& o) {
  std::vector<Diagnostic> out;
  for (const Diagnostic& d : o.diagnostics) {
    if (d.severity == Severity::kAlert) out.push_back(d);
  }
  return out;
}

std::vector<Diagnostic> Warnings(const ParseOutcome& o) {
  std::vector<Diagnostic> out;
  for (const Diagnostic& d : o.diagnostics) {
    if (d.severity == Severity::kWarning) out.push_back(d);
  }
  return out;
}

std::string Dump(const ParseOutcome& o) {
  std::string s;
  for (const Diagnostic& d : o.diagnostics) s += FormatDiagnostic(d, 1) + "\n";
  return s;
}

// Parses `text` as t.cfg and expects exactly one alert, at `line`, about `keyword`, whose
// message contains `part`.
void ExpectOneAlert(const std::string& text, int line, const std::string& keyword,
                    const std::string& part) {
  SCOPED_TRACE(text);
  const ParseOutcome o = ParseText(text, "t.cfg");
  const auto alerts = Alerts(o);
  ASSERT_EQ(alerts.size(), 1u) << Dump(o);
  EXPECT_TRUE(o.HasErrors());
  EXPECT_EQ(alerts[0].file, line > 0 ? "t.cfg" : "");  // line 0: about the whole config
  EXPECT_EQ(alerts[0].line, line);
  EXPECT_EQ(alerts[0].keyword, keyword);
  EXPECT_NE(alerts[0].message.find(part), std::string::npos) << alerts[0].message;
  // The keyword appears in the formatted line, as does the location.
  const std::string formatted = FormatDiagnostic(alerts[0], 42);
  if (line > 0) {
    EXPECT_NE(formatted.find("parsing [t.cfg:" + std::to_string(line) + "] : "), std::string::npos)
        << formatted;
  }
  const bool printable =
      std::all_of(keyword.begin(), keyword.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
  if (!keyword.empty() && printable) {
    EXPECT_NE(formatted.find(keyword), std::string::npos) << formatted;
  }
}

// A dataplane line appended to kBase at line 4.
void ExpectDataplaneAlert(const std::string& line_text, const std::string& keyword,
                          const std::string& part) {
  ExpectOneAlert(std::string(kBase) + line_text + "\n", 4, keyword, part);
}

std::vector<std::string> Words(std::string_view line) {
  auto r = SplitLine(line);
  EXPECT_TRUE(r.ok()) << r.error();
  return r.ok() ? r.value() : std::vector<std::string>{};
}

std::string SplitError(std::string_view line) {
  auto r = SplitLine(line);
  EXPECT_FALSE(r.ok());
  return r.ok() ? "" : r.error();
}

using W = std::vector<std::string>;

// ---------------------------------------------------------------------------------------
// Lexer

TEST(ConfigLexer, SplitsOnBlanksAndComments) {
  EXPECT_EQ(Words("  foo\tbar   baz  "), (W{"foo", "bar", "baz"}));
  EXPECT_EQ(Words(""), W{});
  EXPECT_EQ(Words("   # only a comment"), W{});
  EXPECT_EQ(Words("foo bar# comment"), (W{"foo", "bar"}));
  EXPECT_EQ(Words("foo#bar"), (W{"foo"}));
  EXPECT_EQ(Words("foo bar\r"), (W{"foo", "bar"}));  // CRLF files
}

TEST(ConfigLexer, DoubleQuotes) {
  EXPECT_EQ(Words(R"(a "b c" d)"), (W{"a", "b c", "d"}));
  EXPECT_EQ(Words(R"("# not a comment")"), (W{"# not a comment"}));
  EXPECT_EQ(Words(R"(x"y z"w)"), (W{"xy zw"}));
  EXPECT_EQ(Words(R"(a "" b)"), (W{"a", "", "b"}));
  EXPECT_EQ(Words(R"("it's")"), (W{"it's"}));
  EXPECT_EQ(Words(R"("a\"b" "c\\d" "e\tf")"), (W{"a\"b", "c\\d", "e\tf"}));
}

TEST(ConfigLexer, SingleQuotesAreLiteral) {
  ::setenv("SL_CFG_TEST_VAR", "value", 1);
  EXPECT_EQ(Words(R"('a b' '${SL_CFG_TEST_VAR}' 'c\d' '#x' 'say "hi"')"),
            (W{"a b", "${SL_CFG_TEST_VAR}", "c\\d", "#x", "say \"hi\""}));
  EXPECT_EQ(Words("''"), (W{""}));
  EXPECT_EQ(Words(R"('a'"b"c)"), (W{"abc"}));
}

TEST(ConfigLexer, BackslashEscapesOutsideQuotes) {
  EXPECT_EQ(Words(R"(a\ b)"), (W{"a b"}));
  EXPECT_EQ(Words(R"(a\#b)"), (W{"a#b"}));
  EXPECT_EQ(Words(R"(a\\b)"), (W{"a\\b"}));
  EXPECT_EQ(Words(R"(a\"b \'c)"), (W{"a\"b", "'c"}));
  EXPECT_EQ(Words(R"(\x41\x62 \r\n)"), (W{"Ab", "\r\n"}));
  EXPECT_EQ(Words(R"(a\qb)"), (W{"a\\qb"}));  // not an escape: kept
  EXPECT_EQ(Words(R"(a\)"), (W{"a\\"}));      // trailing backslash: kept
  EXPECT_EQ(Words(R"(\${X})"), (W{"${X}"}));
}

TEST(ConfigLexer, EnvironmentExpansion) {
  ::setenv("SL_CFG_TEST_VAR", "value", 1);
  ::setenv("SL_CFG_TEST_SPACES", "a b", 1);
  ::unsetenv("SL_CFG_TEST_UNSET");
  EXPECT_EQ(Words(R"("${SL_CFG_TEST_VAR}")"), (W{"value"}));
  EXPECT_EQ(Words(R"("pre-${SL_CFG_TEST_VAR}-post")"), (W{"pre-value-post"}));
  EXPECT_EQ(Words(R"(${SL_CFG_TEST_VAR})"), (W{"value"}));
  EXPECT_EQ(Words(R"(x${SL_CFG_TEST_VAR}y)"), (W{"xvaluey"}));
  // Expansion happens after splitting: a value with blanks stays one word.
  EXPECT_EQ(Words(R"(${SL_CFG_TEST_SPACES} z)"), (W{"a b", "z"}));
  // An undefined variable expands to nothing; unquoted, no word is left.
  EXPECT_EQ(Words(R"(a ${SL_CFG_TEST_UNSET} b)"), (W{"a", "b"}));
  EXPECT_EQ(Words(R"(a "${SL_CFG_TEST_UNSET}" b)"), (W{"a", "", "b"}));
  // A '$' without '{' is an ordinary character.
  EXPECT_EQ(Words(R"($HOME a$b $)"), (W{"$HOME", "a$b", "$"}));
}

TEST(ConfigLexer, Errors) {
  EXPECT_NE(SplitError(R"(foo "bar)").find("unmatched double quote starting at column 5"),
            std::string::npos);
  EXPECT_NE(SplitError(R"(foo 'bar)").find("unmatched single quote starting at column 5"),
            std::string::npos);
  EXPECT_NE(SplitError(R"(a\x4)").find("hexadecimal"), std::string::npos);
  EXPECT_NE(SplitError(R"(a\xzz)").find("hexadecimal"), std::string::npos);
  EXPECT_NE(SplitError(R"(a\x00)").find("\\x00"), std::string::npos);
  EXPECT_NE(SplitError(R"(${FOO)").find("missing closing '}'"), std::string::npos);
  EXPECT_NE(SplitError(R"("${FOO BAR}")").find("invalid character"), std::string::npos);
  EXPECT_NE(SplitError(R"(${})").find("empty environment variable name"), std::string::npos);
  EXPECT_NE(SplitError(std::string_view("a\0b", 3)).find("NUL"), std::string::npos);
}

TEST(ConfigLexer, Limits) {
  std::string words;
  for (size_t i = 0; i < kMaxLineWords; ++i) words += "w ";
  EXPECT_EQ(Words(words).size(), kMaxLineWords);
  EXPECT_NE(SplitError(words + "one-too-many").find("too many words"), std::string::npos);

  const std::string longest(kMaxLineBytes, 'a');
  EXPECT_EQ(Words(longest).size(), 1u);
  EXPECT_NE(SplitError(longest + "a").find("line too long"), std::string::npos);

  // Expansion is bounded too.
  const std::string big(kMaxLineBytes / 2 + 1, 'v');
  ::setenv("SL_CFG_TEST_BIG", big.c_str(), 1);
  EXPECT_NE(SplitError("${SL_CFG_TEST_BIG} ${SL_CFG_TEST_BIG}").find("line too long"),
            std::string::npos);
}

TEST(ConfigLexer, ErrorsCarryFileAndLine) {
  ExpectOneAlert(std::string(kBase) + "    file-prefix \"abc\n", 4, "",
                 "unmatched double quote starting at column 17");
  ExpectOneAlert(std::string(kBase) + "    eal-args '--foo\n", 4, "", "unmatched single quote");
  ExpectOneAlert(std::string(kBase) + "    eal-args " + std::string(kMaxLineBytes, 'x') + "\n", 4,
                 "", "line too long");
  std::string many = "    eal-args";
  for (size_t i = 0; i < kMaxLineWords; ++i) many += " x";
  ExpectOneAlert(std::string(kBase) + many + "\n", 4, "", "too many words");
}

TEST(ConfigLexer, QuotedWordsReachTheKeywords) {
  ::setenv("SL_CFG_TEST_PREFIX", "from-env", 1);
  const ParseOutcome o = ParseText(std::string(kBase) +
                                       "    file-prefix \"${SL_CFG_TEST_PREFIX}\"\n"
                                       "    eal-args 'a b' \"c d\" e\\ f ${SL_CFG_TEST_PREFIX}\n",
                                   "t.cfg");
  ASSERT_FALSE(o.HasErrors()) << Dump(o);
  EXPECT_EQ(o.config.dataplane.file_prefix, "from-env");
  EXPECT_EQ(o.config.dataplane.eal_args, (W{"a b", "c d", "e f", "from-env"}));
}

// ---------------------------------------------------------------------------------------
// Valid files

TEST(ConfigFiles, HaproxyStyleFileLoadsWithWarnings) {
  const ParseOutcome o = ParseFiles({Fixture("haproxy-style.cfg")});
  ASSERT_FALSE(o.HasErrors()) << Dump(o);
  const Config& c = o.config;
  EXPECT_EQ(c.files, W{Fixture("haproxy-style.cfg")});
  EXPECT_EQ(c.global.nbthread, 4u);
  EXPECT_EQ(c.global.maxconn, 20000u);
  EXPECT_EQ(c.Workers(), 2u);

  const DataplaneConfig& dp = c.dataplane;
  EXPECT_TRUE(dp.present);
  EXPECT_EQ(dp.memory_mb, 1024u);
  EXPECT_EQ(dp.hugepages, HugePages::kAuto);
  EXPECT_EQ(dp.mbufs, 32767u);
  EXPECT_EQ(dp.neighbours, 4096u);
  EXPECT_EQ(dp.dispatch_ring, 2048u);
  EXPECT_EQ(dp.idle_sleep_us, 50u);
  EXPECT_EQ(dp.local_port_min, 40000);
  EXPECT_EQ(dp.local_port_max, 59999);
  EXPECT_EQ(dp.file_prefix, "sluice-lab");
  EXPECT_EQ(dp.eal_args, (W{"--no-telemetry", "--log-level=lib.eal:debug"}));

  ASSERT_EQ(dp.ports.size(), 2u);
  EXPECT_EQ(dp.ports[0].name, "client");
  EXPECT_EQ(dp.ports[0].device, "net_tap0,iface=sl-client0");
  EXPECT_FALSE(dp.ports[0].is_pci);
  ASSERT_EQ(dp.ports[0].addresses.size(), 2u);
  EXPECT_EQ(net::ToString(dp.ports[0].addresses[0]), "192.0.2.1/24");
  EXPECT_EQ(net::ToString(dp.ports[0].addresses[1]), "2001:db8:1::1/64");
  EXPECT_FALSE(dp.ports[0].vlan.has_value());
  EXPECT_EQ(dp.ports[0].file, Fixture("haproxy-style.cfg"));
  EXPECT_EQ(dp.ports[0].line, 57);
  EXPECT_EQ(dp.ports[1].name, "server");
  EXPECT_EQ(dp.ports[1].device, "0000:03:00.0");
  EXPECT_TRUE(dp.ports[1].is_pci);
  EXPECT_EQ(dp.ports[1].vlan, 100);

  ASSERT_EQ(dp.routes.size(), 3u);
  EXPECT_EQ(net::ToString(dp.routes[0].prefix), "203.0.113.0/24");
  EXPECT_EQ(net::ToString(dp.routes[0].gateway), "198.51.100.254");
  EXPECT_EQ(dp.routes[0].line, 64);
  EXPECT_EQ(net::ToString(dp.routes[1].prefix), "0.0.0.0/0");
  EXPECT_EQ(net::ToString(dp.routes[2].prefix), "::/0");
  EXPECT_EQ(net::ToString(dp.routes[2].gateway), "2001:db8:1::fffe");

  ASSERT_EQ(c.defaults.size(), 1u);
  const DefaultsConfig& d = c.defaults[0];
  EXPECT_EQ(d.mode, "http");
  EXPECT_EQ(d.retries, 3u);
  EXPECT_EQ(d.maxconn, 10000u);
  EXPECT_EQ(d.balance, W{"roundrobin"});
  EXPECT_EQ(d.options, (W{"httplog", "dontlognull", "forwardfor", "no http-server-close"}));
  using T = std::pair<std::string, uint32_t>;
  EXPECT_EQ(d.timeouts_ms, (std::vector<T>{{"connect", 5000},
                                           {"client", 50000},
                                           {"server", 50000},
                                           {"http-request", 10000},
                                           {"http-keep-alive", 120000}}));

  // Every ignored keyword is a warning at its line naming the keyword.
  const auto warnings = Warnings(o);
  auto find = [&](const std::string& kw) -> const Diagnostic* {
    for (const Diagnostic& w : warnings) {
      if (w.keyword == kw) return &w;
    }
    return nullptr;
  };
  for (const char* kw : {"log-send-hostname", "chroot", "stats socket", "user", "group", "daemon",
                         "pidfile", "cpu-map", "ulimit-n", "hard-stop-after",
                         "spread-checks"}) {
    const Diagnostic* w = find(kw);
    ASSERT_NE(w, nullptr) << kw << "\n" << Dump(o);
    EXPECT_EQ(w->file, Fixture("haproxy-style.cfg"));
    EXPECT_GT(w->line, 0);
  }
  // The TLS defaults and the HTTP bounds are taken now (docs/tls.md, docs/http.md): no
  // warning.
  for (const char* kw : {"ca-base", "crt-base", "ssl-default-bind-ciphers",
                         "ssl-default-bind-options", "tune.ssl.default-dh-param",
                         "tune.bufsize"}) {
    EXPECT_EQ(find(kw), nullptr) << kw << "\n" << Dump(o);
  }
  EXPECT_EQ(o.config.global.crt_base, "/etc/ssl/private");
  const BindTlsConfig& tlsd = o.config.global.ssl_default_bind;
  EXPECT_EQ(tlsd.ciphers, "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256");
  EXPECT_EQ(tlsd.min_ver, 0x0303);
  EXPECT_EQ(tlsd.dh_bits, 2048u);
  EXPECT_TRUE(tlsd.no_tls_tickets);
  const Diagnostic* daemon = find("daemon");
  EXPECT_EQ(daemon->line, 14);
  EXPECT_EQ(daemon->message,
            "'daemon' is ignored: sluice runs in the foreground under its supervisor.");
  EXPECT_EQ(find("stats socket")->message,
            "'stats socket' : 'expose-fd' is ignored: sluice does not hand sockets over.");
  EXPECT_EQ(find("stats socket")->line, 10);
  ASSERT_EQ(o.config.global.stats_sockets.size(), 1u);
  const StatsSocketConfig& sock = o.config.global.stats_sockets[0];
  EXPECT_EQ(sock.kind, StatsSocketConfig::Kind::kUnix);
  EXPECT_EQ(sock.path, "/run/haproxy/admin.sock");
  EXPECT_EQ(sock.mode, 0660u);
  EXPECT_EQ(sock.level, StatsSocketConfig::Level::kAdmin);
  EXPECT_EQ(o.config.global.stats_timeout_ms, 30000u);
  // `log` lines are recorded without a warning.
  EXPECT_EQ(find("log"), nullptr);
  EXPECT_EQ(o.config.global.logs, (W{"/dev/log local0", "/dev/log local1 notice"}));
  EXPECT_EQ(d.proxy.logs, W{"global"});
}

TEST(ConfigGlobal, StatsSocketsOfEveryKind) {
  const ParseOutcome o = ParseText(
      "global\n"
      "    stats socket ipv4@127.0.0.1:9999 level operator\n"
      "    stats socket ipv6@[::1]:9998 level user\n"
      "    stats socket unix@/tmp/a.sock mode 600 uid 0 gid 0\n"
      "    stats socket 127.0.0.1:9997\n"
      "    stats maxconn 300\n"
      "dataplane\n    port p net_null0\n",
      "s.cfg");
  ASSERT_FALSE(o.HasErrors()) << Dump(o);
  const auto& s = o.config.global.stats_sockets;
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s[0].kind, StatsSocketConfig::Kind::kTcp4);
  EXPECT_EQ(s[0].address, "127.0.0.1");
  EXPECT_EQ(s[0].port, 9999);
  EXPECT_EQ(s[0].level, StatsSocketConfig::Level::kOperator);
  EXPECT_EQ(s[1].kind, StatsSocketConfig::Kind::kTcp6);
  EXPECT_EQ(s[1].address, "::1");
  EXPECT_EQ(s[1].level, StatsSocketConfig::Level::kUser);
  EXPECT_EQ(s[2].path, "/tmp/a.sock");
  EXPECT_EQ(s[2].mode, 0600u);
  EXPECT_EQ(s[2].uid, 0u);
  EXPECT_EQ(s[3].level, StatsSocketConfig::Level::kOperator);  // haproxy's default
  EXPECT_EQ(s[3].line, 5);
  EXPECT_EQ(o.config.global.stats_maxconn, 300u);
}

TEST(ConfigGlobal, StatsSocketErrorsNameLineAndKeyword) {
  for (const char* bad : {"stats socket", "stats socket ipv4@127.0.0.1", "stats socket foo:bar",
                          "stats socket /tmp/x level root", "stats socket /tmp/x mode 9",
                          "stats socket /tmp/x bogus 1", "stats socket ipv4@[::1]:80",
                          "stats timeout never", "stats maxconn 0"}) {
    const ParseOutcome o = ParseText(
        std::string("global\n    ") + bad + "\ndataplane\n    port p net_null0\n", "e.cfg");
    ASSERT_TRUE(o.HasErrors()) << bad;
    const auto alerts = Alerts(o);
    ASSERT_FALSE(alerts.empty()) << bad;
    EXPECT_EQ(alerts[0].file, "e.cfg") << bad;
    EXPECT_EQ(alerts[0].line, 2) << bad;
    EXPECT_EQ(alerts[0].keyword.rfind("stats ", 0), 0u) << bad;
  }
}

TEST(ConfigFiles, MinimalFileAndDefaults) {
  const ParseOutcome o = ParseFiles({Fixture("minimal.cfg")});
  ASSERT_FALSE(o.HasErrors()) << Dump(o);
  EXPECT_TRUE(o.diagnostics.empty()) << Dump(o);
  const DataplaneConfig& dp = o.config.dataplane;
  EXPECT_EQ(o.config.Workers(), 1u);
  EXPECT_EQ(dp.memory_mb, 512u);
  EXPECT_EQ(dp.file_prefix, "sluice");
  ASSERT_EQ(dp.ports.size(), 1u);
  EXPECT_EQ(dp.ports[0].device, "net_tap0");
}

TEST(ConfigFiles, SeveralFilesMakeOneConfig) {
  const ParseOutcome o = ParseFiles({Fixture("split-global.cfg"), Fixture("split-dataplane.cfg")});
  ASSERT_FALSE(o.HasErrors()) << Dump(o);
  EXPECT_EQ(o.config.files, (W{Fixture("split-global.cfg"), Fixture("split-dataplane.cfg")}));
  EXPECT_EQ(o.config.Workers(), 3u);  // from nbthread
}

TEST(ConfigFiles, EachFileStartsOutsideAnySection) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("sl-cfg-test-" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "a.cfg") << "dataplane\n  port p0 net_tap0\n";
  std::ofstream(dir / "b.cfg") << "  address p0 10.0.0.1/24\n";
  const ParseOutcome o = ParseFiles({(dir / "a.cfg").string(), (dir / "b.cfg").string()});
  const auto alerts = Alerts(o);
  ASSERT_EQ(alerts.size(), 1u) << Dump(o);
  EXPECT_EQ(alerts[0].file, (dir / "b.cfg").string());
  EXPECT_EQ(alerts[0].line, 1);
  EXPECT_EQ(alerts[0].keyword, "address");
  EXPECT_EQ(alerts[0].message, "unknown keyword 'address' out of section.");
  fs::remove_all(dir);
}

TEST(ConfigFiles, DirectoryLoadsCfgFilesInLexicalOrder) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("sl-cfg-dir-" + std::to_string(getpid()));
  fs::create_directories(dir / "sub.cfg");  // a directory: skipped
  std::ofstream(dir / "20-dataplane.cfg") << "dataplane\n  port p0 net_tap0\n"
                                             "  address p0 10.0.0.1/24\n";
  std::ofstream(dir / "10-global.cfg") << "global\n  nbthread 2\n";
  std::ofstream(dir / "30-notes.txt") << "this is not a configuration file\n";
  const ParseOutcome o = ParseFiles({dir.string()});
  ASSERT_FALSE(o.HasErrors()) << Dump(o);
  EXPECT_EQ(o.config.files,
            (W{(dir / "10-global.cfg").string(), (dir / "20-dataplane.cfg").string()}));
  EXPECT_EQ(o.config.Workers(), 2u);
  fs::remove_all(dir);
}

// ---------------------------------------------------------------------------------------
// Files, sections and whole-configuration errors

TEST(ConfigErrors, UnreadableFile) {
  const ParseOutcome o = ParseFiles({"/nonexistent/sluice.cfg", Fixture("minimal.cfg")});
  const auto alerts = Alerts(o);
  ASSERT_EQ(alerts.size(), 1u) << Dump(o);
  EXPECT_EQ(alerts[0].file, "/nonexistent/sluice.cfg");
  EXPECT_EQ(alerts[0].line, 0);
  EXPECT_EQ(alerts[0].message,
            "Could not open configuration file /nonexistent/sluice.cfg : No such file or "
            "directory");
  EXPECT_EQ(FormatDiagnostic(alerts[0], 7),
            "[ALERT]    (7) : config : Could not open configuration file "
            "/nonexistent/sluice.cfg : No such file or directory");
  EXPECT_EQ(o.config.files, W{Fixture("minimal.cfg")});
}

TEST(ConfigErrors, UnsupportedSectionsAlertOnceAndSkipTheirBody) {
  // frontend and backend are real sections now (tests/unit/config_proxy_test.cc).
  const ParseOutcome o = ParseFiles({Fixture("frontend.cfg")});
  EXPECT_FALSE(o.HasErrors()) << Dump(o);
  ASSERT_EQ(o.config.proxies.size(), 2u);
  EXPECT_EQ(o.config.proxies[0].default_backend_index, 1);
  EXPECT_EQ(o.config.global.maxconn, 100u);
  EXPECT_EQ(o.config.dataplane.ports.size(), 1u);

  for (const char* section :
       {"peers", "resolvers", "cache", "program", "ring", "mailers"}) {
    ExpectOneAlert(std::string(kBase) + section + " x\n  foo \"unterminated\n  bar\n", 4, section,
                   "section '" + std::string(section) + "' is not supported yet");
  }
}

TEST(ConfigErrors, KeywordOutOfSection) {
  ExpectOneAlert(std::string("workers 2\n") + kBase, 1, "workers",
                 "unknown keyword 'workers' out of section.");
}

TEST(ConfigErrors, UnknownKeywords) {
  ExpectOneAlert(std::string(kBase) + "global\n  foo 1\n", 5, "foo",
                 "unknown keyword 'foo' in 'global' section");
  ExpectOneAlert(std::string(kBase) + "defaults\n  foo 1\n", 5, "foo",
                 "unknown keyword 'foo' in 'defaults' section");
  ExpectDataplaneAlert("    foo 1", "foo", "unknown keyword 'foo' in 'dataplane' section");
  // Section-like words are keywords of the current section.
  ExpectDataplaneAlert("    server s1 127.0.0.1:80", "server",
                       "unknown keyword 'server' in 'dataplane' section");
  // Non-printable bytes are escaped in messages.
  ExpectDataplaneAlert("    \"a\\x01b\"",
                       "a\x01"
                       "b",
                       "unknown keyword 'a\\x01b' in 'dataplane' section");
}

TEST(ConfigErrors, SectionHeaders) {
  ExpectOneAlert(std::string(kBase) + "global extra\n", 4, "global",
                 "'global' section takes no argument, got 'extra'.");
  ExpectOneAlert(std::string(kBase) + "dataplane extra\n", 4, "dataplane",
                 "'dataplane' section takes no argument, got 'extra'.");
  ExpectOneAlert(std::string(kBase) + "defaults d1 from nothing\n", 4, "defaults",
                 "inherits from unknown defaults section 'nothing'");
  ExpectOneAlert(std::string(kBase) + "defaults d1 d2\n", 4, "defaults", "got extra argument 'd2'");
}

TEST(ConfigErrors, NoDataplaneSection) {
  ExpectOneAlert("global\n  maxconn 10\n", 0, "dataplane",
                 "no 'dataplane' section: sluice needs at least one port.");
  const ParseOutcome o = ParseText("", "empty.cfg");
  ASSERT_EQ(Alerts(o).size(), 1u);
  EXPECT_EQ(FormatDiagnostic(o.diagnostics[0], 99),
            "[ALERT]    (99) : config : no 'dataplane' section: sluice needs at least one "
            "port.");
}

TEST(ConfigErrors, DataplaneWithoutPort) {
  ExpectOneAlert("global\n  maxconn 10\ndataplane\n  workers 2\n", 3, "dataplane",
                 "declares no 'port'");
}

// ---------------------------------------------------------------------------------------
// global

TEST(ConfigGlobal, Values) {
  const ParseOutcome o = ParseText(std::string(kBase) +
                                       "global\n  nbthread 16\n  maxconn 5\n"
                                       "  stats bind-process all\n  master-worker\n",
                                   "t.cfg");
  ASSERT_FALSE(o.HasErrors()) << Dump(o);
  EXPECT_EQ(o.config.global.nbthread, 16u);
  EXPECT_EQ(o.config.global.maxconn, 5u);
  EXPECT_EQ(o.config.Workers(), 16u);
  const auto warnings = Warnings(o);
  ASSERT_EQ(warnings.size(), 2u) << Dump(o);
  EXPECT_EQ(warnings[0].keyword, "stats bind-process");
  EXPECT_EQ(warnings[0].line, 7);
  EXPECT_EQ(warnings[1].keyword, "master-worker");
  EXPECT_EQ(FormatDiagnostic(warnings[1], 12),
            "[WARNING]  (12) : config : parsing [t.cfg:8] : 'master-worker' is ignored: "
            "sluice runs in the foreground under its supervisor.");
}

// tune.bufsize, tune.maxrewrite, tune.http.maxhdr: the HTTP bounds (HAProxy 2.6.12's alerts,
// checked against Debian's haproxy; Sluice's own bounds alerted in its words).
TEST(ConfigGlobal, HttpTunables) {
  const std::string g = std::string(kBase) + "global\n";
  ParseOutcome o = ParseText(g + "  tune.bufsize 65536\n  tune.http.maxhdr 201\n", "t.cfg");
  ASSERT_FALSE(o.HasErrors()) << Dump(o);
  EXPECT_EQ(o.config.global.HttpHeadBytes(), 65536u - 1024u);
  EXPECT_EQ(o.config.global.HttpHtxHead(), 65536u - 1024u - 48u);
  EXPECT_EQ(o.config.global.HttpMaxFields(), 200u);
  o = ParseText(g + "  tune.bufsize 4096\n  tune.maxrewrite 20000\n", "t.cfg");
  ASSERT_FALSE(o.HasErrors()) << Dump(o);
  EXPECT_EQ(o.config.global.MaxRewrite(), 2048u);  // cut to half the buffer, as HAProxy does
  EXPECT_EQ(o.config.global.HttpHeadBytes(), 2048u);
  o = ParseText(g + "  tune.maxrewrite abc\n", "t.cfg");  // HAProxy's atol: 0
  ASSERT_FALSE(o.HasErrors()) << Dump(o);
  EXPECT_EQ(o.config.global.HttpHeadBytes(), 16384u);
  o = ParseText(kBase, "t.cfg");
  EXPECT_EQ(o.config.global.HttpHeadBytes(), 15360u);  // HAProxy's defaults
  EXPECT_EQ(o.config.global.HttpHtxHead(), 15312u);
  EXPECT_EQ(o.config.global.HttpMaxFields(), 100u);
  ExpectOneAlert(g + "  tune.bufsize\n", 5, "tune.bufsize",
                 "'tune.bufsize' expects an integer argument.");
  ExpectOneAlert(g + "  tune.bufsize 0\n", 5, "tune.bufsize",
                 "'tune.bufsize' expects a positive integer argument.");
  ExpectOneAlert(g + "  tune.bufsize abc\n", 5, "tune.bufsize",
                 "'tune.bufsize' expects a positive integer argument.");
  ExpectOneAlert(g + "  tune.bufsize 1048576\n", 5, "tune.bufsize",
                 "sluice takes a size between 1024 and 65536 bytes");
  for (const char* v : {"0", "40000", "abc"}) {
    ExpectOneAlert(g + "  tune.http.maxhdr " + v + "\n", 5, "tune.http.maxhdr",
                   "'tune.http.maxhdr' expects a numeric value between 1 and 32767");
  }
  ExpectOneAlert(g + "  tune.http.maxhdr 2000\n", 5, "tune.http.maxhdr",
                 "sluice keeps at most 1024 header fields");
}

TEST(ConfigGlobal, Errors) {
  const std::string g = std::string(kBase) + "global\n";
  ExpectOneAlert(g + "  nbthread x\n", 5, "nbthread",
                 "'nbthread' expects an integer between 1 and 64, got 'x'.");
  ExpectOneAlert(g + "  nbthread 0\n", 5, "nbthread", "between 1 and 64, got '0'");
  ExpectOneAlert(g + "  nbthread -1\n", 5, "nbthread", "got '-1'");
  ExpectOneAlert(g + "  nbthread 99999999999999999999999\n", 5, "nbthread", "between 1 and 64");
  ExpectOneAlert(g + "  nbthread\n", 5, "nbthread",
                 "'nbthread' expects an integer between 1 and 64.");
  ExpectOneAlert(g + "  nbthread 2 3\n", 5, "nbthread", "got extra argument '3'");
  ExpectOneAlert(g + "  maxconn lots\n", 5, "maxconn", "'maxconn' expects an integer");
  ExpectOneAlert(g + "  stats\n", 5, "stats", "'stats' expects 'socket'");
  ExpectOneAlert(g + "  stats uri /\n", 5, "stats", "'stats' only supports");
  // nbthread beyond sluice's workers, with no `workers` to override it.
  ExpectOneAlert(g + "  nbthread 32\n", 5, "nbthread",
                 "'nbthread' 32 is more than sluice's 16 workers");
  const ParseOutcome o = ParseText(g + "  nbthread 32\ndataplane\n  workers 4\n", "t.cfg");
  EXPECT_FALSE(o.HasErrors()) << Dump(o);
}

// ---------------------------------------------------------------------------------------
// defaults

TEST(ConfigDefaults, NamedAndInherited) {
  const ParseOutcome o = ParseText(std::string(kBase) +
                                       "defaults base\n  mode tcp\n  timeout client 1m\n"
                                       "defaults web from base\n  mode http\n"
                                       "  timeout client 90s\n  balance hdr(host)\n"
                                       "defaults\n  retries 0\n",
                                   "t.cfg");
  ASSERT_FALSE(o.HasErrors()) << Dump(o);
  ASSERT_EQ(o.config.defaults.size(), 3u);
  EXPECT_EQ(o.config.defaults[0].name, "base");
  EXPECT_EQ(o.config.defaults[0].line, 4);
  EXPECT_EQ(o.config.defaults[1].name, "web");
  EXPECT_EQ(o.config.defaults[1].mode, "http");
  using T = std::pair<std::string, uint32_t>;
  EXPECT_EQ(o.config.defaults[1].timeouts_ms, (std::vector<T>{{"client", 90000}}));
  EXPECT_EQ(o.config.defaults[1].balance, W{"hdr(host)"});
  EXPECT_EQ(o.config.defaults[2].name, "");
  EXPECT_EQ(o.config.defaults[2].mode, "");  // a new section does not inherit
  EXPECT_EQ(o.config.defaults[2].retries, 0u);
}

TEST(ConfigDefaults, TimeUnits) {
  const ParseOutcome o = ParseText(std::string(kBase) +
                                       "defaults\n  timeout client 1500us\n"
                                       "  timeout server 2h\n  timeout connect 1d\n"
                                       "  timeout queue 250\n  timeout tunnel 3ms\n",
                                   "t.cfg");
  ASSERT_FALSE(o.HasErrors()) << Dump(o);
  using T = std::pair<std::string, uint32_t>;
  EXPECT_EQ(o.config.defaults[0].timeouts_ms, (std::vector<T>{{"client", 2},
                                                              {"server", 7200000},
                                                              {"connect", 86400000},
                                                              {"queue", 250},
                                                              {"tunnel", 3}}));
}

TEST(ConfigDefaults, Errors) {
  const std::string d = std::string(kBase) + "defaults\n";
  ExpectOneAlert(d + "  mode health\n", 5, "mode", "'mode' expects 'tcp' or 'http', got");
  ExpectOneAlert(d + "  mode\n", 5, "mode", "'mode' expects 'tcp' or 'http'.");
  ExpectOneAlert(d + "  timeout clitimeout 5s\n", 5, "timeout", "got 'clitimeout'");
  ExpectOneAlert(d + "  timeout client 5x\n", 5, "timeout", "expects a time");
  ExpectOneAlert(d + "  timeout client 30d\n", 5, "timeout", "at most 2147483647ms");
  ExpectOneAlert(d + "  timeout client\n", 5, "timeout", "'timeout' expects a timeout name");
  ExpectOneAlert(d + "  option frobnicate\n", 5, "option", "unknown option 'frobnicate'.");
  ExpectOneAlert(d + "  no option frobnicate\n", 5, "no", "unknown option 'frobnicate'.");
  ExpectOneAlert(d + "  no frobnicate\n", 5, "no", "'no' expects 'option' or 'log'");
  ExpectOneAlert(d + "  retries many\n", 5, "retries", "'retries' expects an integer");
  ExpectOneAlert(d + "  maxconn -5\n", 5, "maxconn", "'maxconn' expects an integer");
  ExpectOneAlert(d + "  balance fastest\n", 5, "balance", "got 'fastest'");
  ExpectOneAlert(d + "  balance\n", 5, "balance", "'balance' expects an algorithm");
}

TEST(ConfigDefaults, WarningsForWhatIsNotSupported) {
  const ParseOutcome o = ParseText(std::string(kBase) +
                                       "defaults\n  log global\n  option splice-auto\n"
                                       "  default-server inter 3s\n  no log\n",
                                   "t.cfg");
  ASSERT_FALSE(o.HasErrors()) << Dump(o);
  // log, default-server and no log are supported now; splice options are not.
  const auto warnings = Warnings(o);
  ASSERT_EQ(warnings.size(), 1u) << Dump(o);
  EXPECT_EQ(warnings[0].keyword, "option");
  EXPECT_NE(warnings[0].message.find("'option splice-auto' is ignored"), std::string::npos);
  EXPECT_TRUE(o.config.defaults[0].options.empty());
  EXPECT_EQ(o.config.defaults[0].default_server.inter_ms, 3000u);
  EXPECT_TRUE(o.config.defaults[0].proxy.logs.empty());  // `no log` dropped `log global`
}

// ---------------------------------------------------------------------------------------
// dataplane

TEST(ConfigDataplane, IntegerKeywords) {
  struct Case {
    const char* keyword;
    const char* range;
    const char* low;
    const char* high;
  };
  for (const Case& c : {Case{"workers", "between 1 and 16", "0", "17"},
                        Case{"memory", "between 64 and 65536", "63", "65537"},
                        Case{"mbufs", "between 1023 and 4194303", "1022", "4194304"},
                        Case{"neighbours", "between 16 and 1048576", "15", "1048577"},
                        Case{"idle-sleep", "between 0 and 100000", "-1", "100001"}}) {
    const std::string kw = c.keyword;
    const std::string expects = "'" + kw + "' expects an integer " + c.range;
    ExpectDataplaneAlert("    " + kw + " x", kw, expects + ", got 'x'.");
    ExpectDataplaneAlert("    " + kw + " " + c.low, kw, expects + ", got '" + c.low + "'.");
    ExpectDataplaneAlert("    " + kw + " " + c.high, kw, expects + ", got '" + c.high + "'.");
    ExpectDataplaneAlert("    " + kw + " 1 2", kw, "got extra argument '2'");
    ExpectDataplaneAlert("    " + kw, kw, "'" + kw + "' expects ");
  }
  ExpectDataplaneAlert("    workers", "workers", "'workers' expects an integer between 1 and 16.");
}

TEST(ConfigDataplane, ScalarValues) {
  const ParseOutcome o = ParseText(std::string(kBase) +
                                       "    workers 16\n    memory 64\n    hugepages off\n"
                                       "    mbufs 1023\n    neighbours 16\n"
                                       "    dispatch-ring 64\n    idle-sleep 0\n"
                                       "    local-ports 1024-1024\n    file-prefix A_b-9\n",
                                   "t.cfg");
  ASSERT_FALSE(o.HasErrors()) << Dump(o);
  const DataplaneConfig& dp = o.config.dataplane;
  EXPECT_EQ(dp.workers, 16u);
  EXPECT_EQ(dp.memory_mb, 64u);
  EXPECT_EQ(dp.hugepages, HugePages::kOff);
  EXPECT_EQ(dp.mbufs, 1023u);
  EXPECT_EQ(dp.neighbours, 16u);
  EXPECT_EQ(dp.dispatch_ring, 64u);
  EXPECT_EQ(dp.idle_sleep_us, 0u);
  EXPECT_EQ(dp.local_port_min, 1024);
  EXPECT_EQ(dp.local_port_max, 1024);
  EXPECT_EQ(dp.file_prefix, "A_b-9");
  const ParseOutcome on = ParseText(std::string(kBase) + "    hugepages on\n", "t.cfg");
  EXPECT_EQ(on.config.dataplane.hugepages, HugePages::kOn);
  EXPECT_FALSE(dp.tcp_newreno);  // CUBIC unless told
  const ParseOutcome reno = ParseText(std::string(kBase) + "    tcp-congestion newreno\n", "t.cfg");
  ASSERT_FALSE(reno.HasErrors()) << Dump(reno);
  EXPECT_TRUE(reno.config.dataplane.tcp_newreno);
}

TEST(ConfigDataplane, OtherScalarErrors) {
  ExpectDataplaneAlert("    hugepages maybe", "hugepages",
                       "'hugepages' expects 'auto', 'on' or 'off', got 'maybe'.");
  ExpectDataplaneAlert("    tcp-congestion bbr", "tcp-congestion",
                       "'tcp-congestion' expects 'cubic' or 'newreno', got 'bbr'.");
  ExpectDataplaneAlert("    dispatch-ring 1000", "dispatch-ring",
                       "'dispatch-ring' expects a power of two between 64 and 65536, got "
                       "'1000'.");
  ExpectDataplaneAlert("    dispatch-ring 32", "dispatch-ring", "got '32'");
  ExpectDataplaneAlert("    dispatch-ring 131072", "dispatch-ring", "got '131072'");
  ExpectDataplaneAlert("    dispatch-ring 0", "dispatch-ring", "got '0'");
  ExpectDataplaneAlert("    local-ports 2000", "local-ports",
                       "'local-ports' expects MIN-MAX with 1024 <= MIN <= MAX <= 65535, got "
                       "'2000'.");
  ExpectDataplaneAlert("    local-ports 3000-2000", "local-ports", "got '3000-2000'");
  ExpectDataplaneAlert("    local-ports 1023-2000", "local-ports", "got '1023-2000'");
  ExpectDataplaneAlert("    local-ports 2000-65536", "local-ports", "got '2000-65536'");
  ExpectDataplaneAlert("    local-ports -", "local-ports", "got '-'");
  ExpectDataplaneAlert("    file-prefix a/b", "file-prefix", "'file-prefix' expects 1 to 32");
  ExpectDataplaneAlert("    file-prefix " + std::string(33, 'a'), "file-prefix",
                       "'file-prefix' expects 1 to 32");
  ExpectDataplaneAlert("    file-prefix \"\"", "file-prefix", "got ''.");
  ExpectDataplaneAlert("    eal-args", "eal-args", "'eal-args' expects one or more");
}

TEST(ConfigDataplane, Ports) {
  const ParseOutcome o = ParseText(std::string(kBase) +
                                       "    port p1 03:00.1\n    port p2 0000:AF:1f.7\n"
                                       "    port p3 net_ring0\n    port p4 net_tap1,iface=x\n",
                                   "t.cfg");
  ASSERT_FALSE(o.HasErrors()) << Dump(o);
  const auto& ports = o.config.dataplane.ports;
  ASSERT_EQ(ports.size(), 5u);
  EXPECT_EQ(ports[1].device, "0000:03:00.1");
  EXPECT_TRUE(ports[1].is_pci);
  EXPECT_EQ(ports[2].device, "0000:af:1f.7");
  EXPECT_EQ(ports[3].device, "net_ring0");
  EXPECT_FALSE(ports[3].is_pci);
  EXPECT_EQ(ports[4].line, 7);
}

TEST(ConfigDataplane, PortErrors) {
  ExpectDataplaneAlert("    port", "port", "'port' expects a port name and a device");
  ExpectDataplaneAlert("    port p1", "port", "'port' expects a port name and a device");
  ExpectDataplaneAlert("    port p1 net_tap1 extra", "port", "got extra argument 'extra'");
  ExpectDataplaneAlert("    port P1 net_tap1", "port", "'port' expects a name of 1 to 32");
  ExpectDataplaneAlert("    port p0 net_tap1", "port",
                       "'port' 'p0' is already declared at t.cfg:2.");
  ExpectDataplaneAlert("    port p1 eth0", "port",
                       "'port' expects a PCI address (0000:03:00.0) or a DPDK vdev");
  ExpectDataplaneAlert("    port p1 0000:03:20.0", "port", "got '0000:03:20.0'");  // device > 1f
  ExpectDataplaneAlert("    port p1 0000:03:00.8", "port", "got '0000:03:00.8'");  // function > 7
  ExpectDataplaneAlert("    port p1 net_", "port", "got 'net_'");
  ExpectDataplaneAlert("    port p1 \"net_tap1,iface=a b\"", "port", "or a DPDK vdev");
  ExpectDataplaneAlert("    port p1 net_tap0,iface=other", "port",
                       "'port' device 'net_tap0' is already used by port 'p0' at t.cfg:2.");
  ExpectOneAlert(std::string(kBase) + "    port p1 0000:03:00.0\n    port p2 03:00.0\n", 5, "port",
                 "device '0000:03:00.0' is already used by port 'p1' at t.cfg:4.");
  std::string many = kBase;
  for (int i = 1; i < 8; ++i) {
    many += "    port p" + std::to_string(i) + " net_ring" + std::to_string(i) + "\n";
  }
  EXPECT_FALSE(ParseText(many, "t.cfg").HasErrors());
  ExpectOneAlert(many + "    port p8 net_ring8\n", 11, "port", "at most 8 ports");
}

TEST(ConfigDataplane, AddressesAndVlans) {
  std::string text = std::string(kBase) +
                     "    address p0 10.0.1.1/24\n"
                     "    address p0 fe80::1/64\n    vlan p0 4094\n";
  const ParseOutcome o = ParseText(text, "t.cfg");
  ASSERT_FALSE(o.HasErrors()) << Dump(o);
  const PortConfig& p = o.config.dataplane.ports[0];
  ASSERT_EQ(p.addresses.size(), 3u);
  EXPECT_TRUE(p.addresses[2].addr.is_v6);
  EXPECT_EQ(p.addresses[2].length, 64);
  EXPECT_EQ(p.vlan, 4094);
}

TEST(ConfigDataplane, AddressErrors) {
  ExpectDataplaneAlert("    address p9 10.0.0.2/24", "address",
                       "'address' names unknown port 'p9'; declare it first with 'port p9 "
                       "DEVICE'.");
  ExpectDataplaneAlert("    address p0 10.0.0.2", "address",
                       "'address' expects an address with a prefix length");
  ExpectDataplaneAlert("    address p0 10.0.0.2/33", "address", "got '10.0.0.2/33'");
  ExpectDataplaneAlert("    address p0 10.0.0.2/0", "address", "got '10.0.0.2/0'");
  ExpectDataplaneAlert("    address p0 host/24", "address", "got 'host/24'");
  ExpectDataplaneAlert("    address p0 224.0.0.1/24", "address", "expects a unicast address");
  ExpectDataplaneAlert("    address p0 0.0.0.0/8", "address", "expects a unicast address");
  ExpectDataplaneAlert("    address p0 10.0.0.1/16", "address",
                       "'address' 10.0.0.1 is already assigned to port 'p0'.");
  ExpectDataplaneAlert("    address p0", "address", "'address' expects a port name and an");
  std::string many = kBase;
  for (int i = 2; i <= 8; ++i) many += "    address p0 10.0." + std::to_string(i) + ".1/24\n";
  EXPECT_FALSE(ParseText(many, "t.cfg").HasErrors());
  ExpectOneAlert(many + "    address p0 10.0.9.1/24\n", 11, "address", "at most 8 addresses");
}

TEST(ConfigDataplane, VlanErrors) {
  ExpectDataplaneAlert("    vlan p9 10", "vlan", "'vlan' names unknown port 'p9'");
  ExpectDataplaneAlert("    vlan p0 0", "vlan",
                       "'vlan' expects an integer between 1 and 4094, got '0'.");
  ExpectDataplaneAlert("    vlan p0 4095", "vlan", "got '4095'");
  ExpectDataplaneAlert("    vlan p0", "vlan", "'vlan' expects a port name and a VLAN id");
  ExpectOneAlert(std::string(kBase) + "    vlan p0 5\n    vlan p0 6\n", 5, "vlan",
                 "'vlan' of port 'p0' is already set to 5.");
}

TEST(ConfigDataplane, Routes) {
  const ParseOutcome o = ParseText(std::string(kBase) +
                                       "    address p0 2001:db8::1/64\n"
                                       "    route 172.16.0.0/12 via 10.0.0.254\n"
                                       "    route 2001:db8:5::/48 via 2001:db8::ff\n"
                                       "    default-gateway 10.0.0.254\n",
                                   "t.cfg");
  ASSERT_FALSE(o.HasErrors()) << Dump(o);
  const auto& routes = o.config.dataplane.routes;
  ASSERT_EQ(routes.size(), 3u);
  EXPECT_EQ(net::ToString(routes[0].prefix), "172.16.0.0/12");
  EXPECT_EQ(routes[0].line, 5);
  EXPECT_TRUE(routes[1].prefix.addr.is_v6);
  EXPECT_EQ(routes[2].prefix.length, 0);
  EXPECT_FALSE(routes[2].prefix.addr.is_v6);
  EXPECT_EQ(net::ToString(routes[2].gateway), "10.0.0.254");
}

TEST(ConfigDataplane, RouteErrors) {
  ExpectDataplaneAlert("    route 172.16.0.0/12 by 10.0.0.254", "route",
                       "'route' expects PREFIX via GATEWAY, got 'by' instead of 'via'.");
  ExpectDataplaneAlert("    route 172.16.0.0/12 via", "route",
                       "'route' expects PREFIX via GATEWAY.");
  ExpectDataplaneAlert("    route 172.16.0.0 via 10.0.0.254", "route",
                       "'route' expects a network prefix");
  ExpectDataplaneAlert("    route 172.16.1.0/12 via 10.0.0.254", "route",
                       "'route' prefix '172.16.1.0/12' has host bits set; write "
                       "172.16.0.0/12.");
  ExpectDataplaneAlert("    route 2001:db8::1/32 via 10.0.0.254", "route", "write 2001:db8::/32");
  ExpectDataplaneAlert("    route 172.16.0.0/12 via gateway", "route",
                       "'route' expects a gateway address after 'via', got 'gateway'.");
  ExpectDataplaneAlert("    route 172.16.0.0/12 via 2001:db8::1", "route",
                       "needs an IPv4 gateway, got 2001:db8::1");
  ExpectDataplaneAlert("    route 172.16.0.0/12 via 0.0.0.0", "route",
                       "'route' expects a unicast gateway");
  ExpectOneAlert(std::string(kBase) +
                     "    route 172.16.0.0/12 via 10.0.0.254\n"
                     "    route 172.16.0.0/12 via 10.0.0.253\n",
                 5, "route", "a route to 172.16.0.0/12 is already declared at t.cfg:4.");
  ExpectDataplaneAlert("    default-gateway router", "default-gateway",
                       "'default-gateway' expects an IPv4 or IPv6 address, got 'router'.");
  ExpectDataplaneAlert("    default-gateway", "default-gateway",
                       "'default-gateway' expects a gateway address.");
  ExpectOneAlert(std::string(kBase) +
                     "    default-gateway 10.0.0.254\n"
                     "    default-gateway 10.0.0.253\n",
                 5, "default-gateway", "a route to 0.0.0.0/0 is already declared at t.cfg:4.");
  ExpectOneAlert(std::string(kBase) +
                     "    default-gateway 10.0.0.254\n"
                     "    route 0.0.0.0/0 via 10.0.0.253\n",
                 5, "route", "a route to 0.0.0.0/0 is already declared");
}

TEST(ConfigDataplane, GatewayMustBeInAConnectedSubnet) {
  ExpectDataplaneAlert("    route 172.16.0.0/12 via 10.0.1.254", "route",
                       "'route' gateway 10.0.1.254 is not inside the subnet of any port "
                       "address.");
  ExpectDataplaneAlert("    default-gateway 2001:db8::1", "default-gateway",
                       "'default-gateway' gateway 2001:db8::1 is not inside the subnet");
  ExpectDataplaneAlert("    default-gateway 10.0.0.1", "default-gateway",
                       "gateway 10.0.0.1 is one of sluice's own addresses.");
  // Ports declared after the route still count: the check runs on the whole configuration.
  const ParseOutcome o = ParseText(std::string(kBase) +
                                       "    route 172.16.0.0/12 via 10.9.0.1\n"
                                       "    port p1 net_tap1\n    address p1 10.9.0.2/16\n",
                                   "t.cfg");
  EXPECT_FALSE(o.HasErrors()) << Dump(o);
}

TEST(ConfigDataplane, SeveralSectionsMerge) {
  const ParseOutcome o =
      ParseText(std::string(kBase) + "global\n  maxconn 1\ndataplane\n  workers 3\n", "t.cfg");
  ASSERT_FALSE(o.HasErrors()) << Dump(o);
  EXPECT_EQ(o.config.dataplane.ports.size(), 1u);
  EXPECT_EQ(o.config.dataplane.workers, 3u);
}

// ---------------------------------------------------------------------------------------
// Every error of a run is reported, and nothing breaks on arbitrary input.

TEST(ConfigErrors, AllErrorsAreCollected) {
  const ParseOutcome o = ParseText(
      "global\n  nbthread x\n  foo\ndataplane\n  workers 0\n"
      "  port p0 net_tap0\n  vlan p0 9999\n",
      "t.cfg");
  const auto alerts = Alerts(o);
  ASSERT_EQ(alerts.size(), 4u) << Dump(o);
  EXPECT_EQ(alerts[0].line, 2);
  EXPECT_EQ(alerts[1].line, 3);
  EXPECT_EQ(alerts[2].line, 5);
  EXPECT_EQ(alerts[3].line, 7);
}

TEST(ConfigRobustness, ArbitraryBytesNeverCrash) {
  std::mt19937 rng(12345);
  const std::string alphabet = std::string("dataplne portvia/:.0123456789\"'\\#${}\n\t \r") +
                               std::string(1, '\0') + "\x80\xff";
  const std::vector<std::string> seeds = {
      kBase, "global\n nbthread 4\n", "defaults x from x\n timeout client 1s\n",
      "dataplane\n route 10.0.0.0/8 via 10.0.0.1\n", "frontend a\n bind :80\n"};
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
  }
}

}  // namespace
}  // namespace sluice::config
