#!/usr/bin/env bash
# Put Fashion-MNIST where torchvision and this project look for it: ROOT/FashionMNIST/raw/.
# Source: Debian's dataset-fashion-mnist package (installed here when missing and we are root);
# without it, the first training run lets torchvision download the files instead.
set -euo pipefail
root=${1:-data}
src=/usr/share/datasets/fashion-mnist
if [ ! -d "$src" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing Debian's dataset-fashion-mnist"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist) >/dev/null
fi
mkdir -p "$root/FashionMNIST/raw"
if [ -d "$src" ]; then
  for f in "$src"/*-ubyte.gz; do
    out="$root/FashionMNIST/raw/$(basename "${f%.gz}")"
    [ -s "$out" ] || gunzip -c "$f" > "$out"
  done
  echo "Fashion-MNIST ready in $root/FashionMNIST/raw"
else
  echo "Fashion-MNIST package not available (not root, or no apt-get): torchvision will download it on first use" >&2
fi
