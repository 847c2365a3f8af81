// Slow path: haproxy's custom log format (configuration.txt 8.2.4), compiled once per proxy
// and rendered once per logged session on the control-plane thread.
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <climits>
#include <string>
#include <string_view>

#include "controlplane/log/log.h"
#include "controlplane/log/log_time.h"

namespace sluice::log {

enum class LogFormat::Var : uint8_t {
  kText,
  kSample,  // %[expr]: text holds the sample's index in LogEvent::samples
  kClientIp,
  kClientPort,
  kFrontendIp,
  kFrontendPort,
  kFrontend,
  kFrontendTransport,  // %ft: the frontend's name, '~' after it for a TLS client
  kBackend,
  kServer,
  kBackendSrcIp,
  kBackendSrcPort,
  kServerIp,
  kServerPort,
  kDate,       // %t
  kDateGmt,    // %T
  kDateLocal,  // %Tl
  kTs,
  kMs,
  kTw,
  kTc,
  kTt,
  kBytesRead,
  kBytesUploaded,
  kTermState,
  kActconn,
  kFeconn,
  kBeconn,
  kSrvConn,
  kRetries,
  kSrvQueue,
  kBackendQueue,
  kPid,
  kHostname,
  kStatus,        // %ST
  kRequest,       // %r
  kMethod,        // %HM
  kUri,           // %HU
  kVersion,       // %HV
  kPath,          // %HP
  kQuery,         // %HQ
  kTreq,          // %TR
  kTres,          // %Tr
  kTa,            // %Ta
  kTi,            // %Ti
  kTq,            // %Tq
  kReqDate,       // %tr
  kReqDateGmt,    // %trg
  kReqDateLocal,  // %trl
  kTermCookie,    // %tsc
  kCookieIn,      // %CC
  kCookieOut,     // %CS
  kSeparator,     // a run of spaces: one space, unless the line already ends in one
  kCapReq,        // %hr
  kCapReqList,    // %hrl
  kCapRes,        // %hs
  kCapResList,    // %hsl
  kSslVersion,    // %sslv
  kSslCipher,     // %sslc
};

namespace {

using Var = LogFormat::Var;

enum Flag : uint8_t { kQuote = 1, kEscape = 2 };

struct VarName {
  std::string_view name;
  Var var;
};

constexpr VarName kVars[] = {
    {"ci", Var::kClientIp},
    {"cp", Var::kClientPort},
    {"fi", Var::kFrontendIp},
    {"fp", Var::kFrontendPort},
    {"f", Var::kFrontend},
    {"ft", Var::kFrontendTransport},
    {"b", Var::kBackend},
    {"s", Var::kServer},
    {"bi", Var::kBackendSrcIp},
    {"bp", Var::kBackendSrcPort},
    {"si", Var::kServerIp},
    {"sp", Var::kServerPort},
    {"t", Var::kDate},
    {"T", Var::kDateGmt},
    {"Tl", Var::kDateLocal},
    {"Ts", Var::kTs},
    {"ms", Var::kMs},
    {"Tw", Var::kTw},
    {"Tc", Var::kTc},
    {"Tt", Var::kTt},
    {"B", Var::kBytesRead},
    {"U", Var::kBytesUploaded},
    {"ts", Var::kTermState},
    {"ac", Var::kActconn},
    {"fc", Var::kFeconn},
    {"bc", Var::kBeconn},
    {"sc", Var::kSrvConn},
    {"rc", Var::kRetries},
    {"sq", Var::kSrvQueue},
    {"bq", Var::kBackendQueue},
    {"pid", Var::kPid},
    {"H", Var::kHostname},
    {"ST", Var::kStatus},
    {"r", Var::kRequest},
    {"HM", Var::kMethod},
    {"HU", Var::kUri},
    {"HV", Var::kVersion},
    {"HP", Var::kPath},
    {"HQ", Var::kQuery},
    {"TR", Var::kTreq},
    {"Tr", Var::kTres},
    {"Ta", Var::kTa},
    {"Ti", Var::kTi},
    {"Tq", Var::kTq},
    {"tr", Var::kReqDate},
    {"trg", Var::kReqDateGmt},
    {"trl", Var::kReqDateLocal},
    {"tsc", Var::kTermCookie},
    {"CC", Var::kCookieIn},
    {"CS", Var::kCookieOut},
    {"hr", Var::kCapReq},
    {"hrl", Var::kCapReqList},
    {"hs", Var::kCapRes},
    {"hsl", Var::kCapResList},
    {"sslv", Var::kSslVersion},
    {"sslc", Var::kSslCipher},
};

// haproxy's other variables: HTTP, TLS, captures, counters and ids (configuration.txt 8.2.4).
constexpr std::string_view kUnsupportedVars[] = {"HPO", "ID", "Td", "Th", "Tu", "lc", "rt"};

std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

constexpr std::string_view kPercentHint = " (write '%%' for a literal '%')";

// The flags of "%{+Q,-E}": comma-separated, each '+' or '-' and a flag name.
bool ParseFlags(std::string_view spec, uint8_t* flags, std::string* error) {
  while (true) {
    const size_t comma = spec.find(',');
    const std::string_view item = spec.substr(0, comma);
    if (!item.empty()) {
      if ((item[0] != '+' && item[0] != '-') || item.size() < 2) {
        *error = "flag " + Quote(item) + " in '%{" + std::string(spec) +
                 "}' does not start with '+' or '-'";
        return false;
      }
      const std::string_view name = item.substr(1);
      uint8_t bit = 0;
      if (name == "Q") {
        bit = kQuote;
      } else if (name == "E") {
        bit = kEscape;
      } else if (name == "X" || name == "M") {
        *error = "flag " + Quote(name) + " is not supported by sluice (Q or E)";
        return false;
      } else {
        *error = "unknown flag " + Quote(name) + " (Q or E)";
        return false;
      }
      if (item[0] == '+') {
        *flags = static_cast<uint8_t>(*flags | bit);
      } else {
        *flags = static_cast<uint8_t>(*flags & ~bit);
      }
    }
    if (comma == std::string_view::npos) return true;
    spec.remove_prefix(comma + 1);
  }
}

bool IsAlpha(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }
bool IsAlnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

void AppendUnsigned(uint64_t v, std::string* out) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, r.ptr);
}

void AppendSigned(int64_t v, std::string* out) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, r.ptr);
}

// A text variable: "-" when empty (nothing between the quotes when quoted); E escapes '"',
// '\' and ']' with a backslash (for RFC 5424 structured data, as haproxy's E flag).
void AppendText(std::string_view s, uint8_t flags, std::string* out) {
  if (flags & kQuote) out->push_back('"');
  if (s.empty()) {
    if (!(flags & kQuote)) out->push_back('-');
  } else if (flags & kEscape) {
    for (char c : s) {
      if (c == '"' || c == '\\' || c == ']') out->push_back('\\');
      out->push_back(c);
    }
  } else {
    out->append(s);
  }
  if (flags & kQuote) out->push_back('"');
}

// A part of the request line "METHOD URI VERSION" (%HM %HU %HV, %HP the URI's path, %HQ its
// query with the '?').
std::string_view RequestPart(std::string_view r, LogFormat::Var v) {
  const size_t a = r.find(' ');
  const size_t b = a == std::string_view::npos ? a : r.find(' ', a + 1);
  const std::string_view method = r.substr(0, a);
  const std::string_view uri =
      a == std::string_view::npos ? std::string_view() : r.substr(a + 1, b - a - 1);
  const std::string_view version =
      b == std::string_view::npos ? std::string_view() : r.substr(b + 1);
  const size_t q = uri.find('?');
  switch (v) {
    case LogFormat::Var::kMethod:
      return method;
    case LogFormat::Var::kUri:
      return uri;
    case LogFormat::Var::kVersion:
      return version;
    case LogFormat::Var::kPath:
      return uri.substr(0, q);
    case LogFormat::Var::kQuery:
      return q == std::string_view::npos ? std::string_view() : uri.substr(q);
    default:
      return {};
  }
}

// 06/Feb/2009:12:12:51.443 (local time, milliseconds): %t and %tr.
void AppendDateMs(int64_t unix_us, std::string* out) {
  const BrokenTime t = BreakTime(unix_us, true);
  AppendLogDate(t, out);
  out->push_back('.');
  const int ms = t.us / 1000;
  out->push_back(static_cast<char>('0' + ms / 100));
  out->push_back(static_cast<char>('0' + ms / 10 % 10));
  out->push_back(static_cast<char>('0' + ms % 10));
}

// 06/Feb/2009:11:12:51 +0000 (GMT) or with the local offset: %T %Tl %trg %trl.
void AppendDateOffset(int64_t unix_us, bool local, std::string* out) {
  const BrokenTime t = BreakTime(unix_us, local);
  AppendLogDate(t, out);
  out->push_back(' ');
  AppendOffset(t.gmt_offset_s, false, out);
}

// A captured value as HAProxy logs it (log.c's hdr_encode_map): control bytes, bytes from
// 127 up, and '"', '#', '{', '|', '}' as '#' and two upper-case hex digits.
void AppendCaptured(std::string_view v, std::string* out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (const char ch : v) {
    const auto b = static_cast<unsigned char>(ch);
    if (b < 32 || b >= 127 || ch == '"' || ch == '#' || ch == '{' || ch == '|' || ch == '}') {
      out->push_back('#');
      out->push_back(kHex[b >> 4]);
      out->push_back(kHex[b & 15]);
    } else {
      out->push_back(ch);
    }
  }
}

// %hr / %hs: "{v1|v2}" (quoted whole with Q); %hrl / %hsl: "v1 v2" ("-" for an empty slot,
// each quoted with Q). Nothing at all when the frontend captures nothing.
void AppendCaptures(const std::vector<std::optional<std::string>>& caps, bool list, uint8_t fl,
                    std::string* out) {
  if (caps.empty()) return;
  const bool q = (fl & kQuote) != 0;
  if (!list) {
    if (q) out->push_back('"');
    out->push_back('{');
    for (size_t i = 0; i < caps.size(); ++i) {
      if (i) out->push_back('|');
      if (caps[i]) AppendCaptured(*caps[i], out);
    }
    out->push_back('}');
    if (q) out->push_back('"');
    return;
  }
  for (size_t i = 0; i < caps.size(); ++i) {
    if (i) out->push_back(' ');
    if (q) out->push_back('"');
    if (caps[i]) {
      AppendCaptured(*caps[i], out);
    } else if (!q) {
      out->push_back('-');
    }
    if (q) out->push_back('"');
  }
}

// A port goes with its address: "-" when the address is unknown.
void AppendPort(std::string_view ip, uint16_t port, std::string* out) {
  if (ip.empty()) {
    out->push_back('-');
  } else {
    AppendUnsigned(port, out);
  }
}

}  // namespace

std::optional<LogFormat> LogFormat::Compile(std::string_view text, std::string* error) {
  std::string scratch;
  if (error == nullptr) error = &scratch;
  LogFormat f;
  f.text_ = std::string(text);
  char host[HOST_NAME_MAX + 1] = {};
  if (gethostname(host, sizeof(host) - 1) == 0) f.hostname_ = host;
  f.pid_ = static_cast<int>(getpid());

  uint8_t defaults = 0;  // set by %{...}o
  size_t samples = 0;    // %[...] seen
  std::string literal;
  auto flush = [&] {
    if (literal.empty()) return;
    f.nodes_.push_back(Node{Var::kText, 0, std::move(literal)});
    literal.clear();
  };
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    const char c = text[i];
    if (c == ' ') {  // HAProxy's separator: one space for a run of them
      flush();
      while (i < n && text[i] == ' ') ++i;
      f.nodes_.push_back(Node{Var::kSeparator, 0, {}});
      continue;
    }
    if (c != '%') {
      literal.push_back(c);
      ++i;
      continue;
    }
    if (i + 1 >= n) {
      *error = "'%' at the end of the format" + std::string(kPercentHint);
      return std::nullopt;
    }
    if (text[i + 1] == '%') {
      literal.push_back('%');
      i += 2;
      continue;
    }
    size_t j = i + 1;
    if (text[j] == '(') {
      *error = "named variables ('%(NAME)') are not supported by sluice";
      return std::nullopt;
    }
    uint8_t flags = defaults;
    std::string_view spec;
    bool has_spec = false;
    if (text[j] == '{') {
      const size_t close = text.find('}', j);
      if (close == std::string_view::npos) {
        *error = "'%{' without its '}' at position " + std::to_string(i);
        return std::nullopt;
      }
      spec = text.substr(j + 1, close - j - 1);
      has_spec = true;
      if (!ParseFlags(spec, &flags, error)) return std::nullopt;
      j = close + 1;
    }
    if (j < n && text[j] == '[') {
      // The expression is compiled by the rules compiler (controlplane/rules), which finds
      // the same %[...] in the same order; here it is a slot.
      int depth = 0;
      size_t k = j + 1;
      for (; k < n; ++k) {
        if (text[k] == '(') ++depth;
        if (text[k] == ')') --depth;
        if (text[k] == ']' && depth <= 0) break;
      }
      if (k >= n) {
        *error = "missing ']' after '%[' at position " + std::to_string(i);
        return std::nullopt;
      }
      flush();
      f.nodes_.push_back(Node{Var::kSample, flags, std::to_string(samples++)});
      i = k + 1;
      continue;
    }
    if (j >= n || !IsAlpha(text[j])) {
      if (has_spec) {
        *error = "'%{" + std::string(spec) + "}' is not followed by a variable";
      } else {
        *error = "unexpected character " + Quote(text.substr(j, 1)) + " after '%' at position " +
                 std::to_string(i) + std::string(kPercentHint);
      }
      return std::nullopt;
    }
    size_t k = j;
    while (k < n && IsAlnum(text[k])) ++k;
    const std::string_view name = text.substr(j, k - j);
    i = k;
    if (name == "o") {  // flags for every variable after it
      defaults = flags;
      continue;
    }
    const auto* found = std::find_if(std::begin(kVars), std::end(kVars),
                                     [&](const VarName& v) { return v.name == name; });
    if (found == std::end(kVars)) {
      const bool known = std::find(std::begin(kUnsupportedVars), std::end(kUnsupportedVars),
                                   name) != std::end(kUnsupportedVars);
      *error = known ? "variable " + Quote(name) + " is not supported by sluice yet"
                     : "unknown variable " + Quote(name) + std::string(kPercentHint);
      return std::nullopt;
    }
    flush();
    f.nodes_.push_back(Node{found->var, flags, {}});
  }
  flush();
  return f;
}

void LogFormat::SetProcess(std::string hostname, int pid) {
  hostname_ = std::move(hostname);
  pid_ = pid;
}

std::string LogFormat::Render(const LogEvent& e) const {
  std::string out;
  out.reserve(160);
  RenderTo(e, &out);
  return out;
}

void LogFormat::RenderTo(const LogEvent& e, std::string* out) const {
  // HAProxy writes a separator only where the line does not already end in one, so the
  // spaces around a variable that writes nothing (%hr without captures) come out once.
  bool last_space = true;
  size_t mark = out->size();
  for (const Node& node : nodes_) {
    const uint8_t fl = node.flags;
    if (out->size() != mark) last_space = false;
    if (node.var == Var::kSeparator) {
      if (!last_space) out->push_back(' ');
      last_space = true;
      mark = out->size();
      continue;
    }
    mark = out->size();
    switch (node.var) {
      case Var::kSeparator:
        break;
      case Var::kCapReq:
      case Var::kCapReqList:
        AppendCaptures(e.req_caps, node.var == Var::kCapReqList, fl, out);
        break;
      case Var::kCapRes:
      case Var::kCapResList:
        AppendCaptures(e.res_caps, node.var == Var::kCapResList, fl, out);
        break;
      case Var::kText:
        out->append(node.text);
        break;
      case Var::kSample: {
        const size_t k = std::stoul(node.text);
        if (k < e.samples.size() && e.samples[k]) {
          AppendText(*e.samples[k], fl, out);
        } else {
          AppendText("", fl, out);
        }
        break;
      }
      case Var::kClientIp:
        AppendText(e.client_ip, fl, out);
        break;
      case Var::kClientPort:
        AppendUnsigned(e.client_port, out);
        break;
      case Var::kFrontendIp:
        AppendText(e.frontend_ip, fl, out);
        break;
      case Var::kFrontendPort:
        AppendUnsigned(e.frontend_port, out);
        break;
      case Var::kFrontend:
        AppendText(e.frontend, fl, out);
        break;
      case Var::kFrontendTransport:
        AppendText(e.ssl_version.empty() ? e.frontend : e.frontend + "~", fl, out);
        break;
      case Var::kSslVersion:
        AppendText(e.ssl_version, fl, out);
        break;
      case Var::kSslCipher:
        AppendText(e.ssl_cipher, fl, out);
        break;
      case Var::kBackend:
        AppendText(e.backend, fl, out);
        break;
      case Var::kServer:
        AppendText(e.server, fl, out);
        break;
      case Var::kBackendSrcIp:
        AppendText(e.backend_src_ip, fl, out);
        break;
      case Var::kBackendSrcPort:
        AppendPort(e.backend_src_ip, e.backend_src_port, out);
        break;
      case Var::kServerIp:
        AppendText(e.server_ip, fl, out);
        break;
      case Var::kServerPort:
        AppendPort(e.server_ip, e.server_port, out);
        break;
      case Var::kDate:  // 06/Feb/2009:12:12:51.443
        AppendDateMs(e.accept_unix_us, out);
        break;
      case Var::kDateGmt:    // 06/Feb/2009:11:12:51 +0000
      case Var::kDateLocal:  // 06/Feb/2009:12:12:51 +0100
        AppendDateOffset(e.accept_unix_us, node.var == Var::kDateLocal, out);
        break;
      case Var::kTs:
        AppendSigned(BreakTime(e.accept_unix_us, false).unix_s, out);
        break;
      case Var::kMs: {  // left-padded with zeros to 3 digits
        const int ms = BreakTime(e.accept_unix_us, false).us / 1000;
        out->push_back(static_cast<char>('0' + ms / 100));
        out->push_back(static_cast<char>('0' + ms / 10 % 10));
        out->push_back(static_cast<char>('0' + ms % 10));
        break;
      }
      case Var::kTw:
        AppendSigned(e.tw_ms, out);
        break;
      case Var::kTc:
        AppendSigned(e.tc_ms, out);
        break;
      case Var::kTt:
        AppendSigned(e.tt_ms, out);
        break;
      case Var::kBytesRead:
        AppendUnsigned(e.bytes_read, out);
        break;
      case Var::kBytesUploaded:
        AppendUnsigned(e.bytes_uploaded, out);
        break;
      case Var::kTermState:
        out->push_back(e.term[0]);
        out->push_back(e.term[1]);
        break;
      case Var::kActconn:
        AppendUnsigned(e.actconn, out);
        break;
      case Var::kFeconn:
        AppendUnsigned(e.feconn, out);
        break;
      case Var::kBeconn:
        AppendUnsigned(e.beconn, out);
        break;
      case Var::kSrvConn:
        AppendUnsigned(e.srv_conn, out);
        break;
      case Var::kRetries:
        if (e.redispatched) out->push_back('+');
        AppendUnsigned(e.retries, out);
        break;
      case Var::kSrvQueue:
        AppendUnsigned(e.srv_queue, out);
        break;
      case Var::kBackendQueue:
        AppendUnsigned(e.backend_queue, out);
        break;
      case Var::kPid:
        AppendSigned(pid_, out);
        break;
      case Var::kHostname:
        AppendText(hostname_, fl, out);
        break;
      case Var::kStatus:
        AppendUnsigned(e.status, out);
        break;
      case Var::kRequest:
        AppendText(e.request.empty() ? "<BADREQ>" : e.request, fl, out);
        break;
      case Var::kMethod:
      case Var::kUri:
      case Var::kVersion:
      case Var::kPath:
      case Var::kQuery:
        AppendText(RequestPart(e.request, node.var), fl, out);
        break;
      case Var::kTreq:
        AppendSigned(e.treq_ms, out);
        break;
      case Var::kTres:
        AppendSigned(e.tres_ms, out);
        break;
      case Var::kTa:
        AppendSigned(e.ta_ms, out);
        break;
      case Var::kTi:
        AppendSigned(e.ti_ms, out);
        break;
      case Var::kTq:  // Th + Ti + TR, -1 when the request never came
        AppendSigned(e.treq_ms < 0 ? -1 : e.ti_ms + e.treq_ms, out);
        break;
      case Var::kReqDate:  // as %t, %T and %Tl, for the request's start
        AppendDateMs(e.request_unix_us, out);
        break;
      case Var::kReqDateGmt:
      case Var::kReqDateLocal:
        AppendDateOffset(e.request_unix_us, node.var == Var::kReqDateLocal, out);
        break;
      case Var::kTermCookie:  // the termination state and the cookie flags (no cookies yet)
        out->push_back(e.term[0]);
        out->push_back(e.term[1]);
        out->append("--");
        break;
      case Var::kCookieIn:
        AppendText(e.cookie_in, fl, out);  // none captured: "-"
        break;
      case Var::kCookieOut:
        AppendText(e.cookie_out, fl, out);
        break;
    }
  }
}

}  // namespace sluice::log
