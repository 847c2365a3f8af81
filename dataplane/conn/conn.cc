// Connections of one worker (conn.h).
#include "dataplane/conn/conn.h"

#include <rte_byteorder.h>
#include <rte_malloc.h>

#include <cstring>

#include "dataplane/net/net.h"

namespace sluice::conn {

Conns::~Conns() { rte_free(refs_); }

bool Conns::Init(const char* name, const Setup& setup, tcp::TcpStack* tcp, net::NetStack* net,
                 int socket_id) {
  s_ = setup;
  tcp_ = tcp;
  net_ = net;
  nrefs_ = setup.max_conns + 1;
  refs_ =
      static_cast<uint32_t*>(rte_zmalloc_socket(name, sizeof(uint32_t) * nrefs_, 64, socket_id));
  return refs_ != nullptr && pool_.Init(name, setup.idle_conns, setup.nservers, socket_id);
}

void Conns::Park(ConnId c, uint32_t server, uint64_t purge_us) noexcept {
  const uint32_t slot = pool_.Park(server, c, purge_us ? tcp_->now_us() + purge_us : UINT64_MAX);
  if (slot == IdlePool::kNone) {
    tcp_->counters().Inc(counters::Counter::conn_idle_pool_full);
    AbortDetached(&c);
    return;
  }
  Attach(c, kIdle, slot);
  tcp_->counters().Inc(counters::Counter::conn_idle_parked);
}

ConnId Conns::TakeIdle(uint32_t server, Role role, uint32_t index) noexcept {
  const ConnId c = pool_.Take(server);
  if (c == kNoConn) return kNoConn;
  Attach(c, role, index);
  tcp_->counters().Inc(counters::Counter::conn_idle_reused);
  return c;
}

void Conns::OnIdleEvent(ConnId c, bool closed) noexcept {
  if (pool_.Remove(IndexOf(c), c)) tcp_->counters().Inc(counters::Counter::conn_idle_lost);
  if (closed) return Detach(c);
  AbortDetached(&c);
}

void Conns::PurgeIdle() noexcept {
  const uint64_t now = tcp_->now_us();
  for (ConnId c = pool_.TakeExpired(now); c != kNoConn; c = pool_.TakeExpired(now)) {
    tcp_->counters().Inc(counters::Counter::conn_idle_purged);
    AbortDetached(&c);
  }
}

bool Conns::PickLocalPort(tcp::FlowKey* key) noexcept {
  const uint32_t lo = s_.local_port_min + s_.worker;
  if (lo > s_.local_port_max) return false;
  const uint32_t count = (s_.local_port_max - lo) / s_.nworkers + 1;
  // A bounded walk (each try is one hash lookup): with many connections per server and
  // TIME_WAIT entries, used ports come in runs, so the walk is long enough to cross them and
  // short enough to keep a worst-case connect under about 0.1 ms.
  const uint32_t max_tries = count < 1024 ? count : 1024;
  for (unsigned tries = 0; tries < max_tries; ++tries) {
    const uint32_t port = lo + (next_port_++ % count) * s_.nworkers;
    key->local_port = rte_cpu_to_be_16(static_cast<uint16_t>(port));
    if (!tcp_->InUse(*key)) return true;
  }
  tcp_->counters().Inc(counters::Counter::proxy_drop_no_local_port);
  return false;
}

ConnId Conns::Connect(const uint8_t* addr, bool is_v6, uint16_t port_be, Role role,
                      uint32_t index, tcp::FlowKey* key) noexcept {
  *key = tcp::FlowKey{};
  std::memcpy(key->remote_addr, addr, 16);
  key->remote_port = port_be;
  key->is_v6 = is_v6;
  if (!net_->SourceFor(addr, is_v6, key->local_addr)) {
    tcp_->counters().Inc(counters::Counter::proxy_drop_no_route);
    return kNoConn;
  }
  if (!PickLocalPort(key)) return kNoConn;
  const ConnId c = tcp_->Connect(*key);
  if (c != kNoConn) Attach(c, role, index);
  return c;
}

}  // namespace sluice::conn
