"""Training throughput of this project's trainer at BigGAN-PyTorch's CIFAR configuration (a benchmark,
not a test).

32 px, 3 channels, ch 64, no attention, 4 D steps per G step, a small frozen classifier (random
weights: speed does not depend on them) in the loop, synthetic data resident on the device. Each
(precision, batch size) runs in its own process, since accelerate's precision is process-wide:

    python benchmarks/train_throughput.py                         # bf16 and fp32, batch 50 and 256
    python benchmarks/train_throughput.py --precisions no --batch-sizes 8 --iters 3 --ch 8   # CPU smoke

Reported per run: iterations/s (one iteration = 4 D steps + 1 G step + the EMA update), real images/s
(batch x D steps x it/s), the FLOPs of one iteration (PyTorch's FLOP counter), achieved TFLOP/s and,
on a known GPU, the share of its dense bf16 peak.
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

# Dense (no sparsity) bf16 tensor-core peaks from the vendors' data sheets, in TFLOP/s.
BF16_PEAK = {"H100": 989.0, "H200": 989.0, "A100": 312.0}


def worker(precision: str, batch: int, iters: int, warmup: int, ch: int, d_steps: int) -> dict:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from inversion.config import Config, load_config
    from inversion.trainer import Trainer

    overrides = [
        "data.name=synthetic", f"data.synthetic_size={max(4 * batch * d_steps, 512)}", "data.synthetic_channels=3",
        "data.num_workers=0", "classifier.name=random:vgg_small", "classifier.num_classes=10",
        f"model.g.ch={ch}", f"model.d.ch={ch}", "model.g.dim_noise=128", f"train.batch_size={batch}",
        f"train.num_d_steps={d_steps}", f"train.mixed_precision={precision}", "train.logit_stats_samples=512",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        cfg = load_config(Config, None, [*overrides, f"runs_dir={tmp}", "name=bench"])
        trainer = Trainer(cfg, Path(tmp) / "bench")
        sync = torch.cuda.synchronize if trainer.device.type == "cuda" else (lambda: None)
        for step in range(warmup):
            trainer.train_step(step)
        sync()
        start = time.perf_counter()
        for step in range(iters):
            trainer.train_step(warmup + step)
        sync()
        seconds = time.perf_counter() - start
        with FlopCounterMode(display=False) as counter:
            trainer.train_step(warmup + iters)
        flops = counter.get_total_flops()
    it_s = iters / seconds
    name = torch.cuda.get_device_name() if trainer.device.type == "cuda" else "cpu"
    peak = next((v for k, v in BF16_PEAK.items() if k in name), None)
    tflops = flops * it_s / 1e12
    return {"precision": precision, "batch": batch, "device": name, "it_per_s": it_s,
            "real_images_per_s": batch * d_steps * it_s, "gflop_per_iter": flops / 1e9, "tflop_per_s": tflops,
            "share_of_bf16_peak": tflops / peak if peak else None, "iters": iters, "ch": ch, "d_steps": d_steps}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--precisions", nargs="+", default=["bf16", "no"], help="bf16 and/or no (fp32)")
    p.add_argument("--batch-sizes", nargs="+", type=int, default=[50, 256])
    p.add_argument("--iters", type=int, default=50, help="timed iterations per run")
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--ch", type=int, default=64, help="G and D width (BigGAN-PyTorch's CIFAR models: 64)")
    p.add_argument("--d-steps", type=int, default=4)
    p.add_argument("--out", help="also write the rows as JSON here")
    p.add_argument("--worker", nargs=2, metavar=("PRECISION", "BATCH"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        row = worker(args.worker[0], int(args.worker[1]), args.iters, args.warmup, args.ch, args.d_steps)
        print("RESULT " + json.dumps(row))
        return 0
    rows = []
    for precision in args.precisions:
        for batch in args.batch_sizes:
            cmd = [sys.executable, __file__, "--worker", precision, str(batch), "--iters", str(args.iters),
                   "--warmup", str(args.warmup), "--ch", str(args.ch), "--d-steps", str(args.d_steps)]
            done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
            line = next((ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")), None)
            if done.returncode != 0 or line is None:
                print(done.stderr[-3000:], file=sys.stderr)
                return 1
            rows.append(json.loads(line[7:]))
            print(f"done: {precision} batch {batch}", file=sys.stderr)
    print("| precision | batch | device | it/s | real images/s | GFLOP/iter | TFLOP/s | share of bf16 peak |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        share = f"{r['share_of_bf16_peak']:.1%}" if r["share_of_bf16_peak"] is not None else "n/a"
        print(f"| {'fp32' if r['precision'] == 'no' else r['precision']} | {r['batch']} | {r['device']} | "
              f"{r['it_per_s']:.2f} | {r['real_images_per_s']:.0f} | {r['gflop_per_iter']:.1f} | "
              f"{r['tflop_per_s']:.2f} | {share} |")
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
