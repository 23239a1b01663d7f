"""What the logits hold beyond the softmax: is the image predictable from the softmax-invariant part?

Adding the same number to every logit leaves the softmax unchanged, so the mean logit m = mean_k z_k
is invisible to anyone who sees only probabilities. Teterwak et al. (2021) show that an inverter fed
shifted logits draws different images; this probe asks the same question on real data, without a
generator and without inputs the generator never saw: how much of an image's brightness, contrast
and evaluator features can a linear read-out predict from m, and how much does m add to what the
softmax (log-probabilities) already predicts?

Each read-out is a least-squares linear regression with an intercept, fitted on training images and
scored by R^2 on test images (for a vector target, 1 - total squared error / total variance over
its dimensions). Predictors:

- `mean logit`: m alone; `shuffled mean logit`: m of another image (a seeded permutation, in the
  fit and in the test), the control for a predictor that carries nothing;
- `log-softmax`: the K log-probabilities, all the softmax shows;
- `log-softmax + mean logit`: the two together, which together are the logits themselves (z =
  log_softmax(z) + logsumexp(z), and the logsumexp is a linear function of m given the log-softmax);
- `log-softmax + shuffled mean logit`: the control for the gain.

`gain` is R^2(log-softmax + mean logit) - R^2(log-softmax): what the softmax-invariant part adds; its
95% interval (a bootstrap over test images, paired) excluding 0 says the logits hold image
information the softmax does not. Linear read-outs bound the information from below: a nonlinear
read-out of the softmax could predict more, and so could one of m.
"""

from __future__ import annotations

import torch

from infra.batches import eval_batches
from infra.estimate import Estimate, bootstrap_statistic

PREDICTORS = (
    "mean logit",
    "shuffled mean logit",
    "log-softmax",
    "log-softmax + mean logit",
    "log-softmax + shuffled mean logit",
)


def predictors(logits: torch.Tensor, seed: int) -> dict[str, torch.Tensor]:
    """The read-outs' inputs (see the module docstring), float64."""
    z = logits.double()
    m = z.mean(1, keepdim=True)
    shuffled = m[torch.randperm(len(m), generator=torch.Generator().manual_seed(seed))]
    log_p = torch.log_softmax(z, 1)
    return {
        "mean logit": m,
        "shuffled mean logit": shuffled,
        "log-softmax": log_p,
        "log-softmax + mean logit": torch.cat([log_p, m], 1),
        "log-softmax + shuffled mean logit": torch.cat([log_p, shuffled], 1),
    }


def fit(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Least squares y ~ x with an intercept, on standardised inputs: (mean, scale, weights)."""
    mean, scale = x.mean(0), x.std(0).clamp(min=1e-12)
    design = torch.cat([torch.ones(len(x), 1, dtype=x.dtype), (x - mean) / scale], 1)
    return mean, scale, torch.linalg.lstsq(design, y).solution


def predict(model, x: torch.Tensor) -> torch.Tensor:
    mean, scale, weights = model
    return torch.cat([torch.ones(len(x), 1, dtype=x.dtype), (x - mean) / scale], 1) @ weights


def r_squared(y: torch.Tensor, prediction: torch.Tensor, idx: torch.Tensor | None = None) -> float:
    """1 - sum of squared errors / sum of squares about the mean, over every dimension of y (rows `idx`)."""
    if idx is not None:
        y, prediction = y[idx], prediction[idx]
    return float(1 - ((y - prediction) ** 2).sum() / ((y - y.mean(0)) ** 2).sum())


def r_squared_estimate(
    y: torch.Tensor, prediction: torch.Tensor, baseline: torch.Tensor | None = None, samples: int = 1000
) -> Estimate:
    """R^2 of `prediction`, or its gain over R^2 of `baseline`, with the 95% bootstrap interval over rows
    (paired: both on the same resamples)."""

    def statistic(idx: torch.Tensor | None) -> float:
        value = r_squared(y, prediction, idx)
        return value - r_squared(y, baseline, idx) if baseline is not None else value

    return bootstrap_statistic(statistic, statistic(None), len(y), samples=samples)


def read_outs(
    train_logits: torch.Tensor,
    train_targets: dict[str, torch.Tensor],
    test_logits: torch.Tensor,
    test_targets: dict[str, torch.Tensor],
    samples: int = 1000,
) -> dict[str, dict]:
    """Per target: R^2 on the test images of every predictor with its 95% interval, and the gain."""
    train_x, test_x = predictors(train_logits, seed=1), predictors(test_logits, seed=2)
    out = {}
    for target, y_train in train_targets.items():
        y_train = y_train.double().reshape(len(y_train), -1)
        y_test = test_targets[target].double().reshape(len(test_targets[target]), -1)
        predictions = {name: predict(fit(train_x[name], y_train), test_x[name]) for name in PREDICTORS}
        result = {
            name: r_squared_estimate(y_test, prediction, samples=samples) for name, prediction in predictions.items()
        }
        for gain, base, extra in (
            ("gain", "log-softmax", "log-softmax + mean logit"),
            ("shuffled gain", "log-softmax", "log-softmax + shuffled mean logit"),
        ):
            result[gain] = r_squared_estimate(y_test, predictions[extra], predictions[base], samples)
        out[target] = result
    return out


@torch.no_grad()
def image_targets(classifiers: dict, evaluator, dataset, indices: torch.Tensor, batch_size: int, device) -> tuple:
    """In one pass over the images at `indices`: each classifier's logits (a dict by name), and the
    targets, which do not depend on the classifier: brightness (mean pixel) and contrast (pixel standard
    deviation) in [0, 1] units, and the evaluator's features when given."""
    logits = {name: [] for name in classifiers}
    brightness, contrast, features = [], [], []
    for x, _ in eval_batches(dataset, batch_size, device, indices=indices):
        for name, classifier in classifiers.items():
            logits[name].append(classifier(x).float().cpu())
        unit = (x.float() + 1) / 2
        brightness.append(unit.mean((1, 2, 3)).cpu())
        contrast.append(unit.flatten(1).std(1).cpu())
        if evaluator is not None:
            features.append(evaluator.features(x).float().cpu())
    targets = {"brightness": torch.cat(brightness), "contrast": torch.cat(contrast)}
    if features:
        targets["evaluator features"] = torch.cat(features)
    return {name: torch.cat(chunks) for name, chunks in logits.items()}, targets
