#!/usr/bin/env bash
# The prepared GPU check (benchmarks/gpu_check.py): environment and measured bf16 rate, the CUDA tests,
# the speed race against the peer yardstick, and a GPU quality point, in under nine minutes.
#   bash benchmarks/gpu_check.sh OUT_DIR [--peer PEER_SCRIPT] [--data-root DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python3}
[ -x .venv/bin/python ] && PY=.venv/bin/python
exec "$PY" benchmarks/gpu_check.py "$@"
