"""Stick tables (issue 15, docs/stick-tables.md), on examples/stick-tables.cfg: the Runtime
API article's scenario replayed with curl and socat, as transcripts 50-59k show it on
HAProxy 2.6: a client tracked by address passes 20 requests in 10 s and gets a 429 on the
21st; `set table ... data.gpt0 1` makes its next request a 403; `show table ... data.gpt0 gt
0` lists it; `clear table` forgets it; a whitelisted client is never limited. And the
counters a connection tracked by `tcp-request connection` keeps (conn_cur, requests, gpc0)."""

import json
import re
import socket
import time

import pytest

from conftest import NS_CLIENT, admin_cli, example_config, run, start_backend, stop_backends

from test_http import curl

SERVERS = {"s1": "10.10.2.11", "s2": "10.10.2.12"}
VIP = "10.10.1.1"
CLIENT = "10.10.1.2"
WHITELISTED = "10.10.1.50"  # an address of the client namespace in the whitelist


TESTBED_CONFIG = example_config("stick-tables.cfg", "stick")
ENTRY = re.compile(r"^0x[0-9a-f]+: key=(\S+) use=(\d+) exp=(\d+) gpt0=(\d+) "
                   r"http_req_rate\(10000\)=(\d+)$")


@pytest.fixture(scope="module")
def stick_tb(testbed):
    procs = [start_backend(addr, 9000, name, tool="http_backend.py")
             for name, addr in SERVERS.items()]
    run(["ip", "-n", NS_CLIENT, "addr", "add", WHITELISTED + "/24", "dev", "sl-tap-c"],
        check=False)
    yield testbed
    run(["ip", "-n", NS_CLIENT, "addr", "del", WHITELISTED + "/24", "dev", "sl-tap-c"],
        check=False)
    stop_backends(procs)


def status(path="/echo", *extra):
    p = curl("-o", "/dev/null", "-w", "%{http_code}", *extra, f"http://{VIP}:8080{path}")
    assert p.returncode == 0, p.stderr
    return int(p.stdout)


def entries(table="fe_main", *args):
    out = admin_cli(" ".join(["show table", table, *args]))
    lines = out.split("\n")
    assert lines[0].startswith(f"# table: {table}, type: ip, "), out
    assert out.endswith("\n\n"), out
    return {m.group(1): m for m in (ENTRY.match(l) for l in lines[1:] if l) if m}


@pytest.mark.sanitizer
def test_rate_limit_block_and_clear(stick_tb):
    admin_cli("clear table fe_main")
    codes = [status() for _ in range(25)]
    assert codes == [200] * 20 + [429] * 5, codes  # transcript 56c
    e = entries()[CLIENT]
    assert e.group(2) == "0" and e.group(4) == "0" and int(e.group(5)) == 25, e.group(0)
    assert 890000 < int(e.group(3)) <= 900000  # expire 15m, just touched
    # The list of tables (transcript 50): newest declared first.
    listing = admin_cli("show table")
    assert listing.startswith("# table: tcp_sticky, type: ip, size:10240, used:"), listing
    assert listing.index("# table: fe_conn, type: ip, size:102400, used:") < \
        listing.index("# table: fe_main,"), listing
    assert "# table: fe_main, type: ip, size:1048576, used:1\n" in listing, listing
    # An operator blocks the client (transcripts 52, 56b): a 403 before the rate check.
    admin_cli("clear table fe_main")
    assert status() == 200
    assert admin_cli(f"set table fe_main key {CLIENT} data.gpt0 1") == "\n"
    assert status() == 403
    blocked = entries("fe_main", "data.gpt0", "gt", "0")  # transcript 53
    assert list(blocked) == [CLIENT] and blocked[CLIENT].group(4) == "1"
    assert entries("fe_main", "data.gpt0", "eq", "5") == {}
    # The rate as set (transcript 55): it reads as written.
    assert admin_cli(f"set table fe_main key 10.0.0.2 data.gpt0 2 data.http_req_rate 50") == "\n"
    one = entries("fe_main", "key", "10.0.0.2")
    assert one["10.0.0.2"].group(4) == "2" and one["10.0.0.2"].group(5) == "50"
    # Sorted by address, as HAProxy's tree walks them.
    assert list(entries()) == ["10.0.0.2", CLIENT]
    # clear table forgets the client (transcript 57): its next request passes.
    assert admin_cli(f"clear table fe_main key {CLIENT}") == "\n"
    assert CLIENT not in entries()
    assert status() == 200
    assert admin_cli("show table fe_main key 10.9.9.9") == "\n"  # transcript 54b


def test_table_converters(stick_tb):
    """fe_look reads fe_main's entry of the client with table_* converters (values as
    Debian's haproxy 2.6.12 gives them: a missing key reads 0, a datum the table does not
    store has no sample, trackers counts the lookup itself)."""
    admin_cli("clear table fe_main")

    def look():
        p = curl("-s", f"http://{VIP}:8085/")
        assert p.returncode == 0, p.stderr
        return p.stdout

    assert look() == "rate=0 gpt0=0 in=0 trackers=0 expire= other=0 unstored=[0]\n"
    for _ in range(3):
        assert status() == 200
    admin_cli(f"set table fe_main key {CLIENT} data.gpt0 7")
    m = re.fullmatch(r"rate=3 gpt0=7 in=1 trackers=1 expire=(\d+) other=0 unstored=\[\]\n",
                     look())
    assert m and 890000 < int(m.group(1)) <= 900000, look()
    assert look().startswith("rate=3 ")  # reading counts nothing
    admin_cli(f"clear table fe_main key {CLIENT}")


def test_long_listing_to_a_client_that_keeps_its_side_open(stick_tb):
    """30 000 entries (about 2.4 MB of listing, far more than one round of output) read by a
    client that sends its command and never half-closes, as scripts do: the whole listing
    comes, sorted (the server goes on as the socket drains, not only on the client's events)."""
    admin_cli("clear table fe_main")
    n = 30000
    cmds = [f"set table fe_main key 10.200.{i >> 8}.{i & 255} data.gpt0 {i % 5}" for i in range(n)]
    for i in range(0, n, 150):
        assert admin_cli(";".join(cmds[i:i + 150])).strip() == ""
    with socket.socket(socket.AF_UNIX) as c:
        c.settimeout(20)
        c.connect("/run/sluice-testbed/admin.sock")
        c.sendall(b"show table fe_main\n")
        chunks = []
        while True:
            b = c.recv(1 << 16)
            if not b:
                break
            chunks.append(b)
    out = b"".join(chunks).decode()
    assert out.startswith(f"# table: fe_main, type: ip, size:1048576, used:{n}\n"), out[:200]
    assert out.endswith("\n\n")
    keys = re.findall(r"^0x[0-9a-f]+: key=(\S+) ", out, re.M)
    assert len(keys) == n
    assert keys == sorted(keys, key=lambda k: tuple(int(x) for x in k.split(".")))
    admin_cli("clear table fe_main")


def test_expiry_empties_a_big_table(stick_tb):
    """30 000 entries set in short_lived (expire 10s; the fill takes about 6 s) are all gone
    a few seconds after the last one, on the workers' timer wheel, with no command."""
    n = 30000
    cmds = [f"set table short_lived key 10.{100 + (i >> 16)}.{(i >> 8) & 255}.{i & 255} "
            "data.gpt0 1" for i in range(n)]
    with socket.socket(socket.AF_UNIX) as c:  # one connection, commands joined by ';'
        c.settimeout(60)
        c.connect("/run/sluice-testbed/admin.sock")
        c.sendall(b"prompt\n")
        for i in range(0, n, 200):
            c.sendall((";".join(cmds[i:i + 200]) + "\n").encode())
        c.sendall(b"quit\n")
        out = b""
        while True:
            b = c.recv(1 << 16)
            if not b:
                break
            out += b
    assert b"Unable" not in out and b"rror" not in out, out[:300]

    def used():
        m = re.search(r"# table: short_lived, type: ip, size:204800, used:(\d+)",
                      admin_cli("show table"))
        return int(m.group(1))

    assert used() == n
    deadline = time.time() + 25
    while used() and time.time() < deadline:
        time.sleep(0.5)
    assert used() == 0


def test_whitelisted_client_never_limited(stick_tb):
    codes = [status("/echo", "--interface", WHITELISTED) for _ in range(25)]
    assert codes == [200] * 25, codes
    admin_cli(f"set table fe_main key {WHITELISTED} data.gpt0 1")
    assert status("/echo", "--interface", WHITELISTED) == 200
    assert int(entries()[WHITELISTED].group(5)) == 26


def test_errors_as_haproxy(stick_tb):
    # Transcripts 59-59f.
    assert admin_cli("show table nosuch") == "No such table\n\n"
    assert admin_cli("show table fe_main data.gpc0 gt 0") == \
        "Filter entry #1: Data type not stored in this table\n\n"
    assert admin_cli("show table fe_main data.nosuch gt 0") == \
        "Filter entry #1: Unknown data type\n\n"
    assert admin_cli("show table fe_main data.gpt0 xx 0") == (
        'Filter entry #1: Require and operator among "eq", "ne", "le", "ge", "lt", "gt"\n\n')
    assert admin_cli("set table fe_main key") == "Key value expected\n\n"
    assert admin_cli("set table fe_main data.gpt0 1") == (
        'content-based lookup is only supported with the "show" and "clear" actions\n\n')
    assert admin_cli("set table fe_main key 10.0.0.3 data.nosuch 1") == "Unknown data type\n\n"
    assert admin_cli("set table fe_main key 10.0.0.3 data.gpt0 x") == \
        "Require a valid integer value to store\n\n"
    assert admin_cli("show table fe_main foo") == (
        'Optional argument only supports "data.<store_data_type>" <operator> <value> and key '
        '<key>\n\n')


@pytest.mark.sanitizer
def test_connection_counters(stick_tb):
    """fe_conn: tcp-request connection track-sc1 src; each request counted as it is parsed,
    the connection in flight in conn_cur, gpc0 raised by a rule."""
    admin_cli("clear table fe_conn")
    url = f"http://{VIP}:8081"
    # Three requests on one keep-alive connection (curl reuses it for the URLs given).
    p = curl("-s", f"{url}/echo", f"{url}/count/echo", f"{url}/echo")
    assert p.returncode == 0, p.stderr
    seen = []
    for part in p.stdout.split('{"start"')[1:]:
        fields = json.JSONDecoder().raw_decode('{"start"' + part)[0]["fields"]
        seen.append({k.lower(): v.strip() for k, _, v in (f.partition(":") for f in fields)
                     if k.lower().startswith("x-")})
    assert len(seen) == 2, p.stdout  # /count/echo is the backend's 404
    assert seen[0] == {"x-conn-cur": "1", "x-req-cnt": "1", "x-gpc0": "0"}, seen
    assert seen[1] == {"x-conn-cur": "1", "x-req-cnt": "3", "x-gpc0": "1"}, seen
    out = admin_cli(f"show table fe_conn key {CLIENT}")
    assert re.search(
        rf"key={re.escape(CLIENT)} use=0 exp=\d+ gpc0=1 conn_cnt=1 conn_rate\(10000\)=1 "
        r"conn_cur=0 http_req_cnt=3 http_req_rate\(10000\)=3 http_err_cnt=1 bytes_out_cnt=\d+\n",
        out), out
    # tcp-request session track-sc2: the same counts (Debian's haproxy 2.6.12).
    out = admin_cli(f"show table sess_counts key {CLIENT}")
    assert re.search(rf"key={re.escape(CLIENT)} use=0 exp=\d+ conn_cnt=1 sess_cnt=1 "
                     r"sess_rate\(10000\)=1 http_req_cnt=3\n", out), out


def test_session_rejected(stick_tb):
    """tcp-request session reject: the connection closes with no answer and counts in the
    frontend's dses."""
    def dses():
        lines = [l for l in admin_cli("show stat").split("\n") if l]
        header = lines[0][2:].split(",")
        rows = {(f[0], f[1]): dict(zip(header, f)) for f in (l.split(",") for l in lines[1:])}
        return int(rows[("fe_conn", "FRONTEND")]["dses"] or 0)

    before = dses()
    p = curl("-s", "--interface", WHITELISTED, f"http://{VIP}:8081/echo")
    assert p.returncode != 0 and p.stdout == "", (p.returncode, p.stdout)
    assert dses() == before + 1
    assert status("/echo") == 200  # the others pass
