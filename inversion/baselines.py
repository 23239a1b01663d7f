"""The baselines every inverter is held against, scored by the same fidelity table.

- Pixel-loss decoder (Dosovitskiy and Brox 2016b): the same generator trunk as the GAN, trained to
  minimise the mean squared pixel error of G(phi(x), noise) against x, with no discriminator, and
  used at noise 0.
  It is saved as an ordinary snapshot (`kind: decoder`), so every evaluate.py command runs on it.
- Optimisation-based inversion (Mahendran and Vedaldi 2015): gradient descent on the image itself
  so that phi(x_hat) matches the target logits, with a total-variation prior. The image is
  parametrised as tanh(v) to stay in [-1, 1]; "noise draws" are random initialisations of v.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from accelerate import Accelerator

from .checkpoint import save_snapshot
from .config import Config, dump_yaml, to_dict
from .data import BatchStream, load_data
from .errors import UserError
from .generator import build_generator
from .progress import progress
from .trainer import measure_logit_statistics, mixed_precision


def train_decoder(cfg: Config, run_dir: Path, steps: int, lr: float = 2e-4) -> Path:
    """Train the pixel-loss decoder described by `cfg` (data, classifier, model.g) and write its snapshot."""
    from classifiers import load_classifier

    run_dir = Path(run_dir)
    if (run_dir / "snapshot.safetensors").exists():
        raise UserError(f"{run_dir} already holds a snapshot; choose another --out")
    acc = Accelerator(mixed_precision=mixed_precision(cfg.train.mixed_precision))
    data = load_data(cfg.data)
    classifier = load_classifier(cfg.classifier, data.channels, acc.device)
    torch.manual_seed(cfg.train.seed)
    G = build_generator(cfg.model, classifier.num_classes, cfg.data.resolution, data.channels)
    train_set = data.train.to(acc.device) if cfg.data.on_device and hasattr(data.train, "to") else data.train
    mean, std = measure_logit_statistics(classifier, train_set, cfg.train.logit_stats_samples, 256, acc)
    G.logit_norm.set_statistics(mean, std)
    stream = BatchStream(train_set, cfg.train.batch_size, acc.device, seed=cfg.train.seed, rank=acc.process_index,
                         world=acc.num_processes, hflip=cfg.data.hflip)
    opt = torch.optim.Adam(G.parameters(), lr=lr, betas=(0.9, 0.999))
    G, opt = acc.prepare(G, opt)
    bar = progress(range(steps), desc="decoder", disable=not acc.is_main_process)
    start = time.perf_counter()
    for step in bar:
        x, _ = next(stream)
        with torch.no_grad(), acc.autocast():
            logits = classifier(x).float()
        # Random noise, as the GAN sees: with zero noise G's input layer would give every image the
        # same feature map, its first batch norm (batch statistics) would subtract it away, and only
        # spatially flat per-channel biases would carry the logits. The pixel loss teaches the decoder
        # to ignore the noise; it is evaluated at noise 0 (eval-mode batch norm).
        noise = torch.randn(x.shape[0], cfg.model.g.dim_noise, device=acc.device)
        loss = F.mse_loss(G(noise, logits).float(), x)
        opt.zero_grad(set_to_none=True)
        acc.backward(loss)
        opt.step()
        if (step + 1) % 50 == 0 or step == steps - 1:
            value = loss.item()
            if not torch.isfinite(torch.tensor(value)):
                raise UserError(f"the decoder's loss became {value} at step {step + 1}; lower --lr")
            bar.set_postfix(mse=f"{value:.4f}")
    if acc.is_main_process:
        run_dir.mkdir(parents=True, exist_ok=True)
        cfg = dataclasses.replace(cfg, name=run_dir.name, runs_dir=str(run_dir.parent))
        meta = {"kind": "decoder", "step": steps, "config": to_dict(cfg), "channels": data.channels,
                "resolution": cfg.data.resolution, "num_classes": classifier.num_classes, "classes": data.classes,
                "classifier": dataclasses.asdict(classifier.info), "decoder": {"lr": lr, "steps": steps,
                "seconds": time.perf_counter() - start}}
        save_snapshot(run_dir, acc.unwrap_model(G), meta)
        (run_dir / "config.yaml").write_text(dump_yaml(cfg))
    acc.wait_for_everyone()
    return run_dir


def total_variation(x: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference of neighbouring pixels (anisotropic TV), per image."""
    dh = (x[..., 1:, :] - x[..., :-1, :]).abs().flatten(1).mean(1)
    dw = (x[..., :, 1:] - x[..., :, :-1]).abs().flatten(1).mean(1)
    return dh + dw


def optimize_images(classifier, logits: torch.Tensor, shape: tuple[int, int, int], steps: int = 200, lr: float = 0.05,
                    tv_weight: float = 0.05, init: str = "zero", seed: int = 0) -> torch.Tensor:
    """Images whose logits match `logits` (relative squared error) under a TV prior."""
    n = logits.shape[0]
    if init == "zero":
        v = torch.zeros(n, *shape, device=logits.device)
    else:
        g = torch.Generator().manual_seed(seed)
        v = (torch.randn(n, *shape, generator=g) * 0.5).to(logits.device)
    v.requires_grad_(True)
    opt = torch.optim.Adam([v], lr=lr)
    target = logits.detach().float()
    scale = target.pow(2).sum(1).clamp(min=1e-8)
    for _ in range(steps):
        with torch.enable_grad():  # callers may hold no_grad; this loop needs gradients w.r.t. the image
            x = torch.tanh(v)
            match = (classifier(x).float() - target).pow(2).sum(1) / scale
            loss = (match + tv_weight * total_variation(x)).sum()
            (grad,) = torch.autograd.grad(loss, v)
        v.grad = grad
        opt.step()
    return torch.tanh(v).detach()


def optimize_reconstruct(classifier, shape: tuple[int, int, int], steps: int, lr: float, tv_weight: float):
    """A `Reconstruct` (see inversion.fidelity) for optimisation-based inversion."""

    def run(logits: torch.Tensor, noise: str, seed: int) -> torch.Tensor:
        init = "zero" if noise == "zero" else "random"
        return optimize_images(classifier, logits, shape, steps=steps, lr=lr, tv_weight=tv_weight, init=init, seed=seed)

    return run
