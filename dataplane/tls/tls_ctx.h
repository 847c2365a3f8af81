// What a worker's handshake asks of a TLS bind's contexts (tls.h): the certificate for the
// client's SNI and the protocol for its ALPN offer. The control plane builds the contexts
// (controlplane/tls) and hangs a CertSet on each worker's first one; OpenSSL runs these
// callbacks inside the worker's SSL_do_handshake.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

typedef struct ssl_ctx_st SSL_CTX;

namespace sluice::tls {

// One worker's certificates of one bind.
struct CertSet {
  // ctxs[0] is the context connections start with (the first `crt`, served when no name
  // matches); the others are switched to by SNI. The set holds one reference on each but
  // the first, which holds the set (its ex_data; freed with it).
  // slow path: the control plane fills it before publication; workers only read it
  std::vector<SSL_CTX*> ctxs;
  static constexpr uint32_t kNoCtx = UINT32_MAX;
  struct Name {
    // slow path: filled before publication; lower case, "*.example.com" for a wildcard
    std::string name;
    uint32_t ctx = 0;
    // When an ECDSA and an RSA certificate both serve the name: ctx is the ECDSA one, served
    // to clients that can verify ECDSA signatures (as HAProxy prefers it), and rsa the other.
    uint32_t rsa = kNoCtx;
  };
  // slow path: filled before publication; exact names, then wildcards, each in `crt` order
  std::vector<Name> names;
  // slow path: filled before publication; names a crt-list line's SNI filters exclude from
  // its certificate's wildcards (`!x.example.com`): a wildcard entry of that ctx is skipped
  std::vector<Name> negatives;
  // slow path: filled before publication; per context: ALPN protocols in wire form (empty:
  // no ALPN answered)
  std::vector<std::string> alpn;
  // slow path: filled before publication; per context: the curves list when a crt-list line
  // gives its own (else empty)
  std::vector<std::string> curves;
  // What the ALPN callback of each context reads (alpn's bytes), made by Install.
  struct Wire {
    const unsigned char* data = nullptr;
    unsigned len = 0;
  };
  // slow path: made by Install before publication; workers only read it
  std::vector<Wire> alpn_wire;
  bool strict_sni = false;
  bool dual = false;  // a name has an ECDSA and an RSA certificate (Name::rsa)
  CertSet() = default;
  CertSet(const CertSet&) = delete;
  CertSet& operator=(const CertSet&) = delete;
  ~CertSet();
};

// Session-ticket keys loaded from a bind's `tls-ticket-keys` file, in HAProxy's layout (so
// HAProxy and Sluice loaded with one file resume each other's tickets): the key's name (the
// ticket's first 16 bytes), its AES-CBC key and its HMAC-SHA256 key, 16 bytes each for a
// 48-byte key (AES-128), 32 for an 80-byte one (AES-256).
struct TicketKey {
  uint8_t name[16];
  uint8_t aes[32];
  uint8_t hmac[32];
};
struct TicketKeys {
  uint32_t bits = 0;  // 128 or 256; 0: the bind has no key file (OpenSSL's own keys)
  TicketKey keys[3];  // oldest first: keys[1] encrypts, all three decrypt
};
// Splits a key as read from the file or `set ssl tls-key` (48 or 80 bytes).
bool ParseTicketKey(const uint8_t* raw, size_t len, TicketKey* out);

// Slow path, control plane: the context encrypts and decrypts its tickets with the keys the
// worker's current snapshot holds for the connection's bind (TlsConns::ActiveTicketKeys),
// read at each use, so a rotation takes effect at the next handshake.
bool UseTicketKeys(SSL_CTX* ctx);

// Slow path, control plane: the context staples the OCSP response the worker's current
// snapshot holds in `slot` (TlsSnap::ocsp) when a client asks for one (RFC 6066 section 8),
// read at each handshake, so `set ssl ocsp-response` takes effect at the next one.
bool UseOcsp(SSL_CTX* ctx, uint32_t slot);

// Slow path, control plane: hangs `set` on ctxs[0] (which then owns it) and installs the SNI
// and ALPN callbacks on every context of the set (alpn and curves: one per context, or
// empty). False when OpenSSL cannot.
bool Install(CertSet* set);

// The certificate a client naming `sni` gets: an index in set.ctxs, or -1 when none matches
// (exact names first, then a wildcard standing for the first label). `ecdsa`: whether the
// client can take an ECDSA certificate (ClientOffersEcdsa), for names served by both kinds.
int MatchSni(const CertSet& set, std::string_view sni, bool ecdsa = true);

// What a ClientHello says, read in OpenSSL's client hello callback (RFC 8446 section 4.2 and
// RFC 6066 section 3): the host name of its server_name extension (empty: none, or not a
// well-formed one), and whether an ECDSA certificate can be served to it: an ECDSA signature
// scheme in its signature_algorithms and an ECDSA or TLS 1.3 cipher suite offered.
std::string_view ClientHelloSni(const uint8_t* ext, size_t len);
bool ClientOffersEcdsa(const uint8_t* sigalgs, size_t sigalgs_len, bool has_ecdsa_suite);

}  // namespace sluice::tls
