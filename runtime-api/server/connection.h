// Slow path. One CLI connection's protocol state machine, independent of sockets: bytes in
// (Feed), bytes out (output()), and the HAProxy 2.6 rules between them: one-shot mode,
// `;` chains, `prompt` mode, payloads, terminators, severity prefixes, resumable dumps.
#pragma once

#include <cstddef>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "runtime-api/commands/context.h"
#include "runtime-api/registry/registry.h"

namespace sluice::cli {

struct ConnectionLimits {
  size_t max_request_bytes = kMaxRequestBytes;  // a line, or a line and its payload
  size_t output_bytes = 16384;                  // output buffered before a dump pauses
};

class Connection {
 public:
  Connection(Level level, uint32_t timeout_ms, const ConnectionLimits& limits,
             const Registry& registry, ApplianceContext& appliance);

  // Input from the client. The caller reads only while WantsInput().
  void Feed(std::string_view bytes) { in_.append(bytes); }
  void FeedEof() { eof_ = true; }
  bool WantsInput() const { return !closing_ && !eof_ && in_.size() <= limits_.max_request_bytes; }

  // Runs commands as far as the input and the output room allow.
  void Pump();

  // Pending output; the caller erases the bytes it sent, then calls Pump() again.
  std::string& output() { return out_; }
  // True once the connection is to be closed as soon as output() is empty.
  bool closing() const { return closing_; }
  // True when the running command waits for the workers: Pump() again soon, even with no
  // input and no output drained.
  bool waiting() const { return waiting_; }
  // A command's answer has more to write (a dump that filled the output), with no wait on
  // anyone: Pump again as soon as the socket takes it.
  bool HasMore() const { return !closing_ && !waiting_ && (dump_ || !queue_.empty()); }
  const Session& session() const { return session_; }

 private:
  struct Command {
    std::vector<std::string> args;
    std::string payload;
  };
  bool TakeLine(std::string& line);
  void HandleLine(std::string line, Writer& out);
  void Enqueue(std::string_view line, std::string payload);
  void RunNext(Writer& out);
  void FinishCommand(Writer& out);

  const ConnectionLimits limits_;
  const Registry& registry_;
  ApplianceContext& appliance_;
  Session session_;
  std::string in_;
  std::string out_;
  bool eof_ = false;
  bool waiting_ = false;
  bool closing_ = false;
  std::deque<Command> queue_;  // the commands of the current line
  std::unique_ptr<Dump> dump_;
  bool in_payload_ = false;
  std::string payload_line_;  // the line that asked for the payload, without "<<"
  std::string payload_;
};

}  // namespace sluice::cli
