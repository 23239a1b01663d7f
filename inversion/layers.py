"""Building blocks shared by the generator and the discriminator (BigGAN, Brock et al. 2019).

- `snconv2d`, `snlinear`: orthogonally initialised layers under spectral normalisation
  (Miyato et al. 2018), using PyTorch's parametrizations.
- `ConditionalBatchNorm2d`: batch norm whose per-channel gain and bias are functions of a
  condition vector (the standardised logits, plus a noise chunk).
- `SelfAttention`: BigGAN's non-local block (Zhang et al. 2019, SAGAN).
- `GBlock`, `DBlock`: BigGAN's residual up- and down-sampling blocks.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm


def _ortho(layer: nn.Module) -> nn.Module:
    nn.init.orthogonal_(layer.weight)
    if layer.bias is not None:
        nn.init.zeros_(layer.bias)
    return layer


def snconv2d(in_ch: int, out_ch: int, kernel_size: int = 3, bias: bool = True) -> nn.Module:
    conv = nn.Conv2d(in_ch, out_ch, kernel_size=kernel_size, padding=kernel_size // 2, bias=bias)
    return spectral_norm(_ortho(conv), eps=1e-6)


def snlinear(in_features: int, out_features: int, bias: bool = True) -> nn.Module:
    return spectral_norm(_ortho(nn.Linear(in_features, out_features, bias=bias)), eps=1e-6)


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
        mlp = nn.Sequential(_ortho(nn.Linear(cond_dim, hidden)), nn.ReLU(), nn.Linear(hidden, out))
        nn.init.zeros_(mlp[2].weight)
        nn.init.zeros_(mlp[2].bias)
        return mlp

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        gain = 1 + self.gain(cond)
        bias = self.bias(cond)
        return self.bn(x) * gain[:, :, None, None] + bias[:, :, None, None]


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
