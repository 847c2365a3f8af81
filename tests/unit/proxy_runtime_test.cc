// The proxy's live state built from a parsed configuration (controlplane/proxy/runtime.h)
// and the snapshot content it fills for the workers: what the configuration said must reach
// the workers whole.
#include <gtest/gtest.h>

#include <string>

#include "controlplane/config/config.h"
#include "controlplane/proxy/runtime.h"

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
  proxy::StatusSet s;
  EXPECT_TRUE(s.empty());
  EXPECT_TRUE(s.Accepts(200) && s.Accepts(399));
  EXPECT_FALSE(s.Accepts(199) || s.Accepts(400) || s.Accepts(503));
  s.Add(200);
  s.AddRange(301, 302);
  s.Add(599);
  s.Add(600);  // outside 100-599: ignored
  s.Add(99);
  EXPECT_FALSE(s.empty());
  for (unsigned code = 0; code < 700; ++code) {
    const bool want = code == 200 || code == 301 || code == 302 || code == 599;
    EXPECT_EQ(s.Accepts(code), want) << code;
  }
}

TEST(ProxyRuntime, HttpCheckExpectStatusListReachesTheWorkers) {
  const config::ParseOutcome o = config::ParseText(kConfig, "t.cfg");
  ASSERT_FALSE(o.HasErrors());
  ProxyRuntime rt;
  rt.Load(o.config, 1, 0);
  proxy::ProxyConfigSnap snap;
  rt.Fill(&snap);
  ASSERT_EQ(snap.backends.size(), 2u);
  const proxy::StatusSet& list = snap.backends[0].expect_status;
  for (unsigned code : {200u, 301u, 302u}) EXPECT_TRUE(list.Accepts(code)) << code;
  for (unsigned code : {201u, 300u, 303u, 304u, 404u}) EXPECT_FALSE(list.Accepts(code)) << code;
  const proxy::StatusSet& dflt = snap.backends[1].expect_status;
  EXPECT_TRUE(dflt.Accepts(204) && dflt.Accepts(303));
  EXPECT_FALSE(dflt.Accepts(404));
}

}  // namespace
}  // namespace sluice::cp
