// Health checks of the servers assigned to this worker (ServerSnap::check_worker): a TCP
// connect (L4) or, with `option httpchk`, an HTTP request whose status line is checked (L7),
// every `inter` (`fastinter` while the state is changing, `downinter` when down). Rise/fall
// counting follows HAProxy: health runs from 0 to rise + fall - 1; a server is UP from
// `rise` and goes DOWN when a failure finds health at `rise` or below. Results go to this
// worker's ServerStats; the control plane turns check_up into the servers' state.
#include <rte_byteorder.h>
#include <rte_mbuf.h>

#include <cstring>

#include "dataplane/net/net.h"
#include "dataplane/proxy/proxy.h"

namespace sluice::proxy {

using tcp::ConnId;
using tcp::kNoConn;

void Proxy::ScheduleChecks() noexcept {
  const uint64_t now_ms = tcp_->now_us() / 1000;
  for (uint32_t i = 0; i < kMaxServers; ++i) {
    Check& k = checks_[i];
    const bool mine = i < cfg_->servers.size() && cfg_->servers[i].check &&
                      cfg_->servers[i].check_worker == s_.worker;
    if (!mine) {
      if (k.scheduled) {
        wheel_->Cancel(&k.timer);
        k.scheduled = false;
        AbortMuted(&k.conn);
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
      AbortMuted(&k.conn);
      // Spread the first checks of many servers over the interval.
      wheel_->Arm(&k.timer, now_ms + 1 + (i * 37) % (sv.inter_ms ? sv.inter_ms : 1000));
      k.scheduled = true;
    } else if (!k.scheduled) {
      wheel_->Arm(&k.timer, now_ms + 1);
      k.scheduled = true;
    }
  }
}

void Proxy::StartCheck(uint32_t server) noexcept {
  Check& k = checks_[server];
  const ServerSnap& sv = cfg_->servers[server];
  const BackendSnap& be = cfg_->backends[cfg_->servers[server].backend];
  k.start_us = tcp_->now_us();
  k.sent = k.connected = false;
  k.resp_len = 0;
  tcp::FlowKey key;
  std::memcpy(key.remote_addr, sv.check_addr, 16);
  key.remote_port = rte_cpu_to_be_16(sv.check_port);
  key.is_v6 = sv.is_v6;
  ConnId c = kNoConn;
  if (net_->SourceFor(sv.check_addr, sv.is_v6, key.local_addr) && PickLocalPort(&key)) {
    c = tcp_->Connect(key);
  }
  if (c == kNoConn) {
    FinishCheck(server, CheckStatus::kSockErr, 0);
    return;
  }
  k.conn = c;
  SetRef(c, Ref(server, kCheck));
  // `timeout check` bounds the whole check once connected, `inter` the connect (HAProxy
  // uses min(timeout connect, inter) for the connect part).
  uint32_t timeout_ms = sv.inter_ms;
  if (be.check_ms && be.check_ms < timeout_ms) timeout_ms = be.check_ms;
  if (be.connect_ms && be.connect_ms < timeout_ms) timeout_ms = be.connect_ms;
  wheel_->Arm(&k.timer, (k.start_us / 1000) + (timeout_ms ? timeout_ms : 1000));
}

void Proxy::OnCheckTimer(uint32_t server) noexcept {
  Check& k = checks_[server];
  if (!cfg_ || server >= cfg_->servers.size() || !k.scheduled) return;
  if (k.conn != kNoConn) {
    FinishCheck(server, k.connected ? CheckStatus::kL7Tout : CheckStatus::kL4Tout, 0);
    return;
  }
  StartCheck(server);
}

void Proxy::CheckConnected(uint32_t server) noexcept {
  Check& k = checks_[server];
  k.connected = true;
  const BackendSnap& be = cfg_->backends[cfg_->servers[server].backend];
  if (!be.httpchk) {
    FinishCheck(server, CheckStatus::kL4Ok, 0);
    return;
  }
  rte_mbuf* m = rte_pktmbuf_alloc(s_.pool);
  if (!m) {
    FinishCheck(server, CheckStatus::kSockErr, 0);
    return;
  }
  const uint16_t len = be.httpchk_request_len;
  char* p = rte_pktmbuf_append(m, len);
  if (!p) {
    rte_pktmbuf_free(m);
    FinishCheck(server, CheckStatus::kSockErr, 0);
    return;
  }
  std::memcpy(p, be.httpchk_request, len);
  if (!tcp_->Send(k.conn, m)) {
    rte_pktmbuf_free(m);
    FinishCheck(server, CheckStatus::kSockErr, 0);
    return;
  }
  k.sent = true;
}

void Proxy::CheckData(uint32_t server, rte_mbuf* data, uint32_t len) noexcept {
  Check& k = checks_[server];
  for (rte_mbuf* seg = data; seg && k.resp_len < sizeof k.resp - 1; seg = seg->next) {
    const auto* p = rte_pktmbuf_mtod(seg, const char*);
    for (uint16_t i = 0; i < seg->data_len && k.resp_len < sizeof k.resp - 1; ++i) {
      k.resp[k.resp_len++] = p[i];
    }
  }
  rte_pktmbuf_free(data);
  tcp_->Consumed(k.conn, len);
  if (k.resp_len < 12) return;  // "HTTP/1.x NNN"
  const char* r = k.resp;
  const bool http = std::memcmp(r, "HTTP/1.", 7) == 0 && r[8] == ' ' && r[9] >= '0' &&
                    r[9] <= '9' && r[10] >= '0' && r[10] <= '9' && r[11] >= '0' && r[11] <= '9';
  if (!http) {
    FinishCheck(server, CheckStatus::kL7Rsp, 0);
    return;
  }
  const uint32_t code =
      static_cast<uint32_t>((r[9] - '0') * 100 + (r[10] - '0') * 10 + (r[11] - '0'));
  const BackendSnap& be = cfg_->backends[cfg_->servers[server].backend];
  const bool ok = be.expect_status.Accepts(code);
  FinishCheck(server, ok ? CheckStatus::kL7Ok : CheckStatus::kL7Sts, code);
}

void Proxy::FinishCheck(uint32_t server, CheckStatus status, uint32_t code) noexcept {
  Check& k = checks_[server];
  AbortMuted(&k.conn);  // HAProxy closes check connections with a reset too
  if (!cfg_ || server >= cfg_->servers.size()) return;
  const ServerSnap& sv = cfg_->servers[server];
  ServerStats& ss = s_.stats->servers[server];
  const uint64_t now = tcp_->now_us();
  ss.check_status.Set(static_cast<uint64_t>(status));
  ss.check_code.Set(code);
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
  wheel_->Arm(&k.timer, now / 1000 + next_ms);
}

}  // namespace sluice::proxy
