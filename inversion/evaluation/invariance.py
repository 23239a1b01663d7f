"""Invariance (Teterwak et al. 2021, Section 4): transform an image, invert the logits of the transformed
image, and ask whether the reconstruction follows the transform or stays with the original.

For each transform T and image x: r = G(phi(T x)) at noise 0. The reconstruction "follows" T when
its evaluator features are nearer to those of T x than to those of x. The share of images for which
it does is not readable alone: a reconstruction that carries nothing of T can land nearer to T x
by accident (a brightened image may simply look more like what G draws), so two nulls sit beside it,
scored the same way:

- "phi ignores T": r0 = G(phi(x)), the reconstruction a classifier invariant to T would give;
- "random pairing": G(phi(T x')) for another image x' of the batch (a seeded derangement), a
  reconstruction that holds T but nothing of this image.

phi keeps T when "follows T" exceeds "phi ignores T": `kept` is the per-image difference of the two
indicators, and its 95% bootstrap interval excluding 0 is the evidence. Every share carries its
interval (an `Estimate`). The table also gives the logit change ||phi(T x) - phi(x)|| / ||phi(x)|| and
how often phi's top-1 changes. Images are in [-1, 1]; amounts are in [0, 1] pixel units where they
are intensities.
"""

from __future__ import annotations

import math

import torch
from torchvision.transforms.v2 import functional as TF

from infra.batches import eval_batches
from infra.estimate import Estimate, bootstrap_mean, bootstrap_statistic
from infra.progress import progress

from . import metrics

# The per-image keys that get a 95% interval.
WITH_INTERVALS = ("follows_transform", "follows_if_ignored", "follows_random_pairing", "kept")


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


def _column(x: torch.Tensor) -> torch.Tensor:
    """The horizontal centre of mass, in pixels (intensity above the image's minimum as the mass)."""
    mass = (x - x.amin(dim=(1, 2, 3), keepdim=True)).sum(dim=(1, 2))  # (N, W)
    columns = torch.arange(x.shape[-1], device=x.device, dtype=x.dtype)
    return (mass * columns).sum(1) / mass.sum(1).clamp(min=1e-8)


# The attribute each of these transforms changes, measured on the image itself: how much of the change
# the reconstruction carries says more than whether it is "nearer" to T x.
ATTRIBUTES = {
    "brightness": lambda x: x.mean(dim=(1, 2, 3)),
    "contrast": lambda x: x.flatten(1).std(1),
    "shift": _column,
}


def derangement(n: int, generator: torch.Generator) -> torch.Tensor:
    """A random permutation with no fixed point (n >= 2): image i is paired with another image."""
    order = torch.randperm(n, generator=generator)
    out = torch.empty(n, dtype=torch.long)
    out[order] = order.roll(-1)
    return out


def _follows(r: torch.Tensor, f_tx: torch.Tensor, f_x: torch.Tensor) -> torch.Tensor:
    """1 where features r are nearer to T x's than to x's."""
    return ((r - f_tx).norm(dim=1) < (r - f_x).norm(dim=1)).float()


@torch.no_grad()
def untransformed(x: torch.Tensor, classifier, evaluator, reconstruct) -> dict[str, torch.Tensor]:
    """What every transform of a batch compares with: phi(x), and the evaluator features of x and of
    G(phi(x)) (the "phi ignores T" null)."""
    z = classifier(x).float()
    r0 = reconstruct(z, "zero", 0)
    return {"z": z, "r0": r0, "f_x": evaluator.features(x).float(), "f_r0": evaluator.features(r0).float()}


@torch.no_grad()
def probe(
    transform, x: torch.Tensor, base: dict, classifier, evaluator, reconstruct, pairing: torch.Tensor, attribute=None
) -> dict:
    """Per-image results for one batch and one transform; `base` is `untransformed(x, ...)`, `pairing` (a
    derangement of the batch) gives the random-pairing null; `attribute` (ATTRIBUTES) adds the change of
    that attribute in the input and in the reconstruction."""
    tx = transform(x)
    z, f_x, f_r0 = base["z"], base["f_x"], base["f_r0"]
    tz = classifier(tx).float()
    r = reconstruct(tz, "zero", 0)
    f_r = evaluator.features(r).float()
    f_tx = evaluator.features(tx).float()
    follows, ignored = _follows(f_r, f_tx, f_x), _follows(f_r0, f_tx, f_x)
    changes = {}
    if attribute is not None:
        changes = {
            "attribute_input_change": attribute(tx) - attribute(x),
            "attribute_recon_change": attribute(r) - attribute(base["r0"]),
        }
    return {
        **changes,
        "follows_transform": follows,
        "follows_if_ignored": ignored,
        "follows_random_pairing": _follows(f_r[pairing.to(f_r.device)], f_tx, f_x),
        "kept": follows - ignored,
        "logit_change": (tz - z).norm(dim=1) / z.norm(dim=1).clamp(min=1e-12),
        "top1_changed": (tz.argmax(1) != z.argmax(1)).float(),
        "image_change": metrics.mse(tx, x),  # in [0, 1] pixel units, like every pixel metric
    }


def measure(
    transforms: list[str], dataset, indices: torch.Tensor, classifier, evaluator, reconstruct, batch_size: int, device
) -> dict:
    """Each transform's per-image results (`probe`'s keys) averaged over the images at `indices`, the
    shares with 95% intervals."""
    values: dict[str, dict[str, list[torch.Tensor]]] = {t: {} for t in transforms}
    count = 0
    g = torch.Generator().manual_seed(0)
    batches = eval_batches(dataset, batch_size, device, indices=indices)
    for x, _ in progress(batches, total=math.ceil(len(indices) / batch_size), desc="invariance", leave=False):
        if len(x) < 2:  # no other image to pair with
            continue
        pairing = derangement(len(x), g)
        base = untransformed(x, classifier, evaluator, reconstruct)
        for t in transforms:
            result = probe(TRANSFORMS[t], x, base, classifier, evaluator, reconstruct, pairing, ATTRIBUTES.get(t))
            for key, value in result.items():
                values[t].setdefault(key, []).append(value.cpu())
        count += len(x)
    out = {}
    for t, per_key in values.items():
        v = {key: torch.cat(chunks).float() for key, chunks in per_key.items()}
        out[t] = {
            key: bootstrap_mean(x) if key in WITH_INTERVALS else Estimate(float(x.mean()), n=len(x))
            for key, x in v.items()
            if not key.startswith("attribute_")
        }
        if "attribute_input_change" in v:
            out[t]["attribute_carried"] = carried(
                v["attribute_input_change"], v["attribute_recon_change"], v["top1_changed"]
            )
    return {"images": count, "transforms": out}


def carried(input_change: torch.Tensor, recon_change: torch.Tensor, top1_changed: torch.Tensor) -> Estimate:
    """How much of the input's change of an attribute the reconstruction carries: the least-squares slope
    (through 0) of the reconstruction's change on the input's, over the images whose class phi keeps (a
    change of class would carry the attribute of another garment), with a bootstrap interval over images.
    1: the reconstruction follows the attribute fully; 0: it ignores it."""
    keep = top1_changed == 0
    a, b = input_change[keep].double(), recon_change[keep].double()

    def slope(idx: torch.Tensor | None) -> float:
        x, y = (a, b) if idx is None else (a[idx], b[idx])
        return float((x * y).sum() / (x * x).sum().clamp(min=1e-12))

    if len(a) < 2:
        return Estimate.missing("fewer than two images keep their class")
    return bootstrap_statistic(slope, slope(None), len(a), samples=500)


@torch.no_grad()
def examples(transforms: list[str], x: torch.Tensor, classifier, reconstruct) -> torch.Tensor:
    """Per transform, one row per image of [x, T x, G(phi(x)), G(phi(T x))]: (transforms * N, 4, C, H, W)."""
    base = reconstruct(classifier(x).float(), "zero", 0)
    rows = []
    for t in transforms:
        tx = TRANSFORMS[t](x)
        rows.append(torch.stack([x, tx, base, reconstruct(classifier(tx).float(), "zero", 0)], dim=1))
    return torch.cat(rows)
