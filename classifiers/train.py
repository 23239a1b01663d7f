"""Train a classifier, standard or adversarially robust, and write it in this project's format.

    python -m classifiers.train --config configs/classifiers/fmnist_resnet18.yaml
    python -m classifiers.train --config configs/classifiers/fmnist_resnet18_robust.yaml     # PGD training
    accelerate launch -m classifiers.train --config configs/classifiers/fmnist_vgg_small.yaml epochs=2
    python -m classifiers.train --resume runs/classifiers/fmnist_resnet18_robust

Standard training minimises cross-entropy; adversarial training (`adversarial.norm: linf | l2`)
minimises it on PGD examples made on the fly (Madry et al. 2018), optionally mixed with the clean
loss. The run folder follows the inverter's conventions: `config.yaml`, `stats.jsonl`, `tb/`,
`checkpoints/step-*/` for `--resume`, and the final `classifier.safetensors` (metadata: architecture,
classes, input size, mean/std, test accuracy, and robust accuracy for adversarial runs).
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

from inversion.checkpoint import list_checkpoints, load_checkpoint, save_checkpoint
from inversion.config import DataConfig, dump_yaml, load_config, read_yaml, to_dict
from inversion.data import BatchStream, eval_batches, load_data
from inversion.errors import UserError
from inversion.progress import progress
from inversion.trainer import TrainState, mixed_precision

from .architectures import ARCHITECTURES, build_arch
from .attacks import PGDConfig, pgd
from .checkpoint import save_classifier
from .wrapper import ClassifierInfo


@dataclass
class AdversarialConfig:
    norm: str = "none"  # none (standard training) | linf | l2
    eps: float = 0.1  # radius in [0, 1] pixel units
    steps: int = 7  # PGD steps per training batch
    step_size: float = 0.025
    random_start: bool = True
    clean_weight: float = 0.0  # loss = (1 - w) * adversarial + w * clean
    eval_steps: int = 20  # PGD steps for the robust accuracy measured at the end
    eval_step_size: float = 0.0  # 0: 2.5 * eps / eval_steps (Madry et al.'s rule)

    def train_attack(self) -> PGDConfig:
        return PGDConfig(norm=self.norm, eps=self.eps, steps=self.steps, step_size=self.step_size,
                         random_start=self.random_start)

    def eval_attack(self) -> PGDConfig:
        step = self.eval_step_size or 2.5 * self.eps / max(self.eval_steps, 1)
        return PGDConfig(norm=self.norm, eps=self.eps, steps=self.eval_steps, step_size=step, random_start=True)


@dataclass
class ClassifierTrainConfig:
    name: str = ""  # run name; defaults to the config file's stem
    runs_dir: str = "runs/classifiers"
    out: str = ""  # checkpoint path; default <runs_dir>/<name>/classifier.safetensors
    data: DataConfig = field(default_factory=DataConfig)
    arch: str = "vgg_small"  # one of classifiers.architectures.ARCHITECTURES
    width: int | None = None  # architecture width (None: the architecture's default)
    epochs: float = 10.0
    max_steps: int = 0  # if > 0, train exactly this many steps instead of `epochs`
    batch_size: int = 128  # per process
    lr: float = 0.1  # peak of the one-cycle schedule (SGD, Nesterov momentum)
    momentum: float = 0.9
    weight_decay: float = 5e-4
    label_smoothing: float = 0.0
    augment: bool = True  # random shifts of up to 2 px (+ flips when data.hflip)
    adversarial: AdversarialConfig = field(default_factory=AdversarialConfig)
    seed: int = 0
    mixed_precision: str = "auto"
    eval_batch_size: int = 512
    robust_eval_samples: int = 10000  # test images attacked for the final robust accuracy
    log_every: int = 50
    checkpoint_every: int = 1000
    keep_checkpoints: int = 2


def random_shift(images: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """Translate each image by up to `max_shift` pixels, filling with the edge values."""
    n, _, h, w = images.shape
    padded = F.pad(images, (max_shift,) * 4, mode="replicate")
    dy, dx = (torch.randint(0, 2 * max_shift + 1, (2, n), generator=generator)).to(images.device)
    rows = (torch.arange(h, device=images.device)[None] + dy[:, None])[:, :, None]  # n, h, 1
    cols = (torch.arange(w, device=images.device)[None] + dx[:, None])[:, None, :]  # n, 1, w
    return padded[torch.arange(n, device=images.device)[:, None, None], :, rows, cols].permute(0, 3, 1, 2)


class _Autocast(torch.nn.Module):
    """Runs a model under accelerate's autocast, for attacks that call it directly."""

    def __init__(self, model: torch.nn.Module, accelerator: Accelerator):
        super().__init__()
        self.model, self.accelerator = model, accelerator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with self.accelerator.autocast():
            return self.model(x)


def accuracy(model: torch.nn.Module, dataset, batch_size: int, accelerator: Accelerator, attack: PGDConfig | None = None,
             limit: int | None = None, desc: str = "test") -> float:
    """Top-1 accuracy on (the first `limit` images of) a split, clean or under `attack`; each process
    scores its share."""
    n = len(dataset) if not limit else min(limit, len(dataset))
    indices = torch.arange(n)[accelerator.process_index:: accelerator.num_processes]
    net = _Autocast(model, accelerator)
    counts = torch.zeros(2, device=accelerator.device)
    g = torch.Generator().manual_seed(1234 + accelerator.process_index)
    batches = eval_batches(dataset, batch_size, accelerator.device, indices=indices)
    for images, labels in progress(batches, total=math.ceil(len(indices) / batch_size), desc=desc, leave=False,
                                   disable=not accelerator.is_main_process):
        if attack is not None:
            images = pgd(net, images, labels, attack, generator=g)
        with torch.no_grad():
            pred = net(images).argmax(1)
        counts += torch.stack([(pred == labels).sum().float(), torch.tensor(float(len(labels)), device=counts.device)])
    counts = accelerator.reduce(counts, reduction="sum")
    return (counts[0] / counts[1]).item()


class ClassifierTrainer:
    def __init__(self, cfg: ClassifierTrainConfig, run_dir: Path, resume: bool = False):
        self.cfg, self.run_dir = cfg, run_dir
        adv = cfg.adversarial
        if adv.norm not in ("none", "linf", "l2"):
            raise UserError(f"adversarial.norm must be none, linf or l2, not {adv.norm!r}")
        if cfg.arch not in ARCHITECTURES and not cfg.arch.startswith(("timm:", "torchvision:")):
            raise UserError(f"unknown arch {cfg.arch!r}; choose one of {', '.join(ARCHITECTURES)}")
        self.acc = acc = Accelerator(mixed_precision=mixed_precision(cfg.mixed_precision))
        self.data = load_data(cfg.data)
        set_seed(cfg.seed)
        model = build_arch(cfg.arch, len(self.data.classes), self.data.channels, cfg.width, image_size=cfg.data.resolution)
        train_set = self.data.train.to(acc.device) if cfg.data.on_device and hasattr(self.data.train, "to") else self.data.train
        self.stream = BatchStream(train_set, cfg.batch_size, acc.device, seed=cfg.seed, rank=acc.process_index,
                                  world=acc.num_processes, hflip=cfg.data.hflip, num_workers=cfg.data.num_workers)
        self.total = cfg.max_steps or max(1, math.ceil(cfg.epochs * self.stream.batches_per_epoch))
        optimizer = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum, nesterov=True,
                                    weight_decay=cfg.weight_decay)
        # Not passed to accelerate.prepare, which would step it once per process.
        self.schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=cfg.lr, total_steps=self.total, pct_start=0.15)
        self.model, self.optimizer = acc.prepare(model, optimizer)
        self.state = TrainState(self.stream)
        acc.register_for_checkpointing(self.schedule, self.state)
        if resume:
            checkpoints = list_checkpoints(run_dir)
            if not checkpoints:
                raise UserError(f"{run_dir} has no complete checkpoint to resume from")
            load_checkpoint(acc, checkpoints[-1])

    def _step_generator(self, step: int, salt: int) -> torch.Generator:
        # Augmentation and attack start points depend on (seed, step, rank) only: identical after a resume.
        return torch.Generator().manual_seed((((self.cfg.seed * 1_000_003 + step) * 64 + self.acc.process_index) * 4 + salt) % 2**63)

    def train_step(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        cfg, acc = self.cfg, self.acc
        images, labels = next(self.stream)
        if cfg.augment:
            images = random_shift(images, 2, self._step_generator(step, 0))
        adv_cfg = cfg.adversarial
        if adv_cfg.norm != "none":
            # The attack runs on the unwrapped network in eval mode: no DDP hooks (its gradients are
            # w.r.t. the input only) and no batch-norm statistics from adversarial probes.
            net = acc.unwrap_model(self.model).eval()
            adv = pgd(_Autocast(net, acc), images, labels, adv_cfg.train_attack(), generator=self._step_generator(step, 1))
            net.train()
            batch = torch.cat([adv, images]) if adv_cfg.clean_weight > 0 else adv
        else:
            batch = images
        # Inputs stay in [-1, 1]: that is (x - 0.5) / 0.5 for x in [0, 1], the mean/std recorded below.
        with acc.autocast():
            logits = self.model(batch)
        losses = F.cross_entropy(logits.float(), labels.repeat(len(batch) // len(labels)),
                                 label_smoothing=cfg.label_smoothing, reduction="none").view(-1, len(labels)).mean(1)
        loss = losses[0] if len(losses) == 1 else (1 - adv_cfg.clean_weight) * losses[0] + adv_cfg.clean_weight * losses[1]
        self.optimizer.zero_grad(set_to_none=True)
        acc.backward(loss)
        self.optimizer.step()
        self.schedule.step()
        correct = (logits[: len(labels)].argmax(1) == labels).float().mean()
        return loss.detach(), correct.detach()

    def fit(self) -> Path:
        cfg, acc = self.cfg, self.acc
        main = acc.is_main_process
        writer = None
        if main:
            from torch.utils.tensorboard import SummaryWriter

            self.run_dir.mkdir(parents=True, exist_ok=True)
            (self.run_dir / "config.yaml").write_text(dump_yaml(cfg))
            writer = SummaryWriter(str(self.run_dir / "tb"))
            stats = open(self.run_dir / "stats.jsonl", "a")
        self.model.train()
        bar = progress(total=self.total, initial=self.state.step, desc=f"train {cfg.arch}", disable=not main)
        sums = torch.zeros(2, device=acc.device)
        since = 0
        while self.state.step < self.total:
            loss, correct = self.train_step(self.state.step)
            sums += torch.stack([loss, correct])
            since += 1
            self.state.step += 1
            step = self.state.step
            if step % cfg.log_every == 0 or step == self.total:
                loss_mean, acc_mean = (acc.reduce(sums, reduction="mean") / since).tolist()
                sums.zero_()
                since = 0
                if not math.isfinite(loss_mean):
                    raise UserError(f"the classifier's loss became {loss_mean} by step {step}; lower lr")
                key = "adversarial" if cfg.adversarial.norm != "none" else "clean"
                record = {f"loss/{key}": loss_mean, f"train_acc/{key}": acc_mean, "lr": self.schedule.get_last_lr()[0]}
                if main:
                    for k, v in record.items():
                        writer.add_scalar(k, v, step)
                    stats.write(json.dumps({"step": step, **record}) + "\n")
                    stats.flush()
                    bar.set_postfix(loss=f"{loss_mean:.3f}", acc=f"{acc_mean:.3f}")
            if step % cfg.checkpoint_every == 0 and step < self.total:
                save_checkpoint(acc, self.run_dir, step, cfg.keep_checkpoints)
            bar.update(step - bar.n)
        bar.close()
        self.model.eval()
        metrics = {"test_accuracy": accuracy(self.model, self.data.test, cfg.eval_batch_size, acc)}
        if cfg.adversarial.norm != "none":
            attack = cfg.adversarial.eval_attack()
            metrics["robust_accuracy"] = accuracy(self.model, self.data.test, cfg.eval_batch_size, acc, attack=attack,
                                                  limit=cfg.robust_eval_samples, desc="PGD")
            metrics["robust_attack"] = {**to_dict(attack), "samples": min(cfg.robust_eval_samples, len(self.data.test))}
        save_checkpoint(acc, self.run_dir, self.total, cfg.keep_checkpoints)
        out = Path(cfg.out) if cfg.out else self.run_dir / "classifier.safetensors"
        if main:
            info = ClassifierInfo(num_classes=len(self.data.classes), in_channels=self.data.channels, input_size=None,
                                  mean=[0.5] * self.data.channels, std=[0.5] * self.data.channels, classes=self.data.classes)
            extra = {**metrics, "data": cfg.data.name, "resolution": cfg.data.resolution, "steps": self.total,
                     "seed": cfg.seed, "training": "standard" if cfg.adversarial.norm == "none" else "adversarial",
                     "adversarial": to_dict(cfg.adversarial) if cfg.adversarial.norm != "none" else None}
            save_classifier(out, acc.unwrap_model(self.model), cfg.arch, cfg.width, info, extra)
            (self.run_dir / "metrics.json").write_text(json.dumps({**metrics, "steps": self.total}, indent=1) + "\n")
            for k in ("test_accuracy", "robust_accuracy"):
                if k in metrics:
                    writer.add_scalar(f"final/{k}", metrics[k], self.total)
            writer.close()
            stats.close()
            summary = ", ".join(f"{k} {v:.4f}" for k, v in metrics.items() if isinstance(v, float))
            print(f"{summary}; checkpoint {out}")
        acc.wait_for_everyone()
        return out


def train_classifier(cfg: ClassifierTrainConfig, run_dir: Path | None = None, resume: bool = False) -> Path:
    run_dir = Path(run_dir) if run_dir else Path(cfg.runs_dir) / cfg.name
    if not resume and (list_checkpoints(run_dir) or (run_dir / "classifier.safetensors").exists()):
        raise UserError(f"{run_dir} already holds a classifier run; continue it with --resume {run_dir} or pick "
                        f"another name (name=...)")
    return ClassifierTrainer(cfg, run_dir, resume=resume).fit()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m classifiers.train",
        description="Train a classifier (cross-entropy, SGD with a one-cycle schedule; PGD adversarial training "
                    "with adversarial.norm=linf|l2) and write it as a project checkpoint with its test accuracy "
                    "(and PGD robust accuracy).",
        epilog="Overrides are key=value with dotted paths, e.g. epochs=2 data.name=cifar10 arch=resnet18 width=32 "
               "adversarial.norm=linf adversarial.eps=0.1. Defaults: ClassifierTrainConfig in classifiers/train.py.",
    )
    p.add_argument("--config", help="YAML file with the settings that differ from the defaults (configs/classifiers/)")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue the run in RUN_DIR from its newest checkpoint")
    p.add_argument("--dry-run", action="store_true", help="print the resolved config and exit")
    p.add_argument("overrides", nargs="*", metavar="key=value")
    args = p.parse_args(argv)
    try:
        run_dir = None
        if args.resume:
            run_dir = Path(args.resume)
            if not (run_dir / "config.yaml").is_file():
                raise UserError(f"{run_dir} is not a classifier run folder (no config.yaml)")
            saved = read_yaml(run_dir / "config.yaml")
            cfg = load_config(ClassifierTrainConfig, None, args.overrides, base=saved)
            for key in ("arch", "width", "data"):
                if to_dict(cfg)[key] != saved.get(key):
                    raise UserError(f"cannot resume with a changed {key}; start a new run instead")
        else:
            cfg = load_config(ClassifierTrainConfig, args.config, args.overrides)
            if not cfg.name:
                cfg.name = Path(args.config).stem if args.config else cfg.arch
        if args.dry_run:
            print(dump_yaml(cfg), end="")
            return 0
        train_classifier(cfg, run_dir, resume=bool(args.resume))
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
