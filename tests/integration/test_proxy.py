"""The TCP-mode proxy through the testbed (issue 4): real Linux clients in sl-client, real
backends (tools/backend.py) on 10.10.2.11-13:9000 in sl-server, driven live through the
stats socket as an operator would, with socat.

examples/proxy-tcp.cfg: fe_main on 10.10.1.1:8080 and [fd10:1::1]:8080, be_app roundrobin
with s1/s2/s3 weighted 3/2/1, checks every second, rise 2, fall 3."""

import json
import os
import re
import subprocess
import threading
import time

import pytest

from conftest import NS_CLIENT, NS_SERVER, ROOT, STATE_DIR, Syslog, run

TESTBED_CONFIG = "examples/proxy-tcp.cfg"
TOOLS = os.path.join(ROOT, "tests/integration/tools")
SOCK = os.path.join(STATE_DIR, "admin.sock")
SERVERS = {"s1": "10.10.2.11", "s2": "10.10.2.12", "s3": "10.10.2.13"}
SPREAD = int(os.environ.get("SLUICE_PROXY_SPREAD", "10000"))


def cli(cmd):
    p = subprocess.run(["socat", "-t", "5", "stdio", f"unix-connect:{SOCK}"], input=cmd + "\n",
                       capture_output=True, text=True, timeout=30, check=True)
    return p.stdout


def client(mode, host, port, arg, timeout=600):
    p = run(["ip", "netns", "exec", NS_CLIENT, "/usr/bin/python3",
             os.path.join(TOOLS, "proxy_client.py"), mode, host, str(port), str(arg)],
            check=False, timeout=timeout)
    lines = p.stdout.strip().splitlines()
    assert lines, p.stdout + p.stderr
    return json.loads(lines[-1])


def stat_rows():
    """show stat as {(pxname, svname): {column: value}}."""
    out = cli("show stat")
    lines = [l for l in out.split("\n") if l]
    header = lines[0][2:].split(",")
    rows = {}
    for l in lines[1:]:
        f = l.split(",")
        rows[(f[0], f[1])] = dict(zip(header, f))
    return rows


def status(server):
    return stat_rows()[("be_app", server)]["status"]


def wait_status(server, want, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if status(server) == want:
            return True
        time.sleep(0.2)
    return False


class Backends:
    def __init__(self):
        self.procs = {}

    def start(self, name):
        p = subprocess.Popen(
            ["ip", "netns", "exec", NS_SERVER, "/usr/bin/python3",
             os.path.join(TOOLS, "backend.py"), SERVERS[name], "9000", name],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert p.stdout.readline().strip() == "ready"
        self.procs[name] = p

    def stop(self, name):
        p = self.procs.pop(name)
        p.kill()
        p.wait()

    def stop_all(self):
        for name in list(self.procs):
            self.stop(name)


@pytest.fixture(scope="module")
def backends(testbed):
    b = Backends()
    for name in SERVERS:
        b.start(name)
    for name in SERVERS:
        assert wait_status(name, "UP"), cli("show stat")
    yield b
    b.stop_all()


@pytest.fixture(scope="module")
def syslog(testbed):
    s = Syslog()
    yield s
    s.close()


TCPLOG = re.compile(
    r"^<134>\w{3} [ \d]\d \d\d:\d\d:\d\d sluice\[\d+\]: "
    r"10\.10\.1\.2:(\d+) \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d\.\d{3}\] fe_main "
    r"be_app/(s[123]) (-?\d+)/(-?\d+)/(\d+) (\d+) (..) \d+/\d+/\d+/\d+/\+?\d+ \d+/\d+$")


def test_tcplog_lines_reach_syslog(backends, syslog):
    syslog.drain()
    got = client("spread", "10.10.1.1", 8080, 6)
    lines = syslog.lines(6)
    assert len(lines) == 6, lines
    names = {}
    for l in lines:
        m = TCPLOG.match(l)
        assert m, l
        _, server, tw, tc, tt, nbytes, term = m.groups()
        assert term == "--" and int(tc) >= 0 and int(tt) >= int(tc), l
        assert int(nbytes) == 3, l  # the name line "sN\n" went server -> client
        names[server] = names.get(server, 0) + 1
    assert names == got["names"], (names, got)


def test_show_stat_shape(backends):
    out = cli("show stat")
    lines = [l for l in out.split("\n") if l]
    want = lines[0].count(",")
    assert lines[0].startswith("# pxname,svname,qcur,qmax,scur,smax,slim,stot,")
    for l in lines[1:]:
        assert l.count(",") == want, l
    names = [tuple(l.split(",")[:2]) for l in lines[1:]]
    assert names == [("fe_main", "FRONTEND"), ("be_app", "s1"), ("be_app", "s2"),
                     ("be_app", "s3"), ("be_app", "BACKEND")]
    state = cli("show servers state be_app").split("\n")
    assert state[0] == "1"
    assert state[1].startswith("# be_id be_name srv_id srv_name srv_addr srv_op_state")
    assert re.match(r"\d+ be_app 1 s1 10\.10\.2\.11 2 0 3 3 ", state[2]), state[2]


@pytest.mark.sanitizer
def test_weights_spread_connections(backends):
    got = client("spread", "10.10.1.1", 8080, SPREAD)
    assert got["errors"] == 0, got
    total = sum(got["names"].values())
    assert total == SPREAD
    for name, weight in (("s1", 3), ("s2", 2), ("s3", 1)):
        share = got["names"].get(name, 0) / total
        assert abs(share - weight / 6) <= 0.02, got


def test_ipv6_frontend(backends):
    got = client("echo", "fd10:1::1", 8080, 1_000_000)
    assert got["ok"], got


@pytest.mark.sanitizer
def test_drain_maint_ready(backends):
    assert cli("set server be_app/s1 state drain") == "\n"
    assert status("s1") == "DRAIN"
    got = client("spread", "10.10.1.1", 8080, 60)
    assert got["errors"] == 0 and "s1" not in got["names"], got
    assert cli("set server be_app/s2 state maint") == "\n"
    assert status("s2") == "MAINT"
    got = client("spread", "10.10.1.1", 8080, 30)
    assert got["names"] == {"s3": 30}, got
    cli("set server be_app/s1 state ready")
    cli("set server be_app/s2 state ready")
    assert wait_status("s1", "UP") and wait_status("s2", "UP")
    got = client("spread", "10.10.1.1", 8080, 60)
    assert got["names"] == {"s1": 30, "s2": 20, "s3": 10}, got


def test_weight_changes_live(backends):
    assert cli("set server be_app/s3 weight 0") == "\n"
    assert cli("get weight be_app/s3") == "0 (initial 1)\n\n"
    got = client("spread", "10.10.1.1", 8080, 50)
    assert "s3" not in got["names"], got
    cli("set server be_app/s3 weight 1")
    assert cli("get weight be_app/s3") == "1 (initial 1)\n\n"


def test_killed_backend_goes_down_then_up(backends, testbed, syslog):
    syslog.drain()
    backends.stop("s3")
    assert wait_status("s3", "DOWN", timeout=15), cli("show stat")
    row = stat_rows()[("be_app", "s3")]
    assert row["check_status"] == "L4CON" and row["check_desc"] == "Layer4 connection problem"
    got = client("spread", "10.10.1.1", 8080, 50)
    assert got["errors"] == 0 and "s3" not in got["names"], got
    backends.start("s3")
    assert wait_status("s3", "UP", timeout=15), cli("show stat")
    log = testbed.read_log()
    assert "Server be_app/s3 is DOWN, reason: Layer4 connection problem" in log
    assert "Server be_app/s3 is UP, reason: Layer4 check passed" in log
    # The same lines reach the backend's syslog target: local0.alert (129), local0.notice (133).
    sent = syslog.lines(10**6, timeout=1)
    assert any(l.startswith("<129>") and "Server be_app/s3 is DOWN" in l for l in sent), sent
    assert any(l.startswith("<133>") and "Server be_app/s3 is UP" in l for l in sent), sent


def test_disable_enable_frontend(backends):
    assert cli("disable frontend fe_main") == "\n"
    assert stat_rows()[("fe_main", "FRONTEND")]["status"] == "STOP" or \
        stat_rows()[("fe_main", "FRONTEND")]["status"] == "PAUSED"
    time.sleep(0.2)
    got = client("spread", "10.10.1.1", 8080, 5)
    assert got["errors"] == 5 and "refused" in got["first_error"].lower(), got
    assert cli("enable frontend fe_main") == "\n"
    time.sleep(0.2)
    got = client("spread", "10.10.1.1", 8080, 5)
    assert got["errors"] == 0, got


def test_shutdown_session_kills_exactly_one(backends, syslog):
    syslog.drain()
    results = {}

    def hold(i):
        results[i] = client("hold", "10.10.1.1", 8080, 4)

    threads = [threading.Thread(target=hold, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 5
    sess = []
    while time.monotonic() < deadline and len(sess) < 2:
        sess = re.findall(r"^(0x[0-9a-f]+): proto=tcpv4 src=10\.10\.1\.2:(\d+) fe=fe_main",
                          cli("show sess"), re.M)
        time.sleep(0.1)
    assert len(sess) == 2, cli("show sess")
    assert cli(f"shutdown session {sess[0][0]}") == "\n"
    for t in threads:
        t.join()
    early = sorted(r["closed_early"] for r in results.values())
    assert early == [False, True], results
    # The killed session is logged with HAProxy's K (killed by the admin) and, as HAProxy 2.6
    # logs a session killed while data flows, no phase: `K-`.
    killed = [l for l in syslog.lines(2) if f"10.10.1.2:{sess[0][1]} " in l]
    assert len(killed) == 1 and " K- " in killed[0], killed


def test_maxconn_queues_and_serves(backends):
    for s in SERVERS:
        cli(f"set maxconn server be_app/{s} 1")
    results = {}

    # Each holder keeps its server 1.5 s; the two queued wait for one, well within `timeout
    # queue` (here `timeout connect`, 2 s, counted from when they were queued: a hold of 2 s
    # raced it).
    def hold(i):
        results[i] = client("hold", "10.10.1.1", 8080, 1.5)

    threads = [threading.Thread(target=hold, args=(i,)) for i in range(5)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 1.2
    be = stat_rows()[("be_app", "BACKEND")]
    while be["qcur"] != "2" and time.monotonic() < deadline:
        time.sleep(0.05)
        be = stat_rows()[("be_app", "BACKEND")]
    assert be["qcur"] == "2", be
    for t in threads:
        t.join()
    for s in SERVERS:
        cli(f"set maxconn server be_app/{s} 0")
    assert len(results) == 5 and all(r["name"] in SERVERS for r in results.values()), results
    assert int(stat_rows()[("be_app", "BACKEND")]["qmax"]) >= 2


def test_rates_and_rate_limit(backends):
    client("spread", "10.10.1.1", 8080, 200)
    fe = stat_rows()[("fe_main", "FRONTEND")]
    assert int(fe["rate_max"]) > 0 and int(fe["conn_rate_max"]) > 0, fe
    assert int(stat_rows()[("be_app", "BACKEND")]["rate_max"]) > 0
    info = cli("show info")
    assert re.search(r"^MaxConnRate: [1-9]", info, re.M), info
    # 5 connections per second: a burst of 40 mostly refused, then back to normal.
    assert cli("set rate-limit connections global 5") == "\n"
    assert re.search(r"^ConnRateLimit: 5$", cli("show info"), re.M)
    time.sleep(1.1)
    got = client("spread", "10.10.1.1", 8080, 40)
    assert 5 <= sum(got["names"].values()) <= 15 and got["errors"] >= 25, got
    assert cli("set rate-limit connections global 0") == "\n"
    got = client("spread", "10.10.1.1", 8080, 40)
    assert got["errors"] == 0, got
    # Each limit kept apart as HAProxy keeps them (transcripts 45-45f); the lower of the
    # connection and session limits applies to new connections.
    for cmd in ("sessions global 1000", "connections global 2000", "ssl-sessions global 100",
                "http-compression global 1024"):
        assert cli(f"set rate-limit {cmd}") == "\n"
    limits = [l for l in cli("show info").splitlines() if "RateLim" in l]
    assert limits == ["ConnRateLimit: 2000", "SessRateLimit: 1000", "SslRateLimit: 100",
                      "CompressBpsRateLim: 1048576"], limits
    assert cli("set rate-limit sessions global 0") == "\n"
    assert cli("set rate-limit connections global 0") == "\n"


def test_clear_counters(backends):
    client("spread", "10.10.1.1", 8080, 12)
    rows = stat_rows()
    assert int(rows[("be_app", "BACKEND")]["stot"]) >= 12
    assert int(rows[("be_app", "BACKEND")]["smax"]) >= 1
    # Plain clear: maxima restart from the current values, totals stay.
    assert cli("clear counters") == "\n"
    rows = stat_rows()
    assert rows[("be_app", "BACKEND")]["smax"] == "0"
    assert int(rows[("be_app", "BACKEND")]["stot"]) >= 12
    # clear counters all: totals from zero, then counting again.
    assert cli("clear counters all") == "\n"
    rows = stat_rows()
    for key in (("fe_main", "FRONTEND"), ("be_app", "BACKEND"), ("be_app", "s1")):
        assert rows[key]["stot"] == "0" and rows[key]["bout"] == "0", (key, rows[key])
    client("spread", "10.10.1.1", 8080, 6)
    rows = stat_rows()
    assert rows[("be_app", "BACKEND")]["stot"] == "6"
    assert rows[("be_app", "s1")]["stot"] == "3"


def test_bulk_through_proxy(backends):
    got = client("echo", "10.10.1.1", 8080, 50_000_000, timeout=600)
    assert got["ok"], got


# Loss on the client side fills the proxy's buffers: both the client and the Linux server
# see their windows close, and the server's window closes with proxy data still in flight.
# This pins the two rules that keep it moving: pure ACKs stay inside the peer's window (AckSeq)
# and a retransmission timeout under a closed window becomes a window probe.
def test_bulk_through_proxy_with_loss(backends):
    """1% loss each way on both sides (nftables numgen: this kernel has no sch_netem)."""
    loss = os.environ.get("SLUICE_PROXY_LOSS_PERMILLE", "10")
    rules = [
        "add table inet sl_loss",
        "add chain inet sl_loss in { type filter hook input priority 0; }",
        "add chain inet sl_loss out { type filter hook output priority 0; }",
        f"add rule inet sl_loss in meta l4proto tcp numgen random mod 1000 < {loss} drop",
        f"add rule inet sl_loss out meta l4proto tcp numgen random mod 1000 < {loss} drop",
    ]
    for ns in (NS_CLIENT, NS_SERVER):
        for r in rules:
            run(["ip", "netns", "exec", ns, "nft", r])
    try:
        got = client("echo", "10.10.1.1", 8080,
                     int(os.environ.get("SLUICE_PROXY_BULK", str(500_000_000))), timeout=900)
    finally:
        for ns in (NS_CLIENT, NS_SERVER):
            run(["ip", "netns", "exec", ns, "nft", "delete table inet sl_loss"], check=False)
    assert got["ok"], got


def test_nothing_left_behind(backends):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        rows = stat_rows()
        if rows[("be_app", "BACKEND")]["scur"] == "0" and rows[("fe_main", "FRONTEND")]["scur"] == "0":
            break
        time.sleep(0.2)
    rows = stat_rows()
    assert rows[("fe_main", "FRONTEND")]["scur"] == "0", rows[("fe_main", "FRONTEND")]
    assert rows[("be_app", "BACKEND")]["scur"] == "0"
    for s in SERVERS:
        assert rows[("be_app", s)]["scur"] == "0"
    assert not re.search(r"fe=fe_main", cli("show sess"))
