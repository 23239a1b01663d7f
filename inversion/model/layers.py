"""Spectrally normalised, orthogonally initialised layers (BigGAN, Brock et al. 2019).

Every convolution and linear layer of G and D is built here: orthogonal initialisation (Saxe et
al. 2014) and spectral normalisation (Miyato et al. 2018) through PyTorch's parametrizations, which
keep the largest singular value of each weight at 1 and so bound how fast D's (and G's) outputs
can change. The conditional batch norms' MLPs are the one exception (see
`conditional_batch_norm.py`).
"""

from __future__ import annotations

from torch import nn
from torch.nn.utils.parametrizations import spectral_norm


def orthogonal_init(layer: nn.Module) -> nn.Module:
    nn.init.orthogonal_(layer.weight)
    if layer.bias is not None:
        nn.init.zeros_(layer.bias)
    return layer


def snconv2d(in_ch: int, out_ch: int, kernel_size: int = 3, bias: bool = True) -> nn.Module:
    conv = nn.Conv2d(in_ch, out_ch, kernel_size=kernel_size, padding=kernel_size // 2, bias=bias)
    return spectral_norm(orthogonal_init(conv), eps=1e-6)


def snlinear(in_features: int, out_features: int, bias: bool = True) -> nn.Module:
    return spectral_norm(orthogonal_init(nn.Linear(in_features, out_features, bias=bias)), eps=1e-6)
