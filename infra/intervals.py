"""95% intervals for the evaluation's main numbers: a percentile bootstrap over images.

The images are resampled with replacement `samples` times and the mean of the per-image values is
taken each time; the interval runs from the 2.5th to the 97.5th percentile of those means. It says
how much a number would move on another sample of test images from the same distribution, for
these networks; it says nothing of the spread between training runs (seeds), which only more runs
measure.
"""

from __future__ import annotations

import torch


def bootstrap_interval(values: torch.Tensor, level: float = 0.95, samples: int = 2000, seed: int = 0) -> list[float]:
    """[low, high] of the mean of `values` (one per image) at `level`, by a seeded percentile bootstrap."""
    values = values.detach().double().flatten().cpu()
    n = len(values)
    if n == 0:
        return [float("nan"), float("nan")]
    g = torch.Generator().manual_seed(seed)
    means = []
    for start in range(0, samples, 200):  # in chunks: 200 x n indices at a time
        idx = torch.randint(n, (min(200, samples - start), n), generator=g)
        means.append(values[idx].mean(1))
    means = torch.cat(means)
    tail = (1 - level) / 2
    low, high = torch.quantile(means, torch.tensor([tail, 1 - tail], dtype=torch.float64))
    return [float(low), float(high)]


def bootstrap_statistic(statistic, n: int, level: float = 0.95, samples: int = 1000, seed: int = 0) -> list[float]:
    """[low, high] of `statistic(indices)` (a float from a resample of the n items) at `level`, by a
    seeded percentile bootstrap: for statistics that are not a mean of per-item values, such as R^2."""
    if n == 0:
        return [float("nan"), float("nan")]
    g = torch.Generator().manual_seed(seed)
    values = torch.tensor([float(statistic(torch.randint(n, (n,), generator=g))) for _ in range(samples)])
    tail = (1 - level) / 2
    low, high = torch.quantile(values.double(), torch.tensor([tail, 1 - tail], dtype=torch.float64))
    return [float(low), float(high)]
