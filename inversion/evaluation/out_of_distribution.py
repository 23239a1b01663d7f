"""Out-of-distribution images for the inverter: any image folder, or the samples that scikit-learn
(8x8 digits) and scikit-image (photographs) ship with them. Every image is brought to the model's
input: centre-cropped to a square, resized to the resolution, and converted to grey or RGB.
`score` reconstructs them and measures what applies without labels.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from infra.errors import UserError
from infra.estimate import Estimate, bootstrap_mean, proportion
from infra.optional import require

from . import metrics

SKIMAGE_SAMPLES = (
    "astronaut",
    "camera",
    "coffee",
    "chelsea",
    "coins",
    "moon",
    "page",
    "rocket",
    "horse",
    "clock",
    "text",
    "hubble_deep_field",
)
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}


def _to_model(array: np.ndarray, resolution: int, channels: int) -> torch.Tensor:
    """HxW or HxWxC array (uint8, bool or float in [0, 1]) -> (C, R, R) float in [-1, 1]."""
    a = np.asarray(array)
    if a.dtype == bool:
        a = a.astype(np.float32)
    elif a.dtype == np.uint8:
        a = a.astype(np.float32) / 255.0
    else:
        a = a.astype(np.float32)
        a = (a - a.min()) / max(float(a.max() - a.min()), 1e-8)
    t = torch.from_numpy(a)
    t = t[None] if t.ndim == 2 else t.permute(2, 0, 1)[:3]
    if channels == 1 and t.shape[0] == 3:
        t = 0.299 * t[0:1] + 0.587 * t[1:2] + 0.114 * t[2:3]
    elif channels == 3 and t.shape[0] == 1:
        t = t.expand(3, -1, -1)
    h, w = t.shape[1:]
    side = min(h, w)
    t = t[:, (h - side) // 2 : (h - side) // 2 + side, (w - side) // 2 : (w - side) // 2 + side]
    t = F.interpolate(
        t[None], size=(resolution, resolution), mode="bilinear", antialias=side > resolution, align_corners=False
    )[0]
    return t.clamp(0, 1) * 2 - 1


def load_ood(source: str, resolution: int, channels: int, limit: int = 64) -> tuple[torch.Tensor, list[str], list[str]]:
    """(N, C, R, R) images in [-1, 1], their names, and the files of a folder that could not be read
    (each as "name (reason)"): an unreadable file is skipped, not fatal, and does not count toward
    `limit`."""
    arrays: list[tuple[str, np.ndarray]] = []
    skipped: list[str] = []
    if source == "sklearn-digits":
        digits = require("sklearn.datasets", "--images sklearn-digits").load_digits()
        # Fashion-MNIST-like polarity: bright object on a dark background (the digits' own).
        arrays = [(f"digit{d}", img / 16.0) for img, d in zip(digits.images[:limit], digits.target[:limit])]
    elif source == "skimage-samples":
        samples = require("skimage.data", "--images skimage-samples")
        for name in SKIMAGE_SAMPLES:
            try:
                arrays.append((name, getattr(samples, name)()))
            except Exception:  # a sample that needs a download: skipped
                continue
    else:
        folder = Path(source)
        if not folder.is_dir():
            raise UserError(f"--images {source}: not a folder, sklearn-digits or skimage-samples")
        for path in sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES):
            if len(arrays) == limit:
                break
            try:
                with Image.open(path) as im:
                    arrays.append((path.name, np.asarray(im.convert("RGB"))))
            except (OSError, ValueError) as err:  # truncated, empty or not an image (PIL's errors are OSErrors)
                skipped.append(f"{path.relative_to(folder)} ({type(err).__name__}: {err})")
    if not arrays:
        unreadable = f"; {len(skipped)} unreadable: {', '.join(skipped)}" if skipped else ""
        raise UserError(f"no readable images found in {source}{unreadable}")
    arrays = arrays[:limit]
    images = torch.stack([_to_model(a, resolution, channels) for _, a in arrays])
    return images, [n for n, _ in arrays], skipped


@torch.no_grad()
def score(inverter, images: torch.Tensor, noise_draws: int, evaluator=None) -> tuple[dict, list[torch.Tensor]]:
    """Pixel and logit fidelity of the reconstructions at noise 0, the classes the classifier predicts,
    and with an evaluator the feature distance. Returns the numbers and [noise 0, draw 1, ...] images."""
    x = images.to(inverter.device)
    z = inverter.logits(x)
    recon = inverter.generate(z)
    draws = [inverter.generate(z, noise="random", seed=s) for s in range(noise_draws)]
    z_recon = inverter.classifier(recon).float()
    classes, counts = z.argmax(1).unique(return_counts=True)
    mse = metrics.mse(x, recon)
    result = {
        "images": len(x),
        "mse": bootstrap_mean(mse),
        "psnr": Estimate.exact(metrics.psnr_from_mse(float(mse.mean())), n=len(x)),
        "ssim": bootstrap_mean(metrics.ssim(x, recon)),
        "logit_cosine": bootstrap_mean(metrics.cosine(z, z_recon)),
        "top1_agreement": proportion(z.argmax(1) == z_recon.argmax(1)),
        "predicted_classes": {inverter.meta["classes"][int(c)]: int(n) for c, n in zip(classes, counts)},
    }
    if evaluator is not None:
        result["feature_distance"] = bootstrap_mean(
            metrics.relative_feature_distance(evaluator.features(x).float(), evaluator.features(recon).float())
        )
    return result, [recon, *draws]
