#!/usr/bin/python3
"""Includes run one way (docs/style/STYLE.md rules 5 and 15). Exits 1 and lists every violation.

Reads every `#include` in dataplane/, controlplane/ and runtime-api/ (.h, .cc and .def). A
module is a second-level folder: dataplane/tcp, controlplane/config, runtime-api/commands.
Includes inside one module are free; an include from one module into another is an edge of
the module graph. Rules checked:
  L1  dataplane/ never includes controlplane/ or runtime-api/
  L2  dataplane/base includes nothing from another module
  L3  dataplane/snapshot includes nothing but dataplane/base
  L4  controlplane/ never includes runtime-api/, except controlplane/main (which wires both)
  L5  no cycle in the module graph (every module, all three trees); each edge of a cycle is
      printed with the include that makes it
  L6  the dataplane modules follow the layer order of LAYERS below: a module includes only
      modules of a strictly lower layer (not up, not sideways); every dataplane module
      must have a layer
  L7  includes are rooted at the repository (STYLE rule 5): `#include "dataplane/net/net.h"`
      names an existing file of dataplane/, controlplane/ or runtime-api/; the project's own
      headers are included with quotes, never <...>

EXEMPT lists single includes (file, included path) that may break L1-L4 and L6 for now, each
with its reason; the script prints the exemptions it used. An exempt include still counts for
L5: a cycle is never exempt. Exemptions that no longer match anything are reported (remove
them) but do not fail the run.

  scripts/dev/layers.py              check the repository
  scripts/dev/layers.py --graph      also print the module graph and the layers
  scripts/dev/layers.py --root DIR   check another tree laid out the same way
  scripts/dev/layers.py --self-test  check the checker on small temporary trees
Runs as the meson tests `layers` and `layers-self-test` (suite `style`).
"""

import argparse
import os
import re
import sys

import selftest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOPS = ("dataplane", "controlplane", "runtime-api")
EXTENSIONS = (".h", ".cc", ".def")

# The data plane's layers, lowest first. A module may include modules of lower layers only;
# modules sharing a layer are peers and do not include each other. Derived from the include
# graph of the tree (scripts/dev/layers.py --graph) and the target layout
# (../shared/AESTHETICS.md): counters and net include nothing but lower layers; tcp sits
# above net (TCP runs over IP, though today it uses only counters); conn (the endpoint
# layer: connection routing, outgoing connections) stands on tcp and net; services (the TCP
# test services) and proxy stand on it; check (health checks) reads the proxy's snapshot
# part and stats; lcore dispatches to all of them. snapshot sits right above base (rule
# L3): it knows the parts above it by forward declaration only. platform (EAL/ethdev, Clock
# and PacketIo seams) is the target layout's and is placed before it exists. A new dataplane
# module fails L6 until it is given a layer here.
LAYERS = [
    ("base",),
    ("platform", "counters", "snapshot", "http"),
    ("net",),
    ("tcp", "rules", "stick", "health"),
    ("tls",),
    ("conn",),
    ("services", "proxy"),
    ("check",),
    ("lcore",),
]

# (including file, included path) -> reason. Keep each to one include, and remove it with
# the change that makes it unnecessary.
EXEMPT = {
    # (file, included path): "reason" -- none today.
}

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def module_of(rel):
    """dataplane/tcp/tcp.h -> dataplane/tcp; a file right under a top is its own top."""
    parts = rel.split("/")
    return "/".join(parts[:2]) if len(parts) > 2 else parts[0]


def source_files(root):
    for top in TOPS:
        for dirpath, dirnames, names in os.walk(os.path.join(root, top)):
            dirnames.sort()
            for n in sorted(names):
                if n.endswith(EXTENSIONS):
                    yield os.path.relpath(os.path.join(dirpath, n), root).replace(os.sep, "/")


def read_includes(root, rel):
    """[(line number, '"' or '<', path)] for every #include of the file."""
    out = []
    with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
        for i, line in enumerate(f, 1):
            m = INCLUDE.match(line)
            if m:
                out.append((i, m.group(1), m.group(2)))
    return out


def layer_ranks(layers):
    return {"dataplane/" + m: rank for rank, mods in enumerate(layers) for m in mods}


def find_cycles(edges):
    """Strongly connected components of more than one module (Tarjan), each as one cycle."""
    graph = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
        graph.setdefault(b, set())
    index, low, stack, on_stack, sccs = {}, {}, [], set(), []

    def connect(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                scc.append(w)
                if w == v:
                    break
            if len(scc) > 1:
                sccs.append(set(scc))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    cycles = []
    for scc in sccs:
        # A shortest way back to the component's first module, found breadth first.
        start = min(scc)
        paths = {start: [start]}
        queue = [start]
        cycle = None
        while queue and cycle is None:
            v = queue.pop(0)
            for w in sorted(graph[v] & scc):
                if w == start:
                    cycle = paths[v] + [start]
                    break
                if w not in paths:
                    paths[w] = paths[v] + [w]
                    queue.append(w)
        cycles.append(cycle)
    return sorted(cycles)


def check(root, layers=None, exempt=None):
    """Returns (problems, notes, edges): problems are `file:line: Lx message` strings, notes
    the exemptions used and unused, edges {(module, module): (file, line)} (first site)."""
    layers = LAYERS if layers is None else layers
    exempt = EXEMPT if exempt is None else exempt
    ranks = layer_ranks(layers)
    problems, edges, used = [], {}, {}
    files = list(source_files(root))
    existing = set(files)

    seen_modules = {}
    for rel in files:
        seen_modules.setdefault(module_of(rel), rel)
    for mod, first in sorted(seen_modules.items()):
        if mod.startswith("dataplane") and mod not in ranks:
            problems.append(f"{first}:1: L6 module {mod} has no layer in LAYERS "
                            "(scripts/dev/layers.py): give it one")

    for rel in files:
        src = module_of(rel)
        src_top = src.split("/")[0]
        for line, quote, inc in read_includes(root, rel):
            where = f"{rel}:{line}:"
            inc_top = inc.split("/")[0]
            if quote == "<":
                if inc_top in TOPS:
                    problems.append(f'{where} L7 project header in <...>: use "{inc}"')
                continue
            if inc_top not in TOPS or inc not in existing:
                problems.append(f'{where} L7 "{inc}" is not a path from the repository root '
                                "to a file of dataplane/, controlplane/ or runtime-api/")
                continue
            dst = module_of(inc)
            if dst == src:
                continue
            edges.setdefault((src, dst), (rel, line))

            found = []
            if src_top == "dataplane" and inc_top != "dataplane":
                found.append(("L1", f"the data plane includes {inc_top}/: {inc}"))
            if src == "dataplane/base":
                found.append(("L2", f"dataplane/base includes another module: {inc}"))
            if src == "dataplane/snapshot" and dst != "dataplane/base":
                found.append(("L3", f"dataplane/snapshot includes more than dataplane/base: "
                                    f"{inc}"))
            if src_top == "controlplane" and src != "controlplane/main" and \
                    inc_top == "runtime-api":
                found.append(("L4", f"{src} includes runtime-api/ (only controlplane/main "
                                    f"may): {inc}"))
            if src_top == "dataplane" and inc_top == "dataplane" and \
                    src in ranks and dst in ranks:
                if ranks[dst] > ranks[src]:
                    found.append(("L6", f"{src} (layer {ranks[src]}) includes {dst} from a "
                                        f"higher layer ({ranks[dst]}): {inc}"))
                elif ranks[dst] == ranks[src]:
                    found.append(("L6", f"{src} includes its peer {dst} (both layer "
                                        f"{ranks[src]}): {inc}"))
            if not found:
                continue
            reason = exempt.get((rel, inc))
            if reason is not None:
                used.setdefault((rel, inc), (line, [code for code, _ in found]))
                continue
            problems.extend(f"{where} {code} {msg}" for code, msg in found)

    for cycle in find_cycles(edges):
        path = " -> ".join(cycle)
        for a, b in zip(cycle, cycle[1:]):
            rel, line = edges[(a, b)]
            problems.append(f"{rel}:{line}: L5 module cycle {path} (this include makes "
                            f"{a} -> {b})")

    notes = []
    for (rel, inc), reason in sorted(exempt.items()):
        if (rel, inc) in used:
            line, codes = used[(rel, inc)]
            notes.append(f"exempt: {rel}:{line}: {inc} ({', '.join(codes)}): {reason}")
        else:
            notes.append(f"exemption no longer needed, remove it from EXEMPT: {rel} -> {inc}")
    return problems, notes, edges


def print_graph(edges, layers):
    ranks = layer_ranks(layers)
    print("module graph (module -> modules it includes):")
    mods = sorted({m for e in edges for m in e})
    for m in mods:
        outs = sorted(b for a, b in edges if a == m)
        print(f"  {m} -> {', '.join(outs) if outs else '(nothing)'}")
    print("dataplane layers, lowest first:")
    for rank, layer in enumerate(layers):
        print(f"  {rank}: {' '.join(layer)}")
    unranked = [m for m in mods if m.startswith("dataplane/") and m not in ranks]
    if unranked:
        print(f"  (no layer: {' '.join(unranked)})")


# --- self-test ------------------------------------------------------------------------------

def _text(incs):
    """A file's text from its includes: "<x>" system, "#..." a line as is, else "x"."""
    lines = ["#pragma once"]
    for inc in incs:
        if inc.startswith("<"):
            lines.append(f"#include {inc}")
        elif inc.startswith("#"):
            lines.append(inc)
        else:
            lines.append(f'#include "{inc}"')
    return "\n".join(lines) + "\n"


def _tree(files):
    """A temporary tree: {path: [included paths]}. Returns the TemporaryDirectory."""
    return selftest.temp_tree({rel: _text(incs) for rel, incs in files.items()},
                              "layers-selftest-")


def self_test():
    clean = {
        "dataplane/base/result.h": ["<cstdint>"],
        "dataplane/counters/counters.h": ["dataplane/base/result.h"],
        "dataplane/counters/counters.def": [],
        "dataplane/net/net.h": ["dataplane/counters/counters.h", "dataplane/net/addr.h"],
        "dataplane/net/addr.h": [],
        "dataplane/tcp/tcp.h": ["dataplane/net/net.h"],
        "dataplane/proxy/proxy.h": ["dataplane/tcp/tcp.h", "dataplane/snapshot/snapshot.h"],
        "dataplane/services/svc.h": ["dataplane/tcp/tcp.h"],
        "dataplane/snapshot/snapshot.h": ["dataplane/base/result.h"],
        "dataplane/lcore/worker.cc": ["dataplane/proxy/proxy.h", "dataplane/services/svc.h"],
        "controlplane/log/log.h": ["dataplane/net/addr.h"],
        "controlplane/config/config.h": ["controlplane/log/log.h"],
        "controlplane/main/main.cc": ["controlplane/config/config.h",
                                      "runtime-api/server/server.h"],
        "runtime-api/server/server.h": ["dataplane/base/result.h"],
    }
    # Each case adds includes to the clean tree: {file: [includes]} -> expected problems as
    # (file, rule code) pairs, in any order.
    cases = [
        ("clean tree", {}, []),
        ("L1 data plane includes the control plane",
         {"dataplane/net/net.h": ["controlplane/log/log.h"]},
         # controlplane/log includes dataplane/net: a cycle as well.
         [("dataplane/net/net.h", "L1"), ("dataplane/net/net.h", "L5"),
          ("controlplane/log/log.h", "L5")]),
        ("L1 data plane includes the runtime API",
         {"dataplane/lcore/worker.cc": ["runtime-api/server/server.h"]},
         [("dataplane/lcore/worker.cc", "L1")]),
        ("L2 base includes another module",
         {"dataplane/base/result.h": ["dataplane/counters/counters.h"]},
         [("dataplane/base/result.h", "L2"), ("dataplane/base/result.h", "L6"),
          ("dataplane/base/result.h", "L5"), ("dataplane/counters/counters.h", "L5")]),
        ("L3 snapshot includes more than base",
         {"dataplane/snapshot/snapshot.h": ["dataplane/counters/counters.h"]},
         [("dataplane/snapshot/snapshot.h", "L3"), ("dataplane/snapshot/snapshot.h", "L6")]),
        ("L4 control plane includes the runtime API",
         {"controlplane/config/config.h": ["runtime-api/server/server.h"]},
         [("controlplane/config/config.h", "L4")]),
        ("L5 cycle in the control plane",
         {"controlplane/log/log.h": ["controlplane/config/config.h"]},
         [("controlplane/log/log.h", "L5"), ("controlplane/config/config.h", "L5")]),
        ("L6 include up the layers",
         {"dataplane/net/net.h": ["dataplane/tcp/tcp.h"]},
         [("dataplane/net/net.h", "L6"), ("dataplane/net/net.h", "L5"),
          ("dataplane/tcp/tcp.h", "L5")]),
        ("L6 include of a peer",
         {"dataplane/services/svc.h": ["dataplane/proxy/proxy.h"]},
         [("dataplane/services/svc.h", "L6")]),
        ("L6 module without a layer",
         {"dataplane/zz/zz.h": ["dataplane/base/result.h"]},
         [("dataplane/zz/zz.h", "L6")]),
        ("L7 include not rooted at the repository",
         {"dataplane/net/net.h": ["addr.h", "tests/unit/x.h"]},
         [("dataplane/net/net.h", "L7"), ("dataplane/net/net.h", "L7")]),
        ("L7 project header in <>",
         {"controlplane/log/log.h": ["#include <dataplane/net/addr.h>"]},
         [("controlplane/log/log.h", "L7")]),
    ]
    failures = 0
    for name, extra, expected in cases:
        files = {k: list(v) for k, v in clean.items()}
        for k, v in extra.items():
            files.setdefault(k, []).extend(v)
        with _tree(files) as root:
            problems, _, _ = check(root, exempt={})
        got = sorted((p.split(":")[0], p.split(": ")[1].split()[0]) for p in problems)
        if got != sorted(expected):
            failures += 1
            print(f"FAIL {name}: expected {sorted(expected)}, got:")
            for p in problems:
                print(f"    {p}")
        else:
            print(f"ok   {name}")

    # An exemption silences L1-L4/L6 for its one include, is reported, and never hides a cycle.
    files = {k: list(v) for k, v in clean.items()}
    files["dataplane/snapshot/snapshot.h"].append("dataplane/proxy/proxy.h")
    exempt = {("dataplane/snapshot/snapshot.h", "dataplane/proxy/proxy.h"): "because",
              ("dataplane/net/net.h", "dataplane/tcp/tcp.h"): "stale"}
    with _tree(files) as root:
        problems, notes, _ = check(root, exempt=exempt)
    codes = sorted(p.split(": ")[1].split()[0] for p in problems)
    want_notes = ["exempt: dataplane/snapshot/snapshot.h:3: dataplane/proxy/proxy.h (L3, L6): "
                  "because",
                  "exemption no longer needed, remove it from EXEMPT: dataplane/net/net.h -> "
                  "dataplane/tcp/tcp.h"]
    # proxy includes snapshot, so the exempt include closes a cycle: L5 still fails.
    if codes != ["L5", "L5"] or sorted(notes) != sorted(want_notes):
        failures += 1
        print(f"FAIL exemption: problems {problems}, notes {notes}")
    else:
        print("ok   exemption used, stale exemption noted, cycle not exempt")

    # The command line: exit 0 on the clean tree, 1 with a violation.
    violation = {k: list(v) for k, v in clean.items()}
    violation["dataplane/base/result.h"].append("controlplane/log/log.h")
    failures += selftest.exit_status_cases(__file__, [
        ("exit status clean", {k: _text(v) for k, v in clean.items()}, 0),
        ("exit status violation", {k: _text(v) for k, v in violation.items()}, 1),
    ], "layers-selftest-")

    print(f"layers self-test: {failures} failure(s)")
    return 1 if failures else 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=ROOT, help="tree to check (default: this repository)")
    ap.add_argument("--graph", action="store_true", help="print the module graph and layers")
    ap.add_argument("--self-test", action="store_true", help="test the checker itself")
    args = ap.parse_args(argv)
    if args.self_test:
        return self_test()
    problems, notes, edges = check(args.root)
    if args.graph:
        print_graph(edges, LAYERS)
    for p in problems:
        print(p)
    for n in notes:
        print(n)
    print(f"layers: {len(problems)} problem(s), {len(edges)} module edges, "
          f"{sum(n.startswith('exempt:') for n in notes)} exemption(s) used")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
