// The EAL command line built from the dataplane section.
#include <gtest/gtest.h>

#include <algorithm>

#include "controlplane/main/appliance.h"

namespace sluice::app {
namespace {

bool Has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

config::Config TwoTapPorts(unsigned workers) {
  config::Config c;
  c.dataplane.present = true;
  c.dataplane.workers = workers;
  c.dataplane.file_prefix = "t1";
  config::PortConfig a;
  a.name = "client";
  a.device = "net_tap0,iface=sl-tap-c";
  config::PortConfig b;
  b.name = "server";
  b.device = "net_tap1,iface=sl-tap-s";
  c.dataplane.ports = {a, b};
  return c;
}

TEST(EalArgsTest, NoHugepagesNoPciAndOneVdevPerPort) {
  auto args = BuildEalArgs(TwoTapPorts(1), 2, false);
  EXPECT_TRUE(Has(args, "--no-huge"));
  EXPECT_TRUE(Has(args, "--no-pci"));
  EXPECT_TRUE(Has(args, "--vdev=net_tap0,iface=sl-tap-c"));
  EXPECT_TRUE(Has(args, "--vdev=net_tap1,iface=sl-tap-s"));
  EXPECT_TRUE(Has(args, "--file-prefix=t1"));
  EXPECT_TRUE(Has(args, "--lcores=0@0,1@1"));
}

TEST(EalArgsTest, HugepagesAreUsedWhenFreeUnlessTurnedOff) {
  auto cfg = TwoTapPorts(1);
  EXPECT_FALSE(Has(BuildEalArgs(cfg, 2, true), "--no-huge"));
  cfg.dataplane.hugepages = config::HugePages::kOff;
  EXPECT_TRUE(Has(BuildEalArgs(cfg, 2, true), "--no-huge"));
}

TEST(EalArgsTest, ExtraWorkersShareTheNonControlCpus) {
  EXPECT_TRUE(Has(BuildEalArgs(TwoTapPorts(2), 2, false), "--lcores=0@0,1@1,2@1"));
  EXPECT_TRUE(Has(BuildEalArgs(TwoTapPorts(3), 3, false), "--lcores=0@0,1@1,2@2,3@1"));
  EXPECT_TRUE(Has(BuildEalArgs(TwoTapPorts(1), 1, false), "--lcores=0@0,1@0"));
}

TEST(EalArgsTest, PciPortsAreAllowListed) {
  auto cfg = TwoTapPorts(1);
  cfg.dataplane.ports[0].device = "0000:03:00.0";
  cfg.dataplane.ports[0].is_pci = true;
  auto args = BuildEalArgs(cfg, 2, false);
  EXPECT_FALSE(Has(args, "--no-pci"));
  auto it = std::find(args.begin(), args.end(), "-a");
  ASSERT_NE(it, args.end());
  EXPECT_EQ(*(it + 1), "0000:03:00.0");
  EXPECT_EQ(DeviceName(cfg.dataplane.ports[0]), "0000:03:00.0");
  EXPECT_EQ(DeviceName(cfg.dataplane.ports[1]), "net_tap1");
}

}  // namespace
}  // namespace sluice::app
