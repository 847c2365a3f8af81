#include <gtest/gtest.h>

#include "dataplane/net/addr.h"
#include "dataplane/net/addr_text.h"

namespace sluice::net {
namespace {

TEST(AddrTest, ParsesAndPrintsIpv4AndIpv6) {
  auto a = ParseIp("10.10.1.1");
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->is_v6);
  EXPECT_EQ(a->v4.Host(), 0x0a0a0101u);
  EXPECT_EQ(ToString(*a), "10.10.1.1");
  auto b = ParseIp("fd10:1::1");
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->is_v6);
  EXPECT_EQ(ToString(*b), "fd10:1::1");
  EXPECT_FALSE(ParseIp("10.10.1"));
  EXPECT_FALSE(ParseIp("fd10:::1:"));
  EXPECT_FALSE(ParseIp(std::string(100, '1')));
}

TEST(AddrTest, PrefixesNeedALengthUnlessHostsAreAllowed) {
  auto p = ParsePrefix("10.10.1.1/24", false);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->length, 24);
  EXPECT_FALSE(ParsePrefix("10.10.1.1", false));
  EXPECT_EQ(ParsePrefix("10.10.1.1", true)->length, 32);
  EXPECT_EQ(ParsePrefix("fd10::1", true)->length, 128);
  EXPECT_FALSE(ParsePrefix("10.10.1.1/33", false));
  EXPECT_FALSE(ParsePrefix("fd10::1/129", false));
  EXPECT_FALSE(ParsePrefix("10.10.1.1/", false));
  EXPECT_FALSE(ParsePrefix("10.10.1.1/2x", false));
  EXPECT_EQ(ToString(*ParsePrefix("fd10:1::/64", false)), "fd10:1::/64");
}

TEST(AddrTest, PrefixContainsRespectsLengthAndFamily) {
  auto p = *ParsePrefix("10.10.1.0/23", false);
  EXPECT_TRUE(PrefixContains(p, *ParseIp("10.10.0.7")));
  EXPECT_TRUE(PrefixContains(p, *ParseIp("10.10.1.255")));
  EXPECT_FALSE(PrefixContains(p, *ParseIp("10.10.2.1")));
  EXPECT_FALSE(PrefixContains(p, *ParseIp("::1")));
  auto p6 = *ParsePrefix("fd10:1::/61", false);
  EXPECT_TRUE(PrefixContains(p6, *ParseIp("fd10:1:0:7::1")));
  EXPECT_FALSE(PrefixContains(p6, *ParseIp("fd10:1:0:8::1")));
  EXPECT_TRUE(PrefixContains(*ParsePrefix("0.0.0.0/0", false), *ParseIp("192.0.2.1")));
}

TEST(AddrTest, MacAddresses) {
  auto m = ParseMac("02:00:5E:10:00:ff");
  ASSERT_TRUE(m);
  EXPECT_EQ(ToString(*m), "02:00:5e:10:00:ff");
  EXPECT_FALSE(m->IsMulticast());
  EXPECT_TRUE(ParseMac("ff:ff:ff:ff:ff:ff")->IsBroadcast());
  EXPECT_TRUE(ParseMac("33:33:ff:00:00:01")->IsMulticast());
  EXPECT_FALSE(ParseMac("02:00:5e:10:00"));
  EXPECT_FALSE(ParseMac("02-00-5e-10-00-ff"));
  EXPECT_FALSE(ParseMac("0g:00:5e:10:00:ff"));
}

TEST(AddrTest, SolicitedNodeGroup) {
  EXPECT_EQ(ToString(ParseIpv6("fd10:1::abcd:1234")->SolicitedNode()), "ff02::1:ffcd:1234");
}

}  // namespace
}  // namespace sluice::net
