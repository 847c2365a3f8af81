#!/usr/bin/python3
"""TCP senders under random loss: Sluice's stack against Linux's, each against its own
lossless rate (issue 12).

    python3 bench/lib/loss_bench.py [--quick]

prints the figures as a JSON list (progress on stderr); bench/run calls run() for its part
`loss`.

A Linux client (tests/integration/tools/tcp_client.py) downloads or echoes N MiB while
nftables in the client's namespace drops TCP segments at random, each way (numgen random mod
1000 < N: 0, 5, 10 and 30 per mille). Three paths, each measured for both senders:

  source  Sluice's source service on the TAP testbed (examples/tcp-services.cfg with
          idle-sleep 0: the worker polls, as on an appliance and as in the proxy path's
          examples/bench-e2e.cfg; the testbed's 50 us sleeps add to every round trip, 10.10.1.1:19)
          against a Linux sender (tools/backend.py --mode source) at the same address in a
          namespace joined to the client's by a veth pair (bench/lib/e2e_bench.py's topology).
  echo    the same with the echo services (port 7): bytes both ways, the Sluice side sends
          what it receives.
  proxy   a download through the proxy: Sluice on the testbed (examples/bench-e2e.cfg) in
          front of Linux source servers, against HAProxy 2.6 in the veth topology in front of
          the same servers. The lossy link is the client's; the server side is clean.

The Linux column is what HAProxy users get from the kernel: its default congestion control,
CUBIC, as Sluice's, in every namespace of both paths (a new namespace takes the host's choice,
and a host set to BBR, which does not reduce its window for random loss, would compare two
different controllers instead of two recoveries). Each rate is the median of seven runs (taken
in rounds of one run per loss rate), each timed from the connection's establishment to its last
byte (a lost SYN or SYN-ACK costs a 1 s timeout on either stack and says nothing of recovery);
"kept" is a rate under loss as a percentage of the same path's lossless rate; Sluice's
retransmission timeouts are counted per 10 MiB sent (tcp_rto_expired from the workers' counters,
over the runs at 1%).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

try:
    from lib import e2e_bench as topo  # imported by bench/run
except ImportError:
    import e2e_bench as topo  # run as a script from bench/lib

LOSS = (0, 5, 10, 30)  # per mille, each way
TOOLS = "tests/integration/tools"
SERVICES_CFG = "examples/tcp-services.cfg"
PROXY_CFG = "examples/bench-e2e.cfg"
SL_CLIENT, SL_SERVER = "sl-client", "sl-server"
SOURCE_PORT, ECHO_PORT = 19, 7


def nft_loss(ns, per_mille):
    """Random loss both ways in `ns` (none for 0)."""
    subprocess.run(["ip", "netns", "exec", ns, "nft", "delete table inet sl_loss"],
                   capture_output=True, check=False)
    if per_mille == 0:
        return
    for rule in ("add table inet sl_loss",
                 "add chain inet sl_loss in { type filter hook input priority 0; }",
                 "add chain inet sl_loss out { type filter hook output priority 0; }",
                 f"add rule inet sl_loss in meta l4proto tcp numgen random mod 1000 < {per_mille} "
                 "drop",
                 f"add rule inet sl_loss out meta l4proto tcp numgen random mod 1000 < "
                 f"{per_mille} drop"):
        subprocess.run(["ip", "netns", "exec", ns, "nft", rule], check=True, capture_output=True)


class Bench:
    def __init__(self, root, quick, log):
        self.root = root
        self.log = log
        self.mib = 4 if quick else 32
        self.runs = 1 if quick else 7
        self.loss = (0, 10) if quick else LOSS
        self.procs = []
        self.testbed_up = False

    def path(self, *p):
        return os.path.join(self.root, *p)

    # -- processes

    def start_backend(self, ns, addr, port, mode):
        p = subprocess.Popen(["ip", "netns", "exec", ns, "/usr/bin/python3",
                              self.path(TOOLS, "backend.py"), addr, str(port), "b", "--mode", mode],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        line = p.stdout.readline().strip()
        if line != "ready":
            p.kill()
            raise RuntimeError(f"backend {addr}:{port} in {ns}: {line or p.stdout.read()}")
        self.procs.append(p)

    def stop_procs(self):
        for p in self.procs:
            p.kill()
            p.wait()
        self.procs = []

    def client(self, ns, mode, host, port):
        nbytes = self.mib << 20
        r = subprocess.run(["ip", "netns", "exec", ns, "/usr/bin/python3",
                            self.path(TOOLS, "tcp_client.py"), mode, host, str(port), str(nbytes)],
                           capture_output=True, text=True, timeout=900, check=False)
        out = json.loads(r.stdout.strip().splitlines()[-1]) if r.stdout.strip() else {}
        if r.returncode != 0 or not out.get("ok"):
            raise RuntimeError(f"{mode} {host}:{port} from {ns}: {out} {r.stderr.strip()[-300:]}")
        return nbytes / out["transfer_seconds"] / 1e6  # MB/s, the handshake left out

    def testbed(self, *args):
        return subprocess.run([self.path("scripts", "testbed"), *args], capture_output=True,
                              text=True, check=False)

    def sluice_counter(self, name):
        r = self.testbed("telemetry", "/sluice/counters")
        data = json.loads(r.stdout)
        return int(next(iter(data.values()))[name]) if "/sluice/counters" in data else int(
            data[name])

    # -- one path: rates by loss

    def measure(self, label, ns, mode, host, port, rto_counter=None):
        """Rounds of one run at each loss rate: each rate's runs then see the machine as the
        others' do (on a 2-core host the speed drifts over a minute, and a share set against
        a lossless rate measured a minute earlier carries the drift)."""
        rates, rto_count = {per_mille: [] for per_mille in self.loss}, 0
        for _ in range(self.runs):
            for per_mille in self.loss:
                nft_loss(ns, per_mille)
                count = rto_counter and per_mille == 10
                before = self.sluice_counter(rto_counter) if count else 0
                try:
                    rates[per_mille].append(self.client(ns, mode, host, port))
                finally:
                    nft_loss(ns, 0)
                if count:
                    rto_count += self.sluice_counter(rto_counter) - before
        for per_mille, runs in rates.items():
            self.log(f"loss: {label} {per_mille / 10:g}%: "
                     f"{', '.join(f'{r:.1f}' for r in runs)} MB/s")
        rto = None
        if rto_counter and 10 in self.loss:
            sent_mib = self.mib * self.runs * (2 if mode == "echo" else 1)
            rto = rto_count / sent_mib * 10
        return rates, rto

    def services_cfg(self):
        """examples/tcp-services.cfg with a polling worker."""
        with open(self.path(SERVICES_CFG)) as f:
            text = f.read()
        if "idle-sleep 50" not in text:
            raise RuntimeError(f"{SERVICES_CFG}: no 'idle-sleep 50' to turn off")
        path = os.path.join("/tmp", "sl-loss-services.cfg")
        with open(path, "w") as f:
            f.write(text.replace("idle-sleep 50", "idle-sleep 0"))
        return path

    def run_sluice(self, cfg, fn):
        r = self.testbed("up", self.path(cfg))
        if r.returncode != 0:
            raise RuntimeError(f"testbed up {cfg}: {r.stderr.strip()} {r.stdout.strip()}")
        self.testbed_up = True
        try:
            for ns in (SL_CLIENT, SL_SERVER):  # the client's uploads, the proxy's servers
                topo.ns_cc(ns)
            return fn()
        finally:
            self.stop_procs()
            self.testbed("down")
            self.testbed_up = False

    def guarded(self, res, key, fn):
        """One path; a failure is logged and leaves its figures empty (bench/run --check
        reports them) instead of ending the whole run."""
        try:
            res[key] = fn()
        except (RuntimeError, OSError, subprocess.SubprocessError, ValueError) as e:
            self.log(f"loss: {key[0]} {key[1]} failed: {e}")

    def all(self):
        res = {}
        # Sluice's services, then through Sluice's proxy.
        self.guarded(res, ("sluice", "source"), lambda: self.run_sluice(
            self.services_cfg(), lambda: self.measure("sluice source", SL_CLIENT, "source", "10.10.1.1",
                                               SOURCE_PORT, "tcp_rto_expired")))
        self.guarded(res, ("sluice", "echo"), lambda: self.run_sluice(
            self.services_cfg(), lambda: self.measure("sluice echo", SL_CLIENT, "echo", "10.10.1.1",
                                               ECHO_PORT, "tcp_rto_expired")))

        def proxied():
            for ip in topo.SERVER_IPS:
                self.start_backend(SL_SERVER, ip, topo.SERVER_PORT, "source")
            return self.measure("sluice proxy", SL_CLIENT, "source", topo.FRONT_IP,
                                topo.FRONT_PORT, "tcp_rto_expired")
        self.guarded(res, ("sluice", "proxy"), lambda: self.run_sluice(PROXY_CFG, proxied))
        # Linux: the same addresses in the veth topology, HAProxy in front of the servers.
        topo.topo_down(self.log)
        topo.topo_up(True)
        try:
            self.start_backend(topo.NS_PROXY, topo.FRONT_IP, SOURCE_PORT, "source")
            self.start_backend(topo.NS_PROXY, topo.FRONT_IP, ECHO_PORT, "raw-echo")
            self.guarded(res, ("linux", "source"), lambda: self.measure(
                "linux source", topo.NS_CLIENT, "source", topo.FRONT_IP, SOURCE_PORT))
            self.guarded(res, ("linux", "echo"), lambda: self.measure(
                "linux echo", topo.NS_CLIENT, "echo", topo.FRONT_IP, ECHO_PORT))
            for ip in topo.SERVER_IPS:
                self.start_backend(topo.NS_SERVER, ip, topo.SERVER_PORT, "source")
            cfg = os.path.join("/tmp", "sl-loss-haproxy.cfg")
            with open(cfg, "w") as f:
                f.write(topo.haproxy_cfg())
            hx = subprocess.Popen(["ip", "netns", "exec", topo.NS_PROXY, topo.HAPROXY, "-db",
                                   "-f", cfg], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
            self.procs.append(hx)
            topo.wait_for(lambda: topo.listening(topo.NS_PROXY, topo.FRONT), 10, "haproxy", hx)
            self.guarded(res, ("linux", "proxy"), lambda: self.measure(
                "haproxy proxy", topo.NS_CLIENT, "source", topo.FRONT_IP, topo.FRONT_PORT))
        finally:
            self.stop_procs()
            topo.topo_down(self.log)
        return res

    def cleanup(self):
        self.stop_procs()
        if self.testbed_up:
            self.testbed("down")
        topo.topo_down(self.log)


def figures(res, mib):
    out = []

    def fig(name, unit, better, s_runs, l_runs, note, zero_ok=False):
        s = statistics.median(s_runs) if s_runs else None
        h = statistics.median(l_runs) if l_runs else None
        ratio = None
        if s and h:
            ratio = s / h if better == "higher" else h / s
        out.append({"name": name, "unit": unit, "better": better, "sluice": s,
                    "sluice_min": min(s_runs) if s_runs else None,
                    "sluice_max": max(s_runs) if s_runs else None, "haproxy": h,
                    "haproxy_min": min(l_runs) if l_runs else None,
                    "haproxy_max": max(l_runs) if l_runs else None, "ratio": ratio,
                    "note": note, "zero_ok": zero_ok})

    for path in ("source", "echo", "proxy"):
        s_rates, s_rto = res.get(("sluice", path), ({}, None))
        l_rates, _ = res.get(("linux", path), ({}, None))
        ref = ("HAProxy on veth" if path == "proxy" else "a Linux sender on veth") + \
            f" ({topo.LINUX_CC})"
        fig(f"loss_{path}_clean_MBps", "MB/s", "higher", s_rates.get(0), l_rates.get(0),
            f"{mib} MiB, no loss; HAProxy column: {ref}")
        for per_mille in sorted(k for k in s_rates if k):
            def kept(rates):
                if not rates.get(0) or not rates.get(per_mille):
                    return None
                clean = statistics.median(rates[0])
                return [100 * r / clean for r in rates[per_mille]]
            fig(f"loss_{path}_{per_mille / 10:g}pct_kept", "%", "higher", kept(s_rates),
                kept(l_rates), f"rate at {per_mille / 10:g}% loss each way as a share of the "
                f"lossless rate; HAProxy column: {ref}")
        if s_rto is not None:
            fig(f"loss_{path}_rto_per_10mib_1pct", "RTOs", "lower", [s_rto], None,
                "Sluice's retransmission timeouts per 10 MiB sent at 1% loss each way",
                zero_ok=True)
    return out


def run(root, quick, log=print):
    if os.geteuid() != 0:
        raise RuntimeError("loss benchmark needs root (namespaces, nftables, TAP)")
    b = Bench(os.path.abspath(root), quick, log)
    try:
        res = b.all()
    finally:
        b.cleanup()
    return figures(res, b.mib)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    figs = run(root, args.quick, log=lambda m: print(m, file=sys.stderr, flush=True))
    print(json.dumps(figs, indent=1))


if __name__ == "__main__":
    main()
