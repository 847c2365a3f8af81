// Slow path: the sockets and files log messages go to, on the control-plane thread. Sends
// never wait: datagram sockets are non-blocking and a full buffer drops the message (counted),
// as haproxy does with MSG_DONTWAIT.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstddef>
#include <cstring>
#include <ctime>
#include <string>

#include "controlplane/log/log.h"

namespace sluice::log {
namespace {

using Kind = LogTarget::Kind;

std::string ErrnoText(int err) { return std::strerror(err); }

// How lines reach a descriptor that is not a datagram socket: a stream socket (journald's
// stdout) takes send() without waiting and without SIGPIPE; a pipe write() with SIGPIPE held
// back, so that a reader going away drops lines instead of killing the process.
LogSinks::Io IoOf(int fd) {
  struct stat st {};
  if (fstat(fd, &st) != 0) return LogSinks::Io::kWrite;
  if (S_ISSOCK(st.st_mode)) return LogSinks::Io::kStream;
  if (S_ISFIFO(st.st_mode)) return LogSinks::Io::kPipe;
  return LogSinks::Io::kWrite;
}

ssize_t WriteHoldingSigpipe(int fd, const std::string& line) {
  sigset_t pipe_set;
  sigset_t old_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
  ssize_t n = 0;
  do {
    n = write(fd, line.data(), line.size());
  } while (n < 0 && errno == EINTR);
  const int saved = errno;
  if (n < 0 && errno == EPIPE) {
    const timespec zero{};
    sigtimedwait(&pipe_set, nullptr, &zero);  // the SIGPIPE this write raised
  }
  pthread_sigmask(SIG_SETMASK, &old_set, nullptr);
  errno = saved;
  return n;
}

}  // namespace

LogSinks::LogSinks() : pid_(static_cast<int>(getpid())) {}

LogSinks::~LogSinks() {
  for (Channel& c : channels_) {
    if (c.owned && c.fd >= 0) close(c.fd);
  }
}

int LogSinks::Add(const LogTarget& t) {
  error_.clear();
  for (size_t i = 0; i < targets_.size(); ++i) {
    if (targets_[i].target == t) return static_cast<int>(i);
  }
  const std::string key = DescribeTarget(t);
  size_t channel = channels_.size();
  for (size_t i = 0; i < channels_.size(); ++i) {
    if (channels_[i].key == key) channel = i;
  }
  if (channel == channels_.size()) {
    Channel c;
    c.kind = t.kind;
    c.key = key;
    switch (t.kind) {
      case Kind::kStdout:
        c.fd = STDOUT_FILENO;
        break;
      case Kind::kStderr:
        c.fd = STDERR_FILENO;
        break;
      case Kind::kFile:
        // O_NONBLOCK: a FIFO without a reader fails here instead of blocking.
        c.fd = open(t.path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0640);
        if (c.fd < 0) {
          error_ = "cannot open log file '" + t.path + "': " + ErrnoText(errno);
          return -1;
        }
        c.owned = true;
        break;
      case Kind::kUdp4: {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(t.port);
        if (inet_pton(AF_INET, t.address.c_str(), &a.sin_addr) != 1) {
          error_ = "bad IPv4 address '" + t.address + "'";
          return -1;
        }
        std::memcpy(&c.addr, &a, sizeof(a));
        c.addr_len = sizeof(a);
        break;
      }
      case Kind::kUdp6: {
        sockaddr_in6 a{};
        a.sin6_family = AF_INET6;
        a.sin6_port = htons(t.port);
        if (inet_pton(AF_INET6, t.address.c_str(), &a.sin6_addr) != 1) {
          error_ = "bad IPv6 address '" + t.address + "'";
          return -1;
        }
        std::memcpy(&c.addr, &a, sizeof(a));
        c.addr_len = sizeof(a);
        break;
      }
      case Kind::kUnix: {
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        if (t.path.size() >= sizeof(a.sun_path)) {
          error_ = "unix socket path '" + t.path + "' is too long";
          return -1;
        }
        std::memcpy(a.sun_path, t.path.data(), t.path.size());
        std::memcpy(&c.addr, &a, sizeof(a));
        c.addr_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + t.path.size() + 1);
        break;
      }
    }
    if (c.addr_len > 0) {
      c.fd = socket(c.addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (c.fd < 0) {
        error_ = "cannot create a socket for " + key + ": " + ErrnoText(errno);
        return -1;
      }
      c.owned = true;
      c.io = Io::kDatagram;
      shutdown(c.fd, SHUT_RD);  // nothing is ever read from it
    } else {
      c.io = IoOf(c.fd);
    }
    channels_.push_back(std::move(c));
  }
  targets_.push_back(Entry{t, channel, 0});
  return static_cast<int>(targets_.size() - 1);
}

bool LogSinks::Sampled(Entry& e) {
  const LogTarget& t = e.target;
  if (t.sample_size == 0) return true;
  const uint32_t index = e.sample_index + 1;  // 1-based, as the ranges are written
  e.sample_index = index % t.sample_size;
  for (const auto& [first, last] : t.sample_ranges) {
    if (index >= first && index <= last) return true;
  }
  return false;
}

void LogSinks::Send(int id, uint8_t level, std::string_view tag, std::string_view msg,
                    int64_t unix_us) {
  if (id < 0 || static_cast<size_t>(id) >= targets_.size()) return;
  Entry& e = targets_[static_cast<size_t>(id)];
  const LogTarget& t = e.target;
  if (level > t.level || !Sampled(e)) {
    ++filtered_;
    return;
  }
  // configuration.txt `log`: a minimum level caps the severity of what is sent.
  const uint8_t sent_level = level < t.min_level ? t.min_level : level;
  buffer_ = Frame(t, sent_level, tag, pid_, hostname_, unix_us, msg);
  buffer_.push_back('\n');
  const Channel& c = channels_[e.channel];
  ssize_t n = 0;
  switch (c.io) {
    case Io::kDatagram:
      n = sendto(c.fd, buffer_.data(), buffer_.size(), MSG_DONTWAIT | MSG_NOSIGNAL,
                 reinterpret_cast<const sockaddr*>(&c.addr), c.addr_len);
      break;
    case Io::kStream:
      n = send(c.fd, buffer_.data(), buffer_.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      break;
    case Io::kPipe:
      n = WriteHoldingSigpipe(c.fd, buffer_);
      break;
    case Io::kWrite:
      do {
        n = write(c.fd, buffer_.data(), buffer_.size());
      } while (n < 0 && errno == EINTR);
      break;
  }
  if (n < 0 || static_cast<size_t>(n) != buffer_.size()) {
    last_errno_ = n < 0 ? errno : EAGAIN;
    ++dropped_;
    return;
  }
  ++sent_;
}

}  // namespace sluice::log
