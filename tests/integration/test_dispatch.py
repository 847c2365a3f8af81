"""Flow dispatch with two workers (DESIGN.md section 2).

The TAP port has one queue per worker and the kernel picks the queue, so a packet often
arrives at a worker that does not own its flow; that worker must pass it to the owner
through a ring. Pings from many client addresses check that every echo request is answered
by the worker that `/sluice/owner,IP` names, that no worker processed a packet it does not
own, and that what one worker dispatched the other received.
"""

import warnings

import pytest

from conftest import NS_CLIENT, run, wait_settled

TESTBED_CONFIG = "examples/testbed-2workers.cfg"
pytestmark = pytest.mark.sanitizer

PINGS = 10
CLIENT_V4 = ["10.10.1.2"] + [f"10.10.1.{i}" for i in range(100, 116)]
CLIENT_V6 = ["fd10:1::2"] + [f"fd10:1::{i:x}" for i in range(0x100, 0x108)]
SERVER_V4 = ["10.10.2.11", "10.10.2.12", "10.10.2.13"]
SERVER_V6 = ["fd10:2::11", "fd10:2::12", "fd10:2::13"]


@pytest.fixture(scope="module")
def addresses(testbed):
    for a in CLIENT_V4[1:]:
        run(["ip", "-n", NS_CLIENT, "addr", "add", f"{a}/24", "dev", "sl-tap-c"])
    for a in CLIENT_V6[1:]:
        run(["ip", "-n", NS_CLIENT, "addr", "add", f"{a}/64", "dev", "sl-tap-c", "nodad"])
    return testbed


def test_two_workers(addresses):
    with addresses.telemetry() as t:
        assert t.workers() == 2


def test_owner_function_spreads_clients(addresses):
    with addresses.telemetry() as t:
        owners = {a: t.owner(a) for a in CLIENT_V4 + CLIENT_V6 + SERVER_V4 + SERVER_V6}
        # Stable: asking twice gives the same answer.
        assert owners == {a: t.owner(a) for a in owners}
    assert set(owners.values()) <= {0, 1}, owners
    v4_owners = {owners[a] for a in CLIENT_V4}
    assert v4_owners == {0, 1}, f"17 client addresses all owned by one worker: {owners}"


def test_echo_answered_by_owner(addresses):
    tb = addresses
    with tb.telemetry() as t:
        owners = {a: t.owner(a) for a in CLIENT_V4 + CLIENT_V6 + SERVER_V4 + SERVER_V6}
    before = [wait_settled_worker(tb, n) for n in range(2)]

    expected_v4 = [0, 0]
    expected_v6 = [0, 0]
    for a in CLIENT_V4:
        tb.ping("client", "10.10.1.1", count=PINGS, source=a)
        expected_v4[owners[a]] += PINGS
    for a in CLIENT_V6:
        tb.ping("client", "fd10:1::1", count=PINGS, source=a, v6=True)
        expected_v6[owners[a]] += PINGS
    for a in SERVER_V4:
        tb.ping("server", "10.10.2.1", count=PINGS, source=a)
        expected_v4[owners[a]] += PINGS
    for a in SERVER_V6:
        tb.ping("server", "fd10:2::1", count=PINGS, source=a, v6=True)
        expected_v6[owners[a]] += PINGS

    wait_settled(tb)
    after = tb.worker_counters()
    d = [{k: after[n][k] - before[n].get(k, 0) for k in after[n]} for n in range(2)]

    report = "\n".join(
        f"worker {n}: echo {d[n]['icmp_echo_replies']} (expected {expected_v4[n]}), "
        f"echo6 {d[n]['icmp6_echo_replies']} (expected {expected_v6[n]}), "
        f"dispatch_out {d[n]['dispatch_out']}, dispatch_in {d[n]['dispatch_in']}, "
        f"owner_mismatch {after[n]['owner_mismatch']}" for n in range(2))
    print(report)

    for n in range(2):
        assert after[n]["owner_mismatch"] == 0, report
        assert d[n]["icmp_echo_replies"] == expected_v4[n], report
        assert d[n]["icmp6_echo_replies"] == expected_v6[n], report
        assert after[n]["dispatch_drop_ring_full"] == 0, report
    # What one worker sent through the ring, the other received (totals, not just deltas).
    assert after[0]["dispatch_out"] == after[1]["dispatch_in"], report
    assert after[1]["dispatch_out"] == after[0]["dispatch_in"], report

    dispatched = d[0]["dispatch_out"] + d[1]["dispatch_out"]
    if dispatched == 0:
        warnings.warn("the kernel put every echo request on its owner's queue: the dispatch "
                      "ring was not exercised by this run (results above still hold)")
    else:
        # Each echo request that reached the wrong worker went through the ring once.
        total_requests = sum(expected_v4) + sum(expected_v6)
        assert dispatched <= 2 * total_requests + 200, report


def wait_settled_worker(tb, n):
    wait_settled(tb)
    with tb.telemetry() as t:
        return t.worker(n)


def test_dispatch_happened(addresses):
    """Across everything sent in this module, some frames took the dispatch ring."""
    ws = addresses.worker_counters()
    total = sum(w["dispatch_out"] for w in ws)
    if total == 0:
        pytest.xfail("no frame arrived at a worker that does not own it (kernel TAP queue "
                     "choice); ownership was still checked by test_echo_answered_by_owner")
    assert sum(w["dispatch_in"] for w in ws) == total


def test_no_owner_mismatch_on_any_worker(addresses):
    for n, w in enumerate(addresses.worker_counters()):
        assert w["owner_mismatch"] == 0, f"worker {n}: {w}"
