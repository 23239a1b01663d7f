"""Realism: FID and KID between reconstructions and real images, computed by torch-fidelity.

The in-domain yardstick is the independent evaluator classifier, registered with torch-fidelity as
the feature extractor "logit-inversion-evaluator" (its penultimate features); torch-fidelity hands
it uint8 RGB batches, which it converts back to [-1, 1] at the data's channel count. Inception-v3
FID (torch-fidelity's "inception-v3-compat") is computed too when its weights are present locally
(`inception_weights`); nothing is downloaded. Every number is labelled with its extractor.
torch-fidelity is an optional dependency, imported when a number is asked for.

The evaluator's FID carries a 95% interval from a bootstrap over the test images: the features are
extracted once (with torch-fidelity's own extractor and statistics functions, so the point value is
torch-fidelity's), then FID is recomputed on `FID_DRAWS` resamples, reconstruction i drawn together
with its source i. FID is biased upward at a finite sample size, and a resample's duplicates add to
that bias, so a percentile interval would sit to the right of the value; the interval is instead the
value plus or minus 1.96 bootstrap standard deviations. It measures sampling spread, which is what
two runs scored on the same number of images differ by; the finite-sample bias is common to both.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from classifiers import ClassifierConfig, load_classifier
from infra.datasets import to_uint8
from infra.estimate import Estimate, value_plus_minus
from infra.optional import require

EXTRACTOR = "logit-inversion-evaluator"


class _UInt8Images(Dataset):
    """uint8 RGB (N, 3, H, W) tensors, as torch-fidelity wants its inputs."""

    def __init__(self, images: torch.Tensor):
        images = images.cpu()
        if images.dtype != torch.uint8:
            images = to_uint8(images)
        self.images = images.expand(-1, 3, -1, -1) if images.shape[1] == 1 else images

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i):
        return self.images[i]


def _extractor_class():
    FeatureExtractorBase = require("torch_fidelity.feature_extractor_base", "FID and KID").FeatureExtractorBase

    class EvaluatorFeatures(FeatureExtractorBase):
        """Penultimate features of a project classifier checkpoint (`feature_extractor_weights_path`)."""

        def __init__(self, name, features_list, feature_extractor_weights_path=None, **kwargs):
            super().__init__(name, features_list)
            if feature_extractor_weights_path is None:
                raise ValueError(f"{EXTRACTOR} needs feature_extractor_weights_path (an evaluator checkpoint)")
            self.classifier = load_classifier(
                ClassifierConfig(name="project", checkpoint=str(feature_extractor_weights_path)), data_channels=3
            )
            self.channels = self.classifier.info.in_channels

        @staticmethod
        def get_provided_features_list():
            return ("features",)

        @staticmethod
        def get_default_feature_layer_for_metric(metric):
            return "features"

        @staticmethod
        def can_be_compiled():
            return False

        @staticmethod
        def get_dummy_input_for_compile():
            return torch.zeros(1, 3, 32, 32, dtype=torch.uint8)

        def forward(self, x):
            images = x.float() / 127.5 - 1
            if self.channels == 1:
                images = images[:, :1]  # torch-fidelity's inputs are RGB; grey data had its channel repeated
            return (self.classifier.features(images).float(),)

    return EvaluatorFeatures


def register() -> None:
    """Register the evaluator extractor with torch-fidelity (idempotent)."""
    registry = require("torch_fidelity.registry", "FID and KID")
    if EXTRACTOR not in registry.FEATURE_EXTRACTORS_REGISTRY:
        registry.register_feature_extractor(EXTRACTOR, _extractor_class())


INCEPTION_DIMS = 2048  # torch-fidelity's Inception-v3 pool features
FID_DRAWS = 200  # bootstrap resamples for the FID interval


def frechet_distance(a: torch.Tensor, b: torch.Tensor) -> float:
    """FID between two (N, D) feature sets, by torch-fidelity's own statistics and distance."""
    metric_fid = require("torch_fidelity.metric_fid", "FID")
    stats = [metric_fid.fid_features_to_statistics(f.cpu()) for f in (a, b)]
    return metric_fid.fid_statistics_to_metric(*stats, verbose=False)[metric_fid.KEY_METRIC_FID]


def fid_estimate(fake: torch.Tensor, real: torch.Tensor, draws: int = FID_DRAWS, seed: int = 0) -> Estimate:
    """The FID of `fake` against `real` features with its 95% interval: FID +/- 1.96 bootstrap standard
    deviations. Rows are resampled in pairs when the two sets are the same length (reconstruction i with
    its source i: the pairing removes the shared image-to-image variation), independently otherwise."""
    generator = torch.Generator().manual_seed(seed)
    paired = len(fake) == len(real)
    values = []
    for _ in range(draws):
        i = torch.randint(len(fake), (len(fake),), generator=generator)
        j = i if paired else torch.randint(len(real), (len(real),), generator=generator)
        values.append(frechet_distance(fake[i], real[j]))
    return value_plus_minus(frechet_distance(fake, real), float(np.std(values, ddof=1)), len(fake))


def evaluator_features(images: Dataset, evaluator_checkpoint: str | Path, cuda: bool, batch_size: int) -> torch.Tensor:
    """The registered evaluator extractor's features of a uint8 dataset, as torch-fidelity computes them."""
    utils = require("torch_fidelity.utils", "FID and KID")
    register()
    extractor = utils.create_feature_extractor(
        EXTRACTOR, ["features"], cuda=cuda, feature_extractor_weights_path=str(evaluator_checkpoint), verbose=False
    )
    return utils.get_featuresdict_from_dataset(
        images, extractor, batch_size=batch_size, cuda=cuda, save_cpu_ram=True, verbose=False
    )["features"]


def fid_kid(
    fake: torch.Tensor,
    real: torch.Tensor,
    evaluator_checkpoint: str | Path,
    evaluator_dims: int,
    inception_weights: str | Path | None = None,
    kid_subset_size: int = 1000,
    batch_size: int = 500,
) -> dict[str, Estimate]:
    """FID and KID of `fake` against `real` (both [-1, 1] or uint8, N x C x H x W), labelled by extractor.

    An extractor's numbers are reported only on at least twice as many images as its features have
    dimensions (`evaluator_dims` for the evaluator, 2048 for Inception-v3): a covariance from fewer
    samples than that is too noisy for FID to mean anything, so the estimate is then missing and says why.
    """
    n = min(len(fake), len(real))

    def too_few(dims: int) -> str | None:
        return f"not reported: {n} images < 2 x {dims} feature dimensions" if n < 2 * dims else None

    torch_fidelity = require("torch_fidelity", "FID and KID")
    register()
    cuda = torch.cuda.is_available()
    fake_ds, real_ds = _UInt8Images(fake), _UInt8Images(real)
    subset = max(2, min(kid_subset_size, len(fake_ds), len(real_ds)))
    common = dict(
        input1=fake_ds,
        input2=real_ds,
        fid=True,
        kid=True,
        kid_subset_size=subset,
        cuda=cuda,
        batch_size=batch_size,
        cache=False,
        verbose=False,
        save_cpu_ram=True,
    )
    out: dict[str, Estimate] = {}
    if reason := too_few(evaluator_dims):
        out[f"fid[{EXTRACTOR}]"] = out[f"kid[{EXTRACTOR}]"] = Estimate.missing(reason)
    else:
        metric_kid = require("torch_fidelity.metric_kid", "KID")
        f_fake, f_real = (evaluator_features(ds, evaluator_checkpoint, cuda, batch_size) for ds in (fake_ds, real_ds))
        out[f"fid[{EXTRACTOR}]"] = fid_estimate(f_fake, f_real)
        kid = metric_kid.kid_features_to_metric(f_fake, f_real, kid_subset_size=subset, verbose=False)
        out[f"kid[{EXTRACTOR}]"] = Estimate(
            kid[metric_kid.KEY_METRIC_KID_MEAN],
            n=n,
            spread=kid[metric_kid.KEY_METRIC_KID_STD],
            note=f"spread: the SD over torch-fidelity's subsets of {subset}",
        )
    if inception_weights and Path(inception_weights).is_file() and (reason := too_few(INCEPTION_DIMS)):
        out["fid[inception-v3]"] = out["kid[inception-v3]"] = Estimate.missing(reason)
    elif inception_weights and Path(inception_weights).is_file():
        metrics = torch_fidelity.calculate_metrics(
            feature_extractor="inception-v3-compat", feature_extractor_weights_path=str(inception_weights), **common
        )
        out["fid[inception-v3]"] = Estimate.exact(metrics["frechet_inception_distance"], n=n)
        out["kid[inception-v3]"] = Estimate(
            metrics["kernel_inception_distance_mean"], n=n, spread=metrics["kernel_inception_distance_std"]
        )
    else:  # weights not present: unavailable, never a substitute number
        out["fid[inception-v3]"] = Estimate.missing("unavailable: no Inception-v3 weights")
    return out
