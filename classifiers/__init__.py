"""Frozen classifiers: architectures, the wrapper, checkpoint format, loading, attacks and training.

This package never imports `inversion`: the inverter uses the classifiers, not the reverse. Shared
infrastructure (config loading, errors, data, run folders) comes from `infra`.
"""

from .checkpoint import load_classifier_checkpoint, save_classifier
from .config import ClassifierConfig
from .load import load_classifier
from .wrapper import ClassifierInfo, FrozenClassifier

__all__ = [
    "ClassifierConfig",
    "ClassifierInfo",
    "FrozenClassifier",
    "load_classifier",
    "load_classifier_checkpoint",
    "save_classifier",
]
