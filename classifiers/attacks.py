"""Projected gradient descent (Madry et al. 2018), L-inf and L2, untargeted and targeted, and the
threat model every command uses unless told otherwise.

Written here rather than taken from an attack library: the maintained ones assume images in
[0, 1] with normalisation inside the model and do their own device handling, while this project
passes [-1, 1] images through `accelerate`'s autocast; the attack itself is twenty lines.

`eps` and `step_size` are given in the usual [0, 1] pixel units (Fashion-MNIST's L-inf 0.1,
CIFAR's L2 0.5) and doubled internally, since images here span [-1, 1].

Default threat model: L-inf 0.1 for Fashion-MNIST, L2 0.5 for CIFAR (the usual choices in the
robustness literature), L-inf 8/255 for anything else; step size 2.5 * eps / steps (Madry et al.'s
rule), so that a PGD run can travel the whole ball and back.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

NORMS = ("linf", "l2")
DEFAULT_THREAT = {"fashion-mnist": ("linf", 0.1), "cifar10": ("l2", 0.5), "cifar100": ("l2", 0.5)}
FALLBACK_THREAT = ("linf", 8 / 255)


@dataclass
class PGDConfig:
    norm: str = "linf"  # linf | l2
    eps: float = 0.1  # radius in [0, 1] pixel units
    steps: int = 10
    step_size: float = 0.025  # in [0, 1] pixel units
    random_start: bool = True


def default_threat(data_name: str | None) -> tuple[str, float]:
    """(norm, eps) of the usual threat model for a data set (see the module docstring)."""
    return DEFAULT_THREAT.get(data_name or "", FALLBACK_THREAT)


def pgd_config(
    norm: str, eps: float, steps: int, step_size: float | None = None, random_start: bool = True
) -> PGDConfig:
    """A PGD attack with the standard step size 2.5 * eps / steps unless `step_size` is given."""
    step_size = step_size if step_size else 2.5 * eps / max(steps, 1)
    return PGDConfig(norm=norm, eps=eps, steps=steps, step_size=step_size, random_start=random_start)


def _l2_normalize(x: torch.Tensor) -> torch.Tensor:
    return x / x.flatten(1).norm(dim=1).clamp(min=1e-12).view(-1, *[1] * (x.ndim - 1))


def _project(delta: torch.Tensor, norm: str, eps: float) -> torch.Tensor:
    if norm == "linf":
        return delta.clamp(-eps, eps)
    scale = (eps / delta.flatten(1).norm(dim=1).clamp(min=1e-12)).clamp(max=1.0)
    return delta * scale.view(-1, *[1] * (delta.ndim - 1))


def pgd(
    model,
    images: torch.Tensor,
    labels: torch.Tensor,
    cfg: PGDConfig,
    targets: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Adversarial images in [-1, 1] within `cfg.eps` of `images`. Untargeted: raise the loss of
    `labels`; targeted (`targets` given): lower the loss of `targets`. `model` maps [-1, 1] images
    to logits; its parameters receive no gradient."""
    if cfg.norm not in NORMS:
        raise ValueError(f"PGD norm must be one of {NORMS}, got {cfg.norm!r}")
    eps, step = 2 * cfg.eps, 2 * cfg.step_size  # [0, 1] units -> [-1, 1] units
    x = images.detach()
    delta = torch.zeros_like(x)
    if cfg.random_start and eps > 0:
        noise = torch.rand(x.shape, generator=generator, device="cpu").to(x.device, x.dtype) * 2 - 1
        if cfg.norm == "linf":
            delta = noise * eps
        else:
            radius = torch.rand(x.shape[0], generator=generator).to(x.device, x.dtype).view(-1, *[1] * (x.ndim - 1))
            delta = _l2_normalize(noise) * eps * radius
        delta = (x + delta).clamp(-1, 1) - x
    sign = -1.0 if targets is not None else 1.0
    goal = targets if targets is not None else labels
    for _ in range(cfg.steps):
        delta.requires_grad_(True)
        loss = F.cross_entropy(model(x + delta).float(), goal)
        (grad,) = torch.autograd.grad(loss, delta)
        with torch.no_grad():
            direction = grad.sign() if cfg.norm == "linf" else _l2_normalize(grad)
            delta = _project(delta + sign * step * direction, cfg.norm, eps)
            delta = (x + delta).clamp(-1, 1) - x
    return (x + delta).detach()
