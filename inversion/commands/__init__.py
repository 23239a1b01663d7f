"""`evaluate.py`'s commands: one module each, with the same small interface (`base.Command`), found
through `REGISTRY`. A new command is a module here with a `@register`ed class, imported below; the
order of the imports is the order of `evaluate.py --help`."""

from . import (  # noqa: F401  (each module registers its command)
    adversarial,
    baseline,
    explore,
    fidelity,
    grid,
    invariance,
    manipulate,
    ood,
    probe_confidence,
    probe_features,
    probe_fingerprint,
    probe_novelty,
    probe_softmax_invariant,
    probe_style_shift,
    report,
)
from .base import REGISTRY, Command, ProbeCommand, Result, register

__all__ = ["REGISTRY", "Command", "ProbeCommand", "Result", "register"]

GROUPS = {
    "baseline": "the baselines: the pixel-loss decoder (trains a snapshot) or optimisation-based inversion",
    "probe": (
        "logit probes: fingerprint, features, confidence, novelty, style-shift (from the related work) and "
        "softmax-invariant"
    ),
}
