#!/usr/bin/env python3
"""Measure our ports on real text: write rl/verify/data/realtext_expected.jsonl with what the
official libraries give on the benchmark texts in ../shared/data (no text is stored, only
counts, hashes and verdicts).

Usage: $IFREF/venv/bin/python scripts/verify/gen_realtext.py [--shared ../shared]

Texts, in this order: the 294 IFBench sample responses, the 294 IFBench prompts, the 541
IFEval prompts. For each: Punkt sentence count, FNV-1a-64 of the word_tokenize tokens joined by
U+001F, NLTK \\w+ word count, regex-splitter sentence count, langdetect (seed 0) result and the
POS tag of the first token. Then "ifeval" lines: each IFEval row paired with sample response
(row index mod 294), with the oracle's per-instruction verdicts.
"""
import argparse, json, os, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "../.."))
IFREF = os.environ.get("IFREF", os.path.expanduser("~/.cache/raif-ifref"))
sys.path.insert(0, IFREF)
import offline_shim  # noqa
import nltk, langdetect
from ifbench import instructions_util as iu

langdetect.DetectorFactory.seed = 0


def fnv(s):
    h = 0xcbf29ce484222325
    for b in s.encode("utf-8"):
        h ^= b
        h = (h * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=os.path.normpath(os.path.join(ROOT, "../shared")))
    ap.add_argument("--out", default=os.path.join(ROOT, "rl/verify/data/realtext_expected.jsonl"))
    a = ap.parse_args()
    d = os.path.join(a.shared, "data")
    resp = [json.loads(l)["response"] for l in open(os.path.join(d, "ifbench/sample_output.jsonl"), encoding="utf-8")]
    ifb = [json.loads(l)["prompt"] for l in open(os.path.join(d, "ifbench/IFBench_test.jsonl"), encoding="utf-8")]
    ife_rows = [json.loads(l) for l in open(os.path.join(d, "ifeval/input_data.jsonl"), encoding="utf-8")]
    texts = resp + ifb + [r["prompt"] for r in ife_rows]
    out = []
    for i, t in enumerate(texts):
        toks = nltk.word_tokenize(t)
        try:
            lang = langdetect.detect(t)
        except Exception:
            lang = None
        tag = nltk.pos_tag(toks)[0][1] if toks else None
        out.append({"text": i, "punkt": len(nltk.sent_tokenize(t)), "tokens": fnv("\x1f".join(toks)),
                    "n_tokens": len(toks), "words": iu.count_words(t), "regex_sentences": len(iu.split_into_sentences(t)),
                    "lang": lang, "tag": tag})
    with tempfile.TemporaryDirectory() as td:
        inp = os.path.join(td, "in.jsonl")
        with open(inp, "w", encoding="utf-8") as f:
            for i, r in enumerate(ife_rows):
                r = dict(r, response=resp[i % len(resp)])
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        res = subprocess.run([os.path.join(IFREF, "venv/bin/python"), os.path.join(IFREF, "oracle.py"), inp],
                             capture_output=True, text=True, check=True).stdout.splitlines()
    for i, line in enumerate(res):
        o = json.loads(line)
        out.append({"ifeval": i, "strict": o["strict"], "loose": o["loose"],
                    "overridden": [bool(x["kwargs_overridden"]) for x in o["instructions"]]})
    with open(a.out, "w", encoding="utf-8") as f:
        for o in out:
            f.write(json.dumps(o) + "\n")
    print(len(out), "lines written to", a.out)


if __name__ == "__main__":
    main()
