// DPDK telemetry commands for Sluice's counters (until the Runtime API's `show activity`):
//   /sluice/info            workers and ports
//   /sluice/counters        every counter, summed over the workers
//   /sluice/worker,N        worker N's counters
//   /sluice/owner,IP        the worker owning flows from client IP (DESIGN.md section 2)
//   /sluice/control         the control loop: iterations and the longest one's work (us)
// Callbacks run on DPDK's telemetry thread; they only read (relaxed loads) and hold a mutex
// against the control plane tearing the appliance down. No worker ever takes it.
#include <rte_telemetry.h>

#include <cstdlib>
#include <mutex>

#include "controlplane/main/appliance.h"
#include "dataplane/net/addr_text.h"

namespace sluice::app {

namespace {

std::mutex g_mu;
const Appliance* g_app = nullptr;

void AddCounters(rte_tel_data* d, const Appliance& app, int worker) {
  rte_tel_data_start_dict(d);
  for (size_t i = 0; i < counters::kNumCounters; ++i) {
    uint64_t v = 0;
    for (unsigned w = 0; w < app.workers(); ++w) {
      if (worker < 0 || static_cast<unsigned>(worker) == w) v += app.counters(w).Get(i);
    }
    rte_tel_data_add_dict_u64(d, std::string(counters::kCounterInfo[i].name).c_str(), v);
  }
  uint64_t drops = 0;
  for (unsigned w = 0; w < app.workers(); ++w) {
    if (worker < 0 || static_cast<unsigned>(worker) == w) drops += app.counters(w).DropsTotal();
  }
  rte_tel_data_add_dict_u64(d, "drops_total", drops);
}

int HandleCounters(const char*, const char*, rte_tel_data* d) {
  std::lock_guard lock(g_mu);
  if (!g_app) return -1;
  AddCounters(d, *g_app, -1);
  return 0;
}

int HandleWorker(const char*, const char* params, rte_tel_data* d) {
  std::lock_guard lock(g_mu);
  if (!g_app || !params || !*params) return -1;
  char* end = nullptr;
  const long w = std::strtol(params, &end, 10);
  if (*end != '\0' || w < 0 || static_cast<unsigned long>(w) >= g_app->workers()) return -1;
  AddCounters(d, *g_app, static_cast<int>(w));
  return 0;
}

int HandleOwner(const char*, const char* params, rte_tel_data* d) {
  std::lock_guard lock(g_mu);
  if (!g_app || !params) return -1;
  auto ip = net::ParseIp(params);
  if (!ip) return -1;
  rte_tel_data_start_dict(d);
  rte_tel_data_add_dict_int(d, "worker", g_app->net().steering.OwnerOfClient(*ip));
  return 0;
}

int HandleControl(const char*, const char*, rte_tel_data* d) {
  std::lock_guard lock(g_mu);
  if (!g_app) return -1;
  const ControlLoopStats& s = g_app->control_stats();
  rte_tel_data_start_dict(d);
  rte_tel_data_add_dict_u64(d, "loops", s.loops.load(std::memory_order_relaxed));
  rte_tel_data_add_dict_u64(d, "loop_max_us", s.max_us.load(std::memory_order_relaxed));
  return 0;
}

int HandleInfo(const char*, const char*, rte_tel_data* d) {
  std::lock_guard lock(g_mu);
  if (!g_app) return -1;
  rte_tel_data_start_dict(d);
  rte_tel_data_add_dict_int(d, "workers", static_cast<int>(g_app->workers()));
  rte_tel_data_add_dict_int(d, "ports", static_cast<int>(g_app->net().nports));
  return 0;
}

}  // namespace

void SetTelemetryTarget(const Appliance* app) {
  std::lock_guard lock(g_mu);
  g_app = app;
}

void RegisterTelemetry() {
  static bool done = false;
  if (done) return;
  done = true;
  rte_telemetry_register_cmd("/sluice/info", HandleInfo, "Workers and ports. No parameters");
  rte_telemetry_register_cmd("/sluice/counters", HandleCounters,
                             "Counters summed over the workers. No parameters");
  rte_telemetry_register_cmd("/sluice/worker", HandleWorker,
                             "Counters of one worker. Parameters: int worker");
  rte_telemetry_register_cmd("/sluice/control", HandleControl,
                             "Control loop: loops, loop_max_us. No parameters");
  rte_telemetry_register_cmd("/sluice/owner", HandleOwner,
                             "Worker owning the flows of a client. Parameters: IP address");
}

}  // namespace sluice::app
