"""The classifiers' settings: which frozen classifier to load, and how to train one.

- `ClassifierConfig`: the `classifier:` section of an inverter's config (what to load and how its
  inputs are normalised); also what every evaluation command builds for a checkpoint file.
- `ClassifierTrainConfig` (with `AdversarialConfig`): `python -m classifiers.train`'s settings.
  A YAML file in `configs/classifiers/` lists only what differs from these defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from infra.config import Each, above, at_least, between, one_of
from infra.datasets import DataConfig

from .attacks import PGDConfig, pgd_config
from .outputs import OutputSpec


@dataclass
class ClassifierConfig:
    # "project" (this project's safetensors checkpoint, given by `checkpoint`), "timm:<name>",
    # "torchvision:<name>", "robustness:<arch>" (a MadryLab robustness checkpoint, given by
    # `checkpoint`), or "random:<arch>" (a project architecture with random weights; tests).
    name: str = "project"
    checkpoint: str | None = None  # weights file; for timm/torchvision it replaces pretrained weights
    trust_checkpoint: bool = False  # allow pickled checkpoints that execute code on load (robustness files)
    pretrained: bool = True  # timm/torchvision: load the library's pretrained weights
    num_classes: int | None = None  # if set, must equal the classifier's class count
    input_size: int | None = None  # override the classifier's input resolution
    mean: list[float] | None = None  # override the classifier's input normalisation
    std: list[float] | None = None
    # What the inverter is given (classifiers/outputs.py): logits, softmax, log_softmax, label, topk:K,
    # round:D or topk:K+round:D, as a prediction API would return it.
    output: str = "logits"

    LIMITS: ClassVar[dict] = {
        "output": OutputSpec(),
        "num_classes": at_least(1),
        "input_size": at_least(1),
        "mean": Each(between(-10, 10)),
        "std": Each(above(0)),
    }


@dataclass
class AdversarialConfig:
    norm: str = "none"  # none (standard training) | linf | l2
    eps: float = 0.1  # radius in [0, 1] pixel units
    steps: int = 7  # PGD steps per training batch
    step_size: float = 0.025
    random_start: bool = True
    clean_weight: float = 0.0  # loss = (1 - w) * adversarial + w * clean
    eval_steps: int = 20  # PGD steps for the robust accuracy measured at the end
    eval_step_size: float = 0.0  # 0: the standard rule, 2.5 * eps / eval_steps

    LIMITS: ClassVar[dict] = {
        "norm": one_of("none", "linf", "l2"),
        "eps": at_least(0),
        "steps": at_least(1),
        "step_size": above(0),
        "clean_weight": between(0, 1),
        "eval_steps": at_least(1),
        "eval_step_size": at_least(0),
    }

    def train_attack(self) -> PGDConfig:
        return PGDConfig(
            norm=self.norm, eps=self.eps, steps=self.steps, step_size=self.step_size, random_start=self.random_start
        )

    def eval_attack(self) -> PGDConfig:
        return pgd_config(self.norm, self.eps, self.eval_steps, step_size=self.eval_step_size or None)


@dataclass
class ClassifierTrainConfig:
    name: str = ""  # run name; defaults to the config file's stem (or the architecture without one)
    runs_dir: str = "runs/classifiers"
    out: str = ""  # checkpoint path; default <runs_dir>/<name>/classifier.safetensors
    data: DataConfig = field(default_factory=DataConfig)
    arch: str = "vgg_small"  # one of classifiers.architectures.ARCHITECTURES, timm:<name> or torchvision:<name>
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
    mixed_precision: str = "auto"  # auto (bf16 on a GPU, fp32 on a CPU) | no | bf16
    eval_batch_size: int = 512
    robust_eval_samples: int = 10000  # test images attacked for the final robust accuracy
    log_every: int = 50
    checkpoint_every: int = 1000
    keep_checkpoints: int = 2  # 0 keeps them all

    LIMITS: ClassVar[dict] = {
        "width": at_least(1),
        "epochs": above(0),
        "max_steps": at_least(0),
        "batch_size": at_least(1),
        "lr": above(0),
        "momentum": between(0, 1, high_open=True),
        "weight_decay": at_least(0),
        "label_smoothing": between(0, 1, high_open=True),
        "seed": at_least(0),
        "mixed_precision": one_of("auto", "no", "bf16"),
        "eval_batch_size": at_least(1),
        "robust_eval_samples": at_least(1),
        "log_every": at_least(1),
        "checkpoint_every": at_least(1),
        "keep_checkpoints": at_least(0),
    }
