"""Prometheus metrics (issue 17, docs/metrics.md) on examples/rest-api.cfg: `/metrics` on
the REST listener in HAProxy 2.6.12's exporter format, checked against the exporter's own
capture (tests/fixtures/promex-2.6.12), parsed with the Prometheus client library's parser,
scraped by Debian's Prometheus server, and the stats socket still read by
prometheus-haproxy-exporter (written for HAProxy's CSV)."""

import os
import subprocess
import time

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from conftest import (NS_CLIENT, ROOT, STATE_DIR, Prometheus, admin_cli, example_config,
                      run, start_backend, stop_backends, wait_status)

SERVERS = {"s1": "10.10.2.11", "s2": "10.10.2.12"}
VIP = "10.10.1.1"
API = "http://127.0.0.1:8404"
AUTH = ("viewer", "viewpass")
FIXTURES = os.path.join(ROOT, "tests/fixtures/promex-2.6.12")
WORK = "/tmp/sluice-test-metrics"


TESTBED_CONFIG = example_config("rest-api.cfg", "metrics")
pytestmark = pytest.mark.sanitizer


@pytest.fixture(scope="module")
def metrics_tb(testbed):
    procs = [start_backend(addr, 9000, name, tool="http_backend.py")
             for name, addr in SERVERS.items()]
    wait_status("be_web", SERVERS)
    yield testbed
    stop_backends(procs)


def scrape(query=""):
    r = requests.get(f"{API}/metrics{query}", auth=AUTH, timeout=10)
    return r


def client(n):
    for _ in range(n):
        run(["ip", "netns", "exec", NS_CLIENT, "curl", "-sS", "-o", "/dev/null",
             f"http://{VIP}:8080/echo"])


def families(text):
    """{name: (help line, type line)} in order."""
    out = {}
    lines = text.splitlines()
    for i, l in enumerate(lines):
        if l.startswith("# HELP "):
            out[l.split()[2]] = (l, lines[i + 1])
    return out


def test_headers_and_families_as_haproxy(metrics_tb):
    r = scrape()
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/plain; version=0.0.4"
    assert r.headers["Cache-Control"] == "no-cache"
    # Streamed as HAProxy's exporter sends it: chunked, family by family.
    assert r.headers["Transfer-Encoding"] == "chunked" and "Content-Length" not in r.headers
    ours = families(r.text)
    with open(os.path.join(FIXTURES, "all.txt")) as f:
        theirs = families(f.read())
    haproxy_ours = [n for n in ours if n.startswith("haproxy_")]
    # The same HELP and TYPE lines, byte for byte, and in HAProxy's order.
    assert [n for n in theirs if n in ours] == haproxy_ours
    for name in haproxy_ours:
        assert ours[name] == theirs[name], name
    # HAProxy's capture had two more frontends, a TCP proxy and a stick table: the families
    # Sluice's configuration cannot produce are the only ones missing.
    missing = set(theirs) - set(ours)
    assert missing <= {"haproxy_server_check_code", "haproxy_server_check_duration_seconds"}, \
        missing
    assert any(n.startswith("sluice_worker_") for n in ours)


def test_text_parses_with_the_prometheus_client_library(metrics_tb):
    fams = {f.name: f for f in text_string_to_metric_families(scrape().text)}
    nbthread = fams["haproxy_process_nbthread"]
    assert nbthread.type == "gauge" and nbthread.samples[0].value == 1
    status = {(s.labels["server"], s.labels["state"]): s.value
              for s in fams["haproxy_server_status"].samples}
    assert status[("s1", "UP")] == 1 and status[("s1", "DOWN")] == 0
    assert fams["haproxy_frontend_http_requests"].type == "counter"


def _sample(text, name, **labels):
    for f in text_string_to_metric_families(text):
        for s in f.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    raise AssertionError(f"no {name} {labels}")


def test_values_follow_traffic_and_state(metrics_tb):
    before = scrape().text
    client(10)
    after = scrape().text
    name = "haproxy_frontend_http_requests_total"
    assert _sample(after, name, proxy="fe_main") - _sample(before, name, proxy="fe_main") == 10
    rx = "sluice_worker_rx_pkts_total"
    assert _sample(after, rx, worker="0") > _sample(before, rx, worker="0")
    admin_cli("set server be_web/s2 state drain")
    try:
        text = scrape().text
        assert _sample(text, "haproxy_server_status", server="s2", state="DRAIN") == 1
        assert _sample(text, "haproxy_backend_agg_server_status", proxy="be_web",
                       state="DRAIN") == 1
        admin_cli("set server be_web/s2 state maint")
        text = scrape("?no-maint").text
        assert 'server="s2"' not in text and 'server="s1"' in text
    finally:
        admin_cli("set server be_web/s2 state ready")


def test_map_and_acl_sizes(metrics_tb):
    listed = admin_cli("show map").splitlines()[1]
    ref, file = listed.split()[0], listed.split()[1].strip("()")
    count = int(listed.rsplit("entry_cnt=", 1)[1])
    text = scrape("?scope=global").text
    assert _sample(text, "sluice_map_entries", id=ref, file=file) == count
    admin_cli(f"add map #{ref} 192.0.2.0/24 DOC")
    try:
        text = scrape().text
        assert _sample(text, "sluice_map_entries", id=ref, file=file) == count + 1
    finally:
        admin_cli(f"del map #{ref} 192.0.2.0/24")
    acl = admin_cli("show acl").splitlines()[1]
    assert _sample(text, "sluice_acl_entries", id=acl.split()[0]) == \
        int(acl.rsplit("entry_cnt=", 1)[1])


def test_scopes_and_bad_queries(metrics_tb):
    r = scrape("?scope=frontend&scope=backend")
    names = set(families(r.text))
    assert any(n.startswith("haproxy_frontend_") for n in names)
    assert any(n.startswith("haproxy_backend_") for n in names)
    assert not any(n.startswith(("haproxy_process_", "haproxy_server_", "sluice_"))
                   for n in names)
    assert scrape("?scope=").text == ""
    r = scrape("?scope=bogus")
    assert r.status_code == 400 and r.headers["Content-Type"] == "text/html"
    with open(os.path.join(FIXTURES, "bogus.txt")) as f:
        assert r.text == f.read().split("\n\n", 1)[1]
    assert scrape("?scope").status_code == 400
    r = requests.head(f"{API}/metrics", auth=AUTH, timeout=5)
    assert r.status_code == 200 and r.text == ""


def test_prometheus_server_scrapes_it(metrics_tb):
    with Prometheus(WORK, "127.0.0.1:8404", basic_auth=AUTH) as prom:
        prom.assert_scraped('haproxy_server_status{proxy="be_web",server="s1",state="UP"}')


def test_haproxy_exporter_reads_the_stats_socket(metrics_tb):
    exp = subprocess.Popen(
        ["prometheus-haproxy-exporter",
         f"--haproxy.scrape-uri=unix:{os.path.join(STATE_DIR, 'admin.sock')}",
         "--web.listen-address=127.0.0.1:19101"],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        text = ""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and "haproxy_up" not in text:
            time.sleep(0.5)
            try:
                text = requests.get("http://127.0.0.1:19101/metrics", timeout=5).text
            except requests.ConnectionError:
                pass
        assert _sample(text, "haproxy_up") == 1, text[:2000]
        assert _sample(text, "haproxy_server_up", backend="be_web", server="s1") == 1
        assert _sample(text, "haproxy_backend_up", backend="be_web") == 1
        assert _sample(text, "haproxy_frontend_http_requests_total", frontend="fe_main") > 0
    finally:
        exp.terminate()
        exp.wait(timeout=30)
