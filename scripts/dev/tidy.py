#!/usr/bin/python3
"""Style as a test (docs/style/STYLE.md). Exits 1 and lists every violation.

Rules checked:
  S1  lines of C++ sources are at most 100 columns
  S2  no FIXME anywhere in the sources (file an issue or fix it)
  S3  dataplane/ never allocates from the heap, throws, locks or prints:
      no `new T`, malloc/calloc/realloc, `throw`, printf/cout, std::mutex, std::string,
      std::vector, std::map, std::function -- except in files whose first 15 lines say
      "Slow path" (start-up and text conversions, never called per packet).
  S4  every header starts with #pragma once
"""

import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SOURCES = ("dataplane", "controlplane", "runtime-api", "tests", "bench")
FAST_PATH_BANNED = [
    (re.compile(r"\bnew\s+[A-Za-z_]"), "heap allocation (new)"),
    (re.compile(r"\b(malloc|calloc|realloc)\s*\("), "heap allocation"),
    (re.compile(r"\bthrow\b"), "exception"),
    (re.compile(r"(?<![sf])\bprintf\s*\(|std::cout"), "printing"),
    (re.compile(r"std::(mutex|shared_mutex|lock_guard|unique_lock)"), "lock"),
    (re.compile(r"std::(string|vector|map|unordered_map|function|ostringstream)\b"),
     "allocating container"),
]


def cxx_files():
    for top in SOURCES:
        for dirpath, _, names in os.walk(os.path.join(ROOT, top)):
            for n in sorted(names):
                if n.endswith((".cc", ".h")):
                    yield os.path.join(dirpath, n)


def strip_comment(line):
    return line.split("//", 1)[0]


def main():
    problems = []
    for path in cxx_files():
        rel = os.path.relpath(path, ROOT)
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.read().split("\n")
        slow = any("Slow path" in l for l in lines[:15])
        if rel.endswith(".h") and not any(l.strip() == "#pragma once" for l in lines[:40]):
            problems.append(f"{rel}:1: S4 header without #pragma once")
        for i, line in enumerate(lines, 1):
            if len(line) > 100:
                problems.append(f"{rel}:{i}: S1 line of {len(line)} columns (max 100)")
            if "FIXME" in line:
                problems.append(f"{rel}:{i}: S2 FIXME")
            if rel.startswith("dataplane/") and not slow:
                code = strip_comment(line)
                for rx, what in FAST_PATH_BANNED:
                    if rx.search(code):
                        problems.append(f"{rel}:{i}: S3 {what} in the data plane: {line.strip()}")
    for p in problems:
        print(p)
    print(f"tidy: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
