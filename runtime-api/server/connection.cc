// Slow path. The CLI protocol state machine (connection.h).
#include "runtime-api/server/connection.h"

#include <cstdio>

namespace sluice::cli {

Connection::Connection(Level level, uint32_t timeout_ms, const ConnectionLimits& limits,
                       const Registry& registry, ApplianceContext& appliance)
    : limits_(limits), registry_(registry), appliance_(appliance) {
  session_.level = level;
  session_.timeout_ms = timeout_ms;
}

bool Connection::TakeLine(std::string& line) {
  const size_t nl = in_.find('\n');
  if (nl == std::string::npos) {
    if (!eof_ || in_.empty()) return false;
    line = std::move(in_);  // the last line of a client that closed without a newline
    in_.clear();
  } else {
    line = in_.substr(0, nl);
    in_.erase(0, nl + 1);
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return true;
}

void Connection::Pump() {
  waiting_ = false;
  while (!closing_) {
    Writer out(out_, limits_.output_bytes);
    if (dump_) {
      const DumpStatus st = dump_->Step(out);
      if (st == DumpStatus::kMore) return;
      if (st == DumpStatus::kWait) {
        waiting_ = true;
        return;
      }
      dump_.reset();
      FinishCommand(out);
      continue;
    }
    if (!queue_.empty()) {
      RunNext(out);
      continue;
    }
    std::string line;
    if (!TakeLine(line)) {
      if (in_.size() > limits_.max_request_bytes) {
        // haproxy closes a CLI request larger than its buffer; say why first.
        out.Force("Command line too long.\n");
        closing_ = true;
      } else if (eof_) {
        closing_ = true;
      }
      return;
    }
    HandleLine(std::move(line), out);
  }
}

void Connection::HandleLine(std::string line, Writer& out) {
  if (in_payload_) {
    if (!line.empty()) {
      payload_ += line;
      payload_ += '\n';
      if (payload_line_.size() + payload_.size() > limits_.max_request_bytes) {
        out.Force("Command line too long.\n");
        closing_ = true;
        return;
      }
      if (session_.interactive) out.Force("+ ");
      return;
    }
    in_payload_ = false;
    Enqueue(payload_line_, std::move(payload_));
    payload_.clear();
    return;
  }
  if (HasPayloadMarker(line)) {
    in_payload_ = true;
    payload_line_ = std::string(StripPayloadMarker(line));
    payload_.clear();
    if (session_.interactive) out.Force("+ ");
    return;
  }
  Enqueue(line, "");
}

void Connection::Enqueue(std::string_view line, std::string payload) {
  std::vector<std::string> pieces = SplitChain(line);
  for (size_t i = 0; i < pieces.size(); ++i) {
    Command c{SplitWords(pieces[i]), ""};
    if (i + 1 == pieces.size()) c.payload = std::move(payload);
    queue_.push_back(std::move(c));
  }
}

void Connection::RunNext(Writer& out) {
  Command cmd = std::move(queue_.front());
  queue_.pop_front();
  Call call{cmd.args, cmd.payload, session_, appliance_, registry_, "", Severity::kInfo};
  const CommandRow* row = registry_.Find(cmd.args);
  if (row == nullptr) {
    call.Message(registry_.Usage(cmd.args, /*is_help=*/false));
  } else if (session_.level < row->level) {
    call.Error("Permission denied\n");
  } else {
    dump_ = row->parse(call);
  }
  if (!dump_ && !call.message.empty()) {
    dump_ = std::make_unique<TextDump>(WithSeverity(session_, call.severity, call.message));
  }
  if (!dump_) FinishCommand(out);
}

void Connection::FinishCommand(Writer& out) {
  if (session_.quit) {
    queue_.clear();
    closing_ = true;
    return;
  }
  out.Force("\n");  // the empty line that ends every answer
  if (!queue_.empty()) return;
  if (session_.interactive) {
    out.Force(in_payload_ ? "+ " : "> ");
  } else if (in_.empty()) {
    closing_ = true;  // one-shot mode: answer what was received, then close
  }
}

}  // namespace sluice::cli
