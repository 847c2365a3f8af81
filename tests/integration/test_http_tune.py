"""tune.bufsize and tune.http.maxhdr (issue 13) on a running appliance: with a 64 KiB buffer a
request with a 40 000-byte Cookie passes (HAProxy's default 16 KiB answers 400), one past the
head's bound (bufsize less tune.maxrewrite) gets HAProxy's 400; with tune.http.maxhdr 11 ten
header fields pass and eleven get the 400."""

from conftest import config_file, start_backend, stop_backends

import pytest

from test_http import client

SECTIONS = """
global
    tune.bufsize 65536
    tune.http.maxhdr 11

defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s

frontend fe_tune
    bind 10.10.1.1:8099
    default_backend be_tune

backend be_tune
    server t1 10.10.2.11:9010
"""
TESTBED_CONFIG = config_file("http-tune", SECTIONS)


@pytest.fixture(scope="module")
def backend(testbed):
    procs = [start_backend("10.10.2.11", 9010, "t1", tool="http_backend.py")]
    yield
    stop_backends(procs)


def request(*fields):
    head = "GET /size/10 HTTP/1.1\r\nHost: a\r\n" + "".join(f + "\r\n" for f in fields)
    return client("raw", "10.10.1.1", 8099, (head + "\r\n").encode().hex())["reply"]


def test_bufsize_bounds_the_head(backend):
    assert request("Cookie: " + "b" * 40000).startswith("HTTP/1.1 200 "), "40 KB head refused"
    reply = request("Cookie: " + "b" * 64600)
    assert reply.startswith("HTTP/1.1 400 Bad request\r\n"), reply[:200]


def test_maxhdr_bounds_the_fields(backend):
    # Host and nine more: ten fields, the start line makes eleven.
    assert request(*[f"X-{i}: y" for i in range(9)]).startswith("HTTP/1.1 200 ")
    reply = request(*[f"X-{i}: y" for i in range(10)])
    assert reply.startswith("HTTP/1.1 400 Bad request\r\n"), reply[:200]
