// TCP test services of the data plane (off unless configured with `service`): echo returns
// what it receives, discard drops it, source sends byte i = i % 251 until the peer closes.
// They exercise the TCP stack against real peers before the proxy exists. One instance per
// worker; per-connection state in an array indexed by connection id (no allocation after
// Init).
#pragma once

#include <cstdint>

#include "dataplane/tcp/tcp.h"

struct rte_mbuf;
struct rte_mempool;

namespace sluice::services {

enum class Kind : uint8_t { kNone, kEcho, kDiscard, kSource };

inline constexpr unsigned kMaxServices = 64;  // listener tags index this table

class TestServices final : public tcp::TcpUser {
 public:
  TestServices() = default;
  TestServices(const TestServices&) = delete;
  TestServices& operator=(const TestServices&) = delete;
  ~TestServices();

  // Start-up only. `kinds[tag]` is the service a listener tag stands for.
  bool Init(const char* name, tcp::TcpStack* stack, rte_mempool* pool, uint32_t max_conns,
            int socket_id);
  void SetKind(uint32_t tag, Kind kind) { kinds_[tag % kMaxServices] = kind; }

  void OnAccepted(tcp::ConnId c, uint32_t tag) noexcept override;
  void OnConnected(tcp::ConnId c) noexcept override;
  void OnData(tcp::ConnId c, rte_mbuf* data, uint32_t len) noexcept override;
  void OnWritable(tcp::ConnId c) noexcept override;
  void OnPeerClosed(tcp::ConnId c) noexcept override;
  void OnClosed(tcp::ConnId c, tcp::CloseReason why) noexcept override;

 private:
  struct Conn {
    Kind kind = Kind::kNone;
    bool peer_closed = false;
    rte_mbuf* pending = nullptr;  // echo data waiting for send space (not yet Consumed)
    uint32_t pending_len = 0;
    uint64_t source_offset = 0;
  };
  void FillSource(tcp::ConnId c) noexcept;
  void FlushEcho(tcp::ConnId c) noexcept;

  tcp::TcpStack* stack_ = nullptr;
  rte_mempool* pool_ = nullptr;
  Conn* conns_ = nullptr;
  uint32_t nconns_ = 0;
  Kind kinds_[kMaxServices] = {};
};

}  // namespace sluice::services
