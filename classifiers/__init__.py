"""Frozen classifiers: architectures, the wrapper, checkpoint format, loading and training."""

from .checkpoint import load_classifier_checkpoint, save_classifier
from .load import load_classifier
from .wrapper import ClassifierInfo, FrozenClassifier

__all__ = ["ClassifierInfo", "FrozenClassifier", "load_classifier", "load_classifier_checkpoint", "save_classifier"]
