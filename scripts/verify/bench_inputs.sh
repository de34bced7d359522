#!/usr/bin/env bash
# The two `raif check` benchmark inputs, written to OUT_DIR: ifbench.jsonl (IFBench's 294
# samples joined with their responses) and ifeval.jsonl (the 541 IFEval prompts, prompt i
# paired with IFBench sample response i mod 294). Used by scripts/verify/bench.sh and
# scripts/bench/compare_builds.sh.
# Usage: scripts/verify/bench_inputs.sh SHARED_DIR OUT_DIR [PYTHON]
set -euo pipefail
SHARED=$1; OUT=$2; PY=${3:-python3}
$PY "$SHARED/ifref/join_responses.py" "$SHARED/data/ifbench/IFBench_test.jsonl" "$SHARED/data/ifbench/sample_output.jsonl" > "$OUT/ifbench.jsonl"
$PY - "$SHARED" "$OUT/ifeval.jsonl" <<'PYEOF'
import json, sys
shared, out = sys.argv[1], sys.argv[2]
resp = [json.loads(l)["response"] for l in open(f"{shared}/data/ifbench/sample_output.jsonl", encoding="utf-8")]
with open(out, "w", encoding="utf-8") as f:
    for i, l in enumerate(open(f"{shared}/data/ifeval/input_data.jsonl", encoding="utf-8")):
        d = json.loads(l); d["response"] = resp[i % len(resp)]
        f.write(json.dumps(d, ensure_ascii=False) + "\n")
PYEOF
