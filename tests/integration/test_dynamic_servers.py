"""`add server` and `del server` (issue 17; HAProxy 2.6's, transcripts C0-C1h) on the testbed,
from the stats socket and the REST interface (examples/rest-api.cfg): the answers byte for
byte, the new server in maintenance until `enable health` and `state ready`, then taking
real clients' requests; deleting only in maintenance, the server gone from traffic and from
`show stat`; a deleted configured server re-added with its id and counters from zero."""

import subprocess

import pytest
import requests

from conftest import (NS_CLIENT, STATE_DIR, example_config, start_backend, stat_row,
                      stop_backends, wait_status)

TESTBED_CONFIG = example_config("rest-api.cfg", "dynamic-servers", extra="""
backend be_static
    balance static-rr
    server s1 10.10.2.11:9000

backend be_hash
    balance source
    server s1 10.10.2.11:9000

backend be_ring
    balance source
    hash-type consistent
    server s1 10.10.2.11:9000
""")
pytestmark = pytest.mark.sanitizer

SERVERS = {"s1": "10.10.2.11", "s2": "10.10.2.12", "s3": "10.10.2.13"}
API = "http://127.0.0.1:8404"
ADMIN = ("admin", "secret")


@pytest.fixture(scope="module")
def dyn_tb(testbed):
    procs = [start_backend(addr, 9000, name, tool="http_backend.py")
             for name, addr in SERVERS.items()]
    wait_status("be_web", ["s1", "s2"])
    yield testbed
    stop_backends(procs)


def cli(cmd):
    """The answer's bytes, exactly (socat in one-shot mode, as the transcripts were taken)."""
    return subprocess.run(["socat", "-t", "5", "stdio", f"unix-connect:{STATE_DIR}/admin.sock"],
                          input=(cmd + "\n").encode(), capture_output=True, timeout=30,
                          check=True).stdout.decode()


def served(n=8):
    """Which servers answered n requests of a client (http_backend.py says its name)."""
    names = set()
    for _ in range(n):
        p = subprocess.run(["ip", "netns", "exec", NS_CLIENT, "curl", "-s", "-D", "-", "-o",
                            "/dev/null", "--max-time", "5", "http://10.10.1.1:8080/"],
                           capture_output=True, text=True, timeout=10)
        for line in p.stdout.splitlines():
            if line.lower().startswith("x-server:"):
                names.add(line.split(":", 1)[1].strip())
    return names


def state_line(backend, server):
    for line in cli(f"show servers state {backend}").splitlines():
        f = line.split()
        if len(f) > 3 and f[1] == backend and f[3] == server:
            return f
    return None


def test_add_enable_ready_then_traffic(dyn_tb):
    # C0: the new server, in maintenance, its check configured and disabled.
    assert cli("add server be_web/s3 10.10.2.13:9000 check weight 10") == \
        "New server registered.\n\n"
    f = state_line("be_web", "s3")
    # srv_id 3, op_state 0, admin_state 1 (FMAINT), uweight 10, iweight 10, check_status 1,
    # check_result 0, health 0, check_state 2 (configured, not enabled): HAProxy's line.
    assert f[2] == "3" and f[4] == "10.10.2.13", f
    assert f[5:9] == ["0", "1", "10", "10"], f
    assert f[10:14] == ["1", "0", "0", "2"], f
    row = stat_row("be_web", "s3")
    # C0c: MAINT, the weight not yet scaled (10 shows 1), no check status.
    assert (row["status"], row["weight"], row["check_status"]) == ("MAINT", "1", "")
    assert "s3" not in served()
    # C0d-f: enable health, state ready: UP with its check, weight 10, and clients reach it.
    assert cli("enable health be_web/s3") == "\n"
    assert cli("set server be_web/s3 state ready") == "\n"
    wait_status("be_web", ["s3"])
    row = stat_row("be_web", "s3")
    assert (row["weight"], row["check_status"]) == ("10", "L4OK"), row
    assert "s3" in served(20)
    # C0g, C0h.
    assert cli("add server be_web/s3 10.10.2.12:9000") == \
        "Already exists a server with the same name in backend.\n\n"
    assert cli("add server be_web/s5 10.10.2.12:9000 cookie abc") == \
        "'cookie' option is not accepted for dynamic server\n\n"


def test_del_only_in_maintenance(dyn_tb):
    if state_line("be_web", "s3") is None:
        cli("add server be_web/s3 10.10.2.13:9000")
        cli("set server be_web/s3 state ready")
    # C1-C1c.
    assert cli("del server be_web/s3") == "Only servers in maintenance mode can be deleted.\n"
    assert cli("set server be_web/s3 state maint") == "\n"
    assert cli("del server be_web/s3") == "Server deleted.\n"
    assert state_line("be_web", "s3") is None
    assert all(l.split(",")[1] != "s3" for l in cli("show stat").splitlines()[1:] if l)
    assert served() == {"s1", "s2"}
    assert cli("set server be_web/s3 state ready") == "No such server.\n\n"


def test_configured_server_deleted_and_added_again(dyn_tb):
    before = int(stat_row("be_web", "s2")["stot"])
    served(6)
    assert int(stat_row("be_web", "s2")["stot"]) > before
    # C1d-C1e: a server from the file may go too.
    assert cli("set server be_web/s2 state maint; del server be_web/s2") == \
        "\nServer deleted.\n"
    assert cli("set server be_web/s2 state ready") == "No such server.\n\n"
    assert served() == {"s1"}
    # C1f-C1h: added again, it takes its id back and counts from zero.
    assert cli("add server nosuch/s9 127.0.0.1:1") == "No such backend.\n"
    assert cli("add server be_web/s2 10.10.2.12:9000 check; enable health be_web/s2; "
               "set server be_web/s2 state ready") == "New server registered.\n\n\n\n"
    wait_status("be_web", ["s1", "s2"])
    row = stat_row("be_web", "s2")
    assert (row["sid"], row["stot"]) == ("2", "0"), row
    assert [l.split(",")[1] for l in cli("show stat be_web 4 -1").splitlines()[1:] if l] == \
        ["s1", "s2"]
    assert served(10) == {"s1", "s2"}


def test_refused_forms(dyn_tb):
    assert cli("add server be_web") == "Require 'backend/server'.\n"
    assert cli("del server be_web") == "Require 'backend/server'.\n"
    assert cli("add server be_web/s9") == \
        "'server' expects <name> and <addr>[:<port>] as arguments.\n\n"
    assert cli("add server be_web/s$x 10.10.2.13:9000") == \
        "character '$' is not permitted in server name 's$x'.\n\n"
    for be in ("be_static", "be_hash"):
        assert cli(f"add server {be}/s9 10.10.2.13:9000") == \
            "Backend must use a dynamic load balancing to support dynamic servers.\n"
    assert cli("add server be_ring/s9 10.10.2.13:9000") == "New server registered.\n\n"
    assert cli("del server be_ring/s9") == "Server deleted.\n"
    assert cli("del server be_web/nosuch") == "No such server.\n"
    assert cli("del server nosuch/s1") == "No such backend.\n"
    # Below the admin level.
    out = subprocess.run(["socat", "-t", "5", "stdio", f"unix-connect:{STATE_DIR}/admin.sock"],
                         input=b"operator\nadd server be_web/s9 10.10.2.13:9000\n",
                         capture_output=True, timeout=30, check=True).stdout.decode()
    assert "Permission denied\n" in out
    # The backend's room is bounded and says so when full.
    added = []
    try:
        for i in range(100):
            out = cli(f"add server be_ring/d{i} 10.10.2.13:9000")
            if out != "New server registered.\n\n":
                assert out.startswith("No room for another server in backend 'be_ring'"), out
                break
            added.append(f"d{i}")
        else:
            raise AssertionError("no bound on added servers")
    finally:
        for name in added:
            cli(f"del server be_ring/{name}")


def test_rest_adds_and_deletes(dyn_tb):
    r = requests.post(API + "/v1/backends/be_web/servers", auth=ADMIN, timeout=10,
                      json={"name": "r3", "address": "10.10.2.13", "port": 9000,
                            "params": "check weight 5"})
    assert r.status_code == 201, r.text
    srv = requests.get(API + "/v1/backends/be_web/servers/r3", auth=ADMIN, timeout=10).json()
    assert srv["admin_state"] == "maint", srv
    r = requests.put(API + "/v1/backends/be_web/servers/r3", auth=ADMIN, timeout=10,
                     json={"health_check": "enabled", "admin_state": "ready"})
    assert r.status_code == 200 and r.json()["admin_state"] == "ready", r.text
    wait_status("be_web", ["r3"])
    assert "s3" in served(20)  # r3 is the backend on 10.10.2.13
    r = requests.post(API + "/v1/backends/be_web/servers", auth=ADMIN, timeout=10,
                      json={"name": "r3", "address": "10.10.2.13", "port": 9000})
    assert r.status_code == 400
    assert r.json()["error"] == "Already exists a server with the same name in backend."
    r = requests.delete(API + "/v1/backends/be_web/servers/r3", auth=ADMIN, timeout=10)
    assert r.status_code == 400
    assert r.json()["error"] == "Only servers in maintenance mode can be deleted."
    requests.put(API + "/v1/backends/be_web/servers/r3", auth=ADMIN, timeout=10,
                 json={"admin_state": "maint"})
    r = requests.delete(API + "/v1/backends/be_web/servers/r3", auth=ADMIN, timeout=10)
    assert r.status_code == 204, r.text
    assert "s3" not in served()
    # The Data Plane API's form: added and brought up in one call, deleted in maintenance.
    r = requests.post(API + "/v3/services/haproxy/runtime/backends/be_web/servers", auth=ADMIN,
                      timeout=10, json={"name": "d3", "address": "10.10.2.13", "port": 9000,
                                        "check": "enabled", "weight": 3})
    assert r.status_code == 201, r.text
    assert r.json()["name"] == "d3" and r.json()["admin_state"] == "ready", r.json()
    wait_status("be_web", ["d3"])
    requests.put(API + "/v3/services/haproxy/runtime/backends/be_web/servers/d3", auth=ADMIN,
                 timeout=10, json={"admin_state": "maint"})
    r = requests.delete(API + "/v2/services/haproxy/runtime/servers/d3?backend=be_web",
                        auth=ADMIN, timeout=10)
    assert r.status_code == 204, r.text
    assert state_line("be_web", "d3") is None
    # A user-level account may not.
    r = requests.post(API + "/v1/backends/be_web/servers", auth=("viewer", "viewpass"),
                      timeout=10, json={"name": "x", "address": "10.10.2.13"})
    assert r.status_code == 403
