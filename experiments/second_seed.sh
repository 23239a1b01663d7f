#!/usr/bin/env bash
# A second training run of each CPU reference inverter (train.seed=1; the shipped ones are seed 0), the
# standard and the robust track side by side, one thread each, then the fidelity table of each on all
# 10,000 test images. With the seed-0 inverters' numbers (experiments/ema_statistics.py, standing
# statistics: what the current trainer writes), it measures how much a number moves between training
# runs, which the bootstrap intervals over test images do not. Resumable like fmnist_reference.sh.
#
#   bash experiments/second_seed.sh [ROOT]        # default runs/second-seed; about 50 min on 2 cores
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=${1:-runs/second-seed}
SEED=${SEED:-1}
PY=${PY:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
EVAL=checkpoints/fmnist/evaluator.safetensors
source experiments/steps.sh

track() {
  local kind=$1 name="$1-seed$SEED"
  if [ -d "$ROOT/$name" ] && ! grep -q "^inverter-$kind	" "$TIMINGS"; then rm -rf "${ROOT:?}/$name"; fi
  step "inverter-$kind" "$PY" train.py --config configs/fmnist_cpu.yaml name="$name" runs_dir="$ROOT" \
    train.seed="$SEED" classifier.checkpoint="checkpoints/fmnist/classifier-$kind.safetensors"
  step "fidelity-$kind" "$PY" evaluate.py fidelity --run "$ROOT/$name" --evaluator "$EVAL"
}

track std & std_pid=$!
track robust & robust_pid=$!
wait "$std_pid"; wait "$robust_pid"
echo "done: $ROOT"
