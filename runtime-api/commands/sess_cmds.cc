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
// backend and server with their addresses).
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
  return out;
}

class ShowSessDump final : public Dump {
 public:
  ShowSessDump(std::vector<SessionView> sessions, std::vector<ProxyView> proxies, bool full)
      : sessions_(std::move(sessions)), proxies_(std::move(proxies)), full_(full) {}

  DumpStatus Step(Writer& out) override {
    for (; next_ < sessions_.size(); ++next_) {
      const SessionView& s = sessions_[next_];
      if (!out.Put(full_ ? FullDump(s, proxies_) : ShortLine(s))) return DumpStatus::kMore;
    }
    return DumpStatus::kDone;
  }

 private:
  std::vector<SessionView> sessions_;
  std::vector<ProxyView> proxies_;
  bool full_;
  size_t next_ = 0;
};

// show sess [<id>|all]
std::unique_ptr<Dump> ShowSess(Call& call) {
  ProxySnapshot snap = TakeProxySnapshot(call.appliance);
  std::vector<SessionView> sessions;
  if (snap.control != nullptr) snap.control->Sessions(&sessions);
  const std::string_view arg = Arg(call, 2);
  if (arg == "all") {
    return std::make_unique<ShowSessDump>(std::move(sessions), std::move(snap.proxies), true);
  }
  const uint64_t id = arg.empty() ? 0 : ParseId(arg);
  if (id == 0) {
    return std::make_unique<ShowSessDump>(std::move(sessions), std::move(snap.proxies), false);
  }
  for (const SessionView& s : sessions) {
    if (s.id == id) return std::make_unique<TextDump>(FullDump(s, snap.proxies));
  }
  // Data, not a message: haproxy writes it from the dump, without a severity prefix.
  return std::make_unique<TextDump>("Session not found.\n");
}

// shutdown session <id>
std::unique_ptr<Dump> ShutdownSession(Call& call) {
  const uint64_t id = ParseId(Arg(call, 2));
  if (id == 0) {
    call.Error("Session pointer expected (use 'show sess').\n");
    return nullptr;
  }
  ProxyControl* control = call.appliance.Proxy();
  std::vector<SessionView> sessions;
  if (control != nullptr) control->Sessions(&sessions);
  for (const SessionView& s : sessions) {
    if (s.id != id) continue;
    const std::string error = control->ShutdownSession(id);
    if (!error.empty()) call.Error(error);
    return nullptr;
  }
  call.Error("No such session (use 'show sess').\n");
  return nullptr;
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
