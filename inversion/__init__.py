"""logit-inversion: rebuild images from a frozen classifier's logits (Teterwak et al., ICML 2021)."""

from .config import Config
from .discriminator import Discriminator
from .errors import UserError
from .generator import Generator

__all__ = ["Config", "Discriminator", "Generator", "Inverter", "UserError"]
__version__ = "0.1.0"


def __getattr__(name: str):
    # Imported on first use: the Inverter needs `classifiers`, which itself imports from `inversion`.
    if name == "Inverter":
        from .inverter import Inverter

        return Inverter
    raise AttributeError(f"module 'inversion' has no attribute {name!r}")
