"""Exponential moving average of the generator's weights; every sample and evaluation uses it.

Before `start` steps the copy simply follows the generator (early weights are not worth
averaging). Buffers (batch-norm running statistics, spectral-norm vectors, logit statistics) are
copied from the live generator, not averaged: statistics measured under other weights are no better
averaged. What the averaged weights need is statistics of their own, which
`standing_statistics.py` measures before every snapshot and sample grid.

Why not `torch.optim.swa_utils.AveragedModel`: its update reads its step counter on the host
(`bool(self.n_averaged == 0)`, `if self.n_averaged > 0`) and moves it to the device every step, a
host synchronisation in every training step on a GPU, which this trainer's steps avoid (the
throughput benchmark runs them under CUDA's sync debug mode "error"). This class decides on the
host from the integer step and updates with two foreach kernels. timm's ModelEmaV3 would do, but
timm is an optional dependency and the EMA is the core of training.
"""

from __future__ import annotations

import copy

import torch
from torch import nn


class EMA:
    def __init__(self, model: nn.Module, decay: float = 0.999, start: int = 0):
        self.decay, self.start = decay, start
        self.model = copy.deepcopy(model).eval().requires_grad_(False)
        # A deep copy lists its tensors in the source's order: pair them once, not at every step.
        self._params = list(self.model.parameters())
        self._buffers = list(self.model.buffers())

    @torch.no_grad()
    def update(self, model: nn.Module, step: int) -> None:
        decay = self.decay if step >= self.start else 0.0
        torch._foreach_lerp_(self._params, [p.detach() for p in model.parameters()], 1.0 - decay)
        if self._buffers:
            torch._foreach_copy_(self._buffers, list(model.buffers()))

    def state_dict(self) -> dict:
        return {"decay": self.decay, "start": self.start, "model": self.model.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.decay, self.start = state["decay"], state["start"]
        self.model.load_state_dict(state["model"])
