#include "dataplane/services/test_services.h"

#include <rte_malloc.h>
#include <rte_mbuf.h>

#include <new>

namespace sluice::services {

TestServices::~TestServices() {
  if (conns_) {
    for (uint32_t i = 0; i < nconns_; ++i) {
      if (conns_[i].pending) rte_pktmbuf_free(conns_[i].pending);
    }
    rte_free(conns_);
  }
}

bool TestServices::Init(const char* name, tcp::TcpStack* stack, rte_mempool* pool,
                        uint32_t max_conns, int socket_id) {
  stack_ = stack;
  pool_ = pool;
  nconns_ = max_conns + 1;
  void* mem = rte_zmalloc_socket(name, sizeof(Conn) * nconns_, 64, socket_id);
  if (!mem) return false;
  conns_ = static_cast<Conn*>(mem);
  for (uint32_t i = 0; i < nconns_; ++i) new (&conns_[i]) Conn();
  return true;
}

void TestServices::OnAccepted(tcp::ConnId c, uint32_t tag) noexcept {
  Conn& s = conns_[c];
  s = Conn{};
  s.kind = kinds_[tag % kMaxServices];
  if (s.kind == Kind::kSource) FillSource(c);
}

void TestServices::OnConnected(tcp::ConnId c) noexcept { conns_[c] = Conn{}; }

void TestServices::FillSource(tcp::ConnId c) noexcept {
  Conn& s = conns_[c];
  while (!s.peer_closed) {
    const uint32_t space = stack_->SendSpace(c);
    if (space < 1024) {
      stack_->WantWritable(c);  // OnWritable comes back when ACKs free space
      return;
    }
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    if (!m) return;
    const uint32_t room = rte_pktmbuf_tailroom(m);
    uint32_t len = room < 1448 ? room : 1448;
    if (len > space) len = space;
    auto* p = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, static_cast<uint16_t>(len)));
    for (uint32_t i = 0; i < len; ++i) p[i] = static_cast<uint8_t>((s.source_offset + i) % 251);
    if (!stack_->Send(c, m)) {
      rte_pktmbuf_free(m);
      return;
    }
    s.source_offset += len;
  }
}

void TestServices::FlushEcho(tcp::ConnId c) noexcept {
  // What waits goes as far as the send queue takes it, whole segments at a time: sent as one
  // chain it could only go once the queue was nearly empty, so one lost segment at the end of
  // the queue held the echo (and, by the closed window, the peer) until it was acknowledged.
  Conn& s = conns_[c];
  while (s.pending) {
    const uint32_t space = stack_->SendSpace(c);
    rte_mbuf* head = s.pending;
    rte_mbuf* last = nullptr;
    uint32_t len = 0;
    uint16_t n = 0;
    for (rte_mbuf* seg = head; seg && len + seg->data_len <= space; seg = seg->next) {
      len += seg->data_len;
      ++n;
      last = seg;
    }
    if (n == 0) {
      stack_->WantWritable(c);  // kept: the window stays closed until it goes
      return;
    }
    rte_mbuf* rest = last->next;
    if (rest) {  // split the chain after `last`
      rest->nb_segs = static_cast<uint16_t>(head->nb_segs - n);
      rest->pkt_len = s.pending_len - len;
      last->next = nullptr;
      head->nb_segs = n;
      head->pkt_len = len;
    }
    if (!stack_->Send(c, head)) {  // the ring is full: join again and wait
      if (rest) {
        last->next = rest;
        head->nb_segs = static_cast<uint16_t>(head->nb_segs + rest->nb_segs);
        head->pkt_len = s.pending_len;
      }
      return;
    }
    s.pending = rest;
    s.pending_len -= len;
    stack_->Consumed(c, len);
  }
  if (s.peer_closed) stack_->Shutdown(c);
}

void TestServices::OnData(tcp::ConnId c, rte_mbuf* data, uint32_t len) noexcept {
  Conn& s = conns_[c];
  switch (s.kind) {
    case Kind::kEcho:
      if (s.pending) {
        // Chain behind what waits; the receive window bounds how much can pile up.
        if (rte_pktmbuf_chain(s.pending, data) != 0) {
          rte_pktmbuf_free(data);
          stack_->Consumed(c, len);  // cannot keep it: lost for the echo, counted by the peer
          return;
        }
        s.pending_len += len;
      } else {
        s.pending = data;
        s.pending_len = len;
      }
      FlushEcho(c);
      return;
    case Kind::kDiscard:
    case Kind::kSource:
    case Kind::kNone:
      rte_pktmbuf_free(data);
      stack_->Consumed(c, len);
      return;
  }
}

void TestServices::OnWritable(tcp::ConnId c) noexcept {
  Conn& s = conns_[c];
  if (s.kind == Kind::kEcho) FlushEcho(c);
  if (s.kind == Kind::kSource) FillSource(c);
}

void TestServices::OnPeerClosed(tcp::ConnId c) noexcept {
  Conn& s = conns_[c];
  s.peer_closed = true;
  // Echo: close once everything is echoed. Discard and source: close now.
  if (s.kind != Kind::kEcho || !s.pending) stack_->Shutdown(c);
}

void TestServices::OnClosed(tcp::ConnId c, tcp::CloseReason) noexcept {
  Conn& s = conns_[c];
  if (s.pending) rte_pktmbuf_free(s.pending);
  s = Conn{};
}

}  // namespace sluice::services
