// libFuzzer target for the CLI request path: the tokenizer and the whole protocol state
// machine (chains, escapes, payloads, prompt mode) with every registered command, fed in
// pieces, with a tiny output buffer so dumps pause and resume. The stick-table commands run
// against four tables (ip, ipv6, integer, string) held here, each with a few rows, so their
// argument parsing (keys, filters, data pairs) and listings are reached.
#include <cstddef>
#include <cstdint>
#include <string>

#include "runtime-api/commands/commands.h"
#include "runtime-api/protocol/protocol.h"
#include "runtime-api/server/connection.h"

namespace {

using namespace sluice::cli;

class Done final : public PendingAnswer {
 public:
  Gather Poll(std::string*) override { return Gather::kDone; }
};

class FuzzRows final : public StickRows {
 public:
  explicit FuzzRows(const StickTableView& t) : t_(t) {}
  Gather Next(std::vector<StickRowView>* out) override {
    for (uint8_t i = 0; i < 4; ++i) {  // server_key 0 ("-"), s1, s2, and one past the names
      StickRowView r;
      r.key.assign(t_.key_len, static_cast<char>('a' + i));
      r.ref = 0x1000u + i;
      r.values.assign(t_.columns.size(), i);
      out->push_back(std::move(r));
    }
    return Gather::kDone;
  }

 private:
  const StickTableView& t_;
};

class FuzzStick final : public StickControl {
 public:
  FuzzStick() {
    const std::pair<const char*, uint32_t> types[] = {
        {"ip", 4}, {"ipv6", 16}, {"integer", 4}, {"string", 32}};
    int n = 0;
    for (const auto& [type, len] : types) {
      StickTableView t;
      t.name = "t" + std::to_string(n++);
      t.type = type;
      t.size = 100;
      t.key_len = len;
      t.columns = {{"server_id", "server_id", 0, 0, true, {}, false},
                   {"gpt0", "gpt0", 1, 0, false, {}, false},
                   {"http_req_rate", "http_req_rate", 10, 10000, false, {}, false},
                   {"server_key", "server_key", 19, 0, false, {"s1", "s2"}, true},
                   {"gpc0", "gpc", 23, 0, false, {}, false},
                   {"gpc1", "", 255, 0, false, {}, false}};
      tables_.push_back(std::move(t));
    }
  }
  const std::vector<StickTableView>& Tables() override { return tables_; }
  std::unique_ptr<StickRows> Rows(size_t table, const std::string*,
                                  const std::vector<StickFilterView>&) override {
    return std::make_unique<FuzzRows>(tables_[table]);
  }
  std::unique_ptr<PendingAnswer> Used(std::vector<uint64_t>* used) override {
    used->assign(tables_.size(), 3);
    return std::make_unique<Done>();
  }
  std::unique_ptr<PendingAnswer> Set(size_t, const std::string&,
                                     const std::vector<std::pair<uint8_t, int64_t>>&) override {
    return std::make_unique<Done>();
  }
  std::unique_ptr<PendingAnswer> Clear(size_t, const std::string*,
                                       const std::vector<StickFilterView>&) override {
    return std::make_unique<Done>();
  }

 private:
  std::vector<StickTableView> tables_;
};

class FuzzAppliance : public sluice::cli::ApplianceContext {
 public:
  std::string Version() override { return "fuzz"; }
  void FillInfo(sluice::cli::InfoValues&) override {}
  void Activity(sluice::cli::ActivityDump& out) override {
    out.workers = 2;
    out.rows = {{"loops", {1, 2}}};
  }
  void ClearCounters(bool) override {}
  StickControl* Stick() override { return &stick_; }

 private:
  FuzzStick stick_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static sluice::cli::Registry registry = [] {
    sluice::cli::Registry r;
    sluice::cli::RegisterAllCommands(r);
    return r;
  }();
  static FuzzAppliance appliance;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  for (const std::string& piece : sluice::cli::SplitChain(input)) {
    (void)sluice::cli::SplitWords(piece);
  }
  sluice::cli::ConnectionLimits limits;
  limits.output_bytes = 64;
  limits.max_request_bytes = 1024;
  sluice::cli::Connection c(sluice::cli::Level::kAdmin, 1000, limits, registry, appliance);
  // `show env` would make runs depend on the environment, which is fine for coverage.
  for (size_t i = 0; i < input.size() && !c.closing(); i += 7) {
    c.Feed(input.substr(i, 7));
    for (int round = 0; round < 1000; ++round) {
      c.Pump();
      if (c.output().empty()) break;
      c.output().clear();
    }
  }
  c.FeedEof();
  for (int round = 0; round < 100000 && !c.closing(); ++round) {
    c.Pump();
    c.output().clear();
  }
  return 0;
}
