#!/usr/bin/env python3
"""Pairs of source files that import each other (issue #23: there are to be none).

    python3 scripts/imports.py

For every crate of the workspace, each `crate::…`, `super::…` and `self::…` path in a file's
code (before its `#[cfg(test)]` module; comments and doc links ignored) is resolved to the
file of the longest module prefix it names. A parent's `mod child;` declaration and its
`pub use child::…` re-exports (paths that start with the child's name) are how a module shows
its parts, not imports. Exits non-zero when a pair is found.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PATH = re.compile(r"\b(crate|super|self)((?:::\w+)+)")


def crate_roots():
    for d, dirs, files in os.walk(ROOT):
        dirs[:] = [x for x in dirs if x not in {"target", "vendor", ".git", "tests", "benches"}]
        if "Cargo.toml" in files and os.path.isdir(os.path.join(d, "src")):
            yield os.path.join(d, "src")


def module_of(src, path):
    rel = os.path.relpath(path, src)[:-3].split(os.sep)
    if rel[-1] in ("mod", "lib", "main"):
        rel = rel[:-1]
    return tuple(rel)


def code(path):
    out = []
    with open(path, encoding="utf-8", errors="replace") as fh:
        lines = fh.read().split("\n")
    for i, l in enumerate(lines):
        if l.strip() == "#[cfg(test)]" and i + 1 < len(lines) and re.match(r"\s*(pub\s+)?mod\s+\w+", lines[i + 1]):
            break
        out.append(re.sub(r'"(\\.|[^"\\])*"', '""', l.split("//")[0]))
    return "\n".join(out)


def main():
    pairs = set()
    for src in crate_roots():
        files = {}
        for d, _, fs in os.walk(src):
            for f in fs:
                if f.endswith(".rs"):
                    p = os.path.join(d, f)
                    files[module_of(src, p)] = p
        edges = set()
        for mod, p in files.items():
            for m in PATH.finditer(code(p)):
                head, rest = m.group(1), m.group(2).split("::")[1:]
                if head == "crate":
                    base = ()
                elif head == "self":
                    base = mod
                else:  # super: the parent of this file's module
                    base = mod[:-1]
                    while rest and rest[0] == "super":
                        base, rest = base[:-1], rest[1:]
                target = None
                for k in range(len(rest), -1, -1):
                    cand = base + tuple(rest[:k])
                    if cand in files:
                        target = cand
                        break
                if target is not None and target != mod:
                    edges.add((mod, target))
        for a, b in edges:
            if (b, a) in edges and a < b:
                pairs.add((os.path.relpath(files[a], ROOT), os.path.relpath(files[b], ROOT)))
    for a, b in sorted(pairs):
        print(f"{a} <-> {b}")
    print(f"{len(pairs)} pairs of files import each other")
    sys.exit(1 if pairs else 0)


if __name__ == "__main__":
    main()
