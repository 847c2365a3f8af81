"""Integration tests: the real binary on the TAP testbed (scripts/testbed, docs/testbed.md).

The testbed uses fixed namespace and interface names, so these tests never run in parallel;
each module brings the testbed up once (the `testbed` fixture) with the configuration named
by its TESTBED_CONFIG (default examples/testbed.cfg) and takes it down afterwards.

Environment: SLUICE_BIN selects the binary (default build/release/sluice). Tests marked
`sanitizer` are run a second time by scripts/test against the ASan+UBSan build; a sanitizer
report in Sluice's output fails the module.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import time

import pytest
import requests

import telemetry

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TESTBED = os.path.join(ROOT, "scripts", "testbed")
SLUICE_BIN = os.environ.get("SLUICE_BIN") or os.path.join(ROOT, "build", "release", "sluice")
DEFAULT_CONFIG = os.path.join(ROOT, "examples", "testbed.cfg")
STATE_DIR = "/run/sluice-testbed"
LOG_DIR = os.path.join(ROOT, "build", "test-results", "logs")
PREFIX = "sl-testbed"
NS_CLIENT = "sl-client"
NS_SERVER = "sl-server"

SANITIZER_REPORT = re.compile(
    r"ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|"
    r"ERROR: UndefinedBehaviorSanitizer|WARNING: ThreadSanitizer")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "sanitizer: also run against the ASan+UBSan build by scripts/test")


def _skip_reason():
    if os.geteuid() != 0:
        return "integration tests need root (network namespaces, TAP devices)"
    if not os.path.exists("/dev/net/tun"):
        return "integration tests need /dev/net/tun (TAP devices)"
    return None


def pytest_collection_modifyitems(config, items):
    # Only tests on the testbed need root and TAP; `sluice -c` tests run anywhere.
    reason = _skip_reason()
    if reason:
        for item in items:
            if "testbed" in getattr(item, "fixturenames", ()):
                item.add_marker(pytest.mark.skip(reason=reason))


def start_backend(addr, port, name, *options, tool="backend.py"):
    """tools/backend.py (or another tool of tools/ taking the same first arguments) on
    addr:port in sl-server (options: --mode M, --status N), once it says it is ready. Stop it
    with stop_backends()."""
    p = subprocess.Popen(
        ["ip", "netns", "exec", NS_SERVER, "/usr/bin/python3",
         os.path.join(ROOT, "tests/integration/tools", tool), addr, str(port), name,
         *map(str, options)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert p.stdout.readline().strip() == "ready"
    return p


def stop_backends(procs):
    for p in procs:
        p.kill()
        p.wait()


def config_file(name, sections, dataplane_extra="", memory=None):
    """A configuration file for a test module: the testbed's own (examples/testbed.cfg: its
    global and dataplane sections), with `dataplane_extra` lines in its dataplane section,
    `memory` MiB when given, then `sections`. Returns its path."""
    with open(DEFAULT_CONFIG) as f:
        text = f.read()
    if memory:
        text = text.replace("    memory 512\n", f"    memory {memory}\n")
    text = text.rstrip("\n") + "\n" + dataplane_extra + "\n" + sections
    path = f"/tmp/sluice-test-{name}.cfg"
    with open(path, "w") as f:
        f.write(text)
    return path


def example_config(example, name, replace=(), extra=""):
    """examples/EXAMPLE as a test module's configuration: its `examples/rules/` paths made
    absolute, each (old, new) of `replace` applied, `extra` appended. Written to
    /tmp/sluice-test-NAME.cfg; returns that path."""
    with open(os.path.join(ROOT, "examples", example)) as f:
        text = f.read().replace("examples/rules/", os.path.join(ROOT, "examples/rules") + "/")
    for old, new in replace:
        assert old in text, f"{old!r} not in examples/{example}"
        text = text.replace(old, new)
    path = f"/tmp/sluice-test-{name}.cfg"
    with open(path, "w") as f:
        f.write(text + extra)
    return path


def admin_cli(cmd):
    """One Runtime API command on the testbed's admin socket, sent with socat as operators
    do; returns the answer's text."""
    p = subprocess.run(["socat", "-t", "5", "stdio",
                        f"unix-connect:{os.path.join(STATE_DIR, 'admin.sock')}"],
                       input=cmd + "\n", capture_output=True, text=True, timeout=30, check=True)
    return p.stdout


def wait_status(px, servers, status="UP", timeout=15):
    """Waits until every server of `servers` in backend `px` shows `status` in `show stat`
    (checks starting: "UP 1/3", then DOWN or UP); returns whether they all did."""
    deadline = time.monotonic() + timeout
    while True:
        rows = {tuple(l.split(",")[:2]): l.split(",")[17]
                for l in admin_cli("show stat").splitlines()[1:] if l.count(",") > 17}
        if all(rows.get((px, s)) == status for s in servers):
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)


def stat_scur(px, sv):
    """The current sessions (scur) of proxy `px`, server or FRONTEND/BACKEND `sv`."""
    for line in admin_cli("show stat").splitlines():
        f = line.split(",")
        if f[:2] == [px, sv]:
            return int(f[4])
    raise AssertionError(f"no {px}/{sv} in show stat")


def stat_row(px, sv):
    """One `show stat` row as {column: value}."""
    lines = admin_cli("show stat").splitlines()
    head = lines[0][2:].split(",")
    for line in lines[1:]:
        f = line.split(",")
        if f[:2] == [px, sv]:
            return dict(zip(head, f))
    raise AssertionError(f"no {px}/{sv}")


SHOTS = os.path.join(ROOT, "build", "test-results", "screenshots")


def chromium_page(url, name, auth=None, act=None, netns=None):
    """The statistics page at `url` in headless chromium (tests/node/stats-page.js, run in
    network namespace `netns` when given): its rows as the browser shows them (class,
    colour), by anchor in ["by"]; the screenshot is kept in
    build/test-results/screenshots/NAME.png. `act` "PROXY/SERVER=ACTION" uses the admin form."""
    os.makedirs(SHOTS, exist_ok=True)
    cmd = ["node", os.path.join(ROOT, "tests/node/stats-page.js"), url, auth[0] if auth else "",
           auth[1] if auth else "", os.path.join(SHOTS, name + ".png")]
    if act:
        cmd.append(act)
    if netns:
        cmd = ["ip", "netns", "exec", netns] + cmd
    p = run(cmd, check=False, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    page = json.loads(p.stdout)
    page["by"] = {r["anchor"]: r for r in page["rows"] if r["anchor"]}
    return page


class Prometheus:
    """Debian's Prometheus server scraping `target` (host:port, path /metrics) every second,
    its data in `work` (emptied first), listening on 127.0.0.1:`port`, inside network
    namespace `netns` when given (then queried from there too). A context manager."""

    def __init__(self, work, target, port=19090, basic_auth=None, netns=None):
        self.port, self.netns = port, netns
        shutil.rmtree(work, ignore_errors=True)  # no sample of an earlier run
        os.makedirs(work)
        auth = ""
        if basic_auth:
            auth = (f"    basic_auth:\n      username: {basic_auth[0]}\n"
                    f"      password: {basic_auth[1]}\n")
        with open(f"{work}/prometheus.yml", "w") as f:
            f.write("global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: sluice\n" +
                    auth + f"    static_configs:\n      - targets: [\"{target}\"]\n")
        cmd = ["prometheus", f"--config.file={work}/prometheus.yml",
               f"--storage.tsdb.path={work}/data", f"--web.listen-address=127.0.0.1:{port}"]
        if netns:
            cmd = ["ip", "netns", "exec", netns] + cmd
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.proc.terminate()
        self.proc.wait(timeout=30)

    def api(self, path, **params):
        """GET /api/v1/PATH as JSON; None while the server does not answer."""
        url = f"http://127.0.0.1:{self.port}/api/v1/{path}"
        if self.netns:
            cmd = ["ip", "netns", "exec", self.netns, "curl", "-sf", "-G", url]
            for k, v in params.items():
                cmd += ["--data-urlencode", f"{k}={v}"]
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
            return json.loads(p.stdout) if p.returncode == 0 else None
        try:
            return requests.get(url, params=params, timeout=5).json()
        except requests.ConnectionError:
            return None

    def query(self, expr):
        r = self.api("query", query=expr)
        return r["data"]["result"] if r else None

    def target(self):
        r = self.api("targets")
        active = r["data"]["activeTargets"] if r else []
        return active[0] if active else None

    def assert_scraped(self, expr, timeout=60):
        """Waits until the target is up, without a scrape error, and `expr` has the sample 1."""
        deadline = time.monotonic() + timeout
        up = found = target = None
        while time.monotonic() < deadline:
            time.sleep(1)
            up = self.query('up{job="sluice"}')
            found = self.query(expr)
            target = self.target()
            if up and found and target and target["health"] == "up":
                break
        assert up and up[0]["value"][1] == "1", up
        assert found and found[0]["value"][1] == "1", found
        assert target and target["health"] == "up" and target["lastError"] == "", target


def run(cmd, check=True, timeout=120, **kw):
    """Runs a command (list), returns CompletedProcess with text stdout/stderr."""
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL, **kw)
    if check and p.returncode != 0:
        raise AssertionError(
            f"{' '.join(cmd)} exited {p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}")
    return p


class Testbed:
    """Drives scripts/testbed and gives tests the few things they need."""

    def __init__(self, config=DEFAULT_CONFIG, bin_path=SLUICE_BIN):
        self.config = config
        self.bin = bin_path
        self._log_handle = None
        self._log_text = ""
        self.log_copy = None

    # --- lifecycle ----------------------------------------------------------------------
    def env(self):
        env = dict(os.environ)
        env["SLUICE_BIN"] = self.bin
        return env

    def up(self, config=None):
        config = config or self.config
        p = run([TESTBED, "up", config], check=False, env=self.env(),
                timeout=int(os.environ.get("SLUICE_READY_TIMEOUT", "30")) + 60)
        if p.returncode != 0:
            raise AssertionError(f"testbed up failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
        # Keep the log open: `down` deletes the file, and a sanitizer reports at exit.
        # Logs of several ups in one module are concatenated.
        self.read_log()
        if self._log_handle:
            self._log_handle.close()
        self._log_handle = open(os.path.join(STATE_DIR, "sluice.log"), "r", errors="replace")
        return p

    def down(self):
        p = run([TESTBED, "down"], check=False, timeout=120)
        if p.returncode != 0:
            raise AssertionError(f"testbed down failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
        self.read_log()
        return p

    def read_log(self):
        """Everything Sluice printed since the last `up` (also after `down`)."""
        if self._log_handle:
            self._log_text += self._log_handle.read()
        return self._log_text

    def close_log(self, name):
        text = self.read_log()
        if self._log_handle:
            self._log_handle.close()
            self._log_handle = None
            os.makedirs(LOG_DIR, exist_ok=True)
            self.log_copy = os.path.join(LOG_DIR, f"{name}.log")
            with open(self.log_copy, "a") as f:
                f.write(text)
        return text

    def status(self):
        return run([TESTBED, "status"], check=False)

    def pid(self):
        with open(os.path.join(STATE_DIR, "sluice.pid")) as f:
            return int(f.read().strip())

    # --- inside the namespaces ----------------------------------------------------------
    def exec(self, side, cmd, check=True, timeout=120):
        ns = {"client": NS_CLIENT, "server": NS_SERVER}[side]
        return run(["ip", "netns", "exec", ns] + list(cmd), check=check, timeout=timeout)

    def ping(self, side, dst, count=100, interval=0.01, source=None, v6=False, check=True):
        cmd = ["ping", "-n", "-q", "-c", str(count), "-i", str(interval), "-W", "2"]
        if v6:
            cmd.insert(1, "-6")
        if source:
            cmd += ["-I", source]
        p = self.exec(side, cmd + [dst], check=False, timeout=count * 3 + 30)
        m = re.search(r"(\d+) packets transmitted, (\d+) received", p.stdout)
        sent, received = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
        if check:
            assert sent == count and received == count, \
                f"ping {dst} from {side} {source or ''}: {p.stdout}{p.stderr}"
        return sent, received

    def neigh(self, side, addr):
        """The lladdr the namespace learned for addr, or None."""
        ns = {"client": NS_CLIENT, "server": NS_SERVER}[side]
        out = run(["ip", "-n", ns, "neigh", "show", addr]).stdout
        m = re.search(r"lladdr ([0-9a-f:]{17})", out)
        return m.group(1) if m else None

    # --- telemetry ----------------------------------------------------------------------
    def telemetry(self):
        return telemetry.wait_for_socket(PREFIX, timeout=10)

    def counters(self):
        with self.telemetry() as t:
            return t.counters()

    def worker_counters(self):
        with self.telemetry() as t:
            return t.all_workers()


def wait_settled(tb, key="rx_packets", quiet=0.5, timeout=15):
    """Waits until counter `key` stops moving for `quiet` seconds; returns the counters."""
    deadline = time.monotonic() + timeout
    last = tb.counters()
    while time.monotonic() < deadline:
        time.sleep(quiet)
        now = tb.counters()
        if now.get(key) == last.get(key):
            return now
        last = now
    return last


@pytest.fixture(scope="module")
def testbed(request):
    """The testbed, up for the whole module, with the module's TESTBED_CONFIG."""
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    assert os.access(SLUICE_BIN, os.X_OK), \
        f"no sluice binary at {SLUICE_BIN}: run scripts/build (or set SLUICE_BIN)"
    config = getattr(request.module, "TESTBED_CONFIG", DEFAULT_CONFIG)
    if not os.path.isabs(config):
        config = os.path.join(ROOT, config)
    tb = Testbed(config)
    run([TESTBED, "down"], check=False)
    tb.up()
    yield tb
    p = tb.down()
    name = request.module.__name__
    log = tb.close_log(name)
    problems = []
    if "SIGKILL" in p.stdout + p.stderr:
        problems.append("sluice did not stop on SIGTERM and was killed:\n" + p.stdout)
    m = SANITIZER_REPORT.search(log)
    if m:
        start = max(0, m.start() - 2000)
        problems.append(f"sanitizer report in sluice's output ({tb.log_copy}):\n"
                        + log[start:start + 8000])
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


def have(cmd):
    return shutil.which(cmd) is not None


class Syslog:
    """A UDP syslog receiver on 127.0.0.1:5514, where the example configurations log."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 5514))
        self.sock.settimeout(0.2)

    def lines(self, want, timeout=5):
        """Datagrams received until `want` of them came, or `timeout` seconds."""
        out = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(out) < want:
            try:
                out.append(self.sock.recv(65536).decode(errors="replace"))
            except socket.timeout:
                pass
        return out

    def drain(self):
        self.lines(10**9, timeout=0.5)

    def close(self):
        self.sock.close()


def add_loss(per_mille):
    """Random loss of `per_mille`/1000 TCP segments both ways on the client side (nftables
    numgen: this kernel has no sch_netem). Undo with remove_loss()."""
    rules = [
        "add table inet sl_loss",
        "add chain inet sl_loss in { type filter hook input priority 0; }",
        "add chain inet sl_loss out { type filter hook output priority 0; }",
        f"add rule inet sl_loss in meta l4proto tcp numgen random mod 1000 < {per_mille} drop",
        f"add rule inet sl_loss out meta l4proto tcp numgen random mod 1000 < {per_mille} drop",
    ]
    for r in rules:
        run(["ip", "netns", "exec", NS_CLIENT, "nft", r])


def remove_loss():
    run(["ip", "netns", "exec", NS_CLIENT, "nft", "delete table inet sl_loss"], check=False)
