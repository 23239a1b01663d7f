"""Build the frozen classifier named by a `ClassifierConfig`.

    project            this project's checkpoint (`checkpoint: PATH`, written by classifiers.train)
    timm:<name>        timm.create_model; pretrained through timm's own cache, or `checkpoint: PATH`
    torchvision:<name> torchvision.models.get_model; pretrained "DEFAULT" weights, or `checkpoint: PATH`
    robustness:<arch>  a MadryLab robustness checkpoint (`checkpoint: PATH`; see classifiers/robustness.py)
    random:<arch>      a project architecture with random weights (tests, throughput benchmarks)

The class count always comes from the network; a `num_classes` in the config that disagrees is an
error rather than a silent mismatch.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torchvision
from safetensors.torch import load_file

from infra.errors import UserError
from infra.optional import require

from .architectures import build_arch
from .checkpoint import load_classifier_checkpoint
from .config import ClassifierConfig
from .outputs import parse_output
from .robustness import load_robustness, read_pickle_checkpoint
from .wrapper import IMAGENET_MEAN, IMAGENET_STD, ClassifierInfo, FrozenClassifier


def _load_weights_file(model: torch.nn.Module, path: str, trust: bool) -> None:
    p = Path(path)
    if not p.is_file():
        raise UserError(f"classifier weights {p} do not exist (classifier.checkpoint)")
    if p.suffix == ".safetensors":
        state = load_file(str(p))
    else:
        state = read_pickle_checkpoint(p, trust)
        for key in ("state_dict", "model"):
            if isinstance(state, dict) and key in state and isinstance(state[key], dict):
                state = state[key]
    try:
        model.load_state_dict(state)
    except Exception as err:
        raise UserError(f"cannot load classifier weights {p} into {type(model).__name__}: {err}") from err


def _timm(name: str, cfg: ClassifierConfig) -> tuple[torch.nn.Module, ClassifierInfo]:
    timm = require("timm", f"classifier.name=timm:{name}")
    pretrained = cfg.pretrained and cfg.checkpoint is None
    try:
        model = timm.create_model(name, pretrained=pretrained)
    except RuntimeError as err:
        raise UserError(f"timm cannot create {name!r}: {err}") from err
    except Exception as err:  # hub unreachable, weights missing from the cache
        raise UserError(
            f"timm could not fetch pretrained weights for {name!r} ({type(err).__name__}: {err}); "
            f"point classifier.checkpoint at a local weights file"
        ) from err
    if cfg.checkpoint:
        _load_weights_file(model, cfg.checkpoint, cfg.trust_checkpoint)
    data_cfg = timm.data.resolve_data_config({}, model=model)
    info = ClassifierInfo(
        num_classes=model.num_classes,
        in_channels=data_cfg["input_size"][0],
        input_size=data_cfg["input_size"][-1],
        mean=list(data_cfg["mean"]),
        std=list(data_cfg["std"]),
        source=f"timm:{name}",
    )
    return model, info


def _torchvision(name: str, cfg: ClassifierConfig) -> tuple[torch.nn.Module, ClassifierInfo]:
    try:
        weights_enum = torchvision.models.get_model_weights(name)
    except ValueError as err:
        raise UserError(f"torchvision has no model {name!r}: {err}") from err
    weights = weights_enum.DEFAULT if cfg.pretrained and cfg.checkpoint is None else None
    try:
        model = torchvision.models.get_model(name, weights=weights)
    except Exception as err:
        raise UserError(
            f"torchvision could not fetch weights for {name!r} ({type(err).__name__}: {err}); "
            f"point classifier.checkpoint at a local weights file"
        ) from err
    if cfg.checkpoint:
        _load_weights_file(model, cfg.checkpoint, cfg.trust_checkpoint)
    preset = weights_enum.DEFAULT.transforms()
    size = preset.crop_size[0] if hasattr(preset, "crop_size") else 224
    mean = list(getattr(preset, "mean", IMAGENET_MEAN))
    std = list(getattr(preset, "std", IMAGENET_STD))
    num_classes = len(weights_enum.DEFAULT.meta["categories"])
    info = ClassifierInfo(
        num_classes=num_classes,
        in_channels=3,
        input_size=size,
        mean=mean,
        std=std,
        source=f"torchvision:{name}",
        classes=list(weights_enum.DEFAULT.meta["categories"]),
    )
    return model, info


def load_classifier(cfg: ClassifierConfig, data_channels: int, device="cpu") -> FrozenClassifier:
    """The frozen classifier for `cfg`, on `device`, taking [-1, 1] images with `data_channels` channels."""
    name = cfg.name
    if name == "project":
        if not cfg.checkpoint:
            raise UserError(
                "classifier.name=project needs classifier.checkpoint=PATH (a file written by "
                "`python -m classifiers.train`)"
            )
        model, info, _ = load_classifier_checkpoint(cfg.checkpoint)
    elif name.startswith("timm:"):
        model, info = _timm(name[5:], cfg)
    elif name.startswith("torchvision:"):
        model, info = _torchvision(name[12:], cfg)
    elif name.startswith("robustness:"):
        if not cfg.checkpoint:
            raise UserError(f"classifier.name={name} needs classifier.checkpoint=PATH (the robustness library's file)")
        model, info = load_robustness(name[11:], cfg.checkpoint, trust=cfg.trust_checkpoint)
    elif name.startswith("random:"):
        num_classes = cfg.num_classes or 10
        with torch.random.fork_rng(devices=[]):  # same random weights every time, global RNG untouched
            torch.manual_seed(0)
            model = build_arch(name[7:], num_classes, data_channels)
        info = ClassifierInfo(
            num_classes=num_classes,
            in_channels=data_channels,
            input_size=None,
            mean=[0.5] * data_channels,
            std=[0.5] * data_channels,
            source=name,
        )
    else:
        raise UserError(
            f"unknown classifier {name!r} (classifier.name); use project, timm:<name>, "
            f"torchvision:<name>, robustness:<arch> or random:<arch>"
        )
    if cfg.num_classes is not None and cfg.num_classes != info.num_classes:
        raise UserError(
            f"the classifier {info.source} has {info.num_classes} classes but the config says "
            f"classifier.num_classes={cfg.num_classes}; remove that key or fix it"
        )
    if cfg.input_size is not None:
        info.input_size = cfg.input_size
    if cfg.mean is not None:
        info.mean = list(cfg.mean)
    if cfg.std is not None:
        info.std = list(cfg.std)
    if len(info.mean) != info.in_channels or len(info.std) != info.in_channels:
        raise UserError(
            f"classifier mean/std have {len(info.mean)}/{len(info.std)} values for {info.in_channels} input channels"
        )
    return FrozenClassifier(model, info, parse_output(cfg.output)).to(device)
