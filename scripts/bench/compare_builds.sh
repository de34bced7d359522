#!/usr/bin/env bash
# Two builds of raif side by side, interleaved on an idle machine (docs/BENCHMARKS.md, "The
# house"): generation (3 processes each), the LoRA training step (2 each) and `raif check` on
# IFBench's samples and IFEval's prompts (30 runs each, outputs compared byte for byte).
# Usage: scripts/bench/compare_builds.sh OLD_RAIF NEW_RAIF HOME OUT_DIR [SHARED_DIR]
#   (HOME holds the default model: `raif --home HOME model fetch`)
set -uo pipefail
OLD=$(realpath "$1"); NEW=$(realpath "$2"); H=$3; OUT=$4; SH=${5:-../shared}
mkdir -p "$OUT"
"$(dirname "$0")/../verify/bench_inputs.sh" "$SH" "$OUT"
for r in 1 2 3; do for b in old new; do
  B=$OLD; [ $b = new ] && B=$NEW
  $B --home $H bench generate --json --device cpu --reps 3 > $OUT/gen-$b-$r.json 2> $OUT/gen-$b-$r.err
  echo "gen $b $r rc=$?"
done; done
for r in 1 2; do for b in old new; do
  B=$OLD; [ $b = new ] && B=$NEW
  /usr/bin/time -v $B --home $H bench train-step --lora --reps 1 --json --device cpu > $OUT/train-$b-$r.json 2> $OUT/train-$b-$r.err
  echo "train $b $r rc=$?"
done; done
python3 - $OLD $NEW $OUT <<'PYEOF'
import subprocess, sys, time, statistics, json, hashlib
old, new, out = sys.argv[1:]
res = {}
for name in ["ifbench", "ifeval"]:
    for rnd in range(3):
        for tag, b in [("old", old), ("new", new)]:
            ts = []
            for _ in range(10):
                t = time.perf_counter()
                subprocess.run([b, "check", "--input", f"{out}/{name}.jsonl", "--output", f"{out}/{name}-{tag}.out"], check=True, capture_output=True)
                ts.append(time.perf_counter() - t)
            res.setdefault(f"{name}/{tag}", []).extend(ts)
    same = hashlib.sha256(open(f"{out}/{name}-old.out","rb").read()).hexdigest() == hashlib.sha256(open(f"{out}/{name}-new.out","rb").read()).hexdigest()
    res[f"{name}/identical_output"] = same
summary = {k: (v if isinstance(v, bool) else {"min_ms": 1000*min(v), "median_ms": 1000*statistics.median(v), "n": len(v)}) for k, v in res.items()}
json.dump(summary, open(f"{out}/check.json", "w"), indent=1)
print(json.dumps(summary, indent=1))
PYEOF
echo perf done
