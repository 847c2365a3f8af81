#include "controlplane/main/appliance.h"

#include "controlplane/main/proxy_control.h"
#include "controlplane/tls/cert_store.h"
#include "controlplane/tls/ocsp_store.h"
#include "controlplane/tls/ticket_keys.h"
#include "controlplane/tls/tls_build.h"
#include "dataplane/net/addr_text.h"

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <sys/random.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>

namespace sluice::app {

using base::Error;
using base::Result;

namespace {

constexpr uint16_t kRxDesc = 1024;
constexpr uint16_t kTxDesc = 1024;

}  // namespace
}  // namespace sluice::app

// jemalloc's control interface, weak: sanitizer builds run without jemalloc.
extern "C" int mallctl(const char* name, void* oldp, size_t* oldlenp, void* newp,
                       size_t newlen) __attribute__((weak));

namespace sluice::app {
namespace {

// What a worker allocates (OpenSSL's objects and buffers: dataplane/tls) comes from a jemalloc
// arena of its own, so no allocator lock or cache line is shared with another worker or the
// control plane (docs/decisions/0016-tls-on-the-workers.md). Without jemalloc: the libc's.
void UseOwnArena() {
  if (!mallctl) return;
  unsigned arena = 0;
  size_t len = sizeof arena;
  if (mallctl("arenas.create", &arena, &len, nullptr, 0) != 0) return;
  mallctl("thread.arena", nullptr, nullptr, &arena, sizeof arena);
}

int WorkerMain(void* arg) {
  UseOwnArena();
  static_cast<lcore::Worker*>(arg)->Run();
  return 0;
}

std::string Hex(const net::MacAddr& m) { return net::ToString(m); }

}  // namespace

std::string DeviceName(const config::PortConfig& port) {
  return port.device.substr(0, port.device.find(','));
}

std::vector<std::string> BuildEalArgs(const config::Config& cfg, unsigned cpus,
                                      bool hugepages_free) {
  const auto& dp = cfg.dataplane;
  const unsigned workers = cfg.Workers();
  std::vector<std::string> args = {"sluice"};
  // Main lcore 0 (control plane) on CPU 0; worker lcores 1..N on the other CPUs, sharing
  // them round-robin when there are more workers than CPUs (as in tests with 2 workers).
  std::string lcores = "0@0";
  for (unsigned w = 1; w <= workers; ++w) {
    const unsigned cpu = cpus > 1 ? 1 + (w - 1) % (cpus - 1) : 0;
    lcores += "," + std::to_string(w) + "@" + std::to_string(cpu);
  }
  args.push_back("--lcores=" + lcores);
  args.push_back("--main-lcore=0");
  const bool no_huge = dp.hugepages == config::HugePages::kOff ||
                       (dp.hugepages == config::HugePages::kAuto && !hugepages_free);
  if (no_huge) args.push_back("--no-huge");
  args.push_back("-m");
  args.push_back(std::to_string(dp.memory_mb));
  args.push_back("--file-prefix=" + dp.file_prefix);
  bool any_pci = false;
  for (const auto& p : dp.ports) {
    if (p.is_pci) {
      args.push_back("-a");
      args.push_back(p.device);
      any_pci = true;
    } else {
      args.push_back("--vdev=" + p.device);
    }
  }
  if (!any_pci) args.push_back("--no-pci");
  for (const auto& a : dp.eal_args) args.push_back(a);
  return args;
}

Appliance::Appliance(config::Config cfg) : cfg_(std::move(cfg)) {
  nworkers_ = cfg_.Workers();
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  start_ns_ =
      static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
  proxy_.Load(cfg_, nworkers_, 0);
}

uint64_t Appliance::NowSeconds() const {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  const uint64_t now =
      static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
  return (now - start_ns_) / 1'000'000'000ull;
}

uint64_t Appliance::NowWorkerUs() const {
  const uint64_t per_us = net_ && net_->tsc_hz >= 1'000'000 ? net_->tsc_hz / 1'000'000 : 1;
  return rte_rdtsc() / per_us;
}

void Appliance::Poll() {
  if (stats_view_.empty()) return;
  if (pattern_sync_) pattern_sync_->Poll();
  timespec wall{};
  clock_gettime(CLOCK_REALTIME, &wall);
  const int64_t unix_us = static_cast<int64_t>(wall.tv_sec) * 1'000'000 + wall.tv_nsec / 1000;
  std::vector<proxy::ProxyStats*> blocks;
  for (auto& s : stats_) blocks.push_back(s.get());
  logs_.Drain(proxy_, blocks, unix_us - static_cast<int64_t>(NowWorkerUs()));
  proxy_.SampleRates(stats_view_, NowMilliseconds());
  std::vector<cp::StateChange> changes;
  if (proxy_.PollChecks(stats_view_, NowSeconds(), &changes)) PublishSnapshot(kProxyPart);
  // On stderr as HAProxy prints them, and to the backend's log targets at HAProxy's levels:
  // notice when a server comes UP, alert when one goes DOWN, emerg when none is left.
  constexpr uint8_t kEmerg = 0, kAlert = 1, kNotice = 5;
  for (const auto& c : changes) {
    const std::vector<std::string> lines = FormatStateChange(proxy_, c);
    const uint32_t backend = proxy_.servers()[c.server].backend;
    for (size_t i = 0; i < lines.size(); ++i) {
      std::fprintf(stderr, "[WARNING]  (%d) : %s\n", getpid(), lines[i].c_str());
      logs_.SendBackend(backend, i > 0 ? kEmerg : c.up ? kNotice : kAlert, lines[i], unix_us);
    }
  }
}

Appliance::~Appliance() { Stop(); }

static bool HugepagesFree() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  while (in >> key) {
    if (key == "HugePages_Free:") {
      long v = 0;
      in >> v;
      return v > 0;
    }
    in.ignore(1 << 16, '\n');
  }
  return false;
}

Result<bool> Appliance::Start() {
  if (nworkers_ == 0 || nworkers_ > lcore::kMaxWorkers) {
    return Error{"workers must be between 1 and " + std::to_string(lcore::kMaxWorkers)};
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  unsigned cpus = 1;
  if (sched_getaffinity(0, sizeof set, &set) == 0) cpus = static_cast<unsigned>(CPU_COUNT(&set));
  std::vector<std::string> args = BuildEalArgs(cfg_, cpus, HugepagesFree());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  if (rte_eal_init(static_cast<int>(args.size()), argv.data()) < 0) {
    return Error{std::string("EAL initialisation failed: ") + rte_strerror(rte_errno)};
  }
  eal_up_ = true;
  if (rte_lcore_count() < nworkers_ + 1) return Error{"not enough lcores for the workers"};
  const auto& dp = cfg_.dataplane;
  pool_ = rte_pktmbuf_pool_create("sl_pkt", dp.mbufs, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                  static_cast<int>(rte_socket_id()));
  if (!pool_) {
    return Error{"cannot create the packet pool of " + std::to_string(dp.mbufs) +
                 " mbufs (raise 'memory' in the dataplane section): " + rte_strerror(rte_errno)};
  }
  if (auto r = InitPorts(); !r) return r;
  if (auto r = InitNetConfig(); !r) return r;
  if (auto r = InitWorkers(); !r) return r;
  SetTelemetryTarget(this);
  RegisterTelemetry();
  return true;
}

Result<bool> Appliance::InitPorts() {
  for (const auto& pc : cfg_.dataplane.ports) {
    const std::string name = DeviceName(pc);
    uint16_t pid = 0;
    if (rte_eth_dev_get_port_by_name(name.c_str(), &pid) != 0) {
      return Error{"port '" + pc.name + "': no DPDK device named '" + name + "' (" + pc.file + ":" +
                   std::to_string(pc.line) + ")"};
    }
    if (pid >= 256) return Error{"port '" + pc.name + "': DPDK port id above 255"};
    rte_eth_dev_info info{};
    if (rte_eth_dev_info_get(pid, &info) != 0) return Error{"port '" + pc.name + "': no info"};
    if (info.max_rx_queues < nworkers_ || info.max_tx_queues < nworkers_) {
      return Error{"port '" + pc.name + "' has " + std::to_string(info.max_rx_queues) +
                   " rx queues, fewer than the " + std::to_string(nworkers_) + " workers"};
    }
    rte_eth_conf conf{};
    // Zero-copy transmit chains a header mbuf to the payload's: every port must take it.
    if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) {
      conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
    } else {
      multi_seg_tx_ = false;
    }
    const auto q = static_cast<uint16_t>(nworkers_);
    int rc = rte_eth_dev_configure(pid, q, q, &conf);
    if (rc != 0) return Error{"port '" + pc.name + "': configure failed: " + rte_strerror(-rc)};
    port_ids_.push_back(pid);
    port_started_.push_back(false);
    const int socket = rte_eth_dev_socket_id(pid) < 0 ? 0 : rte_eth_dev_socket_id(pid);
    for (uint16_t i = 0; i < q; ++i) {
      rc = rte_eth_rx_queue_setup(pid, i, kRxDesc, static_cast<unsigned>(socket), nullptr, pool_);
      if (rc != 0) return Error{"port '" + pc.name + "': rx queue setup: " + rte_strerror(-rc)};
      rc = rte_eth_tx_queue_setup(pid, i, kTxDesc, static_cast<unsigned>(socket), nullptr);
      if (rc != 0) return Error{"port '" + pc.name + "': tx queue setup: " + rte_strerror(-rc)};
    }
    rc = rte_eth_dev_start(pid);
    if (rc != 0) return Error{"port '" + pc.name + "': start failed: " + rte_strerror(-rc)};
    port_started_.back() = true;
    rte_eth_promiscuous_enable(pid);  // best effort: ND needs solicited-node multicast
    rte_eth_allmulticast_enable(pid);
  }
  return true;
}

Result<bool> Appliance::InitNetConfig() {
  net_ = std::make_unique<net::NetConfig>();
  net::NetConfig& n = *net_;
  const auto& dp = cfg_.dataplane;
  n.nports = static_cast<unsigned>(dp.ports.size());
  if (n.nports > net::kMaxPorts) return Error{"too many ports"};
  for (unsigned i = 0; i < n.nports; ++i) {
    const auto& pc = dp.ports[i];
    net::PortAddrs& pa = n.ports[i];
    pa.port_id = port_ids_[i];
    n.port_index_of_id[pa.port_id] = static_cast<uint8_t>(i);
    rte_ether_addr mac{};
    rte_eth_macaddr_get(pa.port_id, &mac);
    std::memcpy(pa.mac.b.data(), mac.addr_bytes, 6);
    pa.vlan = pc.vlan.value_or(0);
    for (const auto& a : pc.addresses) {
      if (a.addr.is_v6) {
        if (pa.n_v6 == net::kMaxAddrsPerPort) return Error{"too many IPv6 addresses"};
        pa.v6[pa.n_v6] = a.addr.v6;
        pa.v6_len[pa.n_v6++] = a.length;
      } else {
        if (pa.n_v4 == net::kMaxAddrsPerPort) return Error{"too many IPv4 addresses"};
        pa.v4[pa.n_v4] = a.addr.v4;
        pa.v4_len[pa.n_v4++] = a.length;
      }
    }
    std::printf("sluice: port %s (%s) mac %s\n", pc.name.c_str(), pc.device.c_str(),
                Hex(pa.mac).c_str());
  }
  if (!net::CreateRouteTables(n, "sl_routes", static_cast<int>(rte_socket_id())) ||
      !net::BuildConnectedRoutes(n)) {
    return Error{"cannot build the routing tables"};
  }
  for (const auto& rc : dp.routes) {
    // The gateway's port is the one whose connected subnet holds it.
    net::Route r;
    r.has_gateway = true;
    r.gateway = rc.gateway;
    bool found = false;
    for (unsigned i = 0; i < n.nports && !found; ++i) {
      for (const auto& a : dp.ports[i].addresses) {
        if (net::PrefixContains(a, rc.gateway)) {
          r.port = static_cast<uint16_t>(i);
          found = true;
          break;
        }
      }
    }
    if (!found) {
      return Error{"route " + net::ToString(rc.prefix) + ": gateway " + net::ToString(rc.gateway) +
                   " is on no port's subnet (" + rc.file + ":" + std::to_string(rc.line) + ")"};
    }
    if (!net::AddRoute(n, rc.prefix, r))
      return Error{"cannot add route " + net::ToString(rc.prefix)};
  }
  n.steering =
      net::FlowSteering(static_cast<uint16_t>(nworkers_), dp.local_port_min, dp.local_port_max);
  n.tsc_hz = rte_get_tsc_hz();
  return true;
}

std::string Appliance::SetTicketKey(size_t ref, const std::string& key) {
  std::string error = ticket_keys_->Rotate(ref, key);
  if (!error.empty()) return error;
  std::shared_ptr<const tls::TlsSnap> next = tls::Rekey(*tls_part_, *ticket_keys_, *ocsp_);
  if (!next) return "'set ssl tls-key' cannot fetch the tickets' ciphers.\n";
  tls_part_ = std::move(next);
  PublishSnapshot(0);
  return "";
}

tls::CertStore::Answer Appliance::CommitCert(const std::string& path) {
  bool committed = false;
  tls::CertStore::Answer a = certs_->Commit(path, &committed);
  if (!committed || !certs_->Used(path)) return a;  // a `new ssl cert` no bind serves
  // Every bind's contexts again from the current certificates (the ticket keys kept; an OCSP
  // response stays only if it is still the certificate's).
  ocsp_->Refresh(*certs_);
  certs_->SetOcspKeys(ocsp_->Keys());
  auto next =
      tls::BuildTlsSnap(tls_binds_, tls_servers_, nworkers_, *ticket_keys_, *certs_, *ocsp_);
  if (!next) return {"Can't commit " + path + ": " + next.error() + "\n", true};
  tls_part_ = std::move(*next);
  PublishSnapshot(0);
  return a;
}

tls::Answer Appliance::SetOcspResponse(const std::string& der) {
  tls::Answer a = ocsp_->Set(der);
  if (a.error) return a;
  std::shared_ptr<const tls::TlsSnap> next = tls::Rekey(*tls_part_, *ticket_keys_, *ocsp_);
  if (!next) return {"Unable to publish the OCSP response.\n", true};
  tls_part_ = std::move(next);
  certs_->SetOcspKeys(ocsp_->Keys());
  PublishSnapshot(0);
  return a;
}

uint64_t Appliance::PublishSnapshot(unsigned parts) {
  if ((parts & kProxyPart) || !proxy_part_) {
    auto p = std::make_shared<proxy::ProxyConfigSnap>();
    proxy_.Fill(p.get());
    p->generation = ++part_generation_;
    proxy_part_ = std::move(p);
  }
  if ((parts & kListenersPart) || !listeners_part_) {
    auto l = std::make_shared<proxy::ListenerSnap>();
    proxy_.Fill(l.get());
    l->generation = ++part_generation_;
    listeners_part_ = std::move(l);
  }
  auto next = std::make_unique<snapshot::Snapshot>();
  next->version = ++snapshot_version_;
  next->proxy = proxy_part_;
  next->listeners = listeners_part_;
  next->rules = rules_.snap;
  next->tls = tls_part_;
  rcu_.Publish(snapshots_, std::move(next));
  return snapshot_version_;
}

Result<bool> Appliance::InitWorkers() {
  const auto& dp = cfg_.dataplane;
  if (auto r = logs_.Init(proxy_); !r) return r;
  if (auto r = rcu_.Init("sl_rcu", nworkers_, 1024); !r) return r;
  proxy_.ForEachBind([this](const config::BindConfig& b, uint32_t, const cp::FrontendRt& f) {
    tls_binds_.push_back({&b, f.conf->timeout_client_ms});
  });
  for (const cp::ServerRt& sv : proxy_.servers()) tls_servers_.push_back(sv.conf);
  ticket_keys_ = std::make_unique<tls::TicketKeyStore>(tls_binds_);
  certs_ = std::make_unique<tls::CertStore>(tls_binds_, tls_servers_);
  ocsp_ = std::make_unique<tls::OcspStore>(tls_binds_, *certs_);
  if (!ocsp_->Error().empty()) return Error{ocsp_->Error()};
  certs_->SetOcspKeys(ocsp_->Keys());
  auto tls =
      tls::BuildTlsSnap(tls_binds_, tls_servers_, nworkers_, *ticket_keys_, *certs_, *ocsp_);
  if (!tls) return Error{tls.error()};
  tls_part_ = std::move(*tls);
  PublishSnapshot();
  const uint64_t hz = net_->tsc_hz;
  const net::NeighbourTimes times{30 * hz, hz, 600 * hz};
  rings_.assign(nworkers_, nullptr);
  stick_rings_.assign(nworkers_, nullptr);
  for (unsigned w = 0; w < nworkers_; ++w) {
    counters_.push_back(std::make_unique<counters::WorkerCounters>());
    neighbours_.push_back(std::make_unique<net::NeighbourTable>());
    const std::string nname = "sl_neigh" + std::to_string(w);
    if (!neighbours_.back()->Init(nname.c_str(), dp.neighbours, static_cast<int>(rte_socket_id()),
                                  times)) {
      return Error{"cannot create the neighbour table: " + std::string(rte_strerror(rte_errno))};
    }
    const std::string rname = "sl_dispatch" + std::to_string(w);
    // Any worker enqueues (multi-producer), only the owner dequeues.
    rings_[w] = rte_ring_create(rname.c_str(), dp.dispatch_ring, static_cast<int>(rte_socket_id()),
                                RING_F_SC_DEQ);
    if (!rings_[w]) return Error{"cannot create the dispatch ring"};
    // Stick-table messages about keys this worker owns (stick::Msg): any worker sends, the
    // owner receives; bounded, and a message that finds it full is dropped and counted.
    if (nworkers_ > 1) {
      const std::string sname = "sl_stick" + std::to_string(w);
      stick_rings_[w] = rte_ring_create_elem(sname.c_str(), sizeof(stick::Msg), kStickRing,
                                             static_cast<int>(rte_socket_id()), RING_F_SC_DEQ);
      if (!stick_rings_[w]) return Error{"cannot create the stick-table ring"};
    }
    stats_.push_back(std::make_unique<proxy::ProxyStats>());
    stats_view_.push_back(stats_.back().get());
  }
  if (auto r = requests_.Init("sl", nworkers_, kRequestDepth); !r) return r;
  // TCP: keys for initial sequence numbers and SYN cookies from the kernel's CSPRNG
  // (RFC 6528 section 3), shared by the workers so any of them can check a cookie.
  tcp::StackConfig tcp_cfg;
  uint64_t keys[4];
  if (getrandom(keys, sizeof keys, 0) != static_cast<ssize_t>(sizeof keys)) {
    return Error{"getrandom failed: no key for TCP initial sequence numbers"};
  }
  tcp_cfg.isn_key = tcp::SipKey{keys[0], keys[1]};
  tcp_cfg.cookie_key = tcp::SipKey{keys[2], keys[3]};
  tcp_cfg.max_conns = dp.tcp_max_conns;
  tcp_cfg.congestion = dp.tcp_newreno ? tcp::CcAlgo::kNewReno : tcp::CcAlgo::kCubic;
  tcp_cfg.zero_copy_tx = multi_seg_tx_ && !port_ids_.empty();
  // Test services: one listener per service and address of its port.
  services_.clear();
  for (const auto& pc : dp.ports) {
    for (const auto& svc : pc.services) {
      for (const auto& a : pc.addresses) {
        lcore::ServiceListener l;
        l.local.is_v6 = a.addr.is_v6;
        if (a.addr.is_v6) {
          std::memcpy(l.local.local_addr, a.addr.v6.b.data(), 16);
        } else {
          std::memcpy(l.local.local_addr, &a.addr.v4.be, 4);
        }
        l.local.local_port = rte_cpu_to_be_16(svc.tcp_port);
        l.kind = svc.kind == config::ServiceConfig::Kind::kEcho      ? services::Kind::kEcho
                 : svc.kind == config::ServiceConfig::Kind::kDiscard ? services::Kind::kDiscard
                                                                     : services::Kind::kSource;
        services_.push_back(l);
      }
    }
  }
  if (services_.size() > services::kMaxServices) return Error{"too many service listeners"};
  for (unsigned w = 0; w < nworkers_; ++w) {
    lcore::WorkerSetup s;
    s.id = static_cast<uint16_t>(w);
    s.nworkers = static_cast<uint16_t>(nworkers_);
    s.net = net_.get();
    s.pool = pool_;
    s.counters = counters_[w].get();
    s.neighbours = neighbours_[w].get();
    s.rings = rings_.data();
    s.stick_rings = nworkers_ > 1 ? stick_rings_.data() : nullptr;
    s.qsbr = rcu_.qsbr();
    s.snapshots = &snapshots_;
    s.idle_sleep_us = dp.idle_sleep_us;
    s.stop = &stop_;
    s.tcp = tcp_cfg;
    s.services = services_.data();
    s.nservices = static_cast<unsigned>(services_.size());
    s.local_port_min = dp.local_port_min;
    s.local_port_max = dp.local_port_max;
    s.proxy_stats = stats_[w].get();
    s.requests = requests_.requests(w);
    s.replies = requests_.replies(w);
    pattern_tables_.push_back(std::make_unique<rules::PatternTable>());
    if (rules_.store) {
      for (uint32_t i = 0; i < rules_.store->size(); ++i) {
        pattern_tables_.back()->sets.push_back(
            rules_.store->BuildIndex(*rules_.store->Ref(i)).release());
      }
    }
    s.patterns = pattern_tables_.back().get();
    s.stick = rules_.stick.get();
    workers_.push_back(std::make_unique<lcore::Worker>(s));
    if (!workers_.back()->Init()) {
      return Error{"cannot create worker " + std::to_string(w) + "'s TCP tables (" +
                   std::to_string(dp.tcp_max_conns) + " connections): " + rte_strerror(rte_errno)};
    }
  }
  unsigned w = 0;
  unsigned lcore_id;
  RTE_LCORE_FOREACH_WORKER(lcore_id) {
    if (w == nworkers_) break;
    if (rte_eal_remote_launch(WorkerMain, workers_[w].get(), lcore_id) != 0) {
      return Error{"cannot launch worker " + std::to_string(w)};
    }
    ++w;
  }
  launched_ = true;
  if (rules_.store) {
    pattern_sync_ = std::make_unique<PatternSync>(*rules_.store, requests_, nworkers_);
  }
  return true;
}

void Appliance::Stop() {
  SetTelemetryTarget(nullptr);
  stop_.store(true);
  if (launched_) {
    rte_eal_mp_wait_lcore();
    launched_ = false;
  }
  for (size_t i = 0; i < port_ids_.size(); ++i) {
    if (port_started_[i]) rte_eth_dev_stop(port_ids_[i]);
    rte_eth_dev_close(port_ids_[i]);
  }
  port_ids_.clear();
  port_started_.clear();
  workers_.clear();
  pattern_sync_.reset();
  for (auto& t : pattern_tables_) {
    for (rules::PatternIndex* idx : t->sets) delete idx;
  }
  pattern_tables_.clear();
  if (rcu_.qsbr()) {
    rcu_.Drain(snapshots_);
    rcu_.Close();
  }
  for (auto* r : rings_) {
    if (!r) continue;
    void* obj;
    while (rte_ring_dequeue(r, &obj) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(obj));
    rte_ring_free(r);
  }
  rings_.clear();
  for (auto* r : stick_rings_) rte_ring_free(r);
  stick_rings_.clear();
  requests_.Close();
  neighbours_.clear();
  if (net_) net::FreeRouteTables(*net_);
  if (pool_) {
    rte_mempool_free(pool_);
    pool_ = nullptr;
  }
  if (eal_up_) {
    // EAL leaves its runtime directory (config, sockets) behind; a clean stop removes it so
    // that nothing of the process remains.
    const std::string runtime_dir = rte_eal_get_runtime_dir();
    rte_eal_cleanup();
    eal_up_ = false;
    std::error_code ec;
    std::filesystem::remove_all(runtime_dir, ec);
  }
}

}  // namespace sluice::app
