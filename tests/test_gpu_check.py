"""The prepared GPU command cannot rot: its CPU smoke mode runs every part at tiny sizes and each writes its
section (a fake peer script stands in for the yardstick, which lives outside the repository)."""

import json
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_part_of_the_gpu_check_writes_its_section(tmp_path):
    peer = tmp_path / "peer.py"
    peer.write_text(
        "import json\nprint('timing the peer')\n"
        "print(json.dumps({'batch': 4, 'it_per_s': 10.0, 'real_images_per_s': 80.0, 'tflop_per_s': 0.001}))\n"
    )
    out = tmp_path / "check"
    done = subprocess.run(
        ["bash", "benchmarks/gpu_check.sh", str(out), "--smoke", "--peer", str(peer), "--work", str(tmp_path / "work")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    parts = json.loads((out / "gpu_check.json").read_text())
    assert set(parts) == {"environment", "cuda-tests", "speed", "peer", "quality"}
    assert parts["environment"]["matmul"]["tflop_per_s"] > 0 and parts["environment"]["torch"]
    # Without CUDA the GPU tests are collected and skipped, not missing.
    assert parts["cuda-tests"]["tests"] >= 3 and parts["cuda-tests"]["skipped"] == parts["cuda-tests"]["tests"]
    assert parts["speed"]["rows"] and parts["speed"]["rows"][0]["real_images_per_s"] > 0
    assert parts["speed"]["profiles"] == ["profile-eager-fp32-4.txt"]  # where the time goes, packed with the logs
    assert parts["peer"]["rows"] == [{"batch": 4, "it_per_s": 10.0, "real_images_per_s": 80.0, "tflop_per_s": 0.001}]
    for kind in ("std", "robust"):
        run = parts["quality"]["runs"][kind]
        assert run["train_exit"] == 0 and run["steps"] >= 1 and "id_top1" in run["gan"]
        assert (out / f"quality-{kind}.safetensors").is_file()
    # What comes back from a lent GPU machine: a few files.
    assert sorted(p.name for p in out.iterdir()) == [
        "gpu_check.json",
        "gpu_check.md",
        "logs.tar.gz",
        "quality-robust.safetensors",
        "quality-std.safetensors",
    ]
    import tarfile

    with tarfile.open(out / "logs.tar.gz") as tar:
        profile = tar.extractfile("profiles/profile-eager-fp32-4.txt").read().decode()
    assert "Self CPU" in profile and "aten::" in profile  # torch.profiler's table of the training steps
    text = (out / "gpu_check.md").read_text()
    assert "## Speed" in text and "| BigGAN-PyTorch (peer) | 4 | 80 |" in text and "## Quality point" in text
