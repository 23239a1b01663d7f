"""Train a classifier, standard or adversarially robust, and write it in this project's format.

    python -m classifiers.train --config configs/classifiers/fmnist_resnet18.yaml
    python -m classifiers.train --config configs/classifiers/fmnist_resnet18_robust.yaml     # PGD training
    accelerate launch -m classifiers.train --config configs/classifiers/fmnist_vgg_small.yaml epochs=2
    python -m classifiers.train --resume runs/classifiers/fmnist_resnet18_robust

Standard training minimises cross-entropy; adversarial training (`adversarial.norm: linf | l2`)
minimises it on PGD examples made on the fly (Madry et al. 2018), optionally mixed with the clean
loss. The run folder is the inverter's (`infra.runs`): `config.yaml`, `stats.jsonl`, `tb/`,
`checkpoints/step-*/` for `--resume`, and the final `classifier.safetensors` (metadata: architecture,
classes, input size, mean/std, test accuracy, and robust accuracy for adversarial runs). Settings:
`classifiers.config.ClassifierTrainConfig`.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import set_seed

from infra.batches import training_stream
from infra.checkpoints import TrainState, load_latest_checkpoint, resume_point, save_checkpoint
from infra.cli import Parser
from infra.config import to_dict
from infra.datasets import load_data
from infra.devices import mixed_precision
from infra.errors import UserError, report_user_errors
from infra.lock import rank_zero_lock
from infra.runs import RunLog, add_run_arguments, ensure_new_run, plan_run, write_config

from .accuracy import Autocast, accuracy
from .architectures import ARCHITECTURES, build_arch
from .attacks import pgd
from .checkpoint import save_classifier
from .config import ClassifierTrainConfig
from .wrapper import ClassifierInfo

FINAL_FILE = "classifier.safetensors"
# Settings that fix the network's shape or what it was trained on: a resumed run must keep them.
FROZEN_ON_RESUME = ("arch", "width", "data")


def random_shift(images: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """Translate each image by up to `max_shift` pixels, filling with the edge values."""
    n, _, h, w = images.shape
    padded = F.pad(images, (max_shift,) * 4, mode="replicate")
    dy, dx = (torch.randint(0, 2 * max_shift + 1, (2, n), generator=generator)).to(images.device)
    rows = (torch.arange(h, device=images.device)[None] + dy[:, None])[:, :, None]  # n, h, 1
    cols = (torch.arange(w, device=images.device)[None] + dx[:, None])[:, None, :]  # n, 1, w
    return padded[torch.arange(n, device=images.device)[:, None, None], :, rows, cols].permute(0, 3, 1, 2)


class ClassifierTrainer:
    def __init__(self, cfg: ClassifierTrainConfig, run_dir: Path, resume: bool = False):
        self.cfg, self.run_dir = cfg, run_dir
        if cfg.arch not in ARCHITECTURES and not cfg.arch.startswith(("timm:", "torchvision:", "robustness:")):
            raise UserError(
                f"unknown arch {cfg.arch!r}; choose one of {', '.join(ARCHITECTURES)}, timm:<name>, "
                f"torchvision:<name> or robustness:<name>"
            )
        self.acc = acc = Accelerator(mixed_precision=mixed_precision(cfg.mixed_precision, key="mixed_precision"))
        if acc.is_main_process and not resume:
            write_config(run_dir, cfg)  # first: a run stopped during start-up can be started again
        self.data = load_data(cfg.data)
        set_seed(cfg.seed)
        model = build_arch(
            cfg.arch, len(self.data.classes), self.data.channels, cfg.width, image_size=cfg.data.resolution
        )
        self.stream = training_stream(self.data.train, cfg.data, cfg.batch_size, cfg.seed, acc)
        self.total = cfg.max_steps or max(1, math.ceil(cfg.epochs * self.stream.batches_per_epoch))
        optimizer = torch.optim.SGD(
            model.parameters(), lr=cfg.lr, momentum=cfg.momentum, nesterov=True, weight_decay=cfg.weight_decay
        )
        # Not passed to accelerate.prepare, which would step it once per process.
        self.schedule = torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=cfg.lr, total_steps=self.total, pct_start=0.15
        )
        self.model, self.optimizer = acc.prepare(model, optimizer)
        self.state = TrainState(self.stream)
        acc.register_for_checkpointing(self.schedule, self.state)
        if resume:
            load_latest_checkpoint(acc, run_dir)

    def _step_generator(self, step: int, salt: int) -> torch.Generator:
        # Augmentation and attack start points depend on (seed, step, rank) only: identical after a resume.
        return torch.Generator().manual_seed(
            (((self.cfg.seed * 1_000_003 + step) * 64 + self.acc.process_index) * 4 + salt) % 2**63
        )

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
            adv = pgd(
                Autocast(net, acc), images, labels, adv_cfg.train_attack(), generator=self._step_generator(step, 1)
            )
            net.train()
            batch = torch.cat([adv, images]) if adv_cfg.clean_weight > 0 else adv
        else:
            batch = images
        # Inputs stay in [-1, 1]: that is (x - 0.5) / 0.5 for x in [0, 1], the mean/std recorded below.
        with acc.autocast():
            logits = self.model(batch)
        losses = (
            F.cross_entropy(
                logits.float(),
                labels.repeat(len(batch) // len(labels)),
                label_smoothing=cfg.label_smoothing,
                reduction="none",
            )
            .view(-1, len(labels))
            .mean(1)
        )
        loss = (
            losses[0] if len(losses) == 1 else (1 - adv_cfg.clean_weight) * losses[0] + adv_cfg.clean_weight * losses[1]
        )
        self.optimizer.zero_grad(set_to_none=True)
        acc.backward(loss)
        self.optimizer.step()
        self.schedule.step()
        correct = (logits[: len(labels)].argmax(1) == labels).float().mean()
        return loss.detach(), correct.detach()

    def fit(self) -> Path:
        cfg, acc = self.cfg, self.acc
        main = acc.is_main_process
        self.model.train()
        sums = torch.zeros(2, device=acc.device)
        since = 0
        with RunLog(self.run_dir, cfg, self.total, self.state.step, f"train {cfg.arch}", main) as log:
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
                    record = {
                        f"loss/{key}": loss_mean,
                        f"train_acc/{key}": acc_mean,
                        "lr": self.schedule.get_last_lr()[0],
                    }
                    log.scalars(step, record, postfix={"loss": f"{loss_mean:.3f}", "acc": f"{acc_mean:.3f}"})
                if step % cfg.checkpoint_every == 0 and step < self.total:
                    save_checkpoint(acc, self.run_dir, step, cfg.keep_checkpoints)
                log.advance(step)
            log.bar.close()
            self.model.eval()
            metrics = {"test_accuracy": accuracy(self.model, self.data.test, cfg.eval_batch_size, acc)}
            if cfg.adversarial.norm != "none":
                attack = cfg.adversarial.eval_attack()
                metrics["robust_accuracy"] = accuracy(
                    self.model,
                    self.data.test,
                    cfg.eval_batch_size,
                    acc,
                    attack=attack,
                    limit=cfg.robust_eval_samples,
                    desc="PGD",
                )
                metrics["robust_attack"] = {
                    **to_dict(attack),
                    "samples": min(cfg.robust_eval_samples, len(self.data.test)),
                }
            save_checkpoint(acc, self.run_dir, self.total, cfg.keep_checkpoints)
            out = Path(cfg.out) if cfg.out else self.run_dir / FINAL_FILE
            if main:
                info = ClassifierInfo(
                    num_classes=len(self.data.classes),
                    in_channels=self.data.channels,
                    input_size=None,
                    mean=[0.5] * self.data.channels,
                    std=[0.5] * self.data.channels,
                    classes=self.data.classes,
                )
                extra = {
                    **metrics,
                    "data": cfg.data.name,
                    "resolution": cfg.data.resolution,
                    "steps": self.total,
                    "seed": cfg.seed,
                    "training": "standard" if cfg.adversarial.norm == "none" else "adversarial",
                    "adversarial": to_dict(cfg.adversarial) if cfg.adversarial.norm != "none" else None,
                }
                save_classifier(out, acc.unwrap_model(self.model), cfg.arch, cfg.width, info, extra)
                (self.run_dir / "metrics.json").write_text(
                    json.dumps({**metrics, "steps": self.total}, indent=1) + "\n"
                )
                log.summary(
                    self.total, {f"final/{k}": metrics[k] for k in ("test_accuracy", "robust_accuracy") if k in metrics}
                )
                summary = ", ".join(f"{k} {v:.4f}" for k, v in metrics.items() if isinstance(v, float))
                print(f"{summary}; checkpoint {out}")
        acc.wait_for_everyone()
        return out


def train_classifier(
    cfg: ClassifierTrainConfig, run_dir: Path, resume: bool = False, accept_old_marker: bool = False
) -> Path:
    """Train (or, with `resume`, continue) the classifier run in `run_dir`, holding its lock; returns the
    checkpoint's path. `accept_old_marker`: see `infra.checkpoints.resume_point`."""
    with rank_zero_lock(run_dir):  # a second writer of this folder gets one line naming this process
        if resume:
            resume_point(run_dir, accept_old_marker)
        else:
            ensure_new_run(run_dir, FINAL_FILE)
        return ClassifierTrainer(cfg, Path(run_dir), resume=resume).fit()


def parser() -> argparse.ArgumentParser:
    p = Parser(
        prog="python -m classifiers.train",
        description="Train a classifier (cross-entropy, SGD with a one-cycle schedule; PGD adversarial training "
        "with adversarial.norm=linf|l2) and write it as a project checkpoint with its test accuracy "
        "(and PGD robust accuracy).",
        epilog="Overrides are key=value with dotted paths, e.g. epochs=2 data.name=cifar10 arch=resnet18 width=32 "
        "adversarial.norm=linf adversarial.eps=0.1. Defaults: ClassifierTrainConfig in classifiers/config.py.",
    )
    add_run_arguments(
        p,
        config_help="YAML file with the settings that differ from the defaults (configs/classifiers/)",
        resume_help="continue the run in RUN_DIR from its newest checkpoint; arch, width and data cannot change",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)

    def work() -> int:
        plan = plan_run(
            ClassifierTrainConfig,
            args,
            frozen=FROZEN_ON_RESUME,
            frozen_reason="architecture or data set",
            default_name=lambda cfg: cfg.arch,
        )
        if args.dry_run:
            print(plan.describe(), end="")
            return 0
        train_classifier(plan.config, plan.run_dir, resume=plan.resume, accept_old_marker=plan.accept_old_marker)
        return 0

    return report_user_errors(work)


if __name__ == "__main__":
    sys.exit(main())
