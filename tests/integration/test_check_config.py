"""`sluice -c -f FILE`: exit 0 and "Configuration file is valid" on good configurations; exit 1
with haproxy-style alerts naming FILE:LINE and the 'keyword' on bad ones. Needs neither root
nor TAP: nothing starts."""

import glob
import os
import re

import pytest

from conftest import ROOT, SLUICE_BIN, run

pytestmark = pytest.mark.sanitizer

FIXTURES = os.path.join(ROOT, "tests", "fixtures", "config")
EXAMPLES = sorted(glob.glob(os.path.join(ROOT, "examples", "*.cfg")))
# Fixtures that are valid on their own, or together (a list: several -f in that order).
GOOD_FIXTURES = [
    ["minimal.cfg"],
    ["haproxy-style.cfg"],
    ["split-global.cfg", "split-dataplane.cfg"],
]
ALERT = re.compile(r"^\[ALERT\] +\(\d+\) : config : ", re.M)

GOOD_DATAPLANE = """\
dataplane
    workers 1
    port client net_tap0,iface=sl-chk0
    address client 10.10.1.1/24
"""


def check(*paths):
    args = [SLUICE_BIN, "-c"]
    for p in paths:
        args += ["-f", p]
    return run(args, check=False, timeout=60)


@pytest.fixture(autouse=True)
def need_binary():
    assert os.access(SLUICE_BIN, os.X_OK), f"no sluice binary at {SLUICE_BIN}"


def good_sets():
    sets = [[e] for e in EXAMPLES]
    for files in GOOD_FIXTURES:
        paths = [os.path.join(FIXTURES, f) for f in files]
        if all(os.path.exists(p) for p in paths):
            sets.append(paths)
    return sets


@pytest.mark.parametrize("paths", good_sets(),
                         ids=lambda ps: "+".join(os.path.relpath(p, ROOT) for p in ps))
def test_good_configuration(paths, tmp_path):
    if paths[-1].endswith("examples/tour.cfg"):
        # Its support files are the quickstart's: made here, in a directory of the test's.
        run([os.path.join(ROOT, "scripts", "quickstart"), "files", str(tmp_path)])
        with open(paths[-1]) as f:
            text = f.read().replace("/run/sluice-quickstart", str(tmp_path))
        paths = [str(tmp_path / "tour.cfg")]
        with open(paths[0], "w") as f:
            f.write(text)
    p = check(*paths)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "Configuration file is valid" in p.stdout, p.stdout + p.stderr
    assert not ALERT.search(p.stderr), p.stderr


def test_examples_exist():
    names = {os.path.basename(e) for e in EXAMPLES}
    assert {"testbed.cfg", "testbed-2workers.cfg"} <= names


def test_good_configuration_written_here(tmp_path):
    f = tmp_path / "good.cfg"
    f.write_text("global\n    nbthread 1\n\n" + GOOD_DATAPLANE)
    p = check(str(f))
    assert p.returncode == 0, p.stderr
    assert "Configuration file is valid" in p.stdout


# (id, file text, line of the error, words the alert must contain)
BAD = [
    ("unknown-dataplane-keyword",
     GOOD_DATAPLANE + "    frobnicate 3\n", 5, ["'frobnicate'"]),
    ("bad-workers-value",
     "dataplane\n    workers banana\n    port client net_tap0,iface=sl-chk0\n", 2,
     ["'workers'"]),
    ("negative-workers",
     "dataplane\n    workers -2\n    port client net_tap0,iface=sl-chk0\n", 2, ["'workers'"]),
    ("address-for-undeclared-port",
     GOOD_DATAPLANE + "    address nosuch 10.9.9.1/24\n", 5, ["'address'", "nosuch"]),
    ("bad-address",
     GOOD_DATAPLANE + "    address client 10.10.1.300/24\n", 5, ["'address'"]),
    ("unterminated-quote",
     "dataplane\n    workers 1\n    port client \"net_tap0,iface=sl-chk0\n", 3, ["quote"]),
    ("unknown-global-keyword",
     "global\n    nbthread 1\n    nosuchkeyword on\n\n" + GOOD_DATAPLANE, 3,
     ["'nosuchkeyword'"]),
    ("unknown-section",
     GOOD_DATAPLANE + "\nfoobarsection\n    bind :80\n", 6, ["'foobarsection'"]),
]


@pytest.mark.parametrize("text,line,words", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_configuration(tmp_path, text, line, words):
    f = tmp_path / "bad.cfg"
    f.write_text(text)
    p = check(str(f))
    assert p.returncode == 1, f"exit {p.returncode}\n{p.stdout}{p.stderr}"
    assert "Configuration file is valid" not in p.stdout
    assert ALERT.search(p.stderr), p.stderr
    where = f"[{f}:{line}]"
    lines = [ln for ln in p.stderr.splitlines() if where in ln]
    assert lines, f"no alert names {where}:\n{p.stderr}"
    for w in words:
        assert any(w in ln for ln in lines), f"no alert at {where} mentions {w}:\n{p.stderr}"


def test_error_in_second_file_names_that_file(tmp_path):
    a = tmp_path / "a.cfg"
    b = tmp_path / "b.cfg"
    a.write_text("global\n    nbthread 1\n")
    b.write_text(GOOD_DATAPLANE + "    frobnicate\n")
    p = check(str(a), str(b))
    assert p.returncode == 1
    assert f"[{b}:5]" in p.stderr and "'frobnicate'" in p.stderr, p.stderr


def test_all_errors_reported_at_once(tmp_path):
    f = tmp_path / "bad.cfg"
    f.write_text(GOOD_DATAPLANE + "    frobnicate 1\n    grumble 2\n")
    p = check(str(f))
    assert p.returncode == 1
    assert f"[{f}:5]" in p.stderr and f"[{f}:6]" in p.stderr, p.stderr


def test_missing_file(tmp_path):
    missing = tmp_path / "nope.cfg"
    p = check(str(missing))
    assert p.returncode == 1, p.stdout + p.stderr
    assert str(missing) in p.stderr, p.stderr
    assert "Configuration file is valid" not in p.stdout


def test_no_file_given():
    p = run([SLUICE_BIN, "-c"], check=False, timeout=60)
    assert p.returncode != 0
