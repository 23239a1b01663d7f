"""Exponential moving average of the generator's weights; every sample and evaluation uses it.

Before `start` steps the copy simply follows the generator (early weights are not worth
averaging). Buffers (batch-norm running statistics, spectral-norm vectors, logit statistics) are
copied, not averaged.
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
        torch._foreach_copy_(self._buffers, list(model.buffers()))

    def state_dict(self) -> dict:
        return {"decay": self.decay, "start": self.start, "model": self.model.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.decay, self.start = state["decay"], state["start"]
        self.model.load_state_dict(state["model"])
