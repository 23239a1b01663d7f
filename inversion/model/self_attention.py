"""BigGAN's self-attention block (the non-local block of Zhang et al. 2019, SAGAN)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .layers import snconv2d


class SelfAttention(nn.Module):
    """BigGAN's self-attention: keys and values pooled 2x, output scaled by a gain that starts at 0."""

    def __init__(self, ch: int):
        super().__init__()
        self.theta = snconv2d(ch, ch // 8, kernel_size=1, bias=False)
        self.phi = snconv2d(ch, ch // 8, kernel_size=1, bias=False)
        self.g = snconv2d(ch, ch // 2, kernel_size=1, bias=False)
        self.o = snconv2d(ch // 2, ch, kernel_size=1, bias=False)
        self.gamma = nn.Parameter(torch.zeros(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        theta = self.theta(x).flatten(2)  # n, c/8, hw
        phi = F.max_pool2d(self.phi(x), 2).flatten(2)  # n, c/8, hw/4
        g = F.max_pool2d(self.g(x), 2).flatten(2)  # n, c/2, hw/4
        attn = torch.softmax(theta.transpose(1, 2) @ phi, dim=-1)  # n, hw, hw/4
        o = (g @ attn.transpose(1, 2)).view(n, c // 2, h, w)
        return x + self.gamma * self.o(o)
