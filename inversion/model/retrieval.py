"""The retrieval reference: an "inverter" that looks the answer up instead of generating it.

For given logits it returns the training image whose standardised logits are nearest (Euclidean), or
the pixel mean of the k nearest. It needs no training, only the data any inverter trains on (the
training images and the classifier's outputs of them), and it says how much of an image the logits
give away through the simplest possible use: on the shipped Fashion-MNIST classifiers it identifies
its source among 1,000 test images about five times as often as the paper-recipe GAN (docs/RESULTS.md).
An inverter that does not beat it understates what the logits hold.

It has the generator's call signature, G(noise, logits) -> images in [-1, 1], so an `Inverter` holds it
like any generator and every evaluation command scores it. The noise is ignored. Ties (a label-only
output gives every image of a class the same vector) go to the lowest training index, so a label-only
lookup (k = 1) returns one fixed image per class: the class floor.
"""

from __future__ import annotations

import torch
from torch import nn

from .logit_standardisation import LogitStandardisation


class RetrievalGenerator(nn.Module):
    def __init__(self, outputs: torch.Tensor, images: torch.Tensor, k: int = 1, chunk: int = 512):
        """outputs: (N, K) the classifier's raw outputs of the N lookup images; images: (N, C, H, W) uint8."""
        super().__init__()
        if images.dtype != torch.uint8:
            raise ValueError("the lookup images are stored as uint8")
        if not 1 <= k <= len(outputs):
            raise ValueError(f"k must be between 1 and the {len(outputs)} lookup images, got {k}")
        self.k, self.chunk, self.dim_noise = k, chunk, 1
        self.logit_norm = LogitStandardisation(outputs.shape[1])
        self.register_buffer("outputs", outputs.float())
        self.register_buffer("images", images)
        mean, std = self.outputs.mean(0), self.outputs.std(0)
        self.logit_norm.set_statistics(mean, std)
        self.register_buffer("keys", self.logit_norm(self.outputs))

    def nearest(self, logits: torch.Tensor) -> torch.Tensor:
        """(M, k) indices of the k nearest lookup images of each row of raw logits, nearest first."""
        z = self.logit_norm(logits.float())
        out = []
        for part in z.split(self.chunk):
            dist = torch.cdist(part, self.keys)
            # argmin returns the first of tied minima (the lowest index), so k = 1 is deterministic.
            nearest = dist.argmin(1, keepdim=True) if self.k == 1 else dist.topk(self.k, largest=False).indices
            out.append(nearest)
        return torch.cat(out)

    def forward(self, noise: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        picked = self.images[self.nearest(logits)].float() / 127.5 - 1  # (M, k, C, H, W) in [-1, 1]
        return picked.mean(1)

    @classmethod
    def from_state(cls, state: dict[str, torch.Tensor], k: int) -> RetrievalGenerator:
        return cls(state["outputs"], state["images"], k=k)
