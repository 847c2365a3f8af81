// L2/L3 input and output of one worker's NetStack, frame by frame: every well-formed frame
// gets its RFC answer, every malformed one is dropped into its named counter.
#include <gtest/gtest.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include <cstring>
#include <memory>
#include <random>

#include "dataplane/net/net.h"
#include "dataplane/net/net_inl.h"
#include "tests/unit/net_builders.h"

namespace sluice::net {
namespace {

using counters::Counter;
using testing::Bytes;
using testing::Mac;
using testing::V4;
using testing::V6;

constexpr uint64_t kHz = 1'000'000;  // virtual TSC: 1 tick = 1 us

const MacAddr kOurMac0 = Mac("02:00:00:00:00:01");
const MacAddr kOurMac1 = Mac("02:00:00:00:00:02");
const MacAddr kClientMac = Mac("52:54:00:12:34:56");
const MacAddr kBroadcast = Mac("ff:ff:ff:ff:ff:ff");

class NetTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pool_ = rte_mempool_lookup("net_test_pool");
    if (pool_) return;
    pool_ = rte_pktmbuf_pool_create("net_test_pool", 8191, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                    static_cast<int>(rte_socket_id()));
    ASSERT_NE(pool_, nullptr);
  }

  void SetUp() override {
    static int seq = 0;
    ++seq;
    cfg_ = std::make_unique<NetConfig>();
    cfg_->nports = 2;
    PortAddrs& p0 = cfg_->ports[0];
    p0.port_id = 0;
    p0.mac = kOurMac0;
    p0.v4[0] = V4("10.10.1.1");
    p0.v4_len[0] = 24;
    p0.n_v4 = 1;
    p0.v6[0] = V6("fd10:1::1");
    p0.v6_len[0] = 64;
    p0.n_v6 = 1;
    PortAddrs& p1 = cfg_->ports[1];
    p1.port_id = 1;
    p1.mac = kOurMac1;
    p1.v4[0] = V4("10.10.2.1");
    p1.v4_len[0] = 24;
    p1.n_v4 = 1;
    p1.v6[0] = V6("fd10:2::1");
    p1.v6_len[0] = 64;
    p1.n_v6 = 1;
    p1.vlan = vlan_on_port1_;
    cfg_->port_index_of_id[1] = 1;
    const std::string name = "rt" + std::to_string(seq);
    ASSERT_TRUE(CreateRouteTables(*cfg_, name.c_str(), SOCKET_ID_ANY));
    ASSERT_TRUE(BuildConnectedRoutes(*cfg_));
    Route via{1, true, IpAddr{false, V4("10.10.2.254"), {}}};
    ASSERT_TRUE(AddRoute(*cfg_, IpPrefix{IpAddr{false, V4("10.20.0.0"), {}}, 16}, via));
    cfg_->steering = FlowSteering(1, 32768, 60999);
    cfg_->tsc_hz = kHz;
    neigh_ = std::make_unique<NeighbourTable>();
    const std::string nname = "nb" + std::to_string(seq);
    ASSERT_TRUE(neigh_->Init(nname.c_str(), kNeighbours, SOCKET_ID_ANY,
                             NeighbourTimes{30 * kHz, kHz, 600 * kHz}));
    counters_ = std::make_unique<counters::WorkerCounters>();
    stack_ = std::make_unique<NetStack>(cfg_.get(), counters_.get(), neigh_.get(), pool_, 0);
    stack_->SetNow(1000);
  }

  void TearDown() override {
    for (uint16_t p = 0; p < 2; ++p) TakeTx(p);
    // Pending packets die with the table's entries.
    for (uint32_t i = 0; i <= neigh_->capacity(); ++i) {
      NeighbourEntry& e = neigh_->entries()[i];
      for (unsigned k = 0; k < e.npending; ++k) rte_pktmbuf_free(e.pending[k]);
      e.npending = 0;
    }
    stack_.reset();
    neigh_.reset();
    FreeRouteTables(*cfg_);
    EXPECT_EQ(rte_mempool_in_use_count(pool_), 0u) << "mbuf leak";
  }

  void Feed(const Bytes& frame, uint16_t port = 0, bool learn_only = false) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    ASSERT_NE(m, nullptr);
    char* p = rte_pktmbuf_append(m, static_cast<uint16_t>(frame.size()));
    ASSERT_NE(p, nullptr);
    if (!frame.empty()) std::memcpy(p, frame.data(), frame.size());
    m->port = cfg_->ports[port].port_id;
    stack_->Input(m, port, learn_only);
  }

  // The frames queued on a port, as bytes; the mbufs are freed.
  std::vector<Bytes> TakeTx(uint16_t port) {
    std::vector<Bytes> out;
    TxBuffer& t = stack_->tx(port);
    for (uint16_t i = 0; i < t.n; ++i) {
      rte_mbuf* m = t.pkts[i];
      const auto* d = rte_pktmbuf_mtod(m, const uint8_t*);
      out.emplace_back(d, d + m->data_len);
      rte_pktmbuf_free(m);
    }
    t.n = 0;
    return out;
  }

  uint64_t C(Counter c) const { return counters_->Get(c); }

  // Lets the client's ARP request teach the stack the client's MAC (and drains the reply).
  void LearnClient() {
    Feed(testing::Eth(kBroadcast, kClientMac, 0x0806,
                      testing::Arp(1, kClientMac, V4("10.10.1.2"), MacAddr{}, V4("10.10.1.1"))));
    TakeTx(0);
  }

  Bytes ClientIcmp(const Bytes& ip) { return testing::Eth(kOurMac0, kClientMac, 0x0800, ip); }
  Bytes ClientV6(const Bytes& ip6) { return testing::Eth(kOurMac0, kClientMac, 0x86dd, ip6); }

  // Expects exactly one drop, in `reason`, for `frame`.
  void ExpectDrop(const Bytes& frame, Counter reason, uint16_t port = 0) {
    const uint64_t before = C(reason);
    const uint64_t drops_before = counters_->DropsTotal();
    Feed(frame, port);
    EXPECT_EQ(C(reason), before + 1) << counters::kCounterInfo[static_cast<size_t>(reason)].name;
    EXPECT_EQ(counters_->DropsTotal(), drops_before + 1)
        << counters::kCounterInfo[static_cast<size_t>(reason)].name;
    EXPECT_EQ(stack_->tx(port).n, 0);
  }

  static constexpr uint32_t kNeighbours = 64;
  static inline rte_mempool* pool_ = nullptr;
  uint16_t vlan_on_port1_ = 0;
  std::unique_ptr<NetConfig> cfg_;
  std::unique_ptr<NeighbourTable> neigh_;
  std::unique_ptr<counters::WorkerCounters> counters_;
  std::unique_ptr<NetStack> stack_;
};

// --- ARP (RFC 826) ---

TEST_F(NetTest, ArpRequestForOurAddressIsAnsweredAndTheSenderLearned) {
  Feed(testing::Eth(kBroadcast, kClientMac, 0x0806,
                    testing::Arp(1, kClientMac, V4("10.10.1.2"), MacAddr{}, V4("10.10.1.1"))));
  auto out = TakeTx(0);
  ASSERT_EQ(out.size(), 1u);
  const Bytes expect =
      testing::Eth(kClientMac, kOurMac0, 0x0806,
                   testing::Arp(2, kOurMac0, V4("10.10.1.1"), kClientMac, V4("10.10.1.2")));
  EXPECT_EQ(out[0], expect);
  EXPECT_EQ(C(Counter::arp_replies_sent), 1u);
  NeighbourEntry* e = neigh_->Find(NeighbourKey::V4(0, V4("10.10.1.2")));
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->state, NeighState::kReachable);
  EXPECT_EQ(e->mac, kClientMac);
}

TEST_F(NetTest, ArpForAnAddressOnAnotherPortIsNotAnswered) {
  ExpectDrop(testing::Eth(kBroadcast, kClientMac, 0x0806,
                          testing::Arp(1, kClientMac, V4("10.10.1.2"), MacAddr{}, V4("10.10.2.1"))),
             Counter::arp_drop_not_for_us);
  EXPECT_EQ(neigh_->Find(NeighbourKey::V4(0, V4("10.10.1.2"))), nullptr);
}

TEST_F(NetTest, MalformedArpIsDroppedAndCounted) {
  Bytes arp = testing::Arp(1, kClientMac, V4("10.10.1.2"), MacAddr{}, V4("10.10.1.1"));
  auto frame = [&](Bytes a) { return testing::Eth(kBroadcast, kClientMac, 0x0806, a); };
  ExpectDrop(frame(Bytes(arp.begin(), arp.begin() + 20)), Counter::arp_drop_malformed);
  Bytes bad = arp;
  bad[1] = 6;  // hardware type 6 (IEEE 802)
  ExpectDrop(frame(bad), Counter::arp_drop_malformed);
  bad = arp;
  bad[4] = 8;  // hardware address length
  ExpectDrop(frame(bad), Counter::arp_drop_malformed);
  bad = arp;
  bad[7] = 3;  // RARP opcode
  ExpectDrop(frame(bad), Counter::arp_drop_malformed);
  ExpectDrop(frame(testing::Arp(1, kBroadcast, V4("10.10.1.2"), MacAddr{}, V4("10.10.1.1"))),
             Counter::arp_drop_bad_sender);
  ExpectDrop(frame(testing::Arp(1, kClientMac, V4("10.10.1.1"), MacAddr{}, V4("10.10.1.1"))),
             Counter::arp_drop_bad_sender);
  ExpectDrop(frame(testing::Arp(1, kClientMac, V4("224.0.0.1"), MacAddr{}, V4("10.10.1.1"))),
             Counter::arp_drop_bad_sender);
}

TEST_F(NetTest, LearnOnlyCopiesUpdateTheTableButAnswerNothing) {
  Feed(testing::Eth(kBroadcast, kClientMac, 0x0806,
                    testing::Arp(1, kClientMac, V4("10.10.1.2"), MacAddr{}, V4("10.10.1.1"))),
       0, true);
  EXPECT_EQ(stack_->tx(0).n, 0);
  EXPECT_NE(neigh_->Find(NeighbourKey::V4(0, V4("10.10.1.2"))), nullptr);
  EXPECT_EQ(counters_->DropsTotal(), 0u);
}

// --- IPv4 and ICMP (RFC 791, RFC 792, RFC 1122) ---

TEST_F(NetTest, EchoRequestGetsAnEchoReplyWithTheSameData) {
  LearnClient();
  Bytes req = testing::Ipv4(V4("10.10.1.2"), V4("10.10.1.1"), 1, testing::IcmpEcho(8, 7, 3, 56));
  Feed(ClientIcmp(req));
  auto out = TakeTx(0);
  ASSERT_EQ(out.size(), 1u);
  Bytes expect_ip =
      testing::Ipv4(V4("10.10.1.1"), V4("10.10.1.2"), 1, testing::IcmpEcho(0, 7, 3, 56));
  // The reply keeps the request's IP identification and flags.
  EXPECT_EQ(Bytes(out[0].begin(), out[0].begin() + 14),
            Bytes(testing::Eth(kClientMac, kOurMac0, 0x0800, {})));
  Bytes ip(out[0].begin() + 14, out[0].end());
  EXPECT_EQ(ip, expect_ip);
  EXPECT_EQ(testing::InetChecksum(ip.data(), 20), 0);
  EXPECT_EQ(C(Counter::icmp_echo_replies), 1u);
}

TEST_F(NetTest, EthernetPaddingIsIgnored) {
  LearnClient();
  Bytes f =
      ClientIcmp(testing::Ipv4(V4("10.10.1.2"), V4("10.10.1.1"), 1, testing::IcmpEcho(8, 1, 1, 0)));
  f.resize(60, 0);  // minimum Ethernet frame
  Feed(f);
  auto out = TakeTx(0);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].size(), 14u + 28u);
}

TEST_F(NetTest, ReplyToAnUnknownNeighbourWaitsForArpThenGoesOut) {
  Bytes req = testing::Ipv4(V4("10.10.1.2"), V4("10.10.1.1"), 1, testing::IcmpEcho(8, 1, 1, 8));
  Feed(ClientIcmp(req));
  auto out = TakeTx(0);
  ASSERT_EQ(out.size(), 1u);  // our ARP request
  EXPECT_EQ(out[0],
            testing::Eth(kBroadcast, kOurMac0, 0x0806,
                         testing::Arp(1, kOurMac0, V4("10.10.1.1"), MacAddr{}, V4("10.10.1.2"))));
  EXPECT_EQ(C(Counter::arp_requests_sent), 1u);
  // The ARP reply releases the echo reply.
  Feed(testing::Eth(kOurMac0, kClientMac, 0x0806,
                    testing::Arp(2, kClientMac, V4("10.10.1.2"), kOurMac0, V4("10.10.1.1"))));
  out = TakeTx(0);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(Bytes(out[0].begin(), out[0].begin() + 6),
            Bytes(kClientMac.b.begin(), kClientMac.b.end()));
  EXPECT_EQ(C(Counter::icmp_echo_replies), 1u);
}

TEST_F(NetTest, UnansweredArpGivesUpAfterThreeProbesAndCountsTheLoss) {
  Feed(ClientIcmp(
      testing::Ipv4(V4("10.10.1.2"), V4("10.10.1.1"), 1, testing::IcmpEcho(8, 1, 1, 8))));
  for (uint64_t t = 1; t <= 5; ++t) {
    stack_->SetNow(1000 + t * kHz + 1);
    stack_->Tick();
  }
  auto out = TakeTx(0);
  EXPECT_EQ(out.size(), kNeighProbesMax);  // three ARP requests, then nothing
  EXPECT_EQ(C(Counter::out_drop_neigh_failed), 1u);
  EXPECT_EQ(neigh_->Find(NeighbourKey::V4(0, V4("10.10.1.2"))), nullptr);
}

TEST_F(NetTest, PendingQueuePerNeighbourIsBounded) {
  for (unsigned i = 0; i < kNeighPendingMax + 3; ++i) {
    Feed(ClientIcmp(testing::Ipv4(V4("10.10.1.2"), V4("10.10.1.1"), 1,
                                  testing::IcmpEcho(8, 1, static_cast<uint16_t>(i), 8))));
  }
  EXPECT_EQ(C(Counter::out_drop_neigh_pending_full), 3u);
}

TEST_F(NetTest, NeighbourTableIsBoundedAndSaysSoWhenFull) {
  for (unsigned i = 0; i < kNeighbours + 10; ++i) {
    const Ipv4Addr src = Ipv4Addr::FromHost(V4("10.10.1.2").Host() + i);
    Feed(ClientIcmp(testing::Ipv4(src, V4("10.10.1.1"), 1, testing::IcmpEcho(8, 1, 1, 8))));
  }
  EXPECT_LE(neigh_->size(), kNeighbours);
  EXPECT_GT(C(Counter::out_drop_neigh_table_full), 0u);
}

TEST_F(NetTest, GatewayRouteResolvesTheGatewayNotTheDestination) {
  // A packet to 10.20.1.1 leaves port 1 through 10.10.2.254.
  rte_mbuf* m = rte_pktmbuf_alloc(pool_);
  Bytes ip = testing::Ipv4(V4("10.10.2.1"), V4("10.20.1.1"), 1, testing::IcmpEcho(0, 1, 1, 0));
  std::memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(ip.size())), ip.data(), ip.size());
  stack_->OutputIpv4(m);
  auto out = TakeTx(1);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(Bytes(out[0].begin() + 14, out[0].end()),
            testing::Arp(1, kOurMac1, V4("10.10.2.1"), MacAddr{}, V4("10.10.2.254")));
}

TEST_F(NetTest, NoRouteIsCounted) {
  rte_mbuf* m = rte_pktmbuf_alloc(pool_);
  Bytes ip = testing::Ipv4(V4("10.10.1.1"), V4("192.0.2.1"), 1, testing::IcmpEcho(0, 1, 1, 0));
  std::memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(ip.size())), ip.data(), ip.size());
  stack_->OutputIpv4(m);
  EXPECT_EQ(C(Counter::out_drop_no_route), 1u);
}

TEST_F(NetTest, MalformedIpv4IsDroppedAndCounted) {
  const Bytes good =
      testing::Ipv4(V4("10.10.1.2"), V4("10.10.1.1"), 1, testing::IcmpEcho(8, 1, 1, 8));
  auto with = [&](auto edit) {
    Bytes ip = good;
    edit(ip);
    return ClientIcmp(ip);
  };
  ExpectDrop(ClientIcmp(Bytes(good.begin(), good.begin() + 19)), Counter::ipv4_drop_short);
  ExpectDrop(with([](Bytes& ip) {
               ip[0] = 0x65;
               testing::FixIpv4Checksum(ip);
             }),
             Counter::ipv4_drop_bad_version);
  ExpectDrop(with([](Bytes& ip) { ip[0] = 0x44; }), Counter::ipv4_drop_bad_header_length);
  ExpectDrop(with([](Bytes& ip) { ip[0] = 0x4f; }), Counter::ipv4_drop_bad_header_length);
  ExpectDrop(with([](Bytes& ip) {
               ip[3] = 200;
               testing::FixIpv4Checksum(ip);
             }),
             Counter::ipv4_drop_bad_total_length);
  ExpectDrop(with([](Bytes& ip) {
               ip[2] = 0;
               ip[3] = 10;
               testing::FixIpv4Checksum(ip);
             }),
             Counter::ipv4_drop_bad_total_length);
  ExpectDrop(with([](Bytes& ip) { ip[11] ^= 0x55; }), Counter::ipv4_drop_bad_checksum);
  ExpectDrop(with([](Bytes& ip) {
               ip[8] = 0;
               testing::FixIpv4Checksum(ip);
             }),
             Counter::ipv4_drop_ttl_zero);
  ExpectDrop(with([](Bytes& ip) {
               ip[6] = 0x20;
               testing::FixIpv4Checksum(ip);
             }),
             Counter::ipv4_drop_fragment);
  ExpectDrop(with([](Bytes& ip) {
               ip[6] = 0x00;
               ip[7] = 0x10;
               testing::FixIpv4Checksum(ip);
             }),
             Counter::ipv4_drop_fragment);
  ExpectDrop(with([](Bytes& ip) {
               ip[19] = 99;
               testing::FixIpv4Checksum(ip);
             }),
             Counter::ipv4_drop_not_local);
  ExpectDrop(with([](Bytes& ip) {
               ip[19] = 255;
               testing::FixIpv4Checksum(ip);
             }),
             Counter::ipv4_drop_not_local);
  ExpectDrop(with([](Bytes& ip) {
               ip[12] = 224;
               testing::FixIpv4Checksum(ip);
             }),
             Counter::ipv4_drop_bad_source);
  ExpectDrop(with([](Bytes& ip) {
               ip[12] = 127;
               testing::FixIpv4Checksum(ip);
             }),
             Counter::ipv4_drop_bad_source);
  ExpectDrop(with([](Bytes& ip) {
               ip[15] = 1;
               testing::FixIpv4Checksum(ip);
             }),
             Counter::ipv4_drop_bad_source);
  ExpectDrop(with([](Bytes& ip) {
               ip[9] = 99;
               testing::FixIpv4Checksum(ip);
             }),
             Counter::ipv4_drop_unknown_protocol);
  ExpectDrop(ClientIcmp(testing::Ipv4(V4("10.10.1.2"), V4("10.10.1.1"), 1, Bytes{8, 0, 0})),
             Counter::icmp_drop_short);
  ExpectDrop(with([](Bytes& ip) { ip[25] ^= 1; }), Counter::icmp_drop_bad_checksum);
  ExpectDrop(ClientIcmp(testing::Ipv4(V4("10.10.1.2"), V4("10.10.1.1"), 1,
                                      testing::IcmpEcho(13, 1, 1, 8))),
             Counter::icmp_drop_unhandled_type);
  EXPECT_EQ(C(Counter::icmp_echo_replies), 0u);
}

TEST_F(NetTest, MalformedEthernetIsDroppedAndCounted) {
  ExpectDrop(Bytes{1, 2, 3}, Counter::eth_drop_short);
  ExpectDrop(testing::Eth(Mac("02:99:99:99:99:99"), kClientMac, 0x0800, Bytes(40)),
             Counter::eth_drop_not_for_us);
  ExpectDrop(testing::Eth(kOurMac0, kClientMac, 0x88cc, Bytes(40)), Counter::eth_drop_unknown_type);
  ExpectDrop(testing::EthVlan(kOurMac0, kClientMac, 100, 0x0800, Bytes(40)),
             Counter::vlan_drop_tagged);
  Bytes vlan_short = testing::Eth(kOurMac0, kClientMac, 0x8100, Bytes{0, 100});
  ExpectDrop(vlan_short, Counter::eth_drop_short);
}

class NetVlanTest : public NetTest {
 protected:
  NetVlanTest() { vlan_on_port1_ = 42; }
};

TEST_F(NetVlanTest, ConfiguredVlanIsAcceptedAndRepliesAreTagged) {
  Feed(testing::EthVlan(kBroadcast, kClientMac, 42, 0x0806,
                        testing::Arp(1, kClientMac, V4("10.10.2.11"), MacAddr{}, V4("10.10.2.1"))),
       1);
  auto out = TakeTx(1);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], testing::EthVlan(
                        kClientMac, kOurMac1, 42, 0x0806,
                        testing::Arp(2, kOurMac1, V4("10.10.2.1"), kClientMac, V4("10.10.2.11"))));
  ExpectDrop(testing::EthVlan(kBroadcast, kClientMac, 43, 0x0806, Bytes(28)),
             Counter::vlan_drop_tagged, 1);
  ExpectDrop(testing::Eth(kBroadcast, kClientMac, 0x0806, Bytes(28)), Counter::vlan_drop_untagged,
             1);
}

// --- IPv6, ICMPv6 and Neighbor Discovery (RFC 8200, RFC 4443, RFC 4861) ---

TEST_F(NetTest, NeighbourSolicitationIsAnsweredWithAnAdvertisement) {
  const Ipv6Addr client = V6("fd10:1::2");
  const Ipv6Addr us = V6("fd10:1::1");
  Bytes ns = testing::Ipv6(client, us.SolicitedNode(), 58,
                           testing::NdMessage(135, 0, us, 1, kClientMac), 255);
  Feed(testing::Eth(MulticastMac(us.SolicitedNode()), kClientMac, 0x86dd, ns));
  auto out = TakeTx(0);
  ASSERT_EQ(out.size(), 1u);
  Bytes na = testing::Ipv6(us, client, 58, testing::NdMessage(136, 0xe0, us, 2, kOurMac0), 255);
  EXPECT_EQ(out[0], testing::Eth(kClientMac, kOurMac0, 0x86dd, na));
  EXPECT_EQ(C(Counter::nd_adverts_sent), 1u);
  NeighbourEntry* e = neigh_->Find(NeighbourKey::V6(0, client));
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->mac, kClientMac);
}

TEST_F(NetTest, Echo6RequestGetsAReply) {
  const Ipv6Addr client = V6("fd10:1::2");
  const Ipv6Addr us = V6("fd10:1::1");
  Feed(ClientV6(testing::Ipv6(client, us.SolicitedNode(), 58,
                              testing::NdMessage(135, 0, us, 1, kClientMac), 255)));
  TakeTx(0);
  Feed(ClientV6(testing::Ipv6(client, us, 58, testing::Icmp6Echo(128, 9, 4, 32))));
  auto out = TakeTx(0);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], testing::Eth(kClientMac, kOurMac0, 0x86dd,
                                 testing::Ipv6(us, client, 58, testing::Icmp6Echo(129, 9, 4, 32))));
  EXPECT_EQ(C(Counter::icmp6_echo_replies), 1u);
}

TEST_F(NetTest, Echo6ToAnUnknownNeighbourSendsASolicitationThenTheReply) {
  const Ipv6Addr client = V6("fd10:1::2");
  const Ipv6Addr us = V6("fd10:1::1");
  Feed(ClientV6(testing::Ipv6(client, us, 58, testing::Icmp6Echo(128, 9, 4, 8))));
  auto out = TakeTx(0);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0],
            testing::Eth(MulticastMac(client.SolicitedNode()), kOurMac0, 0x86dd,
                         testing::Ipv6(us, client.SolicitedNode(), 58,
                                       testing::NdMessage(135, 0, client, 1, kOurMac0), 255)));
  Feed(ClientV6(
      testing::Ipv6(client, us, 58, testing::NdMessage(136, 0x60, client, 2, kClientMac), 255)));
  out = TakeTx(0);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(C(Counter::icmp6_echo_replies), 1u);
}

TEST_F(NetTest, MalformedIpv6AndNdAreDroppedAndCounted) {
  const Ipv6Addr client = V6("fd10:1::2");
  const Ipv6Addr us = V6("fd10:1::1");
  const Bytes echo = testing::Ipv6(client, us, 58, testing::Icmp6Echo(128, 1, 1, 8));
  auto with = [&](Bytes ip6, auto edit) {
    edit(ip6);
    return ClientV6(ip6);
  };
  auto none = [](Bytes&) {};
  ExpectDrop(ClientV6(Bytes(echo.begin(), echo.begin() + 39)), Counter::ipv6_drop_short);
  ExpectDrop(with(echo, [](Bytes& b) { b[0] = 0x40; }), Counter::ipv6_drop_bad_version);
  ExpectDrop(with(echo, [](Bytes& b) { b[5] = 200; }), Counter::ipv6_drop_bad_payload_length);
  ExpectDrop(with(echo, [](Bytes& b) { b[7] = 0; }), Counter::ipv6_drop_hop_limit_zero);
  ExpectDrop(with(testing::Ipv6(V6("ff02::1"), us, 58, testing::Icmp6Echo(128, 1, 1, 8)), none),
             Counter::ipv6_drop_bad_source);
  ExpectDrop(
      with(testing::Ipv6(client, V6("fd10:1::99"), 58, testing::Icmp6Echo(128, 1, 1, 8)), none),
      Counter::ipv6_drop_not_local);
  ExpectDrop(with(testing::Ipv6(client, us, 44, Bytes(16)), none), Counter::ipv6_drop_fragment);
  ExpectDrop(with(testing::Ipv6(client, us, 0, Bytes(16)), none),
             Counter::ipv6_drop_extension_header);
  ExpectDrop(with(testing::Ipv6(client, us, 17, Bytes(16)), none),
             Counter::ipv6_drop_unknown_next_header);
  ExpectDrop(with(testing::Ipv6(client, us, 58, Bytes{128, 0}), none), Counter::icmp6_drop_short);
  ExpectDrop(with(echo, [](Bytes& b) { b[45] ^= 1; }), Counter::icmp6_drop_bad_checksum);
  ExpectDrop(with(testing::Ipv6(client, us, 58, testing::Icmp6Echo(134, 1, 1, 8)), none),
             Counter::icmp6_drop_unhandled_type);
  // NS: hop limit not 255; zero-length option; multicast target; target not ours;
  // unspecified source with a source link-layer option.
  ExpectDrop(with(testing::Ipv6(client, us.SolicitedNode(), 58,
                                testing::NdMessage(135, 0, us, 1, kClientMac), 64),
                  none),
             Counter::nd_drop_malformed);
  Bytes ns_badopt = testing::NdMessage(135, 0, us, 1, kClientMac);
  ns_badopt[25] = 0;
  ExpectDrop(with(testing::Ipv6(client, us.SolicitedNode(), 58, ns_badopt, 255), none),
             Counter::nd_drop_malformed);
  ExpectDrop(with(testing::Ipv6(client, us.SolicitedNode(), 58,
                                testing::NdMessage(135, 0, V6("ff02::1"), 1, kClientMac), 255),
                  none),
             Counter::nd_drop_malformed);
  ExpectDrop(with(testing::Ipv6(client, V6("fd10:1::7").SolicitedNode(), 58,
                                testing::NdMessage(135, 0, V6("fd10:1::7"), 1, kClientMac), 255),
                  none),
             Counter::ipv6_drop_not_local);
  ExpectDrop(with(testing::Ipv6(client, us, 58,
                                testing::NdMessage(135, 0, V6("fd10:2::1"), 1, kClientMac), 255),
                  none),
             Counter::nd_drop_not_for_us);
  ExpectDrop(with(testing::Ipv6(V6("::"), us.SolicitedNode(), 58,
                                testing::NdMessage(135, 0, us, 1, kClientMac), 255),
                  none),
             Counter::nd_drop_malformed);
  // NA: solicited flag on a multicast destination.
  ExpectDrop(with(testing::Ipv6(client, V6("ff02::1"), 58,
                                testing::NdMessage(136, 0x40, client, 2, kClientMac), 255),
                  none),
             Counter::nd_drop_malformed);
}

// Random frames and random single-byte corruptions of good frames: nothing crashes (ASan and
// UBSan watch in CI), every frame is either answered or dropped into a counter, and no mbuf
// leaks (checked in TearDown).
TEST_F(NetTest, RandomAndCorruptedFramesNeverCrashAndAreAccounted) {
  std::mt19937 rng(12345);
  LearnClient();
  const std::vector<Bytes> seeds = {
      ClientIcmp(
          testing::Ipv4(V4("10.10.1.2"), V4("10.10.1.1"), 1, testing::IcmpEcho(8, 1, 1, 16))),
      ClientV6(
          testing::Ipv6(V6("fd10:1::2"), V6("fd10:1::1"), 58, testing::Icmp6Echo(128, 1, 1, 16))),
      ClientV6(testing::Ipv6(V6("fd10:1::2"), V6("fd10:1::1").SolicitedNode(), 58,
                             testing::NdMessage(135, 0, V6("fd10:1::1"), 1, kClientMac), 255)),
      testing::Eth(kBroadcast, kClientMac, 0x0806,
                   testing::Arp(1, kClientMac, V4("10.10.1.2"), MacAddr{}, V4("10.10.1.1"))),
  };
  uint64_t fed = 0;
  for (int i = 0; i < 20000; ++i) {
    Bytes f;
    if (i % 4 == 0) {
      f.resize(rng() % 200);
      for (auto& b : f) b = static_cast<uint8_t>(rng());
      if (f.size() >= 14 && (i % 8 == 0)) std::memcpy(f.data(), kOurMac0.b.data(), 6);
    } else {
      f = seeds[rng() % seeds.size()];
      const size_t pos = rng() % f.size();
      f[pos] = static_cast<uint8_t>(rng());
      if (rng() % 4 == 0) f.resize(rng() % (f.size() + 1));
    }
    Feed(f);
    ++fed;
    TakeTx(0);
  }
  const uint64_t answered = C(Counter::arp_replies_sent) + C(Counter::icmp_echo_replies) +
                            C(Counter::icmp6_echo_replies) + C(Counter::nd_adverts_sent);
  EXPECT_GT(counters_->DropsTotal(), fed / 2);
  // A reply can itself be dropped on output (no route for a corrupted source), so a frame
  // may count twice: once answered, once dropped.
  EXPECT_LE(counters_->DropsTotal(), fed + answered);
}

}  // namespace
}  // namespace sluice::net
