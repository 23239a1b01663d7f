"""Standing statistics (Brock et al. 2019): the generator's batch-norm statistics measured for its own
weights.

The EMA generator averages weights, but its batch-norm running statistics are the live generator's,
measured under other weights; in eval mode it would normalise with the wrong mean and variance.
Before a snapshot or a sample grid, a copy of the EMA generator runs forward passes in training mode
over fixed real logits (a sample of training images, chosen once per run) and fixed noise, with
each batch norm's running statistics reset and averaged cumulatively (momentum None). The same
passes run spectral norm's power iteration on the EMA weights, so its singular vectors follow them
too. Everything is seeded, so the result depends on the weights only: a resumed run writes the
snapshot an uninterrupted one writes.

`torch.optim.swa_utils.update_bn` does the same for a model of one input; G takes two (noise,
logits), hence these few lines.
"""

from __future__ import annotations

import copy

import torch
from torch import nn


@torch.no_grad()
def with_standing_statistics(
    generator: nn.Module, logits: torch.Tensor, dim_noise: int, batch_size: int, seed: int = 0
) -> nn.Module:
    """A copy of `generator` in eval mode whose batch-norm statistics (and spectral-norm vectors) are
    measured for its own weights over `logits` (N, K) with seeded noise, `batch_size` at a time."""
    model = copy.deepcopy(generator)
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    momenta = [norm.momentum for norm in norms]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # cumulative average over the passes
    model.train()
    g = torch.Generator().manual_seed(seed)
    for chunk in logits.split(batch_size):
        model(torch.randn(len(chunk), dim_noise, generator=g).to(chunk.device), chunk)
    for norm, momentum in zip(norms, momenta):
        norm.momentum = momentum
    return model.eval()
