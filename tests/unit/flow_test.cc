// The owner function (DESIGN.md section 2).
#include <gtest/gtest.h>

#include <vector>

#include "dataplane/net/addr_text.h"
#include "dataplane/net/flow.h"

namespace sluice::net {
namespace {

std::vector<uint8_t> Frame4(const char* src, uint8_t proto, uint16_t dport) {
  std::vector<uint8_t> f(14 + 20 + 8, 0);
  f[12] = 0x08;
  f[13] = 0x00;
  f[14] = 0x45;
  f[14 + 9] = proto;
  auto a = *ParseIpv4(src);
  std::memcpy(&f[14 + 12], &a.be, 4);
  f[14 + 20 + 2] = static_cast<uint8_t>(dport >> 8);
  f[14 + 20 + 3] = static_cast<uint8_t>(dport);
  return f;
}

TEST(FlowTest, OneWorkerOwnsEverything) {
  FlowSteering s(1, 32768, 60999);
  auto f = Frame4("10.10.1.2", 6, 80);
  EXPECT_EQ(s.OwnerOfFrame(f.data(), static_cast<uint32_t>(f.size())), 0);
}

// Known-answer test: the Toeplitz hash of a source address alone with the well-known key.
// Microsoft's RSS verification suite lists 66.9.149.187 -> 161.142.100.80 (addresses only)
// as 0x323e8fc2; over the source address alone the hash is the first 32 input bits' share.
TEST(FlowTest, ToeplitzOverTheSourceAddressMatchesTheNicComputation) {
  FlowSteering s(2, 32768, 60999);
  // Independent bit-by-bit Toeplitz over 32 input bits.
  auto toeplitz = [&](uint32_t input) {
    const uint8_t* key = s.rss_key();
    uint32_t result = 0;
    for (int bit = 0; bit < 32; ++bit) {
      if (input & (1u << (31 - bit))) {
        uint32_t window = 0;
        for (int k = 0; k < 32; ++k) {
          const int kb = bit + k;
          if (key[kb / 8] & (0x80 >> (kb % 8))) window |= 1u << (31 - k);
        }
        result ^= window;
      }
    }
    return result;
  };
  for (const char* ip : {"10.10.1.2", "10.10.1.100", "192.0.2.77", "66.9.149.187"}) {
    const uint32_t h = toeplitz(ParseIpv4(ip)->Host());
    EXPECT_EQ(s.OwnerOfClient(*ParseIp(ip)), s.reta()[h % kRetaSize]) << ip;
  }
}

TEST(FlowTest, ClientFlowsSpreadOverWorkersAndStayStable) {
  FlowSteering s(2, 32768, 60999);
  int count[2] = {0, 0};
  for (int i = 0; i < 1000; ++i) {
    IpAddr a;
    a.v4 = Ipv4Addr::FromHost(0x0a000000u + static_cast<uint32_t>(i) * 7919u);
    const uint16_t o = s.OwnerOfClient(a);
    ASSERT_LT(o, 2);
    EXPECT_EQ(o, s.OwnerOfClient(a));
    count[o]++;
  }
  EXPECT_GT(count[0], 350);
  EXPECT_GT(count[1], 350);
}

TEST(FlowTest, FrameOwnerIsTheClientOwnerWhateverTheDestination) {
  FlowSteering s(4, 32768, 60999);
  for (const char* ip : {"10.10.1.2", "10.10.1.3", "10.10.1.4", "10.10.1.200"}) {
    auto f = Frame4(ip, 1, 0);
    EXPECT_EQ(s.OwnerOfFrame(f.data(), static_cast<uint32_t>(f.size())),
              s.OwnerOfClient(*ParseIp(ip)));
  }
}

TEST(FlowTest, LocalPortsBelongToTheWorkerThatChoseThem) {
  FlowSteering s(4, 32768, 60999);
  for (uint16_t port = 32768; port < 32800; ++port) {
    auto f = Frame4("10.10.2.11", 6, port);
    EXPECT_EQ(s.OwnerOfFrame(f.data(), static_cast<uint32_t>(f.size())), (port - 32768) % 4);
  }
  EXPECT_EQ(s.OwnerOfLocalPort(80), kOwnerLocal);
}

TEST(FlowTest, ArpAndNeighbourDiscoveryGoToAll) {
  FlowSteering s(2, 32768, 60999);
  std::vector<uint8_t> arp(14 + 28, 0);
  arp[12] = 0x08;
  arp[13] = 0x06;
  EXPECT_EQ(s.OwnerOfFrame(arp.data(), static_cast<uint32_t>(arp.size())), kOwnerAll);
  std::vector<uint8_t> ns(14 + 40 + 24, 0);
  ns[12] = 0x86;
  ns[13] = 0xdd;
  ns[14] = 0x60;
  ns[14 + 6] = 58;
  ns[14 + 40] = 135;
  EXPECT_EQ(s.OwnerOfFrame(ns.data(), static_cast<uint32_t>(ns.size())), kOwnerAll);
}

TEST(FlowTest, TruncatedFramesAreLeftToTheReceiver) {
  FlowSteering s(2, 32768, 60999);
  auto f = Frame4("10.10.1.2", 6, 80);
  for (uint32_t len = 0; len < 14 + 20; ++len) {
    const uint16_t o = s.OwnerOfFrame(f.data(), len);
    EXPECT_TRUE(o == kOwnerLocal) << len;
  }
}

}  // namespace
}  // namespace sluice::net
