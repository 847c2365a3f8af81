// Slow path. `show sess [<id>|all]` and `shutdown session <id>`
// (../shared/compat/haproxy-2.6/RUNTIME-API.md 3.8; haproxy's cli_parse_show_sess() and
// cli_parse_shutdown_session()). A session id is printed as haproxy prints its stream
// pointer ("0x7f7ea8047d90") and read back with strtoul(.., 0) as haproxy does. Only the
// fields an L4 load balancer has are printed (docs/runtime-api.md).
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "runtime-api/commands/commands.h"
#include "runtime-api/commands/proxy_lookup.h"

namespace sluice::cli {
namespace {

std::string Hex(uint64_t id) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "0x%" PRIx64, id);
  return buf;
}

std::string EndpointText(const Endpoint& e) { return e.addr + ":" + std::to_string(e.port); }

// haproxy's strtoul(arg, NULL, 0): decimal, 0x hexadecimal or 0 octal; 0 when not a number.
uint64_t ParseId(std::string_view arg) {
  const std::string s(arg);
  return std::strtoull(s.c_str(), nullptr, 0);
}

// The one-line form: "<id>: proto=tcpv4 src=A:P fe=F be=B srv=S age=1s".
std::string ShortLine(const SessionView& s) {
  return Hex(s.id) + ": proto=" + s.proto + " src=" + EndpointText(s.src) + " fe=" + s.frontend +
         " be=" + (s.backend.empty() ? "<NONE>" : s.backend) +
         " srv=" + (s.server.empty() ? "<none>" : s.server) + " age=" + HumanTime(s.age_s) + "\n";
}

std::string ModeOf(const std::vector<ProxyView>& proxies, uint32_t iid) {
  for (const ProxyView& p : proxies) {
    if (p.iid == iid) return p.mode;
  }
  return "tcp";
}

// The detailed form of `show sess <id>`: haproxy's first lines (accept date, frontend,
// backend and server with their addresses) and, in HTTP mode, its txn line.
std::string FullDump(const SessionView& s, const std::vector<ProxyView>& proxies) {
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const time_t secs = static_cast<time_t>(s.accept_time_us / 1000000);
  tm t{};
  localtime_r(&secs, &t);
  char date[64];
  std::snprintf(date, sizeof(date), "[%02d/%s/%04d:%02d:%02d:%02d.%06d]", t.tm_mday,
                kMonths[t.tm_mon % 12], t.tm_year + 1900, t.tm_hour, t.tm_min, t.tm_sec,
                static_cast<int>(s.accept_time_us % 1000000));
  std::string out =
      Hex(s.id) + ": " + date + " id=" + std::to_string(s.serial) + " proto=" + s.proto;
  out += s.src.addr.empty() ? "\n" : " source=" + EndpointText(s.src) + "\n";
  out += "  frontend=" + s.frontend + " (id=" + std::to_string(s.frontend_iid) +
         " mode=" + ModeOf(proxies, s.frontend_iid) +
         "), listener=? (id=" + std::to_string(s.listener_id) + ")";
  out += s.dst.addr.empty() ? "\n" : " addr=" + EndpointText(s.dst) + "\n";
  if (s.backend.empty()) {
    out += "  backend=<NONE> (id=-1 mode=-)";
  } else {
    out += "  backend=" + s.backend + " (id=" + std::to_string(s.backend_iid) +
           " mode=" + ModeOf(proxies, s.backend_iid) + ")";
  }
  out += s.backend_src.addr.empty() ? "\n" : " addr=" + EndpointText(s.backend_src) + "\n";
  if (s.backend.empty()) {
    out += "  server=<NONE> (id=-1)";
  } else {
    out += "  server=" + (s.server.empty() ? std::string("<none>") : s.server) +
           " (id=" + std::to_string(s.server.empty() ? 0 : s.server_sid) + ")";
  }
  out += s.server_dst.addr.empty() ? "\n" : " addr=" + EndpointText(s.server_dst) + "\n";
  if (s.http) {
    // haproxy's txn line; its flags are haproxy's internals, printed as none.
    out += "  txn=" + Hex(s.id) + " flags=0x0 meth=" + std::to_string(s.meth) +
           " status=" + std::to_string(s.status) + " req.st=" + s.req_state +
           " rsp.st=" + s.res_state + " req.f=0x00 rsp.f=0x00\n";
  }
  return out;
}

// Streams the sessions as the workers' replies arrive (ProxyControl::Sessions): prints what
// it has, waits (kWait) while replies are missing, and never holds more than one slice.
class ShowSessDump final : public Dump {
 public:
  enum class Form { kShort, kFull, kOne };
  ShowSessDump(std::unique_ptr<SessionStream> stream, std::vector<ProxyView> proxies, Form form)
      : stream_(std::move(stream)), proxies_(std::move(proxies)), form_(form) {}

  DumpStatus Step(Writer& out) override {
    for (;;) {
      for (; next_ < pending_.size(); ++next_) {
        const SessionView& s = pending_[next_];
        if (!out.Put(form_ == Form::kShort ? ShortLine(s) : FullDump(s, proxies_))) {
          return DumpStatus::kMore;
        }
        ++printed_;
      }
      pending_.clear();
      next_ = 0;
      if (done_) break;
      const Gather g = stream_->Next(&pending_);
      if (g == Gather::kDone) done_ = true;
      if (g == Gather::kWait) return DumpStatus::kWait;
    }
    // Data, not a message: haproxy writes it from the dump, without a severity prefix.
    if (form_ == Form::kOne && printed_ == 0 && !out.Put("Session not found.\n")) {
      return DumpStatus::kMore;
    }
    return DumpStatus::kDone;
  }

 private:
  std::unique_ptr<SessionStream> stream_;
  std::vector<ProxyView> proxies_;
  Form form_;
  std::vector<SessionView> pending_;
  size_t next_ = 0;
  uint64_t printed_ = 0;
  bool done_ = false;
};

// Waits for the workers' answer to a command, then prints its error message, if any.
class PendingDump final : public Dump {
 public:
  PendingDump(std::unique_ptr<PendingAnswer> pending, const Session& session)
      : pending_(std::move(pending)), session_(session) {}

  DumpStatus Step(Writer& out) override {
    if (!answered_) {
      if (pending_->Poll(&error_) == Gather::kWait) return DumpStatus::kWait;
      answered_ = true;
    }
    if (error_.empty()) return DumpStatus::kDone;
    return out.Put(WithSeverity(session_, Severity::kErr, error_)) ? DumpStatus::kDone
                                                                   : DumpStatus::kMore;
  }

 private:
  std::unique_ptr<PendingAnswer> pending_;
  const Session& session_;
  std::string error_;
  bool answered_ = false;
};

// show sess [<id>|all]
std::unique_ptr<Dump> ShowSess(Call& call) {
  ProxySnapshot snap = TakeProxySnapshot(call.appliance);
  const std::string_view arg = Arg(call, 2);
  const bool all = arg == "all";
  const uint64_t id = all || arg.empty() ? 0 : ParseId(arg);
  const auto form = all       ? ShowSessDump::Form::kFull
                    : id == 0 ? ShowSessDump::Form::kShort
                              : ShowSessDump::Form::kOne;
  if (snap.control == nullptr) {
    return form == ShowSessDump::Form::kOne ? std::make_unique<TextDump>("Session not found.\n")
                                            : nullptr;
  }
  return std::make_unique<ShowSessDump>(snap.control->Sessions(id), std::move(snap.proxies), form);
}

// shutdown session <id>
std::unique_ptr<Dump> ShutdownSession(Call& call) {
  const uint64_t id = ParseId(Arg(call, 2));
  if (id == 0) {
    call.Error("Session pointer expected (use 'show sess').\n");
    return nullptr;
  }
  ProxyControl* control = call.appliance.Proxy();
  if (control == nullptr) {
    call.Error("No such session (use 'show sess').\n");
    return nullptr;
  }
  return std::make_unique<PendingDump>(control->ShutdownSession(id), call.session);
}

constexpr CommandRow kSessCommands[] = {
    {{"show", "sess"},
     Level::kOperator,
     &ShowSess,
     "show sess [id]",
     "report the list of current sessions or dump this exact session"},
    {{"shutdown", "session"},
     Level::kAdmin,
     &ShutdownSession,
     "shutdown session [id]",
     "kill a specific session"},
};

}  // namespace

std::span<const CommandRow> SessCommands() { return kSessCommands; }

}  // namespace sluice::cli
