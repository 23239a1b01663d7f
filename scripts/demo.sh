#!/usr/bin/env bash
# `make demo`. With the shipped networks in checkpoints/fmnist/ (the usual case): reconstruct
# Fashion-MNIST test images from the logits of the standard and the robust classifier, score them on
# 1,000 test images, write one HTML report and the browser explorer, in a few CPU minutes. Without
# them: train a small classifier and a CPU-sized inverter, as before the networks were shipped.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
export HF_HUB_OFFLINE=1
SHIPPED=checkpoints/fmnist
OUT=demo

if [ -f "$SHIPPED/inverter-std.safetensors" ] && [ -f "$SHIPPED/inverter-robust.safetensors" ] \
   && [ -f "$SHIPPED/evaluator.safetensors" ]; then
  rm -rf "$OUT"
  start=$SECONDS
  # The default recipe's inverters, and the paper recipe's and the candidate recipe's (G twice as wide)
  # beside them when shipped.
  runs=()
  for name in std robust paper-std paper-robust wide-std wide-robust; do
    run="$SHIPPED/inverter-$name.safetensors"
    [ -f "$run" ] || continue
    runs+=("$OUT/$name")
    echo "== $run"
    "$PY" evaluate.py grid --run "$run" --n 32 --noise-draws 3 --out "$OUT/$name/eval/grid"
    "$PY" evaluate.py fidelity --run "$run" --evaluator "$SHIPPED/evaluator.safetensors" --limit 1000 \
      --out "$OUT/$name/eval/fidelity-1000"
    "$PY" evaluate.py manipulate --run "$run" --edit interpolate --evaluator "$SHIPPED/evaluator.safetensors" \
      --out "$OUT/$name/eval/manipulate-interpolate"
  done
  "$PY" evaluate.py report --runs "${runs[@]}" --out "$OUT/report" \
    --title "make demo: the shipped Fashion-MNIST inverters (default recipe, the paper's, and the candidate with G twice as wide)"
  # The browser explorer needs ONNX Runtime Web, fetched from the npm registry the first time: without
  # network (and no cached copy) the rest of the demo still stands, and the message says what to do.
  explorer="not written (see the message above)"
  explore=(--run "$SHIPPED/inverter-std.safetensors" --run "$SHIPPED/inverter-robust.safetensors")
  # The page puts at most four side by side: the candidates first, then the paper's recipe while room is left.
  for name in wide-robust wide-std paper-std paper-robust; do
    [ ${#explore[@]} -lt 8 ] && [ -f "$SHIPPED/inverter-$name.safetensors" ] \
      && explore+=(--run "$SHIPPED/inverter-$name.safetensors")
  done
  if "$PY" evaluate.py explore "${explore[@]}" --out "$OUT/explorer" \
      --title "Fashion-MNIST: the inverters of the standard and the robust classifier"; then
    explorer="$OUT/explorer/index.html"
  fi
  echo
  echo "grids (each test image, its reconstruction at noise 0, then 3 noise draws): $OUT/std/eval/grid/grid.png $OUT/robust/eval/grid/grid.png"
  echo "fidelity on 1,000 test images: $OUT/std/eval/fidelity-1000/fidelity.md $OUT/robust/eval/fidelity-1000/fidelity.md"
  echo "everything side by side: $OUT/report/index.html"
  echo "drag a logit, watch the reconstruction (opens from disk, offline): $explorer"
  echo "make demo took $((SECONDS - start)) s"
else
  echo "no shipped networks in $SHIPPED/: training a small classifier and a CPU-sized inverter instead"
  CLASSIFIER=runs/classifiers/fmnist_vgg_small/classifier.safetensors
  [ -f "$CLASSIFIER" ] || "$PY" -m classifiers.train --config configs/classifiers/fmnist_vgg_small.yaml
  rm -rf runs/demo
  "$PY" train.py --config configs/demo.yaml classifier.checkpoint="$CLASSIFIER"
  echo
  echo "demo grid (each original followed by two reconstructions from its logits): $(ls runs/demo/samples/*.png | tail -n 1)"
  echo "all grids: runs/demo/samples/   snapshot: runs/demo/snapshot.safetensors   logs: tensorboard --logdir runs/demo/tb"
fi
