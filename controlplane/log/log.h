// Slow path: session logging on the control-plane thread, as haproxy logs (configuration.txt
// 4.2 `log`, `log-format`, section 8.2). The data plane records sessions; the control plane
// fills a LogEvent per session, renders it with the proxy's LogFormat and hands the text to
// LogSinks, which frames it as syslog (or raw) and sends it to the `log` targets. Nothing here
// is ever called on a worker.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dataplane/base/result.h"

namespace sluice::log {

// One session's log fields (configuration.txt 8.2.2 TCP log format, 8.2.4 custom log format).
struct LogEvent {
  std::string client_ip;              // %ci
  uint16_t client_port = 0;           // %cp
  std::string frontend_ip;            // %fi
  uint16_t frontend_port = 0;         // %fp
  std::string frontend;               // %f, and %ft (with '~' when the client is TLS)
  std::string backend;                // %b ("<NONE>" when none)
  std::string server;                 // %s ("<NOSRV>" when none)
  std::string backend_src_ip;         // %bi (empty: "-", and %bp is "-" too)
  uint16_t backend_src_port = 0;      // %bp
  std::string server_ip;              // %si (empty: "-", and %sp is "-" too)
  uint16_t server_port = 0;           // %sp
  int64_t accept_unix_us = 0;         // %t %T %Tl %Ts %ms
  int64_t tw_ms = -1, tc_ms = -1;     // %Tw %Tc (-1: phase not reached)
  int64_t tt_ms = 0;                  // %Tt
  uint64_t bytes_read = 0;            // %B: bytes from the server to the client
  uint64_t bytes_uploaded = 0;        // %U: bytes from the client to the server
  char term[2] = {'-', '-'};          // %ts
  uint32_t actconn = 0, feconn = 0;   // %ac %fc
  uint32_t beconn = 0, srv_conn = 0;  // %bc %sc
  uint32_t retries = 0;               // %rc
  bool redispatched = false;          // %rc is "+N" when redispatched, as haproxy writes it
  uint32_t srv_queue = 0;             // %sq
  uint32_t backend_queue = 0;         // %bq
  // HTTP (configuration.txt 8.2.3).
  uint16_t status = 0;               // %ST
  int64_t request_unix_us = 0;       // %tr %trg %trl
  int64_t ti_ms = -1, treq_ms = -1;  // %Ti %TR
  int64_t tres_ms = -1, ta_ms = 0;   // %Tr %Ta
  std::string request;               // %r (empty: "<BADREQ>"), %HM %HU %HV %HP %HQ
  // %[expr]: the values the worker computed, in the format's order (nullopt: missing, "-").
  std::vector<std::optional<std::string>> samples;
  // %hr %hrl %hs %hsl: the frontend's capture slots (none configured: empty; nullopt: nothing
  // captured in that slot).
  std::vector<std::optional<std::string>> req_caps, res_caps;
  // %CC %CS: `capture cookie`'s request and response "name=value" (empty: none, "-").
  std::string cookie_in, cookie_out;
  // TLS: %ft's '~', %sslv ("TLSv1.3"), %sslc (OpenSSL's cipher name); empty: not TLS ("-").
  std::string ssl_version, ssl_cipher;
};

// haproxy's `option httplog` format (configuration.txt 8.2.3). Without captures %hr and %hs
// print nothing and their spaces collapse into one (separators).
inline constexpr std::string_view kHttpLogFormat =
    "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc "
    "%sq/%bq %hr %hs %{+Q}r";

// haproxy's `option httplog clf` format (configuration.txt 8.2.3): the Common Log Format's
// fields first, then HAProxy's, every text quoted.
inline constexpr std::string_view kHttpLogClfFormat =
    "%{+Q}o %{-Q}ci - - [%trg] %r %ST %B \"\" \"\" %cp %ms %ft %b %s %TR %Tw %Tc %Tr %Ta %tsc "
    "%ac %fc %bc %sc %rc %sq %bq %CC %CS %hrl %hsl";

// haproxy's `option tcplog` format (configuration.txt 8.2.2).
inline constexpr std::string_view kTcpLogFormat =
    "%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq";

// A compiled `log-format` string (configuration.txt 8.2.4): literal text kept as written,
// `%%` for '%', `%var`, `%{+Q}var` (quoted), `%{+E}var` (escaped), `%{-Q}var`, and
// `%{+Q}o` to set flags for every variable after it (flags are comma-separated: `%{+Q,+E}`).
// Variables: %ci %cp %fi %fp %f %ft %b %s %bi %bp %si %sp %t (local accept date with
// milliseconds, dd/Mmm/yyyy:HH:MM:SS.mmm) %T (GMT accept date, dd/Mmm/yyyy:HH:MM:SS +0000)
// %Tl (local accept date with its offset) %Ts (accept date, unix seconds) %ms %Tw %Tc %Tt %B
// %U %ts %ac %fc %bc %sc %rc %sq %bq %pid %H (host name), and HTTP's %ST %r %HM %HU %HV %HP
// %HQ %TR %Tr %Ta %Ti %Tq %tr %trg %trl %tsc %CC %CS.
// Q and E apply to the text variables (names, addresses, %H): an empty one is "-", or ""
// when quoted. Numbers are never quoted, as in haproxy.
class LogFormat {
 public:
  // Compiles `text`; on failure returns nothing and sets *error (when not null) to a text
  // naming the problem, e.g. "unknown variable 'xx' (write '%%' for a literal '%')".
  static std::optional<LogFormat> Compile(std::string_view text, std::string* error);

  std::string Render(const LogEvent& e) const;
  // Appends the line to *out (lets the caller reuse one buffer).
  void RenderTo(const LogEvent& e, std::string* out) const;

  // %H and %pid: the host name and pid when Compile ran, unless set here.
  void SetProcess(std::string hostname, int pid);
  const std::string& text() const { return text_; }

  enum class Var : uint8_t;  // defined in log_format.cc

 private:
  struct Node {
    Var var;
    uint8_t flags = 0;
    std::string text;  // literal text
  };
  std::vector<Node> nodes_;
  std::string text_;
  std::string hostname_;
  int pid_ = 0;
};

// A `log` target as written after the keyword (ProxyConfig::logs entries, minus "global"):
// TARGET [len N] [format F] [sample RANGES:SIZE] FACILITY [LEVEL [MINLEVEL]], e.g.
// "127.0.0.1:514 local0", "ipv4@10.0.0.1:514 len 1024 format rfc5424 local2 info",
// "udp@[::1]:514 local0", "/dev/log local0" (unix datagram), "stdout format raw local0",
// "stderr local0", and Sluice's extension "file@/var/log/sluice.log local0" (appends lines).
struct LogTarget {
  enum class Kind { kUdp4, kUdp6, kUnix, kStdout, kStderr, kFile };
  Kind kind = Kind::kUdp4;
  std::string address;  // kUdp4/kUdp6: numeric, as net::ToString writes it
  uint16_t port = 514;
  std::string path;         // kUnix, kFile
  uint32_t max_len = 1024;  // `len`: bytes of a framed message (header included), 80..65535
  enum class Format { kRfc3164, kRfc5424, kRaw, kShort, kLocal, kIso, kPriority, kTimed };
  Format format = Format::kRfc3164;
  uint8_t facility = 16;  // local0
  // `LEVEL`: messages less severe (a larger number) are not sent. Sessions are logged at
  // info (6); haproxy's default is debug (7), which sends the same messages since Sluice logs
  // nothing at debug.
  uint8_t level = 6;
  uint8_t min_level = 0;  // `MINLEVEL`: more severe messages are sent at this level
  // `sample RANGES:SIZE`: of every `sample_size` messages, those whose 1-based index is in
  // one of the [first, last] ranges are sent. sample_size 0: all are sent.
  std::vector<std::pair<uint32_t, uint32_t>> sample_ranges;
  uint32_t sample_size = 0;

  friend bool operator==(const LogTarget&, const LogTarget&) = default;
};

// The level sessions are logged at (syslog "info").
inline constexpr uint8_t kLevelInfo = 6;

// Parses the words after `log` (joined by blanks). The error names the problem, without the
// keyword, e.g. "'len' expects an integer between 80 and 65535, got '20'".
base::Result<LogTarget> ParseLogTarget(std::string_view line);

// "udp 127.0.0.1:514", "udp [::1]:514", "unix /dev/log", "stdout", "stderr", "file /x.log".
std::string DescribeTarget(const LogTarget& t);

// "kern" .. "local7", "emerg" .. "debug"; nothing when unknown.
std::optional<uint8_t> ParseFacility(std::string_view name);
std::optional<uint8_t> ParseLevel(std::string_view name);

// The datagram or line for one message, without a trailing newline, cut to t.max_len bytes.
// `level` is the message's (0..7), PRI is facility * 8 + level. Per t.format (the `log`
// keyword's `format` in configuration.txt):
//   rfc3164  "<PRI>Mmm dd hh:mm:ss [HOST ]TAG[PID]: MSG" (HOST only when `hostname` is set,
//            as haproxy without log-send-hostname)
//   local    "<PRI>Mmm dd hh:mm:ss TAG[PID]: MSG" (never a HOST)
//   rfc5424  "<PRI>1 ISOTIME HOST TAG PID - - MSG" ("-" for an empty HOST or TAG)
//   priority "<PRI>MSG"
//   short    "<LEVEL>MSG" (no facility, as systemd reads it)
//   timed    "<LEVEL>ISOTIME MSG"
//   iso      "ISOTIME MSG"
//   raw      "MSG"
// Times are local: "Feb  6 12:12:51" and "2009-02-06T12:12:51.443000+01:00". An empty tag
// leaves out "TAG[PID]: "; pid <= 0 leaves out "[PID]" ("-" in rfc5424). Trailing newlines
// of msg are dropped.
std::string Frame(const LogTarget& t, uint8_t level, std::string_view tag, int pid,
                  std::string_view hostname, int64_t unix_us, std::string_view msg);

// Owns the sockets and files of a set of targets. Never blocks long: UDP and unix sockets
// are non-blocking (a full socket buffer drops the message and counts it); files are opened
// with O_APPEND and get one write() per line; stdout and stderr get one write() per line
// (send() without waiting when they are a socket, as journald's are). A reader of a pipe or
// socket going away drops lines, never raises SIGPIPE. Each message ends with '\n'
// (datagrams too, as haproxy sends them). Control-plane thread only.
class LogSinks {
 public:
  LogSinks();
  ~LogSinks();
  LogSinks(const LogSinks&) = delete;
  LogSinks& operator=(const LogSinks&) = delete;

  // The HOST field of rfc3164 and rfc5424 headers: empty by default, as haproxy without
  // log-send-hostname. The pid in headers: getpid() unless set.
  void SetHostname(std::string hostname) { hostname_ = std::move(hostname); }
  void SetPid(int pid) { pid_ = pid; }

  // Opens the target (sockets and files are shared by targets with the same destination;
  // the same target twice gives the same id). Returns the id to pass to Send, or -1 with
  // error() set when it cannot be opened (a file that cannot be created, no socket). A unix
  // socket path that does not exist yet is not an error: its messages are dropped until it
  // does.
  int Add(const LogTarget& t);
  const std::string& error() const { return error_; }
  const LogTarget& target(int id) const { return targets_[static_cast<size_t>(id)].target; }
  size_t size() const { return targets_.size(); }

  // Frames `msg` for target `id` and sends it, unless `level` is less severe than the
  // target's level or sampling skips it (neither is a drop). An id out of range is ignored.
  void Send(int id, uint8_t level, std::string_view tag, std::string_view msg, int64_t unix_us);

  uint64_t sent() const { return sent_; }
  uint64_t dropped() const { return dropped_; }    // full buffers, refused sends, short writes
  uint64_t filtered() const { return filtered_; }  // below the level or skipped by `sample`
  int last_errno() const { return last_errno_; }   // of the last dropped message

  // How a channel's descriptor is written (log_sinks.cc).
  enum class Io { kDatagram, kStream, kPipe, kWrite };

 private:
  struct Channel {
    LogTarget::Kind kind;
    std::string key;  // identity: DescribeTarget()
    int fd = -1;
    Io io = Io::kWrite;
    bool owned = false;  // closed by the destructor (not stdout/stderr)
    sockaddr_storage addr{};
    socklen_t addr_len = 0;
  };
  struct Entry {
    LogTarget target;
    size_t channel = 0;
    uint32_t sample_index = 0;
  };
  bool Sampled(Entry& e);

  std::vector<Channel> channels_;
  std::vector<Entry> targets_;
  std::string hostname_;
  int pid_ = 0;
  std::string error_;
  std::string buffer_;
  uint64_t sent_ = 0, dropped_ = 0, filtered_ = 0;
  int last_errno_ = 0;
};

}  // namespace sluice::log
