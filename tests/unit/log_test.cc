// Tests for controlplane/log: log-format compilation and rendering (haproxy configuration.txt
// 8.2), `log` target parsing, syslog framing per format, and the sinks (UDP and file).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>

#include "controlplane/log/log.h"

namespace sluice::log {
namespace {

// 06/Feb/2009:12:12:51.443 UTC, the date of haproxy's examples.
constexpr int64_t kExampleUs = 1233922371443000;

// Local time is UTC in every test of this binary.
class LogTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    setenv("TZ", "UTC", 1);
    tzset();
  }
};

// The event of configuration.txt 8.2.2's example:
//   10.0.1.2:33313 [06/Feb/2009:12:12:51.443] fnt bck/srv1 0/0/5007 212 -- 0/0/0/0/3 0/0
LogEvent ExampleEvent() {
  LogEvent e;
  e.client_ip = "10.0.1.2";
  e.client_port = 33313;
  e.frontend_ip = "10.0.0.1";
  e.frontend_port = 80;
  e.frontend = "fnt";
  e.backend = "bck";
  e.server = "srv1";
  e.backend_src_ip = "10.0.2.1";
  e.backend_src_port = 40001;
  e.server_ip = "10.0.2.11";
  e.server_port = 8080;
  e.accept_unix_us = kExampleUs;
  e.tw_ms = 0;
  e.tc_ms = 0;
  e.tt_ms = 5007;
  e.bytes_read = 212;
  e.bytes_uploaded = 77;
  e.retries = 3;
  return e;
}

LogFormat MustCompile(std::string_view text) {
  std::string error;
  auto f = LogFormat::Compile(text, &error);
  EXPECT_TRUE(f.has_value()) << text << ": " << error;
  if (!f) return *LogFormat::Compile("", nullptr);
  f->SetProcess("lb1", 4242);
  return *f;
}

std::string CompileError(std::string_view text) {
  std::string error;
  EXPECT_FALSE(LogFormat::Compile(text, &error).has_value()) << text;
  return error;
}

// ---------------------------------------------------------------------------------------
// log-format

TEST_F(LogTest, TcpLogMatchesHaproxysExample) {
  EXPECT_EQ(kTcpLogFormat, "%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq");
  EXPECT_EQ(MustCompile(kTcpLogFormat).Render(ExampleEvent()),
            "10.0.1.2:33313 [06/Feb/2009:12:12:51.443] fnt bck/srv1 0/0/5007 212 -- 0/0/0/0/3 0/0");
}

// An HTTP request's event: a GET answered 200 with 51 bytes, 251 ms after it was sent.
LogEvent HttpEvent() {
  LogEvent e = ExampleEvent();
  e.request_unix_us = e.accept_unix_us;
  e.status = 200;
  e.bytes_read = 51;
  e.ti_ms = 0;
  e.treq_ms = 0;
  e.tw_ms = 0;
  e.tc_ms = 1;
  e.tres_ms = 251;
  e.ta_ms = 252;
  e.retries = 0;
  e.request = "GET /path?q=1 HTTP/1.1";
  return e;
}

TEST_F(LogTest, HttpLogMatchesHaproxysShape) {
  // HAProxy 2.6's httplog line for a GET with no captures (h1_haproxy_notes.md, f):
  // "... fe be/s1 0/0/1/251/252 200 51 - - ---- 1/1/0/0/0 0/0 "GET /path?q=1 HTTP/1.1"".
  LogEvent e = HttpEvent();
  EXPECT_EQ(MustCompile(kHttpLogFormat).Render(e),
            "10.0.1.2:33313 [06/Feb/2009:12:12:51.443] fnt bck/srv1 0/0/1/251/252 200 51 - - "
            "---- 0/0/0/0/0 0/0 \"GET /path?q=1 HTTP/1.1\"");
  EXPECT_EQ(MustCompile("%HM|%HU|%HP|%HQ|%HV|%Tq").Render(e),
            "GET|/path?q=1|/path|?q=1|HTTP/1.1|0");
  e.request.clear();  // a request that never parsed
  EXPECT_EQ(MustCompile("%{+Q}r").Render(e), "\"<BADREQ>\"");
}

// `option httplog clf`, shaped as Debian's haproxy 2.6.12 wrote it (oracle run): texts
// quoted but the client address, %tsc bare, empty captures of cookies as "", the header
// captures each quoted, and the trailing separator of an empty %hsl kept:
// 127.0.0.1 - - [06/Dec/2026:10:45:41 +0000] "GET / HTTP/1.1" 200 415 "" "" 41458 534 "f" "b"
// "s1" 0 0 0 2 2 ---- 1 1 0 0 0 0 0 "" "" "127.0.0.1:19500" (then a space)
TEST_F(LogTest, HttpLogClfMatchesHaproxysShape) {
  LogEvent e = HttpEvent();
  e.req_caps = {std::string("127.0.0.1:19500")};
  const std::string date = MustCompile("%trg").Render(e);
  EXPECT_EQ(MustCompile(kHttpLogClfFormat).Render(e),
            "10.0.1.2 - - [" + date +
                "] \"GET /path?q=1 HTTP/1.1\" 200 51 \"\" \"\" 33313 443 \"fnt\" \"bck\" "
                "\"srv1\" 0 0 1 251 252 ---- 0 0 0 0 0 0 0 \"\" \"\" \"127.0.0.1:19500\" ");
  e.req_caps.clear();
  const std::string none = MustCompile(kHttpLogClfFormat).Render(e);
  EXPECT_EQ(none.substr(none.size() - 9), " 0 \"\" \"\" ");  // %bq %CC %CS, one space after
}

TEST_F(LogTest, PhasesNotReachedAreMinusOne) {
  LogEvent e = ExampleEvent();
  e.backend = "<NONE>";
  e.server = "<NOSRV>";
  e.tw_ms = -1;
  e.tc_ms = -1;
  e.tt_ms = 0;
  e.bytes_read = 0;
  e.term[0] = 'C';
  e.term[1] = 'C';
  e.retries = 0;
  EXPECT_EQ(MustCompile(kTcpLogFormat).Render(e),
            "10.0.1.2:33313 [06/Feb/2009:12:12:51.443] fnt <NONE>/<NOSRV> -1/-1/0 0 CC 0/0/0/0/0 "
            "0/0");
}

TEST_F(LogTest, RetriesWithRedispatch) {
  LogEvent e = ExampleEvent();
  e.redispatched = true;
  e.retries = 1;
  EXPECT_EQ(MustCompile("%rc").Render(e), "+1");
  e.redispatched = false;
  EXPECT_EQ(MustCompile("%rc").Render(e), "1");
}

TEST_F(LogTest, EveryVariable) {
  LogEvent e = ExampleEvent();
  e.actconn = 11;
  e.feconn = 12;
  e.beconn = 13;
  e.srv_conn = 14;
  e.srv_queue = 15;
  e.backend_queue = 16;
  e.term[0] = 's';
  e.term[1] = 'D';
  const struct {
    const char* format;
    const char* out;
  } cases[] = {
      {"%ci", "10.0.1.2"},
      {"%cp", "33313"},
      {"%fi", "10.0.0.1"},
      {"%fp", "80"},
      {"%f", "fnt"},
      {"%ft", "fnt"},
      {"%b", "bck"},
      {"%s", "srv1"},
      {"%bi", "10.0.2.1"},
      {"%bp", "40001"},
      {"%si", "10.0.2.11"},
      {"%sp", "8080"},
      {"%t", "06/Feb/2009:12:12:51.443"},
      {"%T", "06/Feb/2009:12:12:51 +0000"},
      {"%Tl", "06/Feb/2009:12:12:51 +0000"},
      {"%Ts", "1233922371"},
      {"%ms", "443"},
      {"%Tw", "0"},
      {"%Tc", "0"},
      {"%Tt", "5007"},
      {"%B", "212"},
      {"%U", "77"},
      {"%ts", "sD"},
      {"%ac", "11"},
      {"%fc", "12"},
      {"%bc", "13"},
      {"%sc", "14"},
      {"%rc", "3"},
      {"%sq", "15"},
      {"%bq", "16"},
      {"%pid", "4242"},
      {"%H", "lb1"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(MustCompile(c.format).Render(e), c.out) << c.format;
  }
}

TEST_F(LogTest, MillisecondsArePadded) {
  LogEvent e = ExampleEvent();
  e.accept_unix_us = 1233922371007999;
  EXPECT_EQ(MustCompile("%ms %t").Render(e), "007 06/Feb/2009:12:12:51.007");
}

TEST_F(LogTest, LocalDateFollowsTz) {
  setenv("TZ", "CET-1", 1);
  tzset();
  const LogEvent e = ExampleEvent();
  EXPECT_EQ(MustCompile("%t|%Tl|%T").Render(e),
            "06/Feb/2009:13:12:51.443|06/Feb/2009:13:12:51 +0100|06/Feb/2009:12:12:51 +0000");
  setenv("TZ", "UTC", 1);
  tzset();
}

TEST_F(LogTest, UnknownAddressesAreDashes) {
  LogEvent e = ExampleEvent();
  e.backend_src_ip.clear();
  e.server_ip.clear();
  EXPECT_EQ(MustCompile("%bi:%bp %si:%sp").Render(e), "-:- -:-");
  EXPECT_EQ(MustCompile("%{+Q}bi %{+Q}si").Render(e), "\"\" \"\"");
}

TEST_F(LogTest, QuotingAndEscaping) {
  LogEvent e = ExampleEvent();
  e.server = "a\"b]c\\";
  EXPECT_EQ(MustCompile("%{+Q}ci:%cp %{+Q}b").Render(e), "\"10.0.1.2\":33313 \"bck\"");
  // Numbers are never quoted, as in haproxy.
  EXPECT_EQ(MustCompile("%{+Q}cp %{+Q}Tt").Render(e), "33313 5007");
  EXPECT_EQ(MustCompile("%{+E}s").Render(e), "a\\\"b\\]c\\\\");
  EXPECT_EQ(MustCompile("%{+Q,+E}s").Render(e), "\"a\\\"b\\]c\\\\\"");
  // %o sets flags for what follows; -Q takes the quotes off one variable.
  EXPECT_EQ(MustCompile("%f %{+Q}o%b %{-Q}s %H").Render(ExampleEvent()),
            "fnt \"bck\" srv1 \"lb1\"");
  EXPECT_EQ(MustCompile("%{+Q}f").Render(LogEvent{}), "\"\"");
  EXPECT_EQ(MustCompile("%f").Render(LogEvent{}), "-");
}

TEST_F(LogTest, LiteralsAreKept) {
  const LogEvent e = ExampleEvent();
  EXPECT_EQ(MustCompile("").Render(e), "");
  EXPECT_EQ(MustCompile("plain text").Render(e), "plain text");
  // Runs of spaces are HAProxy's separators: one space, none at the start.
  EXPECT_EQ(MustCompile("100%% of  %b, {x} [y]").Render(e), "100% of bck, {x} [y]");
  EXPECT_EQ(MustCompile("  a   b ").Render(e), "a b ");
  EXPECT_EQ(MustCompile("%ci%cp").Render(e), "10.0.1.233313");
  EXPECT_EQ(MustCompile("%b-%s").Render(e), "bck-srv1");
  EXPECT_EQ(MustCompile("%b").text(), "%b");
  std::string out = "x=";
  MustCompile("%Tt").RenderTo(e, &out);
  EXPECT_EQ(out, "x=5007");
}

// %ft has a '~' after the frontend's name for a TLS client; %sslv %sslc are "-" without TLS
// (HAProxy 2.6's lf_text of no value).
TEST_F(LogTest, TlsVariables) {
  LogEvent e = ExampleEvent();
  EXPECT_EQ(MustCompile("%ft %sslv %sslc").Render(e), e.frontend + " - -");
  e.ssl_version = "TLSv1.3";
  e.ssl_cipher = "TLS_AES_256_GCM_SHA384";
  EXPECT_EQ(MustCompile("%ft %f %sslv %sslc").Render(e),
            e.frontend + "~ " + e.frontend + " TLSv1.3 TLS_AES_256_GCM_SHA384");
}

TEST_F(LogTest, CompileErrors) {
  EXPECT_EQ(CompileError("%ci %xx"), "unknown variable 'xx' (write '%%' for a literal '%')");
  EXPECT_EQ(CompileError("%Tx"), "unknown variable 'Tx' (write '%%' for a literal '%')");
  EXPECT_EQ(CompileError("%rt"), "variable 'rt' is not supported by sluice yet");
  EXPECT_EQ(CompileError("%{+Q}ID"), "variable 'ID' is not supported by sluice yet");
  EXPECT_EQ(CompileError("50%"), "'%' at the end of the format (write '%%' for a literal '%')");
  EXPECT_EQ(CompileError("50% off"),
            "unexpected character ' ' after '%' at position 2 (write '%%' for a literal '%')");
  EXPECT_EQ(CompileError("%1"),
            "unexpected character '1' after '%' at position 0 (write '%%' for a literal '%')");
  EXPECT_EQ(CompileError("%{+Q"), "'%{' without its '}' at position 0");
  EXPECT_EQ(CompileError("%{+Q}"), "'%{+Q}' is not followed by a variable");
  EXPECT_EQ(CompileError("%{+Q} b"), "'%{+Q}' is not followed by a variable");
  EXPECT_EQ(CompileError("%{+Z}b"), "unknown flag 'Z' (Q or E)");
  EXPECT_EQ(CompileError("%{+X}b"), "flag 'X' is not supported by sluice (Q or E)");
  EXPECT_EQ(CompileError("%{Q}b"), "flag 'Q' in '%{Q}' does not start with '+' or '-'");
  EXPECT_EQ(CompileError("x %[src"), "missing ']' after '%[' at position 2");
  {
    // %[expr] takes the worker's values in order; a missing one is "-" (quoted: "").
    const auto f = LogFormat::Compile("a=%[src] b=%{+Q}[x,lower] c=%[y]", nullptr);
    ASSERT_TRUE(f.has_value());
    LogEvent e;
    e.samples = {std::string("1.2.3.4"), std::nullopt, std::string("z")};
    EXPECT_EQ(f->Render(e), "a=1.2.3.4 b=\"\" c=z");
  }
  EXPECT_EQ(CompileError("%(name)ci"), "named variables ('%(NAME)') are not supported by sluice");
  EXPECT_FALSE(LogFormat::Compile("%zz", nullptr).has_value());
}

// ---------------------------------------------------------------------------------------
// log targets

TEST_F(LogTest, TargetDefaults) {
  const auto t = ParseLogTarget("127.0.0.1:514 local0");
  ASSERT_TRUE(t) << t.error();
  EXPECT_EQ(t->kind, LogTarget::Kind::kUdp4);
  EXPECT_EQ(t->address, "127.0.0.1");
  EXPECT_EQ(t->port, 514);
  EXPECT_EQ(t->max_len, 1024u);
  EXPECT_EQ(t->format, LogTarget::Format::kRfc3164);
  EXPECT_EQ(t->facility, 16);
  EXPECT_EQ(t->level, 6);
  EXPECT_EQ(t->min_level, 0);
  EXPECT_EQ(t->sample_size, 0u);
  EXPECT_EQ(DescribeTarget(*t), "udp 127.0.0.1:514");
}

TEST_F(LogTest, TargetForms) {
  using K = LogTarget::Kind;
  const struct {
    const char* line;
    K kind;
    const char* describe;
  } cases[] = {
      {"10.0.0.1 daemon", K::kUdp4, "udp 10.0.0.1:514"},
      {"ipv4@10.0.0.1:1514 local0", K::kUdp4, "udp 10.0.0.1:1514"},
      {"udp@[::1]:514 local0", K::kUdp6, "udp [::1]:514"},
      {"udp4@10.0.0.2:9 local0", K::kUdp4, "udp 10.0.0.2:9"},
      {"udp6@[fd00::1] local0", K::kUdp6, "udp [fd00::1]:514"},
      {"ipv6@fd00::1:5514 local0", K::kUdp6, "udp [fd00::1]:5514"},
      {"fd00::1 local0", K::kUdp6, "udp [fd00::1]:514"},
      {"[::1]:600 local0", K::kUdp6, "udp [::1]:600"},
      {"localhost local0", K::kUdp4, "udp 127.0.0.1:514"},
      {"/dev/log local0", K::kUnix, "unix /dev/log"},
      {"unix@/run/log.sock local0", K::kUnix, "unix /run/log.sock"},
      {"stdout format raw local0", K::kStdout, "stdout"},
      {"fd@1 local0", K::kStdout, "stdout"},
      {"stderr local0", K::kStderr, "stderr"},
      {"fd@2 local0", K::kStderr, "stderr"},
      {"file@/var/log/sluice.log local0", K::kFile, "file /var/log/sluice.log"},
  };
  for (const auto& c : cases) {
    const auto t = ParseLogTarget(c.line);
    ASSERT_TRUE(t) << c.line << ": " << t.error();
    EXPECT_EQ(t->kind, c.kind) << c.line;
    EXPECT_EQ(DescribeTarget(*t), c.describe) << c.line;
  }
}

TEST_F(LogTest, TargetOptions) {
  const auto t =
      ParseLogTarget("ipv4@10.0.0.1:514 len 2048 format rfc5424 sample 1-2,4:5 local2 notice err");
  ASSERT_TRUE(t) << t.error();
  EXPECT_EQ(t->max_len, 2048u);
  EXPECT_EQ(t->format, LogTarget::Format::kRfc5424);
  EXPECT_EQ(t->facility, 18);
  EXPECT_EQ(t->level, 5);
  EXPECT_EQ(t->min_level, 3);
  EXPECT_EQ(t->sample_size, 5u);
  ASSERT_EQ(t->sample_ranges.size(), 2u);
  EXPECT_EQ(t->sample_ranges[0], (std::pair<uint32_t, uint32_t>{1, 2}));
  EXPECT_EQ(t->sample_ranges[1], (std::pair<uint32_t, uint32_t>{4, 4}));
  using F = LogTarget::Format;
  const std::pair<const char*, F> formats[] = {{"rfc3164", F::kRfc3164},   {"rfc5424", F::kRfc5424},
                                               {"raw", F::kRaw},           {"short", F::kShort},
                                               {"local", F::kLocal},       {"iso", F::kIso},
                                               {"priority", F::kPriority}, {"timed", F::kTimed}};
  for (const auto& [name, format] : formats) {
    const auto u = ParseLogTarget(std::string("stdout format ") + name + " daemon");
    ASSERT_TRUE(u) << name;
    EXPECT_EQ(u->format, format) << name;
  }
  EXPECT_EQ(ParseLogTarget("stdout local7 debug")->level, 7);
  EXPECT_EQ(ParseLogTarget("stdout kern")->facility, 0);
  EXPECT_EQ(ParseFacility("cron2"), 15);
  EXPECT_EQ(ParseLevel("warning"), 4);
  EXPECT_FALSE(ParseLevel("warn"));
}

TEST_F(LogTest, TargetErrors) {
  const struct {
    const char* line;
    const char* error;
  } cases[] = {
      {"", "expects a target and a facility (127.0.0.1:514 local0)"},
      {"global", "'global' is not a target"},
      {"127.0.0.1", "expects a facility after the target"},
      {"127.0.0.1 local9", "unknown facility 'local9'"},
      {"127.0.0.1 local0 loud", "unknown level 'loud'"},
      {"127.0.0.1 local0 info lots", "unknown minimum level 'lots'"},
      {"127.0.0.1 local0 info err x", "extra argument 'x' after the levels"},
      {"127.0.0.1 len 79 local0", "'len' expects an integer between 80 and 65535, got '79'"},
      {"127.0.0.1 len 65536 local0", "'len' expects an integer between 80 and 65535, got '65536'"},
      {"127.0.0.1 len", "'len' expects a value"},
      {"127.0.0.1 format json local0",
       "'format' expects local, rfc3164, rfc5424, priority, short, timed, iso or raw, got "
       "'json'"},
      {"127.0.0.1 sample 3 local0", "'sample' expects RANGES:SIZE (1-3:4), got '3'"},
      {"127.0.0.1 sample 1-5:4 local0", "'sample' : range '1-5' is not within 1-4"},
      {"127.0.0.1 sample 0:4 local0", "'sample' : range '0' is not within 1-4"},
      {"127.0.0.1 sample 1:0 local0", "'sample' expects RANGES:SIZE (1-3:4), got '1:0'"},
      {"syslog.example.com:514 local0",
       "'syslog.example.com' is not a numeric IPv4 or IPv6 address (sluice resolves no names)"},
      {"127.0.0.1:0 local0", "port '0' in '127.0.0.1:0' is not between 1 and 65535"},
      {"127.0.0.1:514-515 local0",
       "port '514-515' in '127.0.0.1:514-515' is not between 1 and 65535"},
      {"127.0.0.1: local0", "port '' in '127.0.0.1:' is not between 1 and 65535"},
      {":514 local0", "a log target needs an address, got ':514'"},
      {"[::1 local0", "missing ']' in '[::1'"},
      {"[::1]x local0", "unexpected 'x' after ']' in '[::1]x'"},
      {"ipv4@[::1]:514 local0", "'ipv4@[::1]:514' is not an IPv4 address"},
      {"udp6@10.0.0.1 local0", "'udp6@10.0.0.1' is not an IPv6 address"},
      {"file@ local0", "'file@' expects a path"},
      {"unix@ local0", "'unix@' expects a path"},
      {"ring@buf1 local0",
       "target 'ring@buf1' : 'ring@' is not supported by sluice (an IP address and port, udp@, "
       "ipv4@, ipv6@, a unix socket path, unix@, stdout, stderr or file@PATH)"},
      {"fd@3 local0",
       "target 'fd@3' : 'fd@' is not supported by sluice (an IP address and port, udp@, ipv4@, "
       "ipv6@, a unix socket path, unix@, stdout, stderr or file@PATH)"},
  };
  for (const auto& c : cases) {
    const auto t = ParseLogTarget(c.line);
    ASSERT_FALSE(t) << c.line;
    EXPECT_EQ(t.error(), c.error) << c.line;
  }
  const std::string long_path = "/" + std::string(120, 'a');
  const auto t = ParseLogTarget(long_path + " local0");
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error(), "unix socket path '" + long_path + "' is longer than 107 bytes");
}

// ---------------------------------------------------------------------------------------
// Framing

LogTarget TargetWith(LogTarget::Format format, uint8_t facility = 16) {
  LogTarget t;
  t.format = format;
  t.facility = facility;
  return t;
}

constexpr std::string_view kMsg =
    "10.0.1.2:33313 [06/Feb/2009:12:12:51.443] fnt bck/srv1 0/0/5007 212 -- 0/0/0/0/3 0/0";

TEST_F(LogTest, FrameRfc3164) {
  using F = LogTarget::Format;
  // PRI = local0 (16) * 8 + info (6) = 134 (RFC 3164 section 4.1.1); day padded with a
  // space (section 4.1.2).
  EXPECT_EQ(Frame(TargetWith(F::kRfc3164), 6, "sluice", 4242, "", kExampleUs, kMsg),
            "<134>Feb  6 12:12:51 sluice[4242]: " + std::string(kMsg));
  EXPECT_EQ(Frame(TargetWith(F::kRfc3164, 3), 3, "sluice", 4242, "lb1", kExampleUs, "x"),
            "<27>Feb  6 12:12:51 lb1 sluice[4242]: x");
  EXPECT_EQ(Frame(TargetWith(F::kLocal), 6, "sluice", 4242, "lb1", kExampleUs, "x"),
            "<134>Feb  6 12:12:51 sluice[4242]: x");
  EXPECT_EQ(Frame(TargetWith(F::kRfc3164), 6, "sluice", 0, "", kExampleUs, "x"),
            "<134>Feb  6 12:12:51 sluice: x");
  EXPECT_EQ(Frame(TargetWith(F::kRfc3164), 6, "", 4242, "", kExampleUs, "x\n"),
            "<134>Feb  6 12:12:51 x");
  EXPECT_EQ(Frame(TargetWith(F::kRfc3164, 0), 0, "t", 1, "", 1234567890000000, "x"),
            "<0>Feb 13 23:31:30 t[1]: x");
}

TEST_F(LogTest, FrameRfc5424) {
  using F = LogTarget::Format;
  EXPECT_EQ(Frame(TargetWith(F::kRfc5424), 6, "sluice", 4242, "lb1", kExampleUs, "x"),
            "<134>1 2009-02-06T12:12:51.443000+00:00 lb1 sluice 4242 - - x");
  EXPECT_EQ(Frame(TargetWith(F::kRfc5424), 6, "", 0, "", kExampleUs, "x"),
            "<134>1 2009-02-06T12:12:51.443000+00:00 - - - - - x");
  setenv("TZ", "EST5", 1);
  tzset();
  EXPECT_EQ(Frame(TargetWith(F::kRfc5424), 6, "sluice", 1, "", kExampleUs, "x"),
            "<134>1 2009-02-06T07:12:51.443000-05:00 - sluice 1 - - x");
  setenv("TZ", "UTC", 1);
  tzset();
}

TEST_F(LogTest, FrameShortForms) {
  using F = LogTarget::Format;
  EXPECT_EQ(Frame(TargetWith(F::kRaw), 6, "sluice", 1, "h", kExampleUs, "x"), "x");
  EXPECT_EQ(Frame(TargetWith(F::kPriority), 6, "sluice", 1, "h", kExampleUs, "x"), "<134>x");
  EXPECT_EQ(Frame(TargetWith(F::kShort), 6, "sluice", 1, "h", kExampleUs, "x"), "<6>x");
  EXPECT_EQ(Frame(TargetWith(F::kTimed), 3, "sluice", 1, "h", kExampleUs, "x"),
            "<3>2009-02-06T12:12:51.443000+00:00 x");
  EXPECT_EQ(Frame(TargetWith(F::kIso), 3, "sluice", 1, "h", kExampleUs, "x"),
            "2009-02-06T12:12:51.443000+00:00 x");
}

TEST_F(LogTest, FrameTruncatesToLen) {
  LogTarget t = TargetWith(LogTarget::Format::kRfc3164);
  t.max_len = 80;
  const std::string msg(200, 'm');
  const std::string framed = Frame(t, 6, "sluice", 4242, "", kExampleUs, msg);
  ASSERT_EQ(framed.size(), 80u);
  const std::string header = "<134>Feb  6 12:12:51 sluice[4242]: ";
  EXPECT_EQ(framed, header + std::string(80 - header.size(), 'm'));
  t.format = LogTarget::Format::kRaw;
  EXPECT_EQ(Frame(t, 6, "sluice", 4242, "", kExampleUs, msg), std::string(80, 'm'));
  EXPECT_EQ(Frame(t, 6, "sluice", 4242, "", kExampleUs, std::string(80, 'm')),
            std::string(80, 'm'));
}

// ---------------------------------------------------------------------------------------
// Sinks

// A UDP socket bound to an ephemeral port of 127.0.0.1.
class UdpReceiver {
 public:
  UdpReceiver() {
    fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    socklen_t len = sizeof(a);
    EXPECT_EQ(getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len), 0);
    port_ = ntohs(a.sin_port);
    timeval tv{2, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  ~UdpReceiver() { close(fd_); }
  uint16_t port() const { return port_; }
  std::string Receive() {
    char buf[70000];
    const ssize_t n = recv(fd_, buf, sizeof(buf), 0);
    return n < 0 ? std::string("<nothing>") : std::string(buf, static_cast<size_t>(n));
  }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

TEST_F(LogTest, SinksSendUdp) {
  UdpReceiver rx;
  const auto t = ParseLogTarget("127.0.0.1:" + std::to_string(rx.port()) + " local0");
  ASSERT_TRUE(t) << t.error();
  LogSinks sinks;
  sinks.SetPid(4242);
  const int id = sinks.Add(*t);
  ASSERT_EQ(id, 0) << sinks.error();
  EXPECT_EQ(sinks.Add(*t), id);  // the same target once
  sinks.Send(id, kLevelInfo, "sluice", kMsg, kExampleUs);
  EXPECT_EQ(rx.Receive(), "<134>Feb  6 12:12:51 sluice[4242]: " + std::string(kMsg) + "\n");
  EXPECT_EQ(sinks.sent(), 1u);
  EXPECT_EQ(sinks.dropped(), 0u);

  // A second target to the same socket in rfc5424, capped at `err` by its minimum level.
  const auto t2 = ParseLogTarget("udp@127.0.0.1:" + std::to_string(rx.port()) +
                                 " format rfc5424 local1 info err");
  ASSERT_TRUE(t2);
  sinks.SetHostname("lb1");
  const int id2 = sinks.Add(*t2);
  EXPECT_EQ(id2, 1);
  sinks.Send(id2, 2, "sluice", "crit", kExampleUs);  // crit is capped to err: 17 * 8 + 3
  EXPECT_EQ(rx.Receive(), "<139>1 2009-02-06T12:12:51.443000+00:00 lb1 sluice 4242 - - crit\n");
  sinks.Send(id2, 7, "sluice", "debug", kExampleUs);  // less severe than info: not sent
  EXPECT_EQ(sinks.filtered(), 1u);
  EXPECT_EQ(sinks.sent(), 2u);
  sinks.Send(7, kLevelInfo, "sluice", "nobody", kExampleUs);  // unknown id: ignored
  sinks.Send(-1, kLevelInfo, "sluice", "nobody", kExampleUs);
  EXPECT_EQ(sinks.sent(), 2u);
  EXPECT_EQ(sinks.size(), 2u);
  EXPECT_EQ(sinks.target(id2).facility, 17);
}

TEST_F(LogTest, SinksSampling) {
  UdpReceiver rx;
  const auto t =
      ParseLogTarget("127.0.0.1:" + std::to_string(rx.port()) + " format raw sample 2,4:4 local0");
  ASSERT_TRUE(t) << t.error();
  LogSinks sinks;
  const int id = sinks.Add(*t);
  ASSERT_GE(id, 0);
  for (int i = 1; i <= 8; ++i) sinks.Send(id, kLevelInfo, "", std::to_string(i), kExampleUs);
  EXPECT_EQ(rx.Receive(), "2\n");
  EXPECT_EQ(rx.Receive(), "4\n");
  EXPECT_EQ(rx.Receive(), "6\n");
  EXPECT_EQ(rx.Receive(), "8\n");
  EXPECT_EQ(sinks.sent(), 4u);
  EXPECT_EQ(sinks.filtered(), 4u);
}

TEST_F(LogTest, SinksAppendToFile) {
  char path[] = "/tmp/sluice-log-test-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "before\n", 7), 7);
  close(fd);
  {
    const auto t = ParseLogTarget(std::string("file@") + path + " format raw local0");
    ASSERT_TRUE(t) << t.error();
    const auto t2 = ParseLogTarget(std::string("file@") + path + " format short local0");
    ASSERT_TRUE(t2) << t2.error();
    LogSinks sinks;
    const int id = sinks.Add(*t);
    const int id2 = sinks.Add(*t2);  // another format, the same file
    ASSERT_EQ(id, 0) << sinks.error();
    ASSERT_EQ(id2, 1) << sinks.error();
    const LogFormat f = *LogFormat::Compile(kTcpLogFormat, nullptr);
    sinks.Send(id, kLevelInfo, "sluice", f.Render(ExampleEvent()), kExampleUs);
    sinks.Send(id2, kLevelInfo, "sluice", "second", kExampleUs);
    EXPECT_EQ(sinks.sent(), 2u);
  }
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str(), "before\n" + std::string(kMsg) + "\n<6>second\n");
  unlink(path);
}

TEST_F(LogTest, SinksReportWhatCannotOpen) {
  LogSinks sinks;
  const auto t = ParseLogTarget("file@/nonexistent-dir/x.log local0");
  ASSERT_TRUE(t);
  EXPECT_EQ(sinks.Add(*t), -1);
  EXPECT_EQ(sinks.error(),
            "cannot open log file '/nonexistent-dir/x.log': No such file or directory");
  // A unix socket that is not there yet opens, and its messages are dropped and counted.
  const auto u = ParseLogTarget("/nonexistent-dir/log.sock local0");
  ASSERT_TRUE(u);
  const int id = sinks.Add(*u);
  ASSERT_EQ(id, 0) << sinks.error();
  sinks.Send(id, kLevelInfo, "sluice", "x", kExampleUs);
  EXPECT_EQ(sinks.dropped(), 1u);
  EXPECT_EQ(sinks.sent(), 0u);
  EXPECT_NE(sinks.last_errno(), 0);
}

TEST_F(LogTest, SinksDropWhenTheSocketBufferIsFull) {
  // A unix datagram socket nobody reads: once its queue is full, sends fail with EAGAIN
  // instead of blocking.
  char dir[] = "/tmp/sluice-log-sock-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/log";
  const int rx = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
  ASSERT_EQ(bind(rx, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  LogSinks sinks;
  const auto t = ParseLogTarget("unix@" + path + " local0");
  ASSERT_TRUE(t);
  const int id = sinks.Add(*t);
  ASSERT_GE(id, 0) << sinks.error();
  const std::string msg(900, 'x');
  for (int i = 0; i < 100000 && sinks.dropped() == 0; ++i) {
    sinks.Send(id, kLevelInfo, "sluice", msg, kExampleUs);
  }
  EXPECT_GT(sinks.sent(), 0u);
  EXPECT_EQ(sinks.dropped(), 1u);
  EXPECT_EQ(sinks.last_errno(), EAGAIN);
  close(rx);
  unlink(path.c_str());
  rmdir(dir);
}

TEST_F(LogTest, SinksSurviveAPipeWithoutReader) {
  char dir[] = "/tmp/sluice-log-fifo-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/fifo";
  ASSERT_EQ(mkfifo(path.c_str(), 0600), 0);
  const auto t = ParseLogTarget("file@" + path + " format raw local0");
  ASSERT_TRUE(t);
  {
    LogSinks sinks;
    EXPECT_EQ(sinks.Add(*t), -1);  // no reader: refused instead of blocking
    EXPECT_EQ(sinks.error(), "cannot open log file '" + path + "': No such device or address");
  }
  const int rx = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(rx, 0);
  LogSinks sinks;
  const int id = sinks.Add(*t);
  ASSERT_EQ(id, 0) << sinks.error();
  sinks.Send(id, kLevelInfo, "sluice", "one", kExampleUs);
  char buf[16] = {};
  EXPECT_EQ(read(rx, buf, sizeof(buf)), 4);
  EXPECT_STREQ(buf, "one\n");
  close(rx);
  // The reader is gone: the write fails with EPIPE and SIGPIPE does not end the process.
  sinks.Send(id, kLevelInfo, "sluice", "two", kExampleUs);
  EXPECT_EQ(sinks.sent(), 1u);
  EXPECT_EQ(sinks.dropped(), 1u);
  EXPECT_EQ(sinks.last_errno(), EPIPE);
  unlink(path.c_str());
  rmdir(dir);
}

// %hr %hrl %hs %hsl as HAProxy 2.6 writes them (oracle runs of Debian's haproxy 2.6.12 with
// `capture request header`, `declare capture`, `http-request capture`).
TEST_F(LogTest, CapturesAsHaproxyLogsThem) {
  LogEvent e = ExampleEvent();
  const std::string fmt =
      "hr=%hr hrl=%hrl hs=%hs hsl=%hsl Qhr=%{+Q}hr Qhrl=%{+Q}hrl Qhs=%{+Q}hs Qhsl=%{+Q}hsl end";
  e.req_caps = {std::string("example."), std::string("curl/"), std::string("abc")};
  e.res_caps = {std::string("Test"), std::string("second")};
  EXPECT_EQ(MustCompile(fmt).Render(e),
            "hr={example.|curl/|abc} hrl=example. curl/ abc hs={Test|second} hsl=Test second "
            "Qhr=\"{example.|curl/|abc}\" Qhrl=\"example.\" \"curl/\" \"abc\" "
            "Qhs=\"{Test|second}\" Qhsl=\"Test\" \"second\" end");
  // Missing slots: empty between the braces, "-" in the lists, "" quoted.
  e.req_caps = {std::nullopt, std::string("agent"), std::string("xyz")};
  e.res_caps = {std::nullopt, std::nullopt};
  EXPECT_EQ(MustCompile(fmt).Render(e),
            "hr={|agent|xyz} hrl=- agent xyz hs={|} hsl=- - Qhr=\"{|agent|xyz}\" "
            "Qhrl=\"\" \"agent\" \"xyz\" Qhs=\"{|}\" Qhsl=\"\" \"\" end");
  // Present but empty: nothing at all in the list, and the separator after it still comes.
  e.req_caps = {std::string(), std::string(), std::string()};
  EXPECT_EQ(MustCompile("hrl=%hrl hs").Render(e), "hrl=   hs");
  // '#' and two upper-case hex digits for control bytes, bytes from 127, and "#{|}.
  e.req_caps = {std::string("a\"b|c{d}"), std::string("#x y\""), std::string("a\tb\x01\x7f\xc3")};
  EXPECT_EQ(MustCompile("%hr").Render(e), "{a#22b#7Cc#7Bd#7D|#23x y#22|a#09b#01#7F#C3}");
  EXPECT_EQ(MustCompile("%hrl").Render(e), "a#22b#7Cc#7Bd#7D #23x y#22 a#09b#01#7F#C3");
  e.req_caps = {std::string("a\\b")};
  EXPECT_EQ(MustCompile("%hr").Render(e), "{a\\b}");
}

// Without captures the variables write nothing and their spaces collapse (HAProxy's
// separators: one space, none before the first output, a trailing one kept).
TEST_F(LogTest, NoCapturesCollapseTheirSeparators) {
  const LogEvent e = ExampleEvent();
  EXPECT_EQ(MustCompile("a %hr %hs b").Render(e), "a b");
  EXPECT_EQ(MustCompile("a %hr|%hs b").Render(e), "a | b");
  EXPECT_EQ(MustCompile("[%hr] x").Render(e), "[] x");
  EXPECT_EQ(MustCompile("a  %hr  %hs  b").Render(e), "a b");
  EXPECT_EQ(MustCompile("%hr %hs b").Render(e), "b");
  EXPECT_EQ(MustCompile("a %hr %hs").Render(e), "a ");
  EXPECT_EQ(MustCompile("a %hrl %hsl b %{+Q}hr %{+Q}hrl c").Render(e), "a b c");
}

}  // namespace
}  // namespace sluice::log
