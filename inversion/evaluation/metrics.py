"""Per-image fidelity metrics for reconstructions x_hat = G(phi(x)) of images x, each with its exact definition.

All images arrive in [-1, 1] and are mapped to [0, 1] for the pixel metrics. Every function returns
per-image values (or one number where the metric is a set statistic), so callers can average over
any subset.

- mse(x, y): mean over pixels and channels of (x - y)^2, in [0, 1] units, per image.
- psnr(x, y): 10 * log10(1 / mse), per image (inf for identical images); tables report the PSNR of
  the mean MSE (`psnr_from_mse`), which one exact match cannot make infinite.
- ssim(x, y): structural similarity (Wang et al. 2004) with an 11x11 Gaussian window, sigma 1.5,
  data range 1, via torchmetrics, per image.
- feature distance: ||f(x) - f(x_hat)||_2 / ||f(x)||_2 with f the evaluator's penultimate features
  (relative, so different evaluators give comparable scales), per image.
- identification: its own module, `identification.py`.
- diversity(draws): for K reconstructions of the same logits with different noise, the mean over
  pairs of the root-mean-square pixel difference in [0, 1] units, per image.
"""

from __future__ import annotations

import math

import torch

from infra.optional import require


def to_unit(images: torch.Tensor) -> torch.Tensor:
    return (images.float().clamp(-1, 1) + 1) / 2


def mse(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return (to_unit(x) - to_unit(y)).pow(2).flatten(1).mean(1)


def psnr(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return 10 * torch.log10(1.0 / mse(x, y))


def psnr_from_mse(mse: float) -> float:
    return float("inf") if mse <= 0 else 10 * math.log10(1.0 / mse)


def ssim(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    image_metrics = require("torchmetrics.functional.image", "SSIM")
    return image_metrics.structural_similarity_index_measure(to_unit(x), to_unit(y), data_range=1.0, reduction="none")


def relative_feature_distance(f_x: torch.Tensor, f_recon: torch.Tensor) -> torch.Tensor:
    return (f_x - f_recon).norm(dim=1) / f_x.norm(dim=1).clamp(min=1e-12)


def diversity(draws: list[torch.Tensor]) -> torch.Tensor:
    if len(draws) < 2:
        raise ValueError("diversity needs at least two noise draws")
    units = [to_unit(d) for d in draws]
    pairs = [
        (units[i] - units[j]).pow(2).flatten(1).mean(1).sqrt()
        for i in range(len(units))
        for j in range(i + 1, len(units))
    ]
    return torch.stack(pairs).mean(0)


def cosine(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.cosine_similarity(a.float(), b.float(), dim=1)
