// Slow path: the `global` section's keyword table. Keywords that mean nothing on a DPDK
// appliance are accepted with a warning saying why, so that existing haproxy files load.
#include <span>
#include <string>

#include "controlplane/config/parse_context.h"

namespace sluice::config {
namespace {

constexpr uint64_t kMaxNbthread = 64;  // haproxy's MAX_THREADS on 64-bit builds

void Nbthread(ParseContext& ctx, const KeywordRow&, const Args& args) {
  uint64_t v = 0;
  if (!ParseUnsignedArg(ctx, args[1], 1, kMaxNbthread, &v)) return;
  ctx.config.global.nbthread = static_cast<unsigned>(v);
  ctx.nbthread_file = ctx.file;
  ctx.nbthread_line = ctx.line;
}

void Maxconn(ParseContext& ctx, const KeywordRow&, const Args& args) {
  uint64_t v = 0;
  if (!ParseUnsignedArg(ctx, args[1], 1, INT32_MAX, &v)) return;
  ctx.config.global.maxconn = static_cast<unsigned>(v);
}

// `stats socket|timeout|maxconn|bind-process ...`: the runtime API comes later.
void Stats(ParseContext& ctx, const KeywordRow&, const Args& args) {
  const std::string& what = args[1];
  ctx.keyword = "stats " + what;
  if (what == "bind-process") {
    ctx.Warn("'stats bind-process' is ignored: sluice runs a single process.");
  } else if (what == "socket" || what == "timeout" || what == "maxconn") {
    ctx.Warn(Quoted(ctx.keyword) + " is not supported yet by sluice, ignored.");
  } else {
    ctx.keyword = "stats";
    ctx.Alert(
        "'stats' only supports 'socket', 'timeout', 'maxconn' and 'bind-process' in the "
        "'global' section, got " +
        Quoted(what) + ".");
  }
}

constexpr std::string_view kForeground = "sluice runs in the foreground under its supervisor";
constexpr std::string_view kPrivileges =
    "sluice's supervisor sets its privileges and root directory (DPDK needs /dev and /sys)";
constexpr std::string_view kTls = "TLS is not supported yet by sluice";
constexpr std::string_view kChecks = "health checks are not supported yet by sluice";
constexpr std::string_view kSingleProcess =
    "sluice is one process; set 'workers' in the 'dataplane' section";
constexpr std::string_view kNoFds =
    "sluice's data plane does not use file descriptors or kernel sockets for traffic";
constexpr std::string_view kTune = "haproxy's tunables do not apply to sluice's data plane";
constexpr std::string_view kCores = "cores are chosen with EAL options ('eal-args' in 'dataplane')";
constexpr std::string_view kNotUsed = "sluice does not use it yet";

constexpr KeywordRow kGlobalKeywords[] = {
    {"nbthread", Match::kExact, &Nbthread, 1, 1, "an integer between 1 and 64", ""},
    {"maxconn", Match::kExact, &Maxconn, 1, 1, "an integer between 1 and 2147483647", ""},
    {"stats", Match::kExact, &Stats, 1, -1, "'socket', 'timeout', 'maxconn' or 'bind-process'", ""},
    NotYetRow("log"),
    NotYetRow("log-send-hostname"),
    NotYetRow("log-tag"),
    NotYetRow("hard-stop-after"),
    NotYetRow("server-state-file"),
    NotYetRow("server-state-base"),
    IgnoredRow(Match::kExact, "daemon", kForeground),
    IgnoredRow(Match::kExact, "master-worker", kForeground),
    IgnoredRow(Match::kExact, "pidfile", kForeground),
    IgnoredRow(Match::kExact, "quiet", kForeground),
    IgnoredRow(Match::kExact, "chroot", kPrivileges),
    IgnoredRow(Match::kExact, "user", kPrivileges),
    IgnoredRow(Match::kExact, "group", kPrivileges),
    IgnoredRow(Match::kExact, "uid", kPrivileges),
    IgnoredRow(Match::kExact, "gid", kPrivileges),
    IgnoredRow(Match::kExact, "set-dumpable", "core dumps are set up by sluice's supervisor"),
    IgnoredRow(Match::kExact, "nbproc", kSingleProcess),
    IgnoredRow(Match::kExact, "cpu-map", kCores),
    IgnoredRow(Match::kExact, "numa-cpu-mapping", kCores),
    IgnoredRow(Match::kExact, "ulimit-n", kNoFds),
    IgnoredRow(Match::kExact, "maxpipes", kNoFds),
    IgnoredRow(Match::kExact, "noepoll", kNoFds),
    IgnoredRow(Match::kExact, "nopoll", kNoFds),
    IgnoredRow(Match::kExact, "nosplice", kNoFds),
    IgnoredRow(Match::kExact, "noreuseport", kNoFds),
    IgnoredRow(Match::kExact, "busy-polling",
               "sluice's workers always poll (see 'idle-sleep' in 'dataplane')"),
    IgnoredRow(Match::kExact, "node", kNotUsed),
    IgnoredRow(Match::kExact, "description", kNotUsed),
    IgnoredRow(Match::kExact, "localpeer", "peers are not supported by sluice"),
    IgnoredRow(Match::kExact, "spread-checks", kChecks),
    IgnoredRow(Match::kExact, "max-spread-checks", kChecks),
    IgnoredRow(Match::kExact, "external-check", kChecks),
    IgnoredRow(Match::kExact, "ca-base", kTls),
    IgnoredRow(Match::kExact, "crt-base", kTls),
    IgnoredRow(Match::kExact, "maxsslconn", kTls),
    IgnoredRow(Match::kExact, "maxsslrate", kTls),
    IgnoredRow(Match::kPrefix, "ssl-", kTls),
    IgnoredRow(Match::kPrefix, "tune.", kTune),
    IgnoredRow(Match::kPrefix, "h1-case-adjust", "sluice does not change the case of header names"),
    IgnoredRow(Match::kPrefix, "lua-", "sluice has no Lua engine"),
    IgnoredRow(Match::kPrefix, "profiling.", kNotUsed),
    IgnoredRow(Match::kPrefix, "httpclient.", kNotUsed),
    IgnoredRow(Match::kExact, "strict-limits", kNotUsed),
    IgnoredRow(Match::kExact, "expose-experimental-directives", kNotUsed),
    IgnoredRow(Match::kExact, "insecure-fork-wanted", "sluice never forks"),
    IgnoredRow(Match::kExact, "insecure-setuid-wanted", "sluice never changes its user"),
    IgnoredRow(Match::kExact, "unix-bind", kNotUsed),
    IgnoredRow(Match::kExact, "default-path", kNotUsed),
    IgnoredRow(Match::kExact, "maxconnrate", kNotUsed),
    IgnoredRow(Match::kExact, "maxsessrate", kNotUsed),
    IgnoredRow(Match::kExact, "maxcomprate", kNotUsed),
    IgnoredRow(Match::kExact, "maxcompcpuusage", kNotUsed),
    IgnoredRow(Match::kExact, "maxzlibmem", kNotUsed),
};

}  // namespace

std::span<const KeywordRow> GlobalKeywords() { return kGlobalKeywords; }

}  // namespace sluice::config
