"""Stick-table rates against HAProxy (issue 15): the same recorded request arrivals
(data/stick-rates.schedule) go at the same moments to Sluice (examples/stick-tables.cfg on the
testbed) and to Debian's HAProxy 2.6 (the same two tables, in the server namespace); at
checkpoints during the run and after it, `show table` of both gives the same
http_req_rate(10s), conn_rate(10s), conn_cnt and http_req_cnt within one request."""

import os
import re
import socket
import subprocess
import sys
import threading
import time

import pytest

from conftest import (NS_CLIENT, NS_SERVER, ROOT, admin_cli, have, run, start_backend,
                      stop_backends)

from test_stick import TESTBED_CONFIG  # noqa: F401 (the testbed's configuration)

SERVERS = {"s1": "10.10.2.11", "s2": "10.10.2.12"}
VIP = "10.10.1.1"
HAPROXY_SOCK = "/tmp/sluice-test-rates-haproxy.sock"
HAPROXY_CFG = f"""global
    stats socket {HAPROXY_SOCK} level admin
defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
frontend fe_main
    bind 127.0.0.1:18080
    stick-table type ip size 1m expire 15m store http_req_rate(10s),gpt0
    http-request track-sc0 src
    default_backend be_web
frontend fe_conn
    bind 127.0.0.1:18081
    stick-table type ip size 100k expire 1m store conn_cnt,conn_cur,conn_rate(10s),http_req_cnt,http_req_rate(10s),http_err_cnt,bytes_out_cnt,gpc0
    tcp-request connection track-sc1 src
    default_backend be_web
backend be_web
    balance roundrobin
    server s1 10.10.2.11:9000
    server s2 10.10.2.12:9000
"""

# Sends the schedule's arrivals from T0 (the wall clock, shared by the namespaces): one
# connection per line, its requests one after the other on it.
SENDER = r"""
import socket, sys, time
host, port, t0, path = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
arrivals = []
for line in open(path):
    if line.strip() and not line.startswith("#"):
        ms, n = line.split()
        arrivals.append((int(ms) / 1000.0, int(n)))
for off, n in arrivals:
    delay = t0 + off - time.time()
    if delay > 0:
        time.sleep(delay)
    s = socket.create_connection((host, port))
    f = s.makefile("rb")
    for i in range(n):
        last = i == n - 1
        s.sendall(b"GET /echo HTTP/1.1\r\nHost: x\r\n" +
                  (b"Connection: close\r\n" if last else b"") + b"\r\n")
        length = 0
        while True:
            h = f.readline()
            if h in (b"\r\n", b""):
                break
            if h.lower().startswith(b"content-length:"):
                length = int(h.split(b":")[1])
        f.read(length)
    s.close()
print("sent", len(arrivals))
"""

ROW = re.compile(r"^0x[0-9a-f]+: key=\S+ use=\d+ exp=\d+ (.*)$", re.M)


def haproxy_cli(cmd):
    s = socket.socket(socket.AF_UNIX)
    s.connect(HAPROXY_SOCK)
    s.sendall(cmd.encode() + b"\n")
    out = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
    s.close()
    return out.decode()


def data_of(out):
    """The one entry's data as {name: value}."""
    rows = ROW.findall(out)
    assert len(rows) == 1, out
    return {k: int(v) for k, v in (kv.split("=") for kv in rows[0].split())}


@pytest.fixture(scope="module")
def both(testbed):
    if not have("/usr/sbin/haproxy"):
        pytest.skip("Debian's haproxy is not installed (scripts/setup installs it)")
    procs = [start_backend(addr, 9000, name, tool="http_backend.py")
             for name, addr in SERVERS.items()]
    run(["ip", "-n", NS_SERVER, "link", "set", "lo", "up"])  # HAProxy listens on 127.0.0.1
    if os.path.exists(HAPROXY_SOCK):
        os.unlink(HAPROXY_SOCK)
    cfg = "/tmp/sluice-test-rates-haproxy.cfg"
    with open(cfg, "w") as f:
        f.write(HAPROXY_CFG)
    hp = subprocess.Popen(["ip", "netns", "exec", NS_SERVER, "/usr/sbin/haproxy", "-db", "-f", cfg],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 10
    while not os.path.exists(HAPROXY_SOCK) and time.time() < deadline:
        time.sleep(0.05)
    assert os.path.exists(HAPROXY_SOCK), hp.stderr.read() if hp.poll() is not None else ""
    yield testbed
    hp.terminate()
    hp.wait(timeout=10)
    stop_backends(procs)


def test_rates_match_haproxy(both):
    admin_cli("clear table fe_main")
    admin_cli("clear table fe_conn")
    schedule = os.path.join(ROOT, "tests/integration/data/stick-rates.schedule")
    t0 = time.time() + 1.0
    senders = []
    for ns, host in ((NS_CLIENT, VIP), (NS_SERVER, "127.0.0.1")):
        for port in ("8080", "8081") if ns == NS_CLIENT else ("18080", "18081"):
            senders.append(subprocess.Popen(
                ["ip", "netns", "exec", ns, sys.executable, "-c", SENDER, host, port, str(t0),
                 schedule], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    readings = []
    # Checkpoints in the schedule's gaps (no request in flight): inside the first 10 s period,
    # after it rolled over (the previous period's count weighted), and after the last arrival.
    for at in (3.83, 8.57, 11.04, 13.04, 16.35, 17.5):
        time.sleep(max(0.0, t0 + at - time.time()))
        got = {}

        def read(name, fn, table):
            got[name] = fn(f"show table {table}")

        threads = [threading.Thread(target=read, args=(f"{who}/{table}", fn, table))
                   for who, fn in (("sluice", admin_cli), ("haproxy", haproxy_cli))
                   for table in ("fe_main", "fe_conn")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        readings.append((at, got))
    for s in senders:
        out, err = s.communicate(timeout=30)
        assert s.returncode == 0, err
        assert out.startswith("sent 52"), out
    for at, got in readings:
        for table, names in (("fe_main", ("http_req_rate(10000)",)),
                             ("fe_conn", ("conn_cnt", "conn_rate(10000)", "conn_cur",
                                          "http_req_cnt", "http_req_rate(10000)"))):
            ours = data_of(got[f"sluice/{table}"])
            theirs = data_of(got[f"haproxy/{table}"])
            for n in names:
                assert abs(ours[n] - theirs[n]) <= 1, (at, table, n, ours, theirs)
