#!/usr/bin/env python3
"""Differential fuzzing with random code points from every plane (Unicode-version and class
differences) x every id, official oracle vs our `check` example (build it first).

Usage: $IFREF/venv/bin/python scripts/verify/fuzz_unicode.py SEED N_PER_ID
"""
import json, os, random, subprocess, sys
R = random.Random(int(sys.argv[1]))
IFREF = os.environ.get("IFREF", os.path.expanduser("~/.cache/raif-ifref"))
def rc():
    while True:
        cp = R.choice([R.randint(0, 0x7f), R.randint(0x80, 0x2fff), R.randint(0x3000, 0xffff), R.randint(0x10000, 0x3134f)])
        if not (0xd800 <= cp <= 0xdfff):
            return chr(cp)
def txt():
    parts = []
    for _ in range(R.choice([1, 4, 10, 30])):
        parts.append("".join(rc() for _ in range(R.choice([1, 2, 5]))))
    return R.choice([" ", "", "\n", ". "]).join(parts)
kw = {}
for line in open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../rl/verify/data/corpus.jsonl"), encoding="utf-8"):
    c = json.loads(line); kw.setdefault(c["id"], [])
    if c["kwargs"] not in kw[c["id"]] and len(kw[c["id"]]) < 4: kw[c["id"]].append(c["kwargs"])
cases = []
for iid, ks in kw.items():
    for _ in range(int(sys.argv[2])):
        cases.append({"key": len(cases), "instruction_id_list": [iid], "kwargs": [R.choice(ks)], "prompt": "", "response": txt()})
with open("/tmp/unifuzz.jsonl", "w") as f:
    for c in cases: f.write(json.dumps(c) + "\n")
orc = subprocess.run([IFREF + "/venv/bin/python", IFREF + "/oracle.py", "/tmp/unifuzz.jsonl"], capture_output=True, text=True, check=True).stdout.splitlines()
ours = subprocess.run([os.path.join(os.environ.get("CARGO_TARGET_DIR", "/work/target-verify"), "debug/examples/check"), "/tmp/unifuzz.jsonl"], capture_output=True, text=True).stdout.splitlines()
bad = {}
import unicodedata
for c, o, u in zip(cases, orc, ours):
    o, u = json.loads(o), json.loads(u)
    if o["instructions"][0]["kwargs_overridden"]: continue
    if (o["strict"], o["loose"]) != (u.get("strict"), u.get("loose")):
        iid = c["instruction_id_list"][0]
        bad.setdefault(iid, []).append(c)
for iid, cs in bad.items():
    c = cs[0]
    cn = [hex(ord(ch)) for ch in c["response"] if unicodedata.category(ch) == "Cn"][:5]
    print(iid, len(cs), "example Cn chars:", cn, repr(c["response"][:80]), c["kwargs"])
print(len(cases), "cases", sum(len(v) for v in bad.values()), "bad")
