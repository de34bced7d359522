#!/usr/bin/env python3
"""Differential fuzzing: random texts x every id (kwargs from the corpus), the official oracle
against our `check` example. Prints disagreements; writes nothing to the repository.

Usage: $IFREF/venv/bin/python scripts/verify/fuzz_diff.py [N_PER_ID] [SEED]
"""
import json, os, random, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "../.."))
IFREF = os.environ.get("IFREF", os.path.expanduser("~/.cache/raif-ifref"))
N = int(sys.argv[1]) if len(sys.argv) > 1 else 30
R = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 7)

PIECES = ["the", "The", "A", "cat", "Mr.", "Dr.", "e.g.", "U.S.A.", "NASA", "and", "or", "so", "I", "you", "*", "**",
          "-", "\n", "\n\n", "\r\n", " ", "  ", "\t", ".", ",", "!", "?", "?!", ";", ":", '"', "'", "(", ")", "[", "]",
          "{", "}", "<<", ">>", "***", "******", "Section 1", "SECTION", "P.S.", "p.p.s", "1", "42", "1999-01-02",
          "日本", "語", "数据", "😀", "🎉", "é", "ü", "ß", "İ", "ǅ", "½", "²", "٣", "\u00a0", "\u2028", "\u001c", "\u200b",
          "<i>", "</i>", "<em>", "Question 1:", "A.", "B)", "My answer is yes.", "yes", "no", "maybe", "Zimbabwe",
          "level", "radar", "kaleidoscope", "nebula", "whisper", "vibrant", "giraffe", "eat", "Emma", "Liam",
          "she/her", "--", "...", "—", "`", "``", "''", "can't", "gonna", "cannot", "'tis", "“", "”", "‘", "’", "«", "»",
          "{\"a\": [1, {\"b\": null}]}", "```json", "```", "<<Title>>", "[name]", "My Answer:", "Future Outlook:",
          "J.", "K.", "Jan.", "No.", "vs.", "etc.", "Inc.", "3.", "1.5", "Ph.D.", "a.m.", "St.", "Ltd.", "Co.",
          "Bonjour", "le", "monde", "est", "très", "und", "der", "die", "Das", "el", "los", "que", "è", "perché",
          "Привет", "мир", "это", "مرحبا", "العالم", "नमस्ते", "दुनिया", "こんにちは", "世界", "안녕", "세계", "Γειά",
          "κόσμε", "שלום", "ok,ok", "a,\"b,c\"", "\t", "\"\"", "p. s.", "p.p.s.", "{", "[[[", "]]]"]


def rand_text():
    k = R.choice([0, 1, 2, 3, 5, 8, 13, 21, 40, 80])
    t = ""
    for _ in range(k):
        p = R.choice(PIECES)
        t += p + (" " if R.random() < 0.6 else "")
    if R.random() < 0.2:
        t = t.upper()
    elif R.random() < 0.2:
        t = t.lower()
    return t


kw = {}
for line in open(os.path.join(ROOT, "rl/verify/data/corpus.jsonl"), encoding="utf-8"):
    c = json.loads(line)
    kw.setdefault(c["id"], [])
    if c["kwargs"] not in kw[c["id"]]:
        kw[c["id"]].append(c["kwargs"])
cases = []
for iid, kws in kw.items():
    for _ in range(N):
        cases.append({"key": len(cases), "instruction_id_list": [iid], "kwargs": [R.choice(kws)], "prompt": "",
                      "response": rand_text()})
with tempfile.TemporaryDirectory() as td:
    inp = os.path.join(td, "in.jsonl")
    with open(inp, "w", encoding="utf-8") as f:
        for c in cases:
            f.write(json.dumps(c, ensure_ascii=False) + "\n")
    orc = subprocess.run([os.path.join(IFREF, "venv/bin/python"), os.path.join(IFREF, "oracle.py"), inp],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    env = dict(os.environ, CARGO_TARGET_DIR=os.environ.get("CARGO_TARGET_DIR", "/work/target-verify"))
    ours = subprocess.run(["cargo", "run", "-q", "-p", "raif-verify", "--example", "check", "--", inp],
                          capture_output=True, text=True, check=True, cwd=ROOT, env=env).stdout.splitlines()
bad = 0
for c, o, u in zip(cases, orc, ours):
    o, u = json.loads(o), json.loads(u)
    oi = o["instructions"][0]
    if oi["kwargs_overridden"]:
        continue
    if (o["strict"], o["loose"]) != (u.get("strict"), u.get("loose")):
        bad += 1
        if bad <= 30:
            print(json.dumps({"id": c["instruction_id_list"][0], "kwargs": c["kwargs"][0], "response": c["response"],
                              "official": [o["strict"], o["loose"], oi["errors"]], "ours": [u.get("strict"), u.get("loose"),
                              u.get("instructions", [{}])[0].get("reason")]}, ensure_ascii=False))
print(f"{len(cases)} cases, {bad} disagreements")
