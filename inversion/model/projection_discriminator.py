"""The projection discriminator D(x, z) = (w1 + W2 z)^T f(x) (Miyato and Koyama 2018; Teterwak et al.
2021, Eq. 1).

f is BigGAN's residual down-block trunk followed by ReLU and a sum over space. w1 judges whether
an image looks real; W2, a linear map of the whole (standardised) logit vector rather than a
one-hot class embedding, judges whether the image agrees with the logits. A bias is added to w1's
term, as in BigGAN.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from infra.errors import UserError

from .generator import check_resolution
from .layers import snlinear
from .logit_standardisation import LogitStandardisation
from .residual_blocks import DBlock
from .self_attention import SelfAttention

# Architecture table: one row per residual block, (input width, output width, downsample), widths
# as multiples of `ch`; 0 stands for the image's channel count.
D_ARCH: dict[int, list[tuple[int, int, bool]]] = {
    32: [(0, 4, True), (4, 4, True), (4, 4, False), (4, 4, False)],  # 32 -> 16 -> 8 -> 8 -> 8
    64: [(0, 1, True), (1, 2, True), (2, 4, True), (4, 8, True), (8, 16, False)],  # 64 -> 4
    128: [(0, 1, True), (1, 2, True), (2, 4, True), (4, 8, True), (8, 16, True), (16, 16, False)],  # 128 -> 4
    256: [(0, 1, True), (1, 2, True), (2, 4, True), (4, 8, True), (8, 8, True), (8, 16, True), (16, 16, False)],
}


class Discriminator(nn.Module):
    def __init__(
        self,
        num_classes: int,
        resolution: int = 32,
        channels: int = 3,
        ch: int = 32,
        attention: int = 0,
        logit_norm: str = "standardize",
    ):
        super().__init__()
        arch = check_resolution(resolution, D_ARCH)
        self.logit_norm = LogitStandardisation(num_classes, mode=logit_norm)
        self.blocks = nn.ModuleList()
        self.attention = nn.ModuleDict()
        size = resolution
        sizes = []
        for i, (cin, cout, down) in enumerate(arch):
            in_ch = channels if i == 0 else cin * ch
            self.blocks.append(DBlock(in_ch, cout * ch, downsample=down, preactivation=i > 0))
            size = size // 2 if down else size
            sizes.append(size)
            # Attention goes after the first block that reaches that size, as in BigGAN.
            if attention and size == attention and attention not in sizes[:-1]:
                self.attention[str(i)] = SelfAttention(cout * ch)
        if attention and not self.attention:
            raise UserError(
                f"discriminator attention resolution {attention} is not produced by any block at {resolution} px"
            )
        width = arch[-1][1] * ch
        self.linear = snlinear(width, 1)
        self.projection = snlinear(num_classes, width, bias=False)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        for i, block in enumerate(self.blocks):
            h = block(h)
            if str(i) in self.attention:
                h = self.attention[str(i)](h)
        return F.relu(h).sum(dim=(2, 3))

    def forward(self, x: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        """x: (N, C, H, W) in [-1, 1]; logits: (N, num_classes) raw. Returns (N,) scores."""
        h = self.features(x)
        z = self.logit_norm(logits)
        return self.linear(h).squeeze(1) + (self.projection(z) * h).sum(dim=1)


def build_discriminator(model_cfg, num_classes: int, resolution: int, channels: int) -> Discriminator:
    """The discriminator described by a `ModelConfig`."""
    return Discriminator(
        num_classes=num_classes,
        resolution=resolution,
        channels=channels,
        ch=model_cfg.d.ch,
        attention=model_cfg.d.attention,
        logit_norm=model_cfg.logit_norm,
    )
