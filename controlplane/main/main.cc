// sluice: the appliance's entry point.
//   sluice -f FILE [-f FILE ...]   run (foreground; SIGINT/SIGTERM stop it cleanly)
//   sluice -c -f FILE              check the configuration only, as `haproxy -c` does
#include <poll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "controlplane/config/config.h"
#include "controlplane/main/appliance.h"
#include "controlplane/main/frontend_services.h"
#include "controlplane/main/cli_context.h"
#include "controlplane/main/pattern_control.h"
#include "controlplane/main/proxy_control.h"
#include "controlplane/main/stick_control.h"
#include "controlplane/main/tls_control.h"
#include "controlplane/main/version.h"
#include "controlplane/rules/rules_compile.h"
#include "dataplane/net/addr_text.h"
#include "runtime-api/commands/commands.h"
#include "runtime-api/rest/rest_server.h"
#include "runtime-api/server/server.h"

namespace {

uint64_t MonotonicNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

void Usage(FILE* out) {
  std::fprintf(out,
               "Usage: sluice [-c] -f <cfgfile|cfgdir> [-f ...]\n"
               "  -f FILE  configuration file or directory (repeatable)\n"
               "  -c       check the configuration and exit (0: valid, 1: errors)\n"
               "  -v       print the version\n"
               "  -h       this help\n");
}

std::vector<sluice::cli::ListenerConfig> CliListeners(const sluice::config::Config& cfg) {
  using sluice::cli::Level;
  using sluice::cli::ListenerConfig;
  using Sock = sluice::config::StatsSocketConfig;
  std::vector<ListenerConfig> out;
  for (const Sock& s : cfg.global.stats_sockets) {
    ListenerConfig l;
    l.kind = s.kind == Sock::Kind::kUnix   ? ListenerConfig::Kind::kUnix
             : s.kind == Sock::Kind::kTcp4 ? ListenerConfig::Kind::kTcp4
                                           : ListenerConfig::Kind::kTcp6;
    l.path = s.path;
    l.address = s.address;
    l.port = s.port;
    if (s.mode) l.mode = static_cast<mode_t>(*s.mode);
    if (s.uid) l.uid = static_cast<uid_t>(*s.uid);
    if (s.gid) l.gid = static_cast<gid_t>(*s.gid);
    l.level = s.level == Sock::Level::kUser       ? Level::kUser
              : s.level == Sock::Level::kOperator ? Level::kOperator
                                                  : Level::kAdmin;
    out.push_back(std::move(l));
  }
  return out;
}

// The `stats rest` listeners: their users from the named userlist, with the groups naming
// them on either side (`user ... groups g`, `group g users u`).
std::vector<sluice::cli::RestListenerConfig> RestListeners(const sluice::config::Config& cfg,
                                                           uint32_t timeout_ms) {
  using sluice::cli::Level;
  using Sock = sluice::config::StatsSocketConfig;
  std::vector<sluice::cli::RestListenerConfig> out;
  for (const sluice::config::StatsRestConfig& r : cfg.global.stats_rest) {
    sluice::cli::RestListenerConfig l;
    l.address = r.address;
    l.port = r.port;
    l.v6 = r.v6;
    l.level = r.level == Sock::Level::kUser       ? Level::kUser
              : r.level == Sock::Level::kOperator ? Level::kOperator
                                                  : Level::kAdmin;
    l.cert_pem = r.crt_pem;
    l.maxconn = r.maxconn;
    l.max_body = r.max_body;
    l.timeout_ms = timeout_ms;
    for (const sluice::config::UserlistConfig& list : cfg.userlists) {
      if (r.userlist.empty() || list.name != r.userlist) continue;
      l.auth = true;
      for (const auto& u : list.users) {
        sluice::cli::RestUser user{u.name, u.password, u.insecure, u.has_password, u.groups};
        for (const auto& g : list.groups) {
          for (const std::string& name : g.users) {
            if (name == u.name) user.groups.push_back(g.name);
          }
        }
        l.users.push_back(std::move(user));
      }
    }
    out.push_back(std::move(l));
  }
  return out;
}

// The control plane's event loop: the stop signals (signalfd), the Runtime API's sockets
// (its epoll descriptor), the REST listeners (one epoll descriptor each) and periodic work
// (freeing snapshots whose grace period ended). Returns the signal that stopped it.
int RunControlLoop(sluice::app::Appliance& app, sluice::cli::CliServer& cli,
                   sluice::cli::RestServer& rest, sluice::app::FrontendServices& services,
                   const sigset_t& stop_signals) {
  const int sfd = signalfd(-1, &stop_signals, SFD_CLOEXEC);
  if (sfd < 0) {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    return sig;
  }
  sluice::app::ControlLoopStats& stats = app.control_stats();
  std::vector<pollfd> fds = {{sfd, POLLIN, 0}, {cli.fd(), POLLIN, 0}};
  for (const int fd : rest.fds()) fds.push_back({fd, POLLIN, 0});
  for (;;) {
    // Requests the workers hand over (stats pages, the exporter) are looked for every 2 ms.
    int timeout_ms = services.enabled() ? 2 : 100;
    for (const int due : {cli.NextTimeoutMs(), rest.NextTimeoutMs()}) {
      if (due >= 0 && due < timeout_ms) timeout_ms = due;
    }
    // A command waiting for the workers' replies is looked at again after 100 us: the loop
    // never sleeps on a reply, and other clients wake it as usual.
    timespec wait{timeout_ms / 1000, (timeout_ms % 1000) * 1000000L};
    if (cli.waiting() || rest.waiting() || services.busy() || app.requests().in_flight() > 0) {
      wait = {0, 100000};
    }
    const int n = ppoll(fds.data(), fds.size(), &wait, nullptr);
    const uint64_t work_start_ns = MonotonicNs();
    if (n > 0 && (fds[0].revents & POLLIN)) {
      signalfd_siginfo info{};
      if (read(sfd, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
        close(sfd);
        return static_cast<int>(info.ssi_signo);
      }
    }
    app.requests().Poll();
    services.Poll();
    if (auto* sync = app.pattern_sync()) sync->Poll();  // before the CLI looks at what applied
    cli.RunOnce(0);
    rest.RunOnce();
    app.Poll();
    app.Reclaim();
    stats.Record((MonotonicNs() - work_start_ns) / 1000);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> files;
  bool check_only = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "-f" && i + 1 < argc) {
      files.push_back(argv[++i]);
    } else if (a == "-c") {
      check_only = true;
    } else if (a == "-v" || a == "-vv") {
      std::printf("Sluice version %s\n", sluice::app::kSluiceVersion);
      return 0;
    } else if (a == "-h" || a == "--help") {
      Usage(stdout);
      return 0;
    } else {
      std::fprintf(stderr, "[ALERT]    (%d) : unknown option '%s'\n", getpid(), a.c_str());
      Usage(stderr);
      return 1;
    }
  }
  if (files.empty()) {
    Usage(stderr);
    return 1;
  }

  auto outcome = sluice::config::ParseFiles(files);
  for (const auto& d : outcome.diagnostics) {
    std::fprintf(stderr, "%s\n", sluice::config::FormatDiagnostic(d, getpid()).c_str());
  }
  // The rules need every section: compiled after the whole configuration is read.
  sluice::rulescp::CompiledRules rules;
  if (!outcome.HasErrors()) {
    std::vector<sluice::config::Diagnostic> diags;
    rules = sluice::rulescp::Compile(outcome.config, &diags);
    for (const auto& d : diags) {
      std::fprintf(stderr, "%s\n", sluice::config::FormatDiagnostic(d, getpid()).c_str());
    }
    outcome.diagnostics.insert(outcome.diagnostics.end(), diags.begin(), diags.end());
  }
  if (outcome.HasErrors()) {
    std::fprintf(stderr, "[ALERT]    (%d) : config : Fatal errors found in configuration.\n",
                 getpid());
    return 1;
  }
  if (check_only) {
    std::printf("Configuration file is valid\n");
    return 0;
  }

  // The stats socket and REST listeners hold a descriptor per client (up to their maxconn):
  // the soft limit on descriptors goes up to the hard one, as HAProxy raises it for its own.
  if (rlimit rl{}; getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }

  // Block the stop signals before EAL creates its threads (they inherit the mask); the
  // control-plane thread waits for them below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  int rc = 0;
  {
    const sluice::config::Config cfg = outcome.config;
    sluice::app::Appliance app(std::move(outcome.config));
    const std::shared_ptr<sluice::stick::StickSnap> stick_tables = rules.stick;
    app.SetRules(std::move(rules));
    auto started = app.Start();
    if (!started) {
      std::fprintf(stderr, "[ALERT]    (%d) : %s\n", getpid(), started.error().c_str());
      rc = 1;
    } else {
      sluice::cli::Registry registry;
      sluice::cli::RegisterAllCommands(registry);
      sluice::app::ApplianceCliContext context(app, cfg);
      sluice::app::ProxyCliControl proxy_control(app);
      context.SetProxy(&proxy_control);
      std::unique_ptr<sluice::app::PatternCliControl> patterns;
      if (app.patterns()) {
        patterns =
            std::make_unique<sluice::app::PatternCliControl>(*app.patterns(), app.pattern_sync());
        context.SetPatterns(patterns.get());
      }
      std::unique_ptr<sluice::app::StickCliControl> stick;
      if (stick_tables && !stick_tables->tables.empty()) {
        // server_key's texts, by the servers' slot (every backend's, in file order, then
        // its room for `add server`, here empty): the names, and `srvkey addr`'s
        // address:port (HAProxy writes no brackets around IPv6).
        std::vector<std::string> servers, addrs;
        for (const auto& p : cfg.proxies) {
          if (!p.HasBackend()) continue;
          for (const auto& s : p.servers) {
            servers.push_back(s.name);
            addrs.push_back(sluice::net::ToString(s.addr) + ":" + std::to_string(s.port));
          }
          servers.resize(servers.size() + p.SlotsOf() - p.servers.size());
          addrs.resize(servers.size());
        }
        stick = std::make_unique<sluice::app::StickCliControl>(app, *stick_tables, servers, addrs);
        context.SetStick(stick.get());
      }
      sluice::app::TlsCliControl tls_control(app);
      context.SetTls(&tls_control);
      sluice::cli::ServerLimits limits;
      if (cfg.global.stats_timeout_ms) {
        limits.timeout_ms = static_cast<uint32_t>(*cfg.global.stats_timeout_ms);
      }
      if (cfg.global.stats_maxconn) limits.maxconn = *cfg.global.stats_maxconn;
      sluice::cli::CliServer cli(context, registry, limits);
      auto listening = cli.Listen(CliListeners(cfg));
      sluice::cli::RestServer rest(context, registry);
      if (!listening) {
        std::fprintf(stderr, "[ALERT]    (%d) : stats socket: %s\n", getpid(),
                     listening.error().c_str());
        rc = 1;
      }
      for (const auto& l : RestListeners(cfg, limits.timeout_ms)) {
        if (rc != 0) break;
        if (auto r = rest.Listen(l); !r) {
          std::fprintf(stderr, "[ALERT]    (%d) : %s\n", getpid(), r.error().c_str());
          rc = 1;
        }
      }
      if (rc == 0) {
        std::printf("sluice: ready (%u worker%s)\n", app.workers(), app.workers() > 1 ? "s" : "");
        std::fflush(stdout);
        sluice::app::FrontendServices services(app.requests(), app.proxy_stats(),
                                               sluice::cli::rest::Context{registry, context},
                                               sluice::app::StatsPages::From(cfg));
        const int sig = RunControlLoop(app, cli, rest, services, stop_signals);
        std::printf("sluice: stopping on %s\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
        std::fflush(stdout);
      }
      rest.Close();
      cli.Close();
    }
    app.Stop();
  }
  return rc;
}
