"""The official checkers' side of the reward-server throughput comparison (issue #10, per core).

The same work as `loadgen --direct`: for each response of `loadgen --dump FILE`, what a reward
function built on the official IFEval / IFBench code does per response: take the answer out of
the think+answer text, check the RAIF format, build each instruction's checker with its kwargs
and run the strict `check_following` on the answer (IFEval's training semantics; no loose
variants), then the RAIF reward. One Python thread, after a warm-up pass, for --seconds.

Run it with the oracle's interpreter (~/.cache/raif-ifref/venv/bin/python); it imports the
oracle's registries (the same checker code `raif check` is compared against).

Usage: python official_strict_rate.py DUMP.jsonl [--seconds 20] [--ifref ~/.cache/raif-ifref]
Prints one JSON object: responses, seconds, responses_per_s.
"""
import argparse, json, os, random, sys, time

ap = argparse.ArgumentParser()
ap.add_argument("dump")
ap.add_argument("--seconds", type=float, default=20.0)
ap.add_argument("--ifref", default=os.path.expanduser("~/.cache/raif-ifref"))
a = ap.parse_args()
sys.path.insert(0, a.ifref)
import oracle  # noqa: E402  (its offline shim and the official registries)
import langdetect  # noqa: E402

langdetect.DetectorFactory.seed = 0
ifbench, ifeval = oracle.load_registries("google-current")
registry = {**ifeval, **ifbench}
rows = [json.loads(l) for l in open(a.dump, encoding="utf-8") if l.strip()]


def reward(row):
    text = row["response"]
    ok = (text.count("</think>") == 1 and text.count("<answer>") == 1 and text.count("</answer>") == 1
          and "<think>" not in text and text.index("</think>") < text.index("<answer>") < text.index("</answer>"))
    if not ok:
        return -3.0
    answer = text[text.rindex("<answer>") + len("<answer>"):text.rindex("</answer>")].strip()
    if not answer:
        return -3.0
    passed = 0
    ids = row["instruction_id_list"]
    for iid, kw in zip(ids, row.get("kwargs") or [{}] * len(ids)):
        random.seed(0)
        checker = registry[iid](iid)
        checker.build_description(**{k: v for k, v in (kw or {}).items() if v is not None})
        try:
            passed += bool(checker.check_following(answer))
        except Exception:
            pass
    q = len(ids)
    score = 2.0 if passed == q else -2.0 if passed == 0 else passed / q
    return score + 1.0


for row in rows[: min(len(rows), 200)]:  # warm-up: imports, NLTK data, langdetect profiles
    reward(row)
n, t0 = 0, time.perf_counter()
deadline = t0 + a.seconds
while time.perf_counter() < deadline:
    for row in rows:
        reward(row)
        n += 1
        if n % 64 == 0 and time.perf_counter() >= deadline:
            break
secs = time.perf_counter() - t0
print(json.dumps({"engine": "official checkers (oracle venv), one thread", "responses": n,
                  "seconds": round(secs, 3), "responses_per_s": round(n / secs, 1)}))
