// sl-loadgen client (rr, crr, bulk) and hold: one engine of connection slots.
//
// Each slot owns at most one socket. A slot waiting for a (re)connect sits in a FIFO; at most
// kMaxOpening slots are between connect() and their first full echo at any time, so a proxy's
// accept backlog is never overrun. rr, crr and hold sockets are edge-triggered (no
// epoll_ctl(MOD) per transaction); bulk is level-triggered with a bounded burst of writes per
// event, so one fast connection cannot starve the deadline check.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "bench/loadgen/loadgen.h"

namespace sluice::loadgen {

namespace {

constexpr uint32_t kMaxOpening = 1000;
constexpr int kMaxEvents = 512;
constexpr int kBulkWritesPerEvent = 8;
constexpr uint32_t kSignalSlot = 0xffffffff;
constexpr uint32_t kStdinSlot = 0xfffffffe;

enum class State : uint8_t { kClosed, kConnecting, kSending, kReceiving, kStreaming, kIdle };

struct Slot {
  int fd = -1;
  uint32_t gen = 0;  // bumped per socket, so events of a closed socket are recognised
  State state = State::kClosed;
  bool opening = false;  // counted in opening_
  uint32_t done = 0;     // bytes of the current request sent or response received
  uint64_t start_ns = 0;
};

const char* ModeName(Mode m) {
  switch (m) {
    case Mode::kRr:
      return "rr";
    case Mode::kCrr:
      return "crr";
    case Mode::kBulk:
      return "bulk";
    case Mode::kHold:
      return "hold";
  }
  return "?";
}

class Engine {
 public:
  explicit Engine(const ClientOptions& opt)
      : opt_(opt),
        mode_(opt.mode),
        size_(opt.size),
        slots_(opt.conns),
        queue_(opt.conns),
        wbuf_(opt.size, 'x'),
        rbuf_(mode_ == Mode::kBulk ? 0 : opt.size) {}

  int Run() {
    RaiseNofile();
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    const int sig = OpenSignalFd();
    if (ep_ < 0 || sig < 0 || !Add(sig, EPOLLIN, kSignalSlot)) {
      std::fprintf(stderr, "sl-loadgen: epoll/signalfd: %s\n", std::strerror(errno));
      return 1;
    }
    for (uint32_t i = 0; i < opt_.conns; ++i) Push(i);
    const uint64_t t0 = NowNs();
    const bool hold = mode_ == Mode::kHold;
    if (!hold) {
      ws_ = t0 + static_cast<uint64_t>(opt_.warmup_s * 1e9);
      we_ = ws_ + static_cast<uint64_t>(opt_.duration_s * 1e9);
    }
    Pump(t0);
    bool counting = false;
    bool ready = false;
    bool stop = false;
    uint64_t now = t0;
    epoll_event evs[kMaxEvents];
    while (!stop) {
      now = NowNs();
      int timeout_ms = -1;
      if (!hold) {
        if (!counting && now >= ws_) {
          counting = true;
          Mark("window start");
        }
        if (now >= we_) break;
        const uint64_t next = counting ? we_ : ws_;
        timeout_ms = static_cast<int>((next - now + 999999) / 1000000);
      } else if (!ready && established_ == opt_.conns) {
        ready = true;
        std::printf("ready %u\n", opt_.conns);
        std::fflush(stdout);
        if (!WatchStdin()) break;
      } else if (errors_ > opt_.conns + 1000) {
        std::fprintf(stderr,
                     "sl-loadgen hold: giving up after %lu errors (%u established; last "
                     "connect error: %s)\n",
                     static_cast<unsigned long>(errors_), established_,
                     last_errno_ != 0 ? std::strerror(last_errno_) : "reset by peer");
        return 1;
      }
      if (retry_soon_ && (timeout_ms < 0 || timeout_ms > 1)) timeout_ms = 1;
      retry_soon_ = false;
      const int n = epoll_wait(ep_, evs, kMaxEvents, timeout_ms);
      if (n < 0 && errno != EINTR) {
        std::fprintf(stderr, "sl-loadgen: epoll_wait: %s\n", std::strerror(errno));
        return 1;
      }
      for (int k = 0; k < n; ++k) {
        const auto id = static_cast<uint32_t>(evs[k].data.u64 & 0xffffffff);
        const auto gen = static_cast<uint32_t>(evs[k].data.u64 >> 32);
        if (id == kSignalSlot) {
          stop = true;
        } else if (id == kStdinSlot) {
          char b[256];
          const ssize_t r = read(0, b, sizeof(b));
          if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) stop = true;
        } else if (slots_[id].gen == gen && slots_[id].fd >= 0) {
          OnEvent(id, evs[k].events, NowNs());
        }
      }
      Pump(NowNs());
    }
    if (hold) return Finish(ready);
    now = NowNs();
    Mark("window end");
    const uint64_t end = now < we_ ? now : we_;
    const double seconds = counting && end > ws_ ? static_cast<double>(end - ws_) / 1e9 : 0;
    Report(seconds);
    return 0;
  }

 private:
  void Mark(const char* what) const {
    if (opt_.marks) std::fprintf(stderr, "%s\n", what);
  }

  bool Add(int fd, uint32_t events, uint64_t data) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = data;
    return epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) == 0;
  }

  void Push(uint32_t i) {
    queue_[(queue_head_ + queued_) % queue_.size()] = i;
    ++queued_;
  }

  uint32_t Pop() {
    const uint32_t i = queue_[queue_head_];
    queue_head_ = (queue_head_ + 1) % queue_.size();
    --queued_;
    return i;
  }

  bool InWindow(uint64_t now) const { return now >= ws_ && now < we_; }

  // Starts as many queued connects as the opening bound allows; each queued slot is tried
  // at most once per call, so a connect that fails at once does not spin here.
  void Pump(uint64_t now) {
    for (size_t budget = queued_; budget > 0 && queued_ > 0 && opening_ < kMaxOpening; --budget) {
      const uint32_t i = Pop();
      if (!Launch(i, now)) {
        last_errno_ = errno;
        ++errors_;
        Push(i);
        retry_soon_ = true;
      }
    }
  }

  bool Launch(uint32_t i, uint64_t now) {
    const Endpoint& t = opt_.target;
    const int fd = socket(t.Family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    const int one = 1;
    if (!opt_.src.empty()) {
      const Endpoint& s = opt_.src[next_src_];
      next_src_ = (next_src_ + 1) % opt_.src.size();
      // Port 0 with IP_BIND_ADDRESS_NO_PORT: the port is picked at connect() for the whole
      // 4-tuple, so each source address offers the full ephemeral range per destination.
      if (setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one)) != 0 ||
          bind(fd, reinterpret_cast<const sockaddr*>(&s.addr), s.len) != 0) {
        const int e = errno;
        close(fd);
        errno = e;
        return false;
      }
    }
    if (mode_ != Mode::kCrr) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, reinterpret_cast<const sockaddr*>(&t.addr), t.len) != 0 &&
        errno != EINPROGRESS) {
      const int e = errno;
      close(fd);
      errno = e;
      return false;
    }
    Slot& s = slots_[i];
    ++s.gen;
    const uint32_t events =
        mode_ == Mode::kBulk ? EPOLLOUT : EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    if (!Add(fd, events, uint64_t{s.gen} << 32 | i)) {
      close(fd);
      return false;
    }
    s.fd = fd;
    s.state = State::kConnecting;
    s.opening = true;
    s.done = 0;
    s.start_ns = now;
    ++opening_;
    return true;
  }

  void CloseSlot(Slot& s) {
    close(s.fd);
    s.fd = -1;
    s.state = State::kClosed;
    if (s.opening) {
      s.opening = false;
      --opening_;
    }
  }

  void Fail(uint32_t i) {
    CloseSlot(slots_[i]);
    ++errors_;
    Push(i);
  }

  void OnEvent(uint32_t i, uint32_t ev, uint64_t now) {
    Slot& s = slots_[i];
    if (s.state == State::kConnecting) {
      if (ev & (EPOLLERR | EPOLLHUP)) {
        int err = 0;
        socklen_t len = sizeof(err);
        getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        last_errno_ = err;
        Fail(i);
        return;
      }
      if (!(ev & EPOLLOUT)) return;
      if (mode_ == Mode::kBulk) {
        s.state = State::kStreaming;
        s.opening = false;
        --opening_;
      } else {
        s.state = State::kSending;
        if (mode_ != Mode::kCrr) s.start_ns = now;  // crr counts from connect()
      }
    }
    switch (s.state) {
      case State::kSending:
        Send(i);
        return;
      case State::kReceiving:
        Receive(i, now);
        return;
      case State::kStreaming:
        Stream(i, now);
        return;
      case State::kIdle:
        Watch(s);
        return;
      case State::kClosed:
      case State::kConnecting:
        return;
    }
  }

  void Send(uint32_t i) {
    Slot& s = slots_[i];
    for (;;) {
      const ssize_t n = write(s.fd, wbuf_.data() + s.done, size_ - s.done);
      if (n > 0) {
        s.done += static_cast<uint32_t>(n);
        if (s.done == size_) {
          s.state = State::kReceiving;
          s.done = 0;
          return;
        }
      } else if (n < 0 && errno == EAGAIN) {
        return;  // the next EPOLLOUT edge resumes
      } else if (n >= 0 || errno != EINTR) {
        Fail(i);
        return;
      }
    }
  }

  void Receive(uint32_t i, uint64_t now) {
    Slot& s = slots_[i];
    for (;;) {
      const ssize_t n = read(s.fd, rbuf_.data(), size_ - s.done);
      if (n > 0) {
        s.done += static_cast<uint32_t>(n);
        if (s.done == size_) {
          Complete(i, now);
          return;
        }
      } else if (n < 0 && errno == EAGAIN) {
        return;
      } else if (n == 0 || errno != EINTR) {
        Fail(i);
        return;
      }
    }
  }

  void Complete(uint32_t i, uint64_t now) {
    Slot& s = slots_[i];
    if (InWindow(now)) {
      ++transactions_;
      bytes_ += size_;
      hist_.Record(now - s.start_ns);
    }
    if (s.opening) {
      s.opening = false;
      --opening_;
    }
    switch (mode_) {
      case Mode::kRr:
        s.state = State::kSending;
        s.done = 0;
        s.start_ns = now;
        Send(i);
        return;
      case Mode::kCrr:
        CloseSlot(s);  // a normal close: this side keeps the TIME_WAIT
        Push(i);
        return;
      case Mode::kHold:
        s.state = State::kIdle;
        ++established_;
        return;
      case Mode::kBulk:
        return;
    }
  }

  void Stream(uint32_t i, uint64_t now) {
    Slot& s = slots_[i];
    const bool counted = InWindow(now);
    for (int k = 0; k < kBulkWritesPerEvent; ++k) {
      const ssize_t n = write(s.fd, wbuf_.data() + s.done, size_ - s.done);
      if (n > 0) {
        s.done += static_cast<uint32_t>(n);
        if (counted) bytes_ += static_cast<uint64_t>(n);
        if (s.done == size_) {
          s.done = 0;
          if (counted) ++transactions_;
        }
      } else if (n < 0 && errno == EAGAIN) {
        return;
      } else if (n >= 0 || errno != EINTR) {
        Fail(i);
        return;
      }
    }
  }

  // An idle held connection only wakes up when the peer closes or resets it.
  void Watch(Slot& s) {
    char b[256];
    const ssize_t n = read(s.fd, b, sizeof(b));
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
      CloseSlot(s);
      ++lost_;
    }
  }

  // Hold waits for EOF on stdin. A pipe or terminal is polled; a regular file or /dev/null
  // cannot be, and is read to its end at once.
  bool WatchStdin() {
    if (Add(0, EPOLLIN, kStdinSlot)) return true;
    char b[256];
    while (read(0, b, sizeof(b)) > 0) {
    }
    return false;
  }

  int Finish(bool ready) {
    for (Slot& s : slots_) {
      if (s.fd >= 0) CloseSlot(s);
    }
    if (lost_ > 0) {
      std::fprintf(stderr, "sl-loadgen hold: %lu connections closed by the peer while held\n",
                   static_cast<unsigned long>(lost_));
    }
    return ready ? 0 : 1;
  }

  void Report(double seconds) const {
    const double tps = seconds > 0 ? static_cast<double>(transactions_) / seconds : 0;
    const double gbps = seconds > 0 ? static_cast<double>(bytes_) * 8 / seconds / 1e9 : 0;
    std::printf(
        "{\"mode\":\"%s\",\"conns\":%u,\"seconds\":%.3f,\"transactions\":%lu,\"tps\":%.1f,"
        "\"bytes\":%lu,\"gbps\":%.4f,\"p50_us\":%.2f,\"p99_us\":%.2f,\"errors\":%lu}\n",
        ModeName(mode_), opt_.conns, seconds, static_cast<unsigned long>(transactions_), tps,
        static_cast<unsigned long>(bytes_), gbps, hist_.Quantile(0.50) / 1e3,
        hist_.Quantile(0.99) / 1e3, static_cast<unsigned long>(errors_));
    std::fflush(stdout);
  }

  const ClientOptions& opt_;
  const Mode mode_;
  const uint32_t size_;
  std::vector<Slot> slots_;
  std::vector<uint32_t> queue_;  // slots waiting for a connect, FIFO
  size_t queue_head_ = 0;
  size_t queued_ = 0;
  std::vector<char> wbuf_;
  std::vector<char> rbuf_;
  Histogram hist_;
  int ep_ = -1;
  size_t next_src_ = 0;
  uint32_t opening_ = 0;
  uint32_t established_ = 0;
  bool retry_soon_ = false;
  uint64_t ws_ = 0;  // counted window [ws_, we_)
  uint64_t we_ = 0;
  uint64_t transactions_ = 0;
  uint64_t bytes_ = 0;
  uint64_t errors_ = 0;
  uint64_t lost_ = 0;
  int last_errno_ = 0;
};

}  // namespace

int RunClient(const ClientOptions& opt) {
  auto engine = std::make_unique<Engine>(opt);  // the histogram is 58 KiB: off the stack
  return engine->Run();
}

}  // namespace sluice::loadgen
