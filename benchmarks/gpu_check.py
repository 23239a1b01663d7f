"""The prepared GPU check: everything the project wants to know from a GPU, in one command of under
nine minutes, so that a rare, short GPU loan is spent running it, not writing code.

    bash benchmarks/gpu_check.sh OUT_DIR [--peer PEER_SCRIPT] [--data-root DIR]
    python benchmarks/gpu_check.py OUT_DIR --smoke          # the CPU smoke mode make test runs (a minute)

Parts, each in its own process with its own time limit (a part that hangs cannot cost the rest;
what it wrote before its limit is kept), each writing OUT_DIR/<part>.json:

1. environment: GPU, driver, torch, and the dense bf16 matmul rate measured on the spot;
2. cuda-tests: the tests marked `gpu` (tests/test_gpu.py): a training step under
   torch.cuda.set_sync_debug_mode("error"), bf16 and compiled steps against fp32 eager, the snapshot
   round trip on CUDA;
3. speed: benchmarks/train_throughput.py, fast and eager fp32 at batch 50 and 256, and torch.profiler's
   table of three steps of each (profiles/, packed with the logs): where the time goes if a target
   is missed;
4. peer: the peer yardstick (--peer: BigGAN-PyTorch's own G and D), in the same call;
5. quality: the default recipe (configs/fmnist.yaml) against the shipped standard and robust
   classifiers, two processes at once for the minutes left, each scored on the 10,000 test images
   beside the retrieval lookup; the snapshots are copied into OUT_DIR.

Then OUT_DIR holds five files, as a lent GPU machine brings back only a few: gpu_check.json (every
part's numbers), gpu_check.md (the tables, the ratio project/peer, the share of the bf16 rate), the two
quality-point snapshots, and logs.tar.gz (every part's log); the parts work in --work (default
runs/gpu-check). A missing package is named in one line in its part.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
PARTS = ("environment", "cuda-tests", "speed", "peer", "quality")
LIMITS = {"environment": 40, "cuda-tests": 150, "speed": 170, "peer": 80}  # seconds; quality gets the rest
SMOKE_LIMITS = {"environment": 30, "cuda-tests": 60, "speed": 60, "peer": 30, "quality": 120}
EVALUATOR = "checkpoints/fmnist/evaluator.safetensors"


def write(out: Path, part: str, data: dict) -> None:
    (out / f"{part}.json").write_text(json.dumps(data, indent=1) + "\n")


def run(argv: list[str], timeout: float, log: Path, env: dict | None = None) -> dict:
    """A subprocess with a time limit; its output goes to `log`. Returns its exit code and time."""
    start = time.perf_counter()
    with open(log, "w") as f:
        try:
            code = subprocess.run(
                argv, cwd=ROOT, stdout=f, stderr=subprocess.STDOUT, timeout=timeout, env=env
            ).returncode
        except subprocess.TimeoutExpired:
            code = "timeout"
    return {"exit": code, "seconds": round(time.perf_counter() - start, 1), "log": log.name}


def tail(log: Path, lines: int = 12) -> str:
    return "".join(log.read_text(errors="replace").splitlines(keepends=True)[-lines:]) if log.is_file() else ""


# ------------------------------------------------------------------ the parts
def environment(out: Path, smoke: bool) -> dict:
    import torch

    info = {"torch": torch.__version__, "cuda": torch.cuda.is_available()}
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name()
        try:
            smi = ["nvidia-smi", "--query-gpu=driver_version,memory.total", "--format=csv,noheader"]
            info["driver"] = subprocess.run(smi, capture_output=True, text=True, timeout=20).stdout.strip()
        except (OSError, subprocess.TimeoutExpired) as err:
            info["driver"] = f"unknown ({err})"
    device = "cuda" if torch.cuda.is_available() else "cpu"
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    n, reps = (8192, 50) if device == "cuda" and not smoke else (256, 5)
    a, b = torch.randn(n, n, device=device, dtype=dtype), torch.randn(n, n, device=device, dtype=dtype)
    for _ in range(3):
        a @ b
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(reps):
        a @ b
    if device == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    info["matmul"] = {
        "n": n,
        "dtype": str(dtype).removeprefix("torch."),
        "tflop_per_s": 2 * n**3 * reps / seconds / 1e12,
    }
    return info


def cuda_tests(out: Path, smoke: bool) -> dict:
    log = out / "cuda-tests.log"
    report = out / "cuda-tests.xml"
    argv = [
        PY,
        "-m",
        "pytest",
        "-q",
        "-m",
        "gpu",
        "tests/test_gpu.py",
        "-p",
        "no:cacheprovider",
        f"--junitxml={report}",
    ]
    result = run(argv, SMOKE_LIMITS["cuda-tests"] if smoke else LIMITS["cuda-tests"] - 10, log)
    counts = {}
    if report.is_file():
        import xml.etree.ElementTree as ET

        suite = ET.parse(report).getroot()
        suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
        counts = {k: int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped")}
    return {**result, **counts, "tail": tail(log)}


def speed(out: Path, smoke: bool) -> dict:
    rows = out / "speed-rows.json"
    argv = [PY, "benchmarks/train_throughput.py", "--out", str(rows), "--profile-dir", str(out / "profiles")]
    if smoke:
        argv += ["--modes", "eager-fp32", "--batch-sizes", "4", "--iters", "2", "--warmup", "1", "--ch", "4"]
        argv += ["--d-steps", "2", "--compile", "no"]
    result = run(argv, SMOKE_LIMITS["speed"] if smoke else LIMITS["speed"] - 10, out / "speed.log")
    profiles = sorted(p.name for p in (out / "profiles").glob("*.txt"))  # packed with the logs
    return {
        **result,
        "rows": json.loads(rows.read_text()) if rows.is_file() else [],
        "profiles": profiles,
        "tail": tail(out / "speed.log"),
    }


def peer(out: Path, smoke: bool, script: str | None) -> dict:
    if not script:
        return {"skipped": "no --peer script given"}
    argv = [PY, script] + (["--device", "cpu", "--batch", "4", "--iters", "2"] if smoke else [])
    log = out / "peer.log"
    result = run(argv, SMOKE_LIMITS["peer"] if smoke else LIMITS["peer"] - 5, log)
    rows = []
    for line in log.read_text(errors="replace").splitlines() if log.is_file() else []:
        if line.startswith("{"):
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    return {**result, "rows": rows, "tail": tail(log)}


def quality(out: Path, smoke: bool, seconds: float, data_root: str | None, final: Path) -> dict:
    """Train the default recipe against both shipped classifiers at once for the time left, then score
    each and the retrieval lookup on the test images."""
    runs = out / "runs"
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    if smoke:
        config, extra = "configs/tiny.yaml", ["train.max_steps=2", "train.logit_stats_samples=64"]
        score = [
            "--limit",
            "64",
            "--candidates",
            "16",
            "--noise-draws",
            "1",
            "--reference-images",
            "100",
            "--no-realism",
        ]
        kinds = {"std": None, "robust": None}
    else:
        config, extra, score = "configs/fmnist.yaml", ["train.max_steps=1000000"], []
        kinds = {k: f"checkpoints/fmnist/classifier-{k}.safetensors" for k in ("std", "robust")}
    data = [f"data.root={data_root}"] if data_root else []
    # The training gets what is left after scoring (about two minutes on a GPU for both).
    train_minutes = max(0.2, (seconds - (40 if smoke else 150)) / 60)
    procs = {}
    for kind, checkpoint in kinds.items():
        argv = [PY, "train.py", "--config", config, f"name=gpu-{kind}", f"runs_dir={runs}", *extra, *data]
        argv += [f"train.max_minutes={train_minutes:.2f}"]
        if checkpoint:
            argv.append(f"classifier.checkpoint={checkpoint}")
        log = open(out / f"quality-train-{kind}.log", "w")
        procs[kind] = (subprocess.Popen(argv, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env), log)
    result = {"train_minutes": round(train_minutes, 2), "runs": {}}
    for kind, (proc, log) in procs.items():
        try:
            proc.wait(timeout=train_minutes * 60 + 120)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        result["runs"][kind] = {"train_exit": proc.returncode, "tail": tail(out / f"quality-train-{kind}.log", 4)}
    evaluator = EVALUATOR if not smoke else None
    for kind, checkpoint in kinds.items():
        run_dir = runs / f"gpu-{kind}"
        entry = result["runs"][kind]
        if not (run_dir / "snapshot.safetensors").is_file():
            continue
        shutil.copyfile(run_dir / "snapshot.safetensors", final / f"quality-{kind}.safetensors")
        stats = [json.loads(line) for line in (run_dir / "stats.jsonl").read_text().splitlines() if line.strip()]
        entry["steps"] = stats[-1]["step"] if stats else 0
        entry["images_per_s"] = stats[-1].get("images_per_s") if stats else None
        lookup = runs / f"lookup-{kind}"
        if checkpoint:
            build = [PY, "evaluate.py", "baseline", "retrieval", "--classifier", checkpoint, "--config", config]
            run([*build, "--out", str(lookup), *data], 120, out / f"quality-lookup-{kind}.log", env)
        for name, folder in (("gan", run_dir), ("lookup", lookup)):
            if not (folder / "snapshot.safetensors").is_file():
                continue
            argv = [PY, "evaluate.py", "fidelity", "--run", str(folder), *score]
            argv += ["--evaluator", evaluator] if evaluator else ["--evaluator", str(smoke_evaluator(out))]
            if data_root:
                argv += ["--data-root", data_root]
            run(argv, 240, out / f"quality-{name}-{kind}.log", env)
            path = folder / "eval" / "fidelity" / "results.json"
            if path.is_file():
                numbers = json.loads(path.read_text())["fidelity"]
                entry[name] = {
                    k: numbers[k]
                    for k in ("id_top1", "psnr", "top1_agreement", "fid[logit-inversion-evaluator]")
                    if k in numbers
                }
    return result


def smoke_evaluator(out: Path) -> Path:
    """A small random evaluator of the synthetic data's classes, for the smoke mode's scoring."""
    path = out / "smoke-evaluator.safetensors"
    if not path.is_file():
        sys.path.insert(0, str(ROOT))
        from classifiers import ClassifierInfo, save_classifier
        from classifiers.architectures import build_arch

        info = ClassifierInfo(10, 3, None, [0.5] * 3, [0.5] * 3, classes=[f"class{i}" for i in range(10)])
        save_classifier(path, build_arch("vgg_small", 10, 3, width=4), "vgg_small", 4, info, {"data": "synthetic"})
    return path


# ------------------------------------------------------------------ the summary
def summary(out: Path) -> dict:
    parts = {}
    for part in PARTS:
        path = out / f"{part}.json"
        parts[part] = json.loads(path.read_text()) if path.is_file() else {"missing": "the part wrote nothing"}
    return parts


def markdown(parts: dict) -> str:
    env = parts["environment"]
    rate = (env.get("matmul") or {}).get("tflop_per_s")
    lines = [
        "# GPU check",
        "",
        f"Device: {env.get('gpu', 'cpu')}; driver {env.get('driver', '-')}; torch {env.get('torch')}.",
    ]
    if rate:
        lines.append(f"Measured {env['matmul']['dtype']} matmul rate: {rate:.1f} TFLOP/s (n = {env['matmul']['n']}).")
    tests = parts["cuda-tests"]
    lines += [
        "",
        "## CUDA tests",
        "",
        f"{tests.get('tests', 0)} tests, {tests.get('failures', 0)} failures, "
        f"{tests.get('errors', 0)} errors, {tests.get('skipped', 0)} skipped (exit {tests.get('exit')}).",
    ]
    peer_rows = {r.get("batch"): r for r in parts["peer"].get("rows", [])}
    rows = []
    for r in parts["speed"].get("rows", []):
        peer_row = peer_rows.get(r["batch"])
        ratio = f"{r['real_images_per_s'] / peer_row['real_images_per_s']:.2f}" if peer_row else "-"
        share = f"{r['tflop_per_s'] / rate:.1%}" if rate and r.get("tflop_per_s") else "-"
        speed_cells = f"{r['real_images_per_s']:.0f} | {r.get('tflop_per_s', 0):.2f}"
        rows.append(f"| {r['mode']} | {r['batch']} | {speed_cells} | {share} | {ratio} |")
    for batch, r in sorted(peer_rows.items(), key=lambda kv: kv[0] or 0):
        speed_cells = f"{r['real_images_per_s']:.0f} | {r.get('tflop_per_s', 0):.2f}"
        rows.append(f"| BigGAN-PyTorch (peer) | {batch} | {speed_cells} | - | 1.00 |")
    lines += [
        "",
        "## Speed",
        "",
        "| run | batch | real images/s | TFLOP/s | share of measured matmul rate | x peer |",
        "| --- | --- | --- | --- | --- | --- |",
        *rows,
    ]
    lines += ["", "## Quality point", ""]
    q = parts["quality"]
    for kind, entry in q.get("runs", {}).items():
        gan, lookup = entry.get("gan", {}), entry.get("lookup", {})
        ident = gan.get("id_top1", {}).get("value")
        ref = lookup.get("id_top1", {}).get("value")
        lines.append(
            f"- {kind}: {entry.get('steps', 0)} steps (budget {q.get('train_minutes')} min); identification top-1 "
            f"{'-' if ident is None else f'{ident:.1%}'} (retrieval lookup {'-' if ref is None else f'{ref:.1%}'})"
        )
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("out", help="the folder to write into (created)")
    p.add_argument("--peer", help="the peer yardstick script (BigGAN-PyTorch's time_biggan.py)")
    p.add_argument(
        "--data-root",
        default=os.environ.get("FMNIST_ROOT"),
        help="where Fashion-MNIST lives (default $FMNIST_ROOT, else data/)",
    )
    p.add_argument("--budget-s", type=float, default=540, help="seconds for the whole check (default 540)")
    p.add_argument(
        "--smoke", action="store_true", help="tiny sizes on the CPU, about a minute: that every part writes its section"
    )
    p.add_argument("--work", default="runs/gpu-check", help="where the parts work and log (default runs/gpu-check)")
    p.add_argument("--part", choices=PARTS, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    final = Path(args.out).resolve()
    final.mkdir(parents=True, exist_ok=True)
    out = Path(args.work).resolve()
    out.mkdir(parents=True, exist_ok=True)
    if args.part:  # one part, in its own process
        start = time.perf_counter()
        try:
            if args.part == "environment":
                data = environment(out, args.smoke)
            elif args.part == "cuda-tests":
                data = cuda_tests(out, args.smoke)
            elif args.part == "speed":
                data = speed(out, args.smoke)
            elif args.part == "peer":
                data = peer(out, args.smoke, args.peer)
            else:
                data = quality(out, args.smoke, args.budget_s, args.data_root, final)
        except ImportError as err:
            data = {"missing_package": f"{err.name}: {err}"}
        data["part_seconds"] = round(time.perf_counter() - start, 1)
        write(out, args.part, data)
        return 0
    start = time.perf_counter()
    limits = SMOKE_LIMITS if args.smoke else LIMITS
    for part in PARTS:
        left = args.budget_s - (time.perf_counter() - start)
        limit = limits.get(part, left) if part != "quality" else (limits["quality"] if args.smoke else left - 15)
        if limit <= 10:
            write(out, part, {"skipped": "no time left"})
            continue
        argv = [PY, __file__, str(final), "--work", str(out), "--part", part, "--budget-s", str(limit)]
        argv += ["--smoke"] if args.smoke else []
        argv += ["--peer", args.peer] if args.peer else []
        argv += ["--data-root", args.data_root] if args.data_root else []
        result = run(argv, limit + 5, out / f"{part}.driver.log")
        if not (out / f"{part}.json").is_file():
            write(out, part, {"stopped": result, "tail": tail(out / f"{part}.driver.log")})
        print(f"{part}: {result['seconds']} s", flush=True)
    parts = summary(out)
    (final / "gpu_check.json").write_text(json.dumps(parts, indent=1) + "\n")
    (final / "gpu_check.md").write_text(markdown(parts))
    with tarfile.open(final / "logs.tar.gz", "w:gz") as tar:
        for log in sorted([*out.rglob("*.log"), *(out / "profiles").glob("*.txt")]):
            tar.add(log, arcname=str(log.relative_to(out)))
    print((final / "gpu_check.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
