"""The pixel-loss decoder baseline (Dosovitskiy and Brox 2016b, "Inverting visual representations
with convolutional networks").

The same generator trunk as the GAN, trained to minimise the mean squared pixel error of
G(phi(x), noise) against x, with no discriminator, and used at noise 0. It is saved as an ordinary
snapshot (`kind: decoder`), so every evaluate.py command runs on it.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from accelerate import Accelerator

from classifiers import load_classifier
from infra.batches import training_stream
from infra.config import dump_yaml, to_dict
from infra.datasets import load_data
from infra.devices import mixed_precision
from infra.errors import UserError
from infra.progress import progress

from ..config import Config
from ..model import build_generator
from ..snapshot import SNAPSHOT, save_snapshot
from ..training.logit_statistics import measure_logit_statistics


def train_decoder(cfg: Config, run_dir: Path, steps: int, lr: float = 2e-4) -> Path:
    """Train the pixel-loss decoder described by `cfg` (data, classifier, model.g) and write its snapshot."""
    run_dir = Path(run_dir)
    if (run_dir / SNAPSHOT).exists():
        raise UserError(f"{run_dir} already holds a snapshot; choose another --out")
    acc = Accelerator(mixed_precision=mixed_precision(cfg.train.mixed_precision, key="train.mixed_precision"))
    data = load_data(cfg.data)
    classifier = load_classifier(cfg.classifier, data.channels, acc.device)
    torch.manual_seed(cfg.train.seed)
    G = build_generator(cfg.model, classifier.num_classes, cfg.data.resolution, data.channels)
    stream = training_stream(data.train, cfg.data, cfg.train.batch_size, cfg.train.seed, acc)
    mean, std = measure_logit_statistics(classifier, stream.dataset, cfg.train.logit_stats_samples, 256, acc)
    G.logit_norm.set_statistics(mean, std)
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
        meta = {
            "kind": "decoder",
            "step": steps,
            "config": to_dict(cfg),
            "channels": data.channels,
            "resolution": cfg.data.resolution,
            "num_classes": classifier.num_classes,
            "classes": data.classes,
            "classifier": dataclasses.asdict(classifier.info),
            "decoder": {"lr": lr, "steps": steps, "seconds": time.perf_counter() - start},
        }
        save_snapshot(run_dir, acc.unwrap_model(G), meta)
        (run_dir / "config.yaml").write_text(dump_yaml(cfg))
    acc.wait_for_everyone()
    return run_dir
