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
. scripts/gpu-env.sh
NCU=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)
timeout 240 "$NCU" --clock-control none --metrics gpu__time_duration.sum --csv --print-units base \
  --launch-skip "$SKIP" --launch-count "$COUNT" --log-file "$T/decode.csv" \
  "$T/raif" --home "$T/home" bench generate --model "random:$SHAPE" --device cuda --batch 64 \
  --reps 1 --json
$PY scripts/bench/ncu_summary.py "$T/decode.csv" 60 | tee "$R/ncu-decode-window.txt"
rm -rf "$T"
