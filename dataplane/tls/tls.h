// TLS on one worker's connections (issue 16, docs/tls.md): the endpoint layer between the TCP
// stack and the connection's owner (conn::Conns routes the owner's operations here for a TLS
// connection; the worker routes the stack's events here first). Each worker runs its own
// OpenSSL objects, made from contexts of its own (TlsSnap: no context is shared between
// workers), and feeds them the records the TCP stack delivered through memory BIOs: the
// ciphertext is copied into OpenSSL and the plaintext it gives back is copied into new mbufs
// handed to the owner as the stack hands payload, so the owner (the proxy) reads and writes
// plaintext through the same operations as on a TCP connection.
//
// Flow control: the ciphertext a record came in is reported consumed to the TCP stack as the
// owner consumes the plaintext it gave (cipher_held less plain_held, at least), so the
// receive window bounds what waits here and above as it does for TCP.
//
// OpenSSL allocates (its records, its BIO buffers, its SSL objects): the one exception to the
// workers' no-allocation rule, contained here and in the allocator the workers give OpenSSL
// (docs/decisions/0016-tls-on-the-workers.md).
#pragma once

#include <cstdint>
#include <string_view>
#include <string>
#include <vector>

#include "dataplane/base/timer_wheel.h"
#include "dataplane/base/tls_facts.h"
#include "dataplane/snapshot/snapshot.h"
#include "dataplane/tcp/tcp.h"
#include "dataplane/tls/tls_ctx.h"

struct rte_mbuf;
struct rte_mempool;
typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;
typedef struct evp_cipher_st EVP_CIPHER;

namespace sluice::tls {

using tcp::ConnId;

// The snapshot part "tls": per bind index (as in proxy::ListenerSnap) and worker, the context
// a connection accepted there starts with; its SNI callback may switch the connection to
// another certificate's context (controlplane/tls). An empty row: the bind is not TLS.
// The part holds one reference on each context; connections hold their own.
struct TlsSnap : snapshot::Part {
  // slow path: the control plane fills it before publication; workers only index it
  std::vector<std::vector<SSL_CTX*>> binds;
  // slow path: the control plane fills it before publication; workers only index it
  std::vector<uint32_t> handshake_ms;  // per bind: its frontend's `timeout client`
  // slow path: the control plane fills it before publication; workers only index it
  std::vector<TicketKeys> tickets;  // per bind: its `tls-ticket-keys` (bits 0: none)
  // slow path: the control plane fills it before publication; workers only index it
  // Per server index (proxy::ProxyConfigSnap's) and worker: the client context of a server
  // with `ssl`; an empty row: plain TCP.
  std::vector<std::vector<SSL_CTX*>> servers;
  // slow path: the control plane fills it before publication; workers only index it
  std::vector<std::string> server_sni;  // per server: `sni str(NAME)`, empty: none sent
  // slow path: the control plane fills it before publication; workers only index it
  // Per certificate file (controlplane/tls OcspStore's slots): the DER OCSP response stapled
  // for it; empty: none.
  std::vector<std::string> ocsp;
  // AES-128-CBC and AES-256-CBC, fetched once for the tickets (no fetch per handshake).
  EVP_CIPHER* cbc128 = nullptr;
  EVP_CIPHER* cbc256 = nullptr;
  TlsSnap() = default;
  TlsSnap(const TlsSnap&) = delete;
  TlsSnap& operator=(const TlsSnap&) = delete;
  ~TlsSnap();
};

class TlsConns {
 public:
  struct Setup {
    rte_mempool* pool = nullptr;  // mbufs for plaintext up and ciphertext down
    uint16_t worker = 0;
    uint32_t max_conns = 4096;  // the TCP stack's table size
  };
  TlsConns() = default;
  TlsConns(const TlsConns&) = delete;
  TlsConns& operator=(const TlsConns&) = delete;
  ~TlsConns();

  // Start-up only (allocates the per-connection table). `upper` receives the plaintext
  // events of TLS connections (the worker's routing by role).
  bool Init(const char* name, const Setup& setup, tcp::TcpStack* tcp, tcp::TcpUser* upper,
            base::Timers* timers, int socket_id);
  // Once per loop iteration: the part of this iteration's snapshot (null: no TLS bind).
  void SetConfig(const TlsSnap* snap) noexcept { snap_ = snap; }

  bool Is(ConnId c) const noexcept { return c < nconns_ && conns_[c].ssl != nullptr; }
  // True when connections accepted on `bind` are TLS.
  bool Terminates(uint32_t bind) const noexcept;
  // Starts the server side of a handshake on an accepted connection of a TLS bind, before its
  // owner hears of it. False (counted) when OpenSSL cannot make the connection's object:
  // the caller resets the connection.
  // The owner hears of the connection (TcpUser::OnAccepted with `tag`) once the handshake is
  // over, as in HAProxy, where a stream starts after the handshake: a handshake that fails or
  // stalls past the frontend's `timeout client` is reset here and counted.
  bool Accept(ConnId c, uint32_t tag, uint32_t bind) noexcept;
  // A new connection's SSL object from this worker's context among `ctxs` (one per worker),
  // with its memory BIOs (null, counted, when OpenSSL cannot).
  SSL* NewSsl(SSL_CTX* const* ctxs, size_t n) noexcept;
  // Starts the client side of a handshake on a connection being opened to `server`, when
  // that server is TLS (true, nothing done, when it is not). The owner hears OnConnected once
  // the handshake is over (its connect timeout covers it). False (counted) when OpenSSL
  // cannot make the connection's object: the caller resets the connection. `sni`: the name
  // sent (a server's `sni EXPR` as evaluated); empty: its constant `sni str(NAME)`, if any.
  bool Connect(ConnId c, uint32_t server, std::string_view sni = {}) noexcept;
  // A due node of the worker's wheel whose owner is base::kTimerTls.
  void OnTimer(base::TimerNode* n) noexcept;

  // The TCP stack's events for a connection Is() is true of.
  void OnConnected(ConnId c) noexcept;  // a server connection: the ClientHello goes
  void OnData(ConnId c, rte_mbuf* data, uint32_t len) noexcept;
  void OnWritable(ConnId c) noexcept;
  void OnPeerClosed(ConnId c) noexcept;
  // Frees the connection's TLS state, then tells the owner.
  void OnClosed(ConnId c, tcp::CloseReason why) noexcept;

  // The owner's operations (conn::Conns), in plaintext. Send takes the chain when it returns
  // true, as TcpStack::Send; false: wait for OnWritable (before the handshake ends, or when
  // the TCP send queue has no room for the records).
  bool Send(ConnId c, rte_mbuf* data) noexcept;
  void Consumed(ConnId c, uint32_t bytes) noexcept;
  void Shutdown(ConnId c) noexcept;  // close_notify, then the TCP FIN

  // The ticket keys of the bind whose handshake runs now (the ticket callback's), and the
  // cipher for their size; null when the bind has no key file.
  const TicketKeys* ActiveTicketKeys() const noexcept {
    return snap_ && active_bind_ < snap_->tickets.size() && snap_->tickets[active_bind_].bits
               ? &snap_->tickets[active_bind_]
               : nullptr;
  }
  const EVP_CIPHER* TicketCipher(uint32_t bits) const noexcept {
    return bits == 128 ? snap_->cbc128 : snap_->cbc256;
  }

  // The OCSP response of `slot` in this iteration's snapshot (the status callback's); false
  // when there is none.
  bool OcspResponse(uint32_t slot, const char** der, size_t* len) const noexcept {
    if (!snap_ || slot >= snap_->ocsp.size() || snap_->ocsp[slot].empty()) return false;
    *der = snap_->ocsp[slot].data();
    *len = snap_->ocsp[slot].size();
    return true;
  }

  // What a connection negotiated (sample fetches and logs): null when it is not TLS or its
  // handshake is not over.
  const base::TlsFacts* Facts(ConnId c) const noexcept {
    return c < nconns_ && conns_[c].established ? &conns_[c].facts : nullptr;
  }

 private:
  struct Conn {
    base::TimerNode timer{base::kTimerTls};  // the handshake's deadline
    SSL* ssl = nullptr;
    uint32_t tag = 0;  // the listener's: the owner hears of the connection when the
                       // handshake is over, as accepted on it
    uint32_t bind = 0;
    rte_mbuf* out_head = nullptr;  // records the TCP send queue had no room for
    rte_mbuf* out_tail = nullptr;
    uint32_t plain_held = 0;   // plaintext given to the owner and not consumed
    uint32_t cipher_held = 0;  // ciphertext fed to OpenSSL and not reported consumed
    bool established = false;  // the handshake is over
    bool client = false;       // we connected (a server connection): OnConnected when over
    bool peer_closed = false;  // close_notify or FIN passed on to the owner
    bool want_write = false;   // the owner waits for OnWritable
    bool failed = false;       // a fatal alert was sent: the connection is being reset
    base::TlsFacts facts;      // once established
  };
  // Moves what OpenSSL wrote into mbufs on the TCP send queue (or the pending list).
  bool FlushOut(ConnId c, Conn& t) noexcept;
  bool SendPending(ConnId c, Conn& t) noexcept;
  void Release(ConnId c, Conn& t) noexcept;
  void Fail(ConnId c, Conn& t) noexcept;
  void Learn(Conn& t) noexcept;  // the facts, when the handshake ends
  void Free(Conn& t) noexcept;

  Setup s_;
  tcp::TcpStack* tcp_ = nullptr;
  tcp::TcpUser* upper_ = nullptr;
  base::Timers* timers_ = nullptr;
  const TlsSnap* snap_ = nullptr;
  Conn* conns_ = nullptr;
  uint32_t nconns_ = 0;
  uint32_t active_bind_ = UINT32_MAX;  // the bind of the connection OpenSSL works on
};

}  // namespace sluice::tls
