"""The generator G(noise, logits): BigGAN's residual generator, conditioned on a classifier's logits.

References: Brock, Donahue, Simonyan, "Large Scale GAN Training for High Fidelity Natural Image
Synthesis" (ICLR 2019); Teterwak et al., "Understanding Invariance via Feedforward Inversion of
Discriminatively Trained Classifiers" (ICML 2021), Section 3, which replaces BigGAN's class
embedding by the logit vector.

In the paper the logits enter only through the conditional batch norms, as BigGAN's class does. With
the hierarchical latent, the noise is split into one chunk for the input linear layer and one chunk
per block; each block's condition is [standardised logits, its chunk].

`logit_input` (model.g.logit_input) also feeds the standardised logits to the input layer, added to
the noise chunk's projection. Why: batch-norm conditioning can only scale and shift whole channels,
so at the 4x4 input every image starts from the same spatial pattern (the input layer sees noise
alone) and the layout of *this* image has to be built from per-channel gains further up. A linear
map from the logits to the first feature map gives the layout a direct path; on Fashion-MNIST it is
the largest single gain in identification we measured (docs/RESULTS.md, diagnosis).

`fourier_features` (model.g.fourier_features) replaces the standardised logits, wherever G takes them,
by the logits and random Fourier features of them (inversion/model/logit_fourier_features.py).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from infra.errors import UserError

from .conditional_batch_norm import ConditionalBatchNorm2d
from .layers import snconv2d, snlinear
from .logit_fourier_features import LogitFourierFeatures
from .logit_standardisation import LogitStandardisation
from .residual_blocks import GBlock
from .self_attention import SelfAttention

BOTTOM = 4  # spatial size of the first feature map

# Architecture table: one row per residual up-block, (input width, output width) as multiples of
# `ch`. Each block doubles the resolution, starting from 4x4.
#   32:  4x4 -> 8 -> 16 -> 32
#   64:  4x4 -> 8 -> 16 -> 32 -> 64
#   128: 4x4 -> 8 -> 16 -> 32 -> 64 -> 128
#   256: 4x4 -> 8 -> 16 -> 32 -> 64 -> 128 -> 256
G_ARCH: dict[int, list[tuple[int, int]]] = {
    32: [(4, 4), (4, 4), (4, 4)],
    64: [(16, 16), (16, 8), (8, 4), (4, 2)],
    128: [(16, 16), (16, 8), (8, 4), (4, 2), (2, 1)],
    256: [(16, 16), (16, 8), (8, 8), (8, 4), (4, 2), (2, 1)],
}


def check_resolution(resolution: int, table: dict) -> list:
    if resolution not in table:
        raise UserError(
            f"resolution {resolution} is not in the architecture table; choose one of {sorted(table)} (data.resolution)"
        )
    return table[resolution]


class Generator(nn.Module):
    def __init__(
        self,
        num_classes: int,
        resolution: int = 32,
        channels: int = 3,
        ch: int = 32,
        dim_noise: int = 120,
        hierarchical: bool = True,
        cond_hidden: int = 256,
        attention: int = 0,
        logit_norm: str = "standardize",
        logit_input: bool = False,
        fourier_features: int = 0,
        fourier_scale: float = 1.0,
    ):
        super().__init__()
        arch = check_resolution(resolution, G_ARCH)
        if attention and attention not in [BOTTOM * 2 ** (i + 1) for i in range(len(arch))]:
            raise UserError(
                f"generator attention resolution {attention} is not produced by any block at {resolution} px"
            )
        self.num_classes, self.resolution, self.channels = num_classes, resolution, channels
        self.dim_noise, self.hierarchical = dim_noise, hierarchical
        self.logit_norm = LogitStandardisation(num_classes, mode=logit_norm)
        # Only when asked for: a generator without it keeps the paper's weights, so older snapshots load.
        self.logit_features = (
            LogitFourierFeatures(num_classes, fourier_features, fourier_scale) if fourier_features else None
        )
        logit_dim = self.logit_features.out_dim if self.logit_features is not None else num_classes

        num_chunks = len(arch) + 1 if hierarchical else 1
        if dim_noise < num_chunks:
            raise UserError(f"model.g.dim_noise={dim_noise} is too small for {num_chunks} noise chunks")
        chunk = dim_noise // num_chunks
        # The input layer takes whatever the even split leaves over.
        self.chunks = [dim_noise - chunk * (num_chunks - 1)] + [chunk] * (num_chunks - 1)
        cond_dim = logit_dim + (chunk if hierarchical else 0)

        first = arch[0][0] * ch
        self.linear = snlinear(self.chunks[0], first * BOTTOM * BOTTOM)
        self.logit_input = nn.Linear(logit_dim, first * BOTTOM * BOTTOM) if logit_input else None
        self.blocks = nn.ModuleList()
        self.attention = nn.ModuleDict()
        for i, (cin, cout) in enumerate(arch):
            self.blocks.append(GBlock(cin * ch, cout * ch, cond_dim, cond_hidden))
            if attention == BOTTOM * 2 ** (i + 1):
                self.attention[str(i)] = SelfAttention(cout * ch)
        last = arch[-1][1] * ch
        self.out_bn = nn.BatchNorm2d(last, eps=1e-4)
        self.out_conv = snconv2d(last, channels)

    def forward(self, noise: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        """noise: (N, dim_noise); logits: (N, num_classes) raw. Returns images in [-1, 1]."""
        z = self.logit_norm(logits)
        if self.logit_features is not None:
            z = self.logit_features(z)
        chunks = noise.split(self.chunks, dim=1)
        h = self.linear(chunks[0])
        if self.logit_input is not None:
            h = h + self.logit_input(z)
        h = h.view(noise.shape[0], -1, BOTTOM, BOTTOM)
        for i, block in enumerate(self.blocks):
            cond = torch.cat([z, chunks[i + 1]], dim=1) if self.hierarchical else z
            h = block(h, cond)
            if str(i) in self.attention:
                h = self.attention[str(i)](h)
        return torch.tanh(self.out_conv(F.relu(self.out_bn(h))))

    def conditional_norms(self) -> list[ConditionalBatchNorm2d]:
        return [m for m in self.modules() if isinstance(m, ConditionalBatchNorm2d)]


def build_generator(model_cfg, num_classes: int, resolution: int, channels: int) -> Generator:
    """The generator described by a `ModelConfig`."""
    g = model_cfg.g
    return Generator(
        num_classes=num_classes,
        resolution=resolution,
        channels=channels,
        ch=g.ch,
        dim_noise=g.dim_noise,
        hierarchical=g.hierarchical,
        cond_hidden=g.cond_hidden,
        attention=g.attention,
        logit_norm=model_cfg.logit_norm,
        logit_input=g.logit_input,
        fourier_features=g.fourier_features,
        fourier_scale=g.fourier_scale,
    )
