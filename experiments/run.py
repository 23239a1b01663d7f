"""Run an experiment's steps (experiments/manifest.py), resumably, several at once.

    python experiments/run.py reference runs/reference            # everything, two steps at a time
    python experiments/run.py diagnosis runs/diagnosis --jobs 2
    python experiments/run.py reference runs/reference --only 'gan-std-*'   # a subset (shell-style pattern)
    python experiments/run.py reference runs/reference --list     # what is done, what is left

A step that finished is recorded in ROOT/steps.tsv (its wall time and command) and skipped on the next
run, so an experiment can run in pieces where a job's time is limited. A training step cut off midway
resumes from its newest checkpoint (`train.py --resume`); any other step cut off midway starts again
after its half-written folder is removed. Each step's output goes to ROOT/logs/<name>.log. Each step
runs with one thread unless OMP_NUM_THREADS says otherwise (these networks are too small for two threads
to help one job, so two jobs at once finish sooner, and two runners on one machine do not oversubscribe
its cores). A failed step is reported with the end of its log; the steps that need
it are skipped, the others go on, and the exit code is 1.

`--records DIR` keeps a ledger of finished steps that outlives the experiment's folder (the project keeps
its own in experiments/records/<experiment>/, under version control, because a machine's ignored run
folders do not always survive it): each finished step's files are copied there beside its row of
steps.tsv, except training state (checkpoints/, snapshots/) and what only watched a run train (samples/,
tb/), which a finished step does not need, and files over 4 MiB (a retrieval index), which it does and
which are named in the row's `left_out`. On the next run, every recorded step is put back into ROOT and
counted as done. A step whose record left a file out comes back without it, and runs again only when a step
that needs it is to run (such a file is one its step makes exactly again: a retrieval index is a function of
the classifier and the training set); the evaluations inside its folder then come back from the ledger
instead of running again. So a new machine rebuilds RESULTS from the ledger without rebuilding any index.
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
RECORD_LIMIT = 4 * 2**20  # bytes: a larger file (a retrieval index, rebuilt in a minute) is left out of a record
# Training state, which a finished run does not need again, and what only watched it train (sample grids,
# TensorBoard's copy of stats.jsonl): a ledger keeps the snapshot, the config, the stats and the log.
NOT_RECORDED = ("checkpoints", "snapshots", "samples", "tb")


def finished(root: Path) -> dict[str, dict]:
    """The steps recorded as finished in ROOT/steps.tsv, by name."""
    path = root / STEPS_FILE
    if not path.is_file():
        return {}
    with open(path) as f:
        return {row["step"]: row for row in csv.DictReader(f, delimiter="\t")}


def record(root: Path, step: Step, seconds: float, argv: list[str] | str, left_out: list[str] | None = None) -> None:
    """A row of ROOT/steps.tsv; a ledger (`--records`) has a fourth column, the files left out of the record."""
    path = root / STEPS_FILE
    new = not path.is_file()
    command = argv if isinstance(argv, str) else " ".join(argv)
    if left_out is not None:  # a ledger travels between machines: paths inside the repository are relative
        command = command.replace(f"{ROOT}{os.sep}", "")
    with open(path, "a") as f:
        if new:
            f.write("step\tseconds\tcommand" + ("\tleft_out" if left_out is not None else "") + "\n")
        f.write(
            f"{step.name}\t{float(seconds):.0f}\t{command}"
            + (f"\t{' '.join(left_out)}" if left_out is not None else "")
            + "\n"
        )


def _inside(path: str, folder: str) -> bool:
    return Path(path) != Path(folder) and Path(folder) in Path(path).parents


def step_files(exp: Experiment, step: Step, root: Path) -> list[Path]:
    """The files that are this step's own, relative to root: its output (without training state, locks,
    staging folders, and the outputs of other steps inside it) and its log and wall time."""
    out = root / step.output
    inner = [root / s.output for s in exp.steps if _inside(s.output, step.output)]
    files = [out] if out.is_file() else []
    for path in sorted(out.rglob("*")) if out.is_dir() else []:
        rel = path.relative_to(out)
        if not path.is_file() or rel.parts[0] in NOT_RECORDED or any(p in (".lock", ".staging") for p in rel.parts):
            continue
        if not any(i == path or i in path.parents for i in inner):
            files.append(path)
    stem = step.name.replace("/", "--")
    files += [p for p in (root / "logs" / f"{stem}.log", root / "logs" / f"{stem}.seconds") if p.is_file()]
    return [p.relative_to(root) for p in files]


def archive(exp: Experiment, step: Step, root: Path, records: Path, seconds: float, argv: list[str] | str) -> list[str]:
    """Copy a finished step's files into the ledger and add its row; returns the files left out."""
    left_out = []
    for rel in step_files(exp, step, root):
        if (root / rel).stat().st_size > RECORD_LIMIT:
            left_out.append(str(rel))
            continue
        (records / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root / rel, records / rel)
    record(records, step, seconds, argv, left_out)
    return left_out


def restore(exp: Experiment, root: Path, records: Path) -> list[str]:
    """Put back into ROOT the recorded steps, with the files their records kept (in the manifest's order, so
    that a step inside another's folder comes back only when that one did); returns their names."""
    root.mkdir(parents=True, exist_ok=True)
    kept, done, back = finished(records), finished(root), []
    for step in exp.steps:
        row = kept.get(step.name)
        if step.name in done or row is None:
            continue
        if any(s.name not in done for s in exp.steps if _inside(step.output, s.output)):
            continue
        for rel in step_files(exp, step, records):
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(records / rel, root / rel)
        record(root, step, row["seconds"], row["command"])
        done[step.name] = row
        back.append(step.name)
    return back


def lacking(root: Path, records: Path) -> dict[str, list[str]]:
    """The steps done in ROOT whose record left out files that ROOT does not have, with those files: they
    run again before a step that needs them."""
    done, out = finished(root), {}
    for name, row in finished(records).items():
        files = [f for f in (row.get("left_out") or "").split() if not (root / f).exists()]
        if files and name in done:
            out[name] = files
    return out


def forget(root: Path, names: set[str]) -> None:
    """Take these steps out of ROOT/steps.tsv (a step about to run again, and the evaluations inside its
    folder, which its new run removes and the ledger puts back)."""
    path = root / STEPS_FILE
    header, *rows = path.read_text().splitlines(keepends=True)
    path.write_text(header + "".join(r for r in rows if r.split("\t", 1)[0] not in names))


def sync(exp: Experiment, root: Path, records: Path) -> None:
    """Bring ROOT and the ledger up to date with each other: recorded steps back into ROOT, and steps that
    finished in ROOT without the ledger (a run started without --records) into it."""
    back = restore(exp, root, records)
    if back:
        print(f"restored {len(back)} finished steps from {records}", flush=True)
    kept, done, added = finished(records), finished(root), []
    for step in exp.steps:
        row = done.get(step.name)
        if row is not None and step.name not in kept:
            archive(exp, step, root, records, float(row["seconds"]), row["command"])
            added.append(step.name)
    if added:
        print(f"recorded {len(added)} finished steps in {records}: {', '.join(added)}", flush=True)


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


def step_environment(environ) -> dict:
    """The steps' environment: offline, and one thread per step unless the caller chose a number. Also with
    --jobs 1: two runners sharing a machine's cores would otherwise each run two-thread steps, and on a
    2-core CPU four busy threads made every step several times slower than one thread each."""
    env = dict(environ, HF_HUB_OFFLINE="1")
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(name, "1")
    return env


def run(exp: Experiment, root: Path, jobs: int, patterns: list[str], py: str, records: Path | None = None) -> int:
    root.mkdir(parents=True, exist_ok=True)
    hardware(root, py)
    if records is not None:
        sync(exp, root, records)
    done = finished(root)
    todo = [s for s in selected(exp, patterns) if s.name not in done]
    wanted = {s.name for s in todo}
    comes_back: dict[str, set[str]] = {}  # a step run again -> the evaluations in its folder the ledger puts back
    if records is not None:
        # A step put back without a file its record left out runs again first, if a step to run needs it.
        missing = lacking(root, records)
        rebuild = [s for s in exp.steps if s.name in missing and any(s.name in t.needs for t in todo)]
        for step in rebuild:
            names = {step.name} | {s.name for s in exp.steps if _inside(s.output, step.output) and s.name in done}
            forget(root, names)
            for name in names:
                done.pop(name)
            wanted |= names
            comes_back[step.name] = names - {step.name}
        todo = rebuild + todo
    env = step_environment(os.environ)
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
                step, code, seconds, _ = future.result()
                del running[future]
                # The record names the step's own command, which reproduces it from nothing, even when the
                # attempt that finished was a `--resume` (its wall time counts every attempt).
                argv = step.argv(str(root), py)
                if code == 0:
                    record(root, step, seconds, argv)
                    done[step.name] = {"seconds": seconds}
                    print(f"[{time.strftime('%H:%M:%S')}] done {step.name} ({seconds / 60:.1f} min)", flush=True)
                    if records is not None and step.name in finished(records):
                        # It ran again to rebuild what its record left out: the ledger keeps its first record,
                        # and the evaluations inside its folder come back from there.
                        back = restore(exp, root, records)
                        done.update({name: row for name, row in finished(root).items() if name in back})
                        todo[:] = [s for s in todo if s.name not in back]
                        for name in back:
                            print(f"  restored {name} from {records}", flush=True)
                        failed |= comes_back.get(step.name, set()) - set(done)
                    elif records is not None:
                        left_out = archive(exp, step, root, records, seconds, argv)
                        if left_out:
                            print(f"  recorded without {', '.join(left_out)} (over 4 MiB)", flush=True)
                else:
                    failed |= {step.name} | comes_back.get(step.name, set())
                    log = root / "logs" / f"{step.name.replace('/', '--')}.log"
                    tail = "".join(log.read_text().splitlines(keepends=True)[-15:])
                    print(f"FAILED {step.name} (exit {code}; {log}):\n{tail}", file=sys.stderr, flush=True)
    return 1 if failed else 0


def listing(exp: Experiment, root: Path, patterns: list[str], records: Path | None = None) -> int:
    done = finished(root)
    missing = lacking(root, records) if records is not None else {}
    for step in selected(exp, patterns):
        row = done.get(step.name)
        state = f"done ({int(row['seconds']) / 60:.1f} min)" if row else "to do"
        if step.name in missing:
            state += f", without {' '.join(missing[step.name])} (rebuilt when a step needs it)"
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
    p.add_argument(
        "--records",
        help="a ledger folder of finished steps (the project's: experiments/records/<experiment>): each finished "
        "step is copied there, and recorded steps missing from ROOT are put back before anything runs",
    )
    args = p.parse_args(argv)
    if args.jobs < 1:
        p.error("--jobs must be at least 1")
    exp, root = experiment(args.experiment), Path(args.root).resolve()
    records = Path(args.records).resolve() if args.records else None
    if args.list:
        if records is not None:
            sync(exp, root, records)
        return listing(exp, root, args.only, records)
    return run(exp, root, args.jobs, args.only, args.python, records)


if __name__ == "__main__":
    sys.exit(main())
