// `show table` over many rows (runtime-api/commands/stick_cmds.cc) against a fake
// StickControl that hands out rows as workers would: in slices, in no order, with waits. The
// listing comes out whole, in HAProxy's tree order (integer keys by value), filtered, with
// the header counting every row; more rows than one sorted run (TableDump::kSortRun) are
// merged across runs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>

#include "runtime-api/server/connection.h"
#include "tests/unit/cli_test_support.h"

namespace sluice::cli {
namespace {

class SlicedRows : public StickRows {
 public:
  explicit SlicedRows(std::vector<uint32_t> keys) : keys_(std::move(keys)) {}
  Gather Next(std::vector<StickRowView>* out) override {
    if ((wait_ = !wait_)) return Gather::kWait;
    for (size_t n = 0; n < 5000 && next_ < keys_.size(); ++n, ++next_) {
      StickRowView r;
      r.key.assign(4, '\0');
      std::memcpy(r.key.data(), &keys_[next_], 4);
      r.ref = 0x1000 + keys_[next_];
      r.exp_ms = 1000;
      r.values = {keys_[next_] % 7};  // gpc0
      out->push_back(std::move(r));
    }
    return next_ == keys_.size() ? Gather::kDone : Gather::kWait;
  }

 private:
  std::vector<uint32_t> keys_;
  size_t next_ = 0;
  bool wait_ = false;
};

class FakeStick : public StickControl {
 public:
  FakeStick() {
    StickTableView t;
    t.name = "t";
    t.type = "integer";
    t.size = 1 << 20;
    t.key_len = 4;
    t.columns = {{"gpc0", "gpc0", 2, 0, false, {}, false}};
    views_.push_back(t);
  }
  const std::vector<StickTableView>& Tables() override { return views_; }
  std::unique_ptr<StickRows> Rows(size_t, const std::string*,
                                  const std::vector<StickFilterView>&) override {
    return std::make_unique<SlicedRows>(keys);
  }
  std::unique_ptr<PendingAnswer> Used(std::vector<uint64_t>*) override { return nullptr; }
  std::unique_ptr<PendingAnswer> Set(size_t, const std::string&,
                                     const std::vector<std::pair<uint8_t, int64_t>>&) override {
    return nullptr;
  }
  std::unique_ptr<PendingAnswer> Clear(size_t, const std::string*,
                                       const std::vector<StickFilterView>&) override {
    return nullptr;
  }
  std::vector<uint32_t> keys;

 private:
  std::vector<StickTableView> views_;
};

class StickAppliance : public FakeAppliance {
 public:
  StickControl* Stick() override { return &stick; }
  FakeStick stick;
};

class CliStick : public ::testing::Test {
 protected:
  CliStick() { RegisterAllCommands(registry_); }
  std::string Run(const std::string& line) {
    Connection c(Level::kAdmin, 10000, ConnectionLimits{}, registry_, appliance_);
    c.Feed(line + "\n");
    c.FeedEof();
    std::string all;
    for (int i = 0; i < 10000000; ++i) {
      c.Pump();
      if (c.output().empty() && !c.waiting()) break;
      all += c.output();
      c.output().clear();
    }
    return all;
  }
  Registry registry_;
  StickAppliance appliance_;
};

TEST_F(CliStick, ManyRowsSortedAcrossRuns) {
  // 200 000 keys (three sorted runs and a part), shuffled, some above 2^24 so that byte
  // order and value order differ.
  std::vector<uint32_t> keys;
  for (uint32_t i = 0; i < 200000; ++i) keys.push_back(i * 97 + (i % 3 ? 0 : 1u << 25));
  std::mt19937 rng(15);
  std::shuffle(keys.begin(), keys.end(), rng);
  appliance_.stick.keys = keys;
  const std::string out = Run("show table t");
  ASSERT_EQ(out.substr(0, out.find('\n') + 1),
            "# table: t, type: integer, size:1048576, used:200000\n");
  std::vector<uint32_t> want = keys;
  std::sort(want.begin(), want.end());
  size_t pos = out.find('\n') + 1, n = 0;
  while (pos < out.size() && out[pos] != '\n') {
    const size_t end = out.find('\n', pos);
    const std::string line = out.substr(pos, end - pos);
    ASSERT_LT(n, want.size());
    const std::string k = "key=" + std::to_string(want[n]) + " ";
    ASSERT_NE(line.find(k), std::string::npos) << n << ": " << line;
    ++n;
    pos = end + 1;
  }
  EXPECT_EQ(n, want.size());
  EXPECT_EQ(out.substr(out.size() - 1), "\n");
}

TEST_F(CliStick, FiltersAndKey) {
  std::vector<uint32_t> keys;
  for (uint32_t i = 0; i < 70000; ++i) keys.push_back(70000 - i);
  appliance_.stick.keys = keys;
  const std::string out = Run("show table t data.gpc0 eq 3");
  size_t lines = 0;
  for (const char c : out) lines += c == '\n';
  // The header, each key k with k % 7 == 3, the empty line.
  EXPECT_EQ(lines, 1 + 10000 + 1) << out.substr(0, 200);
  EXPECT_EQ(out.substr(0, out.find('\n')), "# table: t, type: integer, size:1048576, used:70000");
  EXPECT_NE(out.find("\n0x1003: key=3 use=0 exp=1000 gpc0=3\n0x100a: key=10 "), std::string::npos);
  EXPECT_EQ(Run("show table t key 12"),
            "# table: t, type: integer, size:1048576, used:70000\n"
            "0x100c: key=12 use=0 exp=1000 gpc0=5\n\n");
  EXPECT_EQ(Run("show table t key 70001"), "\n");
}

}  // namespace
}  // namespace sluice::cli
