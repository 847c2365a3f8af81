// Flow ownership (DESIGN.md section 2): the one function that says which worker owns the
// flow of a frame. Client-side flows belong to hash(client IP); flows towards the local
// ports the appliance opens belong to the worker that chose the port; ARP and neighbour
// discovery are seen by every worker (each keeps its own neighbour table).
//
// The hash is the Toeplitz hash a NIC's RSS computes over the source address alone, looked
// up in a redirection table as a NIC does, so that a multi-queue NIC programmed with the
// same key and table steers exactly as the software dispatch on TAP does.
#pragma once

#include <cstdint>

#include "dataplane/net/addr.h"

namespace sluice::net {

inline constexpr uint16_t kOwnerAll = 0xfffe;    // handled here, copies to all for learning
inline constexpr uint16_t kOwnerLocal = 0xffff;  // no flow: handled where received
inline constexpr unsigned kRetaSize = 128;
inline constexpr unsigned kRssKeySize = 40;

class FlowSteering {
 public:
  FlowSteering() = default;
  FlowSteering(uint16_t workers, uint16_t local_port_min, uint16_t local_port_max);

  uint16_t workers() const { return workers_; }
  const uint8_t* rss_key() const { return kRssKey; }
  const uint16_t* reta() const { return reta_; }

  // Owner of a flow from `client` towards one of our listeners.
  uint16_t OwnerOfClient(const IpAddr& client) const noexcept;
  uint16_t OwnerOfClientV4(uint32_t src_be) const noexcept;
  uint16_t OwnerOfClientV6(const uint8_t* src) const noexcept;
  // Owner of a connection the appliance opened from `local_port`; kOwnerLocal if the port is
  // outside the local range.
  uint16_t OwnerOfLocalPort(uint16_t local_port) const noexcept;
  // Owner of a received Ethernet frame (malformed frames: kOwnerLocal, the receiving worker
  // drops and counts them). Never reads beyond `len`.
  uint16_t OwnerOfFrame(const uint8_t* frame, uint32_t len) const noexcept;

 private:
  // The well-known default Toeplitz key (as in Microsoft's RSS verification suite).
  static const uint8_t kRssKey[kRssKeySize];
  uint16_t workers_ = 1;
  uint16_t local_port_min_ = 32768;
  uint16_t local_port_max_ = 60999;
  uint16_t reta_[kRetaSize] = {};
};

}  // namespace sluice::net
