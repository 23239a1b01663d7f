"""Conditional batch norm: the only way the logits enter the generator.

BigGAN (Brock et al. 2019) conditions every batch norm of G on a class embedding; the inverter
(Teterwak et al. 2021) conditions it on the classifier's standardised logits instead, concatenated
with a chunk of the noise when the latent is hierarchical.
"""

from __future__ import annotations

import torch
from torch import nn

from .layers import orthogonal_init


class ConditionalBatchNorm2d(nn.Module):
    """y = BN(x) * (1 + gain(c)) + bias(c), with gain and bias two-layer MLPs of the condition c.

    BN here has no affine parameters of its own: the conditioning supplies them. The last layer of
    each MLP starts at zero, so at initialisation this is exactly an unconditional, non-affine
    batch norm, and training moves away from that identity only as far as the logits are useful.

    The MLPs are deliberately *not* spectrally normalised. G's convolutions are, to keep its
    updates smooth, but the conditioning must be able to turn small differences between logit
    vectors into large changes of gain and bias; capping each layer's Lipschitz constant at 1
    would flatten exactly the detail the inverter is meant to recover.
    """

    def __init__(self, num_features: int, cond_dim: int, hidden: int, eps: float = 1e-4, momentum: float = 0.1):
        super().__init__()
        self.bn = nn.BatchNorm2d(num_features, affine=False, eps=eps, momentum=momentum)
        self.gain = self._mlp(cond_dim, hidden, num_features)
        self.bias = self._mlp(cond_dim, hidden, num_features)

    @staticmethod
    def _mlp(cond_dim: int, hidden: int, out: int) -> nn.Sequential:
        mlp = nn.Sequential(orthogonal_init(nn.Linear(cond_dim, hidden)), nn.ReLU(), nn.Linear(hidden, out))
        nn.init.zeros_(mlp[2].weight)
        nn.init.zeros_(mlp[2].bias)
        return mlp

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        gain = 1 + self.gain(cond)
        bias = self.bias(cond)
        return self.bn(x) * gain[:, :, None, None] + bias[:, :, None, None]
