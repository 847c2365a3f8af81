"""HTTP mode through the testbed (issue 13): real Linux clients (curl, python http.client,
raw sockets) in sl-client, real HTTP/1.1 backends (tools/http_backend.py) on
10.10.2.11-13:9000 in sl-server.

examples/proxy-http.cfg: fe_web on 10.10.1.1:8080 with option forwardfor, be_web roundrobin
over s1/s2/s3 with HTTP checks every second."""

import json
import os
import re
import subprocess
import time

import pytest

from conftest import (NS_CLIENT, ROOT, Syslog, add_loss, admin_cli, remove_loss, run,
                      start_backend, stop_backends)

TESTBED_CONFIG = "examples/proxy-http.cfg"
TOOLS = os.path.join(ROOT, "tests/integration/tools")
SERVERS = {"s1": "10.10.2.11", "s2": "10.10.2.12", "s3": "10.10.2.13"}
VIP = "10.10.1.1"
PORT = 8080


def client(*args, timeout=300):
    p = run(["ip", "netns", "exec", NS_CLIENT, "/usr/bin/python3",
             os.path.join(TOOLS, "http_client.py"), *map(str, args)], check=False,
            timeout=timeout)
    lines = p.stdout.strip().splitlines()
    assert lines, p.stdout + p.stderr
    return json.loads(lines[-1])


def curl(*args):
    return run(["ip", "netns", "exec", NS_CLIENT, "curl", "-sS", "--max-time", "10", *args],
               check=False)


def backend_conns():
    """Connections and requests each backend has seen (asked directly, not through sluice)."""
    out = {}
    for name, addr in SERVERS.items():
        p = run(["ip", "netns", "exec", "sl-server", "curl", "-sS", f"http://{addr}:9000/conns"])
        conns, reqs = p.stdout.split()
        out[name] = (int(conns), int(reqs))
    return out


def stat_rows():
    lines = [l for l in admin_cli("show stat").split("\n") if l]
    header = lines[0][2:].split(",")
    return {(f[0], f[1]): dict(zip(header, f)) for f in (l.split(",") for l in lines[1:])}


@pytest.fixture(scope="module")
def http_tb(testbed):
    procs = [start_backend(SERVERS[n], 9000, n, tool="http_backend.py") for n in SERVERS]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        rows = stat_rows()
        if all(rows[("be_web", s)]["status"] == "UP" for s in SERVERS):
            break
        time.sleep(0.2)
    yield testbed
    stop_backends(procs)


def test_get_with_curl(http_tb):
    p = curl("-i", f"http://{VIP}:{PORT}/echo")
    assert p.returncode == 0, p.stderr
    head, _, body = p.stdout.partition("\n\n")  # run() reads text: CRLF is LF
    assert head.startswith("HTTP/1.1 200 OK"), head
    seen = json.loads(body)
    assert seen["start"] == "GET /echo HTTP/1.1"
    names = [f.split(":")[0].lower() for f in seen["fields"]]
    # option forwardfor: the client's address, added last.
    assert seen["fields"][-1].lower() == "x-forwarded-for: 10.10.1.2", seen
    assert "host" in names and "connection" not in names


@pytest.mark.sanitizer
def test_keepalive_reuse_on_both_sides(http_tb):
    before = backend_conns()
    out = client("keepalive", VIP, PORT, 300, "/size/1024")
    assert out["statuses"] == [200] and out["count"] == 300 and out["bodies"] == 1, out
    # Round robin per request over the three servers.
    assert set(out["servers"]) == set(SERVERS), out
    after = backend_conns()
    new_conns = sum(after[s][0] - before[s][0] for s in SERVERS)
    new_reqs = sum(after[s][1] - before[s][1] for s in SERVERS)
    assert new_reqs >= 300
    # One client connection; server connections parked and reused (http-reuse safe): a
    # handful, not one per request (health checks open their own, one per second each).
    assert new_conns < 60, (before, after)


def test_reused_connection_closed_by_the_server_is_retried(http_tb):
    # fe_one has one server: the second request of the client connection goes out on the
    # server connection the first left idle, and the server closes it as the request
    # arrives. The request had no body: it is sent again on a new connection.
    before = stat_rows()[("be_one", "BACKEND")]
    out = client("keepalive", VIP, 8081, 6, "/once,/size/10")
    assert out["statuses"] == [200] and out["count"] == 6, out
    after = stat_rows()[("be_one", "BACKEND")]
    assert int(after["wretr"]) - int(before["wretr"]) == 3, (before["wretr"], after["wretr"])
    assert int(after["reuse"]) > int(before["reuse"])


def test_100000_requests_over_100_keep_alive_connections(http_tb):
    before = backend_conns()
    out = client("many", VIP, PORT, 100, 1000, timeout=600)
    assert out["ok"] == 100000 and out["bad"] == 0, out
    after = backend_conns()
    # Server connections reused: far fewer than requests (each client connection's first
    # request opens one; the pool serves the rest; checks open their own).
    new_conns = sum(after[s][0] - before[s][0] for s in SERVERS)
    assert new_conns < 2000, (new_conns, out)


@pytest.mark.sanitizer
def test_pipelined_requests_answered_in_order(http_tb):
    out = client("pipeline", VIP, PORT, 20)
    assert out["lengths"] == [100 + i for i in range(20)]


@pytest.mark.parametrize("how", ["chunked", "length"])
def test_upload_sha(http_tb, how):
    out = client("upload", VIP, PORT, 100 * 1000 * 1000, how)
    assert out["status"] == 200
    digest, n = out["answer"].split()
    assert digest == out["sha"] and int(n) == 100 * 1000 * 1000


@pytest.mark.parametrize("path", ["/size/100000000", "/chunked/100000000", "/eof/20000000"])
def test_download_sha(http_tb, path):
    out = client("download", VIP, PORT, path)
    assert out["status"] == 200
    assert out["bytes"] == int(path.rsplit("/", 1)[1])
    assert out["sha"] == out["expected"]


@pytest.mark.sanitizer
def test_websocket_tunnel(http_tb):
    out = client("ws", VIP, PORT, 1 << 20)
    assert out == {"status": 101, "echoed": True}


def test_websocket_wrong_accept_is_a_502(http_tb):
    # A 101 whose Sec-WebSocket-Accept does not answer the request's key (RFC 6455 4.2.2):
    # HAProxy answers 502 and opens no tunnel.
    before = stat_rows()[("be_web", "BACKEND")]
    out = client("ws", VIP, PORT, 1024, "/ws-bad-accept")
    assert out == {"status": 502, "echoed": False}
    assert int(stat_rows()[("be_web", "BACKEND")]["eresp"]) == int(before["eresp"]) + 1


def test_bad_request_gets_haproxys_400(http_tb):
    out = client("raw", VIP, PORT, b"GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n".hex())
    assert out["closed"]
    assert out["reply"].startswith("HTTP/1.1 400 Bad request\r\n"), out
    assert out["reply"].endswith("Your browser sent an invalid request.\n</body></html>\n")


def test_smuggling_te_and_cl(http_tb):
    # TE and CL together: TE wins, CL is removed (RFC 9112 6.3), the connection closes after.
    body = b"5\r\nhello\r\n0\r\n\r\n"
    req = (b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
           b"Transfer-Encoding: chunked\r\n\r\n" + body)
    out = client("raw", VIP, PORT, req.hex())
    head, _, rest = out["reply"].partition("\r\n\r\n")
    assert head.startswith("HTTP/1.1 200"), out
    seen = json.loads(rest)
    names = [f.split(":")[0].lower() for f in seen["fields"]]
    assert "content-length" not in names and "transfer-encoding" in names
    assert out["closed"]


def test_http_stat_columns(http_tb):
    rows = stat_rows()
    fe = rows[("fe_web", "FRONTEND")]
    assert int(fe["req_tot"]) > 300
    assert int(fe["hrsp_2xx"]) > 300
    assert int(fe["hrsp_4xx"]) >= 1


HTTPLOG = re.compile(
    r"^<134>\w{3} [ \d]\d \d\d:\d\d:\d\d sluice\[\d+\]: "
    r"10\.10\.1\.2:\d+ \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d\.\d{3}\] (\S+) (\S+)/(\S+) "
    r"(-?\d+)/(-?\d+)/(-?\d+)/(-?\d+)/(\d+) (\d+) (\d+) - - (\S{4}) "
    r"\d+/\d+/\d+/\d+/\+?\d+ \d+/\d+ \"(.*)\"$")


def test_httplog_lines(http_tb):
    """option httplog: HAProxy's line (h1_haproxy_notes.md, f), %B counted as HAProxy counts
    it (the stored head: 20 + version + status + reason + names and values + 1, and the body)."""
    s = Syslog()
    try:
        s.drain()
        p = curl("-o", "/dev/null", f"http://{VIP}:{PORT}/size/1024?q=1")
        assert p.returncode == 0
        bad = client("raw", VIP, PORT, b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n".hex())
        assert bad["reply"].startswith("HTTP/1.1 400 ")
        lines = s.lines(2)
    finally:
        s.close()
    assert len(lines) == 2, lines
    ok = HTTPLOG.match(lines[0].rstrip("\n"))
    assert ok, lines[0]
    fe, be, srv, treq, tw, tc, tres, ta, st, nbytes, term, req = ok.groups()
    assert (fe, be, st, term, req) == ("fe_web", "be_web", "200", "----",
                                       "GET /size/1024?q=1 HTTP/1.1"), lines[0]
    assert srv in SERVERS and int(treq) >= 0 and int(tc) >= 0 and int(tres) >= 0
    assert int(ta) >= int(tres)
    head = 20 + len("HTTP/1.1") + 3 + len("OK") + len("X-Server") + 2 + \
        len("Content-Length") + 4 + 1
    assert int(nbytes) == head + 1024, lines[0]
    badm = HTTPLOG.match(lines[1].rstrip("\n"))
    assert badm, lines[1]
    assert badm.groups()[:3] == ("fe_web", "fe_web", "<NOSRV>")
    assert badm.groups()[3:7] == ("-1", "-1", "-1", "-1")
    assert badm.groups()[8:] == ("400", "0", "PR--", "<BADREQ>"), lines[1]


def test_http10_client_keep_alive_and_close(http_tb):
    # HTTP/1.0 without keep-alive: answered, "connection: close", closed.
    out = client("raw", VIP, PORT, b"GET /size/5 HTTP/1.0\r\n\r\n".hex())
    assert out["closed"] and "\r\nconnection: close\r\n" in out["reply"], out
    # With keep-alive: "connection: keep-alive", and a second request on the connection.
    two = b"GET /size/5 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" * 2
    out = client("raw", VIP, PORT, two.hex())
    assert out["reply"].count("HTTP/1.1 200 OK") == 2, out
    assert out["reply"].count("\r\nconnection: keep-alive\r\n") == 2, out


def test_expect_100_continue_relayed(http_tb):
    # The server's interim 100 goes to the client; the body follows; the final answer after.
    code = (
        "import socket,sys\n"
        "s=socket.create_connection(('%s',%d),timeout=5)\n"
        "s.sendall(b'POST /sha HTTP/1.1\\r\\nHost: t\\r\\nExpect: 100-continue\\r\\n"
        "Content-Length: 5\\r\\n\\r\\n')\n"
        "first=s.recv(65536)\n"
        "s.sendall(b'hello')\n"
        "rest=b''\n"
        "while b'\\r\\n\\r\\n' not in rest or len(rest.split(b'\\r\\n\\r\\n',1)[1])<66:\n"
        "    d=s.recv(65536)\n"
        "    if not d: break\n"
        "    rest+=d\n"
        "print(repr(first)); print(repr(rest))\n" % (VIP, PORT))
    p = run(["ip", "netns", "exec", NS_CLIENT, "/usr/bin/python3", "-c", code], check=False)
    lines = p.stdout.strip().splitlines()
    assert len(lines) == 2, p.stdout + p.stderr
    assert lines[0] == repr(b"HTTP/1.1 100 Continue\r\n\r\n"), lines
    assert "200 OK" in lines[1], lines
    assert "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824 5" in lines[1], lines


def test_show_sess_shows_the_http_transaction(http_tb):
    # A download the client does not read: its stream stays with the request done and the
    # answer's body flowing; `show sess <id>` adds haproxy's txn line (transcript 93).
    code = ("import socket,sys,time\n"
            "s=socket.create_connection(('%s',%d),timeout=5)\n"
            "s.sendall(b'GET /size/50000000 HTTP/1.1\\r\\nHost: t\\r\\n\\r\\n')\n"
            "print('sent',flush=True)\n"
            "sys.stdin.readline()\n" % (VIP, PORT))
    p = subprocess.Popen(["ip", "netns", "exec", NS_CLIENT, "/usr/bin/python3", "-c", code],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "sent"
        deadline = time.monotonic() + 10
        txn = ""
        while time.monotonic() < deadline and "rsp.st=MSG_DATA" not in txn:
            ids = [l.split(":")[0] for l in admin_cli("show sess").splitlines()
                   if " fe=fe_web " in l]
            txn = "".join(l for i in ids for l in admin_cli(f"show sess {i}").splitlines()
                          if l.startswith("  txn="))
            time.sleep(0.2)
        assert re.fullmatch(r"  txn=0x[0-9a-f]+ flags=0x0 meth=1 status=200 req\.st=MSG_DONE "
                            r"rsp\.st=MSG_DATA req\.f=0x00 rsp\.f=0x00", txn), txn
    finally:
        p.stdin.write("\n")
        p.stdin.close()
        p.wait(timeout=10)


@pytest.mark.sanitizer
def test_show_errors_keeps_the_last_invalid_request(http_tb):
    out = client("raw", VIP, PORT, b"GET /e HTTP/1.1\r\nHost: x\r\nBad Header: v\r\n\r\n".hex())
    assert out["reply"].startswith("HTTP/1.1 400 Bad request\r\n")
    text = admin_cli("show errors fe_web request")
    lines = text.split("\n")
    assert lines[0].startswith("Total events captured on [") and lines[1] == " ", text
    assert re.match(r"\[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d\.\d{3}\] frontend fe_web \(#\d+\): "
                    r"invalid request$", lines[2]), text
    assert lines[3].startswith("  backend <NONE> (#-1), server <NONE> (#-1), event #") and \
        lines[3].split(", src ")[1].startswith("10.10.1.2:"), text
    assert lines[5] == "  len 43, wraps at 16336, error at position 29", text
    assert lines[10:14] == ["  00000  GET /e HTTP/1.1\\r\\n", "  00017  Host: x\\r\\n",
                           "  00026  Bad Header: v\\r\\n", "  00041  \\r\\n"], text
    assert "invalid request" not in admin_cli("show errors fe_web response")


def test_balance_uri_sends_one_path_to_one_server(http_tb):
    seen = {}
    for i in range(12):
        path = f"/size/{100 + i}"
        servers = client("keepalive", VIP, 8085, 4, path)["servers"]
        assert len(servers) == 1, (path, servers)  # every request of a path: one server
        seen[path] = next(iter(servers))
    assert len(set(seen.values())) >= 2, seen  # and the paths spread


@pytest.fixture
def lossy():
    """1% loss both ways on the client side."""
    add_loss(10)
    yield
    remove_loss()


def test_chunked_100mb_both_ways_under_loss(http_tb, lossy):
    down = client("download", VIP, PORT, "/chunked/100000000")
    assert down["status"] == 200 and down["bytes"] == 100000000
    assert down["sha"] == down["expected"]
    up = client("upload", VIP, PORT, 100 * 1000 * 1000, "chunked")
    assert up["status"] == 200
    digest, n = up["answer"].split()
    assert digest == up["sha"] and int(n) == 100 * 1000 * 1000
