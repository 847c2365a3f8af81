"""Sticky sessions (issue 15, docs/stick-tables.md) on examples/stick-tables.cfg, as Debian's
HAProxy 2.6.12 behaves on the same configuration: `stick on src` sends a client back to the
server it was first sent to; the entry keeps the server's id and name (`server_id=1
server_key=s1`, name last); a server in maintenance loses its clients to another one, which
the entry then names; a draining server keeps them; `set table ... data.server_id N` moves a
client; a string key from a header; TCP mode stores once the server connection is up."""

import re
import subprocess
import time

import pytest

from conftest import NS_CLIENT, admin_cli, start_backend, stop_backends

from test_http import curl
from test_stick import TESTBED_CONFIG  # noqa: F401 (the testbed's configuration)

SERVERS = {"s1": "10.10.2.11", "s2": "10.10.2.12"}
VIP = "10.10.1.1"
CLIENT = "10.10.1.2"
ROW = re.compile(r"^0x[0-9a-f]+: key=(\S*) use=(\d+) exp=(\d+) server_id=(-?\d+) "
                 r"server_key=(\S+)$")


@pytest.fixture(scope="module")
def sticky_tb(testbed):
    procs = [start_backend(addr, 9000, name, tool="http_backend.py")
             for name, addr in SERVERS.items()]
    yield testbed
    stop_backends(procs)


def server_of(port=8082, *extra):
    """The server that answered (its X-Server header)."""
    p = curl("-s", "-o", "/dev/null", "-D", "-", *extra, f"http://{VIP}:{port}/echo")
    assert p.returncode == 0, p.stderr
    m = re.search(r"^x-server: (\S+)\r?$", p.stdout, re.I | re.M)
    assert m, p.stdout
    return m.group(1)


def rows(table):
    out = admin_cli(f"show table {table}")
    lines = out.split("\n")
    assert lines[0].startswith(f"# table: {table}, type: "), out
    assert out.endswith("\n\n"), out
    found = {}
    for line in lines[1:]:
        if not line:
            continue
        m = ROW.match(line)
        assert m, line
        found[m.group(1)] = m
    return found


@pytest.mark.sanitizer
def test_stick_on_src_follows_server_state(sticky_tb):
    admin_cli("clear table be_sticky")
    first = server_of()
    assert [server_of() for _ in range(5)] == [first] * 5
    e = rows("be_sticky")[CLIENT]
    sid = "1" if first == "s1" else "2"
    assert (e.group(2), e.group(4), e.group(5)) == ("0", sid, first), e.group(0)
    assert 1790000 < int(e.group(3)) <= 1800000  # expire 30m, just stored
    other = "s2" if first == "s1" else "s1"
    # Maintenance: the client goes to the other server, and the entry follows it there.
    assert admin_cli(f"set server be_sticky/{first} state maint") == "\n"
    try:
        assert [server_of() for _ in range(3)] == [other] * 3
        assert rows("be_sticky")[CLIENT].group(5) == other
    finally:
        admin_cli(f"set server be_sticky/{first} state ready")
    assert server_of() == other  # back in service: the client stays where it went
    # Draining: the server keeps the clients stuck to it; a new client goes elsewhere.
    assert admin_cli(f"set server be_sticky/{other} state drain") == "\n"
    try:
        assert [server_of() for _ in range(3)] == [other] * 3
        admin_cli("clear table be_sticky")
        assert server_of() == first
        assert rows("be_sticky")[CLIENT].group(5) == first
    finally:
        admin_cli(f"set server be_sticky/{other} state ready")


def test_force_persist_keeps_a_server_in_maintenance(sticky_tb):
    """be_sticky's `force-persist if { path_beg /force }`: a request that matches still goes
    to the stuck server in maintenance; `ignore-persist` changes nothing for sticking rules
    (haproxy 2.6.12 sends /ign to the other server, as it would without the rule, and the
    store then names that one)."""
    def server_for(path):
        p = curl("-s", "-o", "/dev/null", "-D", "-", f"http://{VIP}:8082{path}")
        assert p.returncode == 0, p.stderr
        return re.search(r"^x-server: (\S+)\r?$", p.stdout, re.I | re.M).group(1)

    admin_cli("clear table be_sticky")
    first = server_of()
    other = "s2" if first == "s1" else "s1"
    assert admin_cli(f"set server be_sticky/{first} state maint") == "\n"
    try:
        assert [server_for("/force/a") for _ in range(2)] == [first] * 2
        assert rows("be_sticky")[CLIENT].group(5) == first
        assert server_for("/ign/a") == other
        assert rows("be_sticky")[CLIENT].group(5) == other
        assert server_for("/force/a") == other  # the entry names the other one now
    finally:
        admin_cli(f"set server be_sticky/{first} state ready")


# Holds a server connection open through be_queue: a WebSocket-style upgrade, then 2 s.
HOLD = r"""
import socket, sys, time
s = socket.create_connection((sys.argv[1], 8088), timeout=10)
s.sendall(b"GET /ws HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: websocket\r\n"
          b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
got = b""
while b"\r\n\r\n" not in got:
    got += s.recv(4096)
print(got.split(b"\r\n")[0].decode(), flush=True)
time.sleep(2)
s.close()
"""


def test_stuck_server_at_maxconn_queues_on_it(sticky_tb):
    """be_queue (maxconn 1 per server): while the client's own server is busy with its
    other connection, its next request waits in that server's queue (the server's qcur in
    `show stat` is 1, the backend's 0) and is served by it once the slot frees, as HAProxy
    queues a stream whose server a stick match assigned; it does not go to the free one."""
    admin_cli("clear table be_queue")
    first = server_of(8088)
    holder = subprocess.Popen(["ip", "netns", "exec", NS_CLIENT, "/usr/bin/python3", "-c", HOLD,
                               VIP], stdout=subprocess.PIPE, text=True)
    try:
        assert "101" in holder.stdout.readline()
        waiting = subprocess.Popen(["ip", "netns", "exec", NS_CLIENT, "curl", "-s", "-o",
                                    "/dev/null", "-D", "-", "--max-time", "10",
                                    f"http://{VIP}:8088/echo"], stdout=subprocess.PIPE, text=True)
        time.sleep(0.7)
        qcur = {}
        for line in admin_cli("show stat").splitlines():
            f = line.split(",")
            if f[0] == "be_queue":
                qcur[f[1]] = f[2]
        assert qcur[first] == "1" and qcur["BACKEND"] == "0", qcur
        assert waiting.poll() is None  # still waiting for its server
        out, _ = waiting.communicate(timeout=15)
        assert re.search(rf"^x-server: {first}\r?$", out, re.I | re.M), out
    finally:
        holder.wait(timeout=15)


def test_set_table_moves_a_client(sticky_tb):
    admin_cli("clear table be_sticky")
    # An entry made by hand names a server by id (server_key "-"): requests follow it, and
    # the store then writes both.
    assert admin_cli(f"set table be_sticky key {CLIENT} data.server_id 2") == "\n"
    e = rows("be_sticky")[CLIENT]
    assert (e.group(4), e.group(5)) == ("2", "-"), e.group(0)
    assert [server_of() for _ in range(3)] == ["s2"] * 3
    e = rows("be_sticky")[CLIENT]
    assert (e.group(4), e.group(5)) == ("2", "s2"), e.group(0)
    # The name wins over the id (HAProxy looks the name up first).
    assert admin_cli(f"set table be_sticky key {CLIENT} data.server_id 1") == "\n"
    assert server_of() == "s2"
    assert rows("be_sticky")[CLIENT].group(4) == "2"
    # server_key is not set by hand; its old name server_name is known.
    assert admin_cli(f"set table be_sticky key {CLIENT} data.server_key 1") == "\n"
    assert admin_cli(f"set table be_sticky key {CLIENT} data.server_name s1") == \
        "Require a valid integer value to store\n\n"
    # An unknown id: the balancer picks.
    admin_cli("clear table be_sticky")
    assert admin_cli(f"set table be_sticky key {CLIENT} data.server_id 99") == "\n"
    picked = {server_of() for _ in range(4)}
    assert picked <= {"s1", "s2"}
    assert rows("be_sticky")[CLIENT].group(4) in ("1", "2")


def test_stick_on_header(sticky_tb):
    admin_cli("clear table be_user")
    seen = {u: server_of(8083, "-H", f"X-User: {u}") for u in ("alice", "bob")}
    assert seen["alice"] != seen["bob"], seen  # round robin between the two first ones
    for _ in range(3):
        for u in ("alice", "bob"):
            assert server_of(8083, "-H", f"X-User: {u}") == seen[u]
    r = rows("be_user")
    assert set(r) == {"alice", "bob"}, r
    assert r["alice"].group(5) == seen["alice"] and r["bob"].group(5) == seen["bob"]
    # No header, no key: the balancer alone, nothing stored.
    server_of(8083)
    assert set(rows("be_user")) == {"alice", "bob"}


def test_tcp_mode_stores_once_connected(sticky_tb):
    admin_cli("clear table tcp_sticky")
    # A connection that sends nothing: the entry is there while it is open, once the server
    # connection is up.
    idle = subprocess.Popen(
        ["ip", "netns", "exec", NS_CLIENT, "python3", "-c",
         f"import socket,time\ns=socket.create_connection(('{VIP}',8084));time.sleep(2)"])
    try:
        deadline = time.time() + 1.5
        while CLIENT not in rows("tcp_sticky") and time.time() < deadline:
            time.sleep(0.1)
        e = rows("tcp_sticky")[CLIENT]
    finally:
        idle.wait(timeout=10)
    # srvkey addr: the server is named by its address:port (Debian's haproxy 2.6.12 writes
    # IPv6 ones with no brackets).
    by_addr = {f"{a}:9000": n for n, a in SERVERS.items()}
    assert e.group(5) in by_addr and e.group(2) == "0", e.group(0)
    first = by_addr[e.group(5)]
    assert [server_of(8084) for _ in range(3)] == [first] * 3
