"""Network fingerprint (Borji, "Logits are predictive of network type", 2022): which of N networks
produced a logit vector?

The same images go through every network; each logit vector is labelled with the network that made
it, and an SVM (scikit-learn; linear and RBF kernels, on inputs standardised per dimension) learns to
tell them apart: fitted on logits of
training images, scored on logits of test images (balanced: every network sees the same images).
Chance is 1/N.

Inputs to the SVM, as in the paper and one saner alternative:
- raw: the logits as they are;
- sum-normalised: the logits divided by their sum (the paper's "normalized"; unstable when the sum
  is near zero, which is why softmax is offered too);
- softmax: the class probabilities.

Also: accuracy against the number of training logits per network (a curve), random-initialised
networks against trained ones, and transfer (fit on one set of weights, score on the same
architectures trained from other seeds). The paper's two families of small CNNs
(`classifiers.architectures.SMALL_CNN_FAMILIES`) are trained on the spot; any project checkpoints
can be compared instead.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import torch

from classifiers.architectures import SMALL_CNN_FAMILIES, build_arch
from classifiers.checkpoint import read_metadata
from infra.optional import require

from .training import fit, outputs, subset

NORMALISATIONS = ("raw", "sum-normalised", "softmax")


def normalise(logits: torch.Tensor, how: str) -> torch.Tensor:
    if how == "raw":
        return logits
    if how == "sum-normalised":
        s = logits.sum(1, keepdim=True)
        return logits / torch.where(s.abs() < 1e-6, torch.full_like(s, 1e-6), s)
    if how == "softmax":
        return torch.softmax(logits, 1)
    raise ValueError(f"unknown normalisation {how!r}")


def dataset_of(logits_per_net: list[torch.Tensor]) -> tuple[np.ndarray, np.ndarray]:
    x = torch.cat(logits_per_net).numpy().astype(np.float64)
    y = np.concatenate([np.full(len(z), i) for i, z in enumerate(logits_per_net)])
    return x, y


def svm_accuracy(
    train: list[torch.Tensor], test: list[torch.Tensor], kernel: str, how: str, per_net: int | None = None
) -> float:
    """Fit an SVM on (the first `per_net` of) each network's training logits; accuracy on the test logits."""
    pipeline = require("sklearn.pipeline", "the fingerprint probe")
    preprocessing = require("sklearn.preprocessing", "the fingerprint probe")
    svm = require("sklearn.svm", "the fingerprint probe")
    exceptions = require("sklearn.exceptions", "the fingerprint probe")
    train = [normalise(z[:per_net] if per_net else z, how) for z in train]
    test = [normalise(z, how) for z in test]
    x, y = dataset_of(train)
    xt, yt = dataset_of(test)
    # Each input dimension is standardised on the training logits first, as scikit-learn's SVMs expect;
    # without it the linear SVM on sum-normalised logits (huge where a sum is near 0) barely converges.
    # The iteration cap bounds the rare case that still does not.
    clf = pipeline.make_pipeline(
        preprocessing.StandardScaler(), svm.SVC(kernel=kernel, C=1.0, gamma="scale", max_iter=200_000)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=exceptions.ConvergenceWarning)
        clf.fit(x, y)
    return float((clf.predict(xt) == yt).mean())


@dataclass
class FingerprintSettings:
    epochs: float = 1.0  # training of each family member
    train_logits: int = 2000  # training images whose logits fit the SVM (per network)
    test_logits: int = 1000  # test images whose logits score it (per network)
    sizes: tuple[int, ...] = (10, 30, 100, 300, 1000, 2000)  # points of the accuracy-vs-size curve
    seeds: tuple[int, int] = (0, 1)  # weights for fitting, weights for the transfer test


def family_networks(family: str, data, settings: FingerprintSettings, seed: int, trained: bool = True) -> list:
    """The family's networks, trained on `data` for `settings.epochs` from `seed` (or left random)."""
    torch.manual_seed(seed)
    nets = []
    for arch in SMALL_CNN_FAMILIES[family]:
        net = build_arch(arch, len(data.classes), data.channels, image_size=data.resolution)
        if trained:
            net = fit(net, data.train, epochs=settings.epochs, seed=seed, desc=f"{arch} seed {seed}")
        nets.append(net.eval())
    return nets


def run(
    nets: list, data, settings: FingerprintSettings, transfer_nets: list | None = None, random_nets: list | None = None
) -> dict:
    train_split = subset(data.train, limit=settings.train_logits, seed=0)
    test_split = subset(data.test, limit=settings.test_logits, seed=0)
    train = [outputs(n, train_split) for n in nets]
    test = [outputs(n, test_split) for n in nets]
    results: dict = {"chance": 1 / len(nets), "accuracy": {}, "curve": {}}
    for kernel in ("linear", "rbf"):
        for how in NORMALISATIONS:
            key = f"{kernel}/{how}"
            results["accuracy"][key] = svm_accuracy(train, test, kernel, how)
            results["curve"][key] = {
                n: svm_accuracy(train, test, kernel, how, per_net=n)
                for n in settings.sizes
                if n <= settings.train_logits
            }
    if transfer_nets is not None:
        other = [outputs(n, test_split) for n in transfer_nets]
        results["transfer"] = {
            f"{k}/{how}": svm_accuracy(train, other, k, how) for k in ("linear", "rbf") for how in NORMALISATIONS
        }
    if random_nets is not None:
        r_train = [outputs(n, train_split) for n in random_nets]
        r_test = [outputs(n, test_split) for n in random_nets]
        results["random_init"] = {
            f"{k}/{how}": svm_accuracy(r_train, r_test, k, how) for k in ("linear", "rbf") for how in NORMALISATIONS
        }
    return results


def random_twin(checkpoint: str, num_classes: int, channels: int) -> torch.nn.Module:
    """A project checkpoint's architecture (same width) with random weights."""
    meta = read_metadata(checkpoint)
    return build_arch(meta["arch"], num_classes, channels, meta.get("width"), image_size=meta.get("resolution") or 32)
