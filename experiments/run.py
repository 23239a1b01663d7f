"""Run an experiment's steps (experiments/manifest.py), resumably, several at once.

    python experiments/run.py reference runs/reference            # everything, two steps at a time
    python experiments/run.py diagnosis runs/diagnosis --jobs 2
    python experiments/run.py reference runs/reference --only 'gan-std-*'   # a subset (shell-style pattern)
    python experiments/run.py reference runs/reference --list     # what is done, what is left

A step that finished is recorded in ROOT/steps.tsv (its wall time and command) and skipped on the next
run, so an experiment can run in pieces where a job's time is limited. A training step cut off midway
resumes from its newest checkpoint (`train.py --resume`); any other step cut off midway starts again
after its half-written folder is removed. Each step's output goes to ROOT/logs/<name>.log. On a CPU,
each step runs with one thread (these networks are too small for two threads to help one job, so two
jobs at once finish sooner). A failed step is reported with the end of its log; the steps that need
it are skipped, the others go on, and the exit code is 1.
"""

from __future__ import annotations

import argparse
import csv
import fnmatch
import os
import platform
import shutil
import subprocess
import sys
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from experiments.manifest import EXPERIMENTS, Experiment, Step, experiment  # noqa: E402

STEPS_FILE = "steps.tsv"


def finished(root: Path) -> dict[str, dict]:
    """The steps recorded as finished in ROOT/steps.tsv, by name."""
    path = root / STEPS_FILE
    if not path.is_file():
        return {}
    with open(path) as f:
        return {row["step"]: row for row in csv.DictReader(f, delimiter="\t")}


def record(root: Path, step: Step, seconds: float, argv: list[str]) -> None:
    path = root / STEPS_FILE
    new = not path.is_file()
    with open(path, "a") as f:
        if new:
            f.write("step\tseconds\tcommand\n")
        f.write(f"{step.name}\t{seconds:.0f}\t{' '.join(argv)}\n")


def hardware(root: Path, py: str) -> None:
    probe = (
        "import os, torch; print('torch', torch.__version__, torch.cuda.get_device_name() if "
        "torch.cuda.is_available() else 'cpu', os.cpu_count(), 'cores')"
    )
    torch_line = subprocess.run([py, "-c", probe], capture_output=True, text=True).stdout.strip()
    lines = [time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), platform.platform(), torch_line]
    (root / "hardware.txt").write_text("\n".join(lines) + "\n")


def command_for(step: Step, root: Path, py: str) -> list[str]:
    """The step's command. A step that did not finish left its output behind: a training run with a
    checkpoint resumes from it; anything else is removed and starts again."""
    out = root / step.output
    if step.trains and any((out / "checkpoints").glob("step-*")):
        return [py, "train.py", "--resume", str(out)]
    if out.is_dir():
        shutil.rmtree(out)
    elif out.exists():
        out.unlink()
    return step.argv(str(root), py)


def run_step(step: Step, root: Path, py: str, env: dict) -> tuple[Step, int, float, list[str]]:
    """Run one step; its wall time counts every attempt of a step that resumes: the time of attempts
    cut off earlier is kept in logs/<name>.seconds, brought up to date every minute."""
    argv = command_for(step, root, py)
    log = root / "logs" / f"{step.name.replace('/', '--')}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    clock = log.with_suffix(".seconds")
    resumes = "--resume" in argv
    before = float(clock.read_text()) if resumes and clock.is_file() else 0.0
    start = time.perf_counter()
    with open(log, "a" if resumes else "w") as f:
        f.write(" ".join(argv) + "\n")
        f.flush()
        proc = subprocess.Popen(argv, cwd=ROOT, stdout=f, stderr=subprocess.STDOUT, env=env)
        while True:
            try:
                code = proc.wait(timeout=60)
                break
            except subprocess.TimeoutExpired:
                clock.write_text(f"{before + time.perf_counter() - start:.0f}\n")
    seconds = before + time.perf_counter() - start
    clock.write_text(f"{seconds:.0f}\n")
    return step, code, seconds, argv


def selected(exp: Experiment, patterns: list[str]) -> list[Step]:
    if not patterns:
        return list(exp.steps)
    chosen = [s for s in exp.steps if any(fnmatch.fnmatchcase(s.name, p) for p in patterns)]
    if not chosen:
        raise SystemExit(f"error: no step of {exp.name} matches {' '.join(patterns)}")
    return chosen


def run(exp: Experiment, root: Path, jobs: int, patterns: list[str], py: str) -> int:
    root.mkdir(parents=True, exist_ok=True)
    hardware(root, py)
    done = finished(root)
    todo = [s for s in selected(exp, patterns) if s.name not in done]
    wanted = {s.name for s in todo}
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    if jobs > 1:
        env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    failed: set[str] = set()
    running: dict[Future, Step] = {}
    print(f"{exp.name}: {len(todo)} steps to run in {root} ({len(done)} already done), {jobs} at a time", flush=True)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        while todo or running:
            for step in list(todo):
                if len(running) >= jobs:
                    break
                # A need must be done already, or be in this selection and finish first.
                unmet = [n for n in step.needs if n in failed or (n not in done and n not in wanted)]
                if unmet:
                    print(f"skipped {step.name}: needs {', '.join(unmet)} (failed or not run yet)", flush=True)
                    failed.add(step.name)
                    todo.remove(step)
                    continue
                if any(n not in done for n in step.needs):
                    continue
                todo.remove(step)
                print(f"[{time.strftime('%H:%M:%S')}] {step.name}", flush=True)
                running[pool.submit(run_step, step, root, py, env)] = step
            if not running:
                continue
            complete, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in complete:
                step, code, seconds, argv = future.result()
                del running[future]
                if code == 0:
                    record(root, step, seconds, argv)
                    done[step.name] = {"seconds": seconds}
                    print(f"[{time.strftime('%H:%M:%S')}] done {step.name} ({seconds / 60:.1f} min)", flush=True)
                else:
                    failed.add(step.name)
                    log = root / "logs" / f"{step.name.replace('/', '--')}.log"
                    tail = "".join(log.read_text().splitlines(keepends=True)[-15:])
                    print(f"FAILED {step.name} (exit {code}; {log}):\n{tail}", file=sys.stderr, flush=True)
    return 1 if failed else 0


def listing(exp: Experiment, root: Path, patterns: list[str]) -> int:
    done = finished(root)
    for step in selected(exp, patterns):
        row = done.get(step.name)
        state = f"done ({int(row['seconds']) / 60:.1f} min)" if row else "to do"
        print(f"{step.name:45s} {state}")
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("experiment", choices=list(EXPERIMENTS), help="which experiment (experiments/manifest.py)")
    p.add_argument("root", help="the experiment's folder (created if missing)")
    p.add_argument("--jobs", type=int, default=2, help="steps at once (default 2: this project's 2-core CPU)")
    p.add_argument("--only", nargs="*", default=[], help="run only the steps whose names match these patterns")
    p.add_argument("--list", action="store_true", help="list the steps and which are done; run nothing")
    p.add_argument("--python", default=sys.executable, help="the Python that runs the steps (default: this one)")
    args = p.parse_args(argv)
    if args.jobs < 1:
        p.error("--jobs must be at least 1")
    exp, root = experiment(args.experiment), Path(args.root).resolve()
    if args.list:
        return listing(exp, root, args.only)
    return run(exp, root, args.jobs, args.only, args.python)


if __name__ == "__main__":
    sys.exit(main())
