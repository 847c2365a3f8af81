"""Pattern sets at scale (issue 14): a 1 000 000-entry map_ip (IPv4 and IPv6 networks) and a
100 000-entry map_str loaded from files at start, then 1 000 000 `add map` entries sent
through the admin socket (one command per line, `<<` payloads, and the article's shell loop
of one socat per entry) while wrk's requests flow through the maps. No request may fail; the
total times and the worker's longest loop iteration (its longest packet-path stall,
`busy_cycles_max` of `show activity`) are printed and written to
build/test-results/rules-scale.json."""

import json
import os
import random
import re
import subprocess
import threading
import time

from conftest import NS_CLIENT, ROOT, STATE_DIR, admin_cli, run, start_backend, stop_backends

DATA = "/tmp/sluice-rules-scale"
NETS = os.path.join(DATA, "nets.map")
HOSTS = os.path.join(DATA, "hosts.map")
N_NETS_V4, N_NETS_V6, N_HOSTS = 900_000, 100_000, 100_000
# A payload fits the CLI's request buffer (tune.bufsize, 16 KiB, as in HAProxy): 500 lines.
N_LINES, N_PAYLOAD, PAYLOAD_LINES, N_LOOP = 100_000, 900_000, 500, 200
RESULTS = os.path.join(ROOT, "build/test-results/rules-scale.json")


def _files():
    os.makedirs(DATA, exist_ok=True)
    rnd = random.Random(14)
    with open(NETS, "w") as f:
        f.write("10.10.1.0/24 LAB\n")
        for i in range(N_NETS_V4):  # /24s from 11.0.0.0 up, a /16 every 16th
            a, b, c = 11 + (i >> 16), (i >> 8) & 255, i & 255
            f.write(f"{a}.{b}.{c}.0/24 {rnd.choice('ABCDEFGH')}{rnd.choice('ABCDEFGH')}\n"
                    if i % 16 else f"{a}.{b}.0.0/16 W{c % 10}\n")
        for i in range(N_NETS_V6):
            f.write(f"2001:db8:{i >> 8:x}:{i & 255:x}::/64 V6\n")
    with open(HOSTS, "w") as f:
        for i in range(N_HOSTS):
            f.write(f"host{i}.example be{i % 7}\n")


def _config():
    _files()
    with open(os.path.join(ROOT, "examples/rules.cfg")) as f:
        text = f.read()
    head = text[:text.index("frontend fe_main")]
    text = head + f"""frontend fe_main
    bind 10.10.1.1:8080
    http-request set-header X-Net %[src,map_ip({NETS},ZZ)]
    http-request set-header X-Host %[req.hdr(host),lower,map_str({HOSTS},none)]
    default_backend be_web

backend be_web
    server s1 10.10.2.11:9000
"""
    path = "/tmp/sluice-test-rules-scale.cfg"
    with open(path, "w") as f:
        f.write(text)
    return path


TESTBED_CONFIG = _config()


def activity(name):
    m = re.search(rf"^{name}: (\d+)", admin_cli("show activity"), re.M)
    return int(m.group(1))


def tsc_hz():
    with open("/proc/cpuinfo") as f:
        return float(re.search(r"cpu MHz\s*:\s*([\d.]+)", f.read()).group(1)) * 1e6


def socat(text, timeout=600):
    p = subprocess.run(["socat", "-t", "60", "stdio",
                        f"unix-connect:{os.path.join(STATE_DIR, 'admin.sock')}"],
                       input=text, capture_output=True, text=True, timeout=timeout)
    return p.stdout


def test_load_and_live_adds_under_traffic(testbed):
    backend = start_backend("10.10.2.11", 9000, "s1", tool="http_backend.py")
    try:
        # Loaded at start: the map's entries are all there, and a lookup uses them.
        line = [l for l in admin_cli("show map").split("\n") if NETS in l][0]
        assert f"entry_cnt={1 + N_NETS_V4 + N_NETS_V6}" in line, line
        t0 = time.monotonic()
        p = run([os.environ.get("SLUICE_BIN", os.path.join(ROOT, "build/release/sluice")),
                 "-c", "-f", TESTBED_CONFIG], check=False, timeout=300)
        load_s = time.monotonic() - t0
        assert p.returncode == 0, p.stderr
        assert admin_cli(f"get map {NETS} 11.0.1.7").startswith("type=ip, case=sensitive, "
                                                                 "found=yes")
        # Traffic for the whole change: wrk with a Host from the map.
        wrk_out = {}

        def wrk():
            q = run(["ip", "netns", "exec", NS_CLIENT, "wrk", "-t1", "-c4", "-d60s",
                     "-H", "Host: host77.example", "http://10.10.1.1:8080/echo"],
                    check=False, timeout=200)
            wrk_out["text"] = q.stdout + q.stderr

        before_max = activity("busy_cycles_max")
        th = threading.Thread(target=wrk)
        th.start()
        time.sleep(2)
        # 1. One command per line on one connection.
        t0 = time.monotonic()
        lines = "".join(f"add map {NETS} 100.{i >> 16}.{(i >> 8) & 255}.{i & 255}/32 L\n"
                        for i in range(N_LINES))
        out = socat(lines)
        lines_s = time.monotonic() - t0
        assert out == "\n" * N_LINES, out[:200]
        # 2. Payloads of PAYLOAD_LINES entries.
        t0 = time.monotonic()
        cmds = []
        for k in range(N_PAYLOAD // PAYLOAD_LINES):
            body = "".join(f"101.{(k * PAYLOAD_LINES + j) >> 16}."
                           f"{((k * PAYLOAD_LINES + j) >> 8) & 255}."
                           f"{(k * PAYLOAD_LINES + j) & 255}/32 P\n"
                           for j in range(PAYLOAD_LINES))
            cmds.append(f"add map {NETS} <<\n{body}\n")
        out = socat("".join(cmds))
        payload_s = time.monotonic() - t0
        assert out == "\n" * (N_PAYLOAD // PAYLOAD_LINES), out[:200]
        # 3. The article's shell loop: one socat per entry.
        t0 = time.monotonic()
        for i in range(N_LOOP):
            assert socat(f"add map {NETS} 102.0.{i >> 8}.{i & 255}/32 S\n") == "\n"
        loop_s = time.monotonic() - t0
        th.join()
        stall_us = activity("busy_cycles_max") / tsc_hz() * 1e6
        requests_us = activity("requests_cycles_max") / tsc_hz() * 1e6
        text = wrk_out["text"]
        m = re.search(r"(\d+) requests in", text)
        assert m and int(m.group(1)) > 0, text
        assert "Non-2xx" not in text and "Socket errors" not in text, text
        line = [l for l in admin_cli("show map").split("\n") if NETS in l][0]
        total = 1 + N_NETS_V4 + N_NETS_V6 + N_LINES + N_PAYLOAD + N_LOOP
        assert f"entry_cnt={total}" in line, line
        assert admin_cli(f"get map {NETS} 101.0.0.5").endswith('value="P", type="str"\n\n')
        figures = {
            "map_entries_loaded": 1 + N_NETS_V4 + N_NETS_V6, "str_entries_loaded": N_HOSTS,
            "config_load_s": round(load_s, 2),
            "adds_one_per_line": N_LINES, "one_per_line_s": round(lines_s, 2),
            "adds_in_payloads": N_PAYLOAD, "payload_s": round(payload_s, 2),
            "adds_one_socat_each": N_LOOP, "one_socat_each_s": round(loop_s, 2),
            "requests_during": int(m.group(1)),
            "longest_iteration_us": round(stall_us, 1),
            "longest_requests_us": round(requests_us, 1),
            "longest_iteration_us_before": round(before_max / tsc_hz() * 1e6, 1),
        }
        print(json.dumps(figures))
        os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
        with open(RESULTS, "w") as f:
            json.dump(figures, f, indent=1)
    finally:
        stop_backends([backend])
