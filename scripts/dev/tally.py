#!/usr/bin/python3
"""Tallies test cases from every tier into one line: `N passed, N failed[, N skipped]`.

Sources (each may be given several times; LABEL prefixes the names in the report):
  --meson LABEL:BUILDDIR[:GTESTDIR]
      a meson build whose `meson test` ran. Reads BUILDDIR/meson-logs/testlog.json (one
      entry per registered test) and testlog.junit.xml (per-case results of tests registered
      with protocol 'gtest'). A test run with protocol 'exitcode' counts per case when it
      wrote a GoogleTest JSON report in this run: where the test's GTEST_OUTPUT (recorded in
      testlog.json) points, or GTESTDIR/<binary>.json; otherwise it counts as one case. A test that failed as a whole (crash, sanitizer report at exit,
      timeout) with no failed case counts one failure more. A missing testlog means meson
      test did not run: nothing is counted (a build that failed is reported by --fail).
  --junit LABEL:FILE
      JUnit XML as pytest writes it; a missing or unreadable file counts as one failure.
  --fail LABEL:TEXT
      one failed case (a build or a runner that broke before it could write results).
  --pass LABEL:TEXT
      one passed case (a tier that reports per line, such as scripts/fuzz).

Prints each failed case, then the summary line last. Exit status 1 when anything failed.
"""

import argparse
import json
import os
import sys
import xml.etree.ElementTree as ET


class Tally:
    def __init__(self):
        self.passed = 0
        self.failed = []
        self.skipped = 0

    def add(self, label, name, outcome):
        if outcome == "passed":
            self.passed += 1
        elif outcome == "skipped":
            self.skipped += 1
        else:
            self.failed.append(f"{label}: {name}")

    def line(self):
        s = f"{self.passed} passed, {len(self.failed)} failed"
        if self.skipped:
            s += f", {self.skipped} skipped"
        return s


def junit_case_outcome(case):
    """passed / failed / skipped / None (not run: gtest DISABLED_)."""
    if case.find("failure") is not None or case.find("error") is not None:
        return "failed"
    if case.find("skipped") is not None:
        return "skipped"
    if case.get("status") == "notrun":
        return None
    return "passed"


def gtest_json_cases(path):
    """Yields (name, outcome) from a GoogleTest JSON report."""
    with open(path) as f:
        report = json.load(f)
    for suite in report.get("testsuites", []):
        for case in suite.get("testsuite", []):
            name = f"{suite.get('name')}.{case.get('name')}"
            if case.get("failures"):
                yield name, "failed"
            elif case.get("status") == "NOTRUN" or case.get("result") == "SUPPRESSED":
                continue
            elif case.get("result") == "SKIPPED":
                yield name, "skipped"
            else:
                yield name, "passed"


def read_testlog(builddir):
    path = os.path.join(builddir, "meson-logs", "testlog.json")
    entries = []
    if not os.path.exists(path):
        return None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                entries.append(json.loads(line))
    return entries


def read_meson_junit(builddir):
    """Maps a meson test name to the per-case results meson merged from gtest XML."""
    path = os.path.join(builddir, "meson-logs", "testlog.junit.xml")
    cases = {}
    if not os.path.exists(path):
        return cases
    root = ET.parse(path).getroot()
    for suite in root.iter("testsuite"):
        sname = suite.get("name", "")
        # gtest protocol suites are named "<project>.<test name>.<gtest suite>".
        for case in suite.iter("testcase"):
            cases.setdefault(("suite", sname), []).append(case)
    return cases


def gtest_json_path(entry, gtestdir):
    """The GoogleTest JSON report this meson test wrote in this run, or None."""
    cmd = entry.get("command") or []
    binary = os.path.basename(cmd[0]) if cmd else ""
    candidates = []
    out = (entry.get("env") or {}).get("GTEST_OUTPUT", "")
    if out.startswith("json:"):
        path = out[len("json:"):]
        candidates.append(os.path.join(path, binary + ".json") if path.endswith("/") else path)
    if gtestdir and binary:
        candidates.append(os.path.join(gtestdir, binary + ".json"))
    start = float(entry.get("starttime") or 0)
    for c in candidates:
        # A file older than the test run is a previous run's: the binary died before writing.
        if os.path.exists(c) and os.path.getmtime(c) >= start - 1:
            return c
    return None


def tally_meson(t, label, builddir, gtestdir):
    entries = read_testlog(builddir)
    if entries is None:
        return
    junit = read_meson_junit(builddir)
    for e in entries:
        name = e.get("name", "?")
        result = e.get("result", "ERROR")
        per_case = []
        # 1. cases meson itself collected (protocol 'gtest').
        for (_, sname), cases in junit.items():
            if sname.endswith("." + name) or f".{name}." in sname:
                for c in cases:
                    if c.get("name") == name:  # the whole-test entry of an exitcode test
                        continue
                    per_case.append((f"{c.get('classname')}.{c.get('name')}",
                                     junit_case_outcome(c)))
        # 2. a GoogleTest JSON file written through GTEST_OUTPUT (the test's own setting in
        #    meson.build, else the one scripts/test exported), written by this run.
        if not per_case:
            js = gtest_json_path(e, gtestdir)
            if js:
                try:
                    per_case = list(gtest_json_cases(js))
                except (OSError, ValueError) as err:
                    per_case = [(f"(unreadable {js}: {err})", "failed")]
        per_case = [(n, o) for n, o in per_case if o is not None]
        test_failed = result in ("FAIL", "TIMEOUT", "ERROR", "UNEXPECTEDPASS")
        if per_case:
            for n, o in per_case:
                t.add(label, f"{name} :: {n}", o)
            if test_failed and not any(o == "failed" for _, o in per_case):
                rc = e.get("returncode")
                t.add(label, f"{name} (test binary: {result}, exit status {rc})", "failed")
        elif result == "SKIP":
            t.add(label, name, "skipped")
        elif test_failed:
            t.add(label, f"{name} ({result}, exit status {e.get('returncode')})", "failed")
        else:
            t.add(label, name, "passed")


def tally_junit(t, label, path):
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as err:
        t.add(label, f"no results ({path}: {err})", "failed")
        return
    for case in root.iter("testcase"):
        outcome = junit_case_outcome(case)
        if outcome is None:
            continue
        cls = case.get("classname", "")
        t.add(label, f"{cls}::{case.get('name')}" if cls else case.get("name"), outcome)


def split_arg(arg, n_min, n_max):
    parts = arg.split(":", n_max - 1)
    if len(parts) < n_min:
        raise SystemExit(f"tally: bad argument '{arg}'")
    return parts + [None] * (n_max - len(parts))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--meson", action="append", default=[], metavar="LABEL:BUILDDIR[:GTESTDIR]")
    ap.add_argument("--junit", action="append", default=[], metavar="LABEL:FILE")
    ap.add_argument("--fail", action="append", default=[], metavar="LABEL:TEXT")
    ap.add_argument("--pass", dest="passed", action="append", default=[], metavar="LABEL:TEXT")
    args = ap.parse_args(argv)

    t = Tally()
    for a in args.meson:
        label, builddir, gtestdir = split_arg(a, 2, 3)
        tally_meson(t, label, builddir, gtestdir)
    for a in args.junit:
        label, path = split_arg(a, 2, 2)
        tally_junit(t, label, path)
    for a in args.fail:
        label, text = split_arg(a, 2, 2)
        t.add(label, text, "failed")
    for a in args.passed:
        label, text = split_arg(a, 2, 2)
        t.add(label, text, "passed")

    for f in t.failed:
        print(f"FAILED {f}")
    print(t.line())
    return 1 if t.failed else 0


if __name__ == "__main__":
    sys.exit(main())
