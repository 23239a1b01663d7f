"""BigGAN's residual blocks: `GBlock` upsamples in G (with conditional batch norms), `DBlock`
downsamples in D (no normalisation but spectral norm)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .conditional_batch_norm import ConditionalBatchNorm2d
from .layers import snconv2d


class GBlock(nn.Module):
    """cBN -> ReLU -> 2x nearest upsample -> conv3x3 -> cBN -> ReLU -> conv3x3, plus an upsampled 1x1 shortcut."""

    def __init__(self, in_ch: int, out_ch: int, cond_dim: int, cond_hidden: int, upsample: bool = True):
        super().__init__()
        self.upsample = upsample
        self.bn1 = ConditionalBatchNorm2d(in_ch, cond_dim, cond_hidden)
        self.conv1 = snconv2d(in_ch, out_ch)
        self.bn2 = ConditionalBatchNorm2d(out_ch, cond_dim, cond_hidden)
        self.conv2 = snconv2d(out_ch, out_ch)
        self.shortcut = snconv2d(in_ch, out_ch, kernel_size=1) if (in_ch != out_ch or upsample) else None

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.bn1(x, cond))
        if self.upsample:
            h = F.interpolate(h, scale_factor=2, mode="nearest")
            x = F.interpolate(x, scale_factor=2, mode="nearest")
        h = self.conv2(F.relu(self.bn2(self.conv1(h), cond)))
        if self.shortcut is not None:
            x = self.shortcut(x)
        return h + x


class DBlock(nn.Module):
    """[ReLU] -> conv3x3 -> ReLU -> conv3x3 -> [2x avg-pool], plus a 1x1 shortcut.

    The first block sees the image itself, so it skips the leading ReLU (which would clip the
    negative half of [-1, 1] pixels) and pools before its shortcut conv, as BigGAN does.
    """

    def __init__(self, in_ch: int, out_ch: int, downsample: bool = True, preactivation: bool = True):
        super().__init__()
        self.downsample = downsample
        self.preactivation = preactivation
        self.conv1 = snconv2d(in_ch, out_ch)
        self.conv2 = snconv2d(out_ch, out_ch)
        self.shortcut = snconv2d(in_ch, out_ch, kernel_size=1) if (in_ch != out_ch or downsample) else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(x) if self.preactivation else x
        h = self.conv2(F.relu(self.conv1(h)))
        if self.downsample:
            h = F.avg_pool2d(h, 2)
        if self.preactivation:
            if self.shortcut is not None:
                x = self.shortcut(x)
            if self.downsample:
                x = F.avg_pool2d(x, 2)
        else:
            if self.downsample:
                x = F.avg_pool2d(x, 2)
            if self.shortcut is not None:
                x = self.shortcut(x)
        return h + x
