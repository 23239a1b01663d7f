"""What only a GPU can check (marked `gpu`; skipped without CUDA; benchmarks/gpu_check.sh runs them):
the training step makes no host synchronisation in steady state, bf16 and compiled steps agree with
fp32 eager within stated tolerances, and a snapshot written on CUDA reconstructs as it does on the CPU."""

import pytest
import torch

from infra.config import load_config
from inversion import Inverter
from inversion.config import Config
from inversion.model import build_discriminator, build_generator
from inversion.training.trainer import Trainer

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device"),
]

# bf16 keeps 8 bits of mantissa: G's output (tanh, in [-1, 1]) within 0.05 of fp32, D's scores within 5%
# of their spread. A compiled model computes the same function: within 1e-3.
BF16_PIXEL_TOLERANCE, BF16_SCORE_TOLERANCE, COMPILE_TOLERANCE = 0.05, 0.05, 1e-3


def _trainer(tmp_path, tiny_config, *overrides):
    cfg = load_config(Config, tiny_config, [f"runs_dir={tmp_path}", "name=gpu", *overrides])
    return Trainer(cfg, tmp_path / "gpu")


def test_steady_state_training_step_makes_no_host_sync(tmp_path, tiny_config):
    trainer = _trainer(
        tmp_path, tiny_config, "train.mixed_precision=bf16", "train.channels_last=yes", "train.fused_adam=yes"
    )
    for step in range(3):  # warm-up: cuDNN autotuning and lazy allocations may sync
        trainer.train_step(step)
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        for step in range(3, 6):
            trainer.train_step(step)
    finally:
        torch.cuda.set_sync_debug_mode("default")


def test_bf16_and_compiled_forward_passes_agree_with_fp32(tiny_config):
    cfg = load_config(Config, tiny_config)
    torch.manual_seed(0)
    G = build_generator(cfg.model, 10, 32, 3).cuda().eval()
    D = build_discriminator(cfg.model, 10, 32, 3).cuda().eval()
    noise, logits = torch.randn(16, cfg.model.g.dim_noise, device="cuda"), torch.randn(16, 10, device="cuda")
    x = torch.rand(16, 3, 32, 32, device="cuda") * 2 - 1
    with torch.no_grad():
        images, scores = G(noise, logits), D(x, logits)
        with torch.autocast("cuda", dtype=torch.bfloat16):
            images16, scores16 = G(noise, logits).float(), D(x, logits).float()
        compiled = torch.compile(G)(noise, logits)
    assert (images16 - images).abs().max() < BF16_PIXEL_TOLERANCE
    assert (scores16 - scores).abs().max() < BF16_SCORE_TOLERANCE * (scores.std() + 1e-6)
    assert (compiled - images).abs().max() < COMPILE_TOLERANCE


def test_a_snapshot_written_on_cuda_reconstructs_as_on_the_cpu(run_tiny):
    code, run_dir = run_tiny()
    assert code == 0
    x = torch.rand(4, 3, 32, 32) * 2 - 1
    on_gpu = Inverter.load(run_dir, device="cuda").reconstruct(x.cuda()).cpu()
    on_cpu = Inverter.load(run_dir, device="cpu").reconstruct(x)
    torch.testing.assert_close(on_gpu, on_cpu, atol=1e-4, rtol=0)
