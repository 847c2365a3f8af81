"""Sluice's TCP stack against Linux through the testbed (issue 3), with the data-plane test
services of examples/tcp-services.cfg: echo on 7, discard on 9, source on 19.

Loss comes from nftables rules in sl-client (this kernel has no sch_netem, so reordering
and delay are exercised by the simulation tier instead: tests/sim)."""

import json
import os
import subprocess

import pytest

from conftest import NS_CLIENT, ROOT, add_loss, remove_loss, run

TESTBED_CONFIG = "examples/tcp-services.cfg"
TOOLS = os.path.join(ROOT, "tests/integration/tools")
BULK = int(os.environ.get("SLUICE_TCP_BULK_BYTES", str(200 * 1000 * 1000)))


def client(tool, *args, timeout=600):
    p = run(["ip", "netns", "exec", NS_CLIENT, "/usr/bin/python3", os.path.join(TOOLS, tool),
             *map(str, args)], check=False, timeout=timeout)
    line = p.stdout.strip().splitlines()[-1] if p.stdout.strip() else "{}"
    return p.returncode, json.loads(line), p.stdout + p.stderr


def counters(tb):
    return tb.counters()


@pytest.fixture
def lossy(testbed):
    """2% loss both ways on the client side."""
    add_loss(20)
    yield
    remove_loss()


@pytest.mark.sanitizer
@pytest.mark.parametrize("host", ["10.10.1.1", "fd10:1::1"])
def test_echo_ipv4_and_ipv6(testbed, host):
    rc, out, log = client("tcp_client.py", "echo", host, 7, 1_000_000)
    assert rc == 0 and out["ok"], log


@pytest.mark.sanitizer
def test_discard_and_source_small(testbed):
    rc, out, log = client("tcp_client.py", "discard", "10.10.1.1", 9, 5_000_000)
    assert rc == 0 and out["ok"], log
    rc, out, log = client("tcp_client.py", "source", "fd10:1::1", 19, 5_000_000)
    assert rc == 0 and out["ok"], log


def test_bulk_to_discard_under_loss(testbed, lossy):
    before = counters(testbed)
    rc, out, log = client("tcp_client.py", "discard", "10.10.1.1", 9, BULK)
    assert rc == 0 and out["ok"], log
    after = counters(testbed)
    assert after["tcp_segs_in"] - before["tcp_segs_in"] >= BULK // 1448


def test_bulk_from_source_under_loss(testbed, lossy):
    before = counters(testbed)
    rc, out, log = client("tcp_client.py", "source", "10.10.1.1", 19, BULK)
    assert rc == 0 and out["ok"], log  # sha256 of what arrived equals the stream sent
    after = counters(testbed)
    assert after["tcp_retrans_segs"] > before["tcp_retrans_segs"], "loss caused no retransmit?"


def test_20000_sequential_short_connections(testbed):
    before = counters(testbed)
    rc, out, log = client("tcp_client.py", "many", "10.10.1.1", 7, 20000, timeout=900)
    assert rc == 0 and out["failures"] == 0, log
    after = counters(testbed)
    assert after["tcp_passive_opens"] - before["tcp_passive_opens"] >= 20000


@pytest.mark.sanitizer
def test_duplicates_from_linux_are_reported_by_dsack(testbed):
    # Sluice's ACKs held for 150 ms: Linux resends data Sluice has (a probe, then a timeout)
    # and must read the duplicate in Sluice's next ACK as a DSACK (RFC 2883).
    before = counters(testbed)
    rc, out, log = client("tcp_client.py", "dsack", "10.10.1.1", 9, 20000)
    assert rc == 0 and out["ok"], log
    after = counters(testbed)
    assert after["tcp_dsack_sent"] - before["tcp_dsack_sent"] >= 1, after
    assert out["dsack_recv"] >= 1, out


@pytest.mark.sanitizer
def test_timeout_while_acks_are_lost_is_found_spurious(testbed):
    # Linux's ACKs to the source service dropped for 450 ms mid-download: Sluice probes, then
    # its timeout (and the backed-off one) resends SND.UNA, which Linux held all along and
    # answers with a DSACK once its ACKs get through. F-RTO reads it (RFC 5682 with DSACK, as
    # Linux's undo): the timeout was spurious, the window comes back (RFC 4015).
    before = counters(testbed)
    rc, out, log = client("tcp_client.py", "heldacks", "10.10.1.1", 19, 8 << 20)
    assert rc == 0 and out["ok"], log
    after = counters(testbed)
    assert after["tcp_rto_expired"] - before["tcp_rto_expired"] >= 1, after
    assert after["tcp_spurious_rtos"] - before["tcp_spurious_rtos"] >= 1, after


@pytest.mark.sanitizer
def test_syn_flood_leaves_room_for_a_legitimate_client(testbed):
    testbed.ping("client", "10.10.1.1", count=2)
    mac = testbed.neigh("client", "10.10.1.1")
    before = counters(testbed)
    rc, out, log = client("tcp_attacks.py", "synflood", "sl-tap-c", mac, 2000)
    assert rc == 0, log
    rc, out, log = client("tcp_client.py", "echo", "10.10.1.1", 7, 10000)
    assert rc == 0 and out["ok"], log
    after = counters(testbed)
    assert after["tcp_syncookies_sent"] - before["tcp_syncookies_sent"] > 0
    # The legitimate client connected while the SYN queue was full: through a cookie.
    assert after["tcp_syncookies_recv"] - before["tcp_syncookies_recv"] >= 1


@pytest.mark.sanitizer
def test_rst_syn_and_ack_injection_get_challenge_acks(testbed):
    testbed.ping("client", "10.10.1.1", count=2)
    mac = testbed.neigh("client", "10.10.1.1")
    before = counters(testbed)
    rc, out, log = client("tcp_attacks.py", "inject", "sl-tap-c", mac)
    assert rc == 0 and out["ok"], log  # the connection survived every injection
    after = counters(testbed)
    assert after["tcp_challenge_acks"] - before["tcp_challenge_acks"] >= 3, after
    assert after["tcp_estab_resets"] == before["tcp_estab_resets"]


def show_info(field):
    out = subprocess.run(["socat", "stdio", "unix-connect:/run/sluice-testbed/admin.sock"],
                         input="show info\n", capture_output=True, text=True,
                         timeout=10).stdout
    for line in out.splitlines():
        name, _, value = line.partition(": ")
        if name == field:
            return int(value)
    raise AssertionError(f"{field} missing from show info:\n{out}")


@pytest.mark.sanitizer
def test_show_info_counts_connections(testbed):
    cum = show_info("CumConns")
    rc, out, log = client("tcp_client.py", "many", "10.10.1.1", 7, 50)
    assert rc == 0 and out["ok"], log
    assert show_info("CumConns") - cum >= 50
    # A connection held open shows in CurrConns.
    holder = subprocess.Popen(
        ["ip", "netns", "exec", NS_CLIENT, "/usr/bin/python3", "-c",
         "import socket,time; s=socket.create_connection(('10.10.1.1', 9)); print('up', "
         "flush=True); time.sleep(5)"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "up"
        assert show_info("CurrConns") >= 1
    finally:
        holder.kill()
        holder.wait()
