#!/usr/bin/env bash
# Issue #8's table (docs/RESULTS.md): the default model in io, cot and think mode on the full
# IFEval and on 100 held-out generated complex instructions, before and after a `tiny` preset
# run. Every step is resumable: run the script again and it continues where it stopped
# (evaluations resume item by item, the run from its last checkpoint).
# Usage: scripts/eval/paper-table.sh [HOME] [SHARED_DATA]    (takes hours on 2 CPU cores)
set -euo pipefail
cd "$(dirname "$0")/../.."
H=${1:-$HOME/raif-paper-table}
DATA=${2:-../shared/data}
RAIF=${RAIF:-target/release/raif}
RUN=tiny-paper-table
mkdir -p "$H"
# The held-out set: the trainer's generator (mixed depths) with another seed than the run's.
HELD=$H/heldout-s7-n100.jsonl
[ -f "$HELD" ] || "$RAIF" --home "$H" data gen --n 100 --seed 7 --out "$HELD" --benchmarks "$DATA"
ev() { # ev LABEL ARGS... : one evaluation, its metrics appended to $H/table.jsonl
  local label=$1; shift
  local t0=$SECONDS out
  out=$("$RAIF" --home "$H" eval --batch 8 --max-new-tokens 384 --device cpu --json "$@")
  python3 -c 'import json,sys; m=json.loads(sys.argv[3]); m["label"]=sys.argv[1]; m["wall_s_this_call"]=int(sys.argv[2]); print(json.dumps(m))' \
    "$label" "$((SECONDS - t0))" "$out" >> "$H/table.jsonl"
}
for mode in io cot think; do ev "before generated $mode" --bench generated --data "$HELD" --mode "$mode"; done
# The run: the preset the README's main command starts, headless, 50 steps.
status=$("$RAIF" --home "$H" runs list --json | python3 -c 'import json,sys
for l in sys.stdin:
    r = json.loads(l)
    if r.get("id") == sys.argv[1]: print(json.dumps(r.get("status")))' "$RUN")
case "$status" in
  "") "$RAIF" --home "$H" train --preset tiny --run-id "$RUN" --metrics-jsonl "$H/$RUN.metrics.jsonl" ;;
  *inished*) ;;
  *) "$RAIF" --home "$H" train --resume "$RUN" --metrics-jsonl "$H/$RUN.metrics.jsonl" ;;
esac
for mode in io cot think; do ev "after generated $mode" --checkpoint "$RUN" --bench generated --data "$HELD" --mode "$mode"; done
for mode in io cot think; do ev "before ifeval $mode" --bench ifeval --data "$DATA" --mode "$mode"; done
for mode in io cot think; do ev "after ifeval $mode" --checkpoint "$RUN" --bench ifeval --data "$DATA" --mode "$mode"; done
