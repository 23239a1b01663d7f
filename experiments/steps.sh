# Sourced by the experiment scripts (after they set ROOT and PY): records the machine in
# $ROOT/hardware.txt, and `step NAME CMD...` runs CMD once (skipped when NAME is already in
# $TIMINGS, so a rerun resumes), logs its output to $ROOT/logs/NAME.log and its wall time and command to
# $TIMINGS. A failed step leaves $ROOT/FAILED and shows the end of its log.
mkdir -p "$ROOT/logs"
TIMINGS="$ROOT/timings.tsv"
[ -f "$TIMINGS" ] || printf "step\tseconds\tcommand\n" > "$TIMINGS"
{ date -u; uname -a; "$PY" -c "import torch; print('torch', torch.__version__, 'cuda' if torch.cuda.is_available() else 'cpu', torch.cuda.get_device_name() if torch.cuda.is_available() else '', torch.get_num_threads(), 'threads')"; } > "$ROOT/hardware.txt"

step() {
  local name=$1; shift
  if grep -q "^$name	" "$TIMINGS"; then echo "[skip] $name (done)"; return 0; fi
  echo "[$(date +%H:%M:%S)] $name"
  local start=$SECONDS
  if ! "$@" > "$ROOT/logs/$name.log" 2>&1; then
    touch "$ROOT/FAILED"; echo "FAILED: $name (see $ROOT/logs/$name.log)" >&2; tail -n 20 "$ROOT/logs/$name.log" >&2; return 1
  fi
  printf "%s\t%d\t%s\n" "$name" "$((SECONDS - start))" "$*" >> "$TIMINGS"
}
