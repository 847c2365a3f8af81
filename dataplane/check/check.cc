// Health checks (check.h).
#include "dataplane/check/check.h"

#include <rte_byteorder.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

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
  rte_free(checks_);
}

bool HealthChecks::Init(const char* name, const Setup& setup, conn::Conns* conns,
                        int socket_id) {
  s_ = setup;
  conns_ = conns;
  checks_ =
      static_cast<Check*>(rte_zmalloc_socket(name, sizeof(Check) * kMaxServers, 64, socket_id));
  if (!checks_ || !setup.stats || !setup.timers) return false;
  for (uint32_t i = 0; i < kMaxServers; ++i) new (&checks_[i]) Check();
  return true;
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

void HealthChecks::OnClosed(ConnId c, tcp::CloseReason why) noexcept {
  const uint32_t server = conns_->IndexOf(c);
  conns_->Detach(c);
  Check& k = checks_[server];
  k.conn = kNoConn;
  if (!k.connected) {
    Finish(server, why == tcp::CloseReason::kTimeout ? CheckStatus::kL4Tout : CheckStatus::kL4Con,
           0);
  } else if (k.body.in_body) {
    DecideBody(server);  // the server's close ends a body without a Content-Length
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
  k.resp_len = 0;
  k.code = 0;
  k.body = BodyMatch{};
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

void HealthChecks::Data(uint32_t server, rte_mbuf* data, uint32_t len) noexcept {
  Check& k = checks_[server];
  const BackendSnap& be = cfg_->backends[cfg_->servers[server].backend];
  const char* text = be.expect_string;
  bool decided = false;
  for (rte_mbuf* seg = data; seg && !decided; seg = seg->next) {
    const auto* p = rte_pktmbuf_mtod(seg, const char*);
    for (uint16_t i = 0; i < seg->data_len && !decided; ++i) {
      if (k.resp_len < sizeof k.resp - 1) k.resp[k.resp_len++] = p[i];
      if (be.expect_string_len && k.code) {
        decided = k.body.Feed(p[i], text, be.expect_string_len, be.expect_next);
      }
      if (k.code == 0 && k.resp_len >= 12) {  // "HTTP/1.x NNN"
        const char* r = k.resp;
        const bool http = std::memcmp(r, "HTTP/1.", 7) == 0 && r[8] == ' ' && r[9] >= '0' &&
                          r[9] <= '9' && r[10] >= '0' && r[10] <= '9' && r[11] >= '0' &&
                          r[11] <= '9';
        if (!http) {
          rte_pktmbuf_free(data);
          return Finish(server, CheckStatus::kL7Rsp, 0);
        }
        k.code = static_cast<uint32_t>((r[9] - '0') * 100 + (r[10] - '0') * 10 + (r[11] - '0'));
        if (!be.expect_string_len) {
          rte_pktmbuf_free(data);
          const bool ok = be.expect_set ? be.expect_status.Contains(k.code)
                                        : be.expect_status.Accepts(k.code);
          return Finish(server, ok ? CheckStatus::kL7Ok : CheckStatus::kL7Sts, k.code);
        }
        // The head is scanned from its first line: the bytes so far go through again.
        for (uint8_t j = 0; j < k.resp_len && !decided; ++j) {
          decided = k.body.Feed(k.resp[j], text, be.expect_string_len, be.expect_next);
        }
      }
    }
  }
  rte_pktmbuf_free(data);
  if (decided) return DecideBody(server);
  conns_->Consumed(k.conn, len);
}

void HealthChecks::DecideBody(uint32_t server) noexcept {
  const Check& k = checks_[server];
  const BackendSnap& be = cfg_->backends[cfg_->servers[server].backend];
  if (k.body.found != be.expect_negate) return Finish(server, CheckStatus::kL7Ok, k.code);
  Finish(server, CheckStatus::kL7Rsp, 0,
         be.expect_negate ? CheckDetail::kUnwantedContent : CheckDetail::kContentMismatch);
}

void HealthChecks::Finish(uint32_t server, CheckStatus status, uint32_t code,
                          CheckDetail detail) noexcept {
  Check& k = checks_[server];
  conns_->AbortDetached(&k.conn);  // HAProxy closes check connections with a reset too
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
