"""Backends that reset or stall (issue 4): 10 000 client connections through each leave no
session, connection or mbuf behind. tests/fixtures/proxy-failures.cfg: fe_reset -> a server
that resets every connection; fe_stall -> a server that never answers (timeouts of 1 s)."""

import json
import os
import re
import time

import pytest

from conftest import NS_CLIENT, ROOT, run
from conftest import admin_cli as cli
from conftest import start_backend, stop_backends
from conftest import stat_scur as scur

TESTBED_CONFIG = "tests/fixtures/proxy-failures.cfg"
TOOLS = os.path.join(ROOT, "tests/integration/tools")
N = int(os.environ.get("SLUICE_PROXY_FAILURES", "10000"))


def info(name):
    m = re.search(rf"^{name}: (\d+)$", cli("show info"), re.M)
    return int(m.group(1))


@pytest.fixture(scope="module")
def bad_backends(testbed):
    procs = [start_backend(addr, port, mode, "--mode", mode)
             for addr, port, mode in (("10.10.2.11", 9001, "reset"), ("10.10.2.12", 9002, "stall"))]
    yield
    stop_backends(procs)


def burst(port, n, concurrency, wait):
    p = run(["ip", "netns", "exec", NS_CLIENT, "/usr/bin/python3",
             os.path.join(TOOLS, "proxy_client.py"), "burst", "10.10.1.1", str(port), str(n),
             str(concurrency), str(wait)], timeout=900)
    return json.loads(p.stdout.strip().splitlines()[-1])


def settled(px, sv, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if scur(px, sv) == 0 and scur(px, "BACKEND") == 0:
            return True
        time.sleep(0.2)
    return False


@pytest.mark.sanitizer
@pytest.mark.parametrize("port,px,sv,concurrency", [
    (8081, "be_reset", "r1", 50),
    (8082, "be_stall", "t1", 1000),
])
def test_failing_backend_leaves_nothing_behind(bad_backends, port, px, sv, concurrency):
    pool_before = info("PoolUsed_bytes")
    got = burst(port, N, concurrency, 5)
    # Every client connection was closed by the proxy (reset passed on, or timeout server).
    assert got["closed"] == N and got["hung"] == 0, got
    assert settled(px, sv), cli("show stat")
    assert not re.search(r"fe=fe_", cli("show sess"))
    row = {}
    for line in cli("show stat").splitlines():
        f = line.split(",")
        if f[:2] == [px, sv]:
            row = f
    assert int(row[7]) >= N, row  # stot
    # No mbuf kept: the pool is back where it was, give or take 1% of it (packets in flight).
    time.sleep(0.5)
    slack = info("PoolAlloc_bytes") // 100
    assert info("PoolUsed_bytes") <= pool_before + slack, (pool_before, cli("show info"))
