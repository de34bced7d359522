#!/usr/bin/env bash
# Benchmark: `raif check` against the official Python evaluation on the same inputs: the 294
# IFBench samples and the 541 IFEval prompts paired with real responses (sample response i mod
# 294). Times the `raif` binary (target/release/raif, or $RAIF; skipped if neither exists: it
# is the whole workbench, a long build) and the raif-verify core alone (the `check` example,
# built here), interleaved with the official runs (scripts/verify/bench_check.py), after
# checking that their verdicts equal the official ones. Prints min and median wall-clock and the
# speed-ups. Run on a quiet machine; it is a benchmark, not a test.
# Usage: scripts/verify/bench.sh [SHARED_DIR]   (IFREF defaults to ~/.cache/raif-ifref;
#        ROUNDS official runs per input, default 3; RUNS runs of ours per round, default 10)
set -euo pipefail
cd "$(dirname "$0")/../.."
SHARED=${1:-../shared}
IFREF=${IFREF:-$HOME/.cache/raif-ifref}
PY=$IFREF/venv/bin/python
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
scripts/verify/bench_inputs.sh "$SHARED" "$T" "$PY"
cargo build -q --release -p raif-verify --example check
CORE=$CARGO_TARGET_DIR/release/examples/check
RAIF=${RAIF:-target/release/raif}
cmds=("core=$CORE {in} {out}")
if [ -x "$RAIF" ]; then
  cmds=("raif-check=$RAIF check --input {in} --output {out}" "${cmds[@]}")
else
  echo "($RAIF not built: timing the raif-verify core only)"
fi
for name in ifbench ifeval; do
  $PY scripts/verify/bench_check.py "$T/$name.jsonl" "$PY" "$IFREF/oracle.py" \
    --rounds "${ROUNDS:-3}" --runs "${RUNS:-10}" "${cmds[@]}"
done
