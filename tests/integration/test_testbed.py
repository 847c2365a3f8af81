"""The testbed itself and the appliance's first packets: ARP/ND, ICMP and ICMPv6 echo,
telemetry, and a clean `down` in every situation (after up, twice, after a crash)."""

import glob
import os
import signal
import subprocess
import time

import pytest

from conftest import (DEFAULT_CONFIG, NS_CLIENT, NS_SERVER, PREFIX, SLUICE_BIN, STATE_DIR,
                      TESTBED, run)

pytestmark = pytest.mark.sanitizer


def test_up_reports_ready(testbed):
    p = testbed.status()
    assert p.returncode == 0, p.stdout + p.stderr
    assert "sluice: ready" in testbed.read_log()
    with testbed.telemetry() as t:
        info = t.info()
        assert int(info["workers"]) == 1, info
        assert int(info["ports"]) == 2, info
        assert sorted(t.query("/ethdev/list")) == [0, 1]


def test_ping_v4_from_client(testbed):
    testbed.ping("client", "10.10.1.1", count=100)


def test_ping_v6_from_client(testbed):
    testbed.ping("client", "fd10:1::1", count=100, v6=True)


def test_ping_from_server(testbed):
    testbed.ping("server", "10.10.2.1", count=20)
    testbed.ping("server", "fd10:2::1", count=20, v6=True)
    # Every backend address reaches the appliance.
    for host in ("10.10.2.11", "10.10.2.12", "10.10.2.13"):
        testbed.ping("server", "10.10.2.1", count=3, source=host)
    for host in ("fd10:2::11", "fd10:2::12", "fd10:2::13"):
        testbed.ping("server", "fd10:2::1", count=3, source=host, v6=True)


def test_neighbour_entries(testbed):
    # The pings above resolved the appliance through ARP and ND.
    mac_v4 = testbed.neigh("client", "10.10.1.1")
    mac_v6 = testbed.neigh("client", "fd10:1::1")
    assert mac_v4, run(["ip", "-n", NS_CLIENT, "neigh"]).stdout
    assert mac_v6, run(["ip", "-n", NS_CLIENT, "neigh"]).stdout
    assert mac_v4 == mac_v6, "one port, one MAC for IPv4 and IPv6"
    srv_v4 = testbed.neigh("server", "10.10.2.1")
    srv_v6 = testbed.neigh("server", "fd10:2::1")
    assert srv_v4 and srv_v6, run(["ip", "-n", NS_SERVER, "neigh"]).stdout
    assert srv_v4 == srv_v6
    assert srv_v4 != mac_v4, "the two ports have different MACs"


def test_counters_after_pings(testbed):
    c = testbed.counters()
    assert c["icmp_echo_replies"] >= 100 + 20 + 9, c
    assert c["icmp6_echo_replies"] >= 100 + 20 + 9, c
    assert c["arp_replies_sent"] > 0, c
    assert c["nd_adverts_sent"] > 0, c
    assert c["neigh_learned"] > 0, c
    assert c["rx_packets"] >= 2 * (100 + 20 + 9), c
    assert c["tx_packets"] >= 2 * (100 + 20 + 9), c
    # Well-formed traffic from Linux never fails a checksum or a length check.
    for name in ("ipv4_drop_bad_checksum", "icmp_drop_bad_checksum", "icmp6_drop_bad_checksum",
                 "ipv4_drop_bad_total_length", "ipv6_drop_bad_payload_length",
                 "nd_drop_malformed", "owner_mismatch"):
        assert c.get(name, 0) == 0, f"{name} = {c.get(name)}"
    # One worker: the per-worker dict equals the sum.
    with testbed.telemetry() as t:
        w0 = t.worker(0)
    for name in ("icmp_echo_replies", "icmp6_echo_replies", "arp_replies_sent"):
        assert w0[name] <= c[name]
        assert w0[name] >= c[name] - 5  # a few pings may land between the two reads


def test_up_twice_is_safe(testbed):
    pid = testbed.pid()
    p = run([TESTBED, "up", testbed.config], env=testbed.env())
    assert "already up" in p.stdout
    assert testbed.pid() == pid
    testbed.ping("client", "10.10.1.1", count=5)


# --- down and its guarantees ---------------------------------------------------------------

def leftovers():
    """Everything a testbed may leave behind; empty when all is clean."""
    found = []
    netns = run(["ip", "netns", "list"]).stdout
    found += [f"netns {line.split()[0]}" for line in netns.splitlines()
              if line.startswith("sl-")]
    links = run(["ip", "-o", "link", "show"]).stdout
    found += [f"link {line.split(':')[1].strip()}" for line in links.splitlines()
              if "sl-tap-" in line]
    if os.path.exists(f"/var/run/dpdk/{PREFIX}"):
        found.append(f"/var/run/dpdk/{PREFIX}: {os.listdir(f'/var/run/dpdk/{PREFIX}')}")
    if os.path.exists(STATE_DIR):
        found.append(f"{STATE_DIR}: {os.listdir(STATE_DIR)}")
    found += [f"process {pid}" for pid in sluice_processes()]
    return found


def sluice_processes():
    """Pids of sluice processes running the binary under test with a testbed config."""
    pids = []
    real = os.path.realpath(SLUICE_BIN)
    for exe in glob.glob("/proc/[0-9]*/exe"):
        try:
            if os.path.realpath(exe) != real:
                continue
            pid = int(exe.split("/")[2])
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().decode(errors="replace")
            with open(f"/proc/{pid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except (OSError, ValueError, IndexError):
            continue
        if "testbed" in cmd and state not in ("Z", "X"):
            pids.append(pid)
    return pids


def wait_clean(timeout=5):
    deadline = time.monotonic() + timeout
    while True:
        left = leftovers()
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


def test_down_leaves_nothing(testbed):
    pid = testbed.pid()
    p = testbed.down()
    assert "SIGKILL" not in p.stdout, "sluice ignored SIGTERM: " + p.stdout
    assert not os.path.exists(f"/proc/{pid}/exe") or pid not in sluice_processes()
    assert wait_clean() == []
    # down again, with nothing up
    p2 = testbed.down()
    assert p2.returncode == 0
    assert wait_clean() == []
    st = testbed.status()
    assert st.returncode == 3, st.stdout


def test_up_again_after_down(testbed):
    testbed.up()
    testbed.ping("client", "10.10.1.1", count=5)
    testbed.ping("client", "fd10:1::1", count=5, v6=True)


def test_down_after_crash(testbed):
    pid = testbed.pid()
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while pid in sluice_processes() and time.monotonic() < deadline:
        time.sleep(0.05)
    st = testbed.status()
    assert st.returncode == 3, "status must say down once sluice is gone:\n" + st.stdout
    testbed.down()
    assert wait_clean() == []


def test_down_after_half_done_up(testbed):
    # A binary that dies before it is ready: up fails, and cleans up after itself.
    env = dict(os.environ, SLUICE_BIN="/bin/false")
    p = run([TESTBED, "up", DEFAULT_CONFIG], check=False, env=env)
    assert p.returncode != 0
    assert wait_clean() == []
    # The namespaces exist but sluice never came: down still cleans.
    run(["ip", "netns", "add", NS_CLIENT])
    os.makedirs(STATE_DIR, exist_ok=True)
    testbed.down()
    assert wait_clean() == []
    # And the testbed comes up again for the module's teardown.
    testbed.up()
    testbed.ping("client", "10.10.1.1", count=3)


# --- the binary's own signal handling, without the script --------------------------------

@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_clean_shutdown(testbed, sig, tmp_path):
    testbed.down()
    assert wait_clean() == []
    # The testbed's configuration, with its stats socket in a directory of this test's own
    # (scripts/testbed makes /run/sluice-testbed; here sluice runs without it).
    sock = tmp_path / "admin.sock"
    with open(DEFAULT_CONFIG) as f:
        cfg_text = f.read().replace("/run/sluice-testbed/admin.sock", str(sock))
    cfg = tmp_path / "testbed.cfg"
    cfg.write_text(cfg_text)
    proc = subprocess.Popen([SLUICE_BIN, "-f", str(cfg)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True)
    out = []
    try:
        deadline = time.monotonic() + int(os.environ.get("SLUICE_READY_TIMEOUT", "30"))
        ready = False
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            out.append(line)
            if line.startswith("sluice: ready"):
                ready = True
                break
        assert ready, "sluice never printed 'sluice: ready':\n" + "".join(out)
        assert run(["ip", "link", "show", "sl-tap-c"], check=False).returncode == 0
        assert sock.is_socket()
        proc.send_signal(sig)
        rest, _ = proc.communicate(timeout=15)
        out.append(rest)
        assert proc.returncode == 0, f"exit status {proc.returncode}:\n" + "".join(out)
        assert not sock.exists(), "the stats socket file outlived a clean stop"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert wait_clean() == [], "".join(out)
    text = "".join(out)
    for bad in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
        assert bad not in text, text
    testbed.up()
