#!/usr/bin/env bash
# The GPU checks of issue #9, in one call on a lent GPU machine (no cargo, no network there).
# Build first on this machine with scripts/build-cuda.sh, which leaves target/raif-cuda.gz, then
# run this script on the GPU machine from the repository root with that file carried:
#   device run (carry target/raif-cuda.gz):  bash scripts/gpu-check.sh
# It (a) checks CUDA against the CPU on tiny models (logits, log-probs, gradients; bf16
# tolerances), (b) measures batched decode at batch 64 and a training step on a random model of
# Qwen2.5-1.5B's shape, (c) runs the same in PyTorch + transformers on the same card, (d) prints a
# table, (e) runs a whole `raif train --preset raif` for 3 steps and (f) captures the TUI on a
# GPU run under tmux (issue #25). JSON results go to $OUT (or /tmp/gpu-check) for docs/BENCHMARKS.md. AB=1 adds runs
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
echo "== (b0) the same decode with the fixed-shape step and its CUDA graphs (RAIF_STATIC_DECODE=1; issue #25)"
RAIF_STATIC_DECODE=1 "$T/raif" --home "$H" bench generate --model "random:$SHAPE" --device cuda --batch "$BATCH" \
  --reps 3 --json | tee "$R/raif-generate-static.json"
RAIF_STATIC_DECODE=1 RAIF_CUDA_GRAPH=0 "$T/raif" --home "$H" bench generate --model "random:$SHAPE" --device cuda \
  --batch "$BATCH" --reps 3 --json | tee "$R/raif-generate-static-nograph.json"
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
echo "== (e) a whole RAIF run: raif train --preset raif, random $SHAPE, 3 steps, headless (issue #25)"
# Generation, reference log-probs, the policy update, behaviour cloning and the store's commit
# together. Peak device memory is polled with nvidia-smi; the per-phase seconds are the run's
# own time/* metrics. No held-out evaluation (eval.every=0), so the steps are the RL work only.
RH=$T/run
nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 200 > "$R/train-run-memory.txt" 2>/dev/null &
SMI=$!
T0=$(date +%s.%N)
timeout "${RUN_TIMEOUT:-420}" "$T/raif" --home "$RH" train --preset raif --model "random:$SHAPE" --device cuda \
  --steps "${RUN_STEPS:-3}" --set eval.every=0 --run-id gpu --metrics-jsonl "$R/train-run-metrics.jsonl" \
  2>&1 | tee "$R/train-run.log"
RC=${PIPESTATUS[0]}
T1=$(date +%s.%N)
kill "$SMI" 2>/dev/null
$PY - "$R" "$T0" "$T1" "$RC" "$SHAPE" <<'PYEOF'
import json, os, statistics, sys
r, t0, t1, rc, shape = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
steps = [json.loads(l) for l in open(os.path.join(r, "train-run-metrics.jsonl"))] if os.path.exists(os.path.join(r, "train-run-metrics.jsonl")) else []
mem = [int(x) for x in open(os.path.join(r, "train-run-memory.txt")).read().split() if x.strip().isdigit()] if os.path.exists(os.path.join(r, "train-run-memory.txt")) else []
phases = ["generation", "score", "reference", "policy", "optimizer", "checkpoint"]
out = {
    "command": f"raif train --preset raif --model random:{shape} --device cuda --steps {len(steps)} --set eval.every=0",
    "exit_code": rc, "steps": len(steps), "wall_s": round(t1 - t0, 2),
    "peak_device_memory_mib": max(mem) if mem else None,
    "per_step": [{"step": s["step"], "step_s": s.get("step_time"), "generation_tokens_per_s": s.get("tokens/s"),
                  "mean_length": s.get("completions/mean_length"),
                  **{p + "_s": s.get("time/" + p) for p in phases}} for s in steps],
}
# Steps after the first (which compiles kernels and fills caches): the median of each phase.
later = out["per_step"][1:] or out["per_step"]
out["median_after_first"] = {k: statistics.median([x[k] for x in later if x.get(k) is not None])
                             for k in ["step_s", "generation_tokens_per_s"] + [p + "_s" for p in phases]
                             if any(x.get(k) is not None for x in later)}
json.dump(out, open(os.path.join(r, "train-run.json"), "w"), indent=1)
print(json.dumps(out["median_after_first"]), "peak MiB", out["peak_device_memory_mib"], "exit", rc)
PYEOF
echo "== (f) the TUI on a GPU run, under tmux: streaming rollouts, captured"
if command -v tmux >/dev/null; then
  tmux kill-session -t raif 2>/dev/null
  tmux new-session -d -s raif -x 200 -y 60 "$T/raif --home $T/tui --device cuda --preset raif --model random:$SHAPE"
  sleep "${TUI_WAIT:-120}"
  tmux capture-pane -p -t raif > "$R/train-run-tui.txt"
  tmux send-keys -t raif q
  sleep 3
  tmux kill-session -t raif 2>/dev/null
  grep -c . "$R/train-run-tui.txt"
else
  echo "no tmux on this machine: the TUI capture was not taken" | tee "$R/train-run-tui.txt"
fi
if $PY -c 'import trl' 2>/dev/null; then
  echo "TRL is importable here; scripts/bench/trl_grpo_step.py measures the tiny CPU shape only, so the GPU comparison is (c)'s PyTorch generate + train step"
else
  echo "no TRL on this machine (and its wheels are not carried): the GPU comparison is (c)'s PyTorch generate + train step"
fi
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
for name in ("raif-generate-static.json", "raif-generate-static-nograph.json"):
    x = load(name)
    print(f"{name}: b1 {x.get('decode_tps_b1')} tok/s (today {g.get('decode_tps_b1')}), batch {x.get('decode_batch')} {x.get('decode_tps_batch')} tok/s, {x.get('bandwidth_fraction')} of the bound; graphs {x.get('graphs')}")
w = load("train-run.json")
print(f"whole run: {w.get('steps')} steps, exit {w.get('exit_code')}, peak {w.get('peak_device_memory_mib')} MiB, medians after the first step {w.get('median_after_first')}")
PYEOF
rm -rf "$T"
