"""A million real clients in the article's table (issue 15, docs/stick-tables.md): one TCP
connection from each of 1 000 000 addresses of the client namespace (10.128.0.0/12, local
there; the testbed routes them through the namespace), each tracked by `tcp-request
connection track-sc0 src` into `stick-table type ip size 1m expire 150s store
http_req_rate(10s),gpt0` (the article's table). Then: the table holds them all, the memory
it takes is reported, `show table` of the whole of it streams through socat while HTTP
requests flow (their longest wait and the workers' longest loop iteration are reported), and
expiry empties it with no command."""

import json
import os
import re
import socket
import subprocess
import time

import pytest

from conftest import NS_CLIENT, ROOT, STATE_DIR, run, config_file

N = int(os.environ.get("SLUICE_FILL_CLIENTS", 1_000_000))
BASE = "10.128.0.0"
VIP = "10.10.1.1"
EXPIRE_S = 150


def rss_kb():
    """The resident memory of the testbed's sluice, in KiB."""
    pid = run(["pgrep", "-f", "sluice -f " + TESTBED_CONFIG]).stdout.split()[0]
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+) kB", f.read()).group(1))


SECTIONS = """
defaults
    timeout connect 2s
    timeout client 30s
    timeout server 30s

frontend fe_main
    mode tcp
    bind 10.10.1.1:8090
    stick-table type ip size 1m expire %ds store http_req_rate(10s),gpt0
    tcp-request connection track-sc0 src
    tcp-request connection reject

frontend fe_web
    mode http
    bind 10.10.1.1:8080
    http-request return status 200 content-type text/plain string ok
""" % EXPIRE_S


TESTBED_CONFIG = config_file("stick-fill", SECTIONS, memory=1024,
                             dataplane_extra="    route 10.128.0.0/12 via 10.10.1.2\n")


@pytest.fixture(scope="module")
def fill_tb(testbed):
    run(["ip", "-n", NS_CLIENT, "route", "add", "local", BASE + "/12", "dev", "lo"], check=False)
    yield testbed
    run(["ip", "-n", NS_CLIENT, "route", "del", "local", BASE + "/12", "dev", "lo"], check=False)


def cli(cmd, timeout=60):
    with socket.socket(socket.AF_UNIX) as c:
        c.settimeout(timeout)
        c.connect(os.path.join(STATE_DIR, "admin.sock"))
        c.sendall(cmd.encode() + b"\n")
        chunks = []
        while True:
            b = c.recv(1 << 20)
            if not b:
                break
            chunks.append(b)
    return b"".join(chunks).decode()


def used():
    m = re.search(r"# table: fe_main, type: ip, size:1048576, used:(\d+)", cli("show table"))
    return int(m.group(1))


# Requests one after another on one keep-alive connection from the client namespace until
# the file STOP appears; prints how many and their median and longest times.
LOAD = r"""
import json, os, socket, sys, time
s = socket.create_connection((sys.argv[1], 8080), timeout=10)
req = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
waits = []
while not os.path.exists(sys.argv[2]):
    t0 = time.monotonic()
    s.sendall(req)
    got = b""
    while not got.endswith(b"ok"):
        got += s.recv(4096)
    waits.append(time.monotonic() - t0)
waits.sort()
print(json.dumps({"n": len(waits), "median_ms": round(waits[len(waits) // 2] * 1e3, 3),
                  "max_ms": round(waits[-1] * 1e3, 3)}))
"""
STOP = "/tmp/sluice-fill-load.stop"


def test_million_clients_fill_dump_and_expire(fill_tb):
    rss0 = rss_kb()
    p = subprocess.run(["ip", "netns", "exec", NS_CLIENT, "/usr/bin/python3",
                        os.path.join(ROOT, "tests/integration/tools/fill_clients.py"),
                        VIP, "8090", BASE, str(N), os.environ.get("SLUICE_FILL_WINDOW", "200")],
                       capture_output=True, text=True, timeout=EXPIRE_S - 20)
    assert p.returncode == 0, p.stderr
    fill = json.loads(p.stdout)
    filled_at = time.monotonic()
    print(f"\nfill: {fill}")
    assert fill["ok"] >= N * 0.999, fill
    n = used()
    # Every address that connected is there (a handshake the client saw complete was
    # tracked), and nothing else.
    drops = {k: v for k, v in fill_tb.counters().items() if v and ("drop" in k or "syn" in k)}
    print(f"drops: {drops}")
    assert fill["ok"] <= n <= N, (n, fill, drops)
    grew = rss_kb() - rss0
    print(f"entries: {n}; resident memory grew by {grew / 1024:.1f} MiB, "
          f"{grew * 1024 / n:.0f} bytes an entry")
    # The whole table through the socket while requests flow on the same worker.
    if os.path.exists(STOP):
        os.unlink(STOP)
    load = subprocess.Popen(["ip", "netns", "exec", NS_CLIENT, "/usr/bin/python3", "-c", LOAD,
                             VIP, STOP], stdout=subprocess.PIPE, text=True)
    time.sleep(0.5)
    t0 = time.monotonic()
    out = cli("show table fe_main", timeout=120)
    dump_s = time.monotonic() - t0
    time.sleep(0.3)
    open(STOP, "w").close()
    waits = json.loads(load.communicate(timeout=30)[0])
    os.unlink(STOP)
    rows = out.count("\n0x")
    assert out.startswith(f"# table: fe_main, type: ip, size:1048576, used:{n}\n"), out[:200]
    assert rows == n
    assert re.search(r"\n0x[0-9a-f]+: key=10\.128\.0\.0 use=0 exp=\d+ gpt0=0 "
                     r"http_req_rate\(10000\)=0\n", out), out[:300]
    after = fill_tb.counters()
    print(f"dump: {len(out) / 1e6:.0f} MB in {dump_s:.2f} s; requests meanwhile: {waits}; "
          f"longest loop iteration {after.get('busy_cycles_max', 0)} cycles, "
          f"longest request slice {after.get('requests_cycles_max', 0)} cycles")
    assert waits["n"] > 0
    # Expiry empties it: each entry goes EXPIRE_S after its connection.
    deadline = filled_at + EXPIRE_S + 30
    while used() and time.monotonic() < deadline:
        time.sleep(2)
    assert used() == 0
