#!/usr/bin/python3
"""Style as a test (docs/style/STYLE.md). Exits 1 and lists every violation.

Rules checked:
  S1  lines of C++ sources are at most 100 columns
  S2  no FIXME anywhere in the sources (file an issue or fix it)
  S3  dataplane/ never allocates from the heap, throws, locks or prints (STYLE rule 6):
      no `new T`, malloc/calloc/realloc, `throw`, printf/cout, std::mutex, std::string,
      std::vector, std::map, std::function. Every .h, .cc and .def file under dataplane/ is
      checked; text inside comments and string or character literals does not count. A
      "Slow path" banner at the top of a file exempts nothing. Exemptions, each with its
      reason (case-insensitive, `slow path:` then a non-empty reason on the same line):
        - a comment line `// slow path: REASON` right before a function definition (further
          comment lines may continue the reason; no blank line) exempts the whole function,
          to the `}` that matches its first `{` (braces in comments and literals do not
          count; a constructor's brace member initializers are followed to the body). Right
          before a declaration (up to its `;`), typically in a header, it exempts that
          declaration. Markers go at namespace or class scope: before a class, a namespace
          or a preprocessor line, inside a function body or before nothing, they fail;
        - the same marker as a trailing comment exempts its own line only (a member such as
          `std::vector<BindSnap> binds;  // slow path: filled before publication`);
        - FILE_EXEMPT below names .cc files that are slow path as a whole (start-up, text
          conversion), each with its reason; a header there fails (headers are included by
          the packet path);
        - PENDING names files exempt for now while someone edits them, each with its reason.
      A marker without a reason fails. The file exemptions used are printed; one that is no
      longer needed, or names no file, is reported (remove it) but does not fail the run.
  S4  every header starts with #pragma once

  scripts/dev/tidy.py              check the repository
  scripts/dev/tidy.py --root DIR   check another tree laid out the same way
  scripts/dev/tidy.py --self-test  check the checker on small temporary trees
Runs as the meson tests `tidy` and `tidy-self-test` (suite `style`).
"""

import argparse
import bisect
import os
import re
import sys

import selftest

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

# .cc files of dataplane/ that are slow path as a whole: file -> reason. Never a header.
FILE_EXEMPT = {
    "dataplane/net/addr_text.cc": "text conversion: parses and prints addresses for the "
                                  "configuration, the Runtime API and logs (control plane)",
    "dataplane/net/net_cfg.cc": "start-up: builds and frees the routing tables before the "
                                "workers run and after they stop",
}

# Files exempt for now because someone else is changing them: file -> reason. Remove an entry
# once its file carries its own markers.
PENDING = {
    # "dataplane/FILE": "reason" -- none today.
}

MARKER = re.compile(r"\s*slow path:(.*)", re.IGNORECASE)


def cxx_files(root):
    for top in SOURCES:
        for dirpath, dirnames, names in os.walk(os.path.join(root, top)):
            dirnames.sort()
            for n in sorted(names):
                if n.endswith((".cc", ".h", ".def")):
                    yield os.path.relpath(os.path.join(dirpath, n), root).replace(os.sep, "/")


# --- lexing: code without comments and literals -----------------------------------------------

RAW_STRING = re.compile(r'(?:u8|[uUL])?R"([^()\\\s]{0,16})\(')


def _blank(s):
    return re.sub(r"[^\n]", " ", s)


def lex(text):
    """(code, comments): `code` is `text` with comments and the insides of string and character
    literals turned into spaces (lines and columns kept); `comments` maps a 0-based line index
    to the text after the `//` of that line's line comment."""
    out, comments = [], {}
    i, n, line = 0, len(text), 0
    while i < n:
        c = text[i]
        if c == "\n":
            out.append(c)
            line += 1
            i += 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            comments[line] = text[i + 2:j]
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(_blank(text[i:j]))
            line += text.count("\n", i, j)
            i = j
        elif c in "uULR" and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")) \
                and RAW_STRING.match(text, i):
            m = RAW_STRING.match(text, i)
            close = text.find(")" + m.group(1) + '"', m.end())
            close = n if close < 0 else close
            end = min(n, close + len(m.group(1)) + 2)
            out.append(text[i:m.end()] + _blank(text[m.end():close]) + text[close:end])
            line += text.count("\n", i, end)
            i = end
        elif c == "'" and _digit_separator(text, i):
            out.append(c)
            i += 1
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j, n)
            closed = j < n and text[j] == c
            out.append(c + _blank(text[i + 1:j]) + (c if closed else ""))
            line += text.count("\n", i, j)  # a backslash-newline inside the literal
            i = j + 1 if closed else j
        else:
            out.append(c)
            i += 1
    return "".join(out), comments


def _digit_separator(text, i):
    """A ' inside a number (60'000) rather than the start of a character literal."""
    j = i
    while j > 0 and (text[j - 1].isalnum() or text[j - 1] in "_'."):
        j -= 1
    return j < i and text[j].isdigit()


# --- scopes and the extent of a marked function -----------------------------------------------

def _strip_template(h):
    if not h.startswith("template"):
        return h
    k = h.find("<")
    depth = 0
    for p in range(k, len(h)):
        depth += {"<": 1, ">": -1}.get(h[p], 0)
        if depth == 0:
            return h[p + 1:].lstrip()
    return h


def head_kind(head):
    """What a `{` opens, from the text since the previous `;`, `{` or `}`: "ns" (namespace,
    extern "C"), "class" (class, struct, union, enum) or "code" (a function body, a lambda, an
    initializer)."""
    h = head.strip()
    h = re.sub(r"^((public|private|protected)\s*:\s*)+", "", h)
    h = re.sub(r"^(\[\[.*?\]\]\s*)+", "", h, flags=re.S)
    h = _strip_template(h)
    if re.match(r"(inline\s+)?namespace\b", h) or re.match(r'extern\s*"', h):
        return "ns"
    if re.match(r"(typedef\s+)?(class|struct|union|enum)\b", h) and \
            "(" not in re.sub(r"alignas\s*\([^)]*\)", "", h):
        return "class"
    return "code"


def without_preprocessor(code):
    """`code` with preprocessor lines (and their continuations) blanked."""
    lines = code.split("\n")
    cont = False
    for k, l in enumerate(lines):
        if cont or l.lstrip().startswith("#"):
            cont = l.rstrip().endswith("\\")
            lines[k] = " " * len(l)
    return "\n".join(lines)


def lines_in_code(code):
    """For each line, whether it starts inside a function body (or another "code" brace)."""
    stack, stmt, depth = [], 0, 0
    inside = [False]
    for pos, c in enumerate(code):
        if c == "\n":
            inside.append(depth > 0)
        elif c == "{":
            kind = "code" if depth else head_kind(code[stmt:pos])
            stack.append(kind)
            depth += kind == "code"
            stmt = pos + 1
        elif c == "}":
            if stack:
                depth -= stack.pop() == "code"
            stmt = pos + 1
        elif c == ";":
            stmt = pos + 1
    return inside


def _match_brace(code, pos):
    depth = 0
    for p in range(pos, len(code)):
        if code[p] == "{":
            depth += 1
        elif code[p] == "}":
            depth -= 1
            if depth == 0:
                return p
    return None


def extent(code, start):
    """The construct starting at offset `start` of `code`: (end offset, None) for a function
    definition or a declaration, (None, why) for anything else."""
    parens, pos, first = 0, start, True
    while pos < len(code):
        c = code[pos]
        if c in "([":
            parens += 1
        elif c in ")]":
            parens -= 1
        elif parens == 0 and c == ";":
            return pos, None
        elif parens == 0 and c == "}":
            return None, "before the end of a block"
        elif parens == 0 and c == "{":
            if first and head_kind(code[start:pos]) != "code":
                return None, "before a class or namespace: mark its functions or members"
            first = False
            close = _match_brace(code, pos)
            if close is None:
                return None, "before a function whose braces do not match"
            nxt = close + 1
            while nxt < len(code) and code[nxt].isspace():
                nxt += 1
            if nxt < len(code) and code[nxt] == ",":  # member initializer a_{x}, b_{y}
                pos = nxt + 1
                continue
            if nxt < len(code) and code[nxt] == "{":  # last member initializer, then the body
                pos = nxt
                continue
            return close, None
        pos += 1
    return None, "before nothing"


# --- rule S3 ------------------------------------------------------------------------------------

def check_fast_path(rel, text):
    """S3 problems of one dataplane file, with every marker honoured."""
    problems = []
    code, comments = lex(text)
    lines = code.split("\n")
    raw = text.split("\n")
    offsets = [0]
    for l in lines:
        offsets.append(offsets[-1] + len(l) + 1)
    flat = without_preprocessor(code)
    flat_lines = flat.split("\n")
    inside = lines_in_code(flat)
    exempt = set()
    for idx in sorted(comments):
        m = MARKER.match(comments[idx])
        if not m:
            continue
        where = f"{rel}:{idx + 1}: S3 slow path marker"
        if not m.group(1).strip():
            problems.append(f"{where} without a reason: {raw[idx].strip()}")
            continue
        if lines[idx].strip():  # trailing marker: this line only
            exempt.add(idx)
            continue
        j = idx + 1
        while j < len(lines) and not lines[j].strip() and j in comments:
            j += 1
        if j >= len(lines) or not lines[j].strip():
            problems.append(f"{where} not right before a function or declaration "
                            "(no blank line between)")
            continue
        if not flat_lines[j].strip():
            problems.append(f"{where} before a preprocessor line: {raw[j].strip()}")
            continue
        if inside[j]:
            problems.append(f"{where} inside a function body: mark the whole function, or the "
                            "line with a trailing marker")
            continue
        end, why = extent(flat, offsets[j])
        if why:
            problems.append(f"{where} {why}")
            continue
        exempt.update(range(idx, bisect.bisect_right(offsets, end)))
    for i, line in enumerate(lines):
        if i in exempt:
            continue
        for rx, what in FAST_PATH_BANNED:
            if rx.search(line):
                problems.append(f"{rel}:{i + 1}: S3 {what} in the data plane: {raw[i].strip()}")
    return problems


def check(root, file_exempt=None, pending=None):
    """Returns (problems, notes): problems are `file:line: Sx message` strings, notes the file
    exemptions used and those no longer needed."""
    file_exempt = FILE_EXEMPT if file_exempt is None else file_exempt
    pending = PENDING if pending is None else pending
    problems, notes, seen = [], [], set()
    for rel in cxx_files(root):
        with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
            text = f.read()
        lines = text.split("\n")
        if not rel.endswith(".def"):  # S1, S2 and S4 read .h and .cc files only
            if rel.endswith(".h") and not any(l.strip() == "#pragma once" for l in lines[:40]):
                problems.append(f"{rel}:1: S4 header without #pragma once")
            for i, line in enumerate(lines, 1):
                if len(line) > 100:
                    problems.append(f"{rel}:{i}: S1 line of {len(line)} columns (max 100)")
                if "FIXME" in line:
                    problems.append(f"{rel}:{i}: S2 FIXME")
        if not rel.startswith("dataplane/"):
            continue
        seen.add(rel)
        found = check_fast_path(rel, text)
        if rel in file_exempt and not rel.endswith(".cc"):
            problems.append(f"{rel}:1: S3 only a .cc file may be in FILE_EXEMPT (a header is "
                            "included by the packet path): mark its functions and declarations")
            problems.extend(found)
            continue
        for table, name in ((file_exempt, "FILE_EXEMPT"), (pending, "PENDING")):
            if rel in table:
                if found:
                    notes.append(f"{name.lower().replace('_', ' ')}: {rel} ({len(found)} "
                                 f"problem(s) let through): {table[rel]}")
                else:
                    notes.append(f"no longer needed, remove it from {name}: {rel}")
                break
        else:
            problems.extend(found)
    for table, name in ((file_exempt, "FILE_EXEMPT"), (pending, "PENDING")):
        for rel in sorted(set(table) - seen):
            notes.append(f"names no file of dataplane/, remove it from {name}: {rel}")
    return problems, notes


# --- self-test ------------------------------------------------------------------------------

def _tree(files):
    """A temporary tree: {path: text}. Returns the TemporaryDirectory."""
    return selftest.temp_tree(files, "tidy-selftest-")


def _src(*lines):
    return "\n".join(lines) + "\n"


# (name, {file: text}, FILE_EXEMPT, PENDING, the problems expected as "file:line Sx", the notes
# expected, by their beginnings). Line numbers are in the comments on the right.
SELF_TEST_CASES = [
    ("a banned line in an unmarked function fails",
     {"dataplane/a/a.cc": _src("#include <string>",
                               "void F() {",
                               "  std::string s;",                              # 3
                               "}")},
     {}, {}, ["dataplane/a/a.cc:3 S3"], []),
    ("a 'Slow path' banner exempts nothing",
     {"dataplane/a/a.cc": _src("// Slow path. Start-up only.",
                               "#include <string>",
                               "void F() {",
                               "  std::string s;",                              # 4
                               "}")},
     {}, {}, ["dataplane/a/a.cc:4 S3"], []),
    ("the same line in a marked function passes",
     {"dataplane/a/a.cc": _src("#include <string>",
                               "// Slow Path: start-up only, before the workers run (the",
                               "// reason may go on).",
                               "void F() {",
                               "  std::string s;",
                               "  if (s.empty()) {",
                               "    std::string t;",
                               "  }",
                               "}")},
     {}, {}, [], []),
    ("the marked function ends at its own brace: the next one is checked",
     {"dataplane/a/a.cc": _src("// slow path: start-up only",
                               "void F() {",
                               "  std::string s;",
                               "}",
                               "void G() {",
                               "  std::string t;",                              # 6
                               "}")},
     {}, {}, ["dataplane/a/a.cc:6 S3"], []),
    ("braces in strings, characters and comments do not move the extent",
     {"dataplane/a/a.cc": _src("// slow path: text for logs",
                               "void F(int x) {",
                               '  const char* close = "}}}";  // }',
                               "  char c = '}';",
                               "  /* } } */ int n = 1'000'000;",
                               '  const char* r = R"(})";',
                               "  std::string s;",
                               "}",
                               "void G() {",
                               '  const char* k = "std::vector new T";  // throw',
                               "  std::string u;",                              # 11
                               "}")},
     {}, {}, ["dataplane/a/a.cc:11 S3"], []),
    ("a constructor's brace member initializers lead to its body",
     {"dataplane/a/a.cc": _src("// slow path: start-up only",
                               "Foo::Foo(int x) : a_{x}, b_{1} {",
                               "  std::vector<int> v;",
                               "}",
                               "void G() { std::vector<int> w; }")},            # 5
     {}, {}, ["dataplane/a/a.cc:5 S3"], []),
    ("a trailing marker exempts its line only; a marked declaration in a header passes",
     {"dataplane/a/a.h": _src("#pragma once",
                              "#include <string>",
                              "#include <vector>",
                              "struct Snap {",
                              "  std::vector<int> a;  // slow path: filled before publication",
                              "  std::vector<int> b;",                          # 6
                              "};",
                              "// slow path: text for logs",
                              "std::string ToString(const Snap& s);",
                              "std::string Name();")},                          # 10
     {}, {}, ["dataplane/a/a.h:6 S3", "dataplane/a/a.h:10 S3"], []),
    ("a marker without a reason fails and exempts nothing",
     {"dataplane/a/a.cc": _src("// slow path:",                                 # 1
                               "void F() {",
                               "  std::string s;",                              # 3
                               "}",
                               "void G() {",
                               "  std::string t;  // SLOW PATH:   ",            # 6, twice
                               "}")},
     {}, {}, ["dataplane/a/a.cc:1 S3", "dataplane/a/a.cc:3 S3", "dataplane/a/a.cc:6 S3",
              "dataplane/a/a.cc:6 S3"], []),
    ("a marker before a preprocessor line, a namespace or a struct, inside a body or before "
     "a blank line fails",
     {"dataplane/a/a.h": _src("// slow path: the whole file",                   # 1
                              "#pragma once",
                              "// slow path: all of it",                        # 3
                              "namespace a {",
                              "// slow path: the struct",                       # 5
                              "struct S {",
                              "  std::string s;",                               # 7
                              "};",
                              "void F() {",
                              "  // slow path: the rest of F",                  # 10
                              "  std::string t;",                               # 11
                              "}",
                              "// slow path: nothing follows",                  # 13
                              "",
                              "}  // namespace a")},
     {}, {}, ["dataplane/a/a.h:1 S3", "dataplane/a/a.h:3 S3", "dataplane/a/a.h:5 S3",
              "dataplane/a/a.h:7 S3", "dataplane/a/a.h:10 S3", "dataplane/a/a.h:11 S3",
              "dataplane/a/a.h:13 S3"], []),
    ("a member function of a class template may be marked",
     {"dataplane/a/a.h": _src("#pragma once",
                              "template <class T>",
                              "class [[nodiscard]] R {",
                              " public:",
                              "  // slow path: control-plane errors",
                              "  const std::string& error() const { return e_; }",
                              "",
                              " private:",
                              "  std::string e_;  // slow path: control-plane errors",
                              "};")},
     {}, {}, [], []),
    ("a header in FILE_EXEMPT fails; a .cc there passes and is printed",
     {"dataplane/a/a.h": _src("#pragma once",
                              "#include <string>",
                              "std::string Name();"),                           # 3
      "dataplane/a/a.cc": _src("#include <string>",
                               'std::string Name() { return "a"; }'),
      "dataplane/a/b.cc": _src("int Nothing() { return 0; }")},
     {"dataplane/a/a.h": "text", "dataplane/a/a.cc": "text conversion",
      "dataplane/a/b.cc": "start-up", "dataplane/a/gone.cc": "start-up"}, {},
     ["dataplane/a/a.h:1 S3", "dataplane/a/a.h:3 S3"],
     ["file exempt: dataplane/a/a.cc (1 problem(s) let through): text conversion",
      "no longer needed, remove it from FILE_EXEMPT: dataplane/a/b.cc",
      "names no file of dataplane/, remove it from FILE_EXEMPT: dataplane/a/gone.cc"]),
    ("PENDING lets a file through for now and is printed",
     {"dataplane/a/a.h": _src("#pragma once",
                              "#include <vector>",
                              "struct S {",
                              "  std::vector<int> v;",
                              "};")},
     {}, {"dataplane/a/a.h": "owner editing"}, [],
     ["pending: dataplane/a/a.h (1 problem(s) let through): owner editing"]),
    ("outside dataplane/ nothing is S3; S1, S2 and S4 still apply",
     {"controlplane/a/a.h": _src("#include <string>",                           # 1, S4
                                 "std::string F();  // FIX" + "ME",             # 2
                                 "int x;" + " " * 100)},                        # 3
     {}, {}, ["controlplane/a/a.h:1 S4", "controlplane/a/a.h:2 S2", "controlplane/a/a.h:3 S1"],
     []),
]


def self_test():
    failures = 0
    for name, files, file_exempt, pending, expected, want_notes in SELF_TEST_CASES:
        with _tree(files) as root:
            problems, notes = check(root, file_exempt=file_exempt, pending=pending)
        got = sorted(f"{p.split(': ')[0]} {p.split(': ')[1].split()[0]}" for p in problems)
        missing = [w for w in want_notes if not any(n.startswith(w) for n in notes)]
        if got != sorted(expected) or missing or len(notes) != len(want_notes):
            failures += 1
            print(f"FAIL {name}: expected {sorted(expected)} and notes {want_notes}, got:")
            for p in problems + notes:
                print(f"    {p}")
        else:
            print(f"ok   {name}")

    # The command line: exit 0 on a clean tree, 1 with a violation (the repository's own
    # FILE_EXEMPT and PENDING name no file of these trees).
    failures += selftest.exit_status_cases(__file__, [
        ("exit status clean", {"dataplane/a/a.cc": "int F() { return 0; }\n"}, 0),
        ("exit status violation", {"dataplane/a/a.cc": "void F() { throw 1; }\n"}, 1),
    ], "tidy-selftest-")

    print(f"tidy self-test: {failures} failure(s)")
    return 1 if failures else 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=ROOT, help="tree to check (default: this repository)")
    ap.add_argument("--self-test", action="store_true", help="test the checker itself")
    args = ap.parse_args(argv)
    if args.self_test:
        return self_test()
    problems, notes = check(args.root)
    for p in problems:
        print(p)
    for n in notes:
        print(n)
    print(f"tidy: {len(problems)} problem(s), "
          f"{sum(n.startswith(('file exempt:', 'pending:')) for n in notes)} file exemption(s) "
          "used")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
