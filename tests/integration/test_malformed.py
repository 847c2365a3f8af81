"""10 000 malformed frames of every kind (tools/malformed.py, scapy): the appliance drops
and counts each under its named reason, never crashes, and still answers ping."""

import json
import os
import time
from collections import defaultdict

import pytest

from conftest import NS_CLIENT, ROOT, run, wait_settled
from telemetry import drops

pytestmark = pytest.mark.sanitizer

TOTAL = 10000
TOOL = os.path.join(ROOT, "tests", "integration", "tools", "malformed.py")
# Frames the appliance may legitimately not count as drops of the ones sent: none are
# expected, but the kernel's own traffic on the link in the same seconds can move counters
# either way by a few.
MARGIN = 20


def tap_tx_dropped():
    """Frames the client-side TAP device itself dropped (its queue to DPDK was full)."""
    p = run(["ip", "-n", NS_CLIENT, "-s", "-j", "link", "show", "sl-tap-c"])
    return int(json.loads(p.stdout)[0]["stats64"]["tx"]["dropped"])


@pytest.fixture(scope="module")
def barrage(testbed):
    """Sends the frames once for the module; returns (report, before, after, tap_drops)."""
    testbed.ping("client", "10.10.1.1", count=3)
    testbed.ping("client", "fd10:1::1", count=3, v6=True)
    appliance_mac = testbed.neigh("client", "10.10.1.1")
    assert appliance_mac, run(["ip", "-n", NS_CLIENT, "neigh"]).stdout

    before = wait_settled(testbed)
    tap_before = tap_tx_dropped()
    t0 = time.monotonic()
    p = testbed.exec("client", ["/usr/bin/python3", TOOL, "--iface", "sl-tap-c",
                                "--dst-mac", appliance_mac, "--total", str(TOTAL)], timeout=600)
    elapsed = time.monotonic() - t0
    report = json.loads(p.stdout)
    after = wait_settled(testbed)
    tap_drops = tap_tx_dropped() - tap_before
    print(f"sent {report['total_sent']} frames in {elapsed:.1f}s; TAP dropped {tap_drops}; "
          f"unsendable: {report['unsendable']}")
    return report, before, after, tap_drops


def test_sent_everything(barrage):
    report, _, _, tap_drops = barrage
    assert report["total_sent"] == TOTAL
    # Only runts (< 14 bytes) may be refused by the kernel; everything else went out.
    assert set(report["unsendable"]) <= {"eth_runt_10", "eth_runt_13"}, report["unsendable"]
    assert tap_drops == 0, f"the TAP queue dropped {tap_drops} frames: send slower"


def test_appliance_survives_and_answers_ping(testbed, barrage):
    p = testbed.status()
    assert p.returncode == 0, "sluice died:\n" + p.stdout + testbed.read_log()[-4000:]
    testbed.ping("client", "10.10.1.1", count=100)
    testbed.ping("client", "fd10:1::1", count=100, v6=True)
    testbed.ping("server", "10.10.2.1", count=10)


def test_all_frames_received(barrage):
    report, before, after, tap_drops = barrage
    rx = after["rx_packets"] - before["rx_packets"]
    assert rx >= report["total_sent"] - tap_drops, f"rx_packets rose by {rx} only"


def test_drops_total(barrage):
    report, before, after, tap_drops = barrage
    d_before, d_after = drops(before), drops(after)
    total = sum(d_after.values()) - sum(d_before.values())
    expected = report["total_sent"] - tap_drops
    moved = {k: d_after[k] - d_before.get(k, 0) for k in d_after
             if d_after[k] != d_before.get(k, 0)}
    assert total >= expected - MARGIN, \
        f"drop counters rose by {total}, expected >= {expected - MARGIN}: {moved}"


def per_counter_expectations(report):
    expect = defaultdict(int)
    classes = defaultdict(list)
    for name, n in report["sent"].items():
        counter = report["expect"].get(name)
        if counter:
            expect[counter] += n
            classes[counter].append(f"{name}={n}")
    return expect, classes


def test_drop_counter_names_exist(barrage):
    report, _, after, _ = barrage
    expect, _ = per_counter_expectations(report)
    missing = sorted(c for c in expect if c not in after)
    assert not missing, f"counters missing from /sluice/counters: {missing}"


def test_each_drop_reason_counted(barrage):
    """Each class of defect bumps its own counter (where that counter is unambiguous)."""
    report, before, after, tap_drops = barrage
    expect, classes = per_counter_expectations(report)
    short = []
    for counter, n in sorted(expect.items()):
        got = after.get(counter, 0) - before.get(counter, 0)
        if got < n - tap_drops:
            short.append(f"{counter}: rose by {got}, expected >= {n} ({', '.join(classes[counter])})")
    assert not short, "drop counters that did not move as expected:\n  " + "\n  ".join(short)


def test_malformed_frames_got_no_answers(barrage):
    """Nothing malformed was answered: echo replies rose by the few valid pings at most."""
    _, before, after, _ = barrage
    # wait_settled ran after the barrage and before the pings of the other tests.
    assert after["icmp_echo_replies"] - before["icmp_echo_replies"] <= 2
    assert after["icmp6_echo_replies"] - before["icmp6_echo_replies"] <= 2
    assert after["arp_replies_sent"] - before["arp_replies_sent"] <= 2
    assert after["nd_adverts_sent"] - before["nd_adverts_sent"] <= 2
