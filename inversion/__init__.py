"""logit-inversion: rebuild images from a frozen classifier's logits (Teterwak et al., ICML 2021)."""

from .config import Config
from .discriminator import Discriminator
from .errors import UserError
from .generator import Generator
from .inverter import Inverter

__all__ = ["Config", "Discriminator", "Generator", "Inverter", "UserError"]
__version__ = "0.1.0"
