"""pool-max-conn (issue 13): how many idle connections to a server a worker keeps for reuse.
Twenty requests on one keep-alive client connection reach a server with the default (no
bound: one server connection carries them all) and a server with `pool-max-conn 0` (no idle
connection kept: a new server connection for each), counted by the servers themselves."""

import subprocess

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

backend be_unpooled
    server u1 10.10.2.12:9006 pool-max-conn 0
"""
TESTBED_CONFIG = config_file("http-pool", SECTIONS)
N = 20


@pytest.fixture(scope="module")
def backends(testbed):
    procs = [start_backend("10.10.2.11", 9005, "p1", tool="http_backend.py"),
             start_backend("10.10.2.12", 9006, "u1", tool="http_backend.py")]
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
