#include "controlplane/main/cli_context.h"

#include <rte_mempool.h>

#include <unistd.h>

#include "controlplane/main/version.h"

namespace sluice::app {

using counters::Counter;

ApplianceCliContext::ApplianceCliContext(const Appliance& app, const config::Config& cfg)
    : app_(app), cfg_(cfg), start_(std::chrono::steady_clock::now()) {
  baseline_.resize(app.workers());
  for (auto& b : baseline_) b.fill(0);
}

std::string ApplianceCliContext::Version() { return kSluiceVersion; }

uint64_t ApplianceCliContext::Value(unsigned worker, size_t counter) const {
  const uint64_t v = app_.counters(worker).Get(counter);
  // Gauges are never cleared; counters are shown since the last `clear counters all`.
  if (counter == static_cast<size_t>(Counter::snapshot_version) ||
      counter == static_cast<size_t>(Counter::tcp_connections)) {
    return v;
  }
  return v - baseline_[worker][counter];
}

void ApplianceCliContext::FillInfo(cli::InfoValues& info) {
  info.SetStr("Version", kSluiceVersion);
  info.SetStr("Release_date", kSluiceReleaseDate);
  info.SetNum("Nbthread", app_.workers());
  const double up =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  info.SetUptime(up);
  info.SetNum("Memmax_MB", cfg_.dataplane.memory_mb);
  info.SetNum("Maxconn", app_.proxy().global_maxconn);  // `set maxconn global` changes it
  info.SetNum("Hard_maxconn", cfg_.global.maxconn.value_or(0));
  // Connections: the workers' TCP tables (a gauge each) and the opens since start.
  uint64_t cur = 0, cum = 0;
  for (unsigned w = 0; w < app_.workers(); ++w) {
    const auto& c = app_.counters(w);
    cur += c.Get(Counter::tcp_connections);
    cum += c.Get(Counter::tcp_passive_opens) + c.Get(Counter::tcp_active_opens);
  }
  // Rates over the last second, sampled by the control loop (every frontend together).
  const cp::RateMeter& rate = app_.proxy().conn_rate();
  info.SetNum("ConnRate", rate.rate());
  info.SetNum("MaxConnRate", rate.max());
  info.SetNum("SessRate", rate.rate());
  info.SetNum("MaxSessRate", rate.max());
  info.SetNum("ConnRateLimit", app_.proxy().rate_limit_conn);
  info.SetNum("SessRateLimit", app_.proxy().rate_limit_sess);
  info.SetNum("SslRateLimit", app_.proxy().rate_limit_ssl);
  info.SetNum("CompressBpsRateLim", app_.proxy().rate_limit_compress_bps);
  // Memory: the packet pool, where every buffer of the data plane comes from.
  if (const rte_mempool* pool = app_.pool()) {
    const uint64_t obj = pool->header_size + pool->elt_size + pool->trailer_size;
    const uint64_t alloc = obj * pool->size;
    const uint64_t used = obj * rte_mempool_in_use_count(pool);
    info.SetNum("PoolAlloc_bytes", alloc);
    info.SetNum("PoolUsed_bytes", used);
    info.SetNum("PoolAlloc_MB", alloc >> 20);
    info.SetNum("PoolUsed_MB", used >> 20);
  }
  info.SetNum("CurrConns", cur);
  info.SetNum("CumConns", cum);
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) == 0) info.SetStr("node", host);
}

void ApplianceCliContext::Activity(cli::ActivityDump& out) {
  const unsigned n = app_.workers();
  out.workers = n;
  auto row = [&](const char* name, Counter c) {
    cli::ActivityRow r;
    r.name = name;
    for (unsigned w = 0; w < n; ++w) r.per_worker.push_back(Value(w, static_cast<size_t>(c)));
    out.rows.push_back(std::move(r));
  };
  row("loops", Counter::loops);
  row("busy_cycles", Counter::busy_cycles);
  row("rx_pkts", Counter::rx_packets);
  row("tx_pkts", Counter::tx_packets);
  // Then every other counter, in the order of worker_counters.def: dispatch, ARP/ND,
  // TCP (as `netstat -s` names them) and every drop reason.
  for (size_t i = 0; i < counters::kNumCounters; ++i) {
    const auto c = static_cast<Counter>(i);
    if (c == Counter::loops || c == Counter::busy_cycles || c == Counter::rx_packets ||
        c == Counter::tx_packets) {
      continue;
    }
    cli::ActivityRow r;
    r.name = std::string(counters::kCounterInfo[i].name);
    for (unsigned w = 0; w < n; ++w) r.per_worker.push_back(Value(w, i));
    out.rows.push_back(std::move(r));
  }
}

std::string ApplianceCliContext::CliSockets() {
  using S = config::StatsSocketConfig;
  std::string out;
  for (const S& s : cfg_.global.stats_sockets) {
    switch (s.kind) {
      case S::Kind::kUnix:
        out += "unix@" + s.path;
        break;
      case S::Kind::kTcp4:
        out += "ipv4@" + s.address + ":" + std::to_string(s.port);
        break;
      case S::Kind::kTcp6:
        out += "ipv6@[" + s.address + "]:" + std::to_string(s.port);
        break;
    }
    out += s.level == S::Level::kAdmin      ? " admin all\n"
           : s.level == S::Level::kOperator ? " operator all\n"
                                            : " user all\n";
  }
  return out;
}

void ApplianceCliContext::ClearCounters(bool all) {
  if (proxy_) proxy_->Clear(all);
  // Plain `clear counters` resets maxima only; the worker counters below have none.
  if (!all) return;
  for (unsigned w = 0; w < app_.workers(); ++w) {
    for (size_t i = 0; i < counters::kNumCounters; ++i) {
      baseline_[w][i] = app_.counters(w).Get(i);
    }
  }
}

}  // namespace sluice::app
