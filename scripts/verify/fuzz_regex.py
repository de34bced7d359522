#!/usr/bin/env python3
"""Differential fuzzing of the Python-regex translation: tricky user patterns (keywords, forbidden
words, postscript markers, section splitters) x random texts, official oracle vs our `check`
example (build it first: cargo build -p raif-verify --example check).

Usage: $IFREF/venv/bin/python scripts/verify/fuzz_regex.py [SEED] [N]
"""
import json, os, random, subprocess, sys
R = random.Random(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
IFREF = os.environ.get("IFREF", os.path.expanduser("~/.cache/raif-ifref"))
PATS = ["a{2}", "a{,2}", "x{", "}", "{1}", "[a-z]+", "\\d+", "(?i)abc", "a|b", "^The", "end$", "\\bcat", "c.t", "[[]", "[a&&b]",
        "a--b", "[--]", "[a-]", "\\w+\\s", "\\Z", "\\A", "(?P<n>a)(?P=n)", "(a)\\1", "(?=a)", "(?<=a)b", "a*+", "a++", "(?>a)",
        "\\x41", "\\u0041", "\\p{L}", "\\z", "(?x) a b", "(?s)a.b", "(?m)^a", "(?u)a", "(?a)\\w", "$", "^", "", ".*", "a{1,2}?",
        "[^]]", "[]a]", "\\[", "\\-", "-", "é", "İ", "ß", "ẞ", "ſ", "K", "µ", "σ", "ς", "\\s+\\n", "\\S", "\\W", "\\B", "a\\b",
        "\\bé", "日本", "\\d{2,}", "[\\w-]+", "[^\\s]", "(?i:x)", "(?-i:x)", "a\\", "(", ")", "a)", "[", "?", "*a", "\\0", "\\07",
        "\\1", "[\\b]", "\\t", "\\n", "\\.", "P.S.", "P\\.S\\.", "ps", "Section", "SECTION", "§", "\\d+\\.", "(?#c)a", "\\Q"]
PIECES = ["a", "aa", "b", "The", "the", "cat", "Cat", "CAT", "end", "\n", " ", "  ", "\t", ".", "-", "--", "[", "]", "{", "}", "é",
          "e\u0301", "İ", "i", "ı", "ß", "ẞ", "SS", "ſ", "s", "K", "k", "\u212a", "µ", "μ", "σ", "ς", "Σ", "日本", "1", "22",
          "333", "x{", "abc", "ABC", "ab", "P.S.", "p.s.", "Section 1", "SECTION 2", "\x1c", "\u00a0", "\u2028", "_", "²", "½"]
def txt():
    return "".join(R.choice(PIECES) + (" " if R.random() < 0.5 else "") for _ in range(R.choice([1, 3, 6, 12, 25])))
cases = []
for _ in range(int(sys.argv[2]) if len(sys.argv) > 2 else 3000):
    p = R.choice(PATS)
    iid = R.choice(["keywords:existence", "keywords:frequency", "keywords:forbidden_words", "detectable_content:postscript",
                    "detectable_format:multiple_sections"])
    kw = {"keywords:existence": {"keywords": [p]}, "keywords:frequency": {"keyword": p or "x", "frequency": R.choice([1, 2, 3]), "relation": R.choice(["at least", "less than"])},
          "keywords:forbidden_words": {"forbidden_words": [p]}, "detectable_content:postscript": {"postscript_marker": p},
          "detectable_format:multiple_sections": {"section_spliter": p, "num_sections": R.choice([1, 2, 3])}}[iid]
    cases.append({"key": len(cases), "instruction_id_list": [iid], "kwargs": [kw], "prompt": "", "response": txt()})
with open("/tmp/refuzz.jsonl", "w") as f:
    for c in cases: f.write(json.dumps(c, ensure_ascii=False) + "\n")
orc = subprocess.run([IFREF + "/venv/bin/python", IFREF + "/oracle.py", "/tmp/refuzz.jsonl"], capture_output=True, text=True, check=True).stdout.splitlines()
ours = subprocess.run([os.path.join(os.environ.get("CARGO_TARGET_DIR", "/work/target-verify"), "debug/examples/check"), "/tmp/refuzz.jsonl"], capture_output=True, text=True).stdout.splitlines()
bad = 0
for c, o, u in zip(cases, orc, ours):
    o, u = json.loads(o), json.loads(u)
    if o["instructions"][0]["kwargs_overridden"]: continue
    if (o["strict"], o["loose"]) != (u.get("strict"), u.get("loose")):
        bad += 1
        if bad <= 25:
            print(json.dumps({"kw": c["kwargs"][0], "resp": c["response"], "off": [o["strict"], o["loose"], o["instructions"][0]["errors"][:1]], "ours": [u.get("strict"), u.get("loose"), u["instructions"][0]["reason"]]}, ensure_ascii=False)[:400])
print(len(cases), "cases", bad, "bad")
