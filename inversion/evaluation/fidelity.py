"""The fidelity table's numbers: how well reconstructions from logits match their sources.

`collect` runs a reconstruction method over a set of images once and keeps per-image values;
`summarize` turns them into the table's numbers for all images or any subset (correctly vs wrongly
classified, say). Definitions: `metrics.py` (pixel, feature distance, diversity, cosine),
`identification.py`, `perceptual.py` (LPIPS), `realism.py` (FID, KID). The Markdown table is
`inversion.presentation.tables.fidelity_table`. Columns:

- pixel: `mse`, `ssim` at noise = 0 (means of per-image values), `psnr` (the PSNR of the mean MSE,
  10 log10(1 / mean MSE): one image that matches exactly cannot make it infinite), and
  `*_noise_mean`, the same over K noise draws;
- perceptual: `feature_distance` (evaluator features, relative L2), `lpips` (None when unavailable);
- identification: `id_top1`, `id_top5` among `id_candidates` sources, with their chance levels;
- semantics: `evaluator_acc_recon` and `evaluator_top5_recon` (the evaluator's top-1 and top-5 on
  reconstructions against the true labels: the model-inversion field's attack accuracy),
  `evaluator_acc_original`, `top1_agreement` (the inverted classifier's top-1 on x vs on x_hat),
  `logit_cosine` (cosine of phi(x) and phi(x_hat));
- the model-inversion field's measures against a reference set of real training images
  (`model_inversion_metrics.py`): `knn_distance`, `precision`, `recall`, `density`, `coverage`;
- realism: `fid[...]`, `kid[...]` per feature extractor (reconstructions at noise = 0 vs the
  source images), reported only on at least twice as many images as the features have dimensions
  (a covariance of fewer samples than that is too noisy to read); else a string saying why;
- diversity: `diversity`, the RMS pixel difference between noise draws of the same logits.

Every number is an `infra.estimate.Estimate`, its 95% interval made as its entry in `inversion/measures.py` says
(Wilson's for proportions, a percentile bootstrap over images for means of per-image values).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from infra.batches import eval_batches
from infra.datasets import to_uint8
from infra.estimate import Estimate, bootstrap_mean, proportion
from infra.progress import phase, progress

from ..measures import MEASURES
from . import metrics
from .identification import identification
from .model_inversion_metrics import knn_distances, precision_recall_density_coverage
from .perceptual import lpips_distance
from .realism import fid_kid

# reconstruct(logits, noise, seed) -> images in [-1, 1]; noise is "zero" or "random"
Reconstruct = Callable[[torch.Tensor, str, int], torch.Tensor]


@dataclass
class Collected:
    """Per-image results of one pass over a set of images."""

    labels: torch.Tensor
    classifier_pred: torch.Tensor  # phi's top-1 on the originals
    values: dict[str, torch.Tensor]  # per-image metric values
    f_source: torch.Tensor  # evaluator features of the originals
    f_recon: torch.Tensor  # ... and of the noise-0 reconstructions
    originals: torch.Tensor  # uint8
    recons: torch.Tensor  # uint8, noise = 0


def _cropper(border: int):
    if not border:
        return lambda images: images
    return lambda images: images[..., border:-border, border:-border]


def _features_and_answer(evaluator, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The evaluator's features and logits, from one pass where it can (FrozenClassifier), else two."""
    if hasattr(evaluator, "features_and_output"):
        features, answer = evaluator.features_and_output(images)
    else:
        features, answer = evaluator.features(images), evaluator(images)
    return features.float(), answer.float()


@torch.no_grad()
def collect(
    reconstruct: Reconstruct,
    classifier,
    evaluator,
    dataset,
    indices: torch.Tensor | None = None,
    noise_draws: int = 3,
    batch_size: int = 500,
    lpips_model=None,
    device="cpu",
    desc: str = "fidelity",
    border: int = 0,
) -> Collected:
    """One pass of `reconstruct` over the images at `indices` (all of `dataset` by default). Pixel measures
    (MSE, SSIM) are computed without `border` pixels of padding on each side: on the data set's own images
    (Fashion-MNIST's 28 px, padded to 32 by the loader), so that a black border both share adds nothing."""
    indices = torch.arange(len(dataset)) if indices is None else indices
    keep: dict[str, list] = {k: [] for k in ("labels", "pred", "f_src", "f_rec", "orig", "rec")}
    values: dict[str, list] = {}

    def add(name, tensor):
        values.setdefault(name, []).append(tensor.float().cpu())

    batches = eval_batches(dataset, batch_size, device, indices=indices)
    for x, labels in progress(batches, total=math.ceil(len(indices) / batch_size), desc=desc, leave=False):
        logits = classifier(x).float()
        recon = reconstruct(logits, "zero", 0)
        draws = [reconstruct(logits, "random", 1000 + k) for k in range(noise_draws)]
        crop = _cropper(border)
        add("mse", metrics.mse(crop(x), crop(recon)))
        add("ssim", metrics.ssim(crop(x), crop(recon)))
        if draws:
            add("mse_noise_mean", torch.stack([metrics.mse(crop(x), crop(d)) for d in draws]).mean(0))
            add("ssim_noise_mean", torch.stack([metrics.ssim(crop(x), crop(d)) for d in draws]).mean(0))
        if len(draws) >= 2:
            add("diversity", metrics.diversity(draws))
        f_src, judged_src = _features_and_answer(evaluator, x)
        f_rec, judged = _features_and_answer(evaluator, recon)
        add("feature_distance", metrics.relative_feature_distance(f_src, f_rec))
        add("evaluator_acc_recon", judged.argmax(1) == labels)
        add("evaluator_top5_recon", (judged.topk(min(5, judged.shape[1]), dim=1).indices == labels[:, None]).any(1))
        add("evaluator_acc_original", judged_src.argmax(1) == labels)
        recon_logits = classifier(recon).float()
        add("top1_agreement", recon_logits.argmax(1) == logits.argmax(1))
        add("logit_cosine", metrics.cosine(logits, recon_logits))
        if lpips_model is not None:
            add("lpips", lpips_distance(lpips_model, x, recon))
        keep["labels"].append(labels.cpu())
        keep["pred"].append(logits.argmax(1).cpu())
        keep["f_src"].append(f_src.cpu())
        keep["f_rec"].append(f_rec.cpu())
        keep["orig"].append(to_uint8(x).cpu())
        keep["rec"].append(to_uint8(recon).cpu())
    return Collected(
        labels=torch.cat(keep["labels"]),
        classifier_pred=torch.cat(keep["pred"]),
        values={k: torch.cat(v) for k, v in values.items()},
        f_source=torch.cat(keep["f_src"]),
        f_recon=torch.cat(keep["f_rec"]),
        originals=torch.cat(keep["orig"]),
        recons=torch.cat(keep["rec"]),
    )


def psnr_of_mean(mse: torch.Tensor) -> Estimate:
    """10 log10(1 / mean MSE) with its 95% interval: the bootstrap interval of the mean MSE, mapped."""
    m = bootstrap_mean(mse)
    return Estimate(
        metrics.psnr_from_mse(m.value), metrics.psnr_from_mse(m.high), metrics.psnr_from_mse(m.low), m.n, m.kind
    )


def estimate(name: str, values: torch.Tensor) -> Estimate:
    """A per-image measure over the images, with the interval its registry entry names."""
    method = MEASURES[name].interval if name in MEASURES else "bootstrap"
    if method == "wilson":
        return proportion(values.bool())
    return bootstrap_mean(values.float())


@torch.no_grad()
def reference_features(
    evaluator, dataset, limit: int, device, batch_size: int = 500
) -> tuple[torch.Tensor, torch.Tensor]:
    """Evaluator features and labels of (up to) `limit` images of `dataset`, a fixed random sample:
    the real images the model-inversion measures compare reconstructions with."""
    picks = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(0))[:limit]
    feats, labels = [], []
    for x, y in eval_batches(dataset, batch_size, device, indices=picks):
        feats.append(evaluator.features(x).float().cpu())
        labels.append(y.cpu())
    return torch.cat(feats), torch.cat(labels)


def summarize(
    c: Collected,
    mask: torch.Tensor | None = None,
    candidates: int = 1000,
    evaluator_checkpoint=None,
    inception_weights=None,
    realism: bool = True,
    reference: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> dict[str, Estimate]:
    """The table's numbers (`Estimate`s, keyed as in `measures.MEASURES`) over all collected images, or
    those where `mask` is true; `reference` (real images' evaluator features and labels) adds the
    model-inversion measures."""
    mask = torch.ones(len(c.labels), dtype=torch.bool) if mask is None else mask
    n = int(mask.sum())
    out: dict[str, Estimate] = {"images": Estimate.exact(n)}
    if n == 0:
        return out
    for name, v in c.values.items():
        out[name] = estimate(name, v[mask])
    # The evaluator's accuracy on reconstructions of the images the inverted classifier gets right: the
    # classifier's own errors, which no inverter can repair, left out (robust classifiers make more).
    right = mask & (c.classifier_pred == c.labels)
    out["evaluator_acc_recon_correct"] = proportion(c.values["evaluator_acc_recon"][right].bool())
    out["psnr"] = psnr_of_mean(c.values["mse"][mask])
    if "mse_noise_mean" in c.values:
        out["psnr_noise_mean"] = psnr_of_mean(c.values["mse_noise_mean"][mask])
    out.setdefault("lpips", Estimate.missing("unavailable: no AlexNet weights"))
    own = mask.nonzero().flatten()
    with phase(f"identification among {candidates} candidates ({n} images)"):
        ident = identification(c.f_recon[own], c.f_source, candidates=candidates, own=own)
    out.update(
        {
            "id_top1": bootstrap_mean(ident["p_top1"]),
            "id_top5": bootstrap_mean(ident["p_top5"]),
            "id_chance_top1": Estimate.exact(ident["chance_top1"]),
            "id_candidates": Estimate.exact(ident["candidates"]),
        }
    )
    if reference is not None:
        with phase("KNN distance and precision/recall/density/coverage"):
            out.update(_model_inversion_measures(c, mask, n, reference))
    if realism and evaluator_checkpoint is not None:
        with phase("FID and KID with the evaluator's features (200 bootstrap resamples)"):
            out.update(
                fid_kid(
                    c.recons[mask],
                    c.originals[mask],
                    evaluator_checkpoint,
                    evaluator_dims=c.f_source.shape[1],
                    inception_weights=inception_weights,
                )
            )
    return out


def _model_inversion_measures(c: Collected, mask: torch.Tensor, n: int, reference) -> dict[str, Estimate]:
    """The KNN distance, and precision/recall/density/coverage of the reconstructions and (the reference
    row) of the real test images, both against the same real training images."""
    out = {"knn_distance": bootstrap_mean(knn_distances(c.f_recon[mask], c.labels[mask], *reference))}
    # Recall and coverage depend on the ratio of the two set sizes: both sets are cut to the same size.
    size = min(n, len(reference[0]))
    real = reference[0][torch.randperm(len(reference[0]), generator=torch.Generator().manual_seed(1))[:size]]
    picks = torch.randperm(n, generator=torch.Generator().manual_seed(2))[:size]
    fake, source = c.f_recon[mask][picks], c.f_source[mask][picks]
    for suffix, features in (("", fake), ("_real", source)):
        for key, value in precision_recall_density_coverage(real, features).items():
            out[key + suffix] = Estimate.missing(value) if isinstance(value, str) else Estimate.exact(value, n=size)
    return out


def inverter_reconstruct(inverter) -> Reconstruct:
    def run(logits: torch.Tensor, noise: str, seed: int) -> torch.Tensor:
        return inverter.generate(logits, noise=noise, seed=seed).float()

    return run
