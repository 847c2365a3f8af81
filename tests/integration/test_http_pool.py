"""pool-max-conn and pool-purge-delay (issue 13): how many idle connections to a server a
worker keeps for reuse, and for how long. Twenty requests on one keep-alive client connection
reach a server with the default (no bound: one server connection carries them all) and a
server with `pool-max-conn 0` (no idle connection kept: a new server connection for each);
two requests a second apart (from two clients: `http-reuse always`) reuse the first one's
server connection under the default 5 s purge delay and not under `pool-purge-delay 300ms`;
counted by the servers themselves."""

import subprocess
import time

import pytest

from conftest import config_file, start_backend, stop_backends
from test_http import client

SECTIONS = """
defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s

frontend fe_pooled
    bind 10.10.1.1:8095
    default_backend be_pooled

frontend fe_unpooled
    bind 10.10.1.1:8096
    default_backend be_unpooled

backend be_pooled
    server p1 10.10.2.11:9005

frontend fe_purged
    bind 10.10.1.1:8097
    default_backend be_purged

frontend fe_kept
    bind 10.10.1.1:8098
    default_backend be_kept

backend be_unpooled
    server u1 10.10.2.12:9006 pool-max-conn 0

backend be_purged
    http-reuse always
    server q1 10.10.2.13:9007 pool-purge-delay 300ms

backend be_kept
    http-reuse always
    server k1 10.10.2.13:9008
"""
TESTBED_CONFIG = config_file("http-pool", SECTIONS)
N = 20


@pytest.fixture(scope="module")
def backends(testbed):
    procs = [start_backend("10.10.2.11", 9005, "p1", tool="http_backend.py"),
             start_backend("10.10.2.12", 9006, "u1", tool="http_backend.py"),
             start_backend("10.10.2.13", 9007, "q1", tool="http_backend.py"),
             start_backend("10.10.2.13", 9008, "k1", tool="http_backend.py")]
    yield
    stop_backends(procs)


def conns(addr, port):
    p = subprocess.run(["ip", "netns", "exec", "sl-server", "curl", "-sS",
                        f"http://{addr}:{port}/conns"], capture_output=True, text=True,
                       timeout=10, check=True)
    return int(p.stdout.split()[0])


@pytest.mark.parametrize("port,addr,sport,want", [
    (8095, "10.10.2.11", 9005, 1),
    (8096, "10.10.2.12", 9006, N),
])
def test_pool_max_conn(backends, port, addr, sport, want):
    before = conns(addr, sport)
    out = client("keepalive", "10.10.1.1", port, N, "/size/100")
    assert out["statuses"] == [200] and out["count"] == N, out
    # The curl that asks for the count is a connection too.
    assert conns(addr, sport) - before - 1 == want


@pytest.mark.parametrize("port,addr,sport,want", [
    (8098, "10.10.2.13", 9008, 1),  # default pool-purge-delay 5s: kept for the second
    (8097, "10.10.2.13", 9007, 2),  # pool-purge-delay 300ms: closed before it
])
def test_pool_purge_delay(backends, testbed, port, addr, sport, want):
    before = conns(addr, sport)
    purged = testbed.counters().get("conn_idle_purged", 0)
    for i in range(2):
        out = client("keepalive", "10.10.1.1", port, 1, "/size/100")
        assert out["statuses"] == [200] and out["count"] == 1, out
        if i == 0:
            time.sleep(1.0)
    assert conns(addr, sport) - before - 1 == want
    assert (testbed.counters().get("conn_idle_purged", 0) > purged) == (want == 2)
