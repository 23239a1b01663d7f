"""The inverter's settings: `train.py --config configs/<x>.yaml` fills this schema.

Defaults live here as dataclasses; a YAML file lists only what differs, and any key can be
overridden on the command line with a dotted path (`train.max_steps=2000 model.g.ch=64`). Loading,
type checks and the unknown-key errors are `infra.config`'s. The `data:` section is
`infra.datasets.DataConfig`, the `classifier:` section `classifiers.config.ClassifierConfig`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from classifiers.config import ClassifierConfig
from infra.datasets import DataConfig


@dataclass
class GeneratorConfig:
    ch: int = 32  # width multiplier of the architecture table
    dim_noise: int = 120  # noise dimensions (split into chunks when hierarchical)
    hierarchical: bool = True  # BigGAN's hierarchical latent: a noise chunk joins each block's condition
    cond_hidden: int = 256  # hidden width of the conditional batch norms' MLPs
    attention: int = 0  # resolution of the self-attention block (0: none)


@dataclass
class DiscriminatorConfig:
    ch: int = 32
    attention: int = 0


@dataclass
class ModelConfig:
    logit_norm: str = "standardize"  # standardize (per-dimension train-set statistics) | none (raw logits)
    g: GeneratorConfig = field(default_factory=GeneratorConfig)
    d: DiscriminatorConfig = field(default_factory=DiscriminatorConfig)


@dataclass
class TrainConfig:
    max_steps: int = 10000  # generator steps (each preceded by num_d_steps discriminator steps)
    batch_size: int = 64  # per process
    num_d_steps: int = 2
    g_lr: float = 1e-4
    d_lr: float = 4e-4  # two time-scale update rule: D learns faster than G
    betas: list[float] = field(default_factory=lambda: [0.0, 0.999])
    adam_eps: float = 1e-6
    ema_decay: float = 0.999
    ema_start: int = 1000  # before this step the EMA copy simply follows G
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
    keep_checkpoints: int = 3
    grid_images: int = 16  # test images in the fixed sample grid


@dataclass
class Config:
    name: str = ""  # run name; defaults to the config file's stem
    runs_dir: str = "runs"
    data: DataConfig = field(default_factory=DataConfig)
    classifier: ClassifierConfig = field(default_factory=ClassifierConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
