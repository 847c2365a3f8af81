"""option http-buffer-request and the body fetches (issue 13) with curl from sl-client: the
rules see the body (req.body, req.body_len, req.body_size) once it is all in or fills the
buffer, an `Expect: 100-continue` is answered by the appliance, a body cut short gets the 408
of `timeout http-request`, and the body still reaches the server whole. Each answer is the
one Debian's HAProxy 2.6.12 gave to the same curl commands on the same configuration
(body_len 15097 of a 30000-byte body: the buffer's 15360 bytes less the head as HAProxy
stores it)."""

import hashlib
import os
import subprocess

import pytest

from conftest import NS_CLIENT, config_file, run, start_backend, stop_backends

SECTIONS = """
defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
    timeout http-request 2s

frontend fe_body
    bind 10.10.1.1:8098
    option http-buffer-request
    http-request deny if { req.body -m sub evil }
    http-request return status 200 content-type text/plain lf-string "len=%[req.body_len] size=%[req.body_size] body=%[req.body,length]\\n" if { path /info }
    http-request return status 200 content-type text/plain lf-string "%[req.body]" if { path /echo-body }
    default_backend be_body

backend be_body
    server b1 10.10.2.11:9011
"""
TESTBED_CONFIG = config_file("http-body", SECTIONS)
URL = "http://10.10.1.1:8098"


@pytest.fixture(scope="module")
def backend(testbed):
    procs = [start_backend("10.10.2.11", 9011, "b1", tool="http_backend.py")]
    yield
    stop_backends(procs)


def curl(*args):
    p = run(["ip", "netns", "exec", NS_CLIENT, "curl", "-sS", "--max-time", "10", *args],
            check=False, timeout=30)
    return p.stdout


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    path = tmp_path_factory.mktemp("body") / "big"
    path.write_bytes(b"a" * 30000)
    os.chmod(path.parent, 0o755)
    return str(path)


@pytest.mark.sanitizer
def test_rules_see_the_body(backend):
    assert curl("-o", "/dev/null", "-w", "%{http_code}", "-d", "hello evil world",
                URL + "/x") == "403"
    assert curl("-d", "hello world", URL + "/echo-body") == "hello world"
    assert curl("-d", "hello world", URL + "/info") == "len=11 size=11 body=11\n"
    # Chunked: the data, decoded; its size once all of it is in.
    assert curl("-H", "Transfer-Encoding: chunked", "-d", "hello chunked",
                URL + "/info") == "len=13 size=13 body=13\n"
    assert curl("-o", "/dev/null", "-w", "%{http_code}", "-H", "Transfer-Encoding: chunked",
                "-d", "hello evil", URL + "/x") == "403"
    assert curl(URL + "/info") == "len=0 size=0 body=0\n"


@pytest.mark.sanitizer
def test_a_body_larger_than_the_buffer(backend, big):
    # The oracle's Host (its part of the head's size): the same head, the same room.
    host = "Host: 127.0.0.1:18080"
    assert curl("-H", host, "--data-binary", "@" + big,
                URL + "/info") == "len=15097 size=30000 body=15097\n"
    # curl waits for the go-ahead: the appliance gives it, then sees the same part.
    out = run(["ip", "netns", "exec", NS_CLIENT, "curl", "-sS", "-v", "--max-time", "10",
               "-H", host, "-H", "Expect: 100-continue", "--data-binary", "@" + big,
               URL + "/info"],
              check=False, timeout=30)
    assert "< HTTP/1.1 100 Continue" in out.stderr, out.stderr
    assert out.stdout == "len=15097 size=30000 body=15097\n"
    # Through to the server, the whole body as sent, with no Expect field left.
    want = hashlib.sha256(b"a" * 30000).hexdigest()
    assert want in curl("-H", "Expect: 100-continue", "--data-binary", "@" + big, URL + "/sha")
    echo = curl("-H", "Expect: 100-continue", "--data-binary", "@" + big, URL + "/echo")
    assert "content-length" in echo.lower() and "expect" not in echo.lower(), echo


def nc(request):
    """What the appliance answers `request` sent with nc from sl-client (6 s at most)."""
    return subprocess.run(
        ["ip", "netns", "exec", NS_CLIENT, "timeout", "6", "nc", "10.10.1.1", "8098"],
        input=request, capture_output=True, timeout=20).stdout


@pytest.mark.sanitizer
def test_a_body_cut_short_times_out_with_408(backend):
    out = nc(b"POST /info HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
    assert out.startswith(b"HTTP/1.1 408 Request Time-out\r\n"), out


KEEPALIVE = r"""
import socket, sys
s = socket.create_connection(("10.10.1.1", 8098), timeout=5)
data = b""
for req in (b"POST /info HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
            b"GET /info HTTP/1.1\r\nHost: x\r\n\r\n"):
    s.sendall(req)
    while data.count(b"len=") < (1 if req.startswith(b"POST") else 2):
        b = s.recv(4096)
        if not b:
            break
        data += b
sys.stdout.write(data.decode())
"""


@pytest.mark.sanitizer
def test_each_request_of_a_connection_has_its_own_body(backend):
    # A GET after a POST on the same connection has no body, whatever the POST had.
    out = run(["ip", "netns", "exec", NS_CLIENT, "/usr/bin/python3", "-c", KEEPALIVE],
              check=False, timeout=30).stdout
    assert "len=5 size=5 body=5\n" in out and "len=0 size=0 body=0\n" in out, out
    assert out.index("len=5") < out.index("len=0"), out


@pytest.mark.sanitizer
def test_bad_chunks_are_refused_at_once(backend):
    out = nc(b"POST /info HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
    assert out.startswith(b"HTTP/1.1 400 Bad request\r\n"), out
