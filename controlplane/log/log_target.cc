// Slow path: `log` targets as haproxy reads them (configuration.txt 4.2 `log`) and the
// syslog framing of messages (RFC 3164 section 4.1, RFC 5424 section 6, and the shorter
// forms of the `format` option).
#include <sys/un.h>

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "controlplane/log/log.h"
#include "controlplane/log/log_time.h"
#include "dataplane/net/addr_text.h"

namespace sluice::log {
namespace {

using Kind = LogTarget::Kind;
using Format = LogTarget::Format;

constexpr std::string_view kFacilities[] = {
    "kern",   "user",   "mail",   "daemon", "auth",   "syslog", "lpr",    "news",
    "uucp",   "cron",   "auth2",  "ftp",    "ntp",    "audit",  "alert",  "cron2",
    "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
};
constexpr std::string_view kLevels[] = {"emerg",   "alert",  "crit", "err",
                                        "warning", "notice", "info", "debug"};

struct FormatName {
  std::string_view name;
  Format format;
};
constexpr FormatName kFormats[] = {
    {"rfc3164", Format::kRfc3164},   {"rfc5424", Format::kRfc5424}, {"raw", Format::kRaw},
    {"short", Format::kShort},       {"local", Format::kLocal},     {"iso", Format::kIso},
    {"priority", Format::kPriority}, {"timed", Format::kTimed},
};

constexpr uint32_t kMinLen = 80;  // the `len` range of configuration.txt
constexpr uint32_t kMaxLen = 65535;

std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

std::vector<std::string_view> Words(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

// Decimal digits only, at most `max`.
std::optional<uint32_t> Decimal(std::string_view s, uint32_t max) {
  if (s.empty() || s.size() > 10) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > max) return std::nullopt;
  return static_cast<uint32_t>(v);
}

constexpr size_t kMaxUnixPath = sizeof(sockaddr_un::sun_path) - 1;

// An IP destination "A", "A:P", "[A]", "[A]:P" or an IPv6 address whose last colon starts the
// port ("fd00::1:514"); `family` 4 or 6 when a prefix asked for one, else 0.
std::string ParseUdp(std::string_view text, std::string_view written, int family, LogTarget* t) {
  std::string_view host = text;
  std::string_view port;
  bool has_port = false;
  if (!text.empty() && text[0] == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) return "missing ']' in " + Quote(written);
    host = text.substr(1, close - 1);
    const std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return "unexpected " + Quote(rest) + " after ']' in " + Quote(written);
      port = rest.substr(1);
      has_port = true;
    }
  } else if (const size_t colon = text.rfind(':'); colon != std::string_view::npos) {
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    has_port = true;
    // "fd00::1" alone: the whole text is the address.
    if (host.find(':') != std::string_view::npos && !net::ParseIp(host) && net::ParseIpv6(text)) {
      host = text;
      has_port = false;
    }
  }
  if (host.empty()) return "a log target needs an address, got " + Quote(written);
  std::optional<net::IpAddr> ip;
  if (host == "localhost") {
    ip = net::ParseIp(family == 6 ? "::1" : "127.0.0.1");
  } else {
    ip = net::ParseIp(host);
  }
  if (!ip) {
    return Quote(host) + " is not a numeric IPv4 or IPv6 address (sluice resolves no names)";
  }
  if (family == 4 && ip->is_v6) return Quote(written) + " is not an IPv4 address";
  if (family == 6 && !ip->is_v6) return Quote(written) + " is not an IPv6 address";
  if (has_port) {
    const auto p = Decimal(port, 65535);
    if (!p || *p == 0) {
      return "port " + Quote(port) + " in " + Quote(written) + " is not between 1 and 65535";
    }
    t->port = static_cast<uint16_t>(*p);
  }
  t->kind = ip->is_v6 ? Kind::kUdp6 : Kind::kUdp4;
  t->address = net::ToString(*ip);
  return {};
}

std::string ParsePath(std::string_view path, std::string_view written, Kind kind, LogTarget* t) {
  if (path.empty()) return Quote(written) + " expects a path";
  if (kind == Kind::kUnix && path.size() > kMaxUnixPath) {
    return "unix socket path " + Quote(path) + " is longer than " + std::to_string(kMaxUnixPath) +
           " bytes";
  }
  t->kind = kind;
  t->path = std::string(path);
  return {};
}

// The destination word; returns an error text or nothing.
std::string ParseDestination(std::string_view w, LogTarget* t) {
  if (w == "stdout" || w == "fd@1") {
    t->kind = Kind::kStdout;
    return {};
  }
  if (w == "stderr" || w == "fd@2") {
    t->kind = Kind::kStderr;
    return {};
  }
  if (!w.empty() && w[0] == '/') return ParsePath(w, w, Kind::kUnix, t);
  const size_t at = w.find('@');
  if (at == std::string_view::npos) return ParseUdp(w, w, 0, t);
  const std::string_view prefix = w.substr(0, at + 1);
  const std::string_view rest = w.substr(at + 1);
  if (prefix == "file@") return ParsePath(rest, w, Kind::kFile, t);
  if (prefix == "unix@" || prefix == "uxdg@") return ParsePath(rest, w, Kind::kUnix, t);
  if (prefix == "udp@") return ParseUdp(rest, w, 0, t);
  if (prefix == "ipv4@" || prefix == "udp4@") return ParseUdp(rest, w, 4, t);
  if (prefix == "ipv6@" || prefix == "udp6@") return ParseUdp(rest, w, 6, t);
  return "target " + Quote(w) + " : " + Quote(prefix) +
         " is not supported by sluice (an IP address and port, udp@, ipv4@, ipv6@, a unix "
         "socket path, unix@, stdout, stderr or file@PATH)";
}

std::string ParseSample(std::string_view value, LogTarget* t) {
  const std::string usage = "'sample' expects RANGES:SIZE (1-3:4), got " + Quote(value);
  const size_t colon = value.rfind(':');
  if (colon == std::string_view::npos) return usage;
  const auto size = Decimal(value.substr(colon + 1), UINT32_MAX);
  if (!size || *size == 0) return usage;
  std::string_view ranges = value.substr(0, colon);
  t->sample_ranges.clear();
  while (true) {
    const size_t comma = ranges.find(',');
    const std::string_view r = ranges.substr(0, comma);
    const size_t dash = r.find('-');
    const auto first = Decimal(r.substr(0, dash), UINT32_MAX);
    const auto last =
        dash == std::string_view::npos ? first : Decimal(r.substr(dash + 1), UINT32_MAX);
    if (!first || !last) return usage;
    if (*first == 0 || *first > *last || *last > *size) {
      return "'sample' : range " + Quote(r) + " is not within 1-" + std::to_string(*size);
    }
    t->sample_ranges.emplace_back(*first, *last);
    if (comma == std::string_view::npos) break;
    ranges.remove_prefix(comma + 1);
  }
  t->sample_size = *size;
  return {};
}

void AppendPri(unsigned pri, std::string* out) {
  out->push_back('<');
  out->append(std::to_string(pri));
  out->push_back('>');
}

}  // namespace

std::optional<uint8_t> ParseFacility(std::string_view name) {
  for (size_t i = 0; i < std::size(kFacilities); ++i) {
    if (kFacilities[i] == name) return static_cast<uint8_t>(i);
  }
  return std::nullopt;
}

std::optional<uint8_t> ParseLevel(std::string_view name) {
  for (size_t i = 0; i < std::size(kLevels); ++i) {
    if (kLevels[i] == name) return static_cast<uint8_t>(i);
  }
  return std::nullopt;
}

base::Result<LogTarget> ParseLogTarget(std::string_view line) {
  using base::Error;
  const std::vector<std::string_view> w = Words(line);
  if (w.empty()) return Error{"expects a target and a facility (127.0.0.1:514 local0)"};
  if (w[0] == "global") return Error{"'global' is not a target"};
  LogTarget t;
  if (std::string e = ParseDestination(w[0], &t); !e.empty()) return Error{std::move(e)};
  size_t i = 1;
  while (i < w.size() && (w[i] == "len" || w[i] == "format" || w[i] == "sample")) {
    const std::string_view option = w[i];
    if (i + 1 >= w.size()) return Error{Quote(option) + " expects a value"};
    const std::string_view value = w[i + 1];
    if (option == "len") {
      const auto len = Decimal(value, kMaxLen);
      if (!len || *len < kMinLen) {
        return Error{"'len' expects an integer between " + std::to_string(kMinLen) + " and " +
                     std::to_string(kMaxLen) + ", got " + Quote(value)};
      }
      t.max_len = *len;
    } else if (option == "format") {
      const auto* f = std::find_if(std::begin(kFormats), std::end(kFormats),
                                   [&](const FormatName& x) { return x.name == value; });
      if (f == std::end(kFormats)) {
        return Error{
            "'format' expects local, rfc3164, rfc5424, priority, short, timed, iso or raw, got " +
            Quote(value)};
      }
      t.format = f->format;
    } else if (std::string e = ParseSample(value, &t); !e.empty()) {
      return Error{std::move(e)};
    }
    i += 2;
  }
  if (i >= w.size()) return Error{"expects a facility after the target"};
  const auto facility = ParseFacility(w[i]);
  if (!facility) return Error{"unknown facility " + Quote(w[i])};
  t.facility = *facility;
  if (++i < w.size()) {
    const auto level = ParseLevel(w[i]);
    if (!level) return Error{"unknown level " + Quote(w[i])};
    t.level = *level;
  }
  if (++i < w.size()) {
    const auto min_level = ParseLevel(w[i]);
    if (!min_level) return Error{"unknown minimum level " + Quote(w[i])};
    t.min_level = *min_level;
  }
  if (++i < w.size()) return Error{"extra argument " + Quote(w[i]) + " after the levels"};
  return t;
}

std::string DescribeTarget(const LogTarget& t) {
  switch (t.kind) {
    case Kind::kUdp4:
      return "udp " + t.address + ":" + std::to_string(t.port);
    case Kind::kUdp6:
      return "udp [" + t.address + "]:" + std::to_string(t.port);
    case Kind::kUnix:
      return "unix " + t.path;
    case Kind::kStdout:
      return "stdout";
    case Kind::kStderr:
      return "stderr";
    case Kind::kFile:
      return "file " + t.path;
  }
  return "?";
}

std::string Frame(const LogTarget& t, uint8_t level, std::string_view tag, int pid,
                  std::string_view hostname, int64_t unix_us, std::string_view msg) {
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == '\0')) msg.remove_suffix(1);
  level = std::min<uint8_t>(level, 7);
  const unsigned pri = static_cast<unsigned>(t.facility) * 8 + level;
  std::string out;
  out.reserve(64 + msg.size());
  switch (t.format) {
    case Format::kRfc3164:  // RFC 3164 section 4.1: PRI, TIMESTAMP HOSTNAME, TAG[PID]: MSG
    case Format::kLocal: {
      AppendPri(pri, &out);
      AppendLegacyTime(BreakTime(unix_us, true), &out);
      out.push_back(' ');
      if (t.format == Format::kRfc3164 && !hostname.empty()) {
        out.append(hostname);
        out.push_back(' ');
      }
      if (!tag.empty()) {
        out.append(tag);
        if (pid > 0) {
          out.push_back('[');
          out.append(std::to_string(pid));
          out.push_back(']');
        }
        out.append(": ");
      }
      break;
    }
    case Format::kRfc5424:  // RFC 5424 section 6: PRI VERSION SP TIMESTAMP SP HOSTNAME SP
                            // APP-NAME SP PROCID SP MSGID SP STRUCTURED-DATA SP MSG
      AppendPri(pri, &out);
      out.append("1 ");
      AppendIsoTime(BreakTime(unix_us, true), &out);
      out.push_back(' ');
      out.append(hostname.empty() ? std::string_view("-") : hostname);
      out.push_back(' ');
      out.append(tag.empty() ? std::string_view("-") : tag);
      out.push_back(' ');
      out.append(pid > 0 ? std::to_string(pid) : std::string("-"));
      out.append(" - - ");
      break;
    case Format::kPriority:
      AppendPri(pri, &out);
      break;
    case Format::kShort:
      AppendPri(level, &out);
      break;
    case Format::kTimed:
      AppendPri(level, &out);
      AppendIsoTime(BreakTime(unix_us, true), &out);
      out.push_back(' ');
      break;
    case Format::kIso:
      AppendIsoTime(BreakTime(unix_us, true), &out);
      out.push_back(' ');
      break;
    case Format::kRaw:
      break;
  }
  out.append(msg);
  if (out.size() > t.max_len) out.resize(t.max_len);
  return out;
}

}  // namespace sluice::log
