"""Logit edits (seeds/003 Section 5): change the logits, then look at what the inverter draws.

Each edit maps a batch of logits z (and a level) to edited logits:

- shift:       z + c * s                (softmax unchanged: only the inverter can see it)
- scale:       z * c                    (temperature)
- noise:       z + c * s * e, e ~ N(0, I), one fixed draw per image
- interpolate: (1 - c) * z_a + c * z_b  (z_b: the logits of another test image of another class)
- swap-top2:   (1 - c) * z + c * swap(z), swap exchanging the two largest logits

s is the mean per-dimension standard deviation of the logits on the training set (the statistics
stored with the inverter), so levels mean the same for classifiers of different logit scales.
"""

from __future__ import annotations

import torch

EDITS = ("shift", "scale", "noise", "interpolate", "swap-top2")
DEFAULT_LEVELS = {
    "shift": [-2.0, -1.0, 0.0, 1.0, 2.0],
    "scale": [0.0, 0.5, 1.0, 1.5, 2.0, 3.0],
    "noise": [0.0, 0.25, 0.5, 1.0, 2.0],
    "interpolate": [0.0, 0.25, 0.5, 0.75, 1.0],
    "swap-top2": [0.0, 0.25, 0.5, 0.75, 1.0],
}
NOTES = {
    "shift": "adding c to every logit leaves the softmax (the classifier's output) unchanged at every level",
    "scale": "scaling changes confidence (temperature), not the top-1 class (except at 0)",
    "noise": "Gaussian noise of c x (mean logit std), one fixed draw per image",
    "interpolate": "from image a's logits (0) to image b's (1)",
    "swap-top2": "from the logits (0) to the same logits with the two largest exchanged (1)",
}


def swap_top2(z: torch.Tensor) -> torch.Tensor:
    top = z.topk(2, dim=1).indices
    out = z.clone()
    rows = torch.arange(z.shape[0], device=z.device)
    out[rows, top[:, 0]], out[rows, top[:, 1]] = z[rows, top[:, 1]], z[rows, top[:, 0]]
    return out


def edit(name: str, z: torch.Tensor, level: float, scale: float, z_other: torch.Tensor | None = None,
         noise: torch.Tensor | None = None) -> torch.Tensor:
    if name == "shift":
        return z + level * scale
    if name == "scale":
        return z * level
    if name == "noise":
        return z + level * scale * noise
    if name == "interpolate":
        return (1 - level) * z + level * z_other
    if name == "swap-top2":
        return (1 - level) * z + level * swap_top2(z)
    raise ValueError(f"unknown edit {name!r}; choose one of {EDITS}")


def partner_indices(labels: torch.Tensor) -> torch.Tensor:
    """For each image, the next image (cyclically) whose label differs, for interpolation paths."""
    n = len(labels)
    out = torch.arange(n)
    for i in range(n):
        for k in range(1, n):
            j = (i + k) % n
            if labels[j] != labels[i]:
                out[i] = j
                break
    return out
