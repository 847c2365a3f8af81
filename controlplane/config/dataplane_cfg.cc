// Slow path: the `dataplane` section (sluice's own: EAL sizing, ports, addresses, routes)
// and the checks that need the whole configuration.
#include <algorithm>
#include <span>
#include <string>

#include "controlplane/config/parse_context.h"
#include "dataplane/net/addr_text.h"

namespace sluice::config {
namespace {

constexpr unsigned kMaxWorkers = 16;
constexpr size_t kMaxPorts = 8;
constexpr size_t kMaxAddressesPerPort = 8;
constexpr size_t kMaxPortNameLength = 32;
constexpr size_t kMaxFilePrefixLength = 32;

DataplaneConfig& Dataplane(ParseContext& ctx) { return ctx.config.dataplane; }

// `workers`, `memory`, ... : an unsigned field with a range.
template <auto kMember, uint64_t kMin, uint64_t kMax>
void UnsignedField(ParseContext& ctx, const KeywordRow&, const Args& args) {
  uint64_t v = 0;
  if (!ParseUnsignedArg(ctx, args[1], kMin, kMax, &v)) return;
  Dataplane(ctx).*kMember = static_cast<unsigned>(v);
}

void DispatchRing(ParseContext& ctx, const KeywordRow&, const Args& args) {
  const auto v = ParseDecimal(args[1]);
  if (!v || *v < 64 || *v > 65536 || (*v & (*v - 1)) != 0) {
    ctx.Alert("'dispatch-ring' expects a power of two between 64 and 65536, got " +
              Quoted(args[1]) + ".");
    return;
  }
  Dataplane(ctx).dispatch_ring = static_cast<unsigned>(*v);
}

void Hugepages(ParseContext& ctx, const KeywordRow&, const Args& args) {
  const std::string& v = args[1];
  if (v == "auto") {
    Dataplane(ctx).hugepages = HugePages::kAuto;
  } else if (v == "on") {
    Dataplane(ctx).hugepages = HugePages::kOn;
  } else if (v == "off") {
    Dataplane(ctx).hugepages = HugePages::kOff;
  } else {
    ctx.Alert("'hugepages' expects 'auto', 'on' or 'off', got " + Quoted(v) + ".");
  }
}

void TcpCongestion(ParseContext& ctx, const KeywordRow&, const Args& args) {
  const std::string& v = args[1];
  if (v == "cubic" || v == "newreno") {
    Dataplane(ctx).tcp_newreno = v == "newreno";
  } else {
    ctx.Alert("'tcp-congestion' expects 'cubic' or 'newreno', got " + Quoted(v) + ".");
  }
}

void LocalPorts(ParseContext& ctx, const KeywordRow&, const Args& args) {
  const std::string_view text = args[1];
  const size_t dash = text.find('-');
  std::optional<uint64_t> lo;
  std::optional<uint64_t> hi;
  if (dash != std::string_view::npos) {
    lo = ParseDecimal(text.substr(0, dash));
    hi = ParseDecimal(text.substr(dash + 1));
  }
  if (!lo || !hi || *lo < 1024 || *hi > 65535 || *lo > *hi) {
    ctx.Alert("'local-ports' expects MIN-MAX with 1024 <= MIN <= MAX <= 65535, got " +
              Quoted(text) + ".");
    return;
  }
  Dataplane(ctx).local_port_min = static_cast<uint16_t>(*lo);
  Dataplane(ctx).local_port_max = static_cast<uint16_t>(*hi);
}

bool IsNameChar(char c, bool allow_upper) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         (allow_upper && c >= 'A' && c <= 'Z');
}

bool IsName(std::string_view s, size_t max_length, bool allow_upper) {
  return !s.empty() && s.size() <= max_length &&
         std::all_of(s.begin(), s.end(), [&](char c) { return IsNameChar(c, allow_upper); });
}

void FilePrefix(ParseContext& ctx, const KeywordRow&, const Args& args) {
  if (!IsName(args[1], kMaxFilePrefixLength, true)) {
    ctx.Alert("'file-prefix' expects 1 to 32 characters among A-Z, a-z, 0-9, '_' and '-', got " +
              Quoted(args[1]) + ".");
    return;
  }
  Dataplane(ctx).file_prefix = args[1];
}

void EalArgs(ParseContext& ctx, const KeywordRow&, const Args& args) {
  auto& out = Dataplane(ctx).eal_args;
  out.insert(out.end(), args.begin() + 1, args.end());
}

bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// "DDDD:BB:DD.F" (or "BB:DD.F", domain 0) to the lower-case full form, as DPDK prints it.
std::optional<std::string> NormalizePci(std::string_view s) {
  std::string full;
  if (s.size() == 7) {
    full = "0000:";
    full += s;
  } else if (s.size() == 12) {
    full = s;
  } else {
    return std::nullopt;
  }
  // dddd:bb:dd.f
  for (size_t i = 0; i < full.size(); ++i) {
    const char c = full[i];
    if (i == 4 || i == 7) {
      if (c != ':') return std::nullopt;
    } else if (i == 10) {
      if (c != '.') return std::nullopt;
    } else if (!IsHex(c)) {
      return std::nullopt;
    }
    if (c >= 'A' && c <= 'F') full[i] = static_cast<char>(c - 'A' + 'a');
  }
  const int device_hi = full[8] - '0';
  if (device_hi < 0 || device_hi > 1 || full[11] < '0' || full[11] > '7') return std::nullopt;
  return full;
}

// "net_DRIVER[,key=value...]": a DPDK vdev. Returns the device name (before the first comma),
// which must be unique, or nothing when `s` is not of that form.
std::optional<std::string_view> VdevName(std::string_view s) {
  if (!s.starts_with("net_")) return std::nullopt;
  const std::string_view name = s.substr(0, s.find(','));
  if (name.size() == 4) return std::nullopt;
  for (char c : name) {
    if (!IsNameChar(c, true)) return std::nullopt;
  }
  for (char c : s) {
    if (c <= ' ' || c >= 0x7f) return std::nullopt;
  }
  return name;
}

// The name two devices collide on.
std::string DeviceKey(const PortConfig& p) {
  if (p.is_pci) return p.device;
  return std::string(p.device.substr(0, p.device.find(',')));
}

PortConfig* FindPort(ParseContext& ctx, std::string_view name) {
  for (PortConfig& p : Dataplane(ctx).ports) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

// The port named by args[1] for `address` and `vlan`, or an alert.
PortConfig* NamedPort(ParseContext& ctx, const Args& args) {
  PortConfig* port = FindPort(ctx, args[1]);
  if (port == nullptr) {
    ctx.Alert(Quoted(ctx.keyword) + " names unknown port " + Quoted(args[1]) +
              "; declare it first with 'port " +
              (IsName(args[1], kMaxPortNameLength, false) ? args[1] : "NAME") + " DEVICE'.");
  }
  return port;
}

void Port(ParseContext& ctx, const KeywordRow&, const Args& args) {
  const std::string& name = args[1];
  const std::string& device = args[2];
  if (!IsName(name, kMaxPortNameLength, false)) {
    ctx.Alert("'port' expects a name of 1 to 32 characters among a-z, 0-9, '_' and '-', got " +
              Quoted(name) + ".");
    return;
  }
  if (const PortConfig* other = FindPort(ctx, name)) {
    ctx.Alert("'port' " + Quoted(name) + " is already declared at " + At(other->file, other->line) +
              ".");
    return;
  }
  PortConfig port;
  port.name = name;
  port.file = ctx.file;
  port.line = ctx.line;
  if (auto pci = NormalizePci(device)) {
    port.is_pci = true;
    port.device = *pci;
  } else if (VdevName(device)) {
    port.device = device;
  } else {
    ctx.Alert(
        "'port' expects a PCI address (0000:03:00.0) or a DPDK vdev "
        "(net_tap0,iface=sl0) as device, got " +
        Quoted(device) + ".");
    return;
  }
  const std::string key = DeviceKey(port);
  for (const PortConfig& other : Dataplane(ctx).ports) {
    if (DeviceKey(other) == key) {
      ctx.Alert("'port' device " + Quoted(key) + " is already used by port " + Quoted(other.name) +
                " at " + At(other.file, other.line) + ".");
      return;
    }
  }
  if (Dataplane(ctx).ports.size() >= kMaxPorts) {
    ctx.Alert("'port' " + Quoted(name) + " is one too many: sluice handles at most " +
              std::to_string(kMaxPorts) + " ports.");
    return;
  }
  Dataplane(ctx).ports.push_back(std::move(port));
}

bool IsMulticast(const net::IpAddr& a) {
  return a.is_v6 ? a.v6.IsMulticast() : (a.v4.Host() >> 28) == 0xe;
}

bool IsUnspecified(const net::IpAddr& a) { return a.is_v6 ? a.v6.IsUnspecified() : a.v4.be == 0; }

const char* Family(const net::IpAddr& a) { return a.is_v6 ? "IPv6" : "IPv4"; }

void Address(ParseContext& ctx, const KeywordRow&, const Args& args) {
  PortConfig* port = NamedPort(ctx, args);
  if (port == nullptr) return;
  const auto prefix = net::ParsePrefix(args[2], false);
  if (!prefix || prefix->length == 0) {
    ctx.Alert(
        "'address' expects an address with a prefix length (192.0.2.1/24 or "
        "2001:db8::1/64), got " +
        Quoted(args[2]) + ".");
    return;
  }
  if (IsUnspecified(prefix->addr) || IsMulticast(prefix->addr)) {
    ctx.Alert("'address' expects a unicast address, got " + Quoted(args[2]) + ".");
    return;
  }
  for (const PortConfig& other : Dataplane(ctx).ports) {
    for (const net::IpPrefix& a : other.addresses) {
      if (a.addr == prefix->addr) {
        ctx.Alert("'address' " + net::ToString(a.addr) + " is already assigned to port " +
                  Quoted(other.name) + ".");
        return;
      }
    }
  }
  if (port->addresses.size() >= kMaxAddressesPerPort) {
    ctx.Alert("'address' " + Quoted(args[2]) + " is one too many: a port has at most " +
              std::to_string(kMaxAddressesPerPort) + " addresses.");
    return;
  }
  port->addresses.push_back(*prefix);
}

void Service(ParseContext& ctx, const KeywordRow&, const Args& args) {
  PortConfig* port = NamedPort(ctx, args);
  if (port == nullptr) return;
  ServiceConfig svc;
  svc.file = ctx.file;
  svc.line = ctx.line;
  if (args[2] == "echo") {
    svc.kind = ServiceConfig::Kind::kEcho;
  } else if (args[2] == "discard") {
    svc.kind = ServiceConfig::Kind::kDiscard;
  } else if (args[2] == "source") {
    svc.kind = ServiceConfig::Kind::kSource;
  } else {
    ctx.Alert("'service' expects echo, discard or source, got " + Quoted(args[2]) + ".");
    return;
  }
  uint64_t tcp_port = 0;
  if (!ParseUnsignedArg(ctx, args[3], 1, 65535, &tcp_port)) return;
  for (const ServiceConfig& other : port->services) {
    if (other.tcp_port == tcp_port) {
      ctx.Alert("port " + Quoted(port->name) + " already has a service on TCP port " +
                std::to_string(tcp_port) + ".");
      return;
    }
  }
  svc.tcp_port = static_cast<uint16_t>(tcp_port);
  port->services.push_back(svc);
}

void Vlan(ParseContext& ctx, const KeywordRow&, const Args& args) {
  PortConfig* port = NamedPort(ctx, args);
  if (port == nullptr) return;
  uint64_t id = 0;
  if (!ParseUnsignedArg(ctx, args[2], 1, 4094, &id)) return;
  if (port->vlan) {
    ctx.Alert("'vlan' of port " + Quoted(port->name) + " is already set to " +
              std::to_string(*port->vlan) + ".");
    return;
  }
  port->vlan = static_cast<uint16_t>(id);
}

// `p` with the bits after its length cleared.
net::IpPrefix Network(const net::IpPrefix& p) {
  net::IpPrefix n = p;
  uint8_t* bytes = n.addr.is_v6 ? n.addr.v6.b.data() : reinterpret_cast<uint8_t*>(&n.addr.v4.be);
  const unsigned size = n.addr.is_v6 ? 16 : 4;
  for (unsigned i = 0; i < size; ++i) {
    const unsigned bit = i * 8;
    if (bit >= p.length) {
      bytes[i] = 0;
    } else if (p.length - bit < 8) {
      bytes[i] &= static_cast<uint8_t>(0xff00u >> (p.length - bit));
    }
  }
  return n;
}

// Adds a route unless the gateway is unusable or the prefix already has one.
void AddRoute(ParseContext& ctx, const net::IpPrefix& prefix, const net::IpAddr& gateway) {
  if (IsUnspecified(gateway) || IsMulticast(gateway)) {
    ctx.Alert(Quoted(ctx.keyword) + " expects a unicast gateway, got " + net::ToString(gateway) +
              ".");
    return;
  }
  const auto& routes = Dataplane(ctx).routes;
  for (const RouteConfig& r : routes) {
    if (r.prefix == prefix) {
      ctx.Alert(Quoted(ctx.keyword) + ": a route to " + net::ToString(prefix) +
                " is already declared at " + At(r.file, r.line) + ".");
      return;
    }
  }
  RouteConfig route;
  route.prefix = prefix;
  route.gateway = gateway;
  route.file = ctx.file;
  route.line = ctx.line;
  Dataplane(ctx).routes.push_back(route);
  ctx.route_keywords.push_back(ctx.keyword);
}

void Route(ParseContext& ctx, const KeywordRow&, const Args& args) {
  if (args[2] != "via") {
    ctx.Alert("'route' expects PREFIX via GATEWAY, got " + Quoted(args[2]) + " instead of 'via'.");
    return;
  }
  const auto prefix = net::ParsePrefix(args[1], false);
  if (!prefix) {
    ctx.Alert("'route' expects a network prefix (198.51.100.0/24 or 2001:db8:1::/48), got " +
              Quoted(args[1]) + ".");
    return;
  }
  const net::IpPrefix network = Network(*prefix);
  if (!(network == *prefix)) {
    ctx.Alert("'route' prefix " + Quoted(args[1]) + " has host bits set; write " +
              net::ToString(network) + ".");
    return;
  }
  const auto gateway = net::ParseIp(args[3]);
  if (!gateway) {
    ctx.Alert("'route' expects a gateway address after 'via', got " + Quoted(args[3]) + ".");
    return;
  }
  if (gateway->is_v6 != prefix->addr.is_v6) {
    ctx.Alert("'route' to " + std::string(Family(prefix->addr)) + " prefix " +
              net::ToString(*prefix) + " needs an " + Family(prefix->addr) + " gateway, got " +
              net::ToString(*gateway) + ".");
    return;
  }
  AddRoute(ctx, *prefix, *gateway);
}

void DefaultGateway(ParseContext& ctx, const KeywordRow&, const Args& args) {
  const auto gateway = net::ParseIp(args[1]);
  if (!gateway) {
    ctx.Alert("'default-gateway' expects an IPv4 or IPv6 address, got " + Quoted(args[1]) + ".");
    return;
  }
  net::IpPrefix any;
  any.addr.is_v6 = gateway->is_v6;
  any.length = 0;
  AddRoute(ctx, any, *gateway);
}

constexpr KeywordRow kDataplaneKeywords[] = {
    {"workers", Match::kExact, &UnsignedField<&DataplaneConfig::workers, 1, kMaxWorkers>, 1, 1,
     "an integer between 1 and 16", ""},
    {"memory", Match::kExact, &UnsignedField<&DataplaneConfig::memory_mb, 64, 65536>, 1, 1,
     "a size in MB between 64 and 65536", ""},
    {"hugepages", Match::kExact, &Hugepages, 1, 1, "'auto', 'on' or 'off'", ""},
    {"mbufs", Match::kExact, &UnsignedField<&DataplaneConfig::mbufs, 1023, 4194303>, 1, 1,
     "an integer between 1023 and 4194303", ""},
    {"neighbours", Match::kExact, &UnsignedField<&DataplaneConfig::neighbours, 16, 1048576>, 1, 1,
     "an integer between 16 and 1048576", ""},
    {"tcp-connections", Match::kExact, &UnsignedField<&DataplaneConfig::tcp_max_conns, 16, 4194304>,
     1, 1, "an integer between 16 and 4194304", ""},
    {"tcp-congestion", Match::kExact, &TcpCongestion, 1, 1, "'cubic' or 'newreno'", ""},
    {"dispatch-ring", Match::kExact, &DispatchRing, 1, 1, "a power of two between 64 and 65536",
     ""},
    {"idle-sleep", Match::kExact, &UnsignedField<&DataplaneConfig::idle_sleep_us, 0, 100000>, 1, 1,
     "a time in microseconds between 0 and 100000", ""},
    {"local-ports", Match::kExact, &LocalPorts, 1, 1, "MIN-MAX with 1024 <= MIN <= MAX <= 65535",
     ""},
    {"file-prefix", Match::kExact, &FilePrefix, 1, 1, "a name for DPDK's runtime directory", ""},
    {"eal-args", Match::kExact, &EalArgs, 1, -1, "one or more EAL arguments", ""},
    {"port", Match::kExact, &Port, 2, 2,
     "a port name and a device (PCI address or net_* vdev): port NAME DEVICE", ""},
    {"address", Match::kExact, &Address, 2, 2,
     "a port name and an address with its prefix length: address PORT A/LEN", ""},
    {"vlan", Match::kExact, &Vlan, 2, 2, "a port name and a VLAN id: vlan PORT ID", ""},
    {"service", Match::kExact, &Service, 3, 3,
     "a port name, echo|discard|source and a TCP port: service PORT KIND TCPPORT", ""},
    {"route", Match::kExact, &Route, 3, 3, "PREFIX via GATEWAY", ""},
    {"default-gateway", Match::kExact, &DefaultGateway, 1, 1, "a gateway address", ""},
};

// True when `a` lies in the subnet of one of the ports' addresses; `own` is set when it is
// one of those addresses.
bool IsConnected(const DataplaneConfig& dp, const net::IpAddr& a, bool* own) {
  bool connected = false;
  for (const PortConfig& p : dp.ports) {
    for (const net::IpPrefix& pa : p.addresses) {
      if (pa.addr == a) *own = true;
      if (net::PrefixContains(pa, a)) connected = true;
    }
  }
  return connected;
}

}  // namespace

std::span<const KeywordRow> DataplaneKeywords() { return kDataplaneKeywords; }

void CheckWholeConfig(ParseContext& ctx) {
  using Severity = Diagnostic::Severity;
  const DataplaneConfig& dp = ctx.config.dataplane;
  if (!dp.present) {
    ctx.AddAt(Severity::kAlert, "", 0, "dataplane",
              "no 'dataplane' section: sluice needs at least one port.");
    return;
  }
  if (dp.ports.empty()) {
    ctx.AddAt(Severity::kAlert, ctx.dataplane_file, ctx.dataplane_line, "dataplane",
              "the 'dataplane' section declares no 'port': sluice needs at least one port.");
  }
  for (size_t i = 0; i < dp.routes.size(); ++i) {
    const RouteConfig& r = dp.routes[i];
    const std::string& keyword = ctx.route_keywords[i];
    bool own = false;
    const bool connected = IsConnected(dp, r.gateway, &own);
    if (own) {
      ctx.AddAt(Severity::kAlert, r.file, r.line, keyword,
                "'" + keyword + "' gateway " + net::ToString(r.gateway) +
                    " is one of sluice's own addresses.");
    } else if (!connected) {
      ctx.AddAt(Severity::kAlert, r.file, r.line, keyword,
                "'" + keyword + "' gateway " + net::ToString(r.gateway) +
                    " is not inside the subnet of any port address.");
    }
  }
  if (dp.workers == 0 && ctx.config.global.nbthread && *ctx.config.global.nbthread > kMaxWorkers) {
    ctx.AddAt(Severity::kAlert, ctx.nbthread_file, ctx.nbthread_line, "nbthread",
              "'nbthread' " + std::to_string(*ctx.config.global.nbthread) +
                  " is more than sluice's 16 workers; set 'workers' in the 'dataplane' "
                  "section.");
  }
}

}  // namespace sluice::config
