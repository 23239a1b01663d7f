"""Logit standardisation: per-dimension (z - mean) / std, with statistics measured on the training set.

Raw logit scales differ a lot between classifiers (adversarially robust ones are small), so both
networks see (z - mean) / std instead of z. The statistics are buffers: they travel with every
checkpoint and snapshot, and an inverter is never used with statistics of another classifier.
`mode="none"` passes logits through unchanged (the paper's setting). G and D hold it as
`logit_norm`, the name the snapshots' weights are stored under.
"""

from __future__ import annotations

import torch
from torch import nn

from infra.errors import UserError

MODES = ("standardize", "none")


class LogitStandardisation(nn.Module):
    def __init__(self, num_classes: int, mode: str = "standardize", eps: float = 1e-6):
        super().__init__()
        if mode not in MODES:
            raise UserError(f"model.logit_norm must be one of {MODES}, got {mode!r}")
        self.mode = mode
        self.eps = eps
        self.register_buffer("mean", torch.zeros(num_classes))
        self.register_buffer("std", torch.ones(num_classes))

    @torch.no_grad()
    def set_statistics(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        self.mean.copy_(mean)
        self.std.copy_(std)

    def forward(self, logits: torch.Tensor) -> torch.Tensor:
        if self.mode == "none":
            return logits
        return (logits - self.mean) / (self.std + self.eps)

    def extra_repr(self) -> str:
        return f"num_classes={self.mean.numel()}, mode={self.mode}"
