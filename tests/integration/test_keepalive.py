"""TCP keep-alives against Linux peers (issue 3; RFC 1122 section 4.2.3.6, HAProxy's option
clitcpka/srvtcpka). tests/fixtures/proxy-keepalive.cfg: the client side is probed after 1 s
of silence, every second, 2 probes at most; the server side after 2 s. A Linux peer answers
every probe and the idle connection lives on; a client whose packets are dropped is given up
after 1 s + 2 probes + 1 s, and its session ends."""

import os
import re
import subprocess
import time

import pytest

from conftest import NS_CLIENT, NS_SERVER, ROOT, run
from conftest import admin_cli as cli
from conftest import stat_scur as scur

TESTBED_CONFIG = "tests/fixtures/proxy-keepalive.cfg"
TOOLS = os.path.join(ROOT, "tests/integration/tools")


def activity(name):
    m = re.search(rf"^{name}: (\d+)", cli("show activity"), re.M)
    assert m, f"no {name} in show activity"
    return int(m.group(1))


@pytest.fixture(scope="module")
def backend(testbed):
    p = subprocess.Popen(
        ["ip", "netns", "exec", NS_SERVER, "/usr/bin/python3", os.path.join(TOOLS, "backend.py"),
         "10.10.2.11", "9090", "ka"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert p.stdout.readline().strip() == "ready"
    yield
    p.kill()
    p.wait()


def client(script):
    """A Python client in sl-client; `script` runs with `s` connected to the frontend."""
    code = ("import socket,sys,time\n"
            "s=socket.create_connection(('10.10.1.1',8090),timeout=30)\n"
            "assert s.recv(3)==b'ka\\n'\n" + script)  # the backend's greeting: its name
    return subprocess.Popen(["ip", "netns", "exec", NS_CLIENT, "/usr/bin/python3", "-c", code],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


@pytest.mark.sanitizer
def test_linux_answers_the_probes_and_the_idle_connection_lives(backend):
    probes0 = activity("tcp_keepalive_probes")
    drops0 = activity("tcp_keepalive_drops")
    # Echo once, stay silent for 6 s, then echo again on the same connection.
    p = client("s.sendall(b'ping'); assert s.recv(4)==b'ping'\n"
               "print('up',flush=True); time.sleep(6)\n"
               "s.sendall(b'pong'); print(s.recv(4).decode(),flush=True)\n")
    assert p.stdout.readline().strip() == "up"
    out, err = p.communicate(timeout=30)
    assert p.returncode == 0, err
    assert out.strip() == "pong"
    probes = activity("tcp_keepalive_probes") - probes0
    # Client side: one probe per idle second after the first (about 5); server side: one
    # per 2 s (about 2). Each was answered, so nothing was dropped.
    assert 5 <= probes <= 9, probes
    assert activity("tcp_keepalive_drops") == drops0


@pytest.mark.sanitizer
def test_a_silent_client_is_given_up_after_the_probes(backend):
    drops0 = activity("tcp_keepalive_drops")
    p = client("s.sendall(b'ping'); assert s.recv(4)==b'ping'\n"
               "print('up',flush=True); sys.stdin.readline()\n")
    try:
        assert p.stdout.readline().strip() == "up"
        assert scur("fe_ka", "FRONTEND") == 1
        # The client vanishes: its kernel no longer sees what the appliance sends.
        subprocess.run(["ip", "netns", "exec", NS_CLIENT, "nft", "-f", "-"], input=(
            "table inet ka_cut {\n chain in {\n  type filter hook input priority 0;\n"
            "  ip saddr 10.10.1.1 tcp sport 8090 drop\n }\n}\n"), text=True, check=True,
            timeout=30)
        start = time.monotonic()
        while scur("fe_ka", "FRONTEND") != 0 and time.monotonic() - start < 15:
            time.sleep(0.2)
        waited = time.monotonic() - start
        assert scur("fe_ka", "FRONTEND") == 0, "the session outlived the keep-alive probes"
        assert activity("tcp_keepalive_drops") == drops0 + 1
        # 1 s idle + 2 probes 1 s apart + 1 s: about 3 s (the client's last ACK came before
        # the cut), never before the probes had their chance.
        assert 2.0 <= waited <= 6.0, waited
        assert scur("be_ka", "BACKEND") == 0
    finally:
        run(["ip", "netns", "exec", NS_CLIENT, "nft", "delete", "table", "inet", "ka_cut"],
            check=False)
        p.kill()
        p.wait()
