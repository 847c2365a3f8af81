// Health checks (check.h).
#include "dataplane/check/check.h"

#include <rte_byteorder.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <cstring>
#include <new>

namespace sluice::check {

using conn::ConnId;
using conn::kNoConn;
using proxy::BackendSnap;
using proxy::kMaxServers;
using proxy::ServerSnap;
using proxy::ServerStats;

HealthChecks::~HealthChecks() {
  // The wheel is the worker's and outlives the table: no node of ours may stay in it.
  if (checks_ && s_.timers) {
    for (uint32_t i = 0; i < kMaxServers; ++i) s_.timers->Cancel(&checks_[i].timer);
  }
  if (checks_) {
    for (uint32_t i = 0; i < kMaxServers; ++i) Release(checks_[i]);
  }
  rte_free(checks_);
  rte_free(answer_);
  rte_free(head_);
  FreeMatchData(md_);
}

bool HealthChecks::Init(const char* name, const Setup& setup, conn::Conns* conns,
                        int socket_id) {
  s_ = setup;
  conns_ = conns;
  checks_ =
      static_cast<Check*>(rte_zmalloc_socket(name, sizeof(Check) * kMaxServers, 64, socket_id));
  if (!checks_ || !setup.stats || !setup.timers) return false;
  for (uint32_t i = 0; i < kMaxServers; ++i) new (&checks_[i]) Check();
  answer_ = static_cast<uint8_t*>(rte_malloc_socket(name, kAnswerCap, 64, socket_id));
  head_ = static_cast<http::MessageHead*>(
      rte_malloc_socket(name, sizeof(http::MessageHead), 64, socket_id));
  if (!answer_ || !head_) return false;
  new (head_) http::MessageHead();
  md_ = NewMatchData();
  return md_ != nullptr;
}

void HealthChecks::SetConfig(const proxy::ProxyConfigSnap* cfg) noexcept {
  cfg_ = cfg;
  if (!cfg || !checks_ || cfg->generation == generation_) return;
  generation_ = cfg->generation;
  Schedule();
}

void HealthChecks::OnTimer(base::TimerNode* n) noexcept {
  // The nodes live inside the check table: recover the server from the address.
  const auto* raw = reinterpret_cast<const char*>(n);
  OnCheckTimer(static_cast<uint32_t>((raw - reinterpret_cast<const char*>(checks_)) /
                                     static_cast<ptrdiff_t>(sizeof(Check))));
}

void HealthChecks::OnConnected(ConnId c) noexcept { Connected(conns_->IndexOf(c)); }

void HealthChecks::OnData(ConnId c, rte_mbuf* data, uint32_t len) noexcept {
  Data(conns_->IndexOf(c), data, len);
}

void HealthChecks::OnPeerClosed(ConnId c) noexcept {
  const uint32_t server = conns_->IndexOf(c);
  Check& k = checks_[server];
  if (k.conn != c) return;
  if (k.sent) {
    Judge(server, true);
  } else {
    Finish(server, CheckStatus::kL7Rsp, 0);
  }
}

void HealthChecks::OnClosed(ConnId c, tcp::CloseReason why) noexcept {
  const uint32_t server = conns_->IndexOf(c);
  conns_->Detach(c);
  Check& k = checks_[server];
  k.conn = kNoConn;
  if (!k.connected) {
    Finish(server, why == tcp::CloseReason::kTimeout ? CheckStatus::kL4Tout : CheckStatus::kL4Con,
           0);
  } else if (k.sent) {
    Judge(server, true);  // the close ends the answer (or leaves it cut short)
  } else {
    Finish(server, CheckStatus::kL7Rsp, 0);
  }
}

void HealthChecks::Schedule() noexcept {
  const uint64_t now_ms = now_us() / 1000;
  for (uint32_t i = 0; i < kMaxServers; ++i) {
    Check& k = checks_[i];
    const bool mine = i < cfg_->servers.size() && cfg_->servers[i].check &&
                      cfg_->servers[i].check_worker == s_.worker;
    if (!mine) {
      if (k.scheduled) {
        s_.timers->Cancel(&k.timer);
        k.scheduled = false;
        conns_->AbortDetached(&k.conn);
        Release(k);
      }
      continue;
    }
    const ServerSnap& sv = cfg_->servers[i];
    ServerStats& ss = s_.stats->servers[i];
    if (k.epoch != sv.check_epoch) {
      // A new start (first configuration, `enable health`, `set server health`): health as
      // the control plane says, the next check soon.
      k.epoch = sv.check_epoch;
      k.health = sv.init_health;
      k.up = k.health >= sv.rise;
      ss.check_health.Set(k.health);
      ss.check_up.Set(k.up ? 1 : 0);
      ss.check_epoch.Set(k.epoch);
      conns_->AbortDetached(&k.conn);
      Release(k);
      // Spread the first checks of many servers over the interval.
      s_.timers->Arm(&k.timer, now_ms + 1 + (i * 37) % (sv.inter_ms ? sv.inter_ms : 1000));
      k.scheduled = true;
    } else if (!k.scheduled) {
      s_.timers->Arm(&k.timer, now_ms + 1);
      k.scheduled = true;
    }
  }
}

void HealthChecks::Start(uint32_t server) noexcept {
  Check& k = checks_[server];
  const ServerSnap& sv = cfg_->servers[server];
  const BackendSnap& be = cfg_->backends[cfg_->servers[server].backend];
  k.start_us = now_us();
  k.sent = k.connected = false;
  Release(k);
  tcp::FlowKey key;
  const ConnId c = conns_->Connect(sv.check_addr, sv.is_v6, rte_cpu_to_be_16(sv.check_port),
                                   conn::kCheck, server, &key);
  if (c == kNoConn) {
    Finish(server, CheckStatus::kSockErr, 0);
    return;
  }
  k.conn = c;
  // `timeout check` bounds the whole check once connected, `inter` the connect (HAProxy
  // uses min(timeout connect, inter) for the connect part).
  uint32_t timeout_ms = sv.inter_ms;
  if (be.check_ms && be.check_ms < timeout_ms) timeout_ms = be.check_ms;
  if (be.connect_ms && be.connect_ms < timeout_ms) timeout_ms = be.connect_ms;
  s_.timers->Arm(&k.timer, (k.start_us / 1000) + (timeout_ms ? timeout_ms : 1000));
}

void HealthChecks::OnCheckTimer(uint32_t server) noexcept {
  Check& k = checks_[server];
  if (!cfg_ || server >= cfg_->servers.size() || !k.scheduled) return;
  if (k.conn != kNoConn) {
    Finish(server, k.connected ? CheckStatus::kL7Tout : CheckStatus::kL4Tout, 0);
    return;
  }
  Start(server);
}

void HealthChecks::Connected(uint32_t server) noexcept {
  Check& k = checks_[server];
  k.connected = true;
  const BackendSnap& be = cfg_->backends[cfg_->servers[server].backend];
  if (!be.httpchk) {
    Finish(server, CheckStatus::kL4Ok, 0);
    return;
  }
  rte_mbuf* m = rte_pktmbuf_alloc(s_.pool);
  if (!m) {
    Finish(server, CheckStatus::kSockErr, 0);
    return;
  }
  const uint16_t len = be.httpchk_request_len;
  char* p = rte_pktmbuf_append(m, len);
  if (!p) {
    rte_pktmbuf_free(m);
    Finish(server, CheckStatus::kSockErr, 0);
    return;
  }
  std::memcpy(p, be.httpchk_request, len);
  if (!conns_->Send(k.conn, m)) {
    rte_pktmbuf_free(m);
    Finish(server, CheckStatus::kSockErr, 0);
    return;
  }
  k.sent = true;
}

void HealthChecks::Release(Check& k) noexcept {
  rte_pktmbuf_free(k.held);  // null-safe
  k.held = nullptr;
  k.held_len = 0;
}

void HealthChecks::Data(uint32_t server, rte_mbuf* data, uint32_t len) noexcept {
  Check& k = checks_[server];
  const uint32_t cap = std::min(cfg_->http_head_bytes + cfg_->http_rewrite, kAnswerCap);
  if (k.held_len >= cap || !k.sent) {  // past the buffer (the check was judged) or unasked for
    rte_pktmbuf_free(data);
    conns_->Consumed(k.conn, len);
    return;
  }
  conns_->Consumed(k.conn, len);
  if (!k.held) {
    k.held = data;
  } else if (rte_pktmbuf_chain(k.held, data) != 0) {  // too many segments: read what is in
    rte_pktmbuf_free(data);
    len = cap - k.held_len;
  }
  k.held_len += len;
  Judge(server, false);
}

void HealthChecks::Judge(uint32_t server, bool closed) noexcept {
  Check& k = checks_[server];
  const BackendSnap& be = cfg_->backends[cfg_->servers[server].backend];
  const uint32_t cap = std::min(cfg_->http_head_bytes + cfg_->http_rewrite, kAnswerCap);
  uint32_t n = 0;
  for (const rte_mbuf* seg = k.held; seg && n < cap; seg = seg->next) {
    const uint32_t take = std::min<uint32_t>(seg->data_len, cap - n);
    std::memcpy(answer_ + n, rte_pktmbuf_mtod(seg, const uint8_t*), take);
    n += take;
  }
  EvalContext ctx;
  ctx.head = head_;
  ctx.md = md_;
  ctx.max_fields = cfg_->http_max_fields;
  ctx.head_request = be.httpchk_head;
  // Full: the buffer's bytes, or (segments by the byte) its segments, as a last read.
  const bool full = n >= cap || k.held_len >= cap || (k.held && k.held->nb_segs >= kMaxSegs);
  const Verdict v = Evaluate(answer_, n, closed || full, &cfg_->check_expects[be.first_expect],
                             be.nexpects, ctx);
  if (v.what == Verdict::kWait) {
    if (closed || full) Finish(server, CheckStatus::kL7Rsp, 0);  // cannot happen: last read
    return;
  }
  s_.stats->servers[server].check_reason.Set(v.reason);
  Finish(server, v.status, v.code, v.detail);
}

void HealthChecks::Finish(uint32_t server, CheckStatus status, uint32_t code,
                          CheckDetail detail) noexcept {
  Check& k = checks_[server];
  conns_->AbortDetached(&k.conn);  // HAProxy closes check connections with a reset too
  Release(k);
  if (!cfg_ || server >= cfg_->servers.size()) return;
  const ServerSnap& sv = cfg_->servers[server];
  ServerStats& ss = s_.stats->servers[server];
  const uint64_t now = now_us();
  ss.check_status.Set(static_cast<uint64_t>(status));
  ss.check_code.Set(code);
  ss.check_detail.Set(static_cast<uint64_t>(detail));
  ss.check_duration_ms.Set((now - k.start_us) / 1000);
  ss.check_count.Add();
  const uint8_t top = static_cast<uint8_t>(sv.rise + sv.fall - 1);
  const bool ok = status == CheckStatus::kL4Ok || status == CheckStatus::kL7Ok;
  if (ok) {
    if (k.health < top) ++k.health;
    if (k.health >= sv.rise) {
      k.health = top;
      k.up = true;
    }
  } else {
    ss.check_fails.Add();
    if (k.health > sv.rise) {
      --k.health;  // still UP, going down
    } else {
      if (k.up) ss.check_downs.Add();
      k.up = false;
      k.health = 0;
    }
  }
  ss.check_health.Set(k.health);
  ss.check_up.Set(k.up ? 1 : 0);
  // Transitional states check faster (`fastinter`), a DOWN server slower (`downinter`).
  uint32_t next_ms = sv.inter_ms;
  if (k.up && k.health < top) next_ms = sv.fastinter_ms;
  if (!k.up) next_ms = k.health == 0 ? sv.downinter_ms : sv.fastinter_ms;
  if (next_ms == 0) next_ms = 1000;
  s_.timers->Arm(&k.timer, now / 1000 + next_ms);
}

}  // namespace sluice::check
