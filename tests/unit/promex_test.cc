// The Prometheus exporter's text (runtime-api/metrics/promex.h) against HAProxy 2.6.12's own
// answers in tests/fixtures/promex-2.6.12/: a fake appliance holds the objects of that
// capture's h.cfg in the states they had (s1 checked UP, s2 checked DOWN, s3 disabled, t1
// unchecked, two backends without servers, a stick table of 10), and the text must have the
// capture's lines in the capture's order: every HELP and TYPE line byte for byte, every
// sample's name and labels, NaN where HAProxy prints NaN, and the state gauges' values.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "runtime-api/metrics/promex.h"
#include "tests/unit/cli_test_support.h"

namespace sluice::cli {
namespace {

std::string Fixture(const std::string& name) {
  std::ifstream f(std::string(SLUICE_SOURCE_DIR) + "/tests/fixtures/promex-2.6.12/" + name);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

class UsedAnswer : public PendingAnswer {
 public:
  explicit UsedAnswer(std::vector<uint64_t>* out) : out_(out) {}
  Gather Poll(std::string*) override {
    if (!polled_) {
      polled_ = true;
      return Gather::kWait;  // as the workers: one loop later
    }
    *out_ = {0};
    return Gather::kDone;
  }

 private:
  std::vector<uint64_t>* out_;
  bool polled_ = false;
};

class FakeStick : public StickControl {
 public:
  FakeStick() { tables_.push_back({"st_tbl", "ip", 10, 4, {}}); }
  const std::vector<StickTableView>& Tables() override { return tables_; }
  std::unique_ptr<StickRows> Rows(size_t, const std::string*,
                                  const std::vector<StickFilterView>&) override {
    return nullptr;
  }
  std::unique_ptr<PendingAnswer> Used(std::vector<uint64_t>* used) override {
    return std::make_unique<UsedAnswer>(used);
  }
  std::unique_ptr<PendingAnswer> Set(size_t, const std::string&,
                                     const std::vector<std::pair<uint8_t, int64_t>>&) override {
    return nullptr;
  }
  std::unique_ptr<PendingAnswer> Clear(size_t, const std::string*,
                                       const std::vector<StickFilterView>&) override {
    return nullptr;
  }

 private:
  std::vector<StickTableView> tables_;
};

class FakeProxies : public ProxyControl {
 public:
  FakeProxies() {
    auto fe = [&](std::string name, std::string mode) {
      ProxyView p;
      p.name = std::move(name);
      p.iid = static_cast<uint32_t>(proxies.size() + 2);
      p.mode = std::move(mode);
      p.has_frontend = true;
      proxies.push_back(p);
    };
    auto be = [&](std::string name, std::string mode) -> ProxyView& {
      ProxyView p;
      p.name = std::move(name);
      p.iid = static_cast<uint32_t>(proxies.size() + 2);
      p.mode = std::move(mode);
      p.has_backend = true;
      proxies.push_back(p);
      return proxies.back();
    };
    fe("prom", "http");
    fe("fe_http", "http");
    fe("fe_tcp", "tcp");
    ProxyView& http = be("be_http", "http");
    ServerView s1;
    s1.name = "s1";
    s1.sid = 1;
    s1.check.configured = s1.check.enabled = true;
    s1.check.status = CheckStatus::kL4Ok;
    s1.check.health = 4;
    ServerView s2 = s1;
    s2.name = "s2";
    s2.sid = 2;
    s2.check.status = CheckStatus::kL4Con;
    s2.check.health = 0;
    s2.op_state = ServerOpState::kStopped;
    ServerView s3;
    s3.name = "s3";
    s3.sid = 3;
    s3.forced_maint = s3.config_maint = true;
    s3.op_state = ServerOpState::kStopped;
    http.servers = {s1, s2, s3};
    ProxyView& tcp = be("be_tcp", "tcp");
    ServerView t1;
    t1.name = "t1";
    t1.sid = 1;
    tcp.servers = {t1};
    be("be_empty", "http");
    be("st_tbl", "http");
  }
  void Proxies(std::vector<ProxyView>* out) override { *out = proxies; }
  std::unique_ptr<SessionStream> Sessions(uint64_t) override { return nullptr; }
  std::string SetServerAdmin(size_t, size_t, ServerAdminOp) override { return ""; }
  std::string SetServerHealth(size_t, size_t, ServerHealthOp) override { return ""; }
  std::string SetServerWeight(size_t, size_t, uint32_t) override { return ""; }
  std::string SetServerAddr(size_t, size_t, const std::string&, uint16_t) override { return ""; }
  std::string SetServerCheckAddr(size_t, size_t, const std::string&, uint16_t) override {
    return "";
  }
  std::string SetServerMaxconn(size_t, size_t, uint32_t) override { return ""; }
  std::string SetServerCheckEnabled(size_t, size_t, bool) override { return ""; }
  std::string ShutdownServerSessions(size_t, size_t) override { return ""; }
  std::string SetFrontend(size_t, FrontendOp) override { return ""; }
  std::string SetFrontendMaxconn(size_t, uint32_t) override { return ""; }
  std::string SetGlobalMaxconn(uint32_t) override { return ""; }
  std::string SetRateLimit(RateLimit, uint64_t) override { return ""; }
  std::unique_ptr<PendingAnswer> ShutdownSession(uint64_t) override { return nullptr; }

  std::vector<ProxyView> proxies;
};

class PromexAppliance : public FakeAppliance {
 public:
  ProxyControl* Proxy() override { return &proxies; }
  StickControl* Stick() override { return &stick; }
  FakeProxies proxies;
  FakeStick stick;
};

// Steps the dump to the end with a small output buffer (as a slow client would drain it).
std::string Scrape(ApplianceContext& app, std::string_view query, int* waits = nullptr) {
  PromexQuery q;
  EXPECT_TRUE(ParsePromexQuery(query, &q)) << query;
  std::unique_ptr<Dump> d = MakePromexDump(app, q);
  std::string all;
  for (int guard = 0; guard < 100000; ++guard) {
    std::string chunk;
    Writer w(chunk, 512);
    const DumpStatus st = d->Step(w);
    all += chunk;
    if (st == DumpStatus::kWait && waits != nullptr) ++*waits;
    if (st == DumpStatus::kDone) return all;
  }
  ADD_FAILURE() << "the dump never ended";
  return all;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// What the comparison keeps of a line: comments whole; a sample's name and labels, and its
// value when it is NaN or a state gauge (the values Sluice's fake shares with the capture).
std::string Shape(const std::string& line) {
  if (line.starts_with("#")) return line;
  const size_t sp = line.rfind(' ');
  const std::string key = line.substr(0, sp);
  const std::string value = line.substr(sp + 1);
  if (key.starts_with("haproxy_process_build_info")) return "haproxy_process_build_info";
  if (value == "NaN" || key.find("state=\"") != std::string::npos) return line;
  return key + " <number>";
}

void ExpectSameShape(const std::string& ours, const std::string& fixture) {
  std::vector<std::string> a;
  for (const std::string& l : Lines(ours)) {
    if (!l.starts_with("sluice_") && !l.starts_with("# HELP sluice_") &&
        !l.starts_with("# TYPE sluice_")) {
      a.push_back(Shape(l));
    }
  }
  std::vector<std::string> b;
  for (const std::string& l : Lines(fixture)) b.push_back(Shape(l));
  // The process values HAProxy fills and Sluice leaves empty differ only in value.
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    ASSERT_EQ(a[i], b[i]) << "line " << i + 1;
  }
  EXPECT_EQ(a.size(), b.size());
}

TEST(Promex, EveryFamilyAsHaproxy) {
  PromexAppliance app;
  int waits = 0;
  const std::string text = Scrape(app, "", &waits);
  EXPECT_EQ(waits, 1);  // the stick tables' counts come from the workers
  ExpectSameShape(text, Fixture("all.txt"));
  EXPECT_NE(text.find("haproxy_server_status{proxy=\"be_http\",server=\"s3\",state=\"MAINT\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("haproxy_process_nbthread 2\n"), std::string::npos);
}

TEST(Promex, Scopes) {
  PromexAppliance app;
  for (const char* scope : {"frontend", "backend", "server", "sticktable", "listener"}) {
    ExpectSameShape(Scrape(app, std::string("scope=") + scope),
                    Fixture(std::string("scope_") + scope + ".txt"));
  }
  ExpectSameShape(Scrape(app, "scope=global"), Fixture("scope_global.txt"));
  ExpectSameShape(Scrape(app, "scope=*"), Fixture("scope_star.txt"));
  EXPECT_EQ(Scrape(app, "scope="), "");
  // nomaint.txt was taken with the server scope.
  ExpectSameShape(Scrape(app, "scope=server&no-maint"), Fixture("nomaint.txt"));
  // Several scopes add up, in HAProxy's section order whatever the query's order.
  const std::string two = Scrape(app, "scope=server&scope=frontend");
  EXPECT_EQ(two, Scrape(app, "scope=frontend") + Scrape(app, "scope=server"));
}

TEST(Promex, SluiceFamilies) {
  PromexAppliance app;
  const std::string text = Scrape(app, "scope=global");
  EXPECT_NE(text.find("# HELP sluice_worker_rx_pkts_total frames received from the ports by "
                      "this worker\n# TYPE sluice_worker_rx_pkts_total counter\n"
                      "sluice_worker_rx_pkts_total{worker=\"0\"} 5\n"
                      "sluice_worker_rx_pkts_total{worker=\"1\"} 7\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(Scrape(app, "scope=backend").find("sluice_"), std::string::npos);
}

TEST(Promex, Query) {
  PromexQuery q;
  EXPECT_FALSE(ParsePromexQuery("scope=bogus", &q));
  EXPECT_FALSE(ParsePromexQuery("scope", &q));
  EXPECT_FALSE(ParsePromexQuery("scope=a=b", &q));
  EXPECT_FALSE(ParsePromexQuery("scope=Global", &q));
  ASSERT_TRUE(ParsePromexQuery("scope=%67lobal&other=1#scope=bogus", &q));
  EXPECT_EQ(q.scopes, kPromexGlobal);
  ASSERT_TRUE(ParsePromexQuery("scope=*&scope=", &q));
  EXPECT_EQ(q.scopes, 0u);
  ASSERT_TRUE(ParsePromexQuery("scope=&scope=global", &q));
  EXPECT_EQ(q.scopes, kPromexGlobal);
  ASSERT_TRUE(ParsePromexQuery("no-maint=1", &q));
  EXPECT_TRUE(q.no_maint);
  EXPECT_EQ(q.scopes, kPromexAll);
  ASSERT_TRUE(ParsePromexQuery("", &q));
  EXPECT_FALSE(q.no_maint);
}

}  // namespace
}  // namespace sluice::cli
