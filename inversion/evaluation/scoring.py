"""Scoring an inverter as the commands and the experiments both do: open a run, load the evaluator, and
compute the fidelity table's estimates.

`FidelitySettings` is the one table of defaults: `evaluate.py fidelity` builds its options from it
and `score_fidelity` takes it, so the command line and the Python API cannot drift apart.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import torch

from classifiers import ClassifierConfig, FrozenClassifier, load_classifier
from infra.datasets import ImageData, load_data
from infra.errors import UserError
from infra.estimate import Estimate

from ..inverter import Inverter
from .fidelity import Collected, Reconstruct, collect, inverter_reconstruct, reference_features, summarize

EVALUATOR_HINT = (
    "train one with `python -m classifiers.train --config configs/classifiers/fmnist_evaluator.yaml` "
    "(another architecture and seed than the inverted classifier)"
)


@dataclass
class FidelitySettings:
    """How the fidelity table is measured; each field is also an option of `evaluate.py fidelity`."""

    limit: int = 0  # the first N test images (0: all)
    noise_draws: int = 3  # random noise draws per image, for the noise-mean and diversity rows
    candidates: int = 1000  # identification: source images per group
    batch_size: int = 500
    reference_images: int = 10000  # real training images for KNN distance and PRDC (0 skips them)
    realism: bool = True  # FID/KID
    inception_weights: str | None = None  # torch-fidelity Inception-v3 weights (optional)

    HELP = {
        "limit": "use the first N test images (default: all)",
        "noise_draws": "K random noise draws per image (default 3)",
        "candidates": "identification: sources per group (default 1000)",
        "batch_size": "images per batch (default 500)",
        "reference_images": "real training images the KNN distance and precision/recall/density/coverage compare "
        "reconstructions with (default 10000; 0 skips these measures)",
        "inception_weights": "torch-fidelity Inception-v3 weights for Inception FID (optional)",
    }


def open_inverter(run: str | Path, device, data_root: str | None = None) -> tuple[Inverter, ImageData]:
    """The inverter of a run folder (or snapshot file) and its data set (from `data_root` when given)."""
    inverter = Inverter.load(run, device=device)
    data_cfg = inverter.config.data
    if data_root:
        data_cfg = dataclasses.replace(data_cfg, root=data_root)
    return inverter, load_data(data_cfg)


def load_evaluator(
    path: str | None, classes: list[str], channels: int, device, required: bool = True
) -> FrozenClassifier | None:
    """The independent evaluator, which must judge the same classes as the data it is given."""
    if path is None:
        if required:
            raise UserError(
                f"--evaluator PATH is required: the independent classifier whose features judge "
                f"reconstructions; {EVALUATOR_HINT}"
            )
        return None
    evaluator = load_classifier(ClassifierConfig(name="project", checkpoint=str(path)), channels, device)
    if evaluator.num_classes != len(classes):
        raise UserError(
            f"the evaluator {path} has {evaluator.num_classes} classes but the data has {len(classes)}: it cannot "
            f"judge these reconstructions; {EVALUATOR_HINT}"
        )
    if evaluator.info.classes and list(evaluator.info.classes) != list(classes):
        raise UserError(
            f"the evaluator {path} was trained on the classes {', '.join(evaluator.info.classes[:4])}, ... but the "
            f"data's are {', '.join(classes[:4])}, ...: it cannot judge these reconstructions; {EVALUATOR_HINT}"
        )
    return evaluator


def first_indices(n_total: int, limit: int | None) -> torch.Tensor:
    """The first `limit` indices of a split (all of them when `limit` is 0 or None)."""
    return torch.arange(n_total if not limit else min(limit, n_total))


def summarize_columns(
    collected: Collected,
    settings: FidelitySettings,
    evaluator_path: str | None,
    masks: dict | None = None,
    evaluator=None,
    data: ImageData | None = None,
    device="cpu",
) -> dict[str, dict[str, Estimate]]:
    """The fidelity estimates for all images (or each named subset of `masks`); with the evaluator and
    the data, the model-inversion measures against `settings.reference_images` real training images too."""
    masks = masks or {"all": None}
    reference = None
    if settings.reference_images and evaluator is not None and data is not None:
        reference = reference_features(evaluator, data.train, settings.reference_images, device, settings.batch_size)
    return {
        name: summarize(
            collected,
            mask,
            candidates=settings.candidates,
            evaluator_checkpoint=evaluator_path,
            inception_weights=settings.inception_weights,
            realism=settings.realism,
            reference=reference,
        )
        for name, mask in masks.items()
    }


def score_fidelity(
    reconstruct: Reconstruct,
    classifier: FrozenClassifier,
    data: ImageData,
    evaluator_path: str,
    settings: FidelitySettings | None = None,
    lpips_model=None,
    device="cpu",
) -> dict[str, Estimate]:
    """The fidelity table's estimates of a reconstruction method (`inverter_reconstruct(inverter)`, or any
    function of (logits, noise, seed)) on the test split."""
    settings = settings or FidelitySettings()
    evaluator = load_evaluator(evaluator_path, data.classes, data.channels, device)
    collected = collect(
        reconstruct,
        classifier,
        evaluator,
        data.test,
        first_indices(len(data.test), settings.limit),
        noise_draws=settings.noise_draws,
        batch_size=settings.batch_size,
        lpips_model=lpips_model,
        device=device,
        border=data.border,
    )
    return summarize_columns(collected, settings, evaluator_path, evaluator=evaluator, data=data, device=device)["all"]


def score_inverter(
    inverter: Inverter, data: ImageData, evaluator_path: str, settings: FidelitySettings | None = None, lpips_model=None
) -> dict[str, Estimate]:
    """`score_fidelity` of an inverter (its generator at noise 0 and with random noise)."""
    return score_fidelity(
        inverter_reconstruct(inverter),
        inverter.classifier,
        data,
        evaluator_path,
        settings,
        lpips_model=lpips_model,
        device=inverter.device,
    )
