// sl-loadgen serve: the echo (or discard, or HTTP) backend.
//
// Level-triggered epoll, one read per readiness event. An echo that the socket cannot take
// whole is parked in the connection's pending buffer and reading stops until it drains; the
// buffer keeps its capacity, so back-pressure does not churn the heap either. With --http,
// every request head read (up to its empty line; requests carry no body) is answered with
// the same prebuilt response, written and parked the same way.
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "bench/loadgen/loadgen.h"

namespace sluice::loadgen {

namespace {

constexpr int kBacklog = 65535;  // the kernel caps it at net.core.somaxconn
constexpr int kMaxEvents = 512;
constexpr int kAcceptBurst = 256;
constexpr int kPauseMs = 100;
constexpr size_t kBufBytes = 256 * 1024;
constexpr uint64_t kTagListen = uint64_t{1} << 32;
constexpr uint64_t kTagSignal = uint64_t{2} << 32;

struct Conn {
  bool open = false;
  bool blocked = false;  // waiting for EPOLLOUT with a pending echo (or answer)
  uint8_t matched = 0;   // --http: bytes of "\r\n\r\n" at the end of what was read so far
  std::vector<char> pending;
  size_t pending_off = 0;
};

class Server {
 public:
  explicit Server(const ServeOptions& opt) : opt_(opt), buf_(kBufBytes) {
    if (opt_.http) {
      response_ = "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: " +
                  std::to_string(opt_.http_body) + "\r\n\r\n";
      response_.append(opt_.http_body, 'x');
    }
  }

  int Run() {
    const uint64_t nofile = RaiseNofile();
    conns_.resize(nofile < 65536 ? nofile : 65536);
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    const int sig = OpenSignalFd();
    if (ep_ < 0 || sig < 0) return Fail("epoll/signalfd");
    if (!Add(sig, EPOLLIN, kTagSignal)) return Fail("epoll_ctl signalfd");
    for (size_t i = 0; i < opt_.listen.size(); ++i) {
      if (!Listen(opt_.listen[i], i)) return 1;
    }
    epoll_event evs[kMaxEvents];
    for (;;) {
      const int n = epoll_wait(ep_, evs, kMaxEvents, paused_ ? kPauseMs : -1);
      if (paused_ && NowNs() >= resume_ns_) Resume();
      if (n < 0) {
        if (errno == EINTR) continue;
        return Fail("epoll_wait");
      }
      for (int k = 0; k < n; ++k) {
        const uint64_t tag = evs[k].data.u64 & ~uint64_t{0xffffffff};
        const int id = static_cast<int>(evs[k].data.u64 & 0xffffffff);
        if (tag == kTagSignal) return 0;
        if (tag == kTagListen) {
          Accept(listeners_[static_cast<size_t>(id)]);
        } else if (conns_[static_cast<size_t>(id)].blocked) {
          OnWritable(id);  // EPOLLOUT, or an error the failing write reports
        } else {
          OnReadable(id);
        }
      }
    }
  }

 private:
  static int Fail(const char* what) {
    std::fprintf(stderr, "sl-loadgen serve: %s: %s\n", what, std::strerror(errno));
    return 1;
  }

  bool Add(int fd, uint32_t events, uint64_t data) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = data;
    return epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) == 0;
  }

  void Modify(int fd, uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = static_cast<uint64_t>(fd);
    epoll_ctl(ep_, EPOLL_CTL_MOD, fd, &ev);
  }

  bool Listen(const Endpoint& e, size_t index) {
    const int fd = socket(e.Family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(fd, reinterpret_cast<const sockaddr*>(&e.addr), e.len) != 0 ||
        listen(fd, kBacklog) != 0) {
      std::fprintf(stderr, "sl-loadgen serve: listen %s: %s\n", e.text.c_str(),
                   std::strerror(errno));
      return false;
    }
    listeners_.push_back(fd);
    return Add(fd, EPOLLIN, kTagListen | index);
  }

  void Accept(int lfd) {
    const int one = 1;
    for (int k = 0; k < kAcceptBurst; ++k) {
      const int fd = accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE) Pause();
        return;
      }
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      const size_t idx = static_cast<size_t>(fd);
      if (idx >= conns_.size()) conns_.resize(idx * 2);  // start-up growth, not per byte
      Conn& c = conns_[idx];
      c.open = true;
      c.blocked = false;
      c.matched = 0;
      c.pending_off = 0;
      c.pending.clear();
      if (!Add(fd, EPOLLIN | EPOLLRDHUP, idx)) Close(fd);
    }
  }

  // Out of descriptors: a level-triggered listener would report the same pending connection
  // forever, so all listeners leave the epoll set for kPauseMs.
  void Pause() {
    if (!paused_) {
      if (!warned_) {
        std::fprintf(stderr, "sl-loadgen serve: accept: %s (RLIMIT_NOFILE?); pausing\n",
                     std::strerror(errno));
        warned_ = true;
      }
      for (size_t i = 0; i < listeners_.size(); ++i) {
        epoll_ctl(ep_, EPOLL_CTL_DEL, listeners_[i], nullptr);
      }
    }
    paused_ = true;
    resume_ns_ = NowNs() + kPauseMs * 1000000u;
  }

  void Resume() {
    paused_ = false;
    for (size_t i = 0; i < listeners_.size(); ++i) Add(listeners_[i], EPOLLIN, kTagListen | i);
  }

  void Close(int fd) {
    conns_[static_cast<size_t>(fd)].open = false;
    close(fd);
  }

  void OnReadable(int fd) {
    Conn& c = conns_[static_cast<size_t>(fd)];
    if (!c.open || c.blocked) return;  // stale event from an earlier fd of this number
    const ssize_t n = read(fd, buf_.data(), buf_.size());
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
      Close(fd);
      return;
    }
    if (n < 0 || opt_.discard) return;
    if (!opt_.http) {
      Send(fd, c, buf_.data(), static_cast<size_t>(n));
      return;
    }
    const size_t heads = CountHeads(c, static_cast<size_t>(n));
    if (heads == 1) {
      Send(fd, c, response_.data(), response_.size());
    } else if (heads > 1) {  // pipelined: all the answers in one write
      out_.clear();
      for (size_t k = 0; k < heads; ++k) {
        out_.insert(out_.end(), response_.begin(), response_.end());
      }
      Send(fd, c, out_.data(), out_.size());
    }
  }

  // --http: how many request heads end in the n bytes just read into buf_ (a head ends with an
  // empty line); a terminator split between reads is carried over in c.matched.
  size_t CountHeads(Conn& c, size_t n) {
    static constexpr char kEnd[] = "\r\n\r\n";
    size_t heads = 0;
    for (size_t i = 0; i < n; ++i) {
      if (buf_[i] == kEnd[c.matched]) {
        if (++c.matched == 4) {
          ++heads;
          c.matched = 0;
        }
      } else {
        c.matched = buf_[i] == '\r' ? 1 : 0;
      }
    }
    return heads;
  }

  // Writes what the socket takes; the rest is parked in the connection's pending buffer and
  // reading stops until it drains.
  void Send(int fd, Conn& c, const char* data, size_t len) {
    ssize_t w = write(fd, data, len);
    if (w == static_cast<ssize_t>(len)) return;
    if (w < 0) {
      if (errno != EAGAIN) {
        Close(fd);
        return;
      }
      w = 0;
    }
    c.pending.assign(data + w, data + len);
    c.pending_off = 0;
    c.blocked = true;
    Modify(fd, EPOLLOUT);
  }

  void OnWritable(int fd) {
    Conn& c = conns_[static_cast<size_t>(fd)];
    if (!c.open || !c.blocked) return;
    const ssize_t w = write(fd, c.pending.data() + c.pending_off, c.pending.size() - c.pending_off);
    if (w < 0) {
      if (errno != EAGAIN && errno != EINTR) Close(fd);
      return;
    }
    c.pending_off += static_cast<size_t>(w);
    if (c.pending_off == c.pending.size()) {
      c.blocked = false;
      c.pending.clear();
      Modify(fd, EPOLLIN | EPOLLRDHUP);
    }
  }

  const ServeOptions& opt_;
  std::vector<char> buf_;
  std::string response_;   // --http: status line, head and body
  std::vector<char> out_;  // --http: the answers to pipelined requests (keeps its capacity)
  std::vector<Conn> conns_;
  std::vector<int> listeners_;
  int ep_ = -1;
  bool paused_ = false;
  bool warned_ = false;
  uint64_t resume_ns_ = 0;
};

}  // namespace

int RunServe(const ServeOptions& opt) {
  Server server(opt);
  return server.Run();
}

}  // namespace sluice::loadgen
