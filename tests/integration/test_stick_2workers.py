"""Stick tables with two workers (DESIGN.md section 2, decision 0013): examples/
stick-tables.cfg with `workers 2`. Client addresses 10.10.1.3 (owned by worker 0) and
10.10.1.4 (worker 1) each make their own requests: each is counted exactly on the worker
that owns it (the 21st request within 10 s gets its 429), `show table` merges both shards,
and `set table` reaches the worker that holds the key."""

import os
import re

import pytest

from conftest import NS_CLIENT, ROOT, admin_cli, run, start_backend, stop_backends

from test_http import curl

SERVERS = {"s1": "10.10.2.11", "s2": "10.10.2.12"}
VIP = "10.10.1.1"
CLIENTS = ("10.10.1.3", "10.10.1.4")


def _config():
    with open(os.path.join(ROOT, "examples/stick-tables.cfg")) as f:
        text = f.read().replace("examples/rules/", os.path.join(ROOT, "examples/rules") + "/")
    text = text.replace("    workers 1\n", "    workers 2\n").replace("nbthread 1", "nbthread 2")
    path = "/tmp/sluice-test-stick-2workers.cfg"
    with open(path, "w") as f:
        f.write(text)
    return path


TESTBED_CONFIG = _config()


@pytest.fixture(scope="module")
def two(testbed):
    procs = [start_backend(addr, 9000, name, tool="http_backend.py")
             for name, addr in SERVERS.items()]
    for a in CLIENTS:
        run(["ip", "-n", NS_CLIENT, "addr", "add", a + "/24", "dev", "sl-tap-c"], check=False)
    yield testbed
    for a in CLIENTS:
        run(["ip", "-n", NS_CLIENT, "addr", "del", a + "/24", "dev", "sl-tap-c"], check=False)
    stop_backends(procs)


def status(src):
    p = curl("-o", "/dev/null", "-w", "%{http_code}", "--interface", src, f"http://{VIP}:8080/echo")
    assert p.returncode == 0, p.stderr
    return int(p.stdout)


def test_clients_of_both_workers(two):
    admin_cli("clear table fe_main")
    # Interleaved: each address is counted alone, whichever worker holds it.
    codes = {a: [] for a in CLIENTS}
    for _ in range(22):
        for a in CLIENTS:
            codes[a].append(status(a))
    for a in CLIENTS:
        assert codes[a] == [200] * 20 + [429] * 2, (a, codes[a])
    out = admin_cli("show table fe_main")
    assert out.startswith("# table: fe_main, type: ip, size:1048576, used:2\n"), out
    keys = re.findall(r"key=(\S+) use=0 exp=\d+ gpt0=0 http_req_rate\(10000\)=22\n", out)
    assert keys == list(CLIENTS), out
    # Each worker's shard: set table reaches the owner of the address.
    for a in CLIENTS:
        assert admin_cli(f"set table fe_main key {a} data.gpt0 1") == "\n"
        assert status(a) == 403, a
    blocked = admin_cli("show table fe_main data.gpt0 gt 0")
    assert re.findall(r"key=(\S+)", blocked) == list(CLIENTS), blocked
    assert admin_cli("clear table fe_main") == "\n"
    assert "# table: fe_main, type: ip, size:1048576, used:0\n" in admin_cli("show table")
    for a in CLIENTS:
        assert status(a) == 200, a


def test_sticky_clients_of_both_workers(two):
    """stick on src with a client on each worker: each keeps its server, and the merged
    `show table be_sticky` names both, each with the server it went to."""
    admin_cli("clear table be_sticky")
    went = {}
    for a in CLIENTS:
        p = curl("-s", "-o", "/dev/null", "-D", "-", "--interface", a, f"http://{VIP}:8082/echo")
        assert p.returncode == 0, p.stderr
        went[a] = re.search(r"^x-server: (\S+)", p.stdout, re.I | re.M).group(1)
    for _ in range(3):
        for a in CLIENTS:
            p = curl("-s", "-o", "/dev/null", "-D", "-", "--interface", a,
                     f"http://{VIP}:8082/echo")
            assert re.search(rf"^x-server: {went[a]}\r?$", p.stdout, re.I | re.M), (a, p.stdout)
    out = admin_cli("show table be_sticky")
    found = dict(re.findall(r"key=(\S+) use=0 exp=\d+ server_id=\d+ server_key=(\S+)\n", out))
    assert found == went, out
