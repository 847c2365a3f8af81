// The proxy commands of the Runtime API (show stat, show servers, set server, frontends,
// limits, sessions) against a fake ProxyControl holding the lab of
// ../shared/compat/haproxy-2.6/transcripts/haproxy.cfg (fe_main, fe_tls, be_app with s1 s2 s3),
// compared with HAProxy 2.6's transcripts byte for byte where the fake holds the same values.
#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>

#include "runtime-api/commands/proxy_lookup.h"
#include "runtime-api/server/connection.h"
#include "tests/unit/cli_test_support.h"

namespace sluice::cli {
namespace {

// Sessions handed out as workers would: a wait before each one, one session a slice.
class FakeSessionStream : public SessionStream {
 public:
  FakeSessionStream(std::vector<SessionView> all, int* waits)
      : all_(std::move(all)), waits_(waits) {}
  Gather Next(std::vector<SessionView>* out) override {
    if (next_ == all_.size()) return Gather::kDone;
    if ((wait_ = !wait_)) {
      ++*waits_;
      return Gather::kWait;
    }
    out->push_back(all_[next_++]);
    return next_ == all_.size() ? Gather::kDone : Gather::kMore;
  }

 private:
  std::vector<SessionView> all_;
  int* waits_;
  size_t next_ = 0;
  bool wait_ = false;
};

// A kill answered after one wait.
class FakeKill : public PendingAnswer {
 public:
  explicit FakeKill(bool found) : found_(found) {}
  Gather Poll(std::string* error) override {
    if (!polled_) {
      polled_ = true;
      return Gather::kWait;
    }
    if (!found_) *error = "No such session (use 'show sess').\n";
    return Gather::kDone;
  }

 private:
  bool found_;
  bool polled_ = false;
};

// HAProxy-like semantics on plain views, enough to replay the transcripts' sequences.
class FakeProxyControl : public ProxyControl {
 public:
  void Proxies(std::vector<ProxyView>* out) override { *out = proxies; }
  std::unique_ptr<SessionStream> Sessions(uint64_t id) override {
    std::vector<SessionView> picked;
    for (const SessionView& s : sessions) {
      if (id == 0 || s.id == id) picked.push_back(s);
    }
    return std::make_unique<FakeSessionStream>(std::move(picked), &waits);
  }

  std::string SetServerAdmin(size_t px, size_t sv, ServerAdminOp op) override {
    ServerView& s = proxies[px].servers[sv];
    const bool was_maint = s.forced_maint;
    s.forced_drain = op == ServerAdminOp::kDrain;
    s.forced_maint = op == ServerAdminOp::kMaint;
    if (s.forced_maint && !was_maint) {
      s.op_state = ServerOpState::kStopped;
      s.check.paused = true;
      s.check.health = 0;
      s.counters.lastchg_s = 0;
    } else if (!s.forced_maint && was_maint) {
      s.op_state = ServerOpState::kRunning;
      s.check.paused = false;
      s.check.health = s.check.rise;  // haproxy restarts the checks at rise: "UP 1/3"
      s.counters.lastchg_s = 0;
    }
    if (op == ServerAdminOp::kDrain) s.counters.lastchg_s = 0;
    return "";
  }
  std::string SetServerHealth(size_t px, size_t sv, ServerHealthOp op) override {
    ServerView& s = proxies[px].servers[sv];
    s.check.health = op == ServerHealthOp::kDown ? 0 : s.check.rise + s.check.fall - 1;
    s.op_state = op == ServerHealthOp::kUp         ? ServerOpState::kRunning
                 : op == ServerHealthOp::kStopping ? ServerOpState::kStopping
                                                   : ServerOpState::kStopped;
    return "";
  }
  std::string SetServerWeight(size_t px, size_t sv, uint32_t weight) override {
    ServerView& s = proxies[px].servers[sv];
    s.uweight = s.eweight = weight;
    return "";
  }
  std::string SetServerAddr(size_t px, size_t sv, const std::string& addr, uint16_t port) override {
    ServerView& s = proxies[px].servers[sv];
    s.addr = addr;
    s.port = port;
    ++addr_changes;
    return "";
  }
  std::string SetServerCheckAddr(size_t px, size_t sv, const std::string& addr,
                                 uint16_t port) override {
    ServerView& s = proxies[px].servers[sv];
    s.check.addr = addr;
    s.check.port = port;
    return "";
  }
  std::string SetServerMaxconn(size_t px, size_t sv, uint32_t maxconn) override {
    proxies[px].servers[sv].maxconn = maxconn;
    return "";
  }
  std::string SetServerCheckEnabled(size_t px, size_t sv, bool enabled) override {
    proxies[px].servers[sv].check.enabled = enabled;
    return "";
  }
  std::string ShutdownServerSessions(size_t px, size_t sv) override {
    const std::string name = proxies[px].servers[sv].name;
    std::erase_if(sessions, [&](const SessionView& s) { return s.server == name; });
    return "";
  }
  std::string SetFrontend(size_t px, FrontendOp op) override {
    proxies[px].frontend_state = op == FrontendOp::kPause    ? FrontendState::kPaused
                                 : op == FrontendOp::kResume ? FrontendState::kOpen
                                                             : FrontendState::kStopped;
    return "";
  }
  std::string SetFrontendMaxconn(size_t px, uint32_t maxconn) override {
    proxies[px].maxconn = maxconn;
    return "";
  }
  std::string SetGlobalMaxconn(uint32_t maxconn) override {
    if (maxconn > 9983) return "Value out of range.\n";
    global_maxconn = maxconn == 0 ? 9983 : maxconn;
    return "";
  }
  std::string SetRateLimit(RateLimit limit, uint64_t value) override {
    rate_limits[static_cast<int>(limit)] = value;
    return "";
  }
  std::unique_ptr<PendingAnswer> ShutdownSession(uint64_t id) override {
    return std::make_unique<FakeKill>(
        std::erase_if(sessions, [&](const SessionView& s) { return s.id == id; }) > 0);
  }

  std::vector<ProxyView> proxies;
  std::vector<SessionView> sessions;
  std::vector<ErrorView> errors;
  uint64_t error_total = 0;
  void Errors(std::vector<ErrorView>* out, uint64_t* total) override {
    *out = errors;
    *total = error_total;
  }
  uint32_t global_maxconn = 9983;
  uint64_t rate_limits[4] = {};
  int addr_changes = 0;
  int waits = 0;  // kWait answers given by session streams
};

ServerView LabServer(const std::string& name, uint32_t sid, uint16_t port, uint32_t weight) {
  ServerView s;
  s.name = name;
  s.sid = sid;
  s.addr = "127.0.0.1";
  s.port = port;
  s.uweight = s.iweight = s.eweight = weight;
  s.check.configured = s.check.enabled = true;
  s.check.status = CheckStatus::kL7Ok;
  s.check.code = 200;
  s.check.duration_ms = 1;
  s.check.health = 4;
  s.counters.chkfail = 1;
  s.counters.chkdown = 1;
  s.counters.lastchg_s = 31;
  s.counters.downtime_s = 4;
  s.counters.lastsess_s = 0;
  return s;
}

// The values of transcripts/06-show-stat.txt.
std::vector<ProxyView> Lab() {
  ProxyView fe;
  fe.name = "fe_main";
  fe.iid = 2;
  fe.mode = "http";
  fe.has_frontend = true;
  fe.maxconn = 9983;
  StatCounters& f = fe.frontend;
  f.smax = 2;
  f.stot = 17;
  f.bin = 1418;
  f.bout = 29786;
  f.dreq = 1;
  f.rate = 5;
  f.rate_max = 12;
  f.conn_rate = 5;
  f.conn_rate_max = 12;
  f.conn_tot = 17;
  ProxyView tls = fe;
  tls.name = "fe_tls";
  tls.iid = 3;
  tls.frontend = StatCounters{};
  StatCounters& t = tls.frontend;
  t.smax = 1;
  t.stot = 3;
  t.bin = 246;
  t.bout = 597;
  t.rate_max = 3;
  t.conn_rate_max = 3;
  t.conn_tot = 3;

  ProxyView be;
  be.name = "be_app";
  be.iid = 4;
  be.mode = "http";
  be.has_backend = true;
  be.fullconn = 1997;
  StatCounters& b = be.backend;
  b.smax = 1;
  b.stot = 17;
  b.bin = 1399;
  b.bout = 3684;
  b.chkdown = 1;
  b.lastchg_s = 31;
  b.downtime_s = 3;
  b.lbtot = 17;
  b.rate = 5;
  b.rate_max = 12;
  b.lastsess_s = 0;
  b.ctime_ms = 1;
  b.rtime_ms = 2;
  b.ttime_ms = 2;
  b.connect = 17;
  b.ctime_max_ms = 4;
  b.rtime_max_ms = 2;
  b.ttime_max_ms = 8;

  ServerView s1 = LabServer("s1", 1, 18081, 100);
  StatCounters& c1 = s1.counters;
  c1.smax = 1;
  c1.stot = 12;
  c1.bin = 984;
  c1.bout = 2388;
  c1.lbtot = 12;
  c1.rate = 4;
  c1.rate_max = 8;
  c1.rtime_ms = 2;
  c1.ttime_ms = 2;
  c1.connect = 12;
  c1.rtime_max_ms = 2;
  c1.ttime_max_ms = 6;
  ServerView s2 = LabServer("s2", 2, 18082, 50);
  StatCounters& c2 = s2.counters;
  c2.smax = 1;
  c2.stot = 5;
  c2.bin = 415;
  c2.bout = 1296;
  c2.lbtot = 5;
  c2.rate = 1;
  c2.rate_max = 4;
  c2.ctime_ms = 1;
  c2.rtime_ms = 2;
  c2.ttime_ms = 3;
  c2.connect = 5;
  c2.ctime_max_ms = 4;
  c2.rtime_max_ms = 2;
  c2.ttime_max_ms = 8;
  ServerView s3 = LabServer("s3", 3, 18083, 1);
  s3.op_state = ServerOpState::kStopped;
  s3.check.status = CheckStatus::kL4Con;
  s3.check.duration_ms = 0;
  s3.check.output = "Connection refused";
  s3.check.health = 0;
  s3.counters.lastchg_s = 34;
  s3.counters.downtime_s = 34;
  s3.counters.lastsess_s = -1;
  be.servers = {s1, s2, s3};
  return {fe, tls, be};
}

// The two streams of transcripts/92-show-sess.txt.
std::vector<SessionView> LabSessions() {
  SessionView a;
  a.id = 0x7f7ea8047d90;
  a.serial = 234;
  a.src = {"127.0.0.1", 34816};
  a.dst = {"127.0.0.1", 18080};
  a.frontend = "fe_main";
  a.frontend_iid = 2;
  a.listener_id = 1;
  a.backend = "be_app";
  a.backend_iid = 4;
  a.backend_src = {"127.0.0.1", 56944};
  a.server = "s1";
  a.server_sid = 1;
  a.server_dst = {"127.0.0.1", 18081};
  a.age_s = 1;
  a.accept_time_us = 1795480167LL * 1000000 + 518961;  // 24/Nov/2026:00:29:27.518961 UTC
  SessionView b = a;
  b.id = 0x7f7ea80649f0;
  b.serial = 235;
  b.src.port = 43120;
  b.frontend = "fe_tls";
  b.frontend_iid = 3;
  b.server = "s2";
  b.server_sid = 2;
  b.server_dst.port = 18082;
  return {a, b};
}

class ProxyAppliance : public FakeAppliance {
 public:
  ProxyControl* Proxy() override { return with_proxies ? &control : nullptr; }
  FakeProxyControl control;
  bool with_proxies = true;
};

class CliProxy : public ::testing::Test {
 protected:
  CliProxy() {
    RegisterAllCommands(registry_);
    appliance_.control.proxies = Lab();
    appliance_.control.sessions = LabSessions();
  }

  // One command line in one-shot mode; the whole answer.
  std::string Run(const std::string& line, Level level = Level::kAdmin, size_t out_bytes = 16384) {
    ConnectionLimits limits;
    limits.output_bytes = out_bytes;
    Connection c(level, 10000, limits, registry_, appliance_);
    c.Feed(line + "\n");
    c.FeedEof();
    std::string all;
    for (int i = 0; i < 1000000; ++i) {
      c.Pump();
      if (c.output().empty() && !c.waiting()) break;
      all += c.output();
      c.output().clear();
    }
    return all;
  }

  ServerView& Server(size_t i) { return appliance_.control.proxies[2].servers[i]; }

  Registry registry_;
  ProxyAppliance appliance_;
};

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t from = 0;
  for (;;) {
    const size_t at = s.find(sep, from);
    out.push_back(s.substr(from, at == std::string::npos ? std::string::npos : at - from));
    if (at == std::string::npos) return out;
    from = at + 1;
  }
}

// `cut -d, -f<cols>` (1-based) on every line.
std::string Cut(const std::string& text, std::vector<size_t> cols) {
  std::string out;
  std::vector<std::string> lines = Split(text, '\n');
  lines.pop_back();  // after the last '\n'
  for (const std::string& line : lines) {
    if (line.find(',') == std::string::npos) {
      out += line + "\n";
      continue;
    }
    const std::vector<std::string> f = Split(line, ',');
    std::string picked;
    for (size_t i = 0; i < cols.size(); ++i) {
      if (cols[i] - 1 < f.size()) picked += (i ? "," : "") + f[cols[i] - 1];
    }
    out += picked + "\n";
  }
  return out;
}

// Replaces the non-empty values of the given CSV columns (0-based, as in the header) with
// "X": the values a view cannot hold (HTTP counters, HTTP/1 mux counters).
std::string MaskCsv(const std::string& text, std::vector<size_t> cols) {
  std::string out;
  std::vector<std::string> lines = Split(text, '\n');
  const std::string last = lines.back();
  lines.pop_back();
  for (const std::string& line : lines) {
    std::vector<std::string> f = Split(line, ',');
    if (!line.starts_with("#")) {
      for (const size_t c : cols) {
        if (c < f.size() && !f[c].empty()) f[c] = "X";
      }
    }
    for (size_t i = 0; i < f.size(); ++i) out += (i ? "," : "") + f[i];
    out += "\n";
  }
  return out + last;
}

// HTTP and HTTP/1 columns (CSV indexes): hrsp_*, req_rate, req_rate_max, req_tot,
// intercepted, need_conn_est, ssl_sess, h1_total_connections .. h1_bytes_out.
const std::vector<size_t> kUnheldColumns = {39, 40, 41, 42,  43,  44,  46,  47,
                                            48, 80, 98, 104, 122, 123, 124, 125};

// The same for the typed form: "<obj>.<iid>.<sid>.<pos>.<name>.1:<tags>:<type>:<value>".
std::string MaskTyped(const std::string& text) {
  std::string out;
  std::vector<std::string> lines = Split(text, '\n');
  const std::string last = lines.back();
  lines.pop_back();
  for (std::string line : lines) {
    const std::vector<std::string> parts = Split(line.substr(0, line.find(':')), '.');
    if (parts.size() >= 4) {
      const size_t pos = std::stoul(parts[3]);
      const size_t csv = pos >= 103 ? pos + 1 : pos;
      for (const size_t c : kUnheldColumns) {
        if (c == csv) {
          const size_t third = line.find(':', line.find(':', line.find(':') + 1) + 1);
          line = line.substr(0, third + 1) + "X";
        }
      }
    }
    out += line + "\n";
  }
  return out + last;
}

TEST_F(CliProxy, ShowStatMatchesHaproxy) {
  const std::string want = TranscriptOutput("06-show-stat.txt");
  if (want.empty()) GTEST_SKIP() << "HAProxy transcripts not found";
  const std::string got = Run("show stat");
  // The header, every column and the trailing commas are HAProxy's.
  EXPECT_EQ(got.substr(0, got.find('\n')), want.substr(0, want.find('\n')));
  for (const std::string& line : Split(got, '\n')) {
    if (!line.empty()) {
      EXPECT_EQ(std::count(line.begin(), line.end(), ','), 128) << line;
    }
  }
  EXPECT_EQ(MaskCsv(got, kUnheldColumns), MaskCsv(want, kUnheldColumns));
  EXPECT_EQ(MaskCsv(Run("show stat domain proxy -1 1 -1"), kUnheldColumns),
            MaskCsv(TranscriptOutput("13-show-stat-domain-proxy-frontends.txt"), kUnheldColumns));
  EXPECT_EQ(Run("show stat domain dns"), TranscriptOutput("12-show-stat-domain-dns.txt"));
  EXPECT_EQ(Run("show stat nosuch 1 -1"), "No such proxy.\n\n");
}

TEST_F(CliProxy, ShowStatFiltersMatchHaproxy) {
  // 09-11 were taken a second later than 06.
  for (ServerView* s : {&Server(0), &Server(1), &Server(2)}) ++s->counters.lastchg_s;
  ++Server(2).counters.downtime_s;
  Server(0).counters.lastsess_s = Server(1).counters.lastsess_s = 1;
  ProxyView& be = appliance_.control.proxies[2];
  ++be.backend.lastchg_s;
  be.backend.lastsess_s = 1;
  EXPECT_EQ(MaskCsv(Run("show stat -1 4 -1"), kUnheldColumns),
            MaskCsv(TranscriptOutput("09-show-stat-servers-only.txt"), kUnheldColumns));
  EXPECT_EQ(MaskCsv(Run("show stat be_app 2 -1"), kUnheldColumns),
            MaskCsv(TranscriptOutput("10-show-stat-be_app-backend-only.txt"), kUnheldColumns));
  EXPECT_EQ(MaskCsv(Run("show stat #4 2 -1"), kUnheldColumns),
            MaskCsv(TranscriptOutput("10-show-stat-be_app-backend-only.txt"), kUnheldColumns));
  EXPECT_EQ(MaskTyped(Run("show stat be_app 4 1 typed desc")),
            MaskTyped(TranscriptOutput("11-show-stat-typed-desc-s1.txt")));
}

TEST_F(CliProxy, ShowStatTypedAndJson) {
  const std::string typed = TranscriptOutput("07-show-stat-typed.txt");
  if (typed.empty()) GTEST_SKIP() << "HAProxy transcripts not found";
  EXPECT_EQ(MaskTyped(Run("show stat typed")), MaskTyped(typed));
  // 08b: the first 1500 bytes of the one-line JSON (socat's complaint follows them).
  std::string json_head = TranscriptOutput("08b-show-stat-json-raw-head.txt");
  json_head = json_head.substr(0, json_head.find("2026/11/24"));
  const std::string json = Run("show stat json");
  EXPECT_TRUE(json.starts_with(json_head)) << json.substr(0, 300);
  EXPECT_TRUE(json.ends_with("}]]\n\n"));
  EXPECT_EQ(std::count(json.begin(), json.end(), '\n'), 2);
  EXPECT_NE(json.find("}],[{\"objType\":\"Frontend\",\"proxyId\":3,"), std::string::npos);
}

TEST_F(CliProxy, ShowStatUpAndNoMaint) {
  Server(1).forced_maint = true;
  Server(1).op_state = ServerOpState::kStopped;
  Server(1).check.paused = true;
  const std::string want = TranscriptOutput("14-show-stat-up-and-no-maint.txt");
  if (want.empty()) GTEST_SKIP() << "HAProxy transcripts not found";
  EXPECT_EQ("## show stat -1 4 -1 \n" + Cut(Run("show stat -1 4 -1"), {1, 2, 18}) +
                "## show stat -1 4 -1 up\n" + Cut(Run("show stat -1 4 -1 up"), {1, 2, 18}) +
                "## show stat -1 4 -1 no-maint\n" +
                Cut(Run("show stat -1 4 -1 no-maint"), {1, 2, 18}),
            want);
  // With up or no-maint the backend tells how many servers are not stopped.
  EXPECT_NE(Run("show stat be_app 2 -1 up").find(",UP (1/3),"), std::string::npos);
}

TEST_F(CliProxy, TcpModeLeavesHttpColumnsEmpty) {
  for (ProxyView& p : appliance_.control.proxies) p.mode = "tcp";
  const std::string csv = Run("show stat");
  for (const std::string& line : Split(csv, '\n')) {
    if (line.empty() || line.starts_with("#")) continue;
    const std::vector<std::string> f = Split(line, ',');
    for (size_t c = 39; c <= 44; ++c) EXPECT_EQ(f[c], "") << line;  // hrsp_*
    EXPECT_EQ(f[75], "tcp");
    if (f[1] == "FRONTEND") {
      EXPECT_EQ(f[48], "0");  // req_tot: haproxy prints it for every frontend
      EXPECT_EQ(f[80], "");   // intercepted
    } else {
      EXPECT_EQ(f[48], "");
    }
  }
  // At user level, no addresses and no algorithm (haproxy's show-legends).
  const std::string user = Run("show stat", Level::kUser);
  EXPECT_EQ(user.find("127.0.0.1"), std::string::npos);
  EXPECT_EQ(user.find("roundrobin"), std::string::npos);
}

TEST_F(CliProxy, ShowServersAndBackend) {
  const std::string want = TranscriptOutput("20-show-servers-state.txt");
  if (want.empty()) GTEST_SKIP() << "HAProxy transcripts not found";
  Server(0).counters.lastchg_s = Server(1).counters.lastchg_s = 43;
  Server(2).counters.lastchg_s = 46;
  EXPECT_EQ(Run("show servers state"), want);
  EXPECT_EQ(Run("show servers state be_app"), TranscriptOutput("21-show-servers-state-be_app.txt"));
  EXPECT_EQ(Run("show servers state nosuch"), "Can't find backend.\n\n");
  EXPECT_EQ(Run("show backend"), TranscriptOutput("22-show-backend.txt"));
  Server(2).counters.smax = 1;
  EXPECT_EQ(Run("show servers conn"), TranscriptOutput("23-show-servers-conn.txt"));
  Server(0).counters.smax = Server(1).counters.smax = 2;
  EXPECT_EQ(Run("show servers conn be_app"), TranscriptOutput("A9r-show-servers-conn.txt"));
}

TEST_F(CliProxy, ServerStateSequence) {
  const std::string cut_cmd = "show stat be_app 4 -1";
  const std::vector<size_t> cols = {1, 2, 18, 19, 20, 37, 66, 100, 101, 102};
  Server(0).counters.lastchg_s = Server(1).counters.lastchg_s = 43;
  Server(2).counters.lastchg_s = 46;
  EXPECT_EQ(Run("set server be_app/s2 state drain"),
            TranscriptOutput("24-set-server-state-drain.txt"));
  EXPECT_EQ(Cut(Run(cut_cmd), cols), TranscriptOutput("24b-after-drain-show-stat-cut.txt"));
  EXPECT_EQ(Run("show servers state be_app"),
            TranscriptOutput("24c-after-drain-show-servers-state.txt"));
  EXPECT_EQ(Run("set server be_app/s2 state maint"), "\n");
  EXPECT_EQ(Cut(Run(cut_cmd), cols), TranscriptOutput("25b-after-maint-show-stat-cut.txt"));
  Server(0).counters.lastchg_s = 44;
  Server(1).counters.lastchg_s = 1;
  Server(2).counters.lastchg_s = 47;
  EXPECT_EQ(Run("show servers state be_app"),
            TranscriptOutput("25c-after-maint-show-servers-state.txt"));
  EXPECT_EQ(Run("set server be_app/s2 state ready"), "\n");
  EXPECT_EQ(Cut(Run(cut_cmd), cols), TranscriptOutput("26b-after-ready-show-stat-cut.txt"));
  EXPECT_EQ(Run("disable health be_app/s3"), TranscriptOutput("28-disable-health.txt"));
  EXPECT_EQ(Cut(Run(cut_cmd), cols),
            TranscriptOutput("28b-after-disable-health-show-stat-cut.txt"));
  EXPECT_EQ(Run("show servers state be_app"),
            TranscriptOutput("28c-after-disable-health-servers-state.txt"));
  EXPECT_EQ(Run("enable health be_app/s3"), TranscriptOutput("29-enable-health.txt"));
  Server(1).check.health = 4;  // the checks passed meanwhile
  EXPECT_EQ(Cut(Run(cut_cmd), cols), TranscriptOutput("29b-after-enable-health-show-stat-cut.txt"));
  EXPECT_EQ(Run("set server be_app/s3 health up"), TranscriptOutput("30-set-server-health-up.txt"));
  EXPECT_EQ(Cut(Run(cut_cmd), cols), TranscriptOutput("30b-after-health-up-show-stat-cut.txt"));
  // Deprecated forms.
  EXPECT_EQ(Run("disable server be_app/s3"), TranscriptOutput("35-disable-server-deprecated.txt"));
  EXPECT_TRUE(Server(2).forced_maint);
  EXPECT_EQ(Run("enable server be_app/s3"), TranscriptOutput("35b-enable-server-deprecated.txt"));
  EXPECT_FALSE(Server(2).forced_maint);
  // Other states' words.
  Server(2).op_state = ServerOpState::kStopped;
  Server(2).check.health = 1;
  EXPECT_EQ(ServerStatusText(Server(2)), "DOWN 1/2");
  Server(2).op_state = ServerOpState::kStopping;
  EXPECT_EQ(ServerStatusText(Server(2)), "NOLB 0/3");
  Server(2).check.health = 4;
  EXPECT_EQ(ServerStatusText(Server(2)), "NOLB");
  Server(2).op_state = ServerOpState::kRunning;
  Server(2).check.enabled = false;
  EXPECT_EQ(ServerStatusText(Server(2)), "no check");
  Server(2).forced_drain = true;
  EXPECT_EQ(ServerStatusText(Server(2)), "DRAIN");
}

TEST_F(CliProxy, WeightsAndGetWeight) {
  EXPECT_EQ(Run("set server be_app/s1 weight 25"), TranscriptOutput("27-set-server-weight.txt"));
  EXPECT_EQ(Run("get weight be_app/s1"), TranscriptOutput("27b-get-weight.txt"));
  EXPECT_EQ(Run("set weight be_app/s1 50%"), TranscriptOutput("27c-set-weight-percent.txt"));
  EXPECT_EQ(Run("get weight be_app/s1"), TranscriptOutput("27d-get-weight-after-percent.txt"));
  EXPECT_EQ(Run("set server be_app/s1 weight 300"),
            TranscriptOutput("27e-set-server-weight-too-big.txt"));
  EXPECT_EQ(Run("set server be_app/s1 weight 100"),
            TranscriptOutput("27f-set-server-weight-restore.txt"));
  EXPECT_EQ(Server(0).uweight, 100u);
  EXPECT_EQ(Run("get weight be_app/s2", Level::kUser), "50 (initial 50)\n\n");
  EXPECT_EQ(Run("show version;show cli level;get weight be_app/s2"),
            TranscriptOutput("B0f-semicolon-chain.txt"));
  EXPECT_EQ(Run("get weight be_app"), "Require 'backend/server'.\n\n");
  EXPECT_EQ(Run("get weight nosuch/s1"), "No such backend.\n\n");
  EXPECT_EQ(Run("get weight be_app/#3"), "1 (initial 1)\n\n");
  EXPECT_EQ(Run("set server be_app/s1 weight"), "Require <weight> or <weight%>.\n\n");
  EXPECT_EQ(Run("set server be_app/s1 weight x"),
            "Empty weight string empty or preceded by garbage\n");
  EXPECT_EQ(Run("set server be_app/s1 weight 5x"), "Trailing garbage in weight string\n");
  EXPECT_EQ(Run("set server be_app/s1 weight -1%"), "Relative weight must be positive.\n\n");
  appliance_.control.proxies[2].dynamic_weights = false;
  EXPECT_EQ(Run("set server be_app/s1 weight 20"),
            "Backend is using a static LB algorithm and only accepts weights '0%' and "
            "'100%'.\n\n");
  EXPECT_EQ(Run("set server be_app/s1 weight 100%"), "\n");
  EXPECT_EQ(Run("set server be_app/s1 weight 90", Level::kOperator), "Permission denied\n\n");
}

TEST_F(CliProxy, SetServerOptionsAndErrors) {
  EXPECT_EQ(Run("set server be_app/s3 addr 127.0.0.1 port 18082"),
            TranscriptOutput("31-set-server-addr.txt"));
  EXPECT_EQ(Server(2).port, 18082);
  EXPECT_EQ(Run("set server be_app/s3 addr 127.0.0.1 port 18083"),
            TranscriptOutput("37-set-server-addr-back.txt"));
  EXPECT_EQ(Run("set server be_app/s3 addr 10.0.0.9"),
            "IP changed from '127.0.0.1' to '10.0.0.9' by 'stats socket command'\n\n");
  EXPECT_EQ(Server(2).addr, "10.0.0.9");
  EXPECT_EQ(Run("set server be_app/s3 addr 10.0.0.9"),
            "no need to change the addr by 'stats socket command'\n\n");
  EXPECT_EQ(appliance_.control.addr_changes, 3);
  EXPECT_EQ(Run("set server be_app/s3 addr foo"),
            "Invalid addr 'foo' by 'stats socket command'\n\n");
  EXPECT_EQ(Run("set server be_app/s3 addr"),
            "set server <b>/<s> addr requires an address and optionally a port.\n\n");
  EXPECT_EQ(Run("set server be_app/s3 check-port 18082"),
            TranscriptOutput("32-set-server-check-port.txt"));
  EXPECT_EQ(Server(2).check.port, 18082);
  EXPECT_EQ(Run("set server be_app/s3 check-port 18083"),
            TranscriptOutput("37b-set-server-check-port-back.txt"));
  EXPECT_EQ(Run("set server be_app/s3 check-port 99999"), "provided port is invalid\n\n");
  EXPECT_EQ(Run("set server be_app/s3 check-addr 10.1.1.1 port 80"), "\n");
  EXPECT_EQ(Server(2).check.addr, "10.1.1.1");
  EXPECT_EQ(Run("set maxconn server be_app/s3 10"), TranscriptOutput("33-set-maxconn-server.txt"));
  EXPECT_EQ(Server(2).maxconn, 10u);
  EXPECT_NE(Run("show stat be_app 4 3").find(",0,10,0,"), std::string::npos);  // slim
  EXPECT_EQ(Run("set server be_app/s3 agent up"),
            TranscriptOutput("34-set-server-agent-no-agent.txt"));
  EXPECT_EQ(Run("set server be_app/nosuch state ready"),
            TranscriptOutput("36-set-server-unknown.txt"));
  EXPECT_EQ(Run("set server be_app/s1 state foo"),
            TranscriptOutput("36b-set-server-bad-state.txt"));
  EXPECT_EQ(Run("set server be_app/s1"), TranscriptOutput("36c-set-server-no-args.txt"));
  EXPECT_EQ(Run("set server be_app/s1 health sideways"),
            "'set server <srv> health' expects 'up', 'stopping', or 'down'.\n\n");
  EXPECT_EQ(Run("set server nosuch/s1 state ready"), "No such backend.\n\n");
  EXPECT_EQ(Run("set server be_app state ready"), "Require 'backend/server'.\n\n");
  EXPECT_EQ(Run("set severity-output number; set server be_app/nosuch state ready; "
                "set server be_app/s1 weight 100"),
            TranscriptOutput("A9p-set-severity-output.txt"));
  EXPECT_EQ(Run("set severity-output string; set server be_app/nosuch state ready"),
            TranscriptOutput("A9q-severity-string.txt"));
  Server(2).check.configured = Server(2).check.enabled = false;
  EXPECT_EQ(Run("enable health be_app/s3"),
            "Health checks are not configured on this server, cannot enable.\n\n");
  EXPECT_EQ(Run("set server be_app/s3 check-port 80"),
            "health checks are disabled for this server\n\n");
  EXPECT_EQ(Run("enable agent be_app/s3"),
            "Agent was not configured on this server, cannot enable.\n\n");
}

TEST_F(CliProxy, FrontendsAndLimits) {
  EXPECT_EQ(Run("disable frontend fe_main"), TranscriptOutput("40-disable-frontend.txt"));
  EXPECT_EQ(Cut(Run("show stat -1 1 -1"), {1, 2, 18}),
            TranscriptOutput("40c-show-stat-frontends-while-disabled.txt"));
  EXPECT_EQ(Run("disable frontend fe_main"), TranscriptOutput("40d-disable-frontend-again.txt"));
  EXPECT_EQ(Run("enable frontend fe_main"), TranscriptOutput("41-enable-frontend.txt"));
  EXPECT_EQ(Run("enable frontend fe_main"), TranscriptOutput("41c-enable-frontend-again.txt"));
  EXPECT_EQ(Run("disable frontend nosuch"), TranscriptOutput("42-disable-frontend-unknown.txt"));
  EXPECT_EQ(Run("disable frontend be_app"), "No such frontend.\n\n");
  EXPECT_EQ(Run("disable frontend"), "A frontend name is expected.\n\n");
  EXPECT_EQ(Run("set maxconn frontend fe_main 500"),
            TranscriptOutput("43-set-maxconn-frontend.txt"));
  EXPECT_EQ(Cut(Run("show stat -1 1 -1"), {1, 2, 7}),
            TranscriptOutput("43b-after-maxconn-frontend.txt"));
  EXPECT_EQ(Run("set maxconn frontend #2 -1"), "Value out of range.\n\n");
  EXPECT_EQ(Run("set maxconn frontend fe_main"), "Integer value expected.\n\n");
  EXPECT_EQ(Run("set maxconn global 5000"), TranscriptOutput("44-set-maxconn-global.txt"));
  EXPECT_EQ(appliance_.control.global_maxconn, 5000u);
  EXPECT_EQ(Run("set maxconn global 99999"), "Value out of range.\n\n");
  EXPECT_EQ(Run("set maxconn global 0"), "\n");
  EXPECT_EQ(appliance_.control.global_maxconn, 9983u);
  EXPECT_EQ(Run("set rate-limit sessions global 1000"),
            TranscriptOutput("45-set-rate-limit-sessions.txt"));
  EXPECT_EQ(Run("set rate-limit connections global 2000"),
            TranscriptOutput("45b-set-rate-limit-connections.txt"));
  EXPECT_EQ(Run("set rate-limit http-compression global 1024"),
            TranscriptOutput("45c-set-rate-limit-http-compression.txt"));
  EXPECT_EQ(Run("set rate-limit ssl-sessions global 100"),
            TranscriptOutput("45d-set-rate-limit-ssl-sessions.txt"));
  EXPECT_EQ(Run("set rate-limit foo global 1"), TranscriptOutput("45e-set-rate-limit-bad.txt"));
  const uint64_t* limits = appliance_.control.rate_limits;
  EXPECT_EQ(limits[static_cast<int>(RateLimit::kConnections)], 2000u);
  EXPECT_EQ(limits[static_cast<int>(RateLimit::kSessions)], 1000u);
  EXPECT_EQ(limits[static_cast<int>(RateLimit::kSslSessions)], 100u);
  EXPECT_EQ(limits[static_cast<int>(RateLimit::kHttpCompression)], 1048576u);
  EXPECT_EQ(Run("set rate-limit sessions global 0"),
            TranscriptOutput("45g-set-rate-limit-sessions-reset.txt"));
  EXPECT_EQ(Run("set rate-limit sessions global"), "Expects an integer value.\n\n");
  // Z0: a shut down frontend stays listed as STOP and cannot be enabled again.
  EXPECT_EQ(Run("shutdown frontend fe_tls"), TranscriptOutput("Z0-shutdown-frontend.txt"));
  EXPECT_EQ(Cut(Run("show stat -1 1 -1"), {1, 2, 18}) + Run("enable frontend fe_tls") + "000\n",
            TranscriptOutput("Z0b-after-shutdown-frontend.txt"));
  EXPECT_EQ(Run("shutdown frontend fe_tls"), "Frontend was already shut down.\n\n");
  EXPECT_EQ(Run("disable frontend fe_tls"), "Frontend was already shut down.\n\n");
  EXPECT_EQ(Run("set severity-output number; disable frontend fe_tls"),
            "\n[5]: Frontend was already shut down.\n\n");
}

TEST_F(CliProxy, Sessions) {
  setenv("TZ", "UTC", 1);
  tzset();
  const std::string list = Run("show sess");
  EXPECT_EQ(appliance_.control.waits, 2);  // the dump waited for each slice and resumed
  EXPECT_EQ(list,
            "0x7f7ea8047d90: proto=tcpv4 src=127.0.0.1:34816 fe=fe_main be=be_app srv=s1 "
            "age=1s\n"
            "0x7f7ea80649f0: proto=tcpv4 src=127.0.0.1:43120 fe=fe_tls be=be_app srv=s2 "
            "age=1s\n\n");
  // 92's lines start the same way.
  const std::string want92 = TranscriptOutput("92-show-sess.txt");
  const std::vector<std::string> lines92 = Split(want92, '\n');
  if (lines92.size() > 2) {
    const std::string first = Split(list, '\n')[0];
    EXPECT_TRUE(lines92[1].starts_with(first.substr(0, first.find(" age=")) + " ts="));
  }
  // 93: the first line and the frontend, backend and server lines.
  const std::vector<std::string> want = Split(TranscriptOutput("93-show-sess-id.txt"), '\n');
  if (want.size() > 5) {
    EXPECT_EQ(Run("show sess 0x7f7ea8047d90"),
              want[0] + "\n" + want[2] + "\n" + want[3] + "\n" + want[4] + "\n\n");
  }
  EXPECT_EQ(Run("show sess 0x12345678"), TranscriptOutput("93b-show-sess-id-unknown.txt"));
  EXPECT_EQ(Run("show sess", Level::kUser), "Permission denied\n\n");
  EXPECT_EQ(Run("shutdown session 0x12345678"),
            TranscriptOutput("94c-shutdown-session-unknown.txt"));
  EXPECT_EQ(Run("shutdown session foo"), "Session pointer expected (use 'show sess').\n\n");
  EXPECT_EQ(Run("shutdown session 0x7f7ea8047d90"), TranscriptOutput("94-shutdown-session.txt"));
  EXPECT_EQ(appliance_.control.sessions.size(), 1u);
  EXPECT_EQ(Run("shutdown sessions server be_app/s2"),
            TranscriptOutput("95-shutdown-sessions-server.txt"));
  EXPECT_EQ(Run("show sess"), "\n");
  EXPECT_EQ(Run("shutdown sessions server be_app/s9"), "No such server.\n\n");
  // haproxy's human_time(): two units at most.
  EXPECT_EQ(HumanTime(0), "0s");
  EXPECT_EQ(HumanTime(125), "2m5s");
  EXPECT_EQ(HumanTime(3600), "1h");
  EXPECT_EQ(HumanTime(3 * 86400 + 4 * 3600 + 5), "3d4h");
}

TEST_F(CliProxy, WithoutProxyControl) {
  appliance_.with_proxies = false;
  const std::string header = TranscriptOutput("06-show-stat.txt");
  EXPECT_EQ(Run("show stat"), header.substr(0, header.find('\n') + 1) + "\n");
  EXPECT_EQ(Run("show stat json"), "[]\n\n");
  EXPECT_EQ(Run("show stat typed"), "\n");
  const std::string state = TranscriptOutput("20-show-servers-state.txt");
  EXPECT_EQ(Run("show servers state"), state.substr(0, state.find("\n4 ") + 1) + "\n");
  EXPECT_EQ(Run("show backend"), "# name\n\n");
  EXPECT_EQ(Run("set server be_app/s1 state ready"), "No such backend.\n\n");
  EXPECT_EQ(Run("disable frontend fe_main"), "No such frontend.\n\n");
  EXPECT_EQ(Run("show sess"), "\n");
  EXPECT_EQ(Run("shutdown session 0x1"), "No such session (use 'show sess').\n\n");
}

// Dates aside, `show errors` prints what HAProxy 2.6 printed for the same bad request
// (transcripts 90 and 91).
std::string WithoutDates(std::string s) {
  for (size_t at = s.find('['); at != std::string::npos; at = s.find('[', at + 1)) {
    const size_t end = s.find(']', at);
    if (end != std::string::npos && end - at == 25) s.replace(at + 1, end - at - 1, "DATE");
  }
  return s;
}

TEST_F(CliProxy, ShowErrorsAsHaproxy) {
  EXPECT_EQ(WithoutDates(Run("show errors")),
            WithoutDates(TranscriptOutput("90-show-errors-empty.txt")));
  ErrorView e;
  e.request = true;
  e.proxy = "fe_main";
  e.proxy_iid = 2;
  e.event = 1;
  e.src = "127.0.0.1:38346";
  e.unix_us = 1'700'000'000'000'000;
  e.error_at = 28;
  e.data = "GET / HTTP/1.1\r\nHost: x\r\nBad Header: v\r\n\r\n";
  appliance_.control.errors = {e};
  appliance_.control.error_total = 2;
  const std::string want = WithoutDates(TranscriptOutput("91-show-errors.txt"));
  EXPECT_EQ(WithoutDates(Run("show errors")), want);
  EXPECT_EQ(WithoutDates(Run("show errors fe_main request")),
            WithoutDates(TranscriptOutput("91b-show-errors-proxy-request.txt")));
  EXPECT_EQ(WithoutDates(Run("show errors -1 response")),
            WithoutDates(TranscriptOutput("91c-show-errors-response.txt")));
  EXPECT_EQ(Run("show errors nosuch"), "No such proxy.\n\n");
  EXPECT_EQ(Run("show errors", Level::kUser), "Permission denied\n\n");
  // A long line goes on in continuation lines marked '+', at most 79 columns each.
  e.data = std::string(100, 'a') + "\r\n";
  appliance_.control.errors = {e};
  const std::string out = Run("show errors");
  EXPECT_NE(out.find("\n  00000  aaaa"), std::string::npos) << out;
  EXPECT_NE(out.find("\n  00070+ aaaa"), std::string::npos) << out;
}

TEST_F(CliProxy, TinyOutputBufferGivesSameBytes) {
  for (const char* cmd :
       {"show stat", "show stat typed desc", "show stat json", "show servers state",
        "show servers conn", "show sess", "show sess all", "help"}) {
    EXPECT_EQ(Run(cmd, Level::kAdmin, 7), Run(cmd)) << cmd;
  }
}

TEST_F(CliProxy, HelpLinesAreHaproxys) {
  const std::string help = TranscriptOutput("01-help.txt");
  if (help.empty()) GTEST_SKIP() << "HAProxy transcripts not found";
  const std::string ours = Run("help");
  int n = 0;
  for (const std::string& line : Split(ours, '\n')) {
    if (line.empty() || line.starts_with("The following")) continue;
    EXPECT_NE(help.find(line + "\n"), std::string::npos) << line;
    ++n;
  }
  // 15: ACL and map commands; 3: stick tables; 12: TLS; 2: add/del server
  EXPECT_EQ(n, 11 + 24 + 15 + 3 + 3 + 12 + 2);
  for (const char* line :
       {"  show stat [desc|json|no-maint|typed|up]*: report counters for each proxy and server\n",
        "  enable server  (DEPRECATED)             : enable a disabled server (use 'set server' "
        "instead)\n",
        "  shutdown sessions server <bk>/<srv>     : kill sessions on a server\n"}) {
    EXPECT_NE(ours.find(line), std::string::npos) << line;
  }
  EXPECT_EQ(Run("help set server"), TranscriptOutput("A0d-help-with-arg.txt"));
}

}  // namespace
}  // namespace sluice::cli
