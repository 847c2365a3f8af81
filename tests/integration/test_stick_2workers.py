"""Stick tables with two workers (DESIGN.md section 2, decision 0013): examples/
stick-tables.cfg with `workers 2`. Client addresses 10.10.1.3 (owned by worker 0) and
10.10.1.4 (worker 1) each make their own requests: each is counted exactly on the worker
that owns it (the 21st request within 10 s gets its 429), `show table` merges both shards,
and `set table` reaches the worker that holds the key."""

import re

import pytest

from conftest import NS_CLIENT, admin_cli, example_config, run, start_backend, stop_backends

from test_http import curl

SERVERS = {"s1": "10.10.2.11", "s2": "10.10.2.12"}
VIP = "10.10.1.1"
CLIENTS = ("10.10.1.3", "10.10.1.4")


TESTBED_CONFIG = example_config("stick-tables.cfg", "stick-2workers",
                                replace=[("    workers 1\n", "    workers 2\n"),
                                         ("nbthread 1", "nbthread 2")])


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


def api(src, user, path="/echo"):
    """One request to fe_api as `user` from address `src`: its status and the request count
    the rules read (X-Req-Cnt as the server got it)."""
    p = curl("-s", "-w", "\n%{http_code}", "--interface", src, "-H", f"X-User: {user}",
             f"http://{VIP}:8086{path}")
    assert p.returncode == 0, p.stderr
    body, code = p.stdout.rsplit("\n", 1)
    seen = re.search(r'"X-Req-Cnt: (\d+)"', body, re.I)
    return int(code), int(seen.group(1)) if seen else None


def test_header_key_counted_exactly_across_workers(two):
    """A table keyed by a header, requests of one user arriving on both workers: one entry,
    on the worker that owns hash(user), counts every request (no split per worker); the
    rules on either worker read the count so far, so the 21st request within 10 s is the
    first refused; set table and clear table reach the owner."""
    admin_cli("clear table fe_api")
    users = ["alice", "bob", "carol", "dave", "erin", "frank"]
    seen = {u: [] for u in users}
    codes = {u: [] for u in users}
    for i in range(11):
        for u in users:
            for a in CLIENTS:
                code, cnt = api(a, u)
                codes[u].append(code)
                seen[u].append(cnt)
    for u in users:
        assert codes[u] == [200] * 20 + [429] * 2, (u, codes[u])
        assert seen[u][:20] == list(range(1, 21)), (u, seen[u])
    out = admin_cli("show table fe_api")
    assert out.startswith("# table: fe_api, type: string, size:102400, used:6\n"), out
    rows = dict(re.findall(
        r"key=(\S+) use=0 exp=\d+ gpc0=0 conn_cur=0 http_req_cnt=22 "
        r"http_req_rate\(10000\)=(\d+)\n", out))
    assert sorted(rows) == sorted(users), out
    assert all(v == "22" for v in rows.values()), out
    # Both workers asked the other (each owns some of the users), and no message was lost.
    per_worker = two.worker_counters()
    assert all(w.get("stick_remote_lookups", 0) > 0 for w in per_worker), per_worker
    assert all(w.get("stick_drop_ring_full", 0) == 0 for w in per_worker), per_worker
    # set table reaches the owner: the next request of that user, from either worker, reads it.
    assert admin_cli("set table fe_api key alice data.http_req_cnt 100") == "\n"
    for a in CLIENTS:
        assert api(a, "alice")[0] == 429
    assert re.search(r"key=alice use=0 exp=\d+ gpc0=0 conn_cur=0 http_req_cnt=102 ",
                     admin_cli("show table fe_api key alice"))
    assert admin_cli("clear table fe_api key alice") == "\n"
    assert admin_cli("show table fe_api key alice").count("key=") == 0
    for a in CLIENTS:
        assert api(a, "alice")[0] == 200
    assert re.search(r"key=alice use=0 exp=\d+ gpc0=0 conn_cur=0 http_req_cnt=2 ",
                     admin_cli("show table fe_api key alice"))
    # An action on a copy (sc-inc-gpc0) reaches the owner too.
    for a in CLIENTS:
        api(a, "bob", "/count")
    assert re.search(r"key=bob use=0 exp=\d+ gpc0=2 ", admin_cli("show table fe_api key bob"))
    admin_cli("clear table fe_api")


def test_sticky_header_key_across_workers(two):
    """stick on req.hdr(X-User) (be_user): a user's first request picks a server, and its
    next ones keep it whichever worker they arrive on (the entry lives on the worker that
    owns hash(user), the other asks it); `show table be_user` lists each user once."""
    admin_cli("clear table be_user")
    users = ["u1", "u2", "u3", "u4", "u5", "u6"]
    went = {}

    def server(src, user):
        p = curl("-s", "-o", "/dev/null", "-D", "-", "--interface", src, "-H",
                 f"X-User: {user}", f"http://{VIP}:8083/echo")
        assert p.returncode == 0, p.stderr
        return re.search(r"^x-server: (\S+)", p.stdout, re.I | re.M).group(1)

    for i, u in enumerate(users):
        went[u] = server(CLIENTS[i % 2], u)
    assert set(went.values()) == {"s1", "s2"}, went
    for _ in range(2):
        for u in users:
            for a in CLIENTS:
                assert server(a, u) == went[u], (u, a, went)
    out = admin_cli("show table be_user")
    assert out.startswith("# table: be_user, type: string, size:10240, used:6\n"), out
    found = dict(re.findall(r"key=(\S+) use=0 exp=\d+ server_id=\d+ server_key=(\S+)\n", out))
    assert found == went, out
