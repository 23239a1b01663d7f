"""This project's classifier checkpoint: one safetensors file whose header holds JSON metadata.

Metadata: format version, architecture name and width, class count and names, input channels,
input size, mean/std, and whatever the trainer measured (test accuracy, training settings).
Being safetensors, loading it never executes code.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open, save_file

from infra.errors import UserError

from .architectures import build_arch
from .wrapper import ClassifierInfo

FORMAT = "logit-inversion-classifier/1"


def save_classifier(
    path: str | Path,
    model: torch.nn.Module,
    arch: str,
    width: int | None,
    info: ClassifierInfo,
    extra: dict | None = None,
) -> Path:
    """Write atomically: a crash mid-write leaves the previous file intact."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "arch": arch,
        "width": width,
        "num_classes": info.num_classes,
        "in_channels": info.in_channels,
        "input_size": info.input_size,
        "mean": info.mean,
        "std": info.std,
        "classes": info.classes,
        **(extra or {}),
    }
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    tmp = path.with_name(path.name + ".tmp")
    save_file(state, str(tmp), metadata={"format": FORMAT, "meta": json.dumps(meta)})
    os.replace(tmp, path)
    return path


def missing_checkpoint_hint(path: Path) -> str:
    """How to make a missing classifier checkpoint: the classifier config that writes it, if one does."""
    config = Path("configs/classifiers") / f"{path.parent.name}.yaml"
    if path.name == "classifier.safetensors" and config.is_file():
        return f"train it with `python -m classifiers.train --config {config}`"
    return (
        "train one with `python -m classifiers.train --config configs/classifiers/<name>.yaml` (it writes "
        "runs/classifiers/<name>/classifier.safetensors), or use a shipped one in checkpoints/fmnist/"
    )


def read_metadata(path: str | Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"classifier checkpoint {path} does not exist; {missing_checkpoint_hint(path)}")
    try:
        with safe_open(str(path), framework="pt") as f:
            header = f.metadata() or {}
    except (SafetensorError, OSError, ValueError) as err:
        raise UserError(
            f"classifier checkpoint {path} cannot be read ({err}); it may be truncated or not a "
            f"safetensors file: train or convert it again"
        ) from err
    if header.get("format") != FORMAT:
        raise UserError(
            f"{path} is a safetensors file but not a logit-inversion classifier checkpoint "
            f"(no '{FORMAT}' metadata); load it with classifier.name=timm:<arch> and classifier.checkpoint"
        )
    return json.loads(header["meta"])


def update_metadata(path: str | Path, extra: dict) -> dict:
    """Merge `extra` into the metadata of an existing checkpoint, rewriting it atomically."""
    meta = read_metadata(path)
    meta.update(extra)
    state = load_file(str(path))
    tmp = Path(str(path) + ".tmp")
    save_file(state, str(tmp), metadata={"format": FORMAT, "meta": json.dumps(meta)})
    os.replace(tmp, path)
    return meta


def load_classifier_checkpoint(path: str | Path) -> tuple[torch.nn.Module, ClassifierInfo, dict]:
    meta = read_metadata(path)
    model = build_arch(
        meta["arch"],
        meta["num_classes"],
        meta["in_channels"],
        meta.get("width"),
        image_size=meta.get("resolution") or 32,
    )
    try:
        model.load_state_dict(load_file(str(path)))
    except (SafetensorError, RuntimeError) as err:
        raise UserError(f"classifier checkpoint {path} does not match its architecture {meta['arch']}: {err}") from err
    info = ClassifierInfo(
        num_classes=meta["num_classes"],
        in_channels=meta["in_channels"],
        input_size=meta["input_size"],
        mean=meta["mean"],
        std=meta["std"],
        source=f"project:{path}",
        classes=meta.get("classes", []),
    )
    return model, info, meta
