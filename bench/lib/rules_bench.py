#!/usr/bin/python3
"""Rules: what a map or regex lookup costs a request, and adding 1 M map entries live.

    python3 bench/lib/rules_bench.py --loadgen build/release/bench/loadgen/sl-loadgen [--quick]

prints the figures as a JSON list (progress on stderr); bench/run calls run() for its part
`rules`.

http_bench's topology, proxies and keep-alive `rr` workload (wrk, 50 connections, GET
WRK_PATH, Host RULES_HOST), with pattern files generated here, seeded (sizes: FULL, QUICK):
nets.map (1 M IPv4 networks /8 to /32 outside 0/8, 10/8, 127/8 and 224/3 with two-letter
values, and the client's network -> LAB), hosts.map (100 k host names, RULES_HOST among them),
regex.lst (1 000 distinct regexes, none matching WRK_PATH: every one is tried). Six frontends,
the same text for Sluice and HAProxy but for their K rule lines:
  base     none
  map_ip   http-request set-header X-Ip-N %[src,map_ip(nets.map,ZZ)]
  map_str  http-request set-header X-Host-N %[req.hdr(host),lower,map_str(hosts.map,none)]
  regex    http-request set-header X-Re-N ok if { path_reg -f regex.lst }
  stick_small, stick_big   the article's table (stick-table type ip size 2m expire 15m store
           http_req_rate(10s),gpt0) and STICK_K times `http-request track-scN src` with
           `http-request deny deny_status 429 if { sc_http_req_rate(N) gt 1000000000 }`
           (N = 0..2), the table holding stick_small (stick_big) other live entries put there
           with `set table` before the runs
(N = 1..K; both proxies load a file once per match method and share it between the lines).
HAProxy runs with tune.pattern.cache-size 0: its LRU cache of list lookups (the regexes) would
answer every request but the first, the path being always the same; Sluice has no such cache.
A lookup's cost = (proxy CPU per request with the variant - base's median) / K, per run; the
figure is the median of REPEATS runs.

Live add, on the map_ip frontend after its runs, wrk paced meanwhile (ADD_CONNS, ADD_DELAY_MS):
1 M new networks through the admin socket as `add map <nets.map> <<` commands, one connection
each, each command with its payload within the 16 KiB both proxies take (tune.bufsize; Sluice's
kMaxRequestBytes). Reported: seconds from the first command to the last answer, wrk's errors
(must be 0) and its longest request (the stall a client sees); for Sluice also stall_counters().

Live dump, on stick_big after its runs: `show table fe_main` of the whole table read from the
admin socket while wrk runs paced as for the add: its seconds, rows, wrk's errors and longest
request, the stalls, and the process's peak memory; with the resident memory the fill added
per entry.
"""
import importlib.util
import ipaddress
import os
import random
import re
import signal
import socket
import statistics
import threading
import time

try:
    from lib import http_bench as hb  # imported by bench/run
except ImportError:
    import http_bench as hb  # run as a script from bench/lib
topo = hb.topo

K = 8  # rule lines per variant
STICK_K = 3  # track-sc0..2 and their rate checks
VARIANTS = ("base", "map_ip", "map_str", "regex", "stick_small", "stick_big")
FULL = {"nets": 1_000_000, "hosts": 100_000, "regexes": 1_000, "adds": 1_000_000,
        "stick_small": 1_000, "stick_big": 1_000_000}
QUICK = {"nets": 100_000, "hosts": 10_000, "regexes": 100, "adds": 100_000,
         "stick_small": 1_000, "stick_big": 100_000}
STICK_TABLE = "stick-table type ip size 2m expire 15m store http_req_rate(10s),gpt0"
STICK_SET_BYTES = 15_000  # `set table` commands joined by ';' on one line
SEED = 14
WRK_PATH = "/api/v1/item7"
RULES_HOST = "www.bench.example"
HAPROXY_SOCK = "/run/slb-haproxy.sock"
BATCH_BYTES = 15_000  # a command line and its payload, under both proxies' 16 KiB
ADD_CONNS, ADD_DELAY_MS = 10, 1
ADD_WRK_MAX_S = 3600  # wrk's -d during the add; it is stopped (SIGINT) once the add is done
PREFIX_LENS = (8, 12, 16, 18, 20, 22, 24, 26, 28, 30, 32)
PREFIX_WEIGHTS = (1, 4, 30, 30, 40, 60, 400, 80, 80, 50, 225)
WORDS = ("api", "shop", "cdn", "static", "img", "auth", "blog", "news", "video", "search",
         "cart", "user", "admin", "edge", "pay", "mail")
TLDS = ("com", "net", "org", "io", "de", "fr", "co.uk", "example")
REGEX_SHAPES = (r"^/{w}/v[0-9]+/item[0-9]+-{i}$", r"^/{w}/[a-z]+/{i}/?$", r"\.{w}{i}$",
                r"^/{w}/v{i}/[^/]+/edit$")
RULES = {
    "map_ip": "set-header X-Ip-{n} %[src,map_ip({nets},ZZ)]",
    "map_str": "set-header X-Host-{n} %[req.hdr(host),lower,map_str({hosts},none)]",
    "regex": "set-header X-Re-{n} ok if {{ path_reg -f {regex} }}",
}


# --- pattern files ------------------------------------------------------------------------------

def networks(rng, n):
    """n distinct networks as address << 6 | prefix length, outside 0/8, 10/8, 127/8 and 224/3:
    the client's address matches only its own network's line."""
    seen, out = set(), []
    while len(out) < n:
        for plen in rng.choices(PREFIX_LENS, PREFIX_WEIGHTS, k=n - len(out)):
            a = rng.getrandbits(32) & (0xFFFFFFFF << (32 - plen)) & 0xFFFFFFFF
            key = a << 6 | plen
            if (a >> 24) in (0, 10, 127) or a >> 24 >= 224 or key in seen:
                continue
            seen.add(key)
            out.append(key)
    return out


def cidr(key):
    a = key >> 6
    return f"{a >> 24}.{a >> 16 & 255}.{a >> 8 & 255}.{a & 255}/{key & 63}"


def write_patterns(tmpdir, sizes):
    """Writes nets.map, hosts.map and regex.lst; returns their paths and the lines of the live
    add (networks not in nets.map)."""
    rng = random.Random(SEED)
    letters = [chr(65 + i) + chr(65 + j) for i in range(26) for j in range(26)]
    nets = networks(rng, sizes["nets"] + sizes["adds"])
    values = rng.choices(letters, k=len(nets))
    lines = [f"{cidr(k)} {v}" for k, v in zip(nets, values)]
    client = ipaddress.ip_interface(topo.CLIENT_ADDR).network
    files = {k: os.path.join(tmpdir, f) for k, f in
             (("nets", "nets.map"), ("hosts", "hosts.map"), ("regex", "regex.lst"))}
    with open(files["nets"], "w") as f:
        f.write("\n".join(lines[:sizes["nets"]]) + f"\n{client} LAB\n")
    hosts = [f"{rng.choice(WORDS)}-{i:x}.{rng.choice(WORDS)}{rng.randrange(1000)}."
             f"{rng.choice(TLDS)} be_{rng.randrange(100)}" for i in range(sizes["hosts"] - 1)]
    hosts.insert(len(hosts) // 2, f"{RULES_HOST} be_lab")
    with open(files["hosts"], "w") as f:
        f.write("\n".join(hosts) + "\n")
    regs = [REGEX_SHAPES[i % len(REGEX_SHAPES)].format(w=WORDS[i // 4 % len(WORDS)], i=i)
            for i in range(sizes["regexes"])]
    assert len(set(regs)) == len(regs) and not any(re.search(r, WRK_PATH) for r in regs)
    with open(files["regex"], "w") as f:
        f.write("\n".join(regs) + "\n")
    return files, lines[sizes["nets"]:]


def batches(lines, head):
    """The payloads of `add map` commands: whole lines, each command (head, its payload and
    the empty line ending it) at most BATCH_BYTES."""
    out, cur, size = [], [], len(head) + 1
    for ln in lines:
        if cur and size + len(ln) + 1 > BATCH_BYTES:
            out.append("".join(cur))
            cur, size = [], len(head) + 1
        cur.append(ln + "\n")
        size += len(ln) + 1
    return out + (["".join(cur)] if cur else [])


# --- the benchmark ------------------------------------------------------------------------------

class Bench(hb.Bench):
    """http_bench's Bench with a variant's rule lines in the frontend and the live add."""

    def __init__(self, root, loadgen, quick, log):
        super().__init__(root, loadgen, quick, log)
        self.workloads = [("rr", 50)]
        self.sizes = QUICK if quick else FULL
        self.path = WRK_PATH
        self.start_timeout = 180  # loading a million networks
        self.haproxy_global = (f"    stats socket {HAPROXY_SOCK} mode 600 level admin\n"
                               "    tune.pattern.cache-size 0\n")
        self.variant = "base"
        t0 = time.monotonic()
        self.files, adds = write_patterns(self.tmpdir, self.sizes)
        self.add_head = f"add map {self.files['nets']} <<\n"
        self.add_batches = batches(adds, self.add_head)
        self.report = os.path.join(self.tmpdir, "wrk-rules.lua")
        self.paced = os.path.join(self.tmpdir, "wrk-paced.lua")
        host = f'wrk.headers["Host"] = "{RULES_HOST}"\n'
        with open(self.report, "w") as f:
            f.write(host + hb.WRK_REPORT)
        with open(self.paced, "w") as f:
            f.write(host + hb.WRK_REPORT + f"delay = function() return {ADD_DELAY_MS} end\n")
        log(f"rules: {self.sizes}: pattern files and {len(self.add_batches)} add commands "
            f"in {time.monotonic() - t0:.1f} s")

    def run_variant(self, side, variant):
        self.variant = variant
        if variant.startswith("stick"):
            self.rules = f"    {STICK_TABLE}\n" + "".join(
                f"    http-request track-sc{n} src\n"
                f"    http-request deny deny_status 429 if {{ sc_http_req_rate({n}) gt "
                "1000000000 }\n" for n in range(STICK_K))
        else:
            self.rules = "".join("    http-request " + RULES[variant].format(n=n, **self.files) +
                                 "\n" for n in range(1, K + 1)) if variant != "base" else ""
        return self.run_haproxy() if side == "haproxy" else self.run_afpacket()

    def fill_table(self, side, n):
        """`n` entries in the frontend's table (addresses in 100.64.0.0/10, never the
        client's), through the admin socket: `set table` commands joined by ';'."""
        sock = HAPROXY_SOCK if side == "haproxy" else topo.AFP_SOCK
        fe = "fe_main"  # http_bench's frontend
        t0 = time.monotonic()
        line, sent = [], 0
        for i in range(n):
            a = 0x64400000 + i
            line.append(f"set table {fe} key {a >> 24}.{a >> 16 & 255}.{a >> 8 & 255}.{a & 255} "
                        "data.gpt0 0")
            if sum(len(x) + 1 for x in line) > STICK_SET_BYTES or i == n - 1:
                ans = topo.admin_cmd(sock, ";".join(line), timeout=600)
                if ans.strip():
                    raise RuntimeError(f"set table on {side}: {ans.strip()[:200]}")
                sent += len(line)
                line = []
        m = re.search(r"used:(\d+)", topo.admin_cmd(sock, "show table"))
        used = int(m.group(1)) if m else -1
        self.log(f"rules: {side}: {sent} table entries set in {time.monotonic() - t0:.1f} s, "
                 f"used:{used}")
        if used < n:
            raise RuntimeError(f"{side}: the table holds {used} entries, {n} were set")

    def measure(self, side, label, sample, ours, cpu_of):
        rss = None
        if self.variant.startswith("stick"):
            before = proc_kb(ours, "VmRSS")
            self.fill_table(side, self.sizes[self.variant])
            after = proc_kb(ours, "VmRSS")
            rss = after - before if before is not None and after is not None else None
        out = super().measure(side, f"{label} {self.variant}", sample, ours, cpu_of)
        if self.variant == "stick_big":
            out["fill_rss_kb"] = rss
            try:
                out["dump"] = self.live_dump(side, sample, ours)
            except (RuntimeError, OSError, ValueError) as e:
                self.log(f"rules: {side} live dump failed: {e}")
                out["dump_error"] = (str(e).strip() or repr(e)).splitlines()[0][:300]
        if self.variant == "map_ip":
            try:
                out["add"] = self.live_add(side, sample, ours)
            except (RuntimeError, OSError, ValueError) as e:
                self.log(f"rules: {side} live add failed: {e}")
                out["add_error"] = (str(e).strip() or repr(e)).splitlines()[0][:300]
        return out

    # -- the live add

    def wrk_proc(self):
        return next((p for p in list(self.procs.live) if hb.WRK in p.args), None)

    def stop_wrk(self, thread):
        """SIGINT: wrk stops, reports and runs done() as at the end of its -d."""
        for _ in range(3):
            p = self.wrk_proc()
            if p is not None and p.poll() is None:
                p.send_signal(signal.SIGINT)
            thread.join(15)
            if not thread.is_alive():
                return
        p = self.wrk_proc()
        if p is not None:
            self.procs.stop(p)
        thread.join(30)

    def stall_counters(self, side):
        """Sluice's longest busy worker iteration (busy_cycles_max in `show activity`, if it has
        the row) and longest control-loop iteration (/sluice/control loop_max_us), both since
        start, in us; None where there is none (always for HAProxy)."""
        if side != "sluice":
            return None, None
        m = re.search(r"^busy_cycles_max:\s*(\d+)\s*\[([\d ]*)\]",
                      topo.admin_cmd(topo.AFP_SOCK, "show activity"), re.M)
        it = m and max([int(x) for x in m.group(2).split()] or [int(m.group(1))]) / self.hz * 1e6
        try:
            spec = importlib.util.spec_from_file_location(
                "sluice_telemetry", os.path.join(self.root, "tests", "integration", "telemetry.py"))
            tel = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(tel)
            with tel.Telemetry(prefix=topo.AFP_PREFIX) as t:
                v = t.query("/sluice/control")
            return it, v.get("loop_max_us") if isinstance(v, dict) else None
        except (OSError, RuntimeError, ValueError, ImportError) as e:
            self.log(f"rules: /sluice/control: {e}")
            return it, None

    def live_add(self, side, sample, ours):
        sock = HAPROXY_SOCK if side == "haproxy" else topo.AFP_SOCK

        def add():
            for payload in self.add_batches:
                ans = topo.admin_cmd(sock, self.add_head + payload, timeout=120)
                if ans.strip():
                    raise RuntimeError(f"add map on {side}: {ans.strip()[:200]}")
            return {"entries": sum(p.count("\n") for p in self.add_batches),
                    "commands": len(self.add_batches)}
        r = self.during_wrk(side, sample, ours, add)
        self.log(f"rules: {side} added {r['entries']} networks in {r['commands']} commands in "
                 f"{r['seconds']:.1f} s; wrk {r['rps']:.0f} req/s, longest request "
                 f"{r['max_us']:.0f} us, errors {r['errors']}; worker iteration max "
                 f"{r['iter_before']} -> {r['iter_max_us']} us, control loop max "
                 f"{r['loop_before']} -> {r['loop_max_us']} us")
        if r["errors"]:
            self.log(f"rules: {side}: wrk saw {r['errors']} errors during the add (must be 0)")
        return r

    def live_dump(self, side, sample, ours):
        """`show table fe_main` of the whole big table through the admin socket while wrk runs
        paced: its seconds, rows and bytes, the stalls (as live_add), the process's peak
        memory (VmHWM) after it."""
        sock = HAPROXY_SOCK if side == "haproxy" else topo.AFP_SOCK

        def dump():
            lines = size = 0
            head = b""
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:
                c.settimeout(600)
                c.connect(sock)
                c.sendall(b"show table fe_main\n")
                while True:
                    b = c.recv(1 << 20)
                    if not b:
                        break
                    if len(head) < 64:
                        head += b[:64]
                    size += len(b)
                    lines += b.count(b"\n")
            if not head.startswith(b"# table: fe_main,"):
                raise RuntimeError(f"show table on {side}: {head[:100]!r}")
            return {"rows": lines - 2, "bytes": size}  # less the header and the empty line
        r = self.during_wrk(side, sample, ours, dump)
        r["hwm_kb"] = proc_kb(ours, "VmHWM")
        self.log(f"rules: {side} dumped {r['rows']} rows ({r['bytes']} bytes) in "
                 f"{r['seconds']:.1f} s; wrk {r['rps']:.0f} req/s, longest request "
                 f"{r['max_us']:.0f} us, errors {r['errors']}; worker iteration max "
                 f"{r['iter_before']} -> {r['iter_max_us']} us, control loop max "
                 f"{r['loop_before']} -> {r['loop_max_us']} us; peak memory {r['hwm_kb']} kB")
        return r

    def during_wrk(self, side, sample, ours, action):
        """Runs `action` while wrk runs paced (ADD_CONNS, ADD_DELAY_MS); its dict, with the
        seconds it took, wrk's errors, rate and longest request, and stall_counters() before
        and after."""
        before = self.stall_counters(side)
        box = {}

        def client():
            try:
                box["rep"] = self.wrk("rr", ADD_CONNS, sample, ours, seconds=ADD_WRK_MAX_S,
                                      script=self.paced)[0]
            except Exception as e:  # noqa: BLE001 - raised again in the caller's thread
                box["err"] = e
        t = threading.Thread(target=client, daemon=True)
        t.start()
        try:
            topo.wait_for(lambda: self.wrk_proc() is not None or not t.is_alive(), 10, "wrk")
            time.sleep(1)  # wrk's connections up, its SIGINT handler in place
            if not t.is_alive():
                raise box.get("err") or RuntimeError("wrk exited before the add")
            t0 = time.monotonic()
            done = action()
            secs = time.monotonic() - t0
            time.sleep(1)
        finally:
            self.stop_wrk(t)
        if "err" in box:
            raise box["err"]
        rep = box["rep"]
        sock_errs = rep["connect"] + rep["read"] + rep["write"] + rep["timeout"]
        after = self.stall_counters(side)
        r = dict(done)
        r.update({"seconds": secs, "errors": sock_errs + rep["status"],
                  "max_us": rep["max_us"], "rps": rep["requests"] / (rep["duration_us"] / 1e6),
                  "iter_before": before[0], "iter_max_us": after[0],
                  "loop_before": before[1], "loop_max_us": after[1]})
        return r

    def cleanup(self):
        super().cleanup()
        if os.path.exists(HAPROXY_SOCK):
            os.unlink(HAPROXY_SOCK)

    # -- figures

    def figures(self, res, errs):
        out = []
        sides = ("sluice", "haproxy")

        def cpu(side, v):
            return [r["cpu_ns"] for r in (res.get(f"{side}/{v}") or {}).get("rr", [])]

        def fig(name, unit, better, runs, note, **flags):
            if not any(runs.values()):
                return
            f = topo.side_by_side(name, unit, better, runs["sluice"], runs["haproxy"])
            if any(f[s] is not None and f[s] <= 0 for s in sides):
                f["ratio"] = None
            failed = [f"{k}: {e}" for k, e in errs.items()]
            f["note"] = note + (f"; FAILED {'; '.join(failed)}" if failed else "")
            f.update(flags)
            out.append(f)

        n = self.sizes
        common = (f"http_bench's rr workload (wrk -t1, 50 keep-alive connections, GET "
                  f"{WRK_PATH}, Host {RULES_HOST}), {self.seconds:g} s runs, median of "
                  f"{hb.REPEATS}; Sluice on af_packet, HAProxy 2.6 in slb-proxy, one core "
                  f"each; CPU per request as http_afpacket_rr_cpu_ns")
        fig("rules_base_cpu_ns", "ns", "lower",
            {s: cpu(s, "base") for s in sides}, f"CPU per request without rules. {common}")
        what = {"map_ip": f"one map_ip lookup of the client address among {n['nets']:,} "
                          "networks (/8 to /32) and setting its header",
                "map_str": f"one exact lookup of the lowered Host among {n['hosts']:,} host "
                           "names and setting its header",
                "regex": f"one path_reg against {n['regexes']:,} regexes, none matching "
                         f"(Sluice: PCRE2 JIT per pattern; HAProxy: {haproxy_pcre()}, "
                         "tune.pattern.cache-size 0)"}
        for v in ("stick_small", "stick_big"):
            what[v] = (f"one `track-scN src` and one `sc_http_req_rate(N) gt ...` check on the "
                       f"article's table holding {n[v]:,} other live entries")
        for v, text in what.items():
            k = STICK_K if v.startswith("stick") else K
            runs = {}
            for s in sides:
                base, var = cpu(s, "base"), cpu(s, v)
                runs[s] = [(x - statistics.median(base)) / k for x in var] if base else []
            fig(f"rules_{v}_ns", "ns", "lower", runs,
                f"{text}: (CPU per request with {k} such lines - median without) / {k}, per "
                f"run. {common}", signed_ok=True)
        adds = {s: (res.get(f"{s}/map_ip") or {}).get("add") for s in sides}
        add_note = (f"{n['adds']:,} new networks added live to the map_ip frontend's "
                    f"{n['nets']:,} through the admin socket, `add map <file> <<` with payloads "
                    f"of at most {BATCH_BYTES} bytes (both proxies' 16 KiB command limit), one "
                    f"connection per command, while wrk ran paced ({ADD_CONNS} connections, "
                    f"{ADD_DELAY_MS} ms between a connection's requests)")

        def add_runs(key):
            return {s: [adds[s][key]] if adds[s] and adds[s][key] is not None else []
                    for s in sides}
        fig("rules_map_add_s", "s", "lower", add_runs("seconds"),
            f"{add_note}: first command to last answer; one measurement")
        fig("rules_map_add_errors", "count", "lower", add_runs("errors"),
            f"{add_note}: wrk's socket errors and non-2xx/3xx answers during it (must be 0)",
            zero_ok=True, zero_expected=True)
        fig("rules_map_add_max_latency_us", "us", "lower", add_runs("max_us"),
            f"{add_note}: wrk's longest request during it, the stall a client sees")
        for key, before, name, text in (
                ("iter_max_us", "iter_before", "rules_map_add_worker_iter_max_us",
                 "the worker's longest busy loop iteration since start (show activity "
                 "busy_cycles_max / TSC)"),
                ("loop_max_us", "loop_before", "rules_map_add_control_loop_max_us",
                 "the control loop's longest iteration since start (/sluice/control "
                 "loop_max_us)")):
            s = adds["sluice"]
            if s and s[key] is not None:
                fig(name, "us", "lower", {"sluice": [s[key]], "haproxy": []},
                    f"{add_note}: {text}, read after the add; before it: {s[before]} us (if "
                    "equal, the add's longest iteration was no longer than that)")
        # The big table: its memory, and `show table` of all of it while traffic flows.
        big = {s: res.get(f"{s}/stick_big") or {} for s in sides}
        fill = {s: [big[s]["fill_rss_kb"] * 1024 / n["stick_big"]]
                if big[s].get("fill_rss_kb") else [] for s in sides}
        fig("rules_stick_entry_bytes", "bytes", "lower", fill,
            f"resident memory the proxy grew by while {n['stick_big']:,} entries of the "
            "article's table were set (`set table`), per entry; one measurement")
        dumps = {s: big[s].get("dump") for s in sides}
        dump_note = (f"`show table fe_main` of its {n['stick_big']:,} entries read whole from "
                     f"the admin socket while wrk ran paced ({ADD_CONNS} connections, "
                     f"{ADD_DELAY_MS} ms between a connection's requests)")

        def dump_runs(key):
            return {s: [dumps[s][key]] if dumps[s] and dumps[s].get(key) is not None else []
                    for s in sides}
        fig("rules_stick_dump_s", "s", "lower", dump_runs("seconds"),
            f"{dump_note}: command to the last byte; one measurement")
        fig("rules_stick_dump_rows", "count", "higher", dump_runs("rows"),
            f"{dump_note}: rows received (must be the table's entries)")
        fig("rules_stick_dump_errors", "count", "lower", dump_runs("errors"),
            f"{dump_note}: wrk's socket errors and non-2xx/3xx answers (must be 0)",
            zero_ok=True, zero_expected=True)
        fig("rules_stick_dump_max_latency_us", "us", "lower", dump_runs("max_us"),
            f"{dump_note}: wrk's longest request during it, the stall a client sees")
        fig("rules_stick_dump_peak_kb", "kB", "lower", dump_runs("hwm_kb"),
            f"{dump_note}: the proxy process's peak resident memory (VmHWM) after it")
        for key, before, name, text in (
                ("iter_max_us", "iter_before", "rules_stick_dump_worker_iter_max_us",
                 "the worker's longest busy loop iteration since start"),
                ("loop_max_us", "loop_before", "rules_stick_dump_control_loop_max_us",
                 "the control loop's longest iteration since start")):
            d = dumps["sluice"]
            if d and d.get(key) is not None:
                fig(name, "us", "lower", {"sluice": [d[key]], "haproxy": []},
                    f"{dump_note}: {text}, read after it; before it: {d[before]} us")
        return out


def proc_kb(pids, field):
    """The sum of a /proc/PID/status memory field (VmRSS, VmHWM) over `pids`, in kB; None when
    one cannot be read."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                m = re.search(rf"^{field}:\s+(\d+) kB", f.read(), re.M)
        except OSError:
            return None
        if not m:
            return None
        total += int(m.group(1))
    return total


def haproxy_pcre():
    """How Debian's HAProxy matches regexes (haproxy -vv's build options)."""
    try:
        m = re.search(r"([+-])PCRE2_JIT", topo.sh(topo.HAPROXY, "-vv", check=False).stdout)
    except OSError:
        m = None
    return "PCRE2" + ("" if not m else " JIT" if m.group(1) == "+" else " without JIT")


def run(root, loadgen, quick, log=print):
    """Every variant on both proxies, then the figures (see the module's docstring)."""
    lock, b = hb.start(root, loadgen, quick, log, part="rules", cls=Bench)
    steps = [(f"{side}/{v}", lambda side=side, v=v: b.run_variant(side, v))
             for side in ("haproxy", "sluice") for v in VARIANTS]
    res, errs = hb.run_steps(b, lock, steps, part="rules")
    for key, r in res.items():
        if r.get("add_error"):
            errs[f"{key} add"] = r["add_error"]
        if r.get("dump_error"):
            errs[f"{key} dump"] = r["dump_error"]
    return b.figures(res, errs)


def main():
    topo.script_main("rules", run, __doc__)


if __name__ == "__main__":
    main()
