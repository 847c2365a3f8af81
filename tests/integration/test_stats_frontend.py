"""The statistics page and the Prometheus exporter served by data-plane frontends (issue 17,
docs/stats-page.md, docs/metrics.md) on examples/stats-page.cfg: clients in sl-client ask
Sluice's own TCP stack for them; the workers match `stats uri` after the http-request rules,
check `stats auth` and `stats admin`, and hand the request to the control plane, which
renders it and streams the answer back. Checked with curl, a raw socket, headless chromium
(screenshots in build/test-results/screenshots/) and the Prometheus client's parser; every
change the page makes is seen through the stats socket and in the servers' traffic."""

import base64
import json
import subprocess
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import (NS_CLIENT, Prometheus, Syslog, admin_cli, chromium_page, example_config,
                      start_backend, stat_row, stop_backends, wait_status)

TESTBED_CONFIG = example_config("stats-page.cfg", "stats-frontend")
pytestmark = pytest.mark.sanitizer

SERVERS = {"s1": "10.10.2.11", "s2": "10.10.2.12"}
SITE = "http://10.10.1.1:8080"
PAGE = SITE + "/stats"
LISTEN = "http://10.10.1.1:8081"
ADMIN = ("admin", "secret")
VIEWER = ("viewer", "viewpass")


@pytest.fixture(scope="module")
def page_tb(testbed):
    log = Syslog()
    procs = [start_backend(addr, 9000, name, tool="http_backend.py")
             for name, addr in SERVERS.items()]
    wait_status("be_web", SERVERS)
    testbed.log = log
    yield testbed
    stop_backends(procs)
    log.close()


def curl(*args, auth=None, timeout=20):
    """curl in the client namespace: (status, headers as {lower name: value}, body). With
    several URLs, the last answer's."""
    cmd = ["ip", "netns", "exec", NS_CLIENT, "curl", "-s", "-D", "/dev/stderr", "-o",
           "/dev/stdout", "--max-time", str(timeout)]
    if auth:
        cmd += ["-u", f"{auth[0]}:{auth[1]}"]
    p = subprocess.run(cmd + list(args), capture_output=True, timeout=timeout + 5)
    heads = p.stderr.decode(errors="replace").split("\r\n\r\n")
    head = [h for h in heads if h.startswith("HTTP/")][-1].split("\r\n")
    status = int(head[0].split()[1])
    fields = {}
    for line in head[1:]:
        k, _, v = line.partition(":")
        fields[k.strip().lower()] = v.strip()
    return status, fields, p.stdout


def raw(request, read_until=None, timeout=10):
    """Bytes sent on one TCP connection from the client namespace; what came back until
    the server closed (or `read_until` was seen, or the timeout)."""
    code = (
        "import socket, sys, time\n"
        "s = socket.create_connection(('10.10.1.1', 8080), timeout=%d)\n"
        "s.sendall(sys.stdin.buffer.read())\n"
        "out = b''\n"
        "deadline = time.monotonic() + %d\n"
        "while time.monotonic() < deadline:\n"
        "    try:\n"
        "        b = s.recv(65536)\n"
        "    except socket.timeout:\n"
        "        break\n"
        "    if not b:\n"
        "        break\n"
        "    out += b\n"
        "    if %r and out.count(%r) >= 1:\n"
        "        break\n"
        "sys.stdout.buffer.write(out)\n" % (timeout, timeout, read_until, read_until))
    p = subprocess.run(["ip", "netns", "exec", NS_CLIENT, "/usr/bin/python3", "-c", code],
                       input=request, capture_output=True, timeout=timeout + 5)
    return p.stdout


def basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_credentials_are_asked_for(page_tb):
    status, h, body = curl(PAGE)
    assert status == 401
    assert h["www-authenticate"] == 'Basic realm="Sluice Statistics"'  # `stats realm`
    assert b"401 Unauthorized" in body
    assert curl(PAGE, auth=("admin", "wrong"))[0] == 401
    assert curl(PAGE, auth=("nobody", "secret"))[0] == 401
    # The http-request rules run before the page is looked for (HAProxy 2.6's order).
    assert curl(PAGE + "/private", auth=ADMIN)[0] == 403


def test_page_and_its_exports(page_tb):
    status, h, body = curl(PAGE, auth=ADMIN)
    assert status == 200
    assert h["content-type"] == "text/html" and h["cache-control"] == "no-cache"
    html = body.decode()
    assert "<title>Statistics Report for HAProxy</title>" in html
    assert '<meta http-equiv="refresh" content="10">' in html  # stats refresh 10s
    for anchor in ("fe_main/Frontend", "be_web/s1", "be_web/s2", "be_web/Backend", "stats"):
        assert f'name="{anchor}"' in html, anchor
    assert "refresh" not in curl(PAGE + ";norefresh", auth=ADMIN)[2].decode().split("<style")[0]
    # ;csv is `show stat`, as the stats socket prints it.
    status, h, body = curl(PAGE + ";csv", auth=VIEWER)
    assert status == 200 and h["content-type"] == "text/plain"
    ours = body.decode().splitlines()
    theirs = [l for l in admin_cli("show stat").splitlines() if l]
    assert ours[0] == theirs[0]
    assert [l.split(",")[:2] for l in ours] == [l.split(",")[:2] for l in theirs]
    status, h, body = curl(PAGE + ";json", auth=VIEWER)
    assert h["content-type"] == "application/json"
    assert json.loads(body)[0][0]["field"]["name"] == "pxname"
    scoped = curl(PAGE + "?scope=be_w", auth=VIEWER)[2].decode()
    assert 'name="be_web"' in scoped and 'name="fe_main"' not in scoped
    # An absolute URI: its path is what `stats uri` and the options are read from.
    out = raw((f"GET http://10.10.1.1:8080/stats;csv HTTP/1.1\r\nHost: 10.10.1.1:8080\r\n"
               f"Authorization: {basic(*VIEWER)}\r\nConnection: close\r\n\r\n").encode())
    assert out.startswith(b"HTTP/1.1 200 OK") and b"\r\n\r\n# pxname,svname," in out, out[:300]
    # HEAD: the head alone.
    status, h, body = curl("-I", PAGE, auth=ADMIN)
    assert status == 200 and h["content-type"] == "text/html" and b"<html" not in body


def test_requests_counted_as_intercepted(page_tb):
    before = int(stat_row("fe_main", "FRONTEND")["intercepted"])
    for _ in range(3):
        assert curl(PAGE + ";csv", auth=VIEWER)[0] == 200
    assert int(stat_row("fe_main", "FRONTEND")["intercepted"]) == before + 3


def test_listen_page_scope_and_hidden_version(page_tb):
    # `stats enable` + `stats uri /`: no credentials, only the proxies `stats scope` names.
    status, _, body = curl(LISTEN + "/")
    html = body.decode()
    assert status == 200
    assert 'name="fe_main"' in html and 'name="be_web"' in html
    assert 'name="stats"' not in html
    assert "Sluice version" not in html  # stats hide-version
    assert "<form method=\"post\">" not in html and "<select" not in html  # no stats admin
    # The exports are scoped too: `show stat`'s header and lines, of those proxies only.
    csv = curl(LISTEN + "/;csv")[2].decode()
    theirs = [l for l in admin_cli("show stat").splitlines() if l]
    assert csv.splitlines()[0] == theirs[0]
    assert [l.split(",")[:2] for l in csv.splitlines()[1:]] == \
        [l.split(",")[:2] for l in theirs[1:] if l.split(",")[0] in ("fe_main", "be_web")]
    rows = json.loads(curl(LISTEN + "/;json")[2])
    assert {r[0]["value"]["value"] for r in rows} == {"fe_main", "be_web"}


def test_admin_form_drains_a_server(page_tb):
    b = stat_row("be_web", "BACKEND")["iid"]
    form = f"s=s1&action=drain&b=%23{b}"
    # The viewer may see the page, not act: HAProxy's DENY, nothing changed.
    status, h, _ = curl("-d", form, PAGE, auth=VIEWER)
    assert status == 303 and h["location"] == "/stats;st=DENY"
    assert stat_row("be_web", "s1")["status"] == "UP"
    try:
        status, h, _ = curl("-d", form, PAGE, auth=ADMIN)
        assert status == 303 and h["location"] == "/stats;st=DONE"
        assert stat_row("be_web", "s1")["status"] == "DRAIN"
        # New requests go to s2 only.
        served = {curl(SITE + "/")[1].get("x-server") for _ in range(6)}
        assert served == {"s2"}, served
    finally:
        status, h, _ = curl("-d", f"s=s1&action=ready&b=%23{b}", PAGE, auth=ADMIN)
    assert h["location"] == "/stats;st=DONE"
    assert stat_row("be_web", "s1")["status"] == "UP"
    served = {curl(SITE + "/")[1].get("x-server") for _ in range(6)}
    assert served == {"s1", "s2"}, served


def test_page_in_chromium_with_admin_form(page_tb):
    admin_cli("set server be_web/s2 state maint")
    try:
        page = chromium_page(PAGE, "frontend-stats-page", ADMIN, netns=NS_CLIENT)
        assert page["status"] == 200 and page["title"] == "Statistics Report for HAProxy"
        assert (page["by"]["be_web/s1"]["cls"], page["by"]["be_web/s1"]["bg"]) == \
            ("active_up", "rgb(192, 255, 192)")
        assert (page["by"]["be_web/s2"]["cls"], page["by"]["be_web/s2"]["bg"]) == \
            ("maintain", "rgb(192, 120, 32)")
        page = chromium_page(PAGE, "frontend-stats-drain", ADMIN, act="be_web/s1=drain",
                             netns=NS_CLIENT)
        assert page["url"].endswith("/stats;st=DONE"), page["url"]
        assert page["message"] == "[X] Action processed successfully."
        assert page["by"]["be_web/s1"]["cls"] == "active_draining"
        assert stat_row("be_web", "s1")["status"] == "DRAIN"
    finally:
        admin_cli("set server be_web/s1 state ready")
        admin_cli("set server be_web/s2 state ready")
    wait_status("be_web", SERVERS)


def test_prometheus_exporter_on_the_frontend(page_tb):
    status, h, body = curl(SITE + "/metrics")
    assert status == 200
    assert h["content-type"] == "text/plain; version=0.0.4"
    assert h["transfer-encoding"] == "chunked"  # streamed, as HAProxy's exporter
    families = {f.name: f for f in text_string_to_metric_families(body.decode())}
    assert families["haproxy_process_nbthread"].samples[0].value == 1
    servers = {s.labels["server"] for s in families["haproxy_server_status"].samples
               if s.labels["proxy"] == "be_web"}
    assert servers == {"s1", "s2"}
    intercepted = [s.value for s in families["haproxy_frontend_intercepted_requests"].samples
                   if s.labels["proxy"] == "fe_main"]
    assert intercepted and intercepted[0] >= 1
    assert "sluice_worker_requests_served" in families
    # Its query parameters: one scope.
    scoped = curl(SITE + "/metrics?scope=server")[2].decode()
    assert "haproxy_server_status{" in scoped and "haproxy_frontend_" not in scoped
    assert curl(SITE + "/metrics?scope=nope")[0] == 400
    # An HTTP/1.0 client gets the text delimited by the close.
    status, h, body = curl("-0", SITE + "/metrics")
    assert status == 200 and "transfer-encoding" not in h
    assert {f.name for f in text_string_to_metric_families(body.decode())} == set(families)


def test_prometheus_server_scrapes_the_frontend(page_tb):
    # Debian's Prometheus in the client namespace, scraping the data plane's frontend.
    with Prometheus("/tmp/sluice-test-stats-frontend-prom", "10.10.1.1:8080", port=19091,
                    netns=NS_CLIENT) as prom:
        prom.assert_scraped('haproxy_server_status{proxy="be_web",server="s1",state="UP"}')


def test_keep_alive_and_pipelined_requests(page_tb):
    auth = basic(*VIEWER)
    req = (f"GET /stats;csv HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n\r\n"
           "GET /metrics?scope=frontend HTTP/1.1\r\nHost: x\r\n\r\n"
           "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").encode()
    out = raw(req)
    # Three answers in order on one connection: the page's, the exporter's, the server's.
    assert out.count(b"HTTP/1.1 200 OK") == 2 and out.count(b"HTTP/1.1 404") == 1, out[:300]
    first = out.index(b"# pxname")
    second = out.index(b"haproxy_frontend_current_sessions")
    third = out.index(b"x-server:")
    assert first < second < third


def test_clients_that_leave_free_their_calls(page_tb):
    # Twice the service table's bound (32 calls per worker) of clients that ask and leave
    # before the answer: every call is let go, so the requests after still get the page.
    req = b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
    for _ in range(64):
        subprocess.run(["ip", "netns", "exec", NS_CLIENT, "/usr/bin/python3", "-c",
                        "import socket; s = socket.create_connection(('10.10.1.1', 8080)); "
                        "s.sendall(%r); s.close()" % req], check=True, timeout=10)
    time.sleep(0.5)
    for _ in range(40):
        assert curl(PAGE + ";csv", auth=VIEWER)[0] == 200
    assert page_tb.counters()["proxy_service_full"] == 0


def test_log_lines_name_the_service(page_tb):
    page_tb.log.drain()
    curl(PAGE + ";csv", auth=VIEWER)
    curl(SITE + "/metrics")
    lines = page_tb.log.lines(2)
    assert any(" fe_main fe_main/<STATS> 0/0/0/" in l and " 200 " in l and " LR-- " in l
               and '"GET /stats;csv HTTP/1.1"' in l for l in lines), lines
    assert any(" fe_main fe_main/<PROMEX> " in l and '"GET /metrics HTTP/1.1"' in l
               for l in lines), lines
