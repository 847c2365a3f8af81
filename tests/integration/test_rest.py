"""The REST interface (issue 17, docs/rest-api.md) on examples/rest-api.cfg plus a TLS
frontend with ticket keys: the Runtime API article's operations done with curl and
python-requests over `stats rest`, each seen by clients and through the stats socket; Basic
authentication and levels; errors for bad requests; a thousand slow clients starving nothing;
the OpenAPI document validated against the specification's schema."""

import base64
import json
import os
import socket
import subprocess
import time

import pytest
import requests

from conftest import (NS_CLIENT, ROOT, admin_cli, chromium_page, example_config, run,
                      start_backend, stat_row, stop_backends, wait_status)

SERVERS = {"s1": "10.10.2.11", "s2": "10.10.2.12"}
VIP = "10.10.1.1"
CLIENT = "10.10.1.2"
API = "http://127.0.0.1:8404"
ADMIN = ("admin", "secret")
OPS = ("ops", "opspass")
VIEWER = ("viewer", "viewpass")
CERTS = "/tmp/sluice-test-rest"
KEYS = f"{CERTS}/tls-ticket-keys"
TLS_PORT = 8443


def _config():
    os.makedirs(CERTS, exist_ok=True)
    run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=rest.test", "-keyout", f"{CERTS}/key.pem", "-out", f"{CERTS}/crt.pem"])
    with open(f"{CERTS}/site.pem", "w") as f:
        f.write(open(f"{CERTS}/crt.pem").read() + open(f"{CERTS}/key.pem").read())
    with open(KEYS, "w") as f:
        f.write("".join(base64.b64encode(os.urandom(48)).decode() + "\n" for _ in range(3)))
    # A second listener over TLS, read-only for everyone (level user), no userlist.
    tls_rest = f"    stats rest 127.0.0.1:8405 level user crt {CERTS}/site.pem\n"
    return example_config("rest-api.cfg", "rest",
                          replace=[("    stats timeout 2m\n", tls_rest + "    stats timeout 2m\n")],
                          extra=f"""
# One server in each state for the statistics page (UP, DOWN, DRAIN once drained, MAINT).
backend be_states
    server up 10.10.2.11:9000 check inter 500ms
    server down 10.10.2.12:9001 check inter 500ms
    server drain 10.10.2.11:9000 check inter 500ms
    server maint 10.10.2.12:9000 disabled

frontend fe_tls
    bind {VIP}:{TLS_PORT} ssl crt {CERTS}/site.pem tls-ticket-keys {KEYS} alpn http/1.1
    http-request return status 200 content-type text/plain string tls-ok
""")


TESTBED_CONFIG = _config()
pytestmark = pytest.mark.sanitizer


@pytest.fixture(scope="module")
def rest_tb(testbed):
    procs = [start_backend(addr, 9000, name, tool="http_backend.py")
             for name, addr in SERVERS.items()]
    wait_status("be_web", SERVERS)  # both servers fully UP by their checks
    yield testbed
    stop_backends(procs)


def api(method, path, auth=ADMIN, **kw):
    return requests.request(method, API + path, auth=auth, timeout=10, **kw)


def get(path, auth=ADMIN):
    r = api("GET", path, auth)
    assert r.status_code == 200, (path, r.status_code, r.text)
    return r.json()


def curl_api(*args):
    """curl on the host (where the REST listener is), as an operator would type it."""
    return run(["curl", "-sS", "--max-time", "10", *args], check=False)


def client(path="/echo", port=8080):
    p = run(["ip", "netns", "exec", NS_CLIENT, "curl", "-sS", "--max-time", "5", "-o",
             "/dev/null", "-w", "%{http_code} %header{x-server}",
             f"http://{VIP}:{port}{path}"], check=False)
    return p.stdout.strip()


# --- authentication and levels -------------------------------------------------------


def test_no_credentials_get_401(rest_tb):
    r = requests.get(API + "/v1/info", timeout=5)
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == 'Basic realm="Sluice"'
    assert r.json()["error"] == "authentication required"
    assert api("GET", "/v1/info", auth=("admin", "wrong")).status_code == 401
    assert api("GET", "/v1/info", auth=("nobody", "secret")).status_code == 401


def test_user_level_reads_but_cannot_change(rest_tb):
    info = get("/v1/info", auth=VIEWER)
    assert info["Name"] == "Sluice" and info["Nbthread"] == 1
    before = admin_cli("get weight be_web/s1")
    r = api("PUT", "/v1/backends/be_web/servers/s1", VIEWER, json={"weight": 7})
    assert r.status_code == 403, r.text
    r = api("POST", "/v1/command", VIEWER, json={"command": "set weight be_web/s1 7"})
    assert r.status_code == 403 and r.json()["output"] == "Permission denied\n"
    assert admin_cli("get weight be_web/s1") == before
    # The same account reads through the generic command too.
    r = api("POST", "/v1/command", VIEWER, json={"command": "show servers state be_web"})
    assert r.status_code == 200 and r.json()["output"].startswith("1\n# be_id")


def test_operator_cannot_run_admin_commands(rest_tb):
    # `set server` is an admin command on the stats socket: so here, for an operator.
    r = api("PUT", "/v1/backends/be_web/servers/s1", OPS, json={"weight": 7})
    assert r.status_code == 403, r.text
    assert r.json() == {"error": "Permission denied", "message": "Permission denied",
                        "code": 403, "command": "set server be_web/s1 weight 7"}
    # What an operator socket may do, it may: `clear counters` (not `clear counters all`).
    r = api("POST", "/v1/command", OPS, json={"command": "clear counters"})
    assert r.status_code == 200, r.text
    r = api("POST", "/v1/command", OPS, json={"command": "clear counters all"})
    assert r.status_code == 403, r.text


# --- the article's operations --------------------------------------------------------


def test_drain_a_server_with_curl(rest_tb):
    p = curl_api("-u", "admin:secret", "-X", "PUT", "-H", "Content-Type: application/json",
                 "-d", '{"admin_state": "drain"}', f"{API}/v1/backends/be_web/servers/s1")
    assert json.loads(p.stdout)["admin_state"] == "drain", p.stdout + p.stderr
    try:
        assert stat_row("be_web", "s1")["status"] == "DRAIN"
        assert admin_cli("show servers state be_web").splitlines()[2].split()[6] == "8"
        assert {client() for _ in range(8)} == {"200 s2"}
    finally:
        r = api("PUT", "/v1/backends/be_web/servers/s1", json={"admin_state": "ready"})
        assert r.status_code == 200 and r.json()["admin_state"] == "ready"
    assert stat_row("be_web", "s1")["status"] == "UP"
    assert {client() for _ in range(8)} == {"200 s1", "200 s2"}


def test_change_a_weight_with_requests(rest_tb):
    s = requests.Session()
    s.auth = ADMIN
    r = s.put(API + "/v1/backends/be_web/servers/s2", json={"weight": 0}, timeout=5)
    assert r.status_code == 200 and r.json()["weight"] == 0
    try:
        assert admin_cli("get weight be_web/s2") == "0 (initial 1)\n\n"
        assert {client() for _ in range(6)} == {"200 s1"}
        r = s.put(API + "/v1/backends/be_web/servers/s2", json={"weight": "300"}, timeout=5)
        assert r.status_code == 400
        # The stats socket's own error, and the command that gave it.
        assert r.json()["command"] == "set server be_web/s2 weight 300"
        assert r.json()["error"] == admin_cli("set server be_web/s2 weight 300").rstrip("\n")
    finally:
        s.put(API + "/v1/backends/be_web/servers/s2", json={"weight": 1}, timeout=5)
    assert admin_cli("get weight be_web/s2") == "1 (initial 1)\n\n"


def test_disable_and_enable_a_frontend(rest_tb):
    r = api("PUT", "/v1/frontends/fe_main", json={"state": "disabled"})
    assert r.status_code == 200 and r.json()["status"] == "PAUSED"
    try:
        assert stat_row("fe_main", "FRONTEND")["status"] == "PAUSED"
        assert client().startswith("000")  # refused
    finally:
        r = api("PUT", "/v1/frontends/fe_main", json={"state": "enabled"})
    assert r.status_code == 200 and r.json()["status"] == "OPEN"
    assert client().startswith("200")
    # As the stats socket says it: enabling an open frontend is no error.
    assert api("PUT", "/v1/frontends/fe_main", json={"state": "enabled"}).status_code == 200


def test_set_gpt0_and_edit_the_whitelist(rest_tb):
    acl = next(a for a in get("/v1/acls") if a["file"].endswith("whitelist.lst"))
    r = api("PUT", f"/v1/stick_tables/fe_main/entries/{CLIENT}", json={"gpt0": 1})
    assert r.status_code == 204, r.text
    try:
        assert f"key={CLIENT} " in admin_cli("show table fe_main data.gpt0 gt 0")
        entry = get(f"/v1/stick_tables/fe_main/entries?key={CLIENT}")
        assert entry[0]["key"] == CLIENT and entry[0]["data"]["gpt0"] == 1
        assert client().startswith("403")
        # Whitelisted: the flag no longer blocks it.
        r = api("POST", f"/v1/acls/{acl['id']}/entries", json={"value": CLIENT})
        assert r.status_code == 201, r.text
        assert CLIENT in admin_cli(f"show acl #{acl['id']}")
        assert client().startswith("200")
        r = api("DELETE", f"/v1/acls/{acl['id']}/entries/{CLIENT}")
        assert r.status_code == 204, r.text
        assert CLIENT not in admin_cli(f"show acl #{acl['id']}")
        assert client().startswith("403")
    finally:
        assert api("DELETE", f"/v1/stick_tables/fe_main/entries/{CLIENT}").status_code == 204
    assert get(f"/v1/stick_tables/fe_main/entries?key={CLIENT}") == []
    assert client().startswith("200")


def test_add_map_entries_in_bulk(rest_tb):
    ref = next(m for m in get("/v1/maps") if m["file"].endswith("ip-country.lst"))
    before = len(get(f"/v1/maps/{ref['id']}/entries"))
    bulk = [{"key": f"172.{16 + i // 256}.{i % 256}.0/24", "value": f"C{i}"} for i in range(1000)]
    bulk.append({"key": f"{CLIENT}/32", "value": "TB"})
    r = api("POST", f"/v1/maps/{ref['id']}/entries", json=bulk)
    assert r.status_code == 201, r.text
    listed = admin_cli(f"show map #{ref['id']}").splitlines()
    assert len([l for l in listed if l.startswith("0x")]) == before + 1001
    p = run(["ip", "netns", "exec", NS_CLIENT, "curl", "-sS", f"http://{VIP}:8080/country"])
    assert p.stdout == "country=TB\n"
    # Pages, and the whole length in X-Total-Count.
    r = api("GET", f"/v1/maps/{ref['id']}/entries?offset=10&limit=5")
    assert len(r.json()) == 5 and int(r.headers["X-Total-Count"]) == before + 1001
    # By file name too (URL-encoded), and one key.
    enc = requests.utils.quote(ref["file"], safe="")
    assert get(f"/v1/maps/{enc}/entries?key={CLIENT}/32")[0]["value"] == "TB"
    assert get(f"/v1/maps/{ref['id']}/match?value={CLIENT}")["value"] == "TB"
    assert api("DELETE", f"/v1/maps/{ref['id']}/entries/{CLIENT}%2F32").status_code == 204
    assert run(["ip", "netns", "exec", NS_CLIENT, "curl", "-sS",
                f"http://{VIP}:8080/country"]).stdout == "country=LAB\n"


def test_map_version_as_a_transaction(rest_tb):
    ref = next(m for m in get("/v1/maps") if m["file"].endswith("ip-country.lst"))
    r = api("POST", f"/v1/maps/{ref['id']}/versions")
    assert r.status_code == 201, r.text
    ver = r.json()["version"]
    r = api("POST", f"/v1/maps/{ref['id']}/versions/{ver}/entries",
            json=[{"key": f"{CLIENT}/32", "value": "NEW"}])
    assert r.status_code == 201
    # Not visible before the commit.
    assert run(["ip", "netns", "exec", NS_CLIENT, "curl", "-sS",
                f"http://{VIP}:8080/country"]).stdout == "country=LAB\n"
    assert api("PUT", f"/v1/maps/{ref['id']}/versions/{ver}").status_code == 204
    assert run(["ip", "netns", "exec", NS_CLIENT, "curl", "-sS",
                f"http://{VIP}:8080/country"]).stdout == "country=NEW\n"
    assert admin_cli(f"show map #{ref['id']}").count("\n") == 2  # the version, alone


def _s_client(*args):
    return subprocess.run(["ip", "netns", "exec", NS_CLIENT, "openssl", "s_client", "-connect",
                           f"{VIP}:{TLS_PORT}", "-servername", "rest.test", "-tls1_2", *args],
                          input=b"", capture_output=True, timeout=15)


def test_rotate_a_ticket_key(rest_tb):
    sess = f"{CERTS}/sess.pem"
    p = _s_client("-sess_out", sess)
    assert b"TLS session ticket:" in p.stdout
    assert b"Reused" in _s_client("-sess_in", sess).stdout
    files = get("/v1/ssl/tls_keys")
    assert files == [{"id": 0, "file": KEYS}]
    new = [base64.b64encode(os.urandom(48)).decode() for _ in range(3)]
    for k in new:
        assert api("POST", "/v1/ssl/tls_keys/0", json={"key": k}).status_code == 204
    assert get("/v1/ssl/tls_keys/0")["keys"] == new
    shown = admin_cli("show tls-keys #0").splitlines()
    assert [l.split()[1] for l in shown[2:] if l] == new
    # The old ticket's key is gone: the client gets a full handshake.
    assert b"Reused" not in _s_client("-sess_in", sess).stdout
    bad = api("POST", "/v1/ssl/tls_keys/0", json={"key": "not base64!"})
    assert bad.status_code == 400
    assert bad.json()["error"] == "'set ssl tls-key' received invalid base64 encoded TLS key."


def test_replace_a_certificate(rest_tb):
    site = f"{CERTS}/site.pem"
    enc = requests.utils.quote(site, safe="")
    assert get("/v1/ssl/certs") == [site]
    before = get(f"/v1/ssl/certs/{enc}")
    assert before["Filename"] == site and before["Subject"] == "/CN=rest.test"
    run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3",
         "-subj", "/CN=rest.test/O=renewed", "-keyout", f"{CERTS}/key2.pem",
         "-out", f"{CERTS}/crt2.pem"])
    pem = open(f"{CERTS}/crt2.pem").read() + open(f"{CERTS}/key2.pem").read()
    r = api("PUT", f"/v1/ssl/certs/{enc}", data=pem, headers={"Content-Type": "text/plain"})
    assert r.status_code == 204, r.text
    after = get(f"/v1/ssl/certs/{enc}")
    assert after["Subject"] == "/CN=rest.test/O=renewed" and after["Serial"] != before["Serial"]
    assert "O = renewed" in _s_client().stdout.decode()
    # The stats socket sees the same certificate.
    assert "Subject: /CN=rest.test/O=renewed" in admin_cli(f"show ssl cert {site}")
    r = api("PUT", f"/v1/ssl/certs/{enc}", data="not a pem")
    assert r.status_code == 400
    r = api("PUT", "/v1/ssl/certs/%2Fnope.pem", data=pem)
    assert r.status_code == 400 and "not referenced" in r.json()["error"]


def test_ocsp_resource_answers_as_the_socket(rest_tb):
    assert get("/v1/ssl/ocsp")["text"] == admin_cli("show ssl ocsp-response")[:-1]
    r = api("PUT", "/v1/ssl/ocsp", data="AAAA")
    assert r.status_code == 400
    assert r.json()["error"] == admin_cli("set ssl ocsp-response AAAA").rstrip("\n")
    assert r.json()["error"] == "Unable to parse OCSP response."
    assert api("PUT", "/v1/ssl/ocsp", data="").status_code == 400


def test_sessions_listed_and_killed(rest_tb):
    # A client connected and silent: a session of fe_main until it is killed.
    nc = subprocess.Popen(["ip", "netns", "exec", NS_CLIENT, "nc", VIP, "8080"],
                          stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 5
        mine = []
        while time.monotonic() < deadline and not mine:
            mine = [x for x in get("/v1/sessions") if x.get("fe") == "fe_main"]
            time.sleep(0.1)
        assert mine, admin_cli("show sess")
        assert mine[0]["src"].startswith(CLIENT + ":")
        assert mine[0]["id"] in admin_cli("show sess")
        r = api("DELETE", f"/v1/sessions/{mine[0]['id']}")
        assert r.status_code == 204, r.text
        nc.wait(timeout=5)  # the connection was closed under it
        assert mine[0]["id"] not in admin_cli("show sess")
    finally:
        nc.kill()
        nc.wait()
    r = api("DELETE", "/v1/sessions/0x1")
    assert r.status_code == 404 and r.json()["error"] == "No such session (use 'show sess')."


def test_https_listener_with_its_own_level(rest_tb):
    p = curl_api("--cacert", f"{CERTS}/crt.pem", "--resolve", "rest.test:8405:127.0.0.1",
                 "https://rest.test:8405/v1/info")
    assert json.loads(p.stdout)["Name"] == "Sluice", p.stdout + p.stderr
    p = curl_api("--cacert", f"{CERTS}/crt.pem", "--resolve", "rest.test:8405:127.0.0.1",
                 "-X", "PUT", "-d", '{"weight": 2}', "-o", "/dev/null", "-w", "%{http_code}",
                 "https://rest.test:8405/v1/backends/be_web/servers/s1")
    assert p.stdout == "403"
    # Plain HTTP on the TLS port gets nothing.
    p = curl_api("-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:8405/v1/info")
    assert p.stdout == "000"


# --- errors ----------------------------------------------------------------------------


@pytest.mark.parametrize("method,path,body,status,error", [
    ("PUT", "/v1/backends/be_web/servers/s1", "{bad json", 400, "the body is not valid JSON"),
    ("PUT", "/v1/backends/be_web/servers/s1", '"x"', 400,
     "the body must be a JSON object or array"),
    ("PUT", "/v1/backends/be_web/servers/s9", '{"weight": 1}', 404, "No such server."),
    ("GET", "/v1/backends/nope/servers", None, 404, "No such backend."),
    ("GET", "/v1/nothing/here", None, 404, "unknown resource /v1/nothing/here"),
    ("DELETE", "/v1/info", None, 405, "method DELETE not allowed on /v1/info"),
    ("PUT", "/v1/backends/be_web/servers/s1", '{"colour": "red"}', 400, None),
    ("GET", "/v1/stick_tables/nope/entries", None, 404, "No such table"),
    ("GET", "/v1/maps/99/entries", None, 404,
     "Unknown map identifier. Please use #<id> or <file>."),
])
def test_clear_errors(rest_tb, method, path, body, status, error):
    r = api(method, path, data=body)
    assert r.status_code == status, r.text
    assert r.json()["code"] == status
    if error:
        assert r.json()["error"] == error
    else:
        assert r.json()["error"].startswith("unknown field 'colour'")


def test_cross_site_changes_refused(rest_tb):
    # A browser page of another site, holding this listener's Basic credentials.
    r = api("PUT", "/v1/backends/be_web/servers/s1", json={"weight": 3},
            headers={"Origin": "http://evil.example"})
    assert r.status_code == 403 and r.json()["error"] == "cross-site request refused"
    assert admin_cli("get weight be_web/s1") == "1 (initial 1)\n\n"
    r = api("PUT", "/v1/backends/be_web/servers/s1", json={"weight": 1},
            headers={"Origin": "http://127.0.0.1:8404"})
    assert r.status_code == 200, r.text


def test_several_waiting_commands_in_one_request(rest_tb):
    # Each `add acl` waits for the workers: the request is suspended and resumed twice.
    acl = next(a for a in get("/v1/acls") if a["file"].endswith("whitelist.lst"))
    r = api("POST", f"/v1/acls/{acl['id']}/entries",
            json=[{"value": "198.51.100.7"}, {"value": "198.51.100.8"}])
    assert r.status_code == 201, r.text
    shown = admin_cli(f"show acl #{acl['id']}")
    assert "198.51.100.7" in shown and "198.51.100.8" in shown
    for v in ("198.51.100.7", "198.51.100.8"):
        assert api("DELETE", f"/v1/acls/{acl['id']}/entries/{v}").status_code == 204


def test_oversized_body_gets_413(rest_tb):
    r = api("POST", "/v1/maps/1/entries", data=b"[" + b" " * (2 << 20) + b"]")
    assert r.status_code == 413
    # Without credentials nothing of the body is read: the 401 comes first.
    r = requests.post(API + "/v1/maps/1/entries", data=b" " * (2 << 20), timeout=5)
    assert r.status_code == 401
    assert get("/v1/info")["Name"] == "Sluice"


def test_a_thousand_slow_clients_starve_nothing(rest_tb):
    slow = []
    try:
        for _ in range(1000):
            c = socket.create_connection(("127.0.0.1", 8404), timeout=5)
            c.sendall(b"GET /v1/info HTTP/1.1\r\nHost: x\r\n")  # never finished
            slow.append(c)
        t0 = time.monotonic()
        assert get("/v1/info")["Name"] == "Sluice"
        assert admin_cli("show info").startswith("Name: Sluice\n")
        assert client().startswith("200")
        assert time.monotonic() - t0 < 5
    finally:
        for c in slow:
            c.close()
    assert get("/v1/info")["Name"] == "Sluice"


# --- the statistics page ---------------------------------------------------------------

def browse(name, auth=ADMIN, act=None, url=API + "/stats"):
    return chromium_page(url, name, auth, act)


def test_stats_page_state_colours_in_chromium(rest_tb):
    admin_cli("set server be_states/drain state drain")
    wait_status("be_states", ["down"], "DOWN")
    page = browse("stats-states")
    assert page["status"] == 200 and page["title"] == "Statistics Report for HAProxy"
    colours = {s: (page["by"][f"be_states/{s}"]["cls"], page["by"][f"be_states/{s}"]["bg"])
               for s in ("up", "down", "drain", "maint")}
    # HAProxy's classes and colours: UP green, DOWN red, DRAIN blue, MAINT brown.
    assert colours == {"up": ("active_up", "rgb(192, 255, 192)"),
                       "down": ("active_down", "rgb(255, 144, 144)"),
                       "drain": ("active_draining", "rgb(32, 160, 255)"),
                       "maint": ("maintain", "rgb(192, 120, 32)")}, colours
    # The status column as HAProxy writes it: "<since> <status>".
    assert page["by"]["be_states/maint"]["cells"][23].endswith(" MAINT")
    assert page["by"]["be_states/down"]["cells"][24].startswith("L4CON")
    assert page["by"]["be_states/Backend"]["cls"] == "backend"
    assert page["by"]["fe_main/Frontend"]["cells"][21] == "OPEN"  # queue cells are one


def test_stats_page_admin_form_in_chromium(rest_tb):
    try:
        page = browse("stats-admin-maint", act="be_states/up=maint")
        assert page["url"].endswith("/stats;st=DONE"), page["url"]
        assert page["message"] == "[X] Action processed successfully."
        assert page["by"]["be_states/up"]["cls"] == "maintain"
        assert stat_row("be_states", "up")["status"] == "MAINT"
    finally:
        page = browse("stats-admin-ready", act="be_states/up=ready")
    assert page["message"] == "[X] Action processed successfully."
    assert stat_row("be_states", "up")["status"].startswith("UP")


def test_stats_page_for_a_user_has_no_form(rest_tb):
    page = browse("stats-viewer", auth=VIEWER)
    assert page["by"]["be_states/up"]["cells"][0] == ""  # no checkbox column content
    r = requests.get(API + "/stats", auth=VIEWER, timeout=5)
    assert "<form method=\"post\">" not in r.text and "<select" not in r.text
    r = requests.post(API + "/stats", auth=VIEWER, data={"s": "up", "action": "maint",
                                                         "b": "be_states"},
                      allow_redirects=False, timeout=5)
    assert r.status_code == 303 and r.headers["Location"] == "/stats;st=DENY"
    assert stat_row("be_states", "up")["status"].startswith("UP")


def test_stats_page_exports_and_options(rest_tb):
    r = requests.get(API + "/stats;csv;norefresh", auth=VIEWER, timeout=5)
    assert r.status_code == 200 and r.headers["Content-Type"] == "text/plain"
    ours = [l.split(",")[:2] for l in r.text.splitlines()]
    theirs = [l.split(",")[:2] for l in admin_cli("show stat").splitlines() if l]
    assert r.text.splitlines()[0] == admin_cli("show stat").splitlines()[0]
    assert ours == theirs
    r = requests.get(API + "/stats;json", auth=VIEWER, timeout=5)
    assert r.headers["Content-Type"] == "application/json"
    assert json.loads(r.text)[0][0]["field"]["name"] == "pxname"
    up = requests.get(API + "/stats;up", auth=VIEWER, timeout=5).text
    assert 'name="be_states/down"' not in up and 'name="be_states/maint"' not in up
    assert 'name="be_states/up"' in up
    scoped = requests.get(API + "/stats?scope=be_st", auth=VIEWER, timeout=5).text
    assert 'name="be_states"' in scoped and 'name="be_web"' not in scoped
    r = requests.post(API + "/stats", auth=ADMIN, data={"s": "nope", "action": "maint",
                                                        "b": "be_states"},
                      allow_redirects=False, timeout=5)
    assert r.headers["Location"] == "/stats;st=ERRP"
    r = requests.post(API + "/stats", auth=ADMIN, data={"action": "maint", "b": "be_states"},
                      allow_redirects=False, timeout=5)
    assert r.headers["Location"] == "/stats;st=NONE"


# --- the document ----------------------------------------------------------------------


def test_openapi_document_is_valid_and_complete(rest_tb):
    doc = get("/v1/openapi.json")
    with open(f"{CERTS}/openapi.json", "w") as f:
        json.dump(doc, f)
    p = run(["node", os.path.join(ROOT, "tests/node/validate-openapi.js"),
             f"{CERTS}/openapi.json"], check=False)
    assert p.returncode == 0 and p.stdout.strip() == "valid", p.stdout + p.stderr
    # Every documented GET without required parameters answers; an undocumented path does
    # not.
    for path, ops in doc["paths"].items():
        required = [p for p in ops.get("get", {}).get("parameters", []) if p.get("required")]
        if "get" in ops and not required:
            r = api("GET", path)
            assert r.status_code == 200, (path, r.text)
    assert api("GET", "/v1/undocumented").status_code == 404


def test_data_plane_api_paths(rest_tb):
    """The Data Plane API's runtime paths, as its clients send them."""
    base = "/v2/services/haproxy/runtime"
    servers = get(f"{base}/servers?backend=be_web")
    assert servers[0] == {"address": "10.10.2.11", "admin_state": "ready", "id": "1",
                          "name": "s1", "operational_state": "up", "port": 9000}, servers
    # A client PUTs the object it read, with the state changed.
    r = api("PUT", f"{base}/servers/s1?backend=be_web",
            json={**servers[0], "admin_state": "drain"})
    assert r.status_code == 200 and r.json()["admin_state"] == "drain", r.text
    try:
        assert stat_row("be_web", "s1")["status"] == "DRAIN"
        assert get("/v3/services/haproxy/runtime/backends/be_web/servers/s1")["admin_state"] == \
            "drain"
    finally:
        r = api("PUT", "/v3/services/haproxy/runtime/backends/be_web/servers/s1",
                json={"admin_state": "ready"})
    assert r.status_code == 200 and r.json()["admin_state"] == "ready"
    assert stat_row("be_web", "s1")["status"] == "UP"
    r = api("GET", f"{base}/servers/s9?backend=be_web")
    assert r.status_code == 404 and r.json()["message"] == "No such server."
    assert api("GET", f"{base}/servers").status_code == 400  # no backend
    # Map entries by key.
    ref = next(m for m in get("/v1/maps") if m["file"].endswith("ip-country.lst"))["id"]
    key = "198.51.100.0/24"
    enc = requests.utils.quote(key, safe="")
    r = api("POST", f"{base}/maps_entries?map={ref}", json={"key": key, "value": "DOC"})
    assert r.status_code == 201, r.text
    assert r.json()["key"] == key and r.json()["value"] == "DOC"
    assert r.json()["id"].startswith("0x")
    assert get(f"{base}/maps_entries/{enc}?map={ref}")["value"] == "DOC"
    r = api("PUT", f"{base}/maps_entries/{enc}?map={ref}", json={"value": "DOC2"})
    assert r.status_code == 200 and r.json()["value"] == "DOC2"
    assert f" {key} DOC2" in admin_cli(f"show map #{ref}")
    assert any(e["key"] == key for e in get(f"{base}/maps_entries?map={ref}"))
    assert api("DELETE", f"{base}/maps_entries/{enc}?map={ref}").status_code == 204
    r = api("GET", f"{base}/maps_entries/{enc}?map={ref}")
    assert r.status_code == 404 and r.json()["message"] == "Key not found."
