#!/usr/bin/env python3
"""Checks generated records' expert answers against the OFFICIAL IFEval/IFBench checkers.

Usage: check_generated.py RECORDS.jsonl   (needs the oracle of ../shared/ifref set up in $IFREF,
default ~/.cache/raif-ifref)

Interprets each record's constraint tree as ALGORITHM.md §2 and raif_verify::tree describe it:
And = every child on the same text; Chain with a separator = step k on the k-th part of the text
split on the separator; Selection = the first branch whose `when` holds on the prompt, else
`otherwise`. Rule leaves go to the oracle (strict verdicts). Prints the pass rate per record and
per instruction id, and the failing leaves. Exit status 1 when any record fails.
"""
import collections
import json
import os
import subprocess
import sys
import tempfile

IFREF = os.environ.get("IFREF", os.path.expanduser("~/.cache/raif-ifref"))


def run_oracle(lines):
    if not lines:
        return []
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        for l in lines:
            f.write(json.dumps(l) + "\n")
        name = f.name
    res = subprocess.run([f"{IFREF}/venv/bin/python", f"{IFREF}/oracle.py", name],
                         capture_output=True, text=True)
    os.unlink(name)
    if res.returncode != 0:
        sys.exit("oracle failed: " + res.stderr[-3000:])
    return [json.loads(l) for l in res.stdout.splitlines() if l.strip()]


def line(node, text, prompt):
    return {"key": "k", "instruction_id_list": [node["id"]], "kwargs": [node.get("kwargs", {})],
            "prompt": prompt, "response": text}


def expand(node, text, prompt, leaves, selections, fails, path):
    t = node["type"]
    if t == "rule":
        leaves.append((path, node, text, prompt))
    elif t == "and":
        for i, c in enumerate(node["children"]):
            expand(c, text, prompt, leaves, selections, fails, f"{path}.{i}")
    elif t == "chain":
        sep, steps = node.get("separator"), node["steps"]
        parts = text.split(sep) if sep else [text] * len(steps)
        if len(parts) != len(steps):
            fails.append((path, f"chain: {len(parts)} parts for {len(steps)} steps"))
            return
        for i, (s, p) in enumerate(zip(steps, parts)):
            expand(s, p, prompt, leaves, selections, fails, f"{path}.{i}")
    elif t == "selection":
        selections.append((path, node, text, prompt))
    else:
        fails.append((path, f"unsupported node {t}"))


def main():
    records = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
    leaves = {i: [] for i in range(len(records))}
    fails = {i: [] for i in range(len(records))}
    sels = {i: [] for i in range(len(records))}
    for i, r in enumerate(records):
        prompt = [m["content"] for m in r["messages"] if m["role"] == "user"][-1]
        expand(r["constraints"], r["expert"]["answer"], prompt, leaves[i], sels[i], fails[i], "c")
    while any(sels.values()):
        conds = [(i, s, bi, b) for i, ss in sels.items() for s in ss for bi, b in enumerate(s[1]["branches"])]
        verdicts = run_oracle([line(b["when"], s[3], s[3]) for (_, s, _, b) in conds])
        chosen = {}
        for (i, s, bi, _), v in zip(conds, verdicts):
            key = (i, s[0])
            if key not in chosen:
                chosen[key] = None
            if v["strict"][0] and chosen[key] is None:
                chosen[key] = bi
        new = {i: [] for i in sels}
        for i, ss in sels.items():
            for (path, node, text, prompt) in ss:
                bi = chosen.get((i, path))
                target = node["branches"][bi]["then"] if bi is not None else node.get("otherwise")
                if target is not None:
                    expand(target, text, prompt, leaves[i], new[i], fails[i], f"{path}.{bi if bi is not None else 'o'}")
        sels = new
    flat = [(i, l) for i, ls in leaves.items() for l in ls]
    verdicts = run_oracle([line(node, text, prompt) for (_, (_, node, text, prompt)) in flat])
    per_id = collections.defaultdict(lambda: [0, 0])
    for (i, (path, node, text, prompt)), v in zip(flat, verdicts):
        ok = v["strict"][0]
        per_id[node["id"]][0] += ok
        per_id[node["id"]][1] += 1
        if not ok:
            fails[i].append((path, f"{node['id']} {json.dumps(node.get('kwargs', {}))} errors={v['instructions'][0].get('errors')}"))
    bad = [i for i in fails if fails[i]]
    print(f"records: {len(records)}, all constraints pass: {len(records) - len(bad)} ({100 * (len(records) - len(bad)) / max(1, len(records)):.1f}%)")
    print(f"distinct rule ids checked: {len(per_id)}")
    for k in sorted(per_id):
        p, n = per_id[k]
        if p != n:
            print(f"  {k}: {p}/{n}")
    for i in bad[:40]:
        print(f"FAIL {records[i]['id']}: {fails[i]}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
