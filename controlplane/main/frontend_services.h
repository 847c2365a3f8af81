// Slow path. The control plane's half of the services a data-plane frontend offers
// (dataplane/proxy/service_call.h; docs/stats-page.md, docs/metrics.md): it notices the
// requests the workers handed over (their ProxyStats::service_posted moved), takes them
// (base::Op::kServiceTake), answers each with the same Job the REST listener's /stats and
// /metrics run (runtime-api/rest/router.h), writes the HTTP/1.1 answer and sends it back in
// slices (base::Op::kServiceData). A slice the worker could not queue (its client reads
// slowly) is sent again a little later; a call whose client left is dropped. At most one
// slice per call is in flight, and a streamed answer is stepped only as its slices go out.
//
//   FrontendServices services(app.requests(), app.proxy_stats(), ctx, pages);
//   each loop iteration: services.Poll();  (busy(): look again soon)
#pragma once

#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include "controlplane/config/config.h"
#include "controlplane/publish/requests.h"
#include "dataplane/proxy/proxy_model.h"
#include "dataplane/proxy/service_call.h"
#include "runtime-api/rest/router.h"

namespace sluice::app {

// Each proxy's `stats` settings as the page is rendered, by frontend and by backend index
// (the workers' numbering: proxies with that side, in file order).
struct StatsPages {
  std::vector<cli::StatsPageOptions> frontends, backends;
  static StatsPages From(const config::Config& cfg);
  bool any = false;  // some proxy serves a page or the exporter: the workers are watched
};

class FrontendServices {
 public:
  FrontendServices(publish::RequestHub& hub, std::vector<const proxy::ProxyStats*> stats,
                   cli::rest::Context ctx, StatsPages pages);
  FrontendServices(const FrontendServices&) = delete;
  FrontendServices& operator=(const FrontendServices&) = delete;

  // Takes new calls, pumps the answers, sends the next slices. Never waits.
  void Poll();
  // Calls in progress: the control loop looks again soon.
  bool busy() const { return !calls_.empty(); }
  bool enabled() const { return pages_.any; }
  uint64_t answered() const { return answered_; }

 private:
  struct Call {
    unsigned worker = 0;
    uint64_t uid = 0;
    uint32_t slot = 0;
    bool head = false;
    uint8_t minor = 1;
    std::unique_ptr<cli::rest::Job> job;
    bool answered = false;  // the Job's response is known: `out` holds the head
    std::string out;        // bytes to send; `sent` of them already went
    size_t sent = 0;
    std::unique_ptr<cli::Dump> stream;  // the rest of a streamed body
    bool chunked = false;
    bool close = false;       // delimited by the close (HTTP/1.0, streamed)
    uint16_t status = 0;      // sent with the first slice
    bool status_sent = false;
    publish::RequestHub::Ref inflight;
    uint32_t inflight_len = 0;
    bool inflight_last = false;
    std::chrono::steady_clock::time_point retry_at{};
  };
  void Take(unsigned worker);
  void Start(unsigned worker, const proxy::ServiceCall& c);
  // False when the call is over (sent, or gone).
  bool Advance(Call& call);
  // The Job's response as HTTP/1.1 bytes (head, body or its first chunk).
  void Serialize(Call& call, cli::rest::Response& r);
  // More of a streamed body, chunked when the client speaks HTTP/1.1.
  void Refill(Call& call);

  publish::RequestHub& hub_;
  std::vector<const proxy::ProxyStats*> stats_;
  cli::rest::Context ctx_;
  StatsPages pages_;
  std::vector<uint64_t> seen_;                      // service_posted taken, per worker
  std::vector<publish::RequestHub::Ref> takes_;     // a take in flight, per worker
  std::vector<bool> again_;                         // more calls waited than a take held
  std::list<Call> calls_;
  uint64_t answered_ = 0;
};

}  // namespace sluice::app
