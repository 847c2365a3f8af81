#!/usr/bin/python3
"""Runtime API (stats socket) against the running appliance, driven as an operator types it:
socat and nc, compared with HAProxy 2.6 transcripts (../shared/compat/haproxy-2.6/transcripts).

Needs root and the lock the other integration tests take (fixed namespace names):
    flock /tmp/sluice-build.lock python3 -m pytest -v tests/integration/test_cli.py
The appliance runs tests/fixtures/cli/testbed-cli.cfg (admin and user unix sockets, an
operator TCP socket on 127.0.0.1:9999).
"""

import os
import socket
import stat
import subprocess
import threading
import time

import pytest

pytestmark = pytest.mark.sanitizer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CFG = os.path.join(ROOT, "tests/fixtures/cli/testbed-cli.cfg")
TRANSCRIPTS = os.environ.get(
    "SLUICE_TRANSCRIPTS",
    os.path.join(os.path.dirname(ROOT), "shared/compat/haproxy-2.6/transcripts"))
ADMIN = "/run/sluice-testbed/admin.sock"
USER = "/run/sluice-testbed/user.sock"
TCP = ("127.0.0.1", 9999)
VERSION_LINE_END = "\n\n"


def transcript(name):
    with open(os.path.join(TRANSCRIPTS, name), encoding="utf-8") as f:
        return f.read().split("\n", 1)[1]


def sh(cmd, timeout=10):
    return subprocess.run(cmd, shell=True, capture_output=True, timeout=timeout).stdout


def cli(command, sock=ADMIN):
    """echo 'command' | socat stdio unix-connect:SOCK, as bytes."""
    return sh(f"echo '{command}' | socat stdio unix-connect:{sock}")


def typed(steps, sock=ADMIN, pause=0.3):
    """( echo a; sleep 0.3; echo b; ... ) | socat: an operator typing in prompt mode."""
    script = "; sleep %s; " % pause
    body = script.join("printf '%s'" % s.replace("\n", "\\n") for s in steps)
    return sh(f"( {body}; sleep {pause} ) | socat stdio unix-connect:{sock}", timeout=30)


@pytest.fixture(scope="module", autouse=True)
def appliance():
    up = subprocess.run([os.path.join(ROOT, "scripts/testbed"), "up", CFG], capture_output=True)
    deadline = time.time() + 20
    while time.time() < deadline and not os.path.exists(ADMIN):
        time.sleep(0.2)
    if not os.path.exists(ADMIN):
        subprocess.run([os.path.join(ROOT, "scripts/testbed"), "down"], capture_output=True)
        pytest.fail("stats socket %s did not appear after 'scripts/testbed up' (exit %d):\n%s"
                    % (ADMIN, up.returncode, (up.stdout + up.stderr).decode(errors="replace")))
    yield
    subprocess.run([os.path.join(ROOT, "scripts/testbed"), "down"], capture_output=True)


def test_one_shot_and_terminators():
    version = cli("show version").decode()
    assert version.endswith("\n\n") and version.count("\n") == 2
    assert cli("show cli level") == b"admin\n\n"
    assert cli("quit") == b""                                          # A0f
    assert cli("set timeout cli 300") == transcript("A9o-set-timeout-cli.txt").encode()
    both = sh("printf 'show version\\nshow cli level\\n' | socat stdio unix-connect:" + ADMIN)
    assert both == version.encode() + b"admin\n\n"                     # B0h
    late = sh("( echo 'show version'; sleep 0.5; echo 'show cli level' ) | "
              "socat stdio unix-connect:" + ADMIN)
    assert late == version.encode()                                    # B0i


def test_chain_and_escapes():
    version = cli("show version")
    assert cli("show version;show cli level") == version + b"admin\n\n"
    assert cli("show env NOPE\\;X;show cli level") == b"Variable not found\n\nadmin\n\n"


def test_prompt_bytes():
    version = cli("show version")
    out = typed(["prompt\n", "show version\n", "set timeout cli 10\n", "quit\n"])
    assert out == b"\n> " + version + b"> \n> "                        # B0b
    out = typed(["prompt\n", "show version\n", "prompt\n", "show version\n"])
    assert out == b"\n> " + version + b"> \n"                          # B0c
    out = typed(["prompt\n", "show version <<\n", "a\n", "b\n", "\n", "quit\n"])
    assert out == b"\n> + + + " + version + b"> "                      # B0d


def test_errors_and_help():
    assert cli("").startswith(b"Unknown command. Please enter one of the following commands "
                              b"only:\n")                               # A0c
    assert cli("foo bar").startswith(b"Unknown command, but maybe one of the following ones "
                                     b"is a better match:\n")           # A0
    help_text = cli("help").decode()
    assert help_text.startswith("The following commands are valid at this level:\n")
    want = transcript("01-help.txt")
    for line in help_text.splitlines()[1:]:
        if line:
            assert line + "\n" in want, line   # each usage line is HAProxy's, byte for byte
    assert cli("user; help") == b"\n" + help_text.encode()              # B1b
    assert cli("show env NOPE") == transcript("A3c-show-env-absent.txt").encode()
    assert cli("set severity-output number; show env NOPE") == b"\n[3]: Variable not found\n\n"
    assert cli("set severity-output string; show env NOPE") == b"\n[err]: Variable not found\n\n"


def test_show_info_fields_and_order():
    want = [l.split(":")[0] for l in transcript("02-show-info.txt").splitlines() if l]
    got = [l.split(":")[0] for l in cli("show info").decode().splitlines() if l]
    assert got == want
    typed_want = [l.split(":")[:3] for l in transcript("04-show-info-typed-desc.txt").splitlines()
                  if l]
    typed_got = [l.split(":")[:3] for l in cli("show info typed desc").decode().splitlines() if l]
    assert typed_got == typed_want
    js = cli("show info json")
    assert js.startswith(b'[{"field":{"pos":0,"name":"Name"},"processNum":1,') and \
        js.endswith(b"}}]\n\n")


def test_levels_and_permissions():
    out = typed(["prompt\n", "show cli level\n", "operator\n", "show cli level\n",
                 "clear counters all\n", "clear counters\n", "user\n", "show cli level\n",
                 "show env HOME\n", "operator\n", "show cli level\n", "quit\n"])
    assert out == (b"\n> admin\n\n> \n> operator\n\n> Permission denied\n\n> \n> \n> user\n\n"
                   b"> Permission denied\n\n> Permission denied\n\n> user\n\n> ")
    assert cli("show cli level", USER) == b"user\n\n"
    assert cli("clear counters", USER) == b"Permission denied\n\n"
    assert cli("expert-mode on", USER) == b"Permission denied\n\n"
    assert stat.S_IMODE(os.stat(ADMIN).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(USER).st_mode) == 0o666
    assert stat.S_ISSOCK(os.stat(ADMIN).st_mode)


def test_tcp_socket_with_socat_and_nc():
    assert sh("echo 'show cli level' | socat stdio tcp4:127.0.0.1:9999") == b"operator\n\n"
    assert sh("echo 'show cli level' | nc -q 3 127.0.0.1 9999") == b"operator\n\n"
    assert sh("echo 'clear counters all' | nc -q 3 127.0.0.1 9999") == b"Permission denied\n\n"
    info = sh("echo 'show info' | socat stdio tcp4:127.0.0.1:9999 | head -8").decode()
    assert info.startswith("Name: ") and "\nPid: " in info                # B2
    # Every stats socket with its level, in configuration order (A2b).
    assert sh("echo 'show cli sockets' | nc -q 3 127.0.0.1 9999") == (
        b"# socket lvl processes\n"
        b"unix@/run/sluice-testbed/admin.sock admin all\n"
        b"unix@/run/sluice-testbed/user.sock user all\n"
        b"ipv4@127.0.0.1:9999 operator all\n\n")


def test_show_activity_layout():
    out = cli("show activity").decode()
    lines = out.splitlines()
    assert lines[0].startswith("thread_id: ") and lines[1].startswith("date_now: ")
    assert any(l.startswith("loops: ") and l.endswith(" ]") for l in lines)
    # Sluice's own rows: TCP counters (netstat -s names) and every drop reason.
    for name in ("rx_pkts", "tcp_segs_in", "tcp_challenge_acks", "ipv4_drop_bad_checksum",
                 "tcp_drop_bad_checksum"):
        assert any(l.startswith(name + ": ") for l in lines), name
    assert out.endswith("\n\n")


def test_300_clients_and_a_stalled_one():
    stalled = socket.socket(socket.AF_UNIX)
    stalled.connect(ADMIN)
    stalled.sendall(b"prompt\n" + b"show info json\n" * 2000)   # never reads a byte
    clients = []
    for _ in range(300):
        s = socket.socket(socket.AF_UNIX)
        s.connect(ADMIN)
        clients.append(s)
    results = []

    def ask(s):
        s.sendall(b"show cli level\n")
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        results.append(data)
        s.close()

    threads = [threading.Thread(target=ask, args=(s,)) for s in clients]
    for t in threads:
        t.start()
    start = time.time()
    info = cli("show info")
    elapsed = time.time() - start
    for t in threads:
        t.join(10)
    stalled.close()
    assert info.startswith(b"Name: ") and elapsed < 2.0, elapsed
    assert len(results) == 300 and all(r == b"admin\n\n" for r in results)


def test_listen_backlog_is_maxconn():
    """The stats socket's listen backlog is its maxconn (500 by default), as HAProxy sizes a
    listener's backlog from its frontend's maxconn: a burst of clients up to maxconn is never
    refused with EAGAIN (a backlog of 128 was, with 300 clients connecting at once)."""
    out = subprocess.run(["ss", "-xlH"], capture_output=True, text=True, check=True).stdout
    # ss shows the name the socket was bound under: ADMIN + ".<pid>.tmp", renamed after.
    rows = [l.split() for l in out.splitlines() if ADMIN in l]
    assert rows, out
    assert rows[0][3] == "500", rows   # Send-Q of a listening socket: its backlog
