// The CLI tokenizer (`;` chains, escapes, words, payload marker) and the bounded writer.
#include <gtest/gtest.h>

#include "runtime-api/protocol/protocol.h"

namespace sluice::cli {
namespace {

using Strings = std::vector<std::string>;

TEST(CliTokenizer, ChainsSplitAtUnescapedSemicolons) {
  EXPECT_EQ(SplitChain("show version;show cli level;get weight be_app/s2"),
            (Strings{"show version", "show cli level", "get weight be_app/s2"}));
  EXPECT_EQ(SplitChain("add map #5 7.7.7.0/24 a\\;b;show map #5"),
            (Strings{"add map #5 7.7.7.0/24 a\\;b", "show map #5"}));
  EXPECT_EQ(SplitChain(""), (Strings{""}));
  EXPECT_EQ(SplitChain("a;"), (Strings{"a", ""}));
  EXPECT_EQ(SplitChain("a\\\\;b"), (Strings{"a\\\\", "b"}));  // `\\` then a separator
}

TEST(CliTokenizer, WordsUnescape) {
  EXPECT_EQ(SplitWords("  show   info\ttyped "), (Strings{"show", "info", "typed"}));
  EXPECT_EQ(SplitWords("add map #5 7.7.7.0/24 a\\;b"),
            (Strings{"add", "map", "#5", "7.7.7.0/24", "a;b"}));
  EXPECT_EQ(SplitWords("a\\\\b c\\ d"), (Strings{"a\\b", "c d"}));
  EXPECT_EQ(SplitWords("x\\"), (Strings{"x"}));
  EXPECT_TRUE(SplitWords("").empty());
  EXPECT_TRUE(SplitWords(" \t ").empty());
}

TEST(CliTokenizer, WordsAreBounded) {
  std::string line;
  for (int i = 0; i < 70; ++i) line += "w" + std::to_string(i) + " ";
  const Strings words = SplitWords(line);
  ASSERT_EQ(words.size(), kMaxArgs);
  EXPECT_EQ(words[62], "w62");
  EXPECT_EQ(words.back(), "w63 w64 w65 w66 w67 w68 w69");
}

TEST(CliTokenizer, PayloadMarker) {
  EXPECT_TRUE(HasPayloadMarker("add map #5 <<"));
  EXPECT_TRUE(HasPayloadMarker("<<"));
  EXPECT_FALSE(HasPayloadMarker("add map #5<<"));  // glued to the last word
  EXPECT_FALSE(HasPayloadMarker("add map #5 << x"));
  EXPECT_EQ(StripPayloadMarker("add map #5  <<"), "add map #5");
  EXPECT_EQ(StripPayloadMarker("show info"), "show info");
}

TEST(CliWriter, AllOrNothingWithinCapacity) {
  std::string out;
  Writer w(out, 8);
  EXPECT_TRUE(w.Put("12345"));
  EXPECT_FALSE(w.Put("6789"));  // would pass 8: nothing written
  EXPECT_EQ(out, "12345");
  EXPECT_TRUE(w.Put("678"));
  EXPECT_EQ(w.Room(), 0u);
  out.clear();
  EXPECT_TRUE(w.Put("a record longer than the capacity"));  // an empty buffer takes one
}

}  // namespace
}  // namespace sluice::cli
