#!/usr/bin/python3
"""HAProxy 2.6 on loopback, measured with sl-loadgen (bench/loadgen).

    python3 bench/lib/haproxy_bench.py --loadgen build/release/bench/loadgen/sl-loadgen [--quick]

prints a JSON list of figures; bench/run imports run() instead. Runs as root: it sets
sysctls (restored afterwards) and pins processes with taskset.

Layout (2 cores): HAProxy alone on core 0 with nbthread 1; the echo/discard backends and the
load generator share core 1. Frontends listen on 127.0.0.1; each backend has four servers
127.0.1.1-4, so HAProxy's server side has four destinations of 64k ports each.

Every process started here is killed on the way out, exceptions and Ctrl-C included; the
children also get PR_SET_PDEATHSIG, so they die with this process even if it is SIGKILLed.
"""

import argparse
import contextlib
import ctypes
import json
import os
import resource
import select
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HAPROXY = "/usr/sbin/haproxy"
HAPROXY_CPU = "0"
LOAD_CPU = "1"
FRONT_ADDR = "127.0.0.1"
ECHO_FRONT_PORT = 18080
BULK_FRONT_PORT = 18081
SERVER_ADDRS = [f"127.0.1.{i}" for i in range(1, 5)]
ECHO_PORT = 18090
DISCARD_PORT = 18091
CLIENT_SRCS = [f"127.0.0.{i}" for i in range(2, 10)]
NOFILE_WANTED = 1048576
HAPROXY_MAXCONN = 300000
SIZE_RR = 64
SIZE_BULK = 65536
REPEATS = 3
FOREIGN_MAX = 0.1  # of a core

SYSCTLS = {
    "net.ipv4.ip_local_port_range": "1024 65535",
    "net.ipv4.tcp_tw_reuse": "1",
}

CLK_TCK = os.sysconf("SC_CLK_TCK")
CAP_SYS_RESOURCE = 24
PR_SET_PDEATHSIG = 1
PF_KTHREAD = 0x00200000


# ---- /proc helpers (reused by bench/run) --------------------------------------------------

def cpu_ns(pid):
    """utime + stime of a process (all its threads), in ns. Resolution: one clock tick.

    With tick accounting and no CONFIG_IRQ_TIME_ACCOUNTING (Debian's default), softirq work
    done in the process's context is in stime: on loopback that is the delivery of the
    segments it sends, up to the peer's socket."""
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    fields = stat[stat.rindex(")") + 2:].split()  # fields[0] is field 3 (state)
    return (int(fields[11]) + int(fields[12])) * 1_000_000_000 // CLK_TCK


def rss_bytes(pid):
    """VmRSS of a process, in bytes."""
    return _kb_field(f"/proc/{pid}/status", "VmRSS:")


def slab_bytes():
    """Kernel slab memory (/proc/meminfo Slab), in bytes."""
    return _kb_field("/proc/meminfo", "Slab:")


def user_tasks_cpu_ns(exclude=()):
    """CPU time (ns) of every user-space process but `exclude`, keyed by pid: taken at both
    edges of a window, it shows whether anything else competed for the cores. Reaped
    children's time (cutime, cstime) is included, so short-lived jobs such as compiler runs
    show up in their parent."""
    out = {}
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) in exclude:
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
        except OSError:
            continue  # exited meanwhile
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[6]) & PF_KTHREAD:
            continue
        ticks = sum(int(x) for x in fields[11:15])  # utime, stime, cutime, cstime
        out[int(name)] = ticks * 1_000_000_000 // CLK_TCK
    return out


def _kb_field(path, key):
    with open(path) as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"{key} not found in {path}")


# ---- limits and sysctls -------------------------------------------------------------------

def _sysctl_path(name):
    return "/proc/sys/" + name.replace(".", "/")


def _sysctl_get(name):
    with open(_sysctl_path(name)) as f:
        return " ".join(f.read().split())


def _sysctl_set(name, value):
    with open(_sysctl_path(name), "w") as f:
        f.write(value)


@contextlib.contextmanager
def _sysctls(wanted, log):
    saved = {}
    try:
        for name, value in wanted.items():
            old = _sysctl_get(name)
            if old != value:
                saved[name] = old
                _sysctl_set(name, value)
                log(f"sysctl {name}={value} (was {old})")
        yield
    finally:
        for name, old in saved.items():
            try:
                _sysctl_set(name, old)
            except OSError as e:
                log(f"could not restore {name}={old}: {e}")


def _nofile_for_children():
    """The RLIMIT_NOFILE children will get: NOFILE_WANTED with CAP_SYS_RESOURCE, else the
    current hard limit (a container without the capability cannot go higher)."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard == resource.RLIM_INFINITY or hard >= NOFILE_WANTED:
        return NOFILE_WANTED
    with open("/proc/self/status") as f:
        cap_eff = next(int(l.split()[1], 16) for l in f if l.startswith("CapEff:"))
    return NOFILE_WANTED if cap_eff >> CAP_SYS_RESOURCE & 1 else hard


def _child_setup(nofile):
    libc = ctypes.CDLL(None, use_errno=True)

    def setup():
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
        except (ValueError, OSError):
            hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    return setup


# ---- processes ----------------------------------------------------------------------------

class _Procs:
    """Owns every child; close() ends them all (SIGTERM, then SIGKILL)."""

    def __init__(self, nofile):
        self.procs = []
        self.preexec = _child_setup(nofile)

    def start(self, cmd, **kw):
        p = subprocess.Popen(cmd, preexec_fn=self.preexec, **kw)
        self.procs.append(p)
        return p

    def stop(self, p, timeout=5):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for pipe in (p.stdin, p.stdout, p.stderr):
            if pipe:
                pipe.close()
        if p in self.procs:
            self.procs.remove(p)

    def close(self):
        for p in reversed(list(self.procs)):
            self.stop(p)


def _wait_listening(addr, port, proc, what, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex((addr, port)) == 0:
                return
        time.sleep(0.02)
    raise RuntimeError(f"{what} does not listen on {addr}:{port}")


def _haproxy_cfg(maxconn):
    def backend(name, port):
        servers = "".join(f"    server s{i} {a}:{port}\n"
                          for i, a in enumerate(SERVER_ADDRS, 1))
        return f"backend {name}\n    balance roundrobin\n{servers}"

    return (
        "global\n"
        "    nbthread 1\n"
        f"    cpu-map 1/1 {HAPROXY_CPU}\n"
        f"    maxconn {maxconn}\n"
        "defaults\n"
        "    mode tcp\n"
        f"    maxconn {maxconn}\n"
        "    timeout connect 30s\n"
        "    timeout client 30s\n"
        "    timeout server 30s\n"
        "frontend fe_echo\n"
        f"    bind {FRONT_ADDR}:{ECHO_FRONT_PORT}\n"
        "    default_backend be_echo\n"
        "frontend fe_bulk\n"
        f"    bind {FRONT_ADDR}:{BULK_FRONT_PORT}\n"
        "    default_backend be_bulk\n"
        + backend("be_echo", ECHO_PORT)
        + backend("be_bulk", DISCARD_PORT))


class _Bench:
    def __init__(self, loadgen, quick, log, procs, tmpdir, nofile):
        self.loadgen = loadgen
        self.quick = quick
        self.log = log
        self.procs = procs
        self.tmpdir = tmpdir
        # HAProxy needs two descriptors per proxied connection plus a few; it refuses to
        # start when maxconn cannot be backed by RLIMIT_NOFILE.
        self.maxconn = min(HAPROXY_MAXCONN, (nofile - 200) // 2)
        self.haproxy = None
        self.backend_pids = []

    # -- process setup

    def start_backends(self):
        for port, extra in ((ECHO_PORT, []), (DISCARD_PORT, ["--discard"])):
            listen = [arg for a in SERVER_ADDRS for arg in ("--listen", f"{a}:{port}")]
            p = self.procs.start(["taskset", "-c", LOAD_CPU, self.loadgen, "serve"]
                                 + listen + extra)
            self.backend_pids.append(p.pid)
            for a in SERVER_ADDRS:
                _wait_listening(a, port, p, "sl-loadgen serve")

    def start_haproxy(self):
        if self.haproxy is not None:
            self.procs.stop(self.haproxy)
        cfg = os.path.join(self.tmpdir, "haproxy.cfg")
        with open(cfg, "w") as f:
            f.write(_haproxy_cfg(self.maxconn))
        errlog = open(os.path.join(self.tmpdir, "haproxy.err"), "ab")
        # taskset execs haproxy, so the pid is HAProxy's own (-db: no daemon, no master).
        self.haproxy = self.procs.start(["taskset", "-c", HAPROXY_CPU, HAPROXY, "-f", cfg, "-db"],
                                        stdin=subprocess.DEVNULL, stdout=errlog, stderr=errlog)
        errlog.close()
        for port in (ECHO_FRONT_PORT, BULK_FRONT_PORT):
            _wait_listening(FRONT_ADDR, port, self.haproxy, "haproxy")

    # -- one client run

    def client(self, mode, port, conns, seconds, size, src=None):
        """Runs sl-loadgen client once; returns its JSON plus HAProxy's CPU over the window.

        The client is started with --marks and prints 'window start' / 'window end' on
        stderr at the edges of the window it counts transactions in (after its warm-up).
        HAProxy's CPU time is sampled when each mark arrives, so the CPU window matches the
        counted window to well under a millisecond (pipe wake-up), against seconds of run;
        connection set-up, warm-up and teardown stay out of both."""
        warmup = 0.3 if self.quick else 0.5
        cmd = ["taskset", "-c", LOAD_CPU, self.loadgen, "client", "--mode", mode,
               "--target", f"{FRONT_ADDR}:{port}", "--conns", str(conns),
               "--duration", str(seconds), "--warmup", str(warmup), "--size", str(size),
               "--marks"]
        if src:
            cmd += ["--src", ",".join(src)]
        pid = self.haproxy.pid
        ours = {pid, os.getpid()} | set(self.backend_pids)

        def sample():
            # HAProxy first: it is the figure; the scan only detects competing load. The
            # client itself is one of the live processes, so it is left out too.
            return (cpu_ns(pid), time.monotonic(),
                    user_tasks_cpu_ns(ours | {q.pid for q in self.procs.procs}))

        res, start, end = run_marked(self.procs, cmd, sample, warmup + seconds + 30)
        window_ns = (end[1] - start[1]) * 1e9
        res["haproxy_cpu_ns"] = end[0] - start[0]
        res["haproxy_util"] = res["haproxy_cpu_ns"] / window_ns
        # CPU used by other processes meanwhile, in cores: other users of the machine.
        res["foreign"] = sum(ns - start[2].get(q, 0) for q, ns in end[2].items()) / window_ns
        return res

    def repeated(self, *args):
        """REPEATS client runs. A run during which other processes used more than
        FOREIGN_MAX of a core is done again, at most `retries` times (1 with --quick, to stay
        within its time budget); the least disturbed attempt is kept."""
        retries = 1 if self.quick else 2
        runs = []
        for _ in range(REPEATS):
            attempts = []
            for attempt in range(retries + 1):
                res = self.client(*args)
                attempts.append(res)
                if res["foreign"] <= FOREIGN_MAX:
                    break
                self.log(f"warning: other processes used {res['foreign'] * 100:.0f}% of a core "
                         f"during a {args[0]} run" + ("; again" if attempt < retries else ""))
            runs.append(min(attempts, key=lambda r: r["foreign"]))
        return runs

    # -- measurements

    def rr(self, conns):
        seconds = 2 if self.quick else 5
        return self.repeated("rr", ECHO_FRONT_PORT, conns, seconds, SIZE_RR)

    def crr(self):
        seconds = 2 if self.quick else 5
        return self.repeated("crr", ECHO_FRONT_PORT, 50, seconds, SIZE_RR, CLIENT_SRCS)

    def bulk(self):
        seconds = 2 if self.quick else 5
        return self.repeated("bulk", BULK_FRONT_PORT, 4, seconds, SIZE_BULK)

    def memory(self, pairs):
        """Holds `pairs` idle proxied connections on a fresh HAProxy; returns the growth of
        HAProxy's VmRSS and of the kernel's Slab, in bytes."""
        self.start_haproxy()
        time.sleep(0.2)
        pid = self.haproxy.pid
        rss0, slab0 = rss_bytes(pid), slab_bytes()
        p = self.procs.start(["taskset", "-c", LOAD_CPU, self.loadgen, "hold",
                              "--target", f"{FRONT_ADDR}:{ECHO_FRONT_PORT}",
                              "--conns", str(pairs), "--src", ",".join(CLIENT_SRCS)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        try:
            line = _read_line(p.stdout, timeout=30 + pairs / 1000)
            if line.split() != ["ready", str(pairs)]:
                err = p.stderr.read().decode(errors="replace") if p.poll() is not None else ""
                raise RuntimeError(f"sl-loadgen hold did not get ready: {line!r} {err}")
            time.sleep(0.5)  # let HAProxy and the kernel settle (deferred frees, RCU)
            rss1, slab1 = rss_bytes(pid), slab_bytes()
            p.stdin.close()  # EOF: hold closes everything and exits
            p.wait(30)
        finally:
            self.procs.stop(p)
        return rss1 - rss0, slab1 - slab0


def run_marked(procs, cmd, sample, timeout):
    """Runs `sl-loadgen client ... --marks` and calls sample() when it prints "window start"
    and "window end" on stderr, so what is sampled (a proxy's CPU, the clock) covers exactly
    the window the client counts. Returns (client JSON, start sample, end sample). Shared by
    this module and e2e_bench."""
    p = procs.start(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE, text=True)
    watchdog = threading.Timer(timeout, p.kill)
    watchdog.start()
    start = end = None
    other = []
    try:
        for line in p.stderr:
            mark = line.strip()
            if mark == "window start":
                start = sample()
            elif mark == "window end":
                end = sample()
            else:
                other.append(line)
        out = p.stdout.read()
        rc = p.wait()
    finally:
        watchdog.cancel()
        procs.stop(p)
    if rc != 0 or start is None or end is None:
        raise RuntimeError(f"sl-loadgen client failed (rc {rc}): {''.join(other)}")
    return json.loads(out), start, end


def _read_line(pipe, timeout):
    fd = pipe.fileno()
    deadline = time.monotonic() + timeout
    buf = b""
    while b"\n" not in buf:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return buf.decode()
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        buf += chunk
    return buf.decode().strip()


def machine_busy(seconds=0.5):
    """Fraction of all CPUs busy over `seconds` (/proc/stat): anything else running on the
    two cores skews every figure, so run() warns when it starts on a busy machine."""
    def sample():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return sum(v), v[3] + v[4]  # total, idle + iowait

    t0, i0 = sample()
    time.sleep(seconds)
    t1, i1 = sample()
    return 1 - (i1 - i0) / max(1, t1 - t0)


def _figure(name, unit, runs, better, note):
    return {"name": name, "unit": unit, "value": statistics.median(runs), "min": min(runs),
            "max": max(runs), "runs": runs, "better": better, "note": note}


def _util_note(results):
    utils = ", ".join(f"{r['haproxy_util'] * 100:.0f}%" for r in results)
    foreign = ", ".join(f"{r['foreign'] * 100:.0f}%" for r in results)
    errors = sum(r["errors"] for r in results)
    return (f"HAProxy core busy {utils}; other processes {foreign} of a core; "
            f"client errors {errors}")


def run(loadgen, quick, log=print):
    """Measures HAProxy; returns the figures as dicts (see the module docstring)."""
    if not os.access(loadgen, os.X_OK):
        raise RuntimeError(f"{loadgen} is not executable")
    nofile = _nofile_for_children()
    figures = []
    secs = 2 if quick else 5
    per = f"{REPEATS} runs of {secs} s"
    with contextlib.ExitStack() as stack:
        tmpdir = stack.enter_context(tempfile.TemporaryDirectory(prefix="haproxy-bench-"))
        wanted = dict(SYSCTLS)
        if nofile > int(_sysctl_get("fs.nr_open")):
            wanted["fs.nr_open"] = str(nofile)
        stack.enter_context(_sysctls(wanted, log))
        procs = _Procs(nofile)
        stack.callback(procs.close)
        b = _Bench(loadgen, quick, log, procs, tmpdir, nofile)
        log(f"haproxy: {HAPROXY} on core {HAPROXY_CPU}, nbthread 1, maxconn {b.maxconn}; "
            f"backends and load on core {LOAD_CPU}; RLIMIT_NOFILE {nofile}")
        busy = machine_busy()
        if busy > 0.1:
            log(f"warning: the machine is already {busy * 100:.0f}% busy; figures will be low")
        b.start_backends()

        # Memory first, on a fresh HAProxy: the TIME_WAIT sockets crr leaves behind would
        # expire during the hold and skew the Slab difference.
        pairs = min(10000 if quick else 100000, b.maxconn - 100)
        d_rss, d_slab = b.memory(pairs)
        capped = "" if pairs == (10000 if quick else 100000) else \
            f" (capped by RLIMIT_NOFILE {nofile}: HAProxy maxconn {b.maxconn})"
        figures.append(_figure(
            "mem_bytes_per_pair", "B", [d_rss / pairs], "lower",
            f"HAProxy VmRSS growth / {pairs} idle proxied connection pairs{capped}, "
            "each established end to end by one 64 B echo; 1 run"))
        figures.append(_figure(
            "mem_kernel_bytes_per_pair", "B", [d_slab / pairs], "lower",
            f"/proc/meminfo Slab growth / {pairs} pairs: counts all 4 sockets of a pair "
            "(client, HAProxy front, HAProxy back, backend) and their files and epoll items; "
            "1 run"))
        log(f"memory: {pairs} pairs, HAProxy {d_rss / pairs:.0f} B/pair, "
            f"kernel {d_slab / pairs:.0f} B/pair")

        b.start_haproxy()
        cpu_note = ("HAProxy utime+stime from /proc/PID/stat over the client's counted "
                    "window (clock ticks), divided by")
        if not quick:
            r = b.rr(1)
            figures.append(_figure("rr1_tps", "tps", [x["tps"] for x in r], "higher",
                                   f"64 B echo, 1 persistent connection; {per}; "
                                   + _util_note(r)))
            figures.append(_figure("rr1_cpu_ns", "ns",
                                   [x["haproxy_cpu_ns"] / x["transactions"] for x in r],
                                   "lower", f"{cpu_note} transactions; 1 connection"))
            log(f"rr 1 conn: {figures[-2]['value']:.0f} tps, "
                f"{figures[-1]['value']:.0f} ns/txn")

        r = b.rr(100)
        note = f"64 B echo, 100 persistent connections; {per}; " + _util_note(r)
        figures.append(_figure("rr_tps", "tps", [x["tps"] for x in r], "higher", note))
        figures.append(_figure("rr_cpu_ns", "ns",
                               [x["haproxy_cpu_ns"] / x["transactions"] for x in r],
                               "lower", f"{cpu_note} transactions; 100 connections"))
        figures.append(_figure("rr_p50_us", "us", [x["p50_us"] for x in r], "lower", note))
        figures.append(_figure("rr_p99_us", "us", [x["p99_us"] for x in r], "lower", note))
        log(f"rr 100 conns: {figures[-4]['value']:.0f} tps, {figures[-3]['value']:.0f} ns/txn, "
            f"p50 {figures[-2]['value']:.0f} us, p99 {figures[-1]['value']:.0f} us")

        r = b.crr()
        note = (f"connect, 64 B echo, close; 50 concurrent slots, sources "
                f"{CLIENT_SRCS[0]}-{CLIENT_SRCS[-1]}; {per}; " + _util_note(r))
        figures.append(_figure("crr_tps", "tps", [x["tps"] for x in r], "higher", note))
        figures.append(_figure("crr_cpu_ns", "ns",
                               [x["haproxy_cpu_ns"] / x["transactions"] for x in r],
                               "lower", f"{cpu_note} connections"))
        figures.append(_figure("crr_p50_us", "us", [x["p50_us"] for x in r], "lower",
                               note + "; latency from connect() to the full echo"))
        figures.append(_figure("crr_p99_us", "us", [x["p99_us"] for x in r], "lower",
                               note + "; latency from connect() to the full echo"))
        log(f"crr 50 slots: {figures[-4]['value']:.0f} tps, {figures[-3]['value']:.0f} ns/conn, "
            f"p50 {figures[-2]['value']:.0f} us, p99 {figures[-1]['value']:.0f} us")

        r = b.bulk()
        note = f"4 connections writing 64 KiB chunks to a discard backend; {per}; " \
            + _util_note(r)
        figures.append(_figure("bulk_gbps", "Gbit/s", [x["gbps"] for x in r], "higher", note))
        figures.append(_figure("bulk_cpu_ns_per_kb", "ns",
                               [x["haproxy_cpu_ns"] / (x["bytes"] / 1024) for x in r],
                               "lower", f"{cpu_note} KiB sent"))
        log(f"bulk 4 conns: {figures[-2]['value']:.2f} Gbit/s, "
            f"{figures[-1]['value']:.1f} ns/KiB")
    return figures


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--loadgen", required=True, help="path to sl-loadgen")
    ap.add_argument("--quick", action="store_true", help="shorter runs, fewer figures")
    args = ap.parse_args()

    def on_term(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_term)
    figures = run(args.loadgen, args.quick, log=lambda s: print(s, file=sys.stderr, flush=True))
    json.dump(figures, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
