// Slow path. Text forms of addresses, for the configuration, telemetry and tests. The
// ToString functions build std::string and are never called per packet.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "dataplane/net/addr.h"

namespace sluice::net {

std::optional<Ipv4Addr> ParseIpv4(std::string_view text);
std::optional<Ipv6Addr> ParseIpv6(std::string_view text);
std::optional<IpAddr> ParseIp(std::string_view text);
// "A/LEN"; without "/LEN" the host length (32 or 128) when `allow_host` is set.
std::optional<IpPrefix> ParsePrefix(std::string_view text, bool allow_host);
std::optional<MacAddr> ParseMac(std::string_view text);
std::string ToString(const Ipv4Addr& a);  // slow path: text for config and logs
std::string ToString(const Ipv6Addr& a);  // slow path: text for config and logs
std::string ToString(const IpAddr& a);    // slow path: text for config and logs
std::string ToString(const IpPrefix& p);  // slow path: text for config and logs
std::string ToString(const MacAddr& m);   // slow path: text for config and logs

}  // namespace sluice::net
