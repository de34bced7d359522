#!/usr/bin/env bash
# Where a decode step's time goes on the GPU (issue #9: decode is bound by the host, not by
# the device). Run on a lent GPU machine with target/raif-cuda.gz carried, like
# scripts/gpu-check.sh. The machine's image has Nsight Compute but not Nsight Systems, so this
# profiles a window of consecutive kernel launches of `raif bench generate` (batch 64, one
# repetition after the warm-up): SKIP launches are let through, the next COUNT are timed. With
# the defaults the window falls in the batch-1 greedy decode; each step there launches one
# `fast_argmax_f32`, so launches and device time per step follow from its count. Compare with
# the wall time per step of an unprofiled run (scripts/gpu-check.sh). Output in $OUT (or
# /tmp/gpu-decode).
set -uo pipefail
cd "$(dirname "$0")/.."
SHAPE=${SHAPE:-qwen2.5-1.5b}
SKIP=${SKIP:-60000}
COUNT=${COUNT:-3000}
R=${OUT:-/tmp/gpu-decode}
mkdir -p "$R"
T=$(mktemp -d)
gunzip -c target/raif-cuda.gz > "$T/raif" && chmod +x "$T/raif" || { echo "no target/raif-cuda.gz" >&2; exit 1; }
PY=${PYTHON:-python3}
NV=$($PY -c 'import nvidia, os; print(os.path.dirname(list(nvidia.__path__)[0]))' 2>/dev/null)/nvidia
LIBS=$(find "$NV" -maxdepth 3 -type d -name lib 2>/dev/null | tr '\n' ':')
export LD_LIBRARY_PATH=${LIBS}${LD_LIBRARY_PATH:-}
NCU=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)
timeout 240 "$NCU" --clock-control none --metrics gpu__time_duration.sum --csv --print-units base \
  --launch-skip "$SKIP" --launch-count "$COUNT" --log-file "$T/decode.csv" \
  "$T/raif" --home "$T/home" bench generate --model "random:$SHAPE" --device cuda --batch 64 \
  --reps 1 --json
$PY scripts/bench/ncu_summary.py "$T/decode.csv" 60 | tee "$R/ncu-decode-window.txt"
rm -rf "$T"
