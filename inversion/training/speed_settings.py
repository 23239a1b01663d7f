"""The trainer's speed settings (`train.channels_last`, `train.fused_adam`, `train.compile`) as values
for PyTorch and accelerate. Precision is `infra.devices.mixed_precision`.

These change how fast a step runs, never what it computes: the tests check that compiled training
takes the same steps as eager training and that NHWC networks compute what NCHW ones do.
"""

from __future__ import annotations

from accelerate.utils import TorchDynamoPlugin

from infra.errors import UserError

from ..config import COMPILE_MODES


def switch(setting: str, key: str, cuda: bool) -> bool:
    """An auto/yes/no setting: auto means on a GPU only."""
    if setting not in ("auto", "yes", "no"):
        raise UserError(f"train.{key} must be auto, yes or no, not {setting!r}")
    return cuda if setting == "auto" else setting == "yes"


def dynamo_plugin(mode: str, backend: str) -> TorchDynamoPlugin | None:
    """accelerate's torch.compile settings for G and D, or None for eager."""
    if mode not in COMPILE_MODES:
        raise UserError(f"train.compile must be one of {', '.join(COMPILE_MODES)}, not {mode!r}")
    if mode == "no":
        return None
    # Static shapes: D sees 2B images (real and fake in one call) and B images (G's step), G always B
    # noise vectors; two fixed shapes compile faster than one dynamic one and allow CUDA graphs.
    return TorchDynamoPlugin(backend=backend.upper(), mode=mode if backend == "inductor" else None, dynamic=False)
