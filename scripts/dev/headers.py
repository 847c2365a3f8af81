#!/usr/bin/python3
"""Each header compiles on its own (docs/style/STYLE.md rule 4). Exits 1 and lists every failure.

Compiles every .h under dataplane/, controlplane/ and runtime-api/ (none under a tests/ or
bench/ folder) as a translation unit of its own, `#include "that/header.h"` and nothing
else, with the project's flags:
  -fsyntax-only -std=c++20 -x c++ -I<repository root> -DALLOW_EXPERIMENTAL_API
  -D_FILE_OFFSET_BITS=64 -Wall -Wextra -Wpedantic -Werror   (meson: warning_level=3, werror)
  -Wno-restrict                        with GCC before 13, as meson.build adds it
  -fno-exceptions -fno-rtti            for dataplane/ headers (meson.build: dataplane_args)
  `pkg-config --cflags` of libdpdk, openssl, libhs, fmt and nlohmann_json, with -I turned
  into -isystem (their headers are not warning-clean as C++20; meson takes them as system
  headers too). DPDK's `-include rte_config.h -march=corei7` come with them.
NDEBUG is not defined, as in the debug (ASan) build: debug-only code is checked too.
A header that fails is printed with the compiler's first error lines.

KNOWN_BROKEN lists headers that may fail for now, each with its reason; they are still
compiled, and one that compiles again is reported (remove it) without failing the run.

  scripts/dev/headers.py               check the repository (2 compilers at a time)
  scripts/dev/headers.py --cxx 'CMD'   compiler command (default: $CXX, else c++)
  scripts/dev/headers.py -j N          N compilers at a time
  scripts/dev/headers.py --root DIR    check another tree laid out the same way
  scripts/dev/headers.py --self-test   check the checker on a small temporary tree
  scripts/dev/headers.py HEADER...     only these headers
Runs as the meson tests `headers` and `headers-self-test` (suite `style`).
"""

import argparse
import concurrent.futures
import os
import shlex
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOPS = ("dataplane", "controlplane", "runtime-api")
SKIP_DIRS = {"tests", "bench"}
PACKAGES = ("libdpdk", "openssl", "libhs", "fmt", "nlohmann_json")
COMMON_FLAGS = ["-fsyntax-only", "-std=c++20", "-x", "c++", "-I.", "-DALLOW_EXPERIMENTAL_API",
                "-D_FILE_OFFSET_BITS=64", "-Wall", "-Wextra", "-Wpedantic", "-Werror",
                "-fdiagnostics-color=never"]
DATAPLANE_FLAGS = ["-fno-exceptions", "-fno-rtti"]
ERROR_LINES = 8

# Header -> reason, e.g. "owner editing (issue 11)" for a header whose module is being
# reworked. Remove an entry with the change that makes the header compile on its own. Empty:
# every header compiled on its own when the check was written.
KNOWN_BROKEN = {
}


def headers(root):
    out = []
    for top in TOPS:
        for dirpath, dirnames, names in os.walk(os.path.join(root, top)):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
            for n in sorted(names):
                if n.endswith(".h"):
                    out.append(os.path.relpath(os.path.join(dirpath, n), root)
                               .replace(os.sep, "/"))
    return out


def package_flags():
    """pkg-config --cflags of PACKAGES, -I turned into -isystem. Raises on a missing one."""
    flags = []
    for pkg in PACKAGES:
        r = subprocess.run(["pkg-config", "--cflags", pkg], capture_output=True, text=True,
                           check=False)
        if r.returncode != 0:
            raise RuntimeError(f"pkg-config --cflags {pkg} failed: {r.stderr.strip()} "
                               "(scripts/setup installs it)")
        words = shlex.split(r.stdout)
        i = 0
        while i < len(words):
            w = words[i]
            if w == "-I":
                flags += ["-isystem", words[i + 1]]
                i += 1
            elif w.startswith("-I"):
                flags += ["-isystem", w[2:]]
            elif w in ("-include", "-isystem"):
                flags += [w, words[i + 1]]
                i += 1
            else:
                flags.append(w)
            i += 1
    # One package's directory may come again from another; the first one is enough.
    deduped, seen = [], set()
    i = 0
    while i < len(flags):
        item = tuple(flags[i:i + 2]) if flags[i] in ("-isystem", "-include") else (flags[i],)
        if item not in seen:
            seen.add(item)
            deduped += list(item)
        i += len(item)
    return deduped


def compiler_flags(cxx):
    """Flags the compiler itself needs: GCC before 13 gets -Wno-restrict (meson.build)."""
    r = subprocess.run(cxx + ["-dM", "-E", "-x", "c++", "/dev/null"], capture_output=True,
                       text=True, check=False)
    if r.returncode != 0:
        raise RuntimeError(f"{shlex.join(cxx)} does not run: {r.stderr.strip()}")
    macros = dict(l.split(" ", 2)[1:] for l in r.stdout.splitlines()
                  if l.startswith("#define ") and l.count(" ") >= 2)
    if "__clang__" not in macros and int(macros.get("__GNUC__", "0")) < 13:
        return ["-Wno-restrict"]
    return []


def compile_header(root, cxx, flags, header):
    """(header, ok, first error lines, seconds)."""
    extra = DATAPLANE_FLAGS if header.startswith("dataplane/") else []
    start = time.monotonic()
    r = subprocess.run(cxx + COMMON_FLAGS + flags + extra + ["-"], cwd=root,
                       input=f'#include "{header}"\n', capture_output=True, text=True,
                       check=False)
    took = time.monotonic() - start
    lines = [l for l in (r.stderr + r.stdout).splitlines()
             if l.strip() and l != "In file included from <stdin>:1:"]
    # The first error and the lines that explain it; "In file included from" lines first.
    first = next((i for i, l in enumerate(lines) if "error" in l), 0)
    start_at = first
    while start_at > 0 and lines[start_at - 1].lstrip().startswith(("In file included",
                                                                     "from ")):
        start_at -= 1
    return header, r.returncode == 0, lines[start_at:first + ERROR_LINES], took


def run(root, cxx, jobs, only=None, known_broken=None):
    """Returns (failures, notes, count): failures [(header, error lines)]."""
    known_broken = KNOWN_BROKEN if known_broken is None else known_broken
    flags = package_flags() + compiler_flags(cxx)
    todo = only if only else headers(root)
    failures, notes = [], []
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        results = list(pool.map(lambda h: compile_header(root, cxx, flags, h), todo))
    for header, ok, errors, _ in results:
        reason = known_broken.get(header)
        if ok and reason is not None:
            notes.append(f"compiles on its own now, remove it from KNOWN_BROKEN: {header}")
        elif not ok and reason is not None:
            notes.append(f"known broken: {header}: {reason}")
        elif not ok:
            failures.append((header, errors))
    slowest = sorted(results, key=lambda r: -r[3])[:3]
    notes.append("slowest: " + ", ".join(f"{h} {t:.1f}s" for h, _, _, t in slowest))
    return failures, notes, len(todo)


def self_test(cxx):
    files = {
        "dataplane/base/good.h": "#pragma once\n#include <cstdint>\n"
                                 "inline std::uint32_t Twice(std::uint32_t x) { return 2 * x; }\n",
        "dataplane/base/uses_good.h": '#pragma once\n#include "dataplane/base/good.h"\n'
                                      "inline std::uint32_t Four(std::uint32_t x) "
                                      "{ return Twice(Twice(x)); }\n",
        # Uses std::vector without <vector>.
        "controlplane/x/missing.h": "#pragma once\n#include <cstdint>\n"
                                    "inline std::size_t N(const std::vector<int>& v) "
                                    "{ return v.size(); }\n",
        # Uses a project header it does not include.
        "runtime-api/x/missing_project.h": "#pragma once\n"
                                           "inline unsigned Eight(unsigned x) "
                                           "{ return Twice(Twice(Twice(x))); }\n",
        # throw is fine in the control plane, an error under the dataplane's -fno-exceptions.
        "controlplane/x/throws.h": "#pragma once\n#include <stdexcept>\n"
                                   'inline void Fail() { throw std::runtime_error("x"); }\n',
        "dataplane/x/throws.h": "#pragma once\n#include <stdexcept>\n"
                                'inline void Fail() { throw std::runtime_error("x"); }\n',
        # -Wextra -Werror: an unused parameter fails.
        "dataplane/x/unused.h": "#pragma once\ninline int F(int x) { return 0; }\n",
        # -Wpedantic -Werror: a zero-length array fails.
        "dataplane/x/pedantic.h": "#pragma once\nstruct S { int n; int tail[0]; };\n",
        # DPDK's headers come as system headers (they do not build warning-free as C++).
        "dataplane/x/dpdk.h": "#pragma once\n#include <rte_mbuf.h>\n"
                              "inline unsigned Len(const rte_mbuf* m) { return m->pkt_len; }\n",
        "dataplane/x/known.h": "#pragma once\nstd::string s;\n",
        "dataplane/x/tests/skipped.h": "broken\n",
        "bench/skipped.h": "broken\n",
    }
    known = {"dataplane/x/known.h": "because", "dataplane/base/good.h": "stale"}
    want_failed = ["controlplane/x/missing.h", "dataplane/x/pedantic.h", "dataplane/x/throws.h",
                   "dataplane/x/unused.h", "runtime-api/x/missing_project.h"]
    with tempfile.TemporaryDirectory(prefix="headers-selftest-") as root:
        for rel, text in files.items():
            os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
            with open(os.path.join(root, rel), "w", encoding="utf-8") as f:
                f.write(text)
        failures, notes, count = run(root, cxx, 2, known_broken=known)
    problems = []
    got = sorted(h for h, _ in failures)
    if got != want_failed:
        problems.append(f"failed {got}, expected {want_failed}")
    if count != 10:
        problems.append(f"compiled {count} headers, expected 10 (tests/ and bench/ skipped)")
    for h, errors in failures:
        if not errors:
            problems.append(f"{h}: no error lines kept")
    want_notes = ["known broken: dataplane/x/known.h: because",
                  "compiles on its own now, remove it from KNOWN_BROKEN: dataplane/base/good.h"]
    if sorted(n for n in notes if not n.startswith("slowest")) != sorted(want_notes):
        problems.append(f"notes {notes}")
    for p in problems:
        print(f"FAIL {p}")
    for h, errors in failures:
        print(f"(expected) {h}: {errors[0] if errors else ''}")
    print(f"headers self-test: {len(problems)} failure(s)")
    return 1 if problems else 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=ROOT, help="tree to check (default: this repository)")
    ap.add_argument("--cxx", default=os.environ.get("CXX", "c++"), help="compiler command")
    ap.add_argument("-j", "--jobs", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--self-test", action="store_true", help="test the checker itself")
    ap.add_argument("only", nargs="*", help="headers to check (default: all)")
    args = ap.parse_args(argv)
    cxx = shlex.split(args.cxx)
    start = time.monotonic()
    try:
        if args.self_test:
            return self_test(cxx)
        failures, notes, count = run(args.root, cxx, args.jobs, only=args.only)
    except RuntimeError as e:
        print(f"headers: {e}")
        return 1
    for header, errors in failures:
        print(f"{header}:1: H1 does not compile on its own:")
        for l in errors:
            print(f"    {l}")
    for n in notes:
        print(n)
    print(f"headers: {len(failures)} of {count} header(s) do not compile on their own "
          f"({sum(n.startswith('known broken') for n in notes)} known broken), "
          f"{time.monotonic() - start:.1f}s with {args.jobs} compiler(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
