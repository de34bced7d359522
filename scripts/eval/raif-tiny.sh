#!/usr/bin/env bash
# Issue #21's measurements (docs/RESULTS.md, "RAIF that visibly learns"): the `tiny` preset's
# run timed with /usr/bin/time, a warm-up-only run, the held-out evaluations (200 records of
# unseen requests), the four ablations, and IFEval before and after. One home per run, so any
# run can be read while the next trains; each step is skipped when its output exists.
# Usage: scripts/eval/raif-tiny.sh [DIR] [SHARED_DATA]   (about 5 hours on 2 CPU cores)
#        STEPS="main evals" scripts/eval/raif-tiny.sh DIR   (a subset: main wu evals ablations ifeval)
set -uo pipefail
cd "$(dirname "$0")/../.."
D=${1:-$HOME/raif-tiny}
DATA=$(realpath "${2:-../shared/data}")
RAIF=$(realpath "${RAIF:-target/release/raif}")
mkdir -p "$D"
HELD=$D/held7.jsonl
log() { echo "[$(date +%H:%M:%S)] $*" | tee -a "$D/queue.log"; }
home() { mkdir -p "$D/$1"; echo "$D/$1"; }
train() { # NAME ARGS...: one run of the preset, timed; metrics in NAME.jsonl, progress in NAME.err
  local n=$1; shift
  [ -f "$D/$n.done" ] && return
  log "train $n: $*"
  /usr/bin/time -v "$RAIF" --home "$(home "$n")" train --preset tiny --run-id "$n" \
    --metrics-jsonl "$D/$n.jsonl" "$@" > "$D/$n.log" 2> "$D/$n.err" && touch "$D/$n.done"
  log "train $n: $(grep -E 'Maximum resident|Elapsed' "$D/$n.err" | tr '\n' ' ')"
}
ev() { # HOME TAG ARGS...: one evaluation (greedy, batch 8, at most 384 new tokens) as JSON
  local n=$1 tag=$2; shift 2
  [ -s "$D/eval-$n-$tag.json" ] && return
  log "eval $n $tag: $*"
  "$RAIF" --home "$(home "$n")" eval --device cpu --batch 8 --max-new-tokens 384 --json "$@" \
    > "$D/eval-$n-$tag.json" 2> "$D/eval-$n-$tag.err"
}
[ -f "$HELD" ] || "$RAIF" --home "$(home gen)" data gen --profile short --n 200 --seed 7 \
  --heldout-only --out "$HELD" >> "$D/queue.log" 2>&1
for step in ${STEPS:-main wu evals ablations ifeval}; do
  case $step in
    main) train tiny ;;
    wu) train wu --set train.steps=0 ;;
    evals)
      ev base held-io --bench generated --data "$HELD" --mode io
      ev tiny held-think --bench generated --data "$HELD" --mode think --checkpoint tiny
      ev wu held-think --bench generated --data "$HELD" --mode think --checkpoint wu
      ;;
    ablations)
      # One switch each from the session-11 preset, which enforced superior CoT (3 reasoning
      # samples and 1 no-think sample a group), cloned at weight 1 during GRPO and drew only
      # single-constraint records in the first 15 GRPO steps (RESULTS, "Ablations").
      E="--set raif.enforce_superior_cot=true --set raif.bc_coef=1 --set data.curriculum_steps=15"
      train with-enforcement $E
      train no-warmup $E --set warmup.steps=0
      train no-forcing $E --set rollout.think_budget=0 --set rollout.answer_budget=0
      train nothink-baseline $E --set raif.no_think_in_baseline=true
      for n in with-enforcement no-warmup no-forcing nothink-baseline; do
        ev "$n" held-think --bench generated --data "$HELD" --mode think --checkpoint "$n"
      done
      ;;
    ifeval)
      ev base ifeval-io --bench ifeval --data "$DATA" --mode io
      ev tiny ifeval-io --bench ifeval --data "$DATA" --mode io --checkpoint tiny
      ev tiny ifeval-think --bench ifeval --data "$DATA" --mode think --checkpoint tiny
      ;;
  esac
done
log "done"
