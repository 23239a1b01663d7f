"""Where work runs and in which precision; accelerate applies both, model code never does.

- `default_device(name)`: the device a user named (`cpu`, `cuda:1`, ...), else a GPU when present;
- `mixed_precision(setting)`: a config's `mixed_precision` (auto, no, bf16) as accelerate's value.
"""

from __future__ import annotations

import torch

from .errors import UserError

MIXED_PRECISION = ("auto", "no", "bf16")


def default_device(name: str | torch.device | None = None) -> torch.device:
    return torch.device(name or ("cuda" if torch.cuda.is_available() else "cpu"))


def mixed_precision(setting: str, key: str = "mixed_precision") -> str:
    """accelerate's `mixed_precision` for the setting `key`: auto is bf16 on a GPU and fp32 ("no") on a CPU."""
    if setting == "auto":
        return "bf16" if torch.cuda.is_available() else "no"
    if setting not in MIXED_PRECISION:
        raise UserError(
            f"{key} must be auto, no or bf16, not {setting!r} (fp16 needs loss scaling that "
            f"these training loops do not do; bf16 does not need it)"
        )
    return setting
