#!/usr/bin/env bash
# Benchmark: `raif check` (the raif-verify core, release build) against the official Python
# evaluation on the same inputs: the 294 IFBench samples and the 541 IFEval prompts paired with
# real responses (sample response i mod 294). Prints wall-clock seconds and the speed-up.
# Run on a quiet machine; it is a benchmark, not a test.
# Usage: scripts/verify/bench.sh [SHARED_DIR]   (IFREF defaults to ~/.cache/raif-ifref)
set -euo pipefail
cd "$(dirname "$0")/../.."
SHARED=${1:-../shared}
IFREF=${IFREF:-$HOME/.cache/raif-ifref}
PY=$IFREF/venv/bin/python
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/work/target-verify}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
$PY "$IFREF/join_responses.py" "$SHARED/data/ifbench/IFBench_test.jsonl" "$SHARED/data/ifbench/sample_output.jsonl" > "$T/ifbench.jsonl"
$PY - "$SHARED" "$T/ifeval.jsonl" <<'PYEOF'
import json, sys
shared, out = sys.argv[1], sys.argv[2]
resp = [json.loads(l)["response"] for l in open(f"{shared}/data/ifbench/sample_output.jsonl", encoding="utf-8")]
with open(out, "w", encoding="utf-8") as f:
    for i, l in enumerate(open(f"{shared}/data/ifeval/input_data.jsonl", encoding="utf-8")):
        d = json.loads(l); d["response"] = resp[i % len(resp)]
        f.write(json.dumps(d, ensure_ascii=False) + "\n")
PYEOF
cargo build -q --release -p raif-verify --example check
BIN=$CARGO_TARGET_DIR/release/examples/check
for name in ifbench ifeval; do
  t0=$(date +%s.%N); $PY "$IFREF/oracle.py" "$T/$name.jsonl" > "$T/$name.official"; t1=$(date +%s.%N)
  "$BIN" "$T/$name.jsonl" "$T/$name.ours"; t2=$(date +%s.%N)
  py=$(echo "$t1 - $t0" | bc -l); rs=$(echo "$t2 - $t1" | bc -l)
  printf '%s: %d prompts  official Python %.3f s  raif check %.4f s  speed-up %.0fx\n' \
    "$name" "$(wc -l < "$T/$name.jsonl")" "$py" "$rs" "$(echo "$py / $rs" | bc -l)"
done
