// What OpenSSL's own work costs the server side of a TLS handshake, with nothing of Sluice
// around it (docs/tls.md "Speed"): a client and a server in one thread joined by a BIO pair,
// the server's contexts set as Sluice sets them (no session cache, tickets, TLS 1.3, X25519).
// Only the server's calls are timed (SSL_new, SSL_do_handshake until it is over and its
// tickets are written, SSL_free): the floor under any proxy's CPU per handshake with this
// library, full (RSA 2048, ECDSA P-256: the signature and the key exchange) and resumed with
// a ticket (the key exchange and the ticket's decryption only), and resumed on two threads at
// once (the cost of what OpenSSL shares between threads).
#include <benchmark/benchmark.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace {

EVP_PKEY* MakeKey(bool ecdsa) {
  return ecdsa ? EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")
               : EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048));
}

// As Sluice's (tls_ctx.cc): the name is acknowledged, so it is kept in the session.
int AckName(SSL*, int*, void*) { return SSL_TLSEXT_ERR_OK; }


// A server context with a self-signed certificate of the kind asked for.
SSL_CTX* ServerCtx(bool ecdsa) {
  EVP_PKEY* key = MakeKey(ecdsa);
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), 0);
  X509_gmtime_adj(X509_getm_notAfter(x), 86400);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("bench.test"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509_sign(x, key, EVP_sha256());
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  SSL_CTX_use_certificate(ctx, x);
  SSL_CTX_use_PrivateKey(ctx, key);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_tlsext_servername_callback(ctx, &AckName);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  static constexpr unsigned char kSidCtx[] = {'h', 'a', 'p', 'r', 'o', 'x', 'y'};
  SSL_CTX_set_session_id_context(ctx, kSidCtx, sizeof kSidCtx);
  unsigned char keys[80] = {1, 2, 3};  // drawn at start in Sluice; fixed here
  SSL_CTX_set_tlsext_ticket_keys(ctx, keys, sizeof keys);
  X509_free(x);
  EVP_PKEY_free(key);
  return ctx;
}

// The client's last session with a ticket (what s_client -sess_out keeps).
thread_local SSL_SESSION* g_last = nullptr;
int KeepSession(SSL*, SSL_SESSION* sess) {
  SSL_SESSION_free(g_last);
  g_last = sess;
  return 1;  // the reference is ours
}

SSL_CTX* ClientCtx() {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(ctx, &KeepSession);
  return ctx;
}

using Clock = std::chrono::steady_clock;

// One handshake; returns the server's time in seconds and, when `out` is given, the
// client's session with its ticket (for resumption).
double Handshake(SSL_CTX* sctx, SSL_CTX* cctx, SSL_SESSION* resume, SSL_SESSION** out) {
  BIO* cb = nullptr;
  BIO* sb = nullptr;
  BIO_new_bio_pair(&cb, 0, &sb, 0);
  SSL* c = SSL_new(cctx);
  SSL_set_bio(c, cb, cb);
  SSL_set_connect_state(c);
  SSL_set_tlsext_host_name(c, "bench.test");
  if (resume) SSL_set_session(c, resume);
  auto t0 = Clock::now();
  SSL* s = SSL_new(sctx);
  SSL_set_bio(s, sb, sb);
  SSL_set_accept_state(s);
  Clock::duration server = Clock::now() - t0;
  bool c_done = false, s_done = false;
  for (int round = 0; round < 20 && !(c_done && s_done); ++round) {
    if (!c_done) c_done = SSL_do_handshake(c) == 1;
    t0 = Clock::now();
    if (!s_done) s_done = SSL_do_handshake(s) == 1;
    server += Clock::now() - t0;
  }
  if (!c_done || !s_done) {
    std::fprintf(stderr, "handshake did not finish\n");
    std::abort();
  }
  // The client reads the tickets the server wrote once it was done.
  char buf[1];
  SSL_read(c, buf, sizeof buf);
  if (resume && !SSL_session_reused(c)) {
    std::fprintf(stderr, "session not resumed\n");
    std::abort();
  }
  if (out) {
    *out = g_last;
    g_last = nullptr;
    if (!*out || !SSL_SESSION_has_ticket(*out)) {
      std::fprintf(stderr, "no ticket received\n");
      std::abort();
    }
  }
  // Closed cleanly (no close_notify exchanged: marked so), else OpenSSL makes the client's
  // session unresumable when the object is freed.
  SSL_set_shutdown(c, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
  t0 = Clock::now();
  SSL_set_shutdown(s, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
  SSL_free(s);
  server += Clock::now() - t0;
  SSL_free(c);
  return std::chrono::duration<double>(server).count();
}

void BM_TlsServerFullHandshake(benchmark::State& state) {
  SSL_CTX* sctx = ServerCtx(state.range(0) == 1);
  SSL_CTX* cctx = ClientCtx();
  for (auto _ : state) state.SetIterationTime(Handshake(sctx, cctx, nullptr, nullptr));
  state.SetLabel(state.range(0) == 1 ? "ecdsa256" : "rsa2048");
  SSL_CTX_free(cctx);
  SSL_CTX_free(sctx);
}
BENCHMARK(BM_TlsServerFullHandshake)
    ->Arg(0)
    ->Arg(1)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

void BM_TlsServerResumedHandshake(benchmark::State& state) {
  SSL_CTX* sctx = ServerCtx(state.range(0) == 1);
  SSL_CTX* cctx = ClientCtx();
  SSL_SESSION* sess = nullptr;
  Handshake(sctx, cctx, nullptr, &sess);
  // Each resumption with the ticket the last one brought (a TLS 1.3 client uses a ticket
  // once: OpenSSL's client does not offer a session it resumed already).
  for (auto _ : state) {
    SSL_SESSION* next = nullptr;
    state.SetIterationTime(Handshake(sctx, cctx, sess, &next));
    SSL_SESSION_free(sess);
    sess = next;
  }
  state.SetLabel(state.range(0) == 1 ? "ecdsa256" : "rsa2048");
  SSL_SESSION_free(sess);
  SSL_CTX_free(cctx);
  SSL_CTX_free(sctx);
}
BENCHMARK(BM_TlsServerResumedHandshake)
    ->Arg(0)
    ->Arg(1)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);
// Two threads, each with contexts of its own (as two workers): what OpenSSL 3's state shared
// by every thread of the process (its providers' and names' locks) adds per handshake when
// both run at once, against the one-thread figure above.
BENCHMARK(BM_TlsServerResumedHandshake)
    ->Arg(1)
    ->Threads(2)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

// The fixed part: a server connection's object made and freed, no byte exchanged.
void BM_TlsServerSslNewFree(benchmark::State& state) {
  SSL_CTX* sctx = ServerCtx(false);
  for (auto _ : state) {
    SSL* s = SSL_new(sctx);
    benchmark::DoNotOptimize(s);
    SSL_free(s);
  }
  SSL_CTX_free(sctx);
}
BENCHMARK(BM_TlsServerSslNewFree)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
