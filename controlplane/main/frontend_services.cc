// Slow path. The services of data-plane frontends, control-plane side
// (controlplane/main/frontend_services.h).
#include "controlplane/main/frontend_services.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "runtime-api/protocol/protocol.h"

namespace sluice::app {
namespace {

using Clock = std::chrono::steady_clock;
constexpr uint32_t kTakeRecords = 4;  // calls per kServiceTake
constexpr auto kRetryDelay = std::chrono::milliseconds(2);

std::string_view Reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 303: return "See Other";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Unknown";
  }
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

void AppendChunk(std::string& out, std::string_view data) {
  char size[20];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  out += size;
  out += data;
  out += "\r\n";
}

cli::StatsPageOptions PageOf(const config::ProxyConfig& p, const std::string& host) {
  cli::StatsPageOptions o;
  o.uri = p.stats.uri;
  o.refresh_s = p.stats.refresh_s;
  o.hide_version = p.stats.hide_version;
  o.show_legends = p.stats.show_legends;
  if (p.stats.show_node) o.node = p.stats.node.empty() ? host : p.stats.node;
  if (p.stats.show_desc) o.description = p.stats.desc;
  for (const std::string& s : p.stats.scope) o.scopes.push_back(s == "." ? p.name : s);
  return o;
}

}  // namespace

StatsPages StatsPages::From(const config::Config& cfg) {
  StatsPages pages;
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  for (const config::ProxyConfig& p : cfg.proxies) {
    const cli::StatsPageOptions o = PageOf(p, host);
    if (p.HasFrontend()) pages.frontends.push_back(o);
    if (p.HasBackend()) pages.backends.push_back(o);
    pages.any = pages.any || (p.stats.enabled && p.mode_http);
    for (const config::RuleLine& l : p.rule_lines) {
      pages.any = pages.any || (l.args.size() > 1 && l.args[1] == "use-service");
    }
  }
  return pages;
}

FrontendServices::FrontendServices(publish::RequestHub& hub,
                                   std::vector<const proxy::ProxyStats*> stats,
                                   cli::rest::Context ctx, StatsPages pages)
    : hub_(hub),
      stats_(std::move(stats)),
      ctx_(ctx),
      pages_(std::move(pages)),
      seen_(stats_.size(), 0),
      takes_(stats_.size()),
      again_(stats_.size(), false) {}

void FrontendServices::Poll() {
  if (!pages_.any) return;
  for (unsigned w = 0; w < stats_.size(); ++w) Take(w);
  for (auto it = calls_.begin(); it != calls_.end();) {
    if (Advance(*it)) {
      ++it;
    } else {
      ++answered_;
      it = calls_.erase(it);
    }
  }
}

void FrontendServices::Take(unsigned w) {
  if (takes_[w]) {
    if (!takes_[w]->answered) return;
    const base::Request& r = takes_[w]->req;
    if (r.status == base::ReplyStatus::kOk) {
      const auto* calls = reinterpret_cast<const proxy::ServiceCall*>(takes_[w]->payload.get());
      for (uint32_t i = 0; i < r.count && i < kTakeRecords; ++i) Start(w, calls[i]);
      again_[w] = !r.done;
    } else {
      again_[w] = true;  // not carried out (the hub was full): the calls still wait
    }
    takes_[w].reset();
  }
  const uint64_t posted = stats_[w]->service_posted.Get();
  if (posted == seen_[w] && !again_[w]) return;
  seen_[w] = posted;
  again_[w] = false;
  takes_[w] = hub_.Send(w, base::Op::kServiceTake, 0, 0,
                        kTakeRecords * static_cast<uint32_t>(sizeof(proxy::ServiceCall)));
}

void FrontendServices::Start(unsigned w, const proxy::ServiceCall& c) {
  Call call;
  call.worker = w;
  call.uid = c.uid;
  call.slot = c.slot;
  call.head = c.head;
  call.minor = c.minor;
  cli::rest::Request req;
  req.method = c.head ? "HEAD" : c.post ? "POST" : "GET";
  const std::string uri(c.uri, std::min<size_t>(c.uri_len, proxy::kServiceUriBytes));
  req.body.assign(c.body, std::min<size_t>(c.body_len, proxy::kServiceBodyBytes));
  req.level = c.admin ? cli::Level::kAdmin : cli::Level::kUser;
  if (c.kind == proxy::ServiceKind::kPrometheus) {
    const size_t q = uri.find('?');
    if (q != std::string::npos) req.raw_query = uri.substr(q + 1);
    call.job = cli::rest::MetricsPageJob(req, ctx_);
  } else {
    const auto& list = c.frontend ? pages_.frontends : pages_.backends;
    cli::StatsPageOptions o = c.proxy < list.size() ? list[c.proxy] : cli::StatsPageOptions{};
    o.admin = c.admin;
    // What follows `stats uri`: the options after ';' and, after '?', the query (scope=).
    const std::string rest = uri.size() >= o.uri.size() ? uri.substr(o.uri.size()) : "";
    const size_t q = rest.find('?');
    req.matrix = rest.substr(0, q);
    if (q != std::string::npos) req.raw_query = rest.substr(q + 1);
    call.job = cli::rest::StatsPageJob(req, o, ctx_);
  }
  calls_.push_back(std::move(call));
}

void FrontendServices::Serialize(Call& call, cli::rest::Response& r) {
  std::string& h = call.out;
  h = "HTTP/1.1 " + std::to_string(r.status) + " " + std::string(Reason(r.status)) + "\r\n";
  // HAProxy's order: its fields, the type, the length; a redirect's location last.
  std::string location;
  for (const auto& [k, v] : r.headers) {
    if (Lower(k) == "location") {
      location = "location: " + v + "\r\n";
    } else {
      h += Lower(k) + ": " + v + "\r\n";
    }
  }
  if (!r.content_type.empty()) h += "content-type: " + r.content_type + "\r\n";
  call.status = static_cast<uint16_t>(r.status);
  if (call.head) {
    r.stream.reset();
    r.body.clear();
  } else if (r.stream) {
    // A streamed body: chunked for HTTP/1.1 (as HAProxy's page and exporter), delimited by
    // the close for HTTP/1.0.
    call.chunked = call.minor >= 1;
    call.close = !call.chunked;
    if (call.chunked) h += "transfer-encoding: chunked\r\n";
    call.stream = std::move(r.stream);
  } else {
    h += "content-length: " + std::to_string(r.body.size()) + "\r\n";
  }
  h += location + "\r\n";
  if (r.body.empty()) return;
  if (call.chunked) {
    AppendChunk(h, r.body);
  } else {
    h += r.body;
  }
}

void FrontendServices::Refill(Call& call) {
  while (call.stream && call.out.size() - call.sent < proxy::kServiceSliceBytes) {
    call.out.erase(0, call.sent);
    call.sent = 0;
    std::string part;
    cli::Writer w(part, proxy::kServiceSliceBytes);
    const cli::DumpStatus st = call.stream->Step(w);
    if (!part.empty()) {
      if (call.chunked) {
        AppendChunk(call.out, part);
      } else {
        call.out += part;
      }
    }
    if (st == cli::DumpStatus::kDone) {
      call.stream.reset();
      if (call.chunked) call.out += "0\r\n\r\n";
    }
    if (st == cli::DumpStatus::kWait) return;
  }
}

bool FrontendServices::Advance(Call& call) {
  if (!call.answered) {
    cli::rest::Response r;
    if (!call.job->Pump(&r)) return true;
    Serialize(call, r);
    call.answered = true;
  }
  const Clock::time_point now = Clock::now();
  if (call.inflight) {
    if (!call.inflight->answered) return true;
    const base::Request q = call.inflight->req;
    call.inflight.reset();
    if (q.seen == 1) return false;  // the client left
    // Its queue was full (or the hub could not send the slice): again a little later.
    if (q.status != base::ReplyStatus::kOk || q.count == 0) {
      call.retry_at = now + kRetryDelay;
      return true;
    }
    call.sent += call.inflight_len;
    call.status_sent = true;
    if (call.inflight_last) return false;
  }
  if (now < call.retry_at) return true;
  Refill(call);
  const size_t left = call.out.size() - call.sent;
  const uint32_t len = static_cast<uint32_t>(std::min<size_t>(left, proxy::kServiceSliceBytes));
  const bool last = !call.stream && len == left;
  if (len == 0 && !last) return true;  // a streamed body waits for the workers
  proxy::ServiceData d;
  d.slot = call.slot;
  d.len = len;
  d.status = call.status_sent ? 0 : call.status;
  d.last = last;
  d.close = last && call.close;
  call.inflight = hub_.Send(call.worker, base::Op::kServiceData, d.Pack(), call.uid, len,
                            call.out.data() + call.sent, len);
  call.inflight_len = len;
  call.inflight_last = last;
  return true;
}

}  // namespace sluice::app
