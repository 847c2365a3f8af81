#pragma once
// sl-loadgen: a single-threaded epoll load generator and echo (or HTTP) backend, used to
// measure HAProxy and Sluice side by side (bench/lib). Linux only; IPv4 and IPv6.
//
// The hot loops (serve, client) never allocate: connection state lives in tables sized at
// start-up, and every buffer is fixed.

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::loadgen {

// One socket address, as given on the command line.
struct Endpoint {
  sockaddr_storage addr{};
  socklen_t len = 0;
  std::string text;

  int Family() const { return addr.ss_family; }
};

// "ADDR:PORT" or "[V6ADDR]:PORT".
bool ParseEndpoint(std::string_view text, Endpoint* out);
// "ADDR" or "[V6ADDR]" (or a bare V6ADDR), with port 0: a source address to bind.
bool ParseHost(std::string_view text, Endpoint* out);

uint64_t NowNs();

// Raises RLIMIT_NOFILE to fs.nr_open when allowed (root), else the soft limit to the hard one.
// Returns the resulting soft limit.
uint64_t RaiseNofile();

// Blocks SIGINT and SIGTERM and returns a signalfd that reports them (or -1). Also ignores
// SIGPIPE, so writes to reset sockets return EPIPE.
int OpenSignalFd();

// Latency histogram with log-linear buckets: exact below 128 ns, then 128 buckets per power
// of two, so any value is reported within 0.4% (bucket midpoint). Fixed size, no allocation.
class Histogram {
 public:
  void Record(uint64_t ns) {
    ++counts_[Index(ns)];
    ++total_;
  }
  uint64_t Total() const { return total_; }
  // Value (ns) at quantile q in [0, 1]; 0 when empty.
  double Quantile(double q) const;

 private:
  static constexpr int kSubBits = 7;
  static constexpr uint64_t kSub = uint64_t{1} << kSubBits;
  static constexpr size_t kBuckets = (64 - kSubBits + 1) * kSub;

  static size_t Index(uint64_t v);
  static double Midpoint(size_t index);

  std::array<uint64_t, kBuckets> counts_{};
  uint64_t total_ = 0;
};

enum class Mode { kRr, kCrr, kBulk, kHold };

struct ServeOptions {
  std::vector<Endpoint> listen;
  bool discard = false;
  // --http BYTES: answer every request head with 200 and a body of http_body bytes
  // (keep-alive; requests carry no body), instead of echoing.
  bool http = false;
  uint32_t http_body = 0;
};

struct ClientOptions {
  Mode mode = Mode::kRr;
  Endpoint target;
  uint32_t conns = 0;
  double duration_s = 0;
  double warmup_s = 0.5;
  uint32_t size = 0;
  std::vector<Endpoint> src;
  // Print "window start" / "window end" lines on stderr at the edges of the counted window,
  // so a harness can sample a process's CPU time over exactly that window.
  bool marks = false;
};

int RunServe(const ServeOptions& opt);
// client (rr, crr, bulk) and hold.
int RunClient(const ClientOptions& opt);

}  // namespace sluice::loadgen
