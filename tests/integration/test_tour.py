"""The Runtime API tour (docs/tour.md) replayed on the quickstart's setup.

`scripts/quickstart --no-install` starts the HAProxy Runtime API article's configuration
(examples/tour.cfg) with its generated support files and three real HTTP backends; each
section of scripts/tour then runs in the article's order with socat, `nc -U`, nc on the TCP
socket, curl and openssl from the client namespace and the REST interface, and every answer
is checked, as is its effect on client traffic (rates limited, a client blocked and let
through by the whitelist, a server drained, a ticket key rotated under a resumed session, an
OCSP response replaced, a garbage request in `show errors`, a session killed with `K` in its
log line, countries in log lines after the `add map` loop). Last, `scripts/quickstart stop`
must leave nothing behind.
"""

import importlib.machinery
import importlib.util
import os
import re
import subprocess

import pytest

from conftest import LOG_DIR, ROOT, SANITIZER_REPORT, SLUICE_BIN, STATE_DIR, _skip_reason, run

QUICKSTART = os.path.join(ROOT, "scripts", "quickstart")
TESTBED = os.path.join(ROOT, "scripts", "testbed")


def _load_tour():
    path = os.path.join(ROOT, "scripts", "tour")
    loader = importlib.machinery.SourceFileLoader("tour", path)
    spec = importlib.util.spec_from_loader("tour", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


pytestmark = pytest.mark.sanitizer  # also against the ASan+UBSan build (scripts/test)
tour = _load_tour()
CAPTURED = {}  # values one section's answers give later commands (@NAME@)


@pytest.fixture(scope="module")
def quickstart():
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    assert os.access(SLUICE_BIN, os.X_OK), f"no sluice binary at {SLUICE_BIN}"
    env = dict(os.environ, SLUICE_BIN=SLUICE_BIN)
    run([QUICKSTART, "stop"], check=False, timeout=120)
    p = run([QUICKSTART, "--no-install"], env=env, timeout=300)
    yield p.stdout
    # Normally test_stop_leaves_nothing stopped it already; after a failure, stop here.
    _save_log()
    run([QUICKSTART, "stop"], check=False, timeout=120)


def _save_log():
    path = os.path.join(STATE_DIR, "sluice.log")
    if os.path.exists(path):
        os.makedirs(LOG_DIR, exist_ok=True)
        with open(path, errors="replace") as f, \
                open(os.path.join(LOG_DIR, "test_tour.log"), "w") as out:
            text = f.read()
            out.write(text)
        return text
    return ""


def test_quickstart_prints_the_guide_the_readme_shows(quickstart):
    """The quickstart's guide names the tour, and the README's first screen shows the same
    commands to try."""
    assert "docs/tour.md" in quickstart, quickstart
    tries = quickstart.split("\nTry:\n", 1)[1].split("\n\n", 1)[0]
    commands = [l.split("  #")[0].strip() for l in tries.splitlines() if l.strip()]
    assert len(commands) >= 5, tries
    with open(os.path.join(ROOT, "README.md")) as f:
        readme = f.read()
    missing = [c for c in commands if c not in readme]
    assert not missing, f"the README does not show the quickstart's commands: {missing}"


def test_docs_show_the_tour():
    """docs/tour.md (written by `scripts/tour --markdown`) shows the tour's commands, in its
    order: regenerate it when a step changes."""
    with open(os.path.join(ROOT, "docs", "tour.md")) as f:
        shown = tour.commands_of(f.read())
    steps = [st for s in tour.SECTIONS for st in s.steps]
    assert len(shown) == len(steps), (len(shown), len(steps))
    for cmd, step in zip(shown, steps):
        assert tour.same_command(cmd, step), (cmd, step.cmd)


@pytest.mark.parametrize("section", tour.SECTIONS, ids=[s.title for s in tour.SECTIONS])
def test_section(quickstart, section):
    for step in section.steps:
        cmd, answer, bad = tour.run_step(step, CAPTURED)
        assert not bad, f"$ {cmd}\n{answer}\n{'; '.join(bad)}"


def test_stop_leaves_nothing(quickstart):
    """`scripts/quickstart stop` ends Sluice, the backends and anything the tour started in
    the namespaces, and removes the namespaces, the TAP devices and the files in /run."""
    log = _save_log()
    m = SANITIZER_REPORT.search(log)
    assert not m, log[max(0, m.start() - 2000):m.start() + 8000]
    p = run([QUICKSTART, "stop"], timeout=120)
    assert "SIGKILL" not in p.stdout + p.stderr, p.stdout
    netns = run(["ip", "netns", "list"]).stdout
    assert not re.search(r"^sl-(client|server)\b", netns, re.M), netns
    for dev in ("sl-tap-c", "sl-tap-s"):
        assert run(["ip", "link", "show", dev], check=False).returncode != 0, dev
    for path in ("/run/sluice-quickstart", STATE_DIR, "/var/run/dpdk/sl-testbed"):
        assert not os.path.exists(path), path
    procs = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    left = [l for l in procs.splitlines()
            if re.search(r"sluice -f .*tour\.cfg|http\.server 8080 --bind 10\.10\.2\.|big\.bin|"
                         r"openssl s_client -connect 10\.10\.1\.1", l)]
    assert not left, left
