// The proxy's live state built from a parsed configuration (controlplane/proxy/runtime.h)
// and the snapshot content it fills for the workers: what the configuration said must reach
// the workers whole.
#include <gtest/gtest.h>

#include <string>

#include "controlplane/config/config.h"
#include "controlplane/proxy/runtime.h"
#include "dataplane/net/addr_text.h"

namespace sluice::cp {
namespace {

constexpr char kConfig[] =
    "dataplane\n"
    "    port p0 net_tap0,iface=sl0\n"
    "    address p0 10.0.0.1/24\n"
    "defaults\n"
    "    timeout client 30s\n"
    "    timeout connect 5s\n"
    "    timeout server 30s\n"
    "backend b_list\n"
    "    option httpchk\n"
    "    http-check expect status 200,301-302\n"
    "    server s 10.0.0.2:1 check\n"
    "backend b_default\n"
    "    option httpchk\n"
    "    server s 10.0.0.3:1 check\n";

TEST(StatusSet, CodesAndRanges) {
  check::StatusSet s;
  EXPECT_TRUE(s.empty());
  s.Add(200);
  s.AddRange(301, 302);
  s.Add(599);
  s.Add(600);  // outside 100-599: ignored
  s.Add(99);
  EXPECT_FALSE(s.empty());
  for (unsigned code = 0; code < 700; ++code) {
    const bool want = code == 200 || code == 301 || code == 302 || code == 599;
    EXPECT_EQ(s.Contains(code), want) << code;
  }
}

// Parses `text`, loads it for `workers` workers and builds the proxy part.
proxy::ProxyConfigSnap Build(const std::string& text, unsigned workers, ProxyRuntime* rt) {
  const config::ParseOutcome o = config::ParseText(text, "t.cfg");
  EXPECT_FALSE(o.HasErrors());
  rt->Load(o.config, workers, 0);
  proxy::ProxyConfigSnap snap;
  rt->Fill(&snap);
  return snap;
}

TEST(ProxyRuntime, HttpCheckExpectRulesReachTheWorkers) {
  ProxyRuntime rt;
  const proxy::ProxyConfigSnap snap = Build(kConfig, 1, &rt);
  ASSERT_EQ(snap.backends.size(), 2u);
  ASSERT_EQ(snap.backends[0].nexpects, 1u);
  const check::Expect& list = snap.check_expects[snap.backends[0].first_expect];
  for (unsigned code : {200u, 301u, 302u}) EXPECT_TRUE(list.codes.Contains(code)) << code;
  for (unsigned code : {201u, 300u, 303u, 304u, 404u}) {
    EXPECT_FALSE(list.codes.Contains(code)) << code;
  }
  // No rule written: HAProxy's default, any 2xx or 3xx.
  ASSERT_EQ(snap.backends[1].nexpects, 1u);
  const check::Expect& dflt = snap.check_expects[snap.backends[1].first_expect];
  EXPECT_EQ(dflt.kind, check::ExpectKind::kStatus);
  EXPECT_TRUE(dflt.codes.Contains(204) && dflt.codes.Contains(303));
  EXPECT_FALSE(dflt.codes.Contains(404) || dflt.codes.Contains(199));
}

// The build step reads the model for what the file said and the overrides for what the
// Runtime API changed since; a change to one server touches only its own entry.
TEST(ProxyRuntime, BuildStepTakesTheModelAndTheOverrides) {
  ProxyRuntime rt;
  const proxy::ProxyConfigSnap before =
      Build(std::string(kConfig) +
                "backend b_tuned\n"
                "    timeout connect 2s\n"
                "    retries 5\n"
                "    server a 10.0.0.4:80 weight 7 maxconn 10 check inter 3s rise 4 fall 5\n"
                "    server b 10.0.0.5:80 disabled backup\n",
            2, &rt);
  ASSERT_EQ(before.backends.size(), 3u);
  const proxy::BackendSnap& b = before.backends[2];
  EXPECT_EQ(b.connect_ms, 2000u);
  EXPECT_EQ(b.retries, 5);
  // Its two servers, then room for `add server`: free slots that take no traffic.
  ASSERT_EQ(b.nservers, 2u + config::kDynamicServerSlots);
  for (uint32_t i = b.first_server + 2; i < b.first_server + b.nservers; ++i) {
    EXPECT_FALSE(before.servers[i].usable || before.servers[i].persist || before.servers[i].check);
    EXPECT_EQ(before.servers[i].weight, 0u);
    EXPECT_EQ(before.servers[i].id, 0u);
  }
  const proxy::ServerSnap& a = before.servers[b.first_server];
  EXPECT_EQ(a.weight, 7u);
  EXPECT_EQ(a.iweight, 7u);
  EXPECT_EQ(a.maxconn, 5u);  // each of the 2 workers' share
  EXPECT_EQ(a.inter_ms, 3000u);
  EXPECT_EQ(a.fastinter_ms, 3000u);  // `inter` where the file gave none
  EXPECT_EQ(a.rise, 4);
  EXPECT_EQ(a.init_health, 4);
  EXPECT_TRUE(a.check && a.usable);
  const proxy::ServerSnap& bs = before.servers[b.first_server + 1];
  EXPECT_FALSE(bs.usable);  // disabled in the file
  EXPECT_TRUE(bs.backup);

  const int bi = rt.FindBackend("b_tuned");
  const int si = rt.FindServer(bi, "a");
  ASSERT_GE(si, 0);
  ServerRt& s = rt.servers()[si];
  EXPECT_EQ(s.name(), "a");
  s.uweight = 3;
  s.maxconn = 0;
  s.check_enabled = false;
  rt.servers()[si + 1].cfg_maint = false;  // `set server b_tuned/b state ready`
  proxy::ProxyConfigSnap after;
  rt.Fill(&after);
  const proxy::ServerSnap& a2 = after.servers[si];
  EXPECT_EQ(a2.weight, 3u);
  EXPECT_EQ(a2.iweight, 7u);  // the model's
  EXPECT_EQ(a2.maxconn, 0u);
  EXPECT_FALSE(a2.check);
  EXPECT_TRUE(after.servers[si + 1].usable);
  EXPECT_EQ(rt.config().proxies[2].servers[0].weight, 7u);  // the model is not changed
}

// `add server` takes the backend's first free slot, in maintenance with its checks
// disabled, the smallest free id; `del server` frees the slot for the next one.
TEST(ProxyRuntime, ServersAddedAndDeletedInTheBackendsRoom) {
  ProxyRuntime rt;
  Build(std::string(kConfig) + "backend b3\n    server a 10.0.0.4:80 id 2\n", 1, &rt);
  const int bi = rt.FindBackend("b3");
  ASSERT_GE(bi, 0);
  const BackendRt& b = rt.backends()[bi];
  config::ServerConfig c;
  c.name = "n1";
  c.addr = *net::ParseIp("10.0.0.9");
  c.port = 81;
  c.weight = 10;
  c.check = true;
  auto slot = rt.AddServer(bi, c, 100);
  ASSERT_TRUE(slot) << slot.error();
  EXPECT_EQ(*slot, b.first_server + 1);
  EXPECT_EQ(rt.FindServer(bi, "n1"), static_cast<int>(*slot));
  const ServerRt& s = rt.servers()[*slot];
  EXPECT_TRUE(s.present && s.dynamic && s.maint && !s.check_enabled);
  EXPECT_EQ(s.id(), 1u);  // 2 is a's
  proxy::ProxyConfigSnap snap;
  rt.Fill(&snap);
  EXPECT_FALSE(snap.servers[*slot].usable);  // in maintenance until `set server ... ready`
  EXPECT_EQ(snap.servers[*slot].port, 81);
  EXPECT_EQ(rt.AddServer(bi, c, 100).error(),
            "Already exists a server with the same name in backend.");
  c.name = "n2";
  c.id = 2;
  EXPECT_EQ(rt.AddServer(bi, c, 100).error(), "'id' : custom id 2 already used.");
  c.id = 0;
  auto second = rt.AddServer(bi, c, 100);
  ASSERT_TRUE(second);
  EXPECT_EQ(rt.servers()[*second].id(), 3u);
  rt.DelServer(*slot);
  EXPECT_EQ(rt.FindServer(bi, "n1"), -1);
  EXPECT_FALSE(rt.servers()[*slot].present);
  c.name = "n3";
  auto third = rt.AddServer(bi, c, 100);
  ASSERT_TRUE(third);
  EXPECT_EQ(*third, *slot);  // the freed slot again, with its id
  EXPECT_EQ(rt.servers()[*third].id(), 1u);
  // A file server's slot, once deleted, is not given to an added one (what was built for it
  // with the configuration stays its own).
  const int a = rt.FindServer(bi, "a");
  rt.DelServer(static_cast<uint32_t>(a));
  c.name = "a";
  auto again = rt.AddServer(bi, c, 100);
  ASSERT_TRUE(again);
  EXPECT_NE(*again, static_cast<uint32_t>(a));
  EXPECT_EQ(rt.servers()[*again].id(), 2u);  // its id is free again
  // The room is bounded: a full backend says so.
  for (int i = 0; i < 100; ++i) {
    c.name = "m" + std::to_string(i);
    auto r = rt.AddServer(bi, c, 100);
    if (!r) {
      EXPECT_NE(r.error().find("No room for another server in backend 'b3'"), std::string::npos);
      EXPECT_EQ(i, static_cast<int>(config::kDynamicServerSlots) - 3);  // n2, n3, a took three
      return;
    }
  }
  ADD_FAILURE() << "the backend's room has no bound";
}

}  // namespace
}  // namespace sluice::cp
