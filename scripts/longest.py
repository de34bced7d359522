#!/usr/bin/env python3
"""The ten longest source files and the ten longest functions of the workspace (issue #23's
bounds: no file over 1,000 lines, no function over 150), outside tests, vendored code and
generated tables.

    python3 scripts/longest.py [N]

A file counts its lines up to its `#[cfg(test)]` module; a function counts from its `fn` line
to its closing brace. Files whose first line says `// @generated` are tables, not code.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SKIP_DIRS = {"target", "vendor", "tests", "benches", ".git", "node_modules", "snapshots"}
FN = re.compile(r"^\s*(pub(\([^)]*\))?\s+)?(const\s+)?(async\s+)?(unsafe\s+)?(extern\s+\"C\"\s+)?fn\s+(\w+)")


def sources():
    for d, dirs, files in os.walk(ROOT):
        dirs[:] = [x for x in dirs if x not in SKIP_DIRS and not x.startswith(".")]
        for f in files:
            if f.endswith(".rs"):
                yield os.path.join(d, f)


def code_lines(path):
    """The file's lines up to its test module, or None for a generated table."""
    with open(path, encoding="utf-8", errors="replace") as fh:
        lines = fh.read().split("\n")
    if lines and lines[0].startswith("// @generated"):
        return None
    for i, l in enumerate(lines):
        if l.strip() == "#[cfg(test)]" and i + 1 < len(lines) and re.match(r"\s*(pub\s+)?mod\s+\w+", lines[i + 1]):
            return lines[:i]
    return lines


def strip(l):
    """A line without string literals and comments, for brace counting."""
    l = re.sub(r'r#*"[^"]*"#*', '""', l)
    l = re.sub(r'"(\\.|[^"\\])*"', '""', l)
    l = re.sub(r"'(\\.|[^'\\])'", "' '", l)
    return l.split("//")[0]


def functions(lines):
    out = []
    for i, l in enumerate(lines):
        m = FN.match(l)
        if not m:
            continue
        depth, opened = 0, False
        for j in range(i, len(lines)):
            s = strip(lines[j])
            if not opened and ";" in s and "{" not in s:
                break  # a declaration without a body
            depth += s.count("{") - s.count("}")
            opened = opened or "{" in s
            if opened and depth <= 0:
                out.append((j - i + 1, m.group(7), i + 1))
                break
    return out


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    files, fns = [], []
    for p in sources():
        lines = code_lines(p)
        if lines is None:
            continue
        rel = os.path.relpath(p, ROOT)
        files.append((len(lines), rel))
        fns += [(k, f"{rel}:{line} {name}") for k, name, line in functions(lines)]
    files.sort(reverse=True)
    fns.sort(reverse=True)
    print(f"longest files (bound 1000 lines):")
    for k, rel in files[:n]:
        print(f"  {k:6} {rel}{'   OVER' if k > 1000 else ''}")
    print(f"longest functions (bound 150 lines):")
    for k, what in fns[:n]:
        print(f"  {k:6} {what}{'   OVER' if k > 150 else ''}")
    over = sum(k > 1000 for k, _ in files) + sum(k > 150 for k, _ in fns)
    sys.exit(1 if over else 0)


if __name__ == "__main__":
    main()
