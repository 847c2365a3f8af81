// Slow path. `show errors [<iid>|<proxy>] [request|response]`
// (../shared/compat/haproxy-2.6/RUNTIME-API.md 3.7, transcripts 90-91d): the last invalid
// request of each frontend and invalid response of each backend, as HAProxy 2.6 prints them:
// a header block, then the bytes as received, escaped, one line per line of the message.
// The H1 state lines carry HAProxy's values for a request refused in its start line or in a
// field (sluice has no H1 multiplexer state to show).
#include <cinttypes>
#include <cstdio>
#include <ctime>

#include "runtime-api/commands/commands.h"
#include "runtime-api/commands/proxy_lookup.h"

namespace sluice::cli {
namespace {

constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// [24/Nov/2026:00:29:08.843], local time, as HAProxy's error dates.
std::string Date(int64_t unix_us) {
  const time_t secs = static_cast<time_t>(unix_us / 1000000);
  tm t{};
  localtime_r(&secs, &t);
  char buf[48];
  std::snprintf(buf, sizeof(buf), "[%02d/%s/%04d:%02d:%02d:%02d.%03d]", t.tm_mday,
                kMonths[t.tm_mon % 12], t.tm_year + 1900, t.tm_hour, t.tm_min, t.tm_sec,
                static_cast<int>(unix_us % 1000000 / 1000));
  return buf;
}

// One byte as HAProxy's dump shows it: \r \n \t \e \\ and \xNN for the unprintable.
std::string Escaped(unsigned char c) {
  switch (c) {
    case '\r':
      return "\\r";
    case '\n':
      return "\\n";
    case '\t':
      return "\\t";
    case 0x1b:
      return "\\e";
    case '\\':
      return "\\\\";
    default:
      break;
  }
  if (c < 0x20 || c >= 0x7f) {
    char buf[8];
    std::snprintf(buf, sizeof(buf), "\\x%02x", c);
    return buf;
  }
  return std::string(1, static_cast<char>(c));
}

// The dump: "  OFFSET  data" per line of the message, a line cut at 79 columns going on as
// "  OFFSET+ data" (HAProxy's dump_text_line()).
void DumpBytes(std::string_view data, std::string* out) {
  size_t i = 0;
  char head[32];
  while (i < data.size()) {
    std::snprintf(head, sizeof(head), "  %05zu  ", i);
    std::string line = head;
    while (i < data.size()) {
      const std::string e = Escaped(static_cast<unsigned char>(data[i]));
      if (line.size() + e.size() > 79) {  // go on in a continuation line
        out->append(line);
        out->push_back('\n');
        std::snprintf(head, sizeof(head), "  %05zu+ ", i);
        line = head;
      }
      line += e;
      if (data[i++] == '\n') break;
    }
    out->append(line);
    out->push_back('\n');
  }
}

std::string Entry(const ErrorView& e) {
  std::string out = " \n" + Date(e.unix_us);
  const std::string proxy = e.proxy + " (#" + std::to_string(e.proxy_iid) + ")";
  const std::string other = (e.other.empty() ? "<NONE>" : e.other) + " (#" +
                            std::to_string(e.other.empty() ? -1 : e.other_iid) + ")";
  const std::string server = (e.server.empty() ? "<NONE>" : e.server) + " (#" +
                             std::to_string(e.server.empty() ? -1 : e.server_id) + ")";
  if (e.request) {
    out += " frontend " + proxy + ": invalid request\n  backend " + other;
  } else {
    out += " backend " + proxy + ": invalid response\n  frontend " + other;
  }
  out += ", server " + server + ", event #" + std::to_string(e.event) + ", src " + e.src + "\n";
  const size_t len = e.data.size();
  out += "  buffer starts at 0 (including 0 out), " + std::to_string(16384 - len) +
         " free,\n  len " + std::to_string(len) + ", wraps at 16336, error at position " +
         std::to_string(e.error_at) + "\n";
  out += "  H1 connection flags 0x00000100, H1 stream flags 0x00000810\n";
  out += e.start_line ? "  H1 msg state MSG_DATA(27), H1 msg flags 0x00001400\n"
                      : "  H1 msg state MSG_HDR_NAME(17), H1 msg flags 0x00001410\n";
  out += "  H1 chunk len 0 bytes, H1 body len 0 bytes :\n  \n";
  DumpBytes(e.data, &out);
  return out;
}

// show errors [<iid>|<proxy>] [request|response]
std::unique_ptr<Dump> ShowErrors(Call& call) {
  std::string_view which = Arg(call, 2);
  std::string_view dir = Arg(call, 3);
  if (which == "request" || which == "response") {
    dir = which;
    which = "";
  }
  ProxySnapshot snap = TakeProxySnapshot(call.appliance);
  int64_t iid = -1;  // -1: every proxy
  if (!which.empty() && which != "-1") {
    const ProxyView* found = nullptr;
    for (const ProxyView& p : snap.proxies) {
      if (p.name == which) found = &p;
    }
    if (!found) {
      // A number names a proxy id (HAProxy: "#<iid>" or plain digits).
      std::string_view digits = which;
      if (!digits.empty() && digits[0] == '#') digits.remove_prefix(1);
      const ParsedLong n = Strtol(digits);
      if (n.used == digits.size() && n.used > 0) {
        for (const ProxyView& p : snap.proxies) {
          if (p.iid == n.value) found = &p;
        }
      }
    }
    if (!found) {
      call.Error("No such proxy.\n");
      return nullptr;
    }
    iid = found->iid;
  }
  std::vector<ErrorView> errors;
  uint64_t total = 0;
  if (snap.control) snap.control->Errors(&errors, &total);
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  std::string out = "Total events captured on " +
                    Date(static_cast<int64_t>(now.tv_sec) * 1000000 + now.tv_nsec / 1000) + " : " +
                    std::to_string(total) + "\n";
  for (const ErrorView& e : errors) {
    if (iid >= 0 && e.proxy_iid != iid) continue;
    if ((dir == "request" && !e.request) || (dir == "response" && e.request)) continue;
    out += Entry(e);
  }
  return std::make_unique<TextDump>(std::move(out));
}

constexpr CommandRow kErrorsCommands[] = {
    {{"show", "errors"},
     Level::kOperator,
     &ShowErrors,
     "show errors [<px>] [request|response]",
     "report last request and/or response errors for each proxy"},
};

}  // namespace

std::span<const CommandRow> ErrorsCommands() { return kErrorsCommands; }

}  // namespace sluice::cli
