// sl-loadgen entry: argument parsing and the helpers shared by serve and client.
#include "bench/loadgen/loadgen.h"

#include <arpa/inet.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <bit>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace sluice::loadgen {

namespace {

bool ParsePort(std::string_view s, uint16_t* port) {
  unsigned v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v == 0 || v > 65535) return false;
  *port = static_cast<uint16_t>(v);
  return true;
}

bool FillAddress(std::string_view host, uint16_t port, Endpoint* out) {
  const std::string h(host);
  out->addr = {};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out->addr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out->addr);
  if (inet_pton(AF_INET, h.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    out->len = sizeof(sockaddr_in);
    return true;
  }
  out->addr = {};
  if (inet_pton(AF_INET6, h.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    out->len = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

}  // namespace

bool ParseEndpoint(std::string_view text, Endpoint* out) {
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return false;
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return false;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return false;  // bare IPv6 needs brackets
  }
  uint16_t p = 0;
  if (!ParsePort(port, &p) || !FillAddress(host, p, out)) return false;
  out->text = std::string(text);
  return true;
}

bool ParseHost(std::string_view text, Endpoint* out) {
  std::string_view host = text;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (!FillAddress(host, 0, out)) return false;
  out->text = std::string(text);
  return true;
}

uint64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

uint64_t RaiseNofile() {
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  rlim_t want = 0;
  if (FILE* f = std::fopen("/proc/sys/fs/nr_open", "r")) {
    unsigned long v = 0;
    if (std::fscanf(f, "%lu", &v) == 1) want = v;
    std::fclose(f);
  }
  if (want > rl.rlim_max) {
    const rlimit raised{want, want};
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) return want;
  }
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  getrlimit(RLIMIT_NOFILE, &rl);
  return rl.rlim_cur;
}

int OpenSignalFd() {
  signal(SIGPIPE, SIG_IGN);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  if (sigprocmask(SIG_BLOCK, &set, nullptr) != 0) return -1;
  return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

size_t Histogram::Index(uint64_t v) {
  if (v < kSub) return static_cast<size_t>(v);
  const int e = 63 - std::countl_zero(v);  // e >= kSubBits
  const uint64_t mantissa = (v >> (e - kSubBits)) & (kSub - 1);
  return static_cast<size_t>(e - kSubBits + 1) * kSub + static_cast<size_t>(mantissa);
}

double Histogram::Midpoint(size_t index) {
  if (index < kSub) return static_cast<double>(index);
  const int e = static_cast<int>(index / kSub) + kSubBits - 1;
  const uint64_t mantissa = index % kSub;
  const double lower = static_cast<double>((kSub + mantissa) << (e - kSubBits));
  const double width = static_cast<double>(uint64_t{1} << (e - kSubBits));
  return lower + width / 2;
}

double Histogram::Quantile(double q) const {
  if (total_ == 0) return 0;
  uint64_t rank = static_cast<uint64_t>(q * static_cast<double>(total_) + 0.999999);
  if (rank < 1) rank = 1;
  if (rank > total_) rank = total_;
  uint64_t seen = 0;
  for (size_t i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) return Midpoint(i);
  }
  return Midpoint(kBuckets - 1);
}

}  // namespace sluice::loadgen

namespace {

using sluice::loadgen::ClientOptions;
using sluice::loadgen::Endpoint;
using sluice::loadgen::Mode;
using sluice::loadgen::ServeOptions;

constexpr char kUsage[] =
    "usage:\n"
    "  sl-loadgen serve --listen ADDR:PORT [--listen ADDR:PORT ...] [--discard | --http BYTES]\n"
    "  sl-loadgen client --mode rr|crr|bulk --target ADDR:PORT --conns N --duration SECONDS\n"
    "                    [--size BYTES] [--src ADDR[,ADDR...]] [--warmup SECONDS] [--marks]\n"
    "  sl-loadgen hold --target ADDR:PORT --conns N [--src ADDR[,ADDR...]]\n"
    "\n"
    "serve   echo every byte back (--discard: read and drop) until SIGINT/SIGTERM. --http:\n"
    "        answer each request head (up to its empty line; requests carry no body) with\n"
    "        200 and a body of BYTES bytes, keeping the connection open.\n"
    "client  rr: N persistent connections, request of --size bytes (default 64), wait for the\n"
    "        whole echo, repeat. crr: N slots, each connects, sends, reads the echo, closes.\n"
    "        bulk: N connections write --size chunks (default 65536) to a --discard server.\n"
    "        Counting starts after --warmup (default 0.5 s). Prints one JSON line on stdout;\n"
    "        bytes are payload bytes sent in the window. --marks prints 'window start' and\n"
    "        'window end' on stderr at the edges of the counted window.\n"
    "hold    opens N connections, each echoing 64 bytes once, prints 'ready N', then idles\n"
    "        until stdin reaches EOF or SIGTERM.\n"
    "\n"
    "--src binds each new socket to the next source address, round-robin, with port 0 and\n"
    "IP_BIND_ADDRESS_NO_PORT; each address brings its own ephemeral ports. For crr set\n"
    "net.ipv4.ip_local_port_range wide (\"1024 65535\") and net.ipv4.tcp_tw_reuse=1.\n";

int Usage(const char* why) {
  if (why != nullptr) std::fprintf(stderr, "sl-loadgen: %s\n", why);
  std::fputs(kUsage, stderr);
  return 2;
}

bool ParseUint(const char* s, uint32_t* out) {
  const std::string_view v(s);
  const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), *out);
  return ec == std::errc() && p == v.data() + v.size();
}

bool ParseSeconds(const char* s, double* out) {
  char* end = nullptr;
  *out = std::strtod(s, &end);
  return end != s && *end == '\0' && *out >= 0 && *out < 1e6;
}

bool ParseSrcList(std::string_view list, std::vector<Endpoint>* out) {
  while (!list.empty()) {
    const size_t comma = list.find(',');
    Endpoint e;
    if (!sluice::loadgen::ParseHost(list.substr(0, comma), &e)) return false;
    out->push_back(e);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return !out->empty();
}

int MainServe(int argc, char** argv) {
  ServeOptions opt;
  for (int i = 2; i < argc; ++i) {
    const std::string_view a(argv[i]);
    if (a == "--discard") {
      opt.discard = true;
    } else if (a == "--http" && i + 1 < argc) {
      if (!ParseUint(argv[++i], &opt.http_body) || opt.http_body > (1u << 24)) {
        return Usage("bad --http body size (0 .. 16777216)");
      }
      opt.http = true;
    } else if (a == "--listen" && i + 1 < argc) {
      Endpoint e;
      if (!sluice::loadgen::ParseEndpoint(argv[++i], &e)) return Usage("bad --listen address");
      opt.listen.push_back(e);
    } else {
      return Usage("unknown serve argument");
    }
  }
  if (opt.listen.empty()) return Usage("serve needs --listen");
  if (opt.discard && opt.http) return Usage("--discard and --http exclude each other");
  return sluice::loadgen::RunServe(opt);
}

int MainClient(int argc, char** argv, bool hold) {
  ClientOptions opt;
  opt.mode = hold ? Mode::kHold : Mode::kRr;
  bool have_mode = hold;
  bool have_target = false;
  bool have_duration = hold;
  bool have_size = false;
  for (int i = 2; i < argc; ++i) {
    const std::string_view a(argv[i]);
    const bool has_value = i + 1 < argc;
    if (!hold && a == "--marks") {
      opt.marks = true;
    } else if (!has_value) {
      return Usage("missing value or unknown argument");
    } else if (!hold && a == "--mode") {
      const std::string_view m(argv[++i]);
      if (m == "rr") {
        opt.mode = Mode::kRr;
      } else if (m == "crr") {
        opt.mode = Mode::kCrr;
      } else if (m == "bulk") {
        opt.mode = Mode::kBulk;
      } else {
        return Usage("--mode must be rr, crr or bulk");
      }
      have_mode = true;
    } else if (a == "--target") {
      if (!sluice::loadgen::ParseEndpoint(argv[++i], &opt.target)) return Usage("bad --target");
      have_target = true;
    } else if (a == "--conns") {
      if (!ParseUint(argv[++i], &opt.conns) || opt.conns == 0) return Usage("bad --conns");
    } else if (!hold && a == "--duration") {
      if (!ParseSeconds(argv[++i], &opt.duration_s) || opt.duration_s <= 0) {
        return Usage("bad --duration");
      }
      have_duration = true;
    } else if (!hold && a == "--warmup") {
      if (!ParseSeconds(argv[++i], &opt.warmup_s)) return Usage("bad --warmup");
    } else if (!hold && a == "--size") {
      if (!ParseUint(argv[++i], &opt.size) || opt.size == 0 || opt.size > (1u << 24)) {
        return Usage("bad --size (1 .. 16777216)");
      }
      have_size = true;
    } else if (a == "--src") {
      if (!ParseSrcList(argv[++i], &opt.src)) return Usage("bad --src list");
    } else {
      return Usage("unknown argument");
    }
  }
  if (!have_mode || !have_target || opt.conns == 0 || !have_duration) {
    return Usage(hold ? "hold needs --target and --conns"
                      : "client needs --mode, --target, --conns and --duration");
  }
  for (const Endpoint& s : opt.src) {
    if (s.Family() != opt.target.Family()) return Usage("--src family differs from --target");
  }
  if (!have_size) opt.size = opt.mode == Mode::kBulk ? 65536 : 64;
  if (hold) opt.size = 64;
  return sluice::loadgen::RunClient(opt);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Usage(nullptr);
  const std::string_view cmd(argv[1]);
  if (cmd == "serve") return MainServe(argc, argv);
  if (cmd == "client") return MainClient(argc, argv, false);
  if (cmd == "hold") return MainClient(argc, argv, true);
  if (cmd == "-h" || cmd == "--help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  return Usage("unknown command");
}
