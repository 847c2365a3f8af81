"""`http-check expect` (issues 11 and 13): real HTTP servers in sl-server answer the checks with
fixed status codes and bodies, and `show stat` must show each server UP or DOWN as HAProxy
2.6.12 did on the same configuration, with L7OK, L7STS or L7RSP, the code (none for L7RSP)
and, for a body that fails, HAProxy's words in last_chk. tests/fixtures/http-check.cfg:
be_list expects 200,301-302; be_default expects nothing (2xx or 3xx pass); be_string a text
in the body, be_not_string its absence, be_rstatus a regex of the code, be_not_status codes
outside a range. The b_* backends run several rules, on headers and bodies, against servers
answering fixed bytes (RAW); WANT_RULES and LAST_CHK_RULES are what Debian's HAProxy 2.6.12
showed for them in `show stat`, and its log lines for the servers going down."""

import ast
import subprocess
import time

import pytest

from conftest import admin_cli as cli
from conftest import start_backend, stop_backends

TESTBED_CONFIG = "tests/fixtures/http-check.cfg"
CODES = (200, 204, 301, 302, 303, 404)
WANT = {
    ("be_list", "s200"): ("UP", "L7OK", "200"),
    ("be_list", "s301"): ("UP", "L7OK", "301"),
    ("be_list", "s302"): ("UP", "L7OK", "302"),
    ("be_list", "s303"): ("DOWN", "L7STS", "303"),
    ("be_list", "s404"): ("DOWN", "L7STS", "404"),
    ("be_default", "s204"): ("UP", "L7OK", "204"),
    ("be_default", "s303"): ("UP", "L7OK", "303"),
    ("be_default", "s404"): ("DOWN", "L7STS", "404"),
    ("be_string", "s200"): ("UP", "L7OK", "200"),
    ("be_string", "s404"): ("DOWN", "L7RSP", ""),
    ("be_not_string", "s200"): ("UP", "L7OK", "200"),
    ("be_not_string", "s404"): ("DOWN", "L7RSP", ""),
    ("be_rstatus", "s301"): ("UP", "L7OK", "301"),
    ("be_rstatus", "s303"): ("DOWN", "L7STS", "303"),
    ("be_not_status", "s204"): ("DOWN", "L7STS", "204"),
    ("be_not_status", "s404"): ("UP", "L7OK", "404"),
}
LAST_CHK = {
    ("be_string", "s404"): "HTTP content check did not match",
    ("be_not_string", "s404"): "HTTP check matched unwanted content",
    # A wrong status: the reason phrase (tools/backend.py answers "HTTP/1.0 404 Status").
    ("be_list", "s404"): "Status",
    ("be_list", "s200"): "",
}
WANT_RULES = {
    ("b_hdr", "a"): ("UP", "L7OK", "404"),
    ("b_hdr", "b"): ("UP", "L7OK", "200"),
    ("b_hdrfail", "a"): ("DOWN", "L7STS", "404"),
    ("b_fhdr", "a"): ("UP", "L7OK", "404"),
    ("b_multi", "a"): ("UP", "L7OK", "404"),
    ("b_multi", "b"): ("UP", "L7OK", "200"),
    ("b_multi", "c"): ("DOWN", "L7RSP", ""),
    ("b_multi", "d"): ("DOWN", "L7RSP", ""),
    ("b_chunk", "b"): ("UP", "L7OK", "200"),
    ("b_rnot", "a"): ("DOWN", "L7RSP", ""),
    ("b_rnot", "b"): ("UP", "L7OK", "200"),
    ("b_hdrname", "a"): ("UP", "L7OK", "404"),
    ("b_hdrsts", "a"): ("DOWN", "L7STS", "404"),
    ("b_nobody", "d"): ("DOWN", "L7RSP", ""),
}
LAST_CHK_RULES = {
    ("b_hdrfail", "a"): "Not Found Here",
    ("b_multi", "c"): "HTTP content check did not match",
    ("b_multi", "d"): "HTTP content check could not find a response body",
    ("b_rnot", "a"): "HTTP check matched unwanted content",
    ("b_hdrsts", "a"): "Not Found Here",
    ("b_nobody", "d"): "HTTP content check could not find a response body",
    ("b_hdr", "a"): "",
}
# HAProxy 2.6.12's log lines for the same servers going down.
LOG_LINES = [
    'Server b_hdrfail/a is DOWN, reason: Layer7 wrong status, code: 404, info: "Not Found Here", '
    "check duration: ",
    'Server b_multi/d is DOWN, reason: Layer7 invalid response, info: "HTTP content check could '
    'not find a response body", check duration: ',
]
RAW = r"""
import socket, threading
ANS = {
    9600: b"HTTP/1.0 404 Not Found Here\r\nContent-Length: 5\r\nX-List: a, b ,c\r\n\r\nc404\n",
    9601: b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-List: a, b ,c\r\n"
          b"Connection: close\r\n\r\n3\r\nc20\r\n4\r\n0ok\n\r\n0\r\n\r\n",
    9602: b"HTTP/1.0 200 OK\r\n\r\nuntil close body",
    9603: b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n",
}
def serve(s, answer):
    while True:
        c, _ = s.accept()
        try:
            c.recv(4096)
            c.sendall(answer)
        except OSError:
            pass
        c.close()
for port, answer in ANS.items():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("10.10.2.13", port))
    s.listen(16)
    threading.Thread(target=serve, args=(s, answer), daemon=True).start()
print("ready", flush=True)
threading.Event().wait()
"""


@pytest.fixture(scope="module")
def http_servers(testbed):
    procs = [start_backend("10.10.2.11", 9000 + code, f"c{code}", "--mode", "http",
                           "--status", code) for code in CODES]
    yield
    stop_backends(procs)


@pytest.fixture(scope="module")
def raw_servers(testbed):
    p = subprocess.Popen(["ip", "netns", "exec", "sl-server", "/usr/bin/python3", "-c", RAW],
                         stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "ready"
    yield
    p.kill()
    p.wait()


def rows():
    lines = [l for l in cli("show stat").split("\n") if l]
    header = lines[0][2:].split(",")
    return {tuple(l.split(",")[:2]): dict(zip(header, l.split(","))) for l in lines[1:]}


@pytest.mark.sanitizer
def test_expect_status_list_and_ranges(http_servers):
    deadline = time.monotonic() + 20
    got = {}
    while time.monotonic() < deadline:
        r = rows()
        got = {k: (r[k]["status"], r[k]["check_status"], r[k]["check_code"]) for k in WANT}
        if got == WANT:
            break
        time.sleep(0.3)
    assert got == WANT
    assert {k: r[k]["last_chk"] for k in LAST_CHK} == LAST_CHK


@pytest.mark.sanitizer
def test_expect_rules_on_heads_and_bodies(raw_servers, testbed):
    deadline = time.monotonic() + 20
    got = {}
    while time.monotonic() < deadline:
        r = rows()
        got = {k: (r[k]["status"], r[k]["check_status"], r[k]["check_code"]) for k in WANT_RULES}
        if got == WANT_RULES:
            break
        time.sleep(0.3)
    assert got == WANT_RULES
    assert {k: r[k]["last_chk"] for k in LAST_CHK_RULES} == LAST_CHK_RULES
    # The servers went down first for want of an answer (the servers above start after the
    # appliance): set UP again, they go down on the rules, logged as HAProxy logs it.
    for server in ("b_hdrfail/a", "b_multi/d"):
        assert cli(f"set server {server} health up") == "\n"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        log = testbed.read_log()
        if all(line in log for line in LOG_LINES):
            break
        time.sleep(0.2)
    for line in LOG_LINES:
        assert line in log, "\n".join(l for l in log.splitlines() if "Server b_" in l)


CAPTURE = r"""
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.10.2.12", 9500))
s.listen(16)
print("ready", flush=True)
while True:
    c, _ = s.accept()
    c.settimeout(2)
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            b = c.recv(4096)
            if not b:
                break
            data += b
        head, _, body = data.partition(b"\r\n\r\n")
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                while len(body) < int(line.split(b":")[1]):
                    body += c.recv(4096)
        print(repr(head + b"\r\n\r\n" + body), flush=True)
        c.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
    except OSError:
        pass
    c.close()
"""


@pytest.mark.sanitizer
def test_send_body_bytes_as_haproxy(testbed):
    # The bytes Debian's HAProxy 2.6.12 sent for the same `http-check send` line.
    want = (b"POST /health HTTP/1.1\r\nhost: example.org\r\nx-a: b\r\ncontent-length: 7\r\n"
            b"connection: close\r\n\r\nabc def")
    p = subprocess.Popen(["ip", "netns", "exec", "sl-server", "/usr/bin/python3", "-c", CAPTURE],
                         stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "ready"
        got = ast.literal_eval(p.stdout.readline().strip())
        assert got == want
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and rows()[("be_send", "cap")]["check_status"] != "L7OK":
            time.sleep(0.2)
        assert rows()[("be_send", "cap")]["check_status"] == "L7OK"
    finally:
        p.kill()
        p.wait()
