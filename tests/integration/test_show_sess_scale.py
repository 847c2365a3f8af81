"""`show sess` at scale: every one of 100 000 proxied sessions is listed, and the control loop
keeps answering other CLI clients while the dump runs.

Setup (tests/fixtures/show-sess-scale.cfg, one worker): six `sl-loadgen serve` echo servers in
sl-server (10.10.2.11:9001-9006, the six servers of be_scale) and six `sl-loadgen hold`
clients in sl-client, one per frontend port 10.10.1.1:8080-8085, together holding N idle
proxied sessions (N = $SLUICE_SHOW_SESS_SESSIONS, default 100 000). Six of each because a
process here may open at most 20 000 files; roundrobin gives each server about N/6
connections, inside the 28 232 local ports Sluice has per server address and port.

Then, at the same time:
- `show sess` through `socat -t 30 stdio unix-connect:SOCK`, as operators run it, its output
  going to a file (the test reads it after socat exits, so parsing it costs nothing while the
  timings are taken). It must print exactly one line per session in HAProxy's short form
  (`0x...: proto=tcpv4 src=... fe=... be=... srv=... age=...`), every id distinct, then the
  empty line that ends every answer.
- CLIENTS (300) other clients, each on its own connection to the same socket, in prompt
  mode, asking `show info` over and over (PACE_S after each answer) from WARMUP_S before the
  dump until COOLDOWN_S after it, each answer read up to the "\\n> " prompt. They are driven
  by one selector loop in one thread rather than by 300 threads or one-shot connections: the
  300 connections are really open and waiting on the server at once, while the client side
  adds no scheduling noise of its own (300 Python threads on this 2-core machine would wait
  for the GIL and for a CPU, and that wait would be measured as the server's stall); one-shot
  connections would measure accept and the listen backlog (128) rather than how often the
  control loop serves the connections it already has. Prompt mode is what an interactive
  operator uses. PACE_S (20 ms) bounds the offered load (300 / 20 ms = 15 000 requests/s;
  about 13 000/s are answered here), so the figures measure stalls of the control loop
  rather than a queue of 300 requests the test itself keeps full.

For each client the test records the latency of every answer (request sent -> prompt read)
and the gaps between consecutive answers. The gaps that overlap the dump and the latencies
of the requests in flight during it must all be below STALL_BOUND_S: every client was
answered throughout the dump, at least every STALL_BOUND_S. STALL_BOUND_S = 0.5 s, the
deadline the old `show sess` gave itself for the workers while the control loop slept. On
this 2-core VM (one core mostly the worker's, the other shared by the control loop, this
test, socat and the kernel with 200 000 sockets) the load alone gives gaps up to ~40 ms
(PACE_S included) and latencies up to ~15 ms; during a streamed dump of 100 000 sessions
the worst gap seen was 55-240 ms and the worst latency 35-220 ms, the high ends while a
compiler ran on the same two cores. 0.5 s is twice that worst case, so the test does not
flake on a busy machine; it catches a control loop that stops serving for half a second or
more, not shorter stalls: the whole dump (8 MB of text) takes 0.2-0.4 s here, so gathering
all 100 000 sessions in one blocking step might well stay under the bound on this machine.
loop_max_us below is the sharper figure.

The telemetry command /sluice/control ({"loops": n, "loop_max_us": n}: the longest
control-loop iteration since start, not counting the wait in poll) is read after the dump:
loop_max_us must be below LOOP_BOUND_US (150 ms), the bound this test states for a stall of
the control loop.

After that, test_sessions_drain_after_clients_exit closes the hold clients (one at a time:
each closes its ~16 700 connections at once) and checks that the frontend and backend
sessions drain to 0 within DRAIN_TIMEOUT_S, as test_proxy_failures.py does.

The TAP devices' kernel queues (txqueuelen, 1000 packets) are raised to TAP_QLEN for this
module, and the hold clients are started and closed one after the other. With the defaults
(six clients at once, 6 000 connects in flight), the client-side TAP dropped SYNs and the
last sessions came up after 70 s of SYN retransmissions; 100 000 FINs sent at once were
mostly dropped there, and after two minutes 11 000 sessions were still open in Sluice,
their clients' FIN retransmissions given up. As done here, the ramp takes 25-35 s and the
drain 11-13 s for 100 000 sessions; the drain still costs about one retransmitted FIN
(tcp_rto_expired) and one reset (tcp_out_rsts, tcp_syncookies_failed) per session,
apparently because the clients' ACKs wait in the TAP queue longer than Sluice's 200 ms
minimum RTO (none of these with 900 sessions).

Measured figures (dump duration, lines, gaps, show info latency, loop_max_us, ramp and drain
times) are printed, so they appear with `pytest -s` and with `-rA`.
"""

import os
import re
import selectors
import socket
import subprocess
import tempfile
import threading
import time

import pytest

import telemetry
from conftest import NS_CLIENT, NS_SERVER, PREFIX, ROOT, STATE_DIR, run
from conftest import admin_cli as cli
from conftest import stat_scur as scur

TESTBED_CONFIG = "tests/fixtures/show-sess-scale.cfg"
N = int(os.environ.get("SLUICE_SHOW_SESS_SESSIONS", "100000"))
LOADGEN = os.environ.get("SLUICE_LOADGEN") or os.path.join(
    ROOT, "build", "release", "bench", "loadgen", "sl-loadgen")
SOCK = os.path.join(STATE_DIR, "admin.sock")

FRONTEND, BACKEND = "fe_scale", "be_scale"
FRONT_ADDR, FRONT_PORTS = "10.10.1.1", range(8080, 8086)
SERVER_ADDR, SERVER_PORTS = "10.10.2.11", range(9001, 9007)
SERVERS = {f"s{i}" for i in range(1, 7)}
CLIENT_ADDR = "10.10.1.2"

CLIENTS = 300           # concurrent `show info` clients during the dump
PACE_S = 0.02           # each client's pause between an answer and its next request
WARMUP_S = 1.0          # show info load before the dump starts
COOLDOWN_S = 1.0        # and after it ends
STALL_BOUND_S = 0.5     # longest gap between two answers to one client, longest show info
                        # latency, longest control-loop iteration (see the module docstring)
DUMP_TIMEOUT_S = 60     # socat's whole `show sess`
CONNECT_TIMEOUT_S = 30  # connecting the show info clients
RAMP_TIMEOUT_S = 30 + N / 1000   # all hold clients (~3 000 sessions/s here), 1/6 + 30 s each
DRAIN_TIMEOUT_S = 60
TAP_QLEN = 100000

# The longest control-loop iteration (/sluice/control loop_max_us, since start) may take.
# Measured 13-97 ms at 100 000 sessions (the high end with a compiler on the same cores):
# the dump renders at most 64 x 16 KiB of lines per client per iteration. Gathering every
# slice in one blocking step would take the whole dump's 170-420 ms in one iteration.
LOOP_BOUND_US = 150_000

SHORT_LINE = re.compile(
    r"^(0x[0-9a-f]+): proto=tcpv4 src=" + re.escape(CLIENT_ADDR) + r":(\d+) "
    r"fe=" + FRONTEND + " be=" + BACKEND + r" srv=(s[1-6]) age=(\S+)$")


def shares(n, k):
    """n split into k near-equal parts."""
    return [n // k + (1 if i < n % k else 0) for i in range(k)]


def quantile(values, q):
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))]


def read_line(proc, timeout):
    """One line of proc's stdout within timeout ('' on EOF or timeout)."""
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    try:
        if not sel.select(timeout):
            return ""
        return proc.stdout.readline()
    finally:
        sel.close()


def notable_counters(tb):
    """The worker counters that tell how hard the testbed was on TCP: drops, retransmissions,
    SYN cookies, resets (printed, not asserted)."""
    words = ("_drop_", "retrans", "rto_", "syncookies", "rsts", "resets", "timeouts")
    return {k: v for k, v in tb.counters().items() if v and any(w in k for w in words)}


def listening_ports(ns):
    out = run(["ip", "netns", "exec", ns, "ss", "-Hltn"]).stdout
    return {int(m.group(1)) for m in re.finditer(r":(\d+)\s", out)}


class Load:
    """The serve and hold processes; stop() ends whatever is still running."""

    def __init__(self):
        self.serves = []
        self.holds = []  # (port, count, Popen, stderr file)
        self.ramp_s = 0.0
        self.testbed = None

    def start_servers(self):
        for port in SERVER_PORTS:
            self.serves.append(subprocess.Popen(
                ["ip", "netns", "exec", NS_SERVER, LOADGEN, "serve",
                 "--listen", f"{SERVER_ADDR}:{port}"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
        deadline = time.monotonic() + 10
        while not set(SERVER_PORTS) <= listening_ports(NS_SERVER):
            for p in self.serves:
                assert p.poll() is None, f"sl-loadgen serve exited: {p.stderr.read()}"
            assert time.monotonic() < deadline, "sl-loadgen serve does not listen"
            time.sleep(0.05)

    def start_clients(self, n):
        t0 = time.monotonic()
        for port, count in zip(FRONT_PORTS, shares(n, len(FRONT_PORTS))):
            if count == 0:
                continue
            err = tempfile.TemporaryFile()
            p = subprocess.Popen(
                ["ip", "netns", "exec", NS_CLIENT, LOADGEN, "hold",
                 "--target", f"{FRONT_ADDR}:{port}", "--conns", str(count)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, text=True)
            self.holds.append((port, count, p, err))
            line = read_line(p, RAMP_TIMEOUT_S / len(FRONT_PORTS) + 30)
            if line.split() != ["ready", str(count)]:
                err.seek(0)
                raise AssertionError(
                    f"sl-loadgen hold to port {port} not ready after "
                    f"{time.monotonic() - t0:.1f} s: {line!r} {err.read().decode()!r}\n"
                    f"{FRONTEND} scur {scur(FRONTEND, 'FRONTEND')}\n" + cli("show activity"))
        self.ramp_s = time.monotonic() - t0

    def close_clients(self, expected, timeout):
        """EOF to each hold client in turn (it closes its connections and exits); waits
        until the frontend is down to the sessions of the clients still open. Returns
        (seconds, frontend scur at the end)."""
        t0 = time.monotonic()
        left = expected
        deadline = t0 + timeout
        for port, count, p, err in self.holds:
            p.stdin.close()
            p.wait(30)
            left -= count
            while scur(FRONTEND, "FRONTEND") > left and time.monotonic() < deadline:
                time.sleep(0.2)
        while time.monotonic() < deadline and (scur(FRONTEND, "FRONTEND") or
                                               scur(BACKEND, "BACKEND")):
            time.sleep(0.2)
        return time.monotonic() - t0, scur(FRONTEND, "FRONTEND")

    def hold_errors(self):
        out = []
        for port, _, p, err in self.holds:
            err.seek(0)
            text = err.read().decode(errors="replace").strip()
            if text or p.returncode not in (0, None):
                out.append(f"hold :{port} rc={p.returncode} {text}")
        return out

    def stop(self):
        for _, _, p, err in self.holds:
            if p.poll() is None:
                p.kill()
            p.wait()
            err.close()
        for p in self.serves:
            if p.poll() is None:
                p.kill()
            p.wait()


@pytest.fixture(scope="module")
def held(testbed):
    """N idle proxied sessions, held by the hold clients until
    test_sessions_drain_after_clients_exit closes them."""
    assert os.access(LOADGEN, os.X_OK), \
        f"no sl-loadgen at {LOADGEN}: build it (scripts/build) or set SLUICE_LOADGEN"
    for ns, dev in ((NS_CLIENT, "sl-tap-c"), (NS_SERVER, "sl-tap-s")):
        run(["ip", "-n", ns, "link", "set", dev, "txqueuelen", str(TAP_QLEN)])
    load = Load()
    try:
        load.start_servers()
        load.start_clients(N)
        deadline = time.monotonic() + 30
        while scur(FRONTEND, "FRONTEND") < N and time.monotonic() < deadline:
            time.sleep(0.2)
        fe = scur(FRONTEND, "FRONTEND")
        assert fe == N, f"{fe} sessions on {FRONTEND}, want {N}\n" + cli("show activity")
        assert scur(BACKEND, "BACKEND") == N, cli("show stat")
        info = dict(re.findall(r"^(\w+): (.*)$", cli("show info"), re.M))
        print(f"\n[show-sess-scale] {N} sessions held after {load.ramp_s:.1f} s "
              f"(CurrConns {info.get('CurrConns')}, PoolUsed_MB {info.get('PoolUsed_MB')}"
              f"/{info.get('PoolAlloc_MB')}); counters {notable_counters(testbed)}")
        load.testbed = testbed
        yield load
    finally:
        load.stop()


class ShowInfoClients:
    """CLIENTS prompt-mode connections asking `show info` in one selector loop (see the
    module docstring for why one loop). Records, per client, the time of every answer and
    the latency of every request."""

    def __init__(self, n):
        self.n = n
        self.answers = [[] for _ in range(n)]    # monotonic time of each answer
        self.latency = [[] for _ in range(n)]    # (sent, answered)
        self.pending = [None] * n                # time the outstanding request was sent
        self.errors = []
        self.stop_event = threading.Event()
        self.started = threading.Event()
        self.t_start = self.t_stop = None
        self.connect_s = None                    # connecting them and entering prompt mode
        self.connect_retries = 0                 # connects refused with EAGAIN (backlog full)
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self.thread.start()
        assert self.started.wait(60), "show info clients did not start"
        assert not self.errors, self.errors[:5]
        return self

    def __exit__(self, *exc):
        self.stop_event.set()
        self.thread.join(30)

    def _connect(self, deadline):
        """A connection to the stats socket. An AF_UNIX connect fails with EAGAIN while the
        listen backlog (128) is full, that is until the control loop accepts: retried."""
        while True:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                s.connect(SOCK)
                return s
            except BlockingIOError:
                s.close()
                self.connect_retries += 1
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.001)

    def _run(self):
        sel = selectors.DefaultSelector()
        socks, bufs, next_send = [], [], []
        try:
            t0 = time.monotonic()
            for i in range(self.n):
                socks.append(self._connect(t0 + CONNECT_TIMEOUT_S))
                socks[-1].sendall(b"prompt\n")
            for i, s in enumerate(socks):
                buf = b""
                while not buf.endswith(b"\n> "):
                    chunk = s.recv(65536)
                    if not chunk:
                        raise OSError(f"client {i}: closed after prompt")
                    buf += chunk
                s.setblocking(False)
                bufs.append(b"")
                next_send.append(0.0)
                sel.register(s, selectors.EVENT_READ, i)
            self.connect_s = time.monotonic() - t0
        except OSError as e:
            self.errors.append(f"connecting {len(socks)} clients: {e}")
            self.started.set()
            for s in socks:
                s.close()
            return
        self.t_start = time.monotonic()
        self.started.set()
        try:
            while not self.stop_event.is_set():
                now = time.monotonic()
                for i, s in enumerate(socks):
                    if self.pending[i] is None and now >= next_send[i]:
                        try:
                            s.send(b"show info\n")  # 10 bytes: always fits the socket buffer
                        except OSError as e:
                            self.errors.append(f"client {i}: send: {e}")
                            next_send[i] = float("inf")
                            continue
                        self.pending[i] = now
                wake = min((t for i, t in enumerate(next_send) if self.pending[i] is None),
                           default=now + 0.05)
                timeout = max(0.0, min(wake - time.monotonic(), 0.05))
                for key, _ in sel.select(timeout):
                    i = key.data
                    try:
                        chunk = socks[i].recv(65536)
                    except BlockingIOError:
                        continue
                    except OSError as e:
                        chunk = b""
                        self.errors.append(f"client {i}: recv: {e}")
                    if not chunk:
                        self.errors.append(f"client {i}: connection closed by Sluice")
                        sel.unregister(socks[i])
                        next_send[i] = float("inf")
                        continue
                    bufs[i] += chunk
                    if bufs[i].endswith(b"\n> "):
                        t = time.monotonic()
                        if b"Uptime_sec:" not in bufs[i]:
                            self.errors.append(f"client {i}: odd answer {bufs[i][:200]!r}")
                        bufs[i] = b""
                        self.answers[i].append(t)
                        self.latency[i].append((self.pending[i], t))
                        self.pending[i] = None
                        next_send[i] = t + PACE_S
        finally:
            self.t_stop = time.monotonic()
            sel.close()
            for s in socks:
                s.close()

    def stats(self, d0, d1):
        """Per-client figures over the dump [d0, d1]: the longest gap between consecutive
        answers among the gaps that overlap the dump (a client's last answer is followed by
        the end of the run, its first preceded by the start), answers inside the dump, and
        the latencies of the requests that were in flight at some point during the dump (a
        request never answered counts up to the end of the run)."""
        per_client = []
        latencies = []
        for i in range(self.n):
            times = [self.t_start] + self.answers[i] + [self.t_stop]
            gap = max(b - a for a, b in zip(times, times[1:]) if b >= d0 and a <= d1)
            inside = sum(1 for t in self.answers[i] if d0 <= t <= d1)
            lat = [b - a for a, b in self.latency[i] if a <= d1 and b >= d0]
            if self.pending[i] is not None and self.pending[i] <= d1:
                lat.append(self.t_stop - self.pending[i])
            latencies += lat
            per_client.append((gap, inside, max(lat, default=0.0)))
        return per_client, latencies


def control_telemetry():
    """/sluice/control, or None when Sluice does not have the command yet."""
    with telemetry.wait_for_socket(PREFIX, timeout=10) as t:
        value = t.query("/sluice/control")
    return value if isinstance(value, dict) else None


def parse_show_sess(text):
    """show sess's answer: its session lines, whether the empty line ends it, the lines not
    in the short form, the session ids and the sessions per server."""
    ended = text.endswith("\n\n")
    body = text[:-1] if ended else text
    lines = body.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    bad, ids, per_server = [], [], {}
    for line in lines:
        m = SHORT_LINE.match(line)
        if not m:
            bad.append(line)
            continue
        ids.append(m.group(1))
        per_server[m.group(3)] = per_server.get(m.group(3), 0) + 1
    return {"lines": lines, "ended": ended, "bad": bad, "ids": ids, "per_server": per_server}


def show_sess_problems(sess, n, text):
    problems = []
    if not sess["ended"]:
        problems.append(f"show sess's answer does not end with an empty line: {text[-200:]!r}")
    if sess["bad"]:
        problems.append(f"{len(sess['bad'])} lines not in the short form, first "
                        f"{sess['bad'][:3]}")
    if len(sess["lines"]) != n:
        problems.append(f"show sess printed {len(sess['lines'])} sessions, want {n}")
    if len(set(sess["ids"])) != len(sess["ids"]):
        problems.append(f"{len(sess['ids']) - len(set(sess['ids']))} duplicate session ids")
    if len(sess["lines"]) == n and n >= len(SERVERS) and set(sess["per_server"]) != SERVERS:
        problems.append(f"sessions per server {sess['per_server']}: every server of "
                        f"{BACKEND} expected")
    return problems


def ms(seconds):
    return f"{seconds * 1e3:.1f} ms"


def test_show_sess_lists_every_session_without_stalling_the_cli(held):
    assert scur(FRONTEND, "FRONTEND") == N
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        with ShowInfoClients(CLIENTS) as clients:
            time.sleep(WARMUP_S)
            d0 = time.monotonic()
            p = subprocess.Popen(["socat", "-t", "30", "stdio", f"unix-connect:{SOCK}"],
                                 stdin=subprocess.PIPE, stdout=out, stderr=err)
            p.stdin.write(b"show sess\n")
            p.stdin.close()
            try:
                rc = p.wait(DUMP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                p.kill()
                rc = p.wait()
            d1 = time.monotonic()
            time.sleep(COOLDOWN_S)
        out.seek(0)
        text = out.read().decode(errors="replace")
        err.seek(0)
        socat_err = err.read().decode(errors="replace").strip()
    control = control_telemetry()
    sess = parse_show_sess(text)
    per_client, latencies = clients.stats(d0, d1)
    max_gap = max(g for g, _, _ in per_client)
    max_lat = max(latencies, default=0.0)
    answered_inside = sum(1 for _, inside, _ in per_client if inside > 0)
    # The same figures before the dump, for comparison: what the load alone costs.
    base_clients, base_lat = clients.stats(clients.t_start + PACE_S, d0 - PACE_S)
    loop_max_us = control.get("loop_max_us") if control else None

    print(f"\n[show-sess-scale] N={N}: show sess took {d1 - d0:.3f} s: {len(sess['lines'])} "
          f"lines, {len(set(sess['ids']))} distinct ids, {len(sess['bad'])} malformed, "
          f"ends with the empty line: {sess['ended']}, {len(text)} bytes, socat rc {rc}; "
          f"per server {dict(sorted(sess['per_server'].items()))}")
    print(f"[show-sess-scale] {CLIENTS} show info clients (connected in "
          f"{clients.connect_s:.2f} s with {clients.connect_retries} EAGAIN retries; "
          f"{sum(len(a) for a in clients.answers)} answers in "
          f"{clients.t_stop - clients.t_start:.1f} s); during the dump: {answered_inside} "
          f"clients answered, max gap {ms(max_gap)}, latency p50 "
          f"{ms(quantile(latencies, 0.5))} p99 {ms(quantile(latencies, 0.99))} max "
          f"{ms(max_lat)} ({len(latencies)} requests); before it: max gap "
          f"{ms(max(g for g, _, _ in base_clients))}, latency p50 "
          f"{ms(quantile(base_lat, 0.5))} p99 {ms(quantile(base_lat, 0.99))} max "
          f"{ms(max(base_lat, default=0.0))}; bound {ms(STALL_BOUND_S)}")
    if control is None:
        print("[show-sess-scale] /sluice/control: not in this binary (loop_max_us not checked)")
    else:
        print(f"[show-sess-scale] /sluice/control: {control}")

    problems = []
    if rc != 0:
        problems.append(f"socat exited {rc}: {socat_err}")
    if clients.errors:
        problems.append(f"show info clients: {len(clients.errors)} errors, first "
                        f"{clients.errors[:5]}")
    slow = [(i, round(g, 3)) for i, (g, _, _) in enumerate(per_client) if g >= STALL_BOUND_S]
    if slow:
        problems.append(f"{len(slow)} of {CLIENTS} show info clients waited {STALL_BOUND_S} s "
                        f"or more between two answers during the dump (client, longest gap "
                        f"in s): {slow[:10]}")
    if max_lat >= STALL_BOUND_S:
        problems.append(f"a show info answer took {max_lat:.3f} s during the dump "
                        f"(bound {STALL_BOUND_S} s)")
    # ---- /sluice/control -----------------------------------------------------------------
    if control is None:
        problems.append("telemetry /sluice/control is missing")
    elif not isinstance(loop_max_us, (int, float)) or loop_max_us >= LOOP_BOUND_US:
        problems.append(f"/sluice/control loop_max_us {loop_max_us}: a control-loop "
                        f"iteration took {LOOP_BOUND_US} us or more")
    problems += show_sess_problems(sess, N, text)
    # Dumping changed nothing: the sessions are all still there.
    fe_after = scur(FRONTEND, "FRONTEND")
    if fe_after != N:
        problems.append(f"{fe_after} sessions after the dump, want {N}")
    assert not problems, "\n".join(problems)


def test_sessions_drain_after_clients_exit(held):
    seconds, fe = held.close_clients(N, DRAIN_TIMEOUT_S)
    be = scur(BACKEND, "BACKEND")
    info = dict(re.findall(r"^(\w+): (.*)$", cli("show info"), re.M))
    print(f"\n[show-sess-scale] hold clients closed, sessions drained to {fe} (backend {be}) "
          f"in {seconds:.1f} s; CurrConns {info.get('CurrConns')} "
          f"(server-side connections in TIME_WAIT); counters {notable_counters(held.testbed)}")
    assert fe == 0 and be == 0, (
        f"{fe} frontend and {be} backend sessions left {DRAIN_TIMEOUT_S} s after the clients "
        f"closed\n" + cli("show stat") + cli("show activity"))
    problems = held.hold_errors()
    assert not problems, problems
    assert not re.search(r"fe=" + FRONTEND, cli("show sess"))
