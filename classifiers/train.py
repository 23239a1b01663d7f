"""Train a standard (cross-entropy) classifier and write it in this project's checkpoint format.

    python -m classifiers.train --config configs/classifiers/fmnist_resnet18.yaml
    accelerate launch -m classifiers.train --config configs/classifiers/fmnist_small_cnn.yaml epochs=2

The checkpoint (safetensors, metadata with architecture, classes, input size, mean/std and the
measured test accuracy) is what `classifier.name: project` + `classifier.checkpoint:` load.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed

from inversion.config import DataConfig, dump_yaml, load_config
from inversion.data import BatchStream, eval_batches, load_data
from inversion.errors import UserError
from inversion.progress import progress
from inversion.trainer import mixed_precision

from .architectures import ARCHITECTURES, build_arch
from .checkpoint import save_classifier
from .wrapper import ClassifierInfo


@dataclass
class ClassifierTrainConfig:
    name: str = ""  # run name; defaults to the config file's stem
    runs_dir: str = "runs/classifiers"
    out: str = ""  # checkpoint path; default <runs_dir>/<name>/classifier.safetensors
    data: DataConfig = field(default_factory=DataConfig)
    arch: str = "small_cnn"  # one of classifiers.architectures.ARCHITECTURES
    width: int | None = None  # architecture width (None: the architecture's default)
    epochs: float = 10.0
    max_steps: int = 0  # if > 0, stop after this many steps (smoke tests)
    batch_size: int = 128  # per process
    lr: float = 0.1  # peak of the one-cycle schedule (SGD, Nesterov momentum)
    momentum: float = 0.9
    weight_decay: float = 5e-4
    label_smoothing: float = 0.0
    augment: bool = True  # random shifts of up to 2 px (+ flips when data.hflip)
    seed: int = 0
    mixed_precision: str = "auto"
    eval_batch_size: int = 512


def random_shift(images: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """Translate each image by up to `max_shift` pixels, filling with the edge values."""
    n, _, h, w = images.shape
    padded = F.pad(images, (max_shift,) * 4, mode="replicate")
    dy, dx = (torch.randint(0, 2 * max_shift + 1, (2, n), generator=generator)).to(images.device)
    rows = (torch.arange(h, device=images.device)[None] + dy[:, None])[:, :, None]  # n, h, 1
    cols = (torch.arange(w, device=images.device)[None] + dx[:, None])[:, None, :]  # n, 1, w
    return padded[torch.arange(n, device=images.device)[:, None, None], :, rows, cols].permute(0, 3, 1, 2)


@torch.no_grad()
def test_accuracy(model: torch.nn.Module, dataset, batch_size: int, accelerator: Accelerator) -> float:
    """Top-1 accuracy on a whole split, each process scoring its share."""
    indices = torch.arange(len(dataset))[accelerator.process_index:: accelerator.num_processes]
    correct = torch.zeros(2, device=accelerator.device)
    for images, labels in eval_batches(dataset, batch_size, accelerator.device, indices=indices):
        with accelerator.autocast():
            pred = model(images).argmax(1)
        correct += torch.stack([(pred == labels).sum().float(), torch.tensor(float(len(labels)), device=accelerator.device)])
    correct = accelerator.reduce(correct, reduction="sum")
    return (correct[0] / correct[1]).item()


def train_classifier(cfg: ClassifierTrainConfig) -> Path:
    acc = Accelerator(mixed_precision=mixed_precision(cfg.mixed_precision))
    if cfg.arch not in ARCHITECTURES:
        raise UserError(f"unknown arch {cfg.arch!r}; choose one of {', '.join(ARCHITECTURES)}")
    data = load_data(cfg.data)
    num_classes = len(data.classes)
    set_seed(cfg.seed)
    model = build_arch(cfg.arch, num_classes, data.channels, cfg.width)
    train_set = data.train.to(acc.device) if cfg.data.on_device and hasattr(data.train, "to") else data.train
    stream = BatchStream(train_set, cfg.batch_size, acc.device, seed=cfg.seed, rank=acc.process_index,
                         world=acc.num_processes, hflip=cfg.data.hflip, num_workers=cfg.data.num_workers)
    total = cfg.max_steps or max(1, math.ceil(cfg.epochs * stream.batches_per_epoch))
    optimizer = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum, nesterov=True,
                                weight_decay=cfg.weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=cfg.lr, total_steps=total, pct_start=0.15)
    model, optimizer = acc.prepare(model, optimizer)
    shift_gen = torch.Generator().manual_seed(cfg.seed + 7919 * acc.process_index)

    out = Path(cfg.out) if cfg.out else Path(cfg.runs_dir) / cfg.name / "classifier.safetensors"
    if acc.is_main_process:
        out.parent.mkdir(parents=True, exist_ok=True)
        (out.parent / "config.yaml").write_text(dump_yaml(cfg))
    model.train()
    bar = progress(range(total), desc=f"train {cfg.arch}", disable=not acc.is_main_process)
    loss_sum = torch.zeros((), device=acc.device)
    for step in bar:
        images, labels = next(stream)
        if cfg.augment:
            images = random_shift(images, 2, shift_gen)
        # Inputs stay in [-1, 1]: that is (x - 0.5) / 0.5 for x in [0, 1], the mean/std recorded below.
        with acc.autocast():
            loss = F.cross_entropy(model(images), labels, label_smoothing=cfg.label_smoothing)
        optimizer.zero_grad(set_to_none=True)
        acc.backward(loss)
        optimizer.step()
        schedule.step()
        loss_sum += loss.detach()
        if (step + 1) % 50 == 0 or step == total - 1:
            value = loss_sum.item() / ((step % 50) + 1)  # mean over the steps since the last report
            loss_sum.zero_()
            if not math.isfinite(value):
                raise UserError(f"the classifier's loss became {value} by step {step + 1}; lower lr")
            bar.set_postfix(loss=f"{value:.3f}", lr=f"{schedule.get_last_lr()[0]:.3g}")
    model.eval()
    accuracy = test_accuracy(model, data.test, cfg.eval_batch_size, acc)
    if acc.is_main_process:
        info = ClassifierInfo(num_classes=num_classes, in_channels=data.channels, input_size=None,
                              mean=[0.5] * data.channels, std=[0.5] * data.channels, classes=data.classes)
        extra = {"test_accuracy": accuracy, "data": cfg.data.name, "resolution": cfg.data.resolution,
                 "steps": total, "seed": cfg.seed, "training": "standard"}
        save_classifier(out, acc.unwrap_model(model), cfg.arch, cfg.width, info, extra)
        (out.parent / "metrics.json").write_text(json.dumps({"test_accuracy": accuracy, "steps": total}) + "\n")
        print(f"test accuracy {accuracy:.4f}; checkpoint {out}")
    acc.wait_for_everyone()
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m classifiers.train",
        description="Train a standard classifier (cross-entropy, SGD with a one-cycle schedule) on one of the "
                    "project's data sets and write it as a project checkpoint with its test accuracy.",
        epilog="Overrides are key=value with dotted paths (e.g. epochs=2 data.name=cifar10 arch=resnet18 width=32). "
               "Defaults: ClassifierTrainConfig in classifiers/train.py.",
    )
    p.add_argument("--config", help="YAML file with the settings that differ from the defaults (configs/classifiers/)")
    p.add_argument("--dry-run", action="store_true", help="print the resolved config and exit")
    p.add_argument("overrides", nargs="*", metavar="key=value")
    args = p.parse_args(argv)
    try:
        cfg = load_config(ClassifierTrainConfig, args.config, args.overrides)
        if not cfg.name:
            cfg.name = Path(args.config).stem if args.config else cfg.arch
        if args.dry_run:
            print(dump_yaml(cfg), end="")
            return 0
        train_classifier(cfg)
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
