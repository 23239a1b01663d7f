"""Training throughput of this project's trainer at BigGAN-PyTorch's CIFAR configuration (a benchmark,
not a test).

32 px, 3 channels, ch 64, no attention, 4 D steps per G step, a small frozen classifier (random
weights: speed does not depend on them) in the loop, synthetic data resident on the device. Two
modes of the same models, each (mode, batch size) in its own process since accelerate's settings
are process-wide:

  fast        bf16 autocast, channels_last, fused Adam, torch.compile (reduce-overhead: CUDA graphs)
  eager-fp32  plain fp32, eager, NCHW, for-each Adam: the in-run baseline

    python benchmarks/train_throughput.py                         # both modes, batch 50 and 256
    python benchmarks/train_throughput.py --compile default       # fast mode without CUDA graphs
    python benchmarks/train_throughput.py --modes eager-fp32 --batch-sizes 8 --iters 3 --ch 8   # CPU smoke

Reported per run: iterations/s (one iteration = 4 D steps + 1 G step + the EMA update), real images/s
(batch x D steps x it/s), the FLOPs of one iteration (PyTorch's FLOP counter, counted on an eager
step since compiled kernels are invisible to it), achieved TFLOP/s, the share of the GPU's dense bf16
peak, the speed-up over eager fp32 at the same batch size, and the warm-up time (compilation).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Dense (no sparsity) bf16 tensor-core peaks from the vendors' data sheets, in TFLOP/s; the first
# name found in torch.cuda.get_device_name() wins.
BF16_PEAK = {"H100 PCIe": 756.0, "H100 NVL": 835.0, "H100": 989.0, "H200": 989.0, "A100": 312.0}

MODES = {
    "fast": {"mixed_precision": "bf16", "channels_last": "yes", "fused_adam": "yes", "compile": "reduce-overhead"},
    "eager-fp32": {"mixed_precision": "no", "channels_last": "no", "fused_adam": "no", "compile": "no"},
}


def bf16_peak(device_name: str) -> float | None:
    return next((v for k, v in BF16_PEAK.items() if k in device_name), None)


def worker(
    mode: str,
    batch: int,
    iters: int,
    warmup: int,
    ch: int,
    d_steps: int,
    compile_mode: str | None,
    profile_dir: str | None = None,
) -> dict:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from infra.config import load_config
    from inversion.config import Config
    from inversion.training.trainer import Trainer

    settings = dict(MODES[mode])
    if mode == "fast" and compile_mode:
        settings["compile"] = compile_mode
    overrides = [
        "data.name=synthetic",
        f"data.synthetic_size={max(4 * batch * d_steps, 512)}",
        "data.synthetic_channels=3",
        "data.num_workers=0",
        "classifier.name=random:vgg_small",
        "classifier.num_classes=10",
        f"model.g.ch={ch}",
        f"model.d.ch={ch}",
        "model.g.dim_noise=128",
        f"train.batch_size={batch}",
        f"train.num_d_steps={d_steps}",
        "train.logit_stats_samples=512",
        *(f"train.{key}={value}" for key, value in settings.items()),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        cfg = load_config(Config, None, [*overrides, f"runs_dir={tmp}", "name=bench"])
        trainer = Trainer(cfg, Path(tmp) / "bench")
        sync = torch.cuda.synchronize if trainer.device.type == "cuda" else (lambda: None)
        start = time.perf_counter()
        for step in range(warmup):
            trainer.train_step(step)
        sync()
        warmup_s = time.perf_counter() - start
        # The timed steps run with CUDA's sync debug mode at "error": a step that waits for the GPU
        # anywhere (a .item(), a copy from pageable host memory) raises instead of being timed.
        start = time.perf_counter()
        if trainer.device.type == "cuda":
            torch.cuda.set_sync_debug_mode("error")
        try:
            for step in range(iters):
                trainer.train_step(warmup + step)
        finally:
            if trainer.device.type == "cuda":
                torch.cuda.set_sync_debug_mode("default")
        sync()
        seconds = time.perf_counter() - start
        with torch.compiler.set_stance("force_eager"), FlopCounterMode(display=False) as counter:
            trainer.train_step(warmup + iters)
        flops = counter.get_total_flops()
        if profile_dir:  # where the time goes, after the timing: three more steps under torch.profiler
            profile(trainer, warmup + iters + 1, sync, Path(profile_dir) / f"profile-{mode}-{batch}.txt")
    it_s = iters / seconds
    name = torch.cuda.get_device_name() if trainer.device.type == "cuda" else "cpu"
    peak = bf16_peak(name) if trainer.device.type == "cuda" else None
    tflops = flops * it_s / 1e12
    return {
        "mode": mode,
        **settings,
        "batch": batch,
        "device": name,
        "it_per_s": it_s,
        "real_images_per_s": batch * d_steps * it_s,
        "gflop_per_iter": flops / 1e9,
        "tflop_per_s": tflops,
        "share_of_bf16_peak": tflops / peak if peak else None,
        "warmup_s": warmup_s,
        "iters": iters,
        "ch": ch,
        "d_steps": d_steps,
        "torch": torch.__version__,
    }


def table(rows: list[dict]) -> str:
    baseline = {r["batch"]: r["it_per_s"] for r in rows if r["mode"] == "eager-fp32"}
    lines = [
        "| mode | batch | device | it/s | real images/s | GFLOP/iter | TFLOP/s | share of bf16 peak "
        "| vs eager fp32 | warm-up s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        share = f"{r['share_of_bf16_peak']:.1%}" if r["share_of_bf16_peak"] is not None else "n/a"
        speedup = f"{r['it_per_s'] / baseline[r['batch']]:.2f}x" if r["batch"] in baseline else "n/a"
        lines.append(
            f"| {r['mode']} | {r['batch']} | {r['device']} | {r['it_per_s']:.2f} | "
            f"{r['real_images_per_s']:.0f} | {r['gflop_per_iter']:.1f} | {r['tflop_per_s']:.2f} | {share} | "
            f"{speedup} | {r['warmup_s']:.1f} |"
        )
    return "\n".join(lines)


def profile(trainer, first_step: int, sync, path: Path) -> None:
    """torch.profiler's table of three training steps, by self time on the device (CPU time on a CPU)."""
    import torch
    from torch.profiler import ProfilerActivity

    cuda = trainer.device.type == "cuda"
    activities = [ProfilerActivity.CPU, *([ProfilerActivity.CUDA] if cuda else [])]
    with torch.profiler.profile(activities=activities) as prof:
        for step in range(3):
            trainer.train_step(first_step + step)
        sync()
    key = "self_device_time_total" if cuda else "self_cpu_time_total"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(prof.key_averages().table(sort_by=key, row_limit=30) + "\n")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--modes", nargs="+", choices=list(MODES), default=list(MODES), help="fast and/or eager-fp32")
    p.add_argument("--batch-sizes", nargs="+", type=int, default=[50, 256])
    p.add_argument("--iters", type=int, default=50, help="timed iterations per run (default 50)")
    p.add_argument("--warmup", type=int, default=10, help="untimed iterations first, compilation included (default 10)")
    p.add_argument("--ch", type=int, default=64, help="G and D width (BigGAN-PyTorch's CIFAR models: 64)")
    p.add_argument("--d-steps", type=int, default=4, help="D steps per G step (default 4)")
    p.add_argument(
        "--compile", help="the fast mode's train.compile (default reduce-overhead; no, default, max-autotune, ...)"
    )
    p.add_argument("--out", help="also write the rows as JSON here")
    p.add_argument("--profile-dir", help="also write torch.profiler's table of three steps per run into this folder")
    p.add_argument("--worker", nargs=2, metavar=("MODE", "BATCH"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        mode, batch = args.worker[0], int(args.worker[1])
        row = worker(mode, batch, args.iters, args.warmup, args.ch, args.d_steps, args.compile, args.profile_dir)
        print("RESULT " + json.dumps(row))
        return 0
    rows = []
    for mode in args.modes:
        for batch in args.batch_sizes:
            cmd = [
                sys.executable,
                __file__,
                "--worker",
                mode,
                str(batch),
                "--iters",
                str(args.iters),
                "--warmup",
                str(args.warmup),
                "--ch",
                str(args.ch),
                "--d-steps",
                str(args.d_steps),
            ]
            if args.compile:
                cmd += ["--compile", args.compile]
            if args.profile_dir:
                cmd += ["--profile-dir", args.profile_dir]
            print(f"running: {mode} batch {batch}", file=sys.stderr, flush=True)
            done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
            line = next((ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")), None)
            if done.returncode != 0 or line is None:
                print(done.stderr[-3000:], file=sys.stderr)
                return 1
            rows.append(json.loads(line[7:]))
    print(table(rows))
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
