"""The inverter's settings: `train.py --config configs/<x>.yaml` fills this schema.

Defaults live here as dataclasses; a YAML file lists only what differs, and any key can be
overridden on the command line with a dotted path (`train.max_steps=2000 model.g.ch=64`). Loading,
type checks and the unknown-key errors are `infra.config`'s. The `data:` section is
`infra.datasets.DataConfig`, the `classifier:` section `classifiers.config.ClassifierConfig`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from classifiers.config import ClassifierConfig
from infra.config import Each, above, at_least, between, one_of
from infra.datasets import DataConfig

# torch.compile's modes for G and D (`train.compile`); "no" runs eager.
COMPILE_MODES = ("no", "default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")


@dataclass
class GeneratorConfig:
    ch: int = 32  # width multiplier of the architecture table
    dim_noise: int = 120  # noise dimensions (split into chunks when hierarchical)
    hierarchical: bool = True  # BigGAN's hierarchical latent: a noise chunk joins each block's condition
    cond_hidden: int = 256  # hidden width of the conditional batch norms' MLPs
    attention: int = 0  # resolution of the self-attention block (0: none)
    logit_input: bool = False  # the logits also feed the input layer (the paper: batch norms only)
    # Random Fourier features of the standardised logits join them wherever G takes them
    # (inversion/model/logit_fourier_features.py): how many projections (0: none, the paper) and the
    # standard deviation of their frequencies.
    fourier_features: int = 0
    fourier_scale: float = 1.0

    LIMITS: ClassVar[dict] = {
        "ch": at_least(1),
        "fourier_features": at_least(0),
        "fourier_scale": above(0),
        "dim_noise": at_least(1),
        "cond_hidden": at_least(1),
        "attention": at_least(0),
    }


@dataclass
class DiscriminatorConfig:
    ch: int = 32
    attention: int = 0

    LIMITS: ClassVar[dict] = {"ch": at_least(1), "attention": at_least(0)}


@dataclass
class ModelConfig:
    logit_norm: str = "standardize"  # standardize (per-dimension train-set statistics) | none (raw logits)
    g: GeneratorConfig = field(default_factory=GeneratorConfig)
    d: DiscriminatorConfig = field(default_factory=DiscriminatorConfig)

    LIMITS: ClassVar[dict] = {"logit_norm": one_of("standardize", "none")}


@dataclass
class TrainConfig:
    max_steps: int = 10000  # generator steps (each preceded by num_d_steps discriminator steps)
    max_minutes: float = 0  # also stop (checkpoint and snapshot written) after this much training time; 0: no limit
    batch_size: int = 64  # per process
    num_d_steps: int = 2
    g_lr: float = 1e-4
    d_lr: float = 4e-4  # two time-scale update rule: D learns faster than G
    # G's learning rate falls from g_lr along a half cosine to g_lr * g_lr_final over the first
    # g_lr_decay_steps steps and stays there (0: constant, as in the paper). Large steps late in training
    # keep G circling a minimum; a decay lets it settle (D's rate is left alone).
    g_lr_decay_steps: int = 0
    g_lr_final: float = 0.1
    betas: list[float] = field(default_factory=lambda: [0.0, 0.999])
    adam_eps: float = 1e-6
    ema_decay: float = 0.999  # per step; see ema_half_life_images
    ema_half_life_images: float = 0  # the EMA's half-life in training images (overrides ema_decay when > 0)
    ema_start: int = 1000  # before this step the EMA copy simply follows G
    # The generator's loss (inversion/training/reconstruction_loss.py): weights of the hinge adversarial
    # term, the L1 pixel error of G(phi(x), noise) against x, and the error of the inverted classifier's
    # stage activations of the two. The paper uses the adversarial term alone (configs/paper_*.yaml).
    adversarial_weight: float = 1.0
    adversarial_start: int = 0  # steps of the reconstruction terms alone (no D) before the adversarial term
    pixel_loss_weight: float = 0.0
    feature_loss_weight: float = 0.0
    logit_loss_weight: float = 0.0  # ablation: MSE between phi(G(z)) and z (standardised); off in the paper
    mixed_precision: str = "auto"  # auto (bf16 on GPU, fp32 on CPU) | no | bf16
    channels_last: str = "auto"  # auto (on GPU) | yes | no: NHWC convolutions for G, D and the real images
    fused_adam: str = "auto"  # auto (on GPU) | yes | no: one fused kernel per optimiser step
    compile: str = "no"  # no | default | reduce-overhead (adds CUDA graphs) | max-autotune: torch.compile G and D
    compile_backend: str = "inductor"  # torch.compile backend when compile is not "no"
    seed: int = 0
    logit_stats_samples: int = 50000  # training images used to measure the logit statistics
    log_every: int = 50
    sample_every: int = 500
    checkpoint_every: int = 1000
    keep_checkpoints: int = 3  # 0 keeps them all
    keep_snapshots: bool = False  # also keep each checkpoint's snapshot as snapshots/step-<N>.safetensors
    grid_images: int = 16  # test images in the fixed sample grid
    standing_samples: int = 1024  # training images whose logits measure the EMA generator's batch-norm
    # statistics before each snapshot and grid (standing statistics); 0 keeps the live generator's

    LIMITS: ClassVar[dict] = {
        "max_steps": at_least(1),
        "max_minutes": at_least(0),
        "batch_size": at_least(1),
        "num_d_steps": at_least(1),
        "g_lr": above(0),
        "d_lr": above(0),
        "g_lr_decay_steps": at_least(0),
        "g_lr_final": between(0, 1),
        "betas": Each(between(0, 1, high_open=True), length=2),
        "adam_eps": above(0),
        "ema_decay": between(0, 1),
        "ema_half_life_images": at_least(0),
        "ema_start": at_least(0),
        "adversarial_weight": at_least(0),
        "adversarial_start": at_least(0),
        "pixel_loss_weight": at_least(0),
        "feature_loss_weight": at_least(0),
        "logit_loss_weight": at_least(0),
        "mixed_precision": one_of("auto", "no", "bf16"),
        "channels_last": one_of("auto", "yes", "no"),
        "fused_adam": one_of("auto", "yes", "no"),
        "compile": one_of(*COMPILE_MODES),
        "seed": at_least(0),
        "logit_stats_samples": at_least(1),
        "log_every": at_least(1),
        "sample_every": at_least(1),
        "checkpoint_every": at_least(1),
        "keep_checkpoints": at_least(0),
        "grid_images": at_least(1),
        "standing_samples": at_least(0),
    }


@dataclass
class Config:
    name: str = ""  # run name; defaults to the config file's stem
    runs_dir: str = "runs"
    data: DataConfig = field(default_factory=DataConfig)
    classifier: ClassifierConfig = field(default_factory=ClassifierConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
