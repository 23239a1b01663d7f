"""The ridge reference: how much of the evaluator's view of an image a linear map of the classifier's
outputs recovers, without making an image.

A ridge regression (Hoerl and Kennard 1970) from what the classifier returns (`classifier.output`:
logits, probabilities with the attacker's log, top-k, the label, ...) to the independent evaluator's
features, fitted on the training split the inverters train on; each test image's predicted features
then pick out its source among the candidates by the project's identification measure
(`inversion/evaluation/identification.py`). It trains no generator, so a difference between output
kinds cannot be one generator's training, and it is linear, so it is a lower bound on what the
outputs carry. The features are a target here, never a loss that images are trained to: the
evaluator still only judges.

The inputs are standardised with the training split's mean and standard deviation (so that `alpha`
means the same for every output kind); the intercept is not penalised.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from infra.batches import eval_batches
from infra.progress import progress


@dataclass
class RidgeFit:
    mean: torch.Tensor  # (d,) the inputs' training mean
    scale: torch.Tensor  # (d,) ... and standard deviation (1 where a column is constant)
    weight: torch.Tensor  # (d, D)
    bias: torch.Tensor  # (D,)
    alpha: float

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        z = (x.double() - self.mean) / self.scale
        return (z @ self.weight + self.bias).float()


def fit_ridge(x: torch.Tensor, y: torch.Tensor, alpha: float = 1.0) -> RidgeFit:
    """Minimise |Y - Z W - b|^2 + alpha |W|^2 over W and b, with Z the standardised inputs (float64)."""
    if x.ndim != 2 or y.ndim != 2 or len(x) != len(y):
        raise ValueError(f"fit_ridge takes (n, d) inputs and (n, D) targets, got {tuple(x.shape)} and {tuple(y.shape)}")
    if alpha < 0 or not math.isfinite(alpha):
        raise ValueError(f"alpha must be a finite number at least 0, got {alpha}")
    x, y = x.double(), y.double()
    if not (torch.isfinite(x).all() and torch.isfinite(y).all()):
        raise ValueError("fit_ridge was given non-finite inputs or targets")
    mean, scale = x.mean(0), x.std(0, correction=0)
    scale = torch.where(scale > 1e-12, scale, torch.ones_like(scale))
    z, y_mean = (x - mean) / scale, y.mean(0)
    # Centred inputs and targets: the intercept is the targets' mean and is not penalised.
    gram = z.T @ z + alpha * torch.eye(z.shape[1], dtype=z.dtype)
    weight = torch.linalg.lstsq(gram, z.T @ (y - y_mean)).solution
    return RidgeFit(mean, scale, weight, y_mean, float(alpha))


@torch.no_grad()
def outputs_and_features(classifier, evaluator, dataset, indices: torch.Tensor, device, batch_size: int, desc: str):
    """The classifier's outputs and the evaluator's features of the images at `indices`."""
    outputs, features = [], []
    batches = eval_batches(dataset, batch_size, device, indices=indices)
    for x, _ in progress(batches, total=math.ceil(len(indices) / batch_size), desc=desc):
        outputs.append(classifier(x).float().cpu())
        features.append(evaluator.features(x).float().cpu())
    return torch.cat(outputs), torch.cat(features)


def explained_variance(truth: torch.Tensor, predicted: torch.Tensor) -> float:
    """The share of the targets' total variance (summed over dimensions) that the predictions explain."""
    truth, predicted = truth.double(), predicted.double()
    total = ((truth - truth.mean(0)) ** 2).sum()
    return float(1 - ((truth - predicted) ** 2).sum() / total) if total > 0 else float("nan")
