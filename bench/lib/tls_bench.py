#!/usr/bin/python3
"""TLS termination: handshakes per core and CPU per keep-alive HTTPS request, Sluice and
HAProxy 2.6 with the same certificates and Debian's OpenSSL 3.

    python3 bench/lib/tls_bench.py --loadgen build/release/bench/loadgen/sl-loadgen [--quick]

prints the figures as a JSON list (progress on stderr); bench/run calls run() for its part
`tls`.

bench/lib/http_bench.py's topology, CPU placement, proxies and wrk workloads with the
frontend's bind in TLS (`bind ... ssl crt FILE`, HAProxy 2.6's defaults on both: TLS 1.3,
X25519, the library's cipher order) and wrk asking https://. Two certificates, each made here
with the openssl command at every run: RSA 2048 and ECDSA P-256 (self-signed; wrk does not
verify). For each certificate and proxy:
  rr   50 keep-alive connections, one request outstanding on each: proxy CPU per request
       once the handshakes are done (the records' encryption and decryption, the copies).
  crr  20 connections whose requests say `Connection: close`: wrk connects again for each
       request and resumes no session, so every request costs the proxy one full handshake.
       Handshakes per second per core = 10^9 / (proxy CPU ns per request): the rate one core
       of the proxy would sustain, whatever the load generator (on the other core) reaches.
  resumed  `openssl s_time -reuse` (4 processes on the load generator's core): each a full
       handshake, then new connections one after the other, each resuming that first
       session with its ticket (TLS 1.3 PSK with an X25519 exchange, both proxies' default),
       sending `GET / HTTP/1.0` and reading the answer to the close. Resumed handshakes per
       second per core = 10^9 / (proxy CPU ns per connection); the share s_time saw resumed
       is in the note.
CPU is measured as in http_bench: Sluice's worker busy cycles, HAProxy's CPU time.
"""
import os
import re
import subprocess
import time

try:
    from lib import http_bench as hb  # imported by bench/run
except ImportError:
    import http_bench as hb  # run as a script from bench/lib
topo = hb.topo

CERTS = ("rsa2048", "ecdsa256")
RESUMERS = 4  # s_time processes at once: enough connections in flight to keep the proxy busy


def make_cert(tmpdir, kind):
    """A self-signed certificate and its key in one PEM file; returns its path."""
    key, crt, pem = (os.path.join(tmpdir, f"{kind}.{e}") for e in ("key", "crt", "pem"))
    if kind == "rsa2048":
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                        "rsa_keygen_bits:2048", "-out", key], check=True, capture_output=True)
    else:
        subprocess.run(["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout",
                        "-out", key], check=True, capture_output=True)
    subprocess.run(["openssl", "req", "-x509", "-new", "-key", key, "-out", crt, "-days", "2",
                    "-subj", "/CN=bench.test"], check=True, capture_output=True)
    with open(pem, "w") as out:
        for part in (crt, key):
            with open(part) as f:
                out.write(f.read())
    return pem


class Bench(hb.Bench):
    def __init__(self, root, loadgen, quick, log):
        super().__init__(root, loadgen, quick, log)
        self.scheme = "https"
        self.certs = {kind: make_cert(self.tmpdir, kind) for kind in CERTS}

    def measure(self, side, label, sample, ours, cpu_of):
        res = super().measure(side, label, sample, ours, cpu_of)
        res["resumed"] = self.resumed(label, sample, cpu_of)
        return res

    def resumed(self, label, sample, cpu_of):
        """REPEATS runs of `openssl s_time -reuse`: proxy CPU per resumed connection."""
        runs = []
        cmd = topo.nsx(topo.NS_CLIENT) + ["taskset", "-c", topo.LOAD_CPU, "openssl", "s_time",
                                          "-connect", topo.FRONT, "-www", self.path, "-reuse",
                                          "-time", str(self.seconds)]
        for i in range(hb.REPEATS):
            a, t0 = sample(), time.monotonic()
            procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True) for _ in range(RESUMERS)]
            outs = [p.communicate(timeout=self.seconds + 60) for p in procs]
            time.sleep(hb.SETTLE)
            b, secs = sample(), time.monotonic() - t0
            conns = reused = fresh = 0
            for p, (out, err) in zip(procs, outs):
                m = re.search(r"(\d+) connections in \d+ real seconds", out)
                if p.returncode != 0 or not m or not int(m.group(1)):
                    raise RuntimeError(f"s_time failed (rc {p.returncode}): "
                                       f"{(err.strip() or out.strip())[-300:]}")
                conns += int(m.group(1))
                marks = out.split("session id reuse", 1)[-1]
                reused, fresh = reused + marks.count("r"), fresh + marks.count("*")
            cpu_ns = cpu_of(a, b, secs) / conns
            share = reused / max(reused + fresh, 1)
            runs.append({"cpu_ns": cpu_ns, "conns_per_s": conns / secs, "reused": share})
            self.log(f"tls: {label} resumed run {i + 1}: {conns / secs:.0f} conn/s, "
                     f"{cpu_ns:.0f} ns CPU/connection, {share:.0%} resumed")
        return runs

    def run_cert(self, side, kind):
        self.bind_opts = f" ssl crt {self.certs[kind]}"
        return self.run_haproxy() if side == "haproxy" else self.run_afpacket()

    def tls_figures(self, res, errs):
        out = []
        for kind in CERTS:
            hx, afp = res.get(f"haproxy/{kind}"), res.get(f"sluice/{kind}")
            sub = {k.split("/")[0].replace("sluice", "afpacket"): v
                   for k, v in errs.items() if k.endswith(kind)}
            for fig in self.figures(hx, afp, sub):
                fig["name"] = fig["name"].replace("http_afpacket_", f"tls_{kind}_")
                fig["note"] = (f"HTTPS, {kind} certificate, TLS 1.3 (both proxies' defaults); "
                               + fig["note"])
                out.append(fig)
            # Handshakes per core: a full handshake per crr request.
            s = [1e9 / r["cpu_ns"] for r in (afp or {}).get("crr", []) if r["cpu_ns"]]
            h = [1e9 / r["cpu_ns"] for r in (hx or {}).get("crr", []) if r["cpu_ns"]]
            fig = topo.side_by_side(f"tls_{kind}_full_handshakes_per_core", "1/s", "higher", s, h)
            fig["note"] = (f"{kind}: full TLS 1.3 handshakes one proxy core sustains = 10^9 / "
                           "proxy CPU ns per request of the crr workload (each request a new "
                           "connection, no session resumed, one HTTP request and answer "
                           f"included); see tls_{kind}_crr_cpu_ns")
            out.append(fig)
            # Resumed handshakes per core: a resumed connection per s_time round.
            sr = [r for r in (afp or {}).get("resumed", []) if r["cpu_ns"]]
            hr = [r for r in (hx or {}).get("resumed", []) if r["cpu_ns"]]
            fig = topo.side_by_side(f"tls_{kind}_resumed_handshakes_per_core", "1/s", "higher",
                                    [1e9 / r["cpu_ns"] for r in sr],
                                    [1e9 / r["cpu_ns"] for r in hr])
            fig["note"] = (f"{kind}: TLS 1.3 handshakes resuming a session with its ticket that "
                           "one proxy core sustains = 10^9 / proxy CPU ns per connection of "
                           f"`openssl s_time -reuse` x{RESUMERS} (a new connection each time, "
                           "GET / "
                           "HTTP/1.0 and its answer included); resumed by s_time's count: "
                           f"Sluice {min([r['reused'] for r in sr] or [0]):.0%}, HAProxy "
                           f"{min([r['reused'] for r in hr] or [0]):.0%} at least")
            out.append(fig)
        return out


def run(root, loadgen, quick, log=print):
    """Both certificates on both proxies, then the figures (see the module's docstring)."""
    lock, b = hb.start(root, loadgen, quick, log, part="tls", cls=Bench)
    steps = [(f"{side}/{kind}", lambda side=side, kind=kind: b.run_cert(side, kind))
             for kind in CERTS for side in ("haproxy", "sluice")]
    res, errs = hb.run_steps(b, lock, steps, part="tls")
    return b.tls_figures(res, errs)


def main():
    topo.script_main("tls", run, __doc__)


if __name__ == "__main__":
    main()
