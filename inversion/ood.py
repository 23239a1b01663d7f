"""Out-of-distribution images for the inverter: any image folder, or the samples that scikit-learn
(8x8 digits) and scikit-image (photographs) ship with them. Every image is brought to the model's
input: centre-cropped to a square, resized to the resolution, and converted to grey or RGB.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .errors import UserError

SKIMAGE_SAMPLES = ("astronaut", "camera", "coffee", "chelsea", "coins", "moon", "page", "rocket", "horse",
                   "clock", "text", "hubble_deep_field")
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
    t = t[:, (h - side) // 2: (h - side) // 2 + side, (w - side) // 2: (w - side) // 2 + side]
    t = F.interpolate(t[None], size=(resolution, resolution), mode="bilinear", antialias=side > resolution,
                      align_corners=False)[0]
    return t.clamp(0, 1) * 2 - 1


def load_ood(source: str, resolution: int, channels: int, limit: int = 64) -> tuple[torch.Tensor, list[str]]:
    """(N, C, R, R) images in [-1, 1] and their names."""
    arrays: list[tuple[str, np.ndarray]] = []
    if source == "sklearn-digits":
        from sklearn.datasets import load_digits

        digits = load_digits()
        # Fashion-MNIST-like polarity: bright object on a dark background (the digits' own).
        arrays = [(f"digit{d}", img / 16.0) for img, d in zip(digits.images[:limit], digits.target[:limit])]
    elif source == "skimage-samples":
        import skimage.data

        for name in SKIMAGE_SAMPLES:
            try:
                arrays.append((name, getattr(skimage.data, name)()))
            except Exception:  # a sample that needs a download: skipped
                continue
    else:
        folder = Path(source)
        if not folder.is_dir():
            raise UserError(f"--images {source}: not a folder, sklearn-digits or skimage-samples")
        from PIL import Image

        for path in sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)[:limit]:
            with Image.open(path) as im:
                arrays.append((path.name, np.asarray(im.convert("RGB"))))
    if not arrays:
        raise UserError(f"no images found in {source}")
    arrays = arrays[:limit]
    return torch.stack([_to_model(a, resolution, channels) for _, a in arrays]), [n for n, _ in arrays]
