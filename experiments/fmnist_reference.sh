#!/usr/bin/env bash
# The reference experiment (docs/DESIGN.md, "The reference experiment") end to end on Fashion-MNIST:
# a standard and a robust classifier of one architecture, an independent evaluator, one inverter against each
# classifier (same config, same budget), both baselines, every evaluate.py table and the probes'
# headline numbers. Everything lands in ROOT; ROOT/timings.tsv holds each step's wall time and
# command, ROOT/logs/ each step's output.
#
#   bash experiments/fmnist_reference.sh cpu [ROOT]      # 2-core CPU sizes (about two hours)
#   bash experiments/fmnist_reference.sh gpu [ROOT]      # the GPU configs (configs/fmnist.yaml)
#   bash experiments/fmnist_reference.sh shipped [ROOT]  # no training: every evaluation of the networks in
#                                                        # checkpoints/fmnist/ (the cpu profile's, shipped)
#
# On a machine without network access, put Fashion-MNIST's files in data/FashionMNIST/raw/ first
# (scripts/get_fashion_mnist.sh). A rerun skips the steps already in timings.tsv, so the script can
# run in pieces where a job's time is limited; a step cut off midway starts again from scratch, after
# its half-written output folder is removed.
#
# On the CPU the standard and the robust track run side by side, one thread each: these networks
# are too small for two threads to help one job, so two jobs finish sooner.
set -euo pipefail
cd "$(dirname "$0")/.."

PROFILE=${1:?usage: fmnist_reference.sh cpu|gpu|shipped [ROOT]}
ROOT=${2:-runs/reference-$PROFILE}
PY=${PY:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
export HF_HUB_OFFLINE=1

case "$PROFILE" in
  cpu)
    CLS_STD=configs/classifiers/fmnist_cpu.yaml
    CLS_ROBUST=configs/classifiers/fmnist_cpu_robust.yaml
    CLS_EVAL=configs/classifiers/fmnist_cpu_evaluator.yaml
    INVERTER=configs/fmnist_cpu.yaml
    TRAIN=("$PY" train.py)
    export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
    PARALLEL=1
    DECODER_STEPS=4000
    ;;
  shipped)
    INVERTER=configs/fmnist_cpu.yaml
    export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
    PARALLEL=1
    DECODER_STEPS=4000
    ;;
  gpu)
    CLS_STD=configs/classifiers/fmnist_resnet18.yaml
    CLS_ROBUST=configs/classifiers/fmnist_resnet18_robust.yaml
    CLS_EVAL=configs/classifiers/fmnist_evaluator.yaml
    INVERTER=configs/fmnist.yaml
    TRAIN=(accelerate launch --num_processes 1 train.py)
    PARALLEL=0
    DECODER_STEPS=10000
    ;;
  *) echo "unknown profile '$PROFILE' (cpu, gpu or shipped)" >&2; exit 2 ;;
esac

source experiments/steps.sh
rm -f "$ROOT/FAILED"

CLS="$ROOT/classifiers"
EVAL="$CLS/evaluator/classifier.safetensors"

# classifier NAME CONFIG: robust training ends with PGD-20 at its own eps on the whole test split;
# then both get PGD-20 and AutoAttack (APGD-CE + APGD-T) from classifiers.evaluate on 1,000 test
# images. The shipped profile copies the shipped networks into the same places instead of training.
classifier() {
  if [ "$PROFILE" = shipped ] && ! grep -q "^classifier-$1	" "$TIMINGS"; then
    mkdir -p "$CLS/$1" && cp "checkpoints/fmnist/$([ "$1" = evaluator ] && echo evaluator || echo "classifier-$1").safetensors" "$CLS/$1/classifier.safetensors"
    printf "classifier-%s\t0\tcopied from checkpoints/fmnist\n" "$1" >> "$TIMINGS"
    if [ "$1" != evaluator ]; then  # the inverter's run folder: the shipped snapshot and the classifier it names
      mkdir -p "$ROOT/$1" && cp "checkpoints/fmnist/inverter-$1.safetensors" "$ROOT/$1/snapshot.safetensors"
      cp "checkpoints/fmnist/classifier-$1.safetensors" "$ROOT/$1/"
    fi
  elif [ "$PROFILE" != shipped ]; then
    step "classifier-$1" "$PY" -m classifiers.train --config "$2" name="$1" runs_dir="$CLS"
  fi
  if [ "$1" != evaluator ]; then
    step "classifier-$1-attacks" "$PY" -m classifiers.evaluate "$CLS/$1/classifier.safetensors" --norm linf --eps 0.1 \
      --steps 20 --autoattack-steps 100 --samples 1000
  fi
}

wait_for_evaluator() {
  until grep -q "^classifier-evaluator	" "$TIMINGS"; do
    [ ! -f "$ROOT/FAILED" ] || return 1
    sleep 20
  done
}

# track KIND: classifier, inverter, baselines and every evaluate.py command for one classifier.
track() {
  local kind=$1 ckpt="$CLS/$1/classifier.safetensors" run="$ROOT/$1"
  if [ "$PROFILE" != shipped ]; then
    step "inverter-$kind" "${TRAIN[@]}" --config "$INVERTER" name="$kind" runs_dir="$ROOT" classifier.checkpoint="$ckpt"
  fi
  wait_for_evaluator
  step "grid-$kind" "$PY" evaluate.py grid --run "$run" --n 32 --noise-draws 3
  step "fidelity-$kind" "$PY" evaluate.py fidelity --run "$run" --evaluator "$EVAL"
  step "fidelity-limit1000-$kind" "$PY" evaluate.py fidelity --run "$run" --evaluator "$EVAL" --limit 1000 \
    --out "$run/eval/fidelity-limit1000"
  for edit in shift scale noise interpolate swap-top2; do
    step "manipulate-$edit-$kind" "$PY" evaluate.py manipulate --run "$run" --edit "$edit" --evaluator "$EVAL"
  done
  step "invariance-$kind" "$PY" evaluate.py invariance --run "$run" --evaluator "$EVAL"
  step "adversarial-$kind" "$PY" evaluate.py adversarial --run "$run" --evaluator "$EVAL"
  step "ood-digits-$kind" "$PY" evaluate.py ood --run "$run" --images sklearn-digits
  step "ood-photos-$kind" "$PY" evaluate.py ood --run "$run" --images skimage-samples
  # The baselines last: the longest steps, and nothing above needs them.
  step "decoder-$kind" "$PY" evaluate.py baseline decoder --classifier "$ckpt" --config "$INVERTER" \
    --out "$ROOT/decoder-$kind" --steps "$DECODER_STEPS"
  step "fidelity-decoder-$kind" "$PY" evaluate.py fidelity --run "$ROOT/decoder-$kind" --evaluator "$EVAL"
  step "optimize-$kind" "$PY" evaluate.py baseline optimize --classifier "$ckpt" --evaluator "$EVAL" \
    --config "$INVERTER" --limit 1000 --out "$ROOT/optimize-$kind"
}

if [ "$PARALLEL" = 1 ]; then
  ( classifier std "${CLS_STD:-}"; classifier evaluator "${CLS_EVAL:-}"; track std ) &
  std_pid=$!
  ( classifier robust "${CLS_ROBUST:-}"; track robust ) &
  robust_pid=$!
  wait "$std_pid"; wait "$robust_pid"
  unset OMP_NUM_THREADS MKL_NUM_THREADS
else
  classifier std "$CLS_STD"; classifier robust "$CLS_ROBUST"; classifier evaluator "$CLS_EVAL"
  track std; track robust
fi

step probe-softmax-invariant "$PY" evaluate.py probe softmax-invariant --classifier "$CLS/std/classifier.safetensors" \
  "$CLS/robust/classifier.safetensors" --evaluator "$EVAL" --out "$ROOT/probes/softmax-invariant"
# Every method on the same test images (needs both inverters and both decoders).
step comparison-figure "$PY" experiments/comparison_figure.py "$ROOT" --out "$ROOT/comparison.png"
step report "$PY" evaluate.py report --runs "$ROOT/std" "$ROOT/robust" --out "$ROOT/report" \
  --title "Fashion-MNIST reference experiment ($PROFILE)"
P="$ROOT/probes"
step probe-fingerprint "$PY" evaluate.py probe fingerprint --family cnn-activations --epochs 1 \
  --train-logits 1000 --test-logits 500 --out "$P/fingerprint"
step probe-features "$PY" evaluate.py probe features --models "$CLS/std/classifier.safetensors" \
  "$CLS/robust/classifier.safetensors" "$EVAL" --train-images 5000 --test-images 2000 --out "$P/features"
step probe-confidence "$PY" evaluate.py probe confidence --classifier "$CLS/std/classifier.safetensors" \
  "$CLS/robust/classifier.safetensors" --limit 1000 --steps 20 --out "$P/confidence"
step probe-novelty "$PY" evaluate.py probe novelty --arch vgg_small --width 8 --backbone-epochs 1 \
  --backbone-images 4000 --probe-images 1000 --test-images 500 --probe-epochs 5 --out "$P/novelty"
for kind in std robust; do
  step "probe-style-shift-$kind" "$PY" evaluate.py probe style-shift --classifier "$CLS/$kind/classifier.safetensors" \
    --pairs 32 --steps 100 --out "$P/style-shift-$kind"
done
echo "done: $ROOT (timings in $TIMINGS, report in $ROOT/report/)"
