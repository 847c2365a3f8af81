"""`http-check expect` (issues 11 and 13): real HTTP servers in sl-server answer the checks with
fixed status codes and bodies, and `show stat` must show each server UP or DOWN as HAProxy
2.6.12 did on the same configuration, with L7OK, L7STS or L7RSP, the code (none for L7RSP)
and, for a body that fails, HAProxy's words in last_chk. tests/fixtures/http-check.cfg:
be_list expects 200,301-302; be_default expects nothing (2xx or 3xx pass); be_string a text
in the body, be_not_string its absence, be_rstatus a regex of the code, be_not_status codes
outside a range."""

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
}


@pytest.fixture(scope="module")
def http_servers(testbed):
    procs = [start_backend("10.10.2.11", 9000 + code, f"c{code}", "--mode", "http",
                           "--status", code) for code in CODES]
    yield
    stop_backends(procs)


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
