// The CLI protocol state machine against HAProxy 2.6 transcripts (prompt bytes, chains,
// payloads, levels, severity), the resumable dumps with a tiny output buffer, and the server
// over a socketpair and a real unix socket.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "runtime-api/server/connection.h"
#include "runtime-api/server/server.h"
#include "tests/unit/cli_test_support.h"

namespace sluice::cli {
namespace {

class CliSession : public ::testing::Test {
 protected:
  CliSession() { RegisterAllCommands(registry_); }

  // Feeds each chunk in turn (as separate reads), draining all output; returns it and
  // whether the connection ended.
  std::string Run(std::vector<std::string> chunks, Level level = Level::kAdmin,
                  size_t out_bytes = 16384, bool eof = true) {
    ConnectionLimits limits;
    limits.output_bytes = out_bytes;
    Connection c(level, 10000, limits, registry_, appliance_);
    std::string all;
    closed_ = false;
    for (size_t i = 0; i < chunks.size() && !c.closing(); ++i) {
      c.Feed(chunks[i]);
      if (eof && i + 1 == chunks.size()) c.FeedEof();
      Drain(c, all);
    }
    closed_ = c.closing();
    return all;
  }
  void Drain(Connection& c, std::string& all) {
    for (int i = 0; i < 100000; ++i) {
      c.Pump();
      if (c.output().empty()) return;
      all += c.output();
      c.output().clear();
    }
    FAIL() << "no progress";
  }

  Registry registry_;
  FakeAppliance appliance_;
  bool closed_ = false;
};

TEST_F(CliSession, OneShotAnswersThenCloses) {
  EXPECT_EQ(Run({"show version\n"}), "2.6.12-1+deb12u4\n\n");
  EXPECT_TRUE(closed_);
  // B0h: two lines in one read are both answered.
  EXPECT_EQ(Run({"show version\nshow cli level\n"}), TranscriptOutput("B0h-multi-line-"
                                                                      "noninteractive.txt"));
  // B0i: a second line arriving later finds the connection closed.
  EXPECT_EQ(Run({"show version\n", "show cli level\n"}, Level::kAdmin, 16384, false),
            "2.6.12-1+deb12u4\n\n");
  EXPECT_TRUE(closed_);
  EXPECT_EQ(Run({"quit\n"}), "");                            // A0f
  EXPECT_EQ(Run({"show version"}), "2.6.12-1+deb12u4\n\n");  // no newline, then EOF
  EXPECT_EQ(Run({"show version\r\n"}), "2.6.12-1+deb12u4\n\n");
}

TEST_F(CliSession, ChainsEachWithTerminator) {
  EXPECT_EQ(Run({"show version;show cli level\n"}), "2.6.12-1+deb12u4\n\nadmin\n\n");
  EXPECT_EQ(Run({"set timeout cli 300\n"}), TranscriptOutput("A9o-set-timeout-cli.txt"));
  EXPECT_EQ(Run({"clear counters\n"}), TranscriptOutput("A8-clear-counters.txt"));
  EXPECT_EQ(appliance_.cleared, 1);
  EXPECT_EQ(Run({"clear counters all\n"}), "\n");
  EXPECT_EQ(appliance_.cleared, 2);
  EXPECT_EQ(Run({"expert-mode\n"}), TranscriptOutput("A9m-expert-mode.txt"));
  EXPECT_EQ(Run({"show cli level\n"}), TranscriptOutput("A2-show-cli-level.txt"));
  EXPECT_EQ(Run({"show version\n"}), TranscriptOutput("A1-show-version.txt"));
}

TEST_F(CliSession, PromptBytes) {
  // B0b: prompt, show version, a silent command, quit.
  EXPECT_EQ(Run({"prompt\n", "show version\n", "set timeout cli 5\n", "quit\n"}),
            "\n> 2.6.12-1+deb12u4\n\n> \n> ");
  EXPECT_TRUE(closed_);
  // B0c: a second prompt leaves interactive mode, and the connection closes.
  EXPECT_EQ(Run({"prompt\n", "show version\n", "prompt\n", "show version\n"}, Level::kAdmin, 16384,
                false),
            "\n> 2.6.12-1+deb12u4\n\n> \n");
  EXPECT_TRUE(closed_);
}

TEST_F(CliSession, PayloadPrompts) {
  // B0d's bytes: "+ " for each payload line, then the answer once the empty line arrives.
  EXPECT_EQ(Run({"prompt\n", "show version <<\n", "a b\n", "c\n", "\n", "quit\n"}),
            "\n> + + + 2.6.12-1+deb12u4\n\n> ");
  // One-shot: the payload may come in the same read.
  EXPECT_EQ(Run({"show cli level <<\nx\n\n"}), "admin\n\n");
}

TEST_F(CliSession, LevelsOnlyGoDown) {
  // B1, with the commands sluice has.
  EXPECT_EQ(Run({"prompt\n", "show cli level\n", "operator\n", "show cli level\n",
                 "clear counters all\n", "clear counters\n", "user\n", "show cli level\n",
                 "show env HOME\n", "operator\n", "show cli level\n", "quit\n"}),
            "\n> admin\n\n> \n> operator\n\n> Permission denied\n\n> \n> \n> user\n\n"
            "> Permission denied\n\n> Permission denied\n\n> user\n\n> ");
  EXPECT_EQ(Run({"expert-mode on\n"}, Level::kOperator), "Permission denied\n\n");
}

TEST_F(CliSession, SeverityOutput) {
  EXPECT_EQ(Run({"set severity-output number; show env NOPE_NOT_SET; show version\n"}),
            "\n[3]: Variable not found\n\n2.6.12-1+deb12u4\n\n");
  EXPECT_EQ(Run({"set severity-output string; show env NOPE_NOT_SET\n"}),
            "\n[err]: Variable not found\n\n");
  EXPECT_EQ(Run({"show env NOPE_NOT_SET\n"}), "Variable not found\n\n");  // A3c
  setenv("SLUICE_CLI_TEST", "v=1", 1);
  EXPECT_EQ(Run({"show env SLUICE_CLI_TEST\n"}), "SLUICE_CLI_TEST=v=1\n\n");
  EXPECT_NE(Run({"show env\n"}).find("\nSLUICE_CLI_TEST=v=1\n"), std::string::npos);
}

TEST_F(CliSession, UnknownCommands) {
  const std::string empty = Run({"\n"});
  EXPECT_TRUE(
      empty.starts_with("Unknown command. Please enter one of the following commands "
                        "only:\n  abort ssl cert <certfile>"));
  EXPECT_TRUE(empty.ends_with("  quit                                    : disconnect\n\n"));
  EXPECT_TRUE(Run({"foo bar\n"}).starts_with("Unknown command, but maybe"));
  // B1b: user; help lists the same commands as at admin level.
  EXPECT_EQ(Run({"user; help\n"}), "\n" + Run({"help\n"}));
}

// Lines of a `show info typed desc` with the values replaced by "V" (they differ by host).
std::string MaskValues(const std::string& text) {
  std::istringstream in(text);
  std::string line, out;
  while (std::getline(in, line)) {
    if (line.empty()) {
      out += "\n";
      continue;
    }
    // pos.Name.1:TAGS:type:value:"desc"
    size_t p = line.find(':');
    p = line.find(':', p + 1);
    p = line.find(':', p + 1);
    const size_t q = line.find(":\"", p + 1);
    out += line.substr(0, p + 1) + "V" + (q == std::string::npos ? "" : line.substr(q)) + "\n";
  }
  return out;
}

TEST_F(CliSession, ShowInfoForms) {
  const std::string want = TranscriptOutput("04-show-info-typed-desc.txt");
  if (want.empty()) GTEST_SKIP() << "HAProxy transcripts not found";
  const std::string typed = Run({"show info typed desc\n"});
  EXPECT_EQ(MaskValues(typed), MaskValues(want));
  EXPECT_TRUE(
      typed.starts_with("0.Name.1:POS:str:HAProxy:\"Product name\"\n"
                        "1.Version.1:POS:str:2.6.12-1+deb12u4:\"Product version\"\n"));
  const std::string text = Run({"show info\n"});
  std::string names, want_names;
  for (const auto& [src, dst] : {std::pair{&text, &names}, {&want, &want_names}}) {
    std::istringstream in(*src);
    std::string line;
    while (std::getline(in, line)) {
      const size_t dot = line.find('.');
      if (src == &want)
        line = line.empty() ? "" : line.substr(dot + 1, line.find(".1:") - dot - 1);
      else
        line = line.substr(0, line.find(':'));
      *dst += line + "\n";
    }
  }
  EXPECT_EQ(names, want_names);
  EXPECT_NE(text.find("\nUptime: 0d 0h00m35s\nUptime_sec: 35\n"), std::string::npos);
  EXPECT_NE(Run({"show info float\n"}).find("\nUptime_sec: 35.250000\n"), std::string::npos);
  const std::string json = Run({"show info json\n"});
  const std::string want_json = TranscriptOutput("05-show-info-json.txt");
  const size_t pid = want_json.find(",{\"field\":{\"pos\":6,");  // values differ from Pid on
  EXPECT_EQ(json.substr(0, pid), want_json.substr(0, pid));
  EXPECT_TRUE(json.ends_with("\"value\":{\"type\":\"str\",\"value\":\"0\"}}]\n\n"));
}

TEST_F(CliSession, TinyOutputBufferGivesSameBytes) {
  for (const char* cmd :
       {"show info\n", "show info json\n", "help\n", "show activity\n", "show env\n"}) {
    std::string big = Run({cmd});
    std::string tiny = Run({cmd}, Level::kAdmin, 7);
    if (std::string(cmd) == "show activity\n") {  // date_now differs
      big.erase(0, big.find("loops"));
      tiny.erase(0, tiny.find("loops"));
    }
    EXPECT_EQ(big, tiny) << cmd;
  }
  const std::string act = Run({"show activity\n"});
  EXPECT_TRUE(act.starts_with("thread_id: 0 (1..2)\ndate_now: "));
  EXPECT_NE(act.find("\nloops: 2203 [ 1060 1143 ]\nrx_pkts: 12 [ 5 7 ]\n"
                     "drop_no_route: 1 [ 0 1 ]\n\n"),
            std::string::npos);
}

TEST_F(CliSession, LongLineIsRefused) {
  EXPECT_EQ(Run({std::string(20000, 'a')}, Level::kAdmin, 16384, false),
            "Command line too long.\n");
  EXPECT_TRUE(closed_);
}

std::string ReadAll(int fd, CliServer& server) {
  std::string got;
  char buf[4096];
  for (int i = 0; i < 2000; ++i) {
    server.RunOnce(1);
    const ssize_t r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (r == 0) break;
    if (r > 0) got.append(buf, static_cast<size_t>(r));
  }
  return got;
}

TEST_F(CliSession, ServerOverSocketpair) {
  CliServer server(appliance_, registry_);
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  ASSERT_TRUE(server.Adopt(sv[0], Level::kUser).ok());
  const std::string req = "show cli level;clear counters\n";
  ASSERT_EQ(write(sv[1], req.data(), req.size()), static_cast<ssize_t>(req.size()));
  EXPECT_EQ(ReadAll(sv[1], server), "user\n\nPermission denied\n\n");
  EXPECT_EQ(server.connections(), 0u);
  close(sv[1]);
}

TEST_F(CliSession, ServerUnixSocketModeStalledClientAndTimeout) {
  ServerLimits limits;
  limits.timeout_ms = 300;
  CliServer server(appliance_, registry_, limits);
  const std::string path = "/tmp/sluice-cli-test-" + std::to_string(getpid()) + ".sock";
  ListenerConfig cfg;
  cfg.path = path;
  cfg.mode = 0600;
  cfg.level = Level::kAdmin;
  ASSERT_TRUE(server.Listen({cfg}).ok());
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  auto connect_one = [&] {
    const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
    EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)), 0);
    return fd;
  };
  // A client that asks for a lot and never reads must not stop the others.
  const int stalled = connect_one();
  const std::string many = "prompt\n" + [] {
    std::string s;
    for (int i = 0; i < 2000; ++i) s += "show info json\n";
    return s;
  }();
  (void)!write(stalled, many.data(), 16000);
  for (int i = 0; i < 50; ++i) server.RunOnce(1);
  const int fd = connect_one();
  ASSERT_EQ(write(fd, "show cli level\n", 15), 15);
  EXPECT_EQ(ReadAll(fd, server), "admin\n\n");
  close(fd);
  // The stalled one is closed by the idle timeout.
  for (int i = 0; i < 100 && server.connections() > 0; ++i) server.RunOnce(10);
  EXPECT_EQ(server.connections(), 0u);
  close(stalled);
  server.Close();
  EXPECT_NE(access(path.c_str(), F_OK), 0);
}

}  // namespace
}  // namespace sluice::cli
