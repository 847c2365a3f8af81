// The command registry: lookup, duplicate prefixes, and help / unknown-command text compared
// with HAProxy 2.6 transcripts (a registry loaded with HAProxy's whole command list).
#include <gtest/gtest.h>

#include <deque>

#include "runtime-api/registry/registry.h"
#include "tests/unit/cli_test_support.h"

namespace sluice::cli {
namespace {

std::unique_ptr<Dump> Noop(Call&) { return nullptr; }

// HAProxy's 2.6 command list, rebuilt from its `help` transcript.
class HaproxyTable {
 public:
  explicit HaproxyTable(const std::string& help) {
    std::istringstream in(help);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      if (line.size() < 44 || line.starts_with("  help ") || line.starts_with("  prompt ") ||
          line.starts_with("  quit ")) {
        continue;
      }
      std::string usage = line.substr(2, 40);
      while (!usage.empty() && usage.back() == ' ') usage.pop_back();
      CommandRow row{{}, Level::kUser, &Noop, Keep(usage), Keep(line.substr(44))};
      std::istringstream ws(usage);
      std::string w;
      for (size_t i = 0; ws >> w && i < kMaxCommandWords;) {
        if (w[0] == '[' || w[0] == '<' || w[0] == '{' || w[0] == '(') break;
        row.words[i++] = Keep(w);
      }
      rows_.push_back(row);
    }
  }
  std::span<const CommandRow> rows() const { return {rows_.data(), rows_.size()}; }

 private:
  std::string_view Keep(std::string s) { return strings_.emplace_back(std::move(s)); }
  std::deque<std::string> strings_;
  std::vector<CommandRow> rows_;
};

std::vector<std::string> Words(std::initializer_list<const char*> w) {
  return {w.begin(), w.end()};
}

TEST(CliRegistry, HelpMatchesHaproxy) {
  const std::string help = TranscriptOutput("01-help.txt");
  if (help.empty()) GTEST_SKIP() << "HAProxy transcripts not found";
  HaproxyTable table(help);
  Registry r;
  for (const CommandRow& row : table.rows()) {
    r.Add({&row, 1});
  }
  EXPECT_EQ(r.Usage({}, true) + "\n", help);
  EXPECT_EQ(r.Usage({}, false) + "\n", TranscriptOutput("A0c-empty-command.txt"));
  EXPECT_EQ(r.Usage(Words({"set", "server"}), true) + "\n",
            TranscriptOutput("A0d-help-with-arg.txt"));
  EXPECT_EQ(r.Usage(Words({"show", "table"}), true) + "\n",
            TranscriptOutput("A0e-help-show-table.txt"));
  // Proposals for an unknown command: same header, five usage lines, then the fixed three.
  // Which five differs from HAProxy for some inputs (docs/runtime-api.md).
  const std::string fuzzy = r.Usage(Words({"foo", "bar"}), false);
  EXPECT_TRUE(fuzzy.starts_with("Unknown command, but maybe one of the following ones is a"));
  EXPECT_EQ(std::count(fuzzy.begin(), fuzzy.end(), '\n'), 1 + 5 + 3);
  EXPECT_NE(fuzzy.find("  user                                    : lower"), std::string::npos);
  EXPECT_NE(fuzzy.find("  get var <name>"), std::string::npos);
}

TEST(CliRegistry, SluiceHelpLinesAreHaproxys) {
  const std::string help = TranscriptOutput("01-help.txt");
  if (help.empty()) GTEST_SKIP() << "HAProxy transcripts not found";
  Registry r;
  RegisterAllCommands(r);
  std::istringstream in(r.Usage({}, true));
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "The following commands are valid at this level:");
  int n = 0;
  while (std::getline(in, line)) {
    EXPECT_NE(help.find(line + "\n"), std::string::npos) << line;
    ++n;
  }
  // 15: the ACL and map commands; 3: show/set/clear table; 12: TLS (keys, certs,
  // crt-lists, CA files, OCSP); 2: add/del server
  EXPECT_EQ(n, 35 + 15 + 3 + 3 + 12 + 2);
}

TEST(CliRegistry, FindAndDuplicates) {
  Registry r;
  RegisterAllCommands(r);
  EXPECT_EQ(r.DuplicatePrefix(), "");
  const CommandRow* row = r.Find(Words({"show", "info", "typed"}));
  ASSERT_NE(row, nullptr);
  EXPECT_EQ(row->usage, "show info [desc|json|typed|float]*");
  EXPECT_EQ(r.Find(Words({"show"})), nullptr);
  EXPECT_EQ(r.Find(Words({"show", "foo"})), nullptr);
  EXPECT_EQ(r.Find({}), nullptr);

  static constexpr CommandRow kDup[] = {{{"show", "info"}, Level::kUser, &Noop, "", ""},
                                        {{"show", "info", "x"}, Level::kUser, &Noop, "", ""}};
  Registry bad;
  bad.Add({&kDup[0], 1});
  EXPECT_EQ(bad.DuplicatePrefix(), "");
#ifdef NDEBUG
  bad.Add({&kDup[1], 1});  // debug builds abort here instead
  EXPECT_EQ(bad.DuplicatePrefix(), "show info / show info x");
#else
  EXPECT_DEATH(bad.Add({&kDup[1], 1}), "duplicate CLI command prefix");
#endif
}

TEST(CliRegistry, UnknownWithKnownPrefixListsThatPrefix) {
  Registry r;
  RegisterAllCommands(r);
  const std::string text = r.Usage(Words({"show", "cli"}), false);
  EXPECT_EQ(text,
            "Unknown command, but maybe one of the following ones is a better match:\n"
            "  show cli level                          : display the level of the current CLI "
            "session\n"
            "  show cli sockets                        : dump list of cli sockets\n"
            "  help [<command>]                        : list matching or all commands\n"
            "  prompt                                  : toggle interactive mode with prompt\n"
            "  quit                                    : disconnect\n");
}

TEST(CliRegistry, Fingerprint) {
  Fingerprint a{}, b{};
  AddToFingerprint(a, "foo");
  AddToFingerprint(b, "foo");
  EXPECT_EQ(FingerprintDistance(a, b), 0);
  Fingerprint c{};
  AddToFingerprint(c, "fd");
  EXPECT_EQ(FingerprintDistance(a, c), 5);  // {^f fo oo o$} vs {^f fd d$}
}

}  // namespace
}  // namespace sluice::cli
