"""The throughput benchmark's plumbing (not its numbers): one tiny CPU run through its subprocess."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_throughput_benchmark_runs_and_prints_its_table(tmp_path):
    out = tmp_path / "rows.json"
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "train_throughput.py"),
            "--modes",
            "eager-fp32",
            "fast",
            "--compile",
            "no",
            "--batch-sizes",
            "4",
            "--iters",
            "2",
            "--warmup",
            "1",
            "--ch",
            "4",
            "--d-steps",
            "2",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "| eager-fp32 | 4 | cpu |" in result.stdout and "| fast | 4 | cpu |" in result.stdout
    import json

    baseline, fast = json.loads(out.read_text())
    for row in (baseline, fast):
        assert row["real_images_per_s"] == row["batch"] * row["d_steps"] * row["it_per_s"] and row["gflop_per_iter"] > 0
    # bf16 autocast does not change the FLOPs counted; channels_last and fused Adam are on.
    assert abs(fast["gflop_per_iter"] - baseline["gflop_per_iter"]) < 1e-6 * baseline["gflop_per_iter"]
    assert (fast["mixed_precision"], fast["channels_last"], fast["fused_adam"]) == ("bf16", "yes", "yes")
