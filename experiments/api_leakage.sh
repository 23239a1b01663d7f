#!/usr/bin/env bash
# What does a prediction API leak? One GAN inverter and one pixel-loss decoder per output kind of the
# shipped standard and robust classifiers (classifier.output: logits, softmax, top-5, top-1 with its
# class, probabilities rounded to 2 decimals, label only, and log-probabilities: the softmax with the
# log taken by the attacker), all with the CPU reference inverters' config
# and budget (configs/fmnist_cpu.yaml, 4,000 steps, seed 0), each scored by the fidelity table on all
# 10,000 test images; then one grid of the same test images under every output kind. The table, the
# figure and the verdict go into docs/RESULTS.md through experiments/collect_results.py --leakage ROOT.
#
#   bash experiments/api_leakage.sh [ROOT]           # default runs/api-leakage
#   JOBS=12 bash experiments/api_leakage.sh ROOT     # 12 units at once (a GPU); default 2, one thread each
#
# A unit is one (classifier, output kind): GAN inverter, its fidelity, decoder, its fidelity. On this
# project's 2-core CPU a unit takes about 70 minutes, the whole experiment about eight hours; a rerun
# skips the steps already in ROOT/timings.tsv, so it can run in pieces.
set -euo pipefail
cd "$(dirname "$0")/.."
export ROOT=${1:-runs/api-leakage}
export PY=${PY:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
JOBS=${JOBS:-2}
export HF_HUB_OFFLINE=1
if [ "$JOBS" -le 2 ]; then export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1; fi
export CONFIG=configs/fmnist_cpu.yaml EVAL=checkpoints/fmnist/evaluator.safetensors STEPS=4000
# The floor and the ceiling first, so that a partial run already brackets the others; log_softmax, which
# any attacker can compute from softmax, last.
KINDS="label logits softmax topk:1 topk:5 round:2 log_softmax"
source experiments/steps.sh
export TIMINGS

# unit CLASSIFIER KIND: the GAN inverter and the decoder of that classifier's KIND outputs, and their tables.
unit() {
  local cls=$1 kind=$2 slug
  slug=$(echo "$2" | tr -d ':')
  local ckpt="checkpoints/fmnist/classifier-$cls.safetensors" gan="gan-$cls-$slug" dec="decoder-$cls-$slug"
  # A training cut off midway is started again from scratch.
  if [ -d "$ROOT/$gan" ] && ! grep -q "^$gan	" "$TIMINGS"; then rm -rf "${ROOT:?}/$gan"; fi
  if [ -d "$ROOT/$dec" ] && ! grep -q "^$dec	" "$TIMINGS"; then rm -rf "${ROOT:?}/$dec"; fi
  step "$gan" "$PY" train.py --config "$CONFIG" name="$gan" runs_dir="$ROOT" classifier.checkpoint="$ckpt" \
    classifier.output="$kind"
  step "fidelity-$gan" "$PY" evaluate.py fidelity --run "$ROOT/$gan" --evaluator "$EVAL"
  step "$dec" "$PY" evaluate.py baseline decoder --classifier "$ckpt" --config "$CONFIG" --out "$ROOT/$dec" \
    --steps "$STEPS" classifier.output="$kind"
  step "fidelity-$dec" "$PY" evaluate.py fidelity --run "$ROOT/$dec" --evaluator "$EVAL"
}
export -f step unit

for kind in $KINDS; do for cls in std robust; do echo "$cls $kind"; done; done \
  | xargs -P "$JOBS" -L 1 bash -c 'unit "$0" "$1"'
step grid "$PY" experiments/leakage_grid.py "$ROOT" --out "$ROOT/grid.png"
echo "done: $ROOT (timings in $TIMINGS); then: python experiments/collect_results.py runs/reference-shipped --leakage $ROOT"
