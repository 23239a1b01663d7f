"""Invariance (Teterwak et al. 2021, Section 4): transform an image, invert the logits of the transformed
image, and ask whether the reconstruction follows the transform or stays with the original.

For each transform T and image x: r = G(phi(T x)) at noise 0. The reconstruction "follows" T when
its evaluator features are nearer to those of T x than to those of x; the share of images for which
it does is what phi keeps of T (about 1: phi encodes the change; about 0: phi is invariant to it).
The table also gives the logit change ||phi(T x) - phi(x)|| / ||phi(x)|| and how often phi's top-1
changes. Images are in [-1, 1]; amounts are in [0, 1] pixel units where they are intensities.
"""

from __future__ import annotations

import math

import torch
from torchvision.transforms.v2 import functional as TF

from infra.batches import eval_batches
from infra.progress import progress

from . import metrics


def _shift(x: torch.Tensor, pixels: int = 3) -> torch.Tensor:
    """Translate right and down, filling with the image's minimum (the background for Fashion-MNIST)."""
    fill = x.amin(dim=(1, 2, 3), keepdim=True)
    out = torch.roll(x, shifts=(pixels, pixels), dims=(2, 3))
    mask = torch.zeros_like(x, dtype=torch.bool)
    mask[..., :pixels, :] = True
    mask[..., :, :pixels] = True
    return torch.where(mask, fill.expand_as(x), out)


def _rotate(x: torch.Tensor, degrees: float = 20.0) -> torch.Tensor:
    fill = float(x.amin())
    return TF.rotate(x, degrees, interpolation=TF.InterpolationMode.BILINEAR, fill=fill)


def _contrast(x: torch.Tensor, factor: float = 0.5) -> torch.Tensor:
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return ((x - mean) * factor + mean).clamp(-1, 1)


def _noise(x: torch.Tensor, sigma: float = 0.1) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    return (x + 2 * sigma * torch.randn(x.shape, generator=g).to(x.device)).clamp(-1, 1)


TRANSFORMS = {
    "hflip": lambda x: x.flip(-1),
    "shift": _shift,  # 3 px right and down
    "rotation": _rotate,  # 20 degrees
    "brightness": lambda x: (x + 0.4).clamp(-1, 1),  # +0.2 in [0, 1] units
    "contrast": _contrast,  # halved around each image's mean
    "blur": lambda x: TF.gaussian_blur(x, kernel_size=[5, 5], sigma=[1.0, 1.0]),
    "noise": _noise,  # Gaussian, sigma 0.1 in [0, 1] units
}


@torch.no_grad()
def probe(transform, x: torch.Tensor, classifier, evaluator, reconstruct) -> dict[str, torch.Tensor]:
    """Per-image results for one batch and one transform."""
    tx = transform(x)
    z, tz = classifier(x).float(), classifier(tx).float()
    r = reconstruct(tz, "zero", 0)
    f_r, f_x, f_tx = evaluator.features(r).float(), evaluator.features(x).float(), evaluator.features(tx).float()
    return {
        "follows_transform": ((f_r - f_tx).norm(dim=1) < (f_r - f_x).norm(dim=1)).float(),
        "logit_change": (tz - z).norm(dim=1) / z.norm(dim=1).clamp(min=1e-12),
        "top1_changed": (tz.argmax(1) != z.argmax(1)).float(),
        "image_change": metrics.mse(tx, x),  # in [0, 1] pixel units, like every pixel metric
    }


def measure(
    transforms: list[str], dataset, indices: torch.Tensor, classifier, evaluator, reconstruct, batch_size: int, device
) -> dict:
    """Each transform's per-image results averaged over the images at `indices` (`probe`'s keys)."""
    sums: dict[str, dict[str, float]] = {t: {} for t in transforms}
    count = 0
    batches = eval_batches(dataset, batch_size, device, indices=indices)
    for x, _ in progress(batches, total=math.ceil(len(indices) / batch_size), desc="invariance", leave=False):
        for t in transforms:
            for key, value in probe(TRANSFORMS[t], x, classifier, evaluator, reconstruct).items():
                sums[t][key] = sums[t].get(key, 0.0) + float(value.sum())
        count += len(x)
    return {"images": count, "transforms": {t: {k: v / count for k, v in s.items()} for t, s in sums.items()}}


@torch.no_grad()
def examples(transforms: list[str], x: torch.Tensor, classifier, reconstruct) -> torch.Tensor:
    """Per transform, one row per image of [x, T x, G(phi(x)), G(phi(T x))]: (transforms * N, 4, C, H, W)."""
    base = reconstruct(classifier(x).float(), "zero", 0)
    rows = []
    for t in transforms:
        tx = TRANSFORMS[t](x)
        rows.append(torch.stack([x, tx, base, reconstruct(classifier(tx).float(), "zero", 0)], dim=1))
    return torch.cat(rows)
