"""Configuration: defaults live here as dataclasses; YAML files and `key=value` overrides change them.

A YAML file only lists what differs from these defaults. Every key is checked: an unknown key is
an error that lists the valid ones, and a value of the wrong type is an error too (an int is
accepted where a float is expected). Command-line overrides use dotted paths, e.g.
`train.max_steps=100 model.g.ch=64`; their values are parsed as YAML (`true`, `1e-4`, `[1, 2]`).
"""

from __future__ import annotations

import copy
import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import UserError


@dataclass
class DataConfig:
    name: str = "fashion-mnist"  # fashion-mnist | cifar10 | cifar100 | imagefolder | synthetic
    root: str = "data"  # where data sets live (torchvision layout; imagefolder: the class-folder tree)
    resolution: int = 32  # images are brought to resolution x resolution
    hflip: bool = False  # random horizontal flips of training images
    download: bool = True  # let torchvision download a missing data set (needs network)
    num_workers: int = 4  # loader workers for data sets read from disk (imagefolder)
    on_device: bool = True  # keep in-memory data sets on the training device (fast for small data)
    synthetic_size: int = 512  # synthetic: images per split
    synthetic_classes: int = 10  # synthetic: number of classes
    synthetic_channels: int = 3  # synthetic: 1 or 3


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


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp))


def _coerce(value: Any, tp: Any, where: str) -> Any:
    """Check `value` against the annotation `tp`, returning it (ints widened to float)."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, where)
            except UserError as err:
                errors.append(str(err))
        raise UserError(errors[0] if errors else f"{where}: invalid value {value!r}")
    if origin is list:
        if not isinstance(value, (list, tuple)):
            raise UserError(f"{where}: expected a list, got {value!r}")
        (item,) = typing.get_args(tp)
        return [_coerce(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
    if tp is str and isinstance(value, bool):
        return "yes" if value else "no"  # YAML 1.1 reads a bare no/yes (as in mixed_precision: no) as a bool
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tp is float and isinstance(value, str):
        try:  # YAML 1.1 reads "1e-4" as a string
            return float(value)
        except ValueError:
            pass
    if tp in (int, float, str, bool) and (not isinstance(value, tp) or (tp is int and isinstance(value, bool))):
        raise UserError(f"{where}: expected {_type_name(tp)}, got {value!r}")
    return value


def from_dict(cls: type, data: dict, where: str = "") -> Any:
    """Build dataclass `cls` from a nested dict, rejecting unknown keys and wrong types."""
    if not isinstance(data, dict):
        raise UserError(f"{where or 'config'}: expected a mapping, got {data!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        prefix = f"{where}." if where else ""
        raise UserError(
            f"unknown config key {prefix}{unknown[0]}; valid keys here: {', '.join(prefix + k for k in fields)}"
        )
    kwargs = {}
    for name, value in data.items():
        tp = hints[name]
        key = f"{where}.{name}" if where else name
        if dataclasses.is_dataclass(tp):
            kwargs[name] = from_dict(tp, value or {}, key)
        else:
            kwargs[name] = _coerce(value, tp, key)
    return cls(**kwargs)


def to_dict(config: Any) -> dict:
    return dataclasses.asdict(config)


def set_dotted(data: dict, dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    node = data
    for part in parents:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise UserError(f"override {dotted}: {part} is not a section")
    node[last] = value


def parse_overrides(overrides: list[str]) -> list[tuple[str, Any]]:
    parsed = []
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise UserError(f"override {item!r} is not of the form key=value (e.g. train.max_steps=100)")
        parsed.append((key.strip(), yaml.safe_load(raw) if raw.strip() else None))
    return parsed


def read_yaml(path: str | Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"config file {path} does not exist")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise UserError(f"config file {path} is not valid YAML: {err}") from err
    if not isinstance(data, dict):
        raise UserError(f"config file {path} must hold a mapping of keys")
    return data


def load_config(cls: type, path: str | Path | None = None, overrides: list[str] = (), base: dict | None = None):
    """Defaults of `cls`, then `base` (a dict), then the YAML at `path`, then `key=value` overrides."""
    data = copy.deepcopy(base or {})
    if path is not None:
        data = _merge(data, read_yaml(path))
    for key, value in parse_overrides(list(overrides)):
        set_dotted(data, key, value)
    return from_dict(cls, data)


def _merge(base: dict, update: dict) -> dict:
    out = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def dump_yaml(config: Any) -> str:
    return yaml.safe_dump(to_dict(config), sort_keys=False)
