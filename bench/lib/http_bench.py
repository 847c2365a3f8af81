#!/usr/bin/python3
"""HTTP/1.1 end to end: wrk through Sluice's mode http and through HAProxy 2.6, same topology.

    python3 bench/lib/http_bench.py --loadgen build/release/bench/loadgen/sl-loadgen [--quick]

prints the figures as a JSON list (progress on stderr); bench/run calls run() for its part
`http`.

bench/lib/e2e_bench.py's veth topology and CPU placement with HTTP on top: wrk (one thread)
in slb-client sends `GET /` to 10.10.1.1:8080; the proxy balances the requests round-robin
over three HTTP servers in slb-server, 10.10.2.11-13:9000 (`sl-loadgen serve --http 1024`:
every request is answered with 200 and a 1 KiB body, the connection kept open). Two paths:

  haproxy   /usr/sbin/haproxy -db in namespace slb-proxy between the veth pairs
            (haproxy_cfg()).
  afpacket  Sluice with net_af_packet ports on slb-c0 and slb-s0 left in the root namespace
            (sluice_cfg()).

Both configurations are written here from the same text: mode http, option http-keep-alive
and http-reuse safe (both proxies' defaults, written out), the same timeouts and maxconn, no
health checks, no logs; WORKERS Sluice workers and as many HAProxy threads (nbthread). The
proxy runs on CPU 1, wrk and the servers on CPU 0, as in e2e_bench.

Two workloads, REPEATS wrk runs each (after one unrecorded run before the first):
  rr   50 keep-alive connections, one request outstanding on each: CPU per keep-alive
       request.
  crr  20 connections whose requests say `Connection: close`: the proxy answers with
       `connection: close` and closes, wrk connects again, so every request comes on a new
       client connection. Under http-reuse safe a session's first request never takes a
       pooled server connection, so each request opens a server connection too (parked for
       reuse or closed after it), as in e2e's TCP crr. Unlike there, the proxy closes the
       client connection first and keeps its TIME-WAIT.

Proxy CPU per request, as in e2e_bench: Sluice = the worker's busy_cycles (`show activity`)
/ TSC rate; HAProxy = its threads' CPU time (schedstat). wrk marks no counted window, so the
proxy is sampled just before wrk starts and SETTLE s after it exits, and the difference is
divided by the requests wrk completed. Outside wrk's run the proxy is idle (idle polls are not
busy cycles; HAProxy sleeps in epoll), so the window adds the set-up and teardown of wrk's
50 or 20 connections and the requests in flight when wrk stops (at most one per connection,
not counted), against 10^4 to 10^5 requests. Requests per second and latency are wrk's.
"""
import json
import os
import signal
import statistics
import subprocess
import time

try:
    from lib import e2e_bench as topo  # imported by bench/run
except ImportError:
    import e2e_bench as topo  # run as a script from bench/lib

WRK = "/usr/bin/wrk"
WORKERS = 1  # Sluice workers and HAProxy threads: the proxy has one core (topo.PROXY_CPU)
BODY_BYTES = 1024
REPEATS = 3
SETTLE = 0.2  # s after wrk exits before the proxy is sampled: its teardown of wrk's conns
SLUICE_CFG = "bench-http-afpacket.cfg"  # also how a leftover Sluice of ours is recognised

# wrk's summary as one JSON line on stdout, after its own report. Whole numbers as %.0f: any
# Lua formats those.
WRK_REPORT = r"""-- bench/lib/http_bench.py: wrk's summary as one JSON line
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%.0f,"duration_us":%.0f,"bytes":%.0f,"p50_us":%.1f,"p99_us":%.1f,' ..
    '"max_us":%.0f,"connect":%.0f,"read":%.0f,"write":%.0f,"status":%.0f,"timeout":%.0f}\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
"""


# --- configurations ---------------------------------------------------------------------------

def proxy_sections(rules="", bind_opts=""):
    """defaults, frontend and backend: the same text for Sluice and HAProxy. rules: lines for
    the frontend (bench/lib/rules_bench.py), each indented and ending in a newline; bind_opts:
    options after the bind's address (bench/lib/tls_bench.py: ` ssl crt FILE`)."""
    servers = "\n".join(f"    server s{i + 1} {ip}:{topo.SERVER_PORT}"
                        for i, ip in enumerate(topo.SERVER_IPS))
    return f"""defaults
    mode http
    option http-keep-alive
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout http-request 5s
    timeout http-keep-alive 10s

frontend fe_main
    bind {topo.FRONT}{bind_opts}
    maxconn 5000
{rules}    default_backend be_app

backend be_app
    balance roundrobin
    http-reuse safe
{servers}
"""


def sluice_cfg(rules="", bind_opts=""):
    """examples/bench-e2e-afpacket.cfg's data plane with the HTTP proxy."""
    return f"""# bench/lib/http_bench.py: Sluice in mode http on net_af_packet ports (the
# root-namespace ends of the veth pairs e2e_bench.topo_up makes); idle-sleep 0: it polls.
global
    stats socket {topo.AFP_SOCK} mode 600 level admin
    stats timeout 2m
    nbthread {WORKERS}

dataplane
    workers {WORKERS}
    memory 512
    hugepages auto
    file-prefix {topo.AFP_PREFIX}
    idle-sleep 0
    port client net_af_packet0,iface={topo.VETH_C},qpairs={WORKERS}
    port server net_af_packet1,iface={topo.VETH_S},qpairs={WORKERS}
    address client {topo.FRONT_IP}/24
    address server {topo.SERVER_GW}/24

""" + proxy_sections(rules, bind_opts)


def haproxy_cfg(rules="", extra_global="", bind_opts=""):
    """extra_global: more lines for the global section (each indented, ending in a newline)."""
    return f"""global
    nbthread {WORKERS}
    maxconn 5000
{extra_global}
""" + proxy_sections(rules, bind_opts)


# --- topology ---------------------------------------------------------------------------------

def topo_down(log):
    """e2e_bench.topo_down, after stopping a Sluice an interrupted run of this module left
    (e2e_bench's only recognises its own configuration)."""
    for pid in topo.afp_sluice_pids():
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                mine = SLUICE_CFG.encode() in f.read()
        except OSError:
            mine = False
        if not mine:
            continue
        log(f"http: stopping a leftover af_packet sluice (pid {pid})")
        try:
            os.kill(pid, signal.SIGTERM)
            for _ in range(100):
                if not os.path.exists(f"/proc/{pid}"):
                    break
                time.sleep(0.1)
            else:
                os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    topo.topo_down(log)


# --- the benchmark ----------------------------------------------------------------------------

class Bench(topo.Bench):
    """e2e_bench's Bench (processes, Sluice's start-up, clean-up) with wrk as the client and
    HTTP servers as the backends."""

    def __init__(self, root, loadgen, quick, log):
        super().__init__(root, loadgen, quick, log)
        self.seconds = 1 if quick else 5  # wrk takes whole seconds
        self.workloads = [("rr", 50), ("crr", 20)]
        # What a subclass (bench/lib/rules_bench.py) changes: the frontend's rule lines, more
        # global lines for HAProxy, the path wrk asks for, how long a proxy may take to start.
        self.rules = ""
        self.haproxy_global = ""
        self.path = "/"
        self.scheme = "http"  # bench/lib/tls_bench.py: https, with bind_opts
        self.bind_opts = ""
        self.start_timeout = 30
        self.report = os.path.join(self.tmpdir, "wrk-report.lua")
        with open(self.report, "w") as f:
            f.write(WRK_REPORT)

    # -- processes

    def start_http_servers(self):
        cmd = topo.nsx(topo.NS_SERVER) + ["taskset", "-c", topo.LOAD_CPU, self.loadgen, "serve",
                                          "--http", str(BODY_BYTES)]
        for ip in topo.SERVER_IPS:
            cmd += ["--listen", f"{ip}:{topo.SERVER_PORT}"]
        logf = os.path.join(self.tmpdir, "http-servers.log")
        with open(logf, "ab") as errf:
            p = self.procs.start(cmd, stdout=errf, stderr=errf)
        try:
            topo.wait_for(lambda: all(topo.listening(topo.NS_SERVER, f"{ip}:{topo.SERVER_PORT}")
                                      for ip in topo.SERVER_IPS), 10, "HTTP servers", p)
        except RuntimeError as e:
            with open(logf, errors="replace") as f:
                raise RuntimeError(f"{e}: {f.read().strip()}") from None
        return p

    # -- one run

    def wrk(self, mode, conns, sample, ours, seconds=None, script=None):
        """Runs wrk once; returns its summary, the proxy samples taken around it (sample() ->
        a tuple of numbers), other processes' CPU (cores) and each CPU's busy share of wrk's
        run time. script: a Lua script in place of WRK_REPORT (which it must include)."""
        seconds = seconds or self.seconds
        cmd = topo.nsx(topo.NS_CLIENT) + ["taskset", "-c", topo.LOAD_CPU, WRK, "-t1",
                                          f"-c{conns}", f"-d{seconds}s", "-s",
                                          script or self.report]
        if mode == "crr":
            cmd += ["-H", "Connection: close"]
        cmd.append(f"{self.scheme}://{topo.FRONT}{self.path}")

        def snap():
            # The proxy first (the figure), then the clock, then the slower /proc scan.
            excl = set(ours) | {q.pid for q in self.procs.live} | {os.getpid()}
            v = sample()
            return v, time.monotonic(), topo.user_procs_cpu_ticks(excl), topo.cpu_busy_ticks()

        start = snap()
        p = self.procs.start(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            out, err = p.communicate(timeout=seconds + 30)
        except subprocess.TimeoutExpired:
            self.procs.stop(p)
            raise RuntimeError(f"wrk did not finish within {seconds + 30} s") from None
        self.procs.stop(p)
        time.sleep(SETTLE)
        end = snap()
        rep = None
        for line in out.splitlines():
            if line.startswith("{"):
                rep = json.loads(line)
        if p.returncode != 0 or rep is None or not rep["duration_us"]:
            raise RuntimeError(f"wrk failed (rc {p.returncode}): "
                               f"{(err.strip() or out.strip())[:300]}")
        window = end[1] - start[1]
        foreign = (sum(t - start[2].get(q, 0) for q, t in end[2].items())
                   / topo.CLK_TCK / window)
        run_ticks = rep["duration_us"] / 1e6 * topo.CLK_TCK
        busy = {c: min(1.0, (end[3][c][0] - start[3][c][0]) / run_ticks)
                for c in end[3] if c in start[3]}
        return rep, start[0], end[0], foreign, busy

    def repeated(self, label, mode, conns, sample, ours, cpu_of):
        """REPEATS runs; a run during which other processes used more than FOREIGN_MAX of a core
        is done again (at most once; not with --quick), and the least disturbed attempt is
        kept. cpu_of(a, b, seconds) -> proxy CPU ns between the samples."""
        retries = 0 if self.quick else 1
        if mode == self.workloads[0][0]:
            # One unrecorded run first, as in e2e_bench: a freshly started proxy is slower.
            self.wrk(mode, conns, sample, ours, seconds=1 if self.quick else 2)
        runs = []
        for i in range(REPEATS):
            best = None
            for attempt in range(retries + 1):
                rep, a, b, foreign, busy = self.wrk(mode, conns, sample, ours)
                secs = rep["duration_us"] / 1e6
                cpu_ns = cpu_of(a, b, secs)
                sock_errs = rep["connect"] + rep["read"] + rep["write"] + rep["timeout"]
                r = {"rps": rep["requests"] / secs, "p50_us": rep["p50_us"],
                     "p99_us": rep["p99_us"], "cpu_ns": cpu_ns / max(rep["requests"], 1),
                     "util": cpu_ns / 1e9 / secs, "foreign": foreign,
                     "errors": sock_errs + rep["status"], "sock_errors": sock_errs,
                     "status_errors": rep["status"], "requests": rep["requests"],
                     "cpu0": busy.get(int(topo.LOAD_CPU), 0)}
                if best is None or r["foreign"] < best["foreign"]:
                    best = r
                if foreign <= topo.FOREIGN_MAX:
                    break
                self.log(f"http: {label} {mode} run {i + 1}: other processes used "
                         f"{foreign:.2f} cores" + (", again" if attempt < retries else ""))
            self.log(f"http: {label} {mode} run {i + 1}: {best['rps']:.0f} req/s, p50 "
                     f"{best['p50_us']:.0f} us, p99 {best['p99_us']:.0f} us, "
                     f"{best['cpu_ns']:.0f} ns CPU/request, proxy busy {best['util']:.0%}, "
                     f"CPU {topo.LOAD_CPU} (load side) {best['cpu0']:.0%}, others "
                     f"{best['foreign']:.2f} cores, errors {best['sock_errors']} socket, "
                     f"{best['status_errors']} non-2xx/3xx")
            runs.append(best)
        return runs

    def sluice_sampler(self, sock, pid):
        wt = topo.worker_thread(pid)

        def sample():
            return topo.busy_cycles(sock), topo.task_cpu_ns(wt) if wt else 0

        def cpu_of(a, b, secs):
            busy_ns = (b[0] - a[0]) / self.hz * 1e9
            if wt:
                self.log(f"http:   sluice worker thread CPU {(b[1] - a[1]) / 1e9 / secs:.0%} "
                         f"of wrk's run (it polls), busy {busy_ns / 1e9 / secs:.0%}")
            return busy_ns
        return sample, cpu_of

    def measure(self, side, label, sample, ours, cpu_of):
        """What is run on a started proxy (side: "haproxy" or "sluice"): REPEATS runs of each
        workload."""
        return {mode: self.repeated(label, mode, conns, sample, ours, cpu_of)
                for mode, conns in self.workloads}

    # -- the two paths

    def run_haproxy(self):
        def cpu_of(a, b, secs):
            return b - a
        try:
            topo.topo_up(with_proxy_ns=True)
            self.start_http_servers()
            cfg = os.path.join(self.tmpdir, "haproxy-http.cfg")
            with open(cfg, "w") as f:
                f.write(haproxy_cfg(self.rules, self.haproxy_global, self.bind_opts))
            errlog = os.path.join(self.tmpdir, "haproxy-http.log")
            with open(errlog, "ab") as errf:
                # ip netns exec and taskset both exec: the pid is HAProxy's own (-db: no master).
                hp = self.procs.start(topo.nsx(topo.NS_PROXY) + [
                    "taskset", "-c", topo.PROXY_CPU, topo.HAPROXY, "-db", "-f", cfg],
                    stdout=errf, stderr=errf)
            try:
                topo.wait_for(lambda: topo.listening(topo.NS_PROXY, topo.FRONT),
                              self.start_timeout, "haproxy listening", hp)
            except RuntimeError as e:
                with open(errlog, errors="replace") as f:
                    raise RuntimeError(f"{e}: {f.read().strip()}") from None
            return self.measure("haproxy", "haproxy/veth", lambda: topo.proc_cpu_ns(hp.pid),
                                [hp.pid], cpu_of)
        finally:
            self.procs.stop_all()
            topo_down(self.log)

    def run_afpacket(self):
        sl = None
        try:
            topo.topo_up(with_proxy_ns=False)
            self.start_http_servers()
            cfg = os.path.join(self.tmpdir, SLUICE_CFG)
            with open(cfg, "w") as f:
                f.write(sluice_cfg(self.rules, self.bind_opts))
            sl, _ = self.start_sluice(cfg, "http-afpacket", self.start_timeout)
            sample, cpu_of = self.sluice_sampler(topo.AFP_SOCK, sl.pid)
            return self.measure("sluice", "sluice/af_packet", sample, [sl.pid], cpu_of)
        finally:
            if sl is not None:
                rc = self.procs.stop(sl)
                if rc != 0:
                    self.log(f"http: af_packet sluice exited with status {rc}")
            self.procs.stop_all()
            topo_down(self.log)

    def cleanup(self):
        self.procs.stop_all()
        topo_down(self.log)
        super().cleanup()

    # -- figures

    def figures(self, hx, afp, errs):
        out = []
        spec = [("rps", "req/s", "higher"), ("p50_us", "us", "lower"), ("p99_us", "us", "lower"),
                ("cpu_ns", "ns", "lower")]
        common = (f"GET / answered with 200 and a {BODY_BYTES} B body by sl-loadgen serve "
                  f"--http on 3 servers, round robin. Sluice: mode http on net_af_packet on "
                  f"veth, {WORKERS} worker; HAProxy 2.6: mode http, nbthread {WORKERS}, netns "
                  f"slb-proxy between the same veth pairs; both option http-keep-alive, "
                  f"http-reuse safe, the same timeouts (bench/lib/http_bench.py writes both "
                  f"configurations). wrk -t1, {self.seconds:g} s runs, median of {REPEATS}; wrk "
                  f"and the servers on CPU {topo.LOAD_CPU}, proxy on CPU {topo.PROXY_CPU}")
        cpu_note = ("; CPU: Sluice = worker busy_cycles (show activity) from just before wrk "
                    f"starts to {SETTLE:g} s after it exits / TSC ({self.hz / 1e6:.0f} MHz, "
                    f"{self.hz_src}) / requests wrk completed; HAProxy = its CPU time "
                    "(schedstat ns) over the same window / requests. Both include the kernel's "
                    "delivery into the peer namespaces on transmit, and the set-up and "
                    "teardown of wrk's connections")
        for mode, conns in self.workloads:
            what = (f"HTTP {mode.upper()}: {conns} connections, " +
                    ("keep-alive, one request outstanding on each" if mode == "rr" else
                     "each request says Connection: close, so it comes on a new client "
                     "connection and (http-reuse safe) a new server connection"))
            for key, unit, better in spec:
                s = [r[key] for r in (afp or {}).get(mode, [])]
                h = [r[key] for r in (hx or {}).get(mode, [])]
                fig = topo.side_by_side(f"http_afpacket_{mode}_{key}", unit, better, s, h)
                note = f"{what}. {common}"
                if key == "cpu_ns":
                    su = [r["util"] for r in (afp or {}).get(mode, [])]
                    hu = [r["util"] for r in (hx or {}).get(mode, [])]
                    note += cpu_note
                    if su and hu:
                        note += (f"; proxy busy: Sluice {statistics.median(su):.0%}, "
                                 f"HAProxy {statistics.median(hu):.0%} of CPU {topo.PROXY_CPU}")
                if key == "rps":
                    s0 = [r["cpu0"] for r in (afp or {}).get(mode, [])]
                    h0 = [r["cpu0"] for r in (hx or {}).get(mode, [])]
                    if s0 and h0:
                        note += (f"; CPU {topo.LOAD_CPU} (load side) busy: "
                                 f"{statistics.median(s0):.0%} with Sluice, "
                                 f"{statistics.median(h0):.0%} with HAProxy")
                    se = sum(r["errors"] for r in (afp or {}).get(mode, []))
                    he = sum(r["errors"] for r in (hx or {}).get(mode, []))
                    note += (f"; wrk errors (socket and non-2xx/3xx, all runs): Sluice {se}, "
                             f"HAProxy {he}")
                miss = [f"{k}: {errs[k]}" for k in ("afpacket", "haproxy") if k in errs]
                if miss:
                    note += "; FAILED " + "; ".join(miss)
                fig["note"] = note
                out.append(fig)
        return out


def start(root, loadgen, quick, log, part="http", cls=Bench):
    """What every run of this module's kind needs first: root, wrk, the load generator (waited
    for if its build is not finished), the lock; returns the lock (or None) and cls's Bench."""
    if os.geteuid() != 0:
        raise RuntimeError(f"{part} benchmark needs root (namespaces, af_packet)")
    if not os.access(WRK, os.X_OK):
        raise RuntimeError(f"no {WRK} (Debian's wrk package; scripts/setup)")
    root = os.path.abspath(root)
    loadgen = os.path.abspath(loadgen)
    # Wait for the load generator (the HTTP servers) if its build is not finished yet.
    for _ in range(60):
        if os.access(loadgen, os.X_OK):
            break
        log(f"{part}: waiting for {loadgen}")
        time.sleep(5)
    if not os.access(loadgen, os.X_OK):
        raise RuntimeError(f"no load generator at {loadgen}")
    lock = topo.take_lock(log)
    try:
        return lock, cls(root, loadgen, quick, log)  # after the wait: it makes a directory
    except BaseException:
        if lock is not None:
            lock.close()
        raise


def run_steps(b, lock, steps, part="http"):
    """Runs each (name, fn) of steps in turn, a failed one noted and skipped; cleans up and
    releases the lock whatever happens. Returns ({name: result}, {name: first error line})."""
    t0 = time.monotonic()
    res, errs = {}, {}
    old = None
    try:
        topo_down(b.log)  # leftovers of an interrupted run
        b.log(f"{part}: TSC {b.hz / 1e6:.3f} MHz ({b.hz_src}); {b.seconds:g} s wrk runs, "
              f"{[m for m, _ in b.workloads]}")
        for name, fn in steps:
            b.log(f"{part}: {name} ...")
            try:
                res[name] = fn()
            except (RuntimeError, OSError, subprocess.SubprocessError, ValueError) as e:
                errs[name] = str(e).strip().splitlines()[0][:300] if str(e).strip() else repr(e)
                b.log(f"{part}: {name} failed: {e}")
    finally:
        # No Ctrl-C half-way through the clean-up.
        try:
            old = signal.signal(signal.SIGINT, signal.SIG_IGN)
        except ValueError:  # not the main thread
            old = None
        try:
            b.cleanup()
        finally:
            if lock is not None:
                lock.close()
            if old is not None:
                signal.signal(signal.SIGINT, old)
    b.log(f"{part}: done in {time.monotonic() - t0:.0f} s")
    return res, errs


def run(root, loadgen, quick, log=print):
    """Measures both paths; returns the figures (see the module's docstring)."""
    lock, b = start(root, loadgen, quick, log)
    res, errs = run_steps(b, lock, [("haproxy", b.run_haproxy), ("afpacket", b.run_afpacket)])
    return b.figures(res.get("haproxy"), res.get("afpacket"), errs)


def main():
    topo.script_main("http", run, __doc__)


if __name__ == "__main__":
    main()
