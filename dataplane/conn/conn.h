// Connections of one worker: the endpoint layer between the TCP stack and the modules that
// own connections (DESIGN.md section 8). It routes each connection id to its owner (a proxy
// session's client or server side, a health check; connections it does not know belong to
// the test services), opens outgoing connections from a source address and a local port
// this worker owns (DESIGN.md section 2), and carries the endpoint operations (send,
// consumed, shutdown, abort). Only TCP endpoints exist today; a TLS endpoint will sit behind
// the same operations, so the modules above never call the TCP stack for their data: a
// connection the TLS layer terminates (tls::TlsConns) is written, consumed and shut through
// it, in plaintext.
//
// Re-entrancy rule: the TCP stack may call OnClosed() from inside Abort() and Shutdown().
// Before a module aborts one of its own connections it detaches it (AbortDetached), so the
// callback finds no owner and the module finishes what it owned itself.
#pragma once

#include <cstdint>
#include <string_view>

#include "dataplane/base/assert.h"
#include "dataplane/conn/idle_pool.h"
#include "dataplane/tcp/tcp.h"
#include "dataplane/tls/tls.h"

struct rte_mbuf;

namespace sluice::net {
class NetStack;
}

namespace sluice::conn {

using tcp::ConnId;
using tcp::kNoConn;

// Who receives a connection's events; with it, an index in the owner's table.
enum Role : uint32_t {
  kNone = 0,    // not ours: the test services'
  kClient = 1,  // a proxy session's client side
  kServer = 2,  // a proxy session's server side
  kCheck = 3,   // a health check's
  kIdle = 4,    // an idle server connection in the pool (index: its pool slot)
  kClosing = 5,  // closed by its owner, which let go of it: events are only drained
};


class Conns {
 public:
  struct Setup {
    uint16_t worker = 0;
    uint16_t nworkers = 1;
    uint16_t local_port_min = 32768;  // outgoing connections' local ports (DESIGN.md section 2)
    uint16_t local_port_max = 60999;
    uint32_t max_conns = 4096;  // the TCP stack's table size
    uint32_t idle_conns = 1024;  // the pool of idle server connections' bound
    uint32_t nservers = 1;       // server indices the pool takes: 0 .. nservers - 1
  };

  Conns() = default;
  Conns(const Conns&) = delete;
  Conns& operator=(const Conns&) = delete;
  ~Conns();

  // Start-up only (allocates the routing table).
  bool Init(const char* name, const Setup& setup, tcp::TcpStack* tcp, net::NetStack* net,
            int socket_id);

  // Routing. `c` is an id the TCP stack gave: always inside the table.
  uint32_t Ref(ConnId c) const noexcept {
    LB_ASSERT(c < nrefs_);
    return refs_[c];
  }
  static Role RoleOfRef(uint32_t ref) noexcept { return static_cast<Role>(ref & 7); }
  static uint32_t IndexOfRef(uint32_t ref) noexcept { return ref >> 3; }
  Role RoleOf(ConnId c) const noexcept { return RoleOfRef(Ref(c)); }
  uint32_t IndexOf(ConnId c) const noexcept { return IndexOfRef(Ref(c)); }
  // A proxy session's side (kClient or kServer).
  static bool IsSession(Role r) noexcept { return r == kClient || r == kServer; }
  void Attach(ConnId c, Role role, uint32_t index) noexcept {
    if (c < nrefs_) refs_[c] = (index << 3) | role;
  }
  void Detach(ConnId c) noexcept {
    if (c < nrefs_) refs_[c] = 0;
  }

  // Opens a connection to `addr`:`port` (network order) from a source address routed
  // towards it and a free local port of this worker's, attached to (role, index); `key`
  // receives its flow key. kNoConn when there is no route, no free port or no TCB (each
  // counted).
  ConnId Connect(const uint8_t* addr, bool is_v6, uint16_t port_be, Role role, uint32_t index,
                 tcp::FlowKey* key) noexcept;
  // Detaches *c, resets it (its OnClosed finds no owner) and clears *c.
  void AbortDetached(ConnId* c) noexcept {
    if (*c == kNoConn) return;
    const ConnId conn = *c;
    *c = kNoConn;
    Detach(conn);
    tcp_->Abort(conn);
  }

  // Sends a FIN on *c and lets go of it (clears *c): it becomes kClosing, whose data is
  // dropped and whose close needs no owner (an HTTP server connection that may not be
  // reused: a graceful close, where AbortDetached resets).
  void CloseDetached(ConnId* c) noexcept {
    if (*c == kNoConn) return;
    const ConnId conn = *c;
    *c = kNoConn;
    Attach(conn, kClosing, 0);
    Shutdown(conn);
  }

  // Endpoint operations.
  void Abort(ConnId c) noexcept { tcp_->Abort(c); }  // a connection not attached yet
  bool Send(ConnId c, rte_mbuf* data) noexcept {
    return IsTls(c) ? tls_->Send(c, data) : tcp_->Send(c, data);
  }
  void Consumed(ConnId c, uint32_t bytes) noexcept {
    IsTls(c) ? tls_->Consumed(c, bytes) : tcp_->Consumed(c, bytes);
  }
  void Shutdown(ConnId c) noexcept { IsTls(c) ? tls_->Shutdown(c) : tcp_->Shutdown(c); }
  // A connection just opened to `server` (Connect) speaks TLS when that server has `ssl`
  // (tls::TlsConns::Connect), sending `sni` when given (its `sni EXPR`'s value): false when
  // its TLS state cannot be made (reset it).
  bool StartTls(ConnId c, uint32_t server, std::string_view sni = {}) noexcept {
    return !tls_ || tls_->Connect(c, server, sni);
  }
  // The worker's TLS layer (start-up; null: no connection is TLS).
  void SetTls(tls::TlsConns* tls) noexcept { tls_ = tls; }
  bool IsTls(ConnId c) const noexcept { return tls_ && tls_->Is(c); }
  // What a TLS connection negotiated; null for a TCP one (or kNoConn).
  const base::TlsFacts* TlsFactsOf(ConnId c) const noexcept {
    return tls_ ? tls_->Facts(c) : nullptr;
  }

  // The pool of idle server connections (idle_pool.h). A stream that ends with its server
  // connection able to carry another request parks it (nothing in flight, still attached
  // to the stream): it becomes kIdle, or is reset when the pool is full. A stream about to
  // connect takes one first, attached to (role, index); kNoConn when there is none. TCP-mode
  // streams never park (a byte stream has no end of message to reuse after, as in
  // HAProxy); HTTP keep-alive towards servers does.
  // `purge_us`: how long it may stay unused (the server's `pool-purge-delay`; 0: for ever).
  void Park(ConnId c, uint32_t server, uint64_t purge_us) noexcept;
  ConnId TakeIdle(uint32_t server, Role role, uint32_t index) noexcept;
  bool HasIdle() const noexcept { return pool_.size() != 0; }
  // Any event of a parked connection (data, the peer's FIN, a close) takes it out of the
  // pool; it is reset unless `closed` says it is gone already. Counted.
  void OnIdleEvent(ConnId c, bool closed) noexcept;
  // Resets the connections idle longer than their purge delay (the worker calls it
  // periodically).
  void PurgeIdle() noexcept;
  const IdlePool& pool() const noexcept { return pool_; }

  tcp::TcpStack& tcp() { return *tcp_; }

 private:
  bool PickLocalPort(tcp::FlowKey* key) noexcept;

  Setup s_;
  tcp::TcpStack* tcp_ = nullptr;
  tls::TlsConns* tls_ = nullptr;
  net::NetStack* net_ = nullptr;
  uint32_t* refs_ = nullptr;  // per connection id: (index << 3) | role, 0 when not ours
  uint32_t nrefs_ = 0;
  uint16_t next_port_ = 0;
  IdlePool pool_;
};

}  // namespace sluice::conn
