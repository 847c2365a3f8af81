// The TLS parts that need no connection: base64 as HAProxy reads keys, the ticket key files'
// numbering and rotation (HAProxy 2.6.12's, checked on the oracle), a key's layout, and the
// SNI match. Handshakes, tickets and the Runtime API: tests/integration/test_tls.py.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "controlplane/config/config.h"
#include "controlplane/tls/ticket_keys.h"
#include "dataplane/tls/tls_ctx.h"

namespace sluice {
namespace {

TEST(Tls, DecodeBase64) {
  EXPECT_EQ(config::DecodeBase64("aGVsbG8="), "hello");
  EXPECT_EQ(config::DecodeBase64("aGVsbG8h"), "hello!");
  EXPECT_EQ(config::DecodeBase64("aGVsbA=="), "hell");
  EXPECT_FALSE(config::DecodeBase64("notbase64!!"));  // HAProxy: invalid
  EXPECT_FALSE(config::DecodeBase64("aGVsbG8"));      // not a multiple of 4
  EXPECT_FALSE(config::DecodeBase64("aG=sbG8="));     // padding inside
  EXPECT_FALSE(config::DecodeBase64(""));
}

config::BindConfig KeyedBind(const std::string& file, char fill, size_t size = 48) {
  auto t = std::make_shared<config::BindTlsConfig>();
  t->ticket_keys_file = file;
  for (char k = 0; k < 3; ++k) {
    t->ticket_keys.push_back(std::string(size, static_cast<char>(fill + k)));
  }
  config::BindConfig b;
  b.tls = t;
  return b;
}

TEST(Tls, TicketKeyFilesNumberedAsHaproxy) {
  // Three binds: file A, no file, file B, then A again. HAProxy numbers the file named last 0.
  std::vector<config::BindConfig> binds = {KeyedBind("/a", 'a'), config::BindConfig{},
                                           KeyedBind("/b", 'x'), KeyedBind("/a", 'a')};
  std::vector<tls::BindInput> in;
  for (const auto& b : binds) in.push_back({&b, 0});
  tls::TicketKeyStore store(in);
  ASSERT_EQ(store.refs().size(), 2u);
  EXPECT_EQ(store.refs()[0].file, "/b");
  EXPECT_EQ(store.refs()[0].id, 0u);
  EXPECT_EQ(store.refs()[1].file, "/a");
  EXPECT_EQ(store.refs()[1].id, 1u);
  EXPECT_EQ(store.ForBind(1).bits, 0u);  // no file: OpenSSL's own keys
  EXPECT_EQ(store.ForBind(0).bits, 128u);
  EXPECT_EQ(store.ForBind(0).keys[1].name[0], 'b');  // 'a' + 1: the middle key
  EXPECT_EQ(store.ForBind(2).keys[0].name[0], 'x');
  // Rotation: the new key is the newest, the oldest goes; every bind of the file sees it.
  EXPECT_EQ(store.Rotate(1, std::string(48, 'z')), "");
  EXPECT_EQ(store.ForBind(0).keys[0].name[0], 'b');
  EXPECT_EQ(store.ForBind(3).keys[2].name[0], 'z');
  EXPECT_EQ(store.Rotate(1, std::string(80, 'z')),
            "'set ssl tls-key' received a key of wrong size.\n");
  EXPECT_EQ(store.ForBind(3).keys[2].name[0], 'z');
}

TEST(Tls, TicketKeyLayout) {
  std::string raw;
  for (int i = 0; i < 80; ++i) raw.push_back(static_cast<char>(i));
  tls::TicketKey k;
  ASSERT_TRUE(tls::ParseTicketKey(reinterpret_cast<const uint8_t*>(raw.data()), 80, &k));
  EXPECT_EQ(k.name[15], 15);
  EXPECT_EQ(k.aes[0], 16);   // name, then the AES key
  EXPECT_EQ(k.aes[31], 47);
  EXPECT_EQ(k.hmac[0], 48);  // then the HMAC key
  ASSERT_TRUE(tls::ParseTicketKey(reinterpret_cast<const uint8_t*>(raw.data()), 48, &k));
  EXPECT_EQ(k.aes[15], 31);
  EXPECT_EQ(k.hmac[0], 32);
  EXPECT_FALSE(tls::ParseTicketKey(reinterpret_cast<const uint8_t*>(raw.data()), 64, &k));
}

TEST(Tls, SniExactThenWildcard) {
  tls::CertSet set;
  set.names = {{"a.test", 0}, {"www.example.com", 2}, {"*.example.com", 1}, {"*.wild", 3}};
  EXPECT_EQ(tls::MatchSni(set, "a.test"), 0);
  EXPECT_EQ(tls::MatchSni(set, "A.TEST"), 0);
  EXPECT_EQ(tls::MatchSni(set, "www.example.com"), 2);
  EXPECT_EQ(tls::MatchSni(set, "api.example.com"), 1);
  EXPECT_EQ(tls::MatchSni(set, "x.y.example.com"), -1);  // one label only
  EXPECT_EQ(tls::MatchSni(set, "example.com"), -1);
  EXPECT_EQ(tls::MatchSni(set, ".example.com"), -1);
  EXPECT_EQ(tls::MatchSni(set, "b.test"), -1);
  EXPECT_EQ(tls::MatchSni(set, ""), -1);
}

TEST(Tls, SniServedByEcdsaAndRsa) {
  tls::CertSet set;
  set.names = {{"dual.test", 2, 1}, {"*.dual.test", 4, 3}, {"one.test", 0}};
  EXPECT_EQ(tls::MatchSni(set, "dual.test"), 2);
  EXPECT_EQ(tls::MatchSni(set, "dual.test", false), 1);
  EXPECT_EQ(tls::MatchSni(set, "x.dual.test", false), 3);
  EXPECT_EQ(tls::MatchSni(set, "one.test", false), 0);  // one kind only: served anyway
}

std::string_view Sni(const std::string& ext) {
  return tls::ClientHelloSni(reinterpret_cast<const uint8_t*>(ext.data()), ext.size());
}

TEST(Tls, ClientHelloServerName) {
  using namespace std::string_literals;
  EXPECT_EQ(Sni("\x00\x09\x00\x00\x06" "a.test"s), "a.test");
  EXPECT_EQ(Sni("\x00\x0a\x00\x00\x06" "a.test"s), "");      // list length off
  EXPECT_EQ(Sni("\x00\x09\x00\x00\x07" "a.test"s), "");      // name past the end
  EXPECT_EQ(Sni("\x00\x09\x00\x00\x06" "a.\0est"s), "");     // a NUL in the name
  EXPECT_EQ(Sni("\x00\x03\x00\x00\x00"s), "");            // empty name
  EXPECT_EQ(Sni("\x00\x0c\x05\x00\x00\x00\x00\x06" "a.test"s), "a.test");  // another type first
  EXPECT_EQ(Sni(""s), "");
}

bool Ecdsa(const std::string& ext, bool suite = true) {
  return tls::ClientOffersEcdsa(reinterpret_cast<const uint8_t*>(ext.data()), ext.size(), suite);
}

TEST(Tls, ClientOffersEcdsa) {
  using namespace std::string_literals;
  EXPECT_TRUE(Ecdsa("\x00\x04\x08\x04\x04\x03"s));          // rsa_pss_rsae, ecdsa_p256
  EXPECT_FALSE(Ecdsa("\x00\x04\x08\x04\x04\x03"s, false));  // no ECDSA suite offered
  EXPECT_FALSE(Ecdsa("\x00\x04\x08\x04\x04\x01"s));         // RSA only
  EXPECT_FALSE(Ecdsa("\x00\x02\x08\x04\x04\x03"s));         // the ECDSA pair past the length
  EXPECT_FALSE(Ecdsa("\x00\x02\x08\x07"s));                  // ed25519 is not ECDSA
  EXPECT_FALSE(Ecdsa(""s));                                    // no extension: RSA
}

}  // namespace
}  // namespace sluice
