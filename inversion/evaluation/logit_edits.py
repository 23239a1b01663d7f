"""Logit edits (Teterwak et al. 2021, Section 5): change the logits, then look at what the inverter draws.

Each edit maps a batch of logits z and a level c to edited logits, one function each:

- `shift`:       z + c * s                (softmax unchanged: only the inverter can see it)
- `scale`:       z * c                    (temperature)
- `add_noise`:   z + c * s * e, e ~ N(0, I), one fixed draw per image
- `interpolate`: (1 - c) * z_a + c * z_b  (z_b: the logits of another test image of another class)
- `toward_swapped_top2`: (1 - c) * z + c * swap_top2(z), swapping the two largest logits

s is the mean per-dimension standard deviation of the logits on the training set (the statistics
stored with the inverter), so levels mean the same for classifiers of different logit scales.
`edit_paths` reconstructs each image's logits along the levels and records what a judge (the
independent evaluator) sees at each one.
"""

from __future__ import annotations

import torch

from infra.estimate import Estimate, bootstrap_mean, proportion

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


def shift(z: torch.Tensor, level: float, unit: float) -> torch.Tensor:
    return z + level * unit


def scale(z: torch.Tensor, level: float) -> torch.Tensor:
    return z * level


def add_noise(z: torch.Tensor, level: float, unit: float, noise: torch.Tensor) -> torch.Tensor:
    return z + level * unit * noise


def interpolate(z: torch.Tensor, level: float, z_other: torch.Tensor) -> torch.Tensor:
    return (1 - level) * z + level * z_other


def swap_top2(z: torch.Tensor) -> torch.Tensor:
    top = z.topk(2, dim=1).indices
    out = z.clone()
    rows = torch.arange(z.shape[0], device=z.device)
    out[rows, top[:, 0]], out[rows, top[:, 1]] = z[rows, top[:, 1]], z[rows, top[:, 0]]
    return out


def toward_swapped_top2(z: torch.Tensor, level: float) -> torch.Tensor:
    return (1 - level) * z + level * swap_top2(z)


def edit(
    name: str,
    z: torch.Tensor,
    level: float,
    unit: float,
    z_other: torch.Tensor | None = None,
    noise: torch.Tensor | None = None,
) -> torch.Tensor:
    """The edit called `name` (as `evaluate.py manipulate --edit` names it) at `level`."""
    if name == "shift":
        return shift(z, level, unit)
    if name == "scale":
        return scale(z, level)
    if name == "noise":
        return add_noise(z, level, unit, noise)
    if name == "interpolate":
        return interpolate(z, level, z_other)
    if name == "swap-top2":
        return toward_swapped_top2(z, level)
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


@torch.no_grad()
def edit_paths(
    inverter, judge, images: torch.Tensor, labels: torch.Tensor, partners: torch.Tensor, name: str, levels: list[float]
) -> tuple[dict, torch.Tensor]:
    """Reconstruct each image's logits edited at every level, and judge the reconstructions.

    `partners` are the images to interpolate towards (one per image). Returns the numbers (`unit`, and
    per image its `source_label` and, per level, the judge's class, its confidence, its probability of
    the source class, and the edited logits' own softmax top-1 and confidence) and the reconstructions,
    (images, levels, C, H, W)."""
    z = inverter.logits(images)
    z_other = inverter.logits(partners)
    unit = float(inverter.generator.logit_norm.std.mean())
    noise = torch.randn(z.shape, generator=torch.Generator().manual_seed(0)).to(z.device)
    paths = [{"source_label": int(labels[i]), "levels": []} for i in range(len(images))]
    reconstructions = []
    for level in levels:
        edited = edit(name, z, level, unit, z_other=z_other, noise=noise)
        recon = inverter.generate(edited)
        prob = torch.softmax(judge(recon).float(), dim=1)
        soft = torch.softmax(edited, dim=1)
        reconstructions.append(recon)
        for i, path in enumerate(paths):
            path["levels"].append(
                {
                    "level": level,
                    "judge_class": int(prob[i].argmax()),
                    "judge_confidence": float(prob[i].max()),
                    "judge_prob_source": float(prob[i, labels[i]]),
                    "softmax_top1": int(soft[i].argmax()),
                    "softmax_confidence": float(soft[i].max()),
                }
            )
    return {"unit": unit, "paths": paths}, torch.stack(reconstructions, dim=1)


def summarize_paths(paths: list[dict], levels: list[float]) -> list[dict]:
    """Per level: the share of images the judge still puts in the source class, its mean confidence,
    the share whose edited logits still have the source class on top, and the mean p(source class);
    each an `Estimate`: shares with Wilson's interval, p(source) with a bootstrap interval over images."""
    rows = []
    for j, level in enumerate(levels):
        at = [p["levels"][j] for p in paths]
        keeps = torch.tensor([float(a["judge_class"] == p["source_label"]) for a, p in zip(at, paths)])
        prob = torch.tensor([a["judge_prob_source"] for a in at])
        softmax_keeps = torch.tensor([float(a["softmax_top1"] == p["source_label"]) for a, p in zip(at, paths)])
        rows.append(
            {
                "level": level,
                "judge_keeps_source": proportion(keeps),
                "judge_confidence": Estimate(sum(a["judge_confidence"] for a in at) / len(paths), n=len(paths)),
                "softmax_keeps_source": proportion(softmax_keeps),
                "judge_prob_source": bootstrap_mean(prob),
            }
        )
    return rows
