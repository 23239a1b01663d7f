"""Optimisation-based inversion (Mahendran and Vedaldi 2015, "Understanding deep image representations
by inverting them"): gradient descent on the image itself so that phi(x_hat) matches the target
logits, under a total-variation prior.

The image is parametrised as tanh(v) to stay in [-1, 1]; "noise draws" are random initialisations
of v, and noise 0 is the zero initialisation (a grey image).
"""

from __future__ import annotations

import torch


def total_variation(x: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference of neighbouring pixels (anisotropic TV), per image."""
    dh = (x[..., 1:, :] - x[..., :-1, :]).abs().flatten(1).mean(1)
    dw = (x[..., :, 1:] - x[..., :, :-1]).abs().flatten(1).mean(1)
    return dh + dw


def optimize_images(
    classifier,
    logits: torch.Tensor,
    shape: tuple[int, int, int],
    steps: int = 200,
    lr: float = 0.05,
    tv_weight: float = 0.05,
    init: str = "zero",
    seed: int = 0,
) -> torch.Tensor:
    """Images whose logits match `logits` (relative squared error) under a TV prior."""
    n = logits.shape[0]
    if init == "zero":
        v = torch.zeros(n, *shape, device=logits.device)
    else:
        g = torch.Generator().manual_seed(seed)
        v = (torch.randn(n, *shape, generator=g) * 0.5).to(logits.device)
    v.requires_grad_(True)
    opt = torch.optim.Adam([v], lr=lr)
    target = logits.detach().float()
    scale = target.pow(2).sum(1).clamp(min=1e-8)
    for _ in range(steps):
        with torch.enable_grad():  # callers may hold no_grad; this loop needs gradients w.r.t. the image
            x = torch.tanh(v)
            match = (classifier(x).float() - target).pow(2).sum(1) / scale
            loss = (match + tv_weight * total_variation(x)).sum()
            (grad,) = torch.autograd.grad(loss, v)
        v.grad = grad
        opt.step()
    return torch.tanh(v).detach()


def optimize_reconstruct(classifier, shape: tuple[int, int, int], steps: int, lr: float, tv_weight: float):
    """A `Reconstruct` (see inversion.evaluation.fidelity) for optimisation-based inversion."""

    def run(logits: torch.Tensor, noise: str, seed: int) -> torch.Tensor:
        init = "zero" if noise == "zero" else "random"
        return optimize_images(classifier, logits, shape, steps=steps, lr=lr, tv_weight=tv_weight, init=init, seed=seed)

    return run
