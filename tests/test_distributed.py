"""A real 2-process CPU run through `accelerate launch`, as users start multi-GPU training."""

import os
import subprocess
import sys
from pathlib import Path

import torch

HELPER = Path(__file__).parent / "helpers" / "ddp_ranks.py"


def test_two_processes_keep_identical_weights(tmp_path):
    env = dict(os.environ, ACCELERATE_USE_CPU="1", OMP_NUM_THREADS="1")
    cmd = [
        sys.executable,
        "-m",
        "accelerate.commands.launch",
        "--multi_gpu",
        "--num_processes",
        "2",
        "--num_machines",
        "1",
        "--mixed_precision",
        "no",
        "--dynamo_backend",
        "no",
        "--main_process_port",
        "29517",
        str(HELPER),
        str(tmp_path),
    ]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1)]
    assert int(ranks[0]["world"]) == 2
    # each process trains on its own share of the data...
    assert not set(ranks[0]["first_batch"].tolist()) & set(ranks[1]["first_batch"].tolist())
    # ...and gradients are averaged, so every weight (and spectral-norm vector) stays identical. Batch-norm
    # running statistics are the exception: each process's last forward saw its own batch (DDP
    # re-broadcasts rank 0's at the next forward, and only rank 0 writes snapshots).
    compared = 0
    for key in ranks[0]:
        if key.startswith(("G.", "D.")) and not key.endswith(("running_mean", "running_var")):
            assert torch.equal(ranks[0][key], ranks[1][key]), key
            compared += 1
    assert compared > 50
    assert (tmp_path / "ddp" / "snapshot.safetensors").is_file()

    # The logit statistics the two processes measured together (each on half of the 64 images, summed)
    # equal those one process measures on all 64: not one process's half, and not 64 images twice.
    from accelerate import Accelerator

    from classifiers import ClassifierConfig, load_classifier
    from infra.datasets import DataConfig, load_data
    from inversion.training.logit_statistics import measure_logit_statistics

    data = load_data(DataConfig(name="synthetic", synthetic_size=64, synthetic_channels=3))
    classifier = load_classifier(ClassifierConfig(name="random:vgg_small", num_classes=10), 3)
    mean, std = measure_logit_statistics(classifier, data.train, 64, 256, Accelerator(cpu=True))
    for rank in ranks:
        torch.testing.assert_close(rank["G.logit_norm.mean"], mean, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(rank["G.logit_norm.std"], std, rtol=1e-5, atol=1e-6)
    assert not torch.allclose(std, torch.ones_like(std))


def test_a_mistake_under_the_launcher_is_said_once(tmp_path):
    """The README's form: `accelerate launch --multi_gpu train.py ...`. Both processes meet the bad setting;
    one says it. The launcher itself then adds its own report and exit code 1 (accelerate 1.15 does not
    forward the child's code), which docs/errors.md says."""
    root = Path(__file__).resolve().parent.parent
    env = dict(os.environ, ACCELERATE_USE_CPU="1", OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1")
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2"]
    cmd += ["--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", "29519"]
    cmd += [str(root / "train.py"), "--config", str(root / "configs/tiny.yaml"), f"runs_dir={tmp_path}"]
    result = subprocess.run([*cmd, "train.max_steps=0"], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    said = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert said == ["error: train.max_steps=0 is out of range: it must be an integer >= 1"], result.stderr[-3000:]
    assert not any(tmp_path.iterdir())  # nothing was written
