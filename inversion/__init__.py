"""logit-inversion: rebuild images from a frozen classifier's logits (Teterwak et al., ICML 2021).

model/          G, D and their building blocks (conditional batch norm, logit standardisation, ...)
training/       hinge loss, EMA, logit statistics, the trainer
inverter.py     the Inverter API: load a snapshot, reconstruct, generate from edited logits
baselines/      the pixel-loss decoder and optimisation-based inversion
evaluation/     the numbers: metrics, identification, fidelity, realism, logit edits, invariance, ...
probes/         smaller logit probes from the related work
presentation/   image grids, plots, Markdown tables and the HTML report
commands/       evaluate.py's commands, one module each, found through a registry
"""

from infra.errors import UserError

from .config import Config
from .inverter import Inverter
from .model import Discriminator, Generator

__all__ = ["Config", "Discriminator", "Generator", "Inverter", "UserError"]
__version__ = "0.1.0"
