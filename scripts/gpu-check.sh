#!/usr/bin/env bash
# The GPU checks of issue #9, in one call on a lent GPU machine (no cargo, no network there).
# Build first on this machine with scripts/build-cuda.sh, which leaves target/raif-cuda.gz, then
# run this script on the GPU machine from the repository root with that file carried:
#   device run (carry target/raif-cuda.gz):  bash scripts/gpu-check.sh
# It (a) checks CUDA against the CPU on tiny models (logits, log-probs, gradients; bf16
# tolerances), (b) measures batched decode at batch 64 and a training step on a random model of
# Qwen2.5-1.5B's shape, (c) runs the same in PyTorch + transformers on the same card, (d) prints a
# table. JSON results go to $OUT (or /tmp/gpu-check) for docs/BENCHMARKS.md. AB=1 adds runs
# of the training step with candle's zero-filled first gradients (RAIF_GRAD_ZERO_FILL=1, see
# vendor/README.md) and with the composite layer ops (RAIF_FUSED_OPS=0), to measure what each
# change buys. PROFILE=1 adds the device time of a
# training step by kernel (Nsight Compute, which the GPU machine's image carries).
set -uo pipefail
cd "$(dirname "$0")/.."
SHAPE=${SHAPE:-qwen2.5-1.5b}
BATCH=${BATCH:-64}
R=${OUT:-/tmp/gpu-check}
mkdir -p "$R"
. scripts/gpu-env.sh
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$R/gpu.txt"
H=$T/home
echo "== (a) CUDA against the CPU on tiny models"
"$T/raif" --home "$H" bench device-check --device cuda --dtype f32 | tee "$R/device-check-f32.txt"
"$T/raif" --home "$H" bench device-check --device cuda --json | tee "$R/device-check.json"
echo "== (b) raif: decode at batch $BATCH and a training step, random $SHAPE, bf16"
"$T/raif" --home "$H" bench generate --model "random:$SHAPE" --device cuda --batch "$BATCH" --reps 3 --json \
  | tee "$R/raif-generate.json"
"$T/raif" --home "$H" bench train-step --model "random:$SHAPE" --device cuda --batch 8 --seq-len 256 \
  --no-checkpointing --reps 3 --json | tee "$R/raif-train-step.json"
if [ "${AB:-0}" = 1 ]; then
  echo "== (b') the training step with candle's zero-filled first gradients, then with the composite layer ops"
  for knob in RAIF_GRAD_ZERO_FILL=1 RAIF_FUSED_OPS=0; do
    env "$knob" "$T/raif" --home "$H" bench train-step --model "random:$SHAPE" --device cuda --batch 8 \
      --seq-len 256 --no-checkpointing --reps 3 --json \
      | $PY -c 'import json,sys; m=json.load(sys.stdin); m["knob"]=sys.argv[1]; print(json.dumps(m))' "$knob" \
      | tee -a "$R/raif-train-step-ab.jsonl"
  done
fi
if [ "${PROFILE:-0}" = 1 ]; then
  echo "== (b'') device time by kernel of a training step (Nsight Compute, one metric)"
  NCU=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)
  timeout 200 "$NCU" --clock-control none --metrics gpu__time_duration.sum --csv --print-units base \
    --log-file "$T/ncu-train-step.csv" "$T/raif" --home "$H" bench train-step --model "random:$SHAPE" \
    --device cuda --batch 8 --seq-len 256 --no-checkpointing --reps 1 --json
  $PY scripts/bench/ncu_summary.py "$T/ncu-train-step.csv" 40 | tee "$R/ncu-train-step.txt"
fi
PL=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["decode_prompt_tokens"])' "$R/raif-generate.json" 2>/dev/null || echo 30)
echo "== (c) PyTorch + transformers, same shape, card and work"
$PY scripts/bench/torch_gpu.py --shape "$SHAPE" --batch "$BATCH" --prompt-len "$PL" --reps 3 | tee "$R/torch.json"
echo "== (d) summary"
$PY - "$R" <<'PYEOF'
import json, sys, os
r = sys.argv[1]
def load(n):
    try: return json.load(open(os.path.join(r, n)))
    except Exception as e: return {"error": str(e)}
g, s, t, d = load("raif-generate.json"), load("raif-train-step.json"), load("torch.json"), load("device-check.json")
print(f"device check: {'PASS' if d.get('pass') else 'FAIL'}")
print(f"| | raif | PyTorch | ratio |")
print(f"|---|---:|---:|---:|")
rd, td = g.get("decode_tps_batch"), t.get("decode_tps_batch")
print(f"| decode tokens/s, batch {g.get('decode_batch')} | {rd} | {td} | {rd/td if rd and td else '-'} |")
rs, ts = s.get("step_s"), t.get("step_s")
print(f"| train step s (8 x 256, full) | {rs} | {ts} | {ts/rs if rs and ts else '-'} |")
print(f"raif step phases: forward {s.get('forward_s')} s, backward {s.get('backward_s')} s, optimizer {s.get('optimizer_s')} s")
print(f"decode: {g.get('bandwidth_fraction')} of the memory-bandwidth bound ({g.get('bandwidth_gbs')} GB/s measured)")
PYEOF
rm -rf "$T"
