"""The proxy with two workers (DESIGN.md section 2): clients owned by either worker, server
connections from local ports their worker owns, checks split between the workers, and the
statistics summed. Client addresses 10.10.1.3 (worker 0) and 10.10.1.4 (worker 1) are added
in sl-client for the test."""

import json
import os
import subprocess
import time

import pytest

from conftest import NS_CLIENT, NS_SERVER, ROOT, STATE_DIR, run

TESTBED_CONFIG = "tests/fixtures/proxy-tcp-2workers.cfg"
TOOLS = os.path.join(ROOT, "tests/integration/tools")
SOCK = os.path.join(STATE_DIR, "admin.sock")
SERVERS = {"s1": "10.10.2.11", "s2": "10.10.2.12", "s3": "10.10.2.13"}
CLIENTS = ("10.10.1.3", "10.10.1.4")


def cli(cmd):
    p = subprocess.run(["socat", "-t", "5", "stdio", f"unix-connect:{SOCK}"], input=cmd + "\n",
                       capture_output=True, text=True, timeout=30, check=True)
    return p.stdout


def client(src, *args):
    p = run(["ip", "netns", "exec", NS_CLIENT, "env", f"PROXY_CLIENT_SRC={src}",
             "/usr/bin/python3", os.path.join(TOOLS, "proxy_client.py"), *map(str, args)],
            timeout=600)
    return json.loads(p.stdout.strip().splitlines()[-1])


def stat(px, sv, col):
    lines = cli("show stat").splitlines()
    header = lines[0][2:].split(",")
    for l in lines[1:]:
        f = l.split(",")
        if f[:2] == [px, sv]:
            return f[header.index(col)]
    raise AssertionError(f"{px}/{sv} not in show stat")


@pytest.fixture(scope="module")
def setup(testbed):
    for a in CLIENTS:
        run(["ip", "netns", "exec", NS_CLIENT, "ip", "addr", "add", f"{a}/24", "dev", "sl-tap-c"])
    procs = [subprocess.Popen(["ip", "netns", "exec", NS_SERVER, "/usr/bin/python3",
                               os.path.join(TOOLS, "backend.py"), addr, "9000", name],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for name, addr in SERVERS.items()]
    for p in procs:
        assert p.stdout.readline().strip() == "ready"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(stat("be_app", s, "status") != "UP" for s in SERVERS):
        time.sleep(0.2)
    yield
    for p in procs:
        p.kill()
        p.wait()


def test_clients_of_both_workers_spread_by_weight(setup, testbed):
    with testbed.telemetry() as t:
        before = [t.worker(w).get("tcp_passive_opens", 0) for w in (0, 1)]
    totals = {}
    for src in CLIENTS:
        got = client(src, "spread", "10.10.1.1", 8080, 1200)
        assert got["errors"] == 0, got
        # Each worker balances its own connections: exact weights per worker.
        assert got["names"] == {"s1": 600, "s2": 400, "s3": 200}, got
        for k, v in got["names"].items():
            totals[k] = totals.get(k, 0) + v
    with testbed.telemetry() as t:
        after = [t.worker(w).get("tcp_passive_opens", 0) for w in (0, 1)]
        mismatch = sum(t.worker(w).get("owner_mismatch", 0) for w in (0, 1))
    assert after[0] - before[0] >= 1200 and after[1] - before[1] >= 1200, (before, after)
    assert mismatch == 0
    for name, n in totals.items():
        assert int(stat("be_app", name, "stot")) >= n


def test_bulk_from_each_worker(setup):
    for src in CLIENTS:
        got = client(src, "echo", "10.10.1.1", 8080, 20_000_000)
        assert got["ok"], got


def test_nothing_left_behind(setup):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and stat("be_app", "BACKEND", "scur") != "0":
        time.sleep(0.2)
    assert stat("fe_main", "FRONTEND", "scur") == "0"
    assert stat("be_app", "BACKEND", "scur") == "0"


def test_show_and_shutdown_sessions_of_both_workers(setup):
    """show sess gathers the sessions of both workers through the request/reply rings;
    shutdown session reaches the worker that owns the id, and only that session ends."""
    import re
    import threading
    results = {}

    def hold(src):
        results[src] = client(src, "hold", "10.10.1.1", 8080, 4)

    threads = [threading.Thread(target=hold, args=(src,)) for src in CLIENTS]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 5
    sess = {}
    while time.monotonic() < deadline and len(sess) < 2:
        sess = {src: sid for sid, src in re.findall(
            r"^(0x[0-9a-f]+): proto=tcpv4 src=(10\.10\.1\.[34]):\d+ fe=fe_main be=be_app",
            cli("show sess"), re.M)}
        time.sleep(0.1)
    assert set(sess) == set(CLIENTS), cli("show sess")
    # Each id names its worker: the detailed form comes from that worker alone.
    for src, sid in sess.items():
        assert f" source={src}:" in cli(f"show sess {sid}").splitlines()[0]
    assert cli("shutdown session 0x7fffffff0") == "No such session (use 'show sess').\n\n"
    for sid in sess.values():
        assert cli(f"shutdown session {sid}") == "\n"
    for t in threads:
        t.join()
    assert all(r["closed_early"] for r in results.values()), results
