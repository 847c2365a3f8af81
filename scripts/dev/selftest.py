"""What the style checkers' --self-test modes share (scripts/dev/layers.py, tidy.py): small
temporary trees, and the check that the checker's command line exits 0 on a clean tree and
1 on a violation."""

import os
import subprocess
import sys
import tempfile


def temp_tree(files, prefix):
    """A temporary tree: {relative path: text}. Returns the TemporaryDirectory."""
    tmp = tempfile.TemporaryDirectory(prefix=prefix)
    for rel, text in files.items():
        path = os.path.join(tmp.name, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    return tmp


def exit_status_cases(script, cases, prefix):
    """Runs `script --root TREE` on each (name, {path: text}, wanted exit status); prints ok
    or FAIL per case and returns the number of failures."""
    failures = 0
    for name, files, want in cases:
        with temp_tree(files, prefix) as root:
            rc = subprocess.run([sys.executable, os.path.abspath(script), "--root", root],
                                stdout=subprocess.DEVNULL, check=False).returncode
        if rc != want:
            failures += 1
            print(f"FAIL {name}: exit {rc}, expected {want}")
        else:
            print(f"ok   {name}")
    return failures
