// Slow path. Text forms of addresses, for configuration and telemetry. Exceptions-free but
// builds strings; never called from the packet path (FILE_EXEMPT of scripts/dev/tidy.py).
#include <arpa/inet.h>

#include <cstdio>

#include "dataplane/net/addr_text.h"

namespace sluice::net {

std::optional<Ipv4Addr> ParseIpv4(std::string_view text) {
  if (text.size() >= INET_ADDRSTRLEN) return std::nullopt;
  char buf[INET_ADDRSTRLEN] = {};
  if (!text.empty()) std::memcpy(buf, text.data(), text.size());
  in_addr a{};
  if (inet_pton(AF_INET, buf, &a) != 1) return std::nullopt;
  return Ipv4Addr{a.s_addr};
}

std::optional<Ipv6Addr> ParseIpv6(std::string_view text) {
  if (text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  char buf[INET6_ADDRSTRLEN] = {};
  if (!text.empty()) std::memcpy(buf, text.data(), text.size());
  Ipv6Addr a;
  if (inet_pton(AF_INET6, buf, a.b.data()) != 1) return std::nullopt;
  return a;
}

std::optional<IpAddr> ParseIp(std::string_view text) {
  IpAddr r;
  if (auto v4 = ParseIpv4(text)) {
    r.v4 = *v4;
    return r;
  }
  if (auto v6 = ParseIpv6(text)) {
    r.is_v6 = true;
    r.v6 = *v6;
    return r;
  }
  return std::nullopt;
}

std::optional<IpPrefix> ParsePrefix(std::string_view text, bool allow_host) {
  IpPrefix p;
  auto slash = text.find('/');
  auto addr = ParseIp(text.substr(0, slash));
  if (!addr) return std::nullopt;
  p.addr = *addr;
  const unsigned max = addr->is_v6 ? 128 : 32;
  if (slash == std::string_view::npos) {
    if (!allow_host) return std::nullopt;
    p.length = static_cast<uint8_t>(max);
    return p;
  }
  auto len_text = text.substr(slash + 1);
  if (len_text.empty() || len_text.size() > 3) return std::nullopt;
  unsigned len = 0;
  for (char c : len_text) {
    if (c < '0' || c > '9') return std::nullopt;
    len = len * 10 + static_cast<unsigned>(c - '0');
  }
  if (len > max) return std::nullopt;
  p.length = static_cast<uint8_t>(len);
  return p;
}

std::optional<MacAddr> ParseMac(std::string_view text) {
  MacAddr m;
  if (text.size() != 17) return std::nullopt;
  for (size_t i = 0; i < 6; ++i) {
    unsigned v = 0;
    for (size_t j = 0; j < 2; ++j) {
      char c = text[i * 3 + j];
      v <<= 4;
      if (c >= '0' && c <= '9')
        v |= static_cast<unsigned>(c - '0');
      else if (c >= 'a' && c <= 'f')
        v |= static_cast<unsigned>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        v |= static_cast<unsigned>(c - 'A' + 10);
      else
        return std::nullopt;
    }
    if (i < 5 && text[i * 3 + 2] != ':') return std::nullopt;
    m.b[i] = static_cast<uint8_t>(v);
  }
  return m;
}

std::string ToString(const Ipv4Addr& a) {
  char buf[INET_ADDRSTRLEN];
  in_addr in{a.be};
  inet_ntop(AF_INET, &in, buf, sizeof buf);
  return buf;
}

std::string ToString(const Ipv6Addr& a) {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, a.b.data(), buf, sizeof buf);
  return buf;
}

std::string ToString(const IpAddr& a) { return a.is_v6 ? ToString(a.v6) : ToString(a.v4); }

std::string ToString(const IpPrefix& p) {
  return ToString(p.addr) + "/" + std::to_string(p.length);
}

std::string ToString(const MacAddr& m) {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", m.b[0], m.b[1], m.b[2], m.b[3],
                m.b[4], m.b[5]);
  return buf;
}

}  // namespace sluice::net
