"""timeout client-fin and server-fin (issue 13): once a direction of a stream is shut, the
side's inactivity timeout is the -fin one where it is set. A client sends a byte and its FIN
through a TCP frontend to a server that never answers nor closes: with `timeout client-fin
1s` the proxy ends the stream after a second, without it `timeout client` (30 s) still runs;
`timeout server-fin 1s` in the backend does the same from the server's side."""

import subprocess
import time

import pytest

from conftest import NS_CLIENT, config_file, start_backend, stop_backends

SECTIONS = """
defaults
    mode tcp
    timeout connect 2s
    timeout client 30s
    timeout server 30s

frontend fe_client_fin
    bind 10.10.1.1:8091
    timeout client-fin 1s
    default_backend be_stall

frontend fe_plain
    bind 10.10.1.1:8092
    default_backend be_stall

frontend fe_server_fin
    bind 10.10.1.1:8093
    default_backend be_stall_fin

backend be_stall
    server t1 10.10.2.12:9002

backend be_stall_fin
    timeout server-fin 1s
    server t1 10.10.2.12:9002
"""
TESTBED_CONFIG = config_file("fin-timeouts", SECTIONS)

# Connect, send a byte, shut the write side, and time how long the proxy keeps the
# connection (until EOF or a reset), giving up after `cap` seconds.
PROBE = """
import socket, sys, time
s = socket.create_connection(("10.10.1.1", int(sys.argv[1])), timeout=10)
s.sendall(b"x")
s.shutdown(socket.SHUT_WR)
s.settimeout(float(sys.argv[2]))
t0 = time.monotonic()
try:
    s.recv(1)
except socket.timeout:
    print("open")
    sys.exit(0)
except OSError:
    pass
print(round(time.monotonic() - t0, 2))
"""


@pytest.fixture(scope="module")
def stall_backend(testbed):
    procs = [start_backend("10.10.2.12", 9002, "stall", "--mode", "stall")]
    yield
    stop_backends(procs)


def held(port, cap):
    p = subprocess.run(["ip", "netns", "exec", NS_CLIENT, "/usr/bin/python3", "-c", PROBE,
                        str(port), str(cap)], capture_output=True, text=True, timeout=cap + 20)
    assert p.returncode == 0, p.stderr
    out = p.stdout.strip()
    return None if out == "open" else float(out)


@pytest.mark.sanitizer
def test_client_fin_ends_a_half_closed_stream(stall_backend):
    t = held(8091, 6)
    assert t is not None and 0.5 <= t <= 3, t


@pytest.mark.sanitizer
def test_server_fin_ends_a_half_closed_stream(stall_backend):
    t = held(8093, 6)
    assert t is not None and 0.5 <= t <= 3, t


def test_without_fin_timeouts_timeout_client_runs(stall_backend):
    start = time.monotonic()
    assert held(8092, 4) is None
    assert time.monotonic() - start >= 4
