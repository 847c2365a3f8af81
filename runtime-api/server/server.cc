// Slow path. Listeners, accept, non-blocking I/O and timeouts of the stats socket (server.h).
#include "runtime-api/server/server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

namespace sluice::cli {
namespace {

constexpr uint64_t kListenerTag = uint64_t{1} << 63;
constexpr size_t kReadChunk = 4096;
constexpr int kMaxEvents = 64;

int64_t NowMs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1000000;
}

base::Error Errno(const std::string& what) {
  return base::Error{what + ": " + std::strerror(errno)};
}

}  // namespace

CliServer::CliServer(ApplianceContext& appliance, const Registry& registry, ServerLimits limits)
    : appliance_(appliance), registry_(registry), limits_(limits) {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
}

CliServer::~CliServer() {
  Close();
  if (epoll_fd_ >= 0) close(epoll_fd_);
}

base::Result<bool> CliServer::Listen(const std::vector<ListenerConfig>& listeners) {
  if (epoll_fd_ < 0) return base::Error{"epoll_create1 failed"};
  for (const ListenerConfig& cfg : listeners) {
    Listener l;
    l.level = cfg.level;
    auto r = cfg.kind == ListenerConfig::Kind::kUnix ? OpenUnix(cfg, l) : OpenTcp(cfg, l);
    if (!r) return r;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kListenerTag | listeners_.size();
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, l.fd, &ev) != 0) {
      close(l.fd);
      return Errno("epoll_ctl");
    }
    listeners_.push_back(std::move(l));
  }
  return true;
}

base::Result<bool> CliServer::OpenUnix(const ListenerConfig& cfg, Listener& l) {
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  // The socket is bound under a temporary name, given its mode and owner, then renamed over
  // the final path: clients never see it with the wrong permissions (haproxy does the same).
  const std::string tmp = cfg.path + "." + std::to_string(getpid()) + ".tmp";
  if (tmp.size() >= sizeof(sa.sun_path)) {
    return base::Error{"stats socket '" + cfg.path + "': path too long for a unix socket"};
  }
  struct stat st{};
  if (lstat(cfg.path.c_str(), &st) == 0 && !S_ISSOCK(st.st_mode)) {
    return base::Error{"stats socket '" + cfg.path + "': exists and is not a socket"};
  }
  const std::string where = "stats socket '" + cfg.path + "'";
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno(where + ": socket");
  std::memcpy(sa.sun_path, tmp.c_str(), tmp.size() + 1);
  unlink(tmp.c_str());
  auto fail = [&](const std::string& what) -> base::Result<bool> {
    base::Error e = Errno(where + ": " + what);
    close(fd);
    unlink(tmp.c_str());
    return e;
  };
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) return fail("bind");
  if (cfg.mode && chmod(tmp.c_str(), *cfg.mode) != 0) return fail("chmod");
  if ((cfg.uid || cfg.gid) &&
      chown(tmp.c_str(), cfg.uid ? *cfg.uid : static_cast<uid_t>(-1),
            cfg.gid ? *cfg.gid : static_cast<gid_t>(-1)) != 0) {
    return fail("chown");
  }
  if (listen(fd, Backlog(cfg)) != 0) return fail("listen");
  if (rename(tmp.c_str(), cfg.path.c_str()) != 0) return fail("rename");
  l.fd = fd;
  l.unix_path = cfg.path;
  return true;
}

base::Result<bool> CliServer::OpenTcp(const ListenerConfig& cfg, Listener& l) {
  const bool v6 = cfg.kind == ListenerConfig::Kind::kTcp6;
  const std::string where = "stats socket " + std::string(v6 ? "ipv6@[" : "ipv4@") + cfg.address +
                            (v6 ? "]:" : ":") + std::to_string(cfg.port);
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (v6) {
    auto* sa = reinterpret_cast<sockaddr_in6*>(&ss);
    sa->sin6_family = AF_INET6;
    sa->sin6_port = htons(cfg.port);
    if (inet_pton(AF_INET6, cfg.address.c_str(), &sa->sin6_addr) != 1) {
      return base::Error{where + ": not an IPv6 address"};
    }
    len = sizeof(*sa);
  } else {
    auto* sa = reinterpret_cast<sockaddr_in*>(&ss);
    sa->sin_family = AF_INET;
    sa->sin_port = htons(cfg.port);
    if (inet_pton(AF_INET, cfg.address.c_str(), &sa->sin_addr) != 1) {
      return base::Error{where + ": not an IPv4 address"};
    }
    len = sizeof(*sa);
  }
  int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno(where + ": socket");
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (v6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 || listen(fd, Backlog(cfg)) != 0) {
    base::Error e = Errno(where);
    close(fd);
    return e;
  }
  l.fd = fd;
  return true;
}

base::Result<bool> CliServer::Adopt(int fd, Level level) {
  const int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) return Errno("fcntl");
  AddConn(fd, level, true);
  return true;
}

void CliServer::Accept(Listener& l) {
  while (conns_.size() < limits_.maxconn) {
    const int fd = accept4(l.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN, or a client that left: nothing to do
    AddConn(fd, l.level, !l.unix_path.empty());
  }
  PauseListeners(true);
}

void CliServer::AddConn(int fd, Level level, bool is_unix) {
  const uint64_t id = next_id_++;
  Conn c;
  c.fd = fd;
  c.is_unix = is_unix;
  c.events = EPOLLIN | EPOLLRDHUP;
  c.deadline_ms = NowMs() + limits_.timeout_ms;
  c.proto = std::make_unique<Connection>(level, limits_.timeout_ms, limits_.connection,
                                         registry_, appliance_);
  epoll_event ev{};
  ev.events = c.events;
  ev.data.u64 = id;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    close(fd);
    return;
  }
  conns_.emplace(id, std::move(c));
  if (conns_.size() >= limits_.maxconn) PauseListeners(true);
}

void CliServer::PauseListeners(bool pause) {
  for (size_t i = 0; i < listeners_.size(); ++i) {
    Listener& l = listeners_[i];
    if (l.paused == pause || l.fd < 0) continue;
    epoll_event ev{};
    ev.events = pause ? 0u : static_cast<uint32_t>(EPOLLIN);
    ev.data.u64 = kListenerTag | i;
    epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, l.fd, &ev);
    l.paused = pause;
  }
}

void CliServer::RunOnce(int timeout_ms) {
  epoll_event events[kMaxEvents];
  const int n = epoll_wait(epoll_fd_, events, kMaxEvents, timeout_ms);
  for (int i = 0; i < n; ++i) {
    const uint64_t id = events[i].data.u64;
    if (id & kListenerTag) {
      const size_t index = id & ~kListenerTag;
      if (index < listeners_.size()) Accept(listeners_[index]);
    } else {
      Service(id, events[i].events);
    }
  }
  if (!waiting_.empty()) {
    const std::vector<uint64_t> ids(waiting_.begin(), waiting_.end());
    for (const uint64_t id : ids) Update(id);
  }
  const int64_t now = NowMs();
  std::vector<uint64_t> expired;
  for (const auto& [id, c] : conns_) {
    if (c.deadline_ms <= now) expired.push_back(id);
  }
  for (const uint64_t id : expired) CloseConn(id);
}

int CliServer::NextTimeoutMs() const {
  if (conns_.empty()) return -1;
  int64_t first = INT64_MAX;
  for (const auto& [id, c] : conns_) first = std::min(first, c.deadline_ms);
  return static_cast<int>(std::max<int64_t>(0, std::min<int64_t>(first - NowMs(), INT32_MAX)));
}

void CliServer::Service(uint64_t id, uint32_t events) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  Conn& c = it->second;
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
    char buf[kReadChunk];
    while (c.proto->WantsInput()) {
      const ssize_t r = recv(c.fd, buf, sizeof(buf), 0);
      if (r > 0) {
        c.proto->Feed(std::string_view(buf, static_cast<size_t>(r)));
        c.deadline_ms = NowMs() + c.proto->session().timeout_ms;
        continue;
      }
      if (r == 0) {
        c.proto->FeedEof();
      } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        CloseConn(id);
        return;
      }
      break;
    }
  }
  Update(id);
}

void CliServer::Update(uint64_t id) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  Conn& c = it->second;
  std::string& out = c.proto->output();
  // Pump and flush until the output cannot drain further or the state stops changing.
  for (int round = 0; round < 64; ++round) {
    c.proto->Pump();
    if (out.empty()) break;
    const ssize_t w = send(c.fd, out.data(), out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) break;
      CloseConn(id);
      return;
    }
    out.erase(0, static_cast<size_t>(w));
    c.deadline_ms = NowMs() + c.proto->session().timeout_ms;
    if (!out.empty()) break;  // the kernel buffer is full: wait for EPOLLOUT
  }
  if (c.proto->closing() && out.empty()) {
    CloseConn(id);
    return;
  }
  if (c.proto->waiting()) {
    waiting_.insert(id);
  } else {
    waiting_.erase(id);
  }
  uint32_t want = EPOLLRDHUP;
  if (c.proto->WantsInput()) want |= EPOLLIN;
  // Output waiting for the kernel, or a long answer that stopped after its rounds: the next
  // EPOLLOUT goes on (other connections are served in between).
  if (!out.empty() || c.proto->HasMore()) want |= EPOLLOUT;
  if (want != c.events) {
    epoll_event ev{};
    ev.events = want;
    ev.data.u64 = id;
    epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev);
    c.events = want;
  }
}

void CliServer::CloseConn(uint64_t id) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  const int fd = it->second.fd;
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  if (!it->second.is_unix) {
    // Unread input makes Linux answer a close with RST, which can destroy the answer still
    // in flight to a TCP client: read what is left first.
    char buf[kReadChunk];
    for (int i = 0; i < 16 && recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0; ++i) {
    }
    shutdown(fd, SHUT_WR);
  }
  close(fd);
  conns_.erase(it);
  waiting_.erase(id);
  if (conns_.size() < limits_.maxconn) PauseListeners(false);
}

void CliServer::Close() {
  std::vector<uint64_t> ids;
  for (const auto& [id, c] : conns_) ids.push_back(id);
  for (const uint64_t id : ids) CloseConn(id);
  for (Listener& l : listeners_) {
    if (l.fd >= 0) {
      epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, l.fd, nullptr);
      close(l.fd);
      l.fd = -1;
    }
    if (!l.unix_path.empty()) unlink(l.unix_path.c_str());
  }
  listeners_.clear();
}

}  // namespace sluice::cli
