// TLS on one worker's connections (tls.h).
#include "dataplane/tls/tls.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include <cstddef>
#include <cstring>

#include "dataplane/counters/counters.h"

namespace sluice::tls {

using counters::Counter;

namespace {
// Bytes a record adds to its plaintext, at most (header, tag, padding of the ciphers in use):
// room asked of the TCP send queue beyond the plaintext before a write.
constexpr uint32_t kRecordOverhead = 64;
// ssl_c_s_dn: OpenSSL's one-line form ("/C=FR/CN=name"), HAProxy's default, into the caller's
// buffer (no allocation).
uint32_t SubjectDn(const void* peer, char* out, uint32_t cap) {
  if (!peer || cap == 0) return 0;
  X509_NAME* name = X509_get_subject_name(static_cast<const X509*>(peer));
  if (!name || !X509_NAME_oneline(name, out, static_cast<int>(cap))) return 0;
  return static_cast<uint32_t>(std::strlen(out));
}

}  // namespace

TlsSnap::~TlsSnap() {
  for (auto& row : binds) {
    for (SSL_CTX* ctx : row) SSL_CTX_free(ctx);
  }
  for (auto& row : servers) {
    for (SSL_CTX* ctx : row) SSL_CTX_free(ctx);
  }
  EVP_CIPHER_free(cbc128);
  EVP_CIPHER_free(cbc256);
}

TlsConns::~TlsConns() {
  if (!conns_) return;
  tcp_ = nullptr;  // the stack may be gone: nothing is counted from here
  for (uint32_t c = 0; c < nconns_; ++c) Free(conns_[c]);
  rte_free(conns_);
}

bool TlsConns::Init(const char* name, const Setup& setup, tcp::TcpStack* tcp,
                    tcp::TcpUser* upper, base::Timers* timers, int socket_id) {
  s_ = setup;
  tcp_ = tcp;
  upper_ = upper;
  timers_ = timers;
  nconns_ = setup.max_conns + 1;
  void* mem = rte_zmalloc_socket(name, sizeof(Conn) * nconns_, 64, socket_id);
  if (!mem) return false;
  conns_ = static_cast<Conn*>(mem);
  for (uint32_t c = 0; c < nconns_; ++c) new (&conns_[c]) Conn();
  return true;
}

bool TlsConns::Terminates(uint32_t bind) const noexcept {
  return snap_ && bind < snap_->binds.size() && !snap_->binds[bind].empty();
}

SSL* TlsConns::NewSsl(SSL_CTX* const* ctxs, size_t n) noexcept {
  SSL* ssl = SSL_new(ctxs[s_.worker < n ? s_.worker : n - 1]);
  BIO* rbio = ssl ? BIO_new(BIO_s_mem()) : nullptr;
  BIO* wbio = rbio ? BIO_new(BIO_s_mem()) : nullptr;
  if (!wbio) {
    BIO_free(rbio);
    SSL_free(ssl);
    ERR_clear_error();
    tcp_->counters().Inc(Counter::tls_drop_no_memory);
    return nullptr;
  }
  SSL_set_bio(ssl, rbio, wbio);
  SSL_set_app_data(ssl, this);  // the ticket callback's way back (tls_ctx.cc)
  tcp_->counters().Inc(Counter::tls_conns_opened);
  return ssl;
}

bool TlsConns::Connect(ConnId c, uint32_t server, std::string_view sni_value) noexcept {
  if (!snap_ || server >= snap_->servers.size() || snap_->servers[server].empty()) return true;
  if (c >= nconns_) return false;
  Conn& t = conns_[c];
  Free(t);
  SSL* ssl = NewSsl(snap_->servers[server].data(), snap_->servers[server].size());
  if (!ssl) return false;
  SSL_set_connect_state(ssl);
  const char* sni = snap_->server_sni[server].c_str();
  char name[256];  // a host name is at most 255 bytes (RFC 1035); longer values are not sent
  if (!sni_value.empty() && sni_value.size() < sizeof name &&
      sni_value.find('\0') == std::string_view::npos) {
    std::memcpy(name, sni_value.data(), sni_value.size());
    name[sni_value.size()] = '\0';
    sni = name;
  }
  if (*sni) {
    SSL_set_tlsext_host_name(ssl, sni);
    // With `verify required`, the certificate must name the server asked for.
    if (SSL_get_verify_mode(ssl) != SSL_VERIFY_NONE) SSL_set1_host(ssl, sni);
  }
  t.ssl = ssl;
  t.client = true;
  t.bind = UINT32_MAX;
  return true;
}

void TlsConns::OnConnected(ConnId c) noexcept {
  Conn& t = conns_[c];
  const int r = SSL_do_handshake(t.ssl);  // the ClientHello, into the write BIO
  const int err = SSL_get_error(t.ssl, r);
  if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
    tcp_->counters().Inc(Counter::tls_drop_handshake_failed);
    return Fail(c, t);
  }
  FlushOut(c, t);
}

bool TlsConns::Accept(ConnId c, uint32_t tag, uint32_t bind) noexcept {
  if (c >= nconns_ || !Terminates(bind)) return false;
  Conn& t = conns_[c];
  Free(t);
  SSL* ssl = NewSsl(snap_->binds[bind].data(), snap_->binds[bind].size());
  if (!ssl) return false;
  SSL_set_accept_state(ssl);
  t.ssl = ssl;
  t.tag = tag;
  t.bind = bind;
  const uint32_t ms = bind < snap_->handshake_ms.size() ? snap_->handshake_ms[bind] : 0;
  if (ms) timers_->Arm(&t.timer, tcp_->now_us() / 1000 + ms);
  return true;
}

void TlsConns::OnTimer(base::TimerNode* n) noexcept {
  Conn* t = reinterpret_cast<Conn*>(reinterpret_cast<char*>(n) - offsetof(Conn, timer));
  const ConnId c = static_cast<ConnId>(t - conns_);
  if (c >= nconns_ || !t->ssl || t->established) return;
  tcp_->counters().Inc(Counter::tls_drop_handshake_timeout);
  tcp_->Abort(c);  // OnClosed frees the state
}

void TlsConns::Free(Conn& t) noexcept {
  if (timers_) timers_->Cancel(&t.timer);
  if (t.ssl) {
    SSL_free(t.ssl);
    if (tcp_) tcp_->counters().Inc(Counter::tls_conns_freed);
  }
  if (t.out_head) rte_pktmbuf_free(t.out_head);
  t = Conn();
}

bool TlsConns::SendPending(ConnId c, Conn& t) noexcept {
  if (!t.out_head) return true;
  if (!tcp_->Send(c, t.out_head)) {
    tcp_->WantWritable(c);
    return false;
  }
  t.out_head = t.out_tail = nullptr;
  return true;
}

bool TlsConns::FlushOut(ConnId c, Conn& t) noexcept {
  BIO* wbio = SSL_get_wbio(t.ssl);
  while (BIO_ctrl_pending(wbio) > 0) {
    rte_mbuf* m = rte_pktmbuf_alloc(s_.pool);
    if (!m) {
      tcp_->counters().Inc(Counter::tls_drop_no_mbuf);
      return false;
    }
    const int n = BIO_read(wbio, rte_pktmbuf_mtod(m, char*), rte_pktmbuf_tailroom(m));
    if (n <= 0) {
      rte_pktmbuf_free(m);
      break;
    }
    m->data_len = static_cast<uint16_t>(n);
    m->pkt_len = static_cast<uint32_t>(n);
    if (t.out_tail) {
      t.out_tail->next = m;
      t.out_head->nb_segs = static_cast<uint16_t>(t.out_head->nb_segs + 1);
      t.out_head->pkt_len += static_cast<uint32_t>(n);
    } else {
      t.out_head = m;
    }
    t.out_tail = m;
  }
  return SendPending(c, t);
}

void TlsConns::Release(ConnId c, Conn& t) noexcept {
  if (t.cipher_held <= t.plain_held) return;
  const uint32_t n = t.cipher_held - t.plain_held;
  t.cipher_held -= n;
  tcp_->Consumed(c, n);
}

void TlsConns::Fail(ConnId c, Conn& t) noexcept {
  ERR_clear_error();
  t.failed = true;
  FlushOut(c, t);  // the alert, if OpenSSL wrote one
  tcp_->Abort(c);  // OnClosed frees the state and tells an owner
}

void TlsConns::Learn(Conn& t) noexcept {
  base::TlsFacts& f = t.facts;
  f.sni = SSL_get_servername(t.ssl, TLSEXT_NAMETYPE_host_name);
  if (const SSL_CIPHER* ci = SSL_get_current_cipher(t.ssl)) {
    f.cipher = SSL_CIPHER_get_name(ci);
    f.cipher_id = static_cast<uint16_t>(SSL_CIPHER_get_protocol_id(ci));
  }
  f.version = static_cast<uint16_t>(SSL_version(t.ssl));
  const unsigned char* alpn = nullptr;
  unsigned int alpn_len = 0;
  SSL_get0_alpn_selected(t.ssl, &alpn, &alpn_len);
  if (alpn_len) {
    f.alpn = alpn;
    f.alpn_len = alpn_len;
  }
  f.reused = SSL_session_reused(t.ssl) == 1;
  const X509* peer = SSL_get0_peer_certificate(t.ssl);
  f.client_cert = peer != nullptr;
  f.verify_result = static_cast<int32_t>(SSL_get_verify_result(t.ssl));
  f.peer = peer;
  f.subject_dn = &SubjectDn;
}

void TlsConns::OnData(ConnId c, rte_mbuf* data, uint32_t len) noexcept {
  Conn& t = conns_[c];
  SSL* const ssl = t.ssl;
  t.cipher_held += len;
  BIO* rbio = SSL_get_rbio(ssl);
  for (rte_mbuf* m = data; m; m = m->next) {
    if (m->data_len) BIO_write(rbio, rte_pktmbuf_mtod(m, const void*), m->data_len);
  }
  rte_pktmbuf_free(data);
  if (t.failed) return Release(c, t);
  active_bind_ = t.bind;
  bool just_established = false;
  if (!t.established) {
    const int r = SSL_do_handshake(ssl);
    if (r != 1) {
      const int err = SSL_get_error(ssl, r);
      if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
        tcp_->counters().Inc(Counter::tls_drop_handshake_failed);
        return Fail(c, t);
      }
      FlushOut(c, t);
      return Release(c, t);
    }
    t.established = just_established = true;
    timers_->Cancel(&t.timer);
    Learn(t);
    tcp_->counters().Inc(t.client                ? Counter::tls_server_handshakes
                         : SSL_session_reused(ssl) ? Counter::tls_handshakes_resumed
                                                   : Counter::tls_handshakes);
  }
  rte_mbuf* head = nullptr;
  rte_mbuf* tail = nullptr;
  uint32_t plain = 0;
  bool eof = false;
  for (;;) {
    rte_mbuf* m = rte_pktmbuf_alloc(s_.pool);
    if (!m) {
      tcp_->counters().Inc(Counter::tls_drop_no_mbuf);
      break;
    }
    size_t n = 0;
    if (SSL_read_ex(ssl, rte_pktmbuf_mtod(m, void*), rte_pktmbuf_tailroom(m), &n) == 1) {
      m->data_len = static_cast<uint16_t>(n);
      m->pkt_len = static_cast<uint32_t>(n);
      if (tail) {
        tail->next = m;
      } else {
        head = m;
      }
      tail = m;
      plain += static_cast<uint32_t>(n);
      continue;
    }
    rte_pktmbuf_free(m);
    const int err = SSL_get_error(ssl, 0);
    if (err == SSL_ERROR_ZERO_RETURN) {
      eof = true;  // close_notify
    } else if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
      if (head) rte_pktmbuf_free(head);
      tcp_->counters().Inc(Counter::tls_drop_bad_record);
      return Fail(c, t);
    }
    break;
  }
  FlushOut(c, t);  // handshake answers, session tickets, key updates
  t.plain_held += plain;
  Release(c, t);
  if (just_established) {
    if (t.client) {
      upper_->OnConnected(c);
    } else {
      upper_->OnAccepted(c, t.tag);
    }
    if (conns_[c].ssl != ssl) {  // refused or reset: the state is gone
      if (head) rte_pktmbuf_free(head);
      return;
    }
  }
  if (head) upper_->OnData(c, head, plain);
  if (eof && conns_[c].ssl == ssl && !t.peer_closed) {
    t.peer_closed = true;
    upper_->OnPeerClosed(c);
  }
}

void TlsConns::OnWritable(ConnId c) noexcept {
  Conn& t = conns_[c];
  if (!SendPending(c, t)) return;
  if (!t.established) return;
  t.want_write = false;
  upper_->OnWritable(c);
}

void TlsConns::OnPeerClosed(ConnId c) noexcept {
  Conn& t = conns_[c];
  if (!t.established) {  // a client that left mid-handshake: no owner to tell
    tcp_->counters().Inc(Counter::tls_drop_handshake_aborted);
    tcp_->Abort(c);
    return;
  }
  if (t.peer_closed) return;
  t.peer_closed = true;
  upper_->OnPeerClosed(c);
}

void TlsConns::OnClosed(ConnId c, tcp::CloseReason why) noexcept {
  Free(conns_[c]);
  upper_->OnClosed(c, why);
}

bool TlsConns::Send(ConnId c, rte_mbuf* data) noexcept {
  Conn& t = conns_[c];
  if (t.failed) {
    rte_pktmbuf_free(data);
    return true;
  }
  if (!t.established || t.out_head ||
      tcp_->SendSpace(c) < data->pkt_len + kRecordOverhead * data->nb_segs) {
    t.want_write = true;
    tcp_->WantWritable(c);
    return false;
  }
  for (rte_mbuf* m = data; m; m = m->next) {
    size_t n = 0;
    if (m->data_len &&
        SSL_write_ex(t.ssl, rte_pktmbuf_mtod(m, const void*), m->data_len, &n) != 1) {
      // Not reset from here: the owner is inside its own send loop. The connection drops
      // what comes and goes from now on; the owner's timeouts end it.
      tcp_->counters().Inc(Counter::tls_drop_bad_record);
      rte_pktmbuf_free(data);
      ERR_clear_error();
      t.failed = true;
      return true;
    }
  }
  rte_pktmbuf_free(data);
  FlushOut(c, t);
  return true;
}

void TlsConns::Consumed(ConnId c, uint32_t bytes) noexcept {
  Conn& t = conns_[c];
  t.plain_held = bytes < t.plain_held ? t.plain_held - bytes : 0;
  Release(c, t);
}

void TlsConns::Shutdown(ConnId c) noexcept {
  Conn& t = conns_[c];
  if (t.established && !t.failed) {
    SSL_shutdown(t.ssl);  // close_notify; the peer's is not waited for
    ERR_clear_error();
    FlushOut(c, t);
  }
  tcp_->Shutdown(c);
}

}  // namespace sluice::tls
