"""Results as data: a measured value travels with its interval, its sample size and how both were made.

An `Estimate` is what every evaluation returns for a number, what `results.json` stores, and what
tables, the HTML report and docs/RESULTS.md read. It is formatted only where it is shown
(`Estimate.cell`). Interval kinds (`KINDS`):

- `bootstrap`: percentile bootstrap of a mean over the n items (images), 2,000 seeded resamples;
- `wilson`: Wilson's score interval of a proportion of n items (Wilson 1927), which stays inside [0, 1]
  and does not collapse to a point at 0 or n successes, as a percentile bootstrap does;
- `bootstrap-sd`: the value plus or minus 1.96 bootstrap standard deviations (for statistics such as
  FID whose resampled values are biased, so that their percentiles sit to one side of the value);
- `runs`: the mean of n training runs (seeds) with a Student-t interval of that mean; `spread` holds
  the runs' standard deviation;
- `none`: no interval (a count, a setting, or a value measured once).

A number that could not be measured has `value` None and says why in `note`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import torch

KINDS = ("bootstrap", "wilson", "bootstrap-sd", "runs", "none")
LEVEL = 0.95
Z95 = 1.959963984540054  # the standard normal's 97.5% quantile


@dataclass(frozen=True)
class Estimate:
    value: float | None
    low: float | None = None
    high: float | None = None
    n: int | None = None  # items the value is computed over (images, or runs for kind "runs")
    kind: str = "none"
    note: str = ""
    spread: float | None = None  # kind "runs": the standard deviation between runs
    values: list[float] = field(default_factory=list)  # kind "runs": each run's value

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown interval kind {self.kind!r}; one of {', '.join(KINDS)}")
        if (self.low is None) != (self.high is None):
            raise ValueError("an interval needs both ends")

    # ---------------------------------------------------------------- reading
    @property
    def measured(self) -> bool:
        return self.value is not None

    @property
    def interval(self) -> tuple[float, float] | None:
        return None if self.low is None else (self.low, self.high)

    def apart(self, other: Estimate) -> bool:
        """Both have intervals and they do not overlap."""
        if self.interval is None or other.interval is None:
            return False
        return self.high < other.low or other.high < self.low

    def cell(self, fmt: str = "{:.3f}", missing: str = "unavailable") -> str:
        """The value in `fmt`, its interval in brackets, and for a mean over runs its spread and count."""
        if self.value is None:
            return self.note or missing
        text = fmt.format(self.value)
        if self.kind == "runs":
            spread = "" if self.spread is None else f" ± {fmt.format(self.spread)}"
            return text + spread + (" (1 run)" if self.n == 1 else f" ({self.n} runs)")
        if self.interval is not None:
            text += f" [{fmt.format(self.low)}, {fmt.format(self.high)}]"
        elif self.spread is not None:
            text += f" (SD {fmt.format(self.spread)})"
        return text

    # ---------------------------------------------------------------- storing
    def to_json(self) -> dict:
        out = {k: v for k, v in asdict(self).items() if v not in (None, "", [])}
        out["value"] = self.value
        out["kind"] = self.kind
        return out

    @classmethod
    def from_json(cls, data) -> Estimate:
        if isinstance(data, Estimate):
            return data
        if not isinstance(data, dict) or "value" not in data:
            raise ValueError(f"not an estimate: {str(data)[:80]}")
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})

    @classmethod
    def missing(cls, note: str) -> Estimate:
        return cls(None, note=note)

    @classmethod
    def exact(cls, value: float, n: int | None = None, note: str = "") -> Estimate:
        return cls(float(value), n=n, note=note)


def is_estimate(data) -> bool:
    return isinstance(data, dict) and "value" in data and "kind" in data


# ------------------------------------------------------------------ making estimates
def bootstrap_mean(values: torch.Tensor, samples: int = 2000, seed: int = 0) -> Estimate:
    """The mean of per-item values with its percentile-bootstrap interval."""
    values = values.detach().double().flatten().cpu()
    n = len(values)
    if n == 0:
        return Estimate.missing("no items")
    g = torch.Generator().manual_seed(seed)
    means = []
    for start in range(0, samples, 200):  # in chunks: 200 x n indices at a time
        idx = torch.randint(n, (min(200, samples - start), n), generator=g)
        means.append(values[idx].mean(1))
    tail = (1 - LEVEL) / 2
    low, high = torch.quantile(torch.cat(means), torch.tensor([tail, 1 - tail], dtype=torch.float64))
    return Estimate(float(values.mean()), float(low), float(high), n, "bootstrap")


def bootstrap_statistic(statistic, value: float, n: int, samples: int = 1000, seed: int = 0) -> Estimate:
    """`value` with the percentile-bootstrap interval of `statistic(indices)` (a float from a resample of
    the n items), for statistics that are not a mean of per-item values, such as R^2."""
    if n == 0:
        return Estimate.missing("no items")
    g = torch.Generator().manual_seed(seed)
    values = torch.tensor([float(statistic(torch.randint(n, (n,), generator=g))) for _ in range(samples)])
    tail = (1 - LEVEL) / 2
    low, high = torch.quantile(values.double(), torch.tensor([tail, 1 - tail], dtype=torch.float64))
    return Estimate(float(value), float(low), float(high), n, "bootstrap")


def wilson(successes: int, n: int) -> Estimate:
    """A proportion with Wilson's score interval (95%)."""
    if n == 0:
        return Estimate.missing("no items")
    p = successes / n
    z2 = Z95**2
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return Estimate(p, max(0.0, centre - half), min(1.0, centre + half), n, "wilson")


def proportion(hits: torch.Tensor) -> Estimate:
    """The share of true values in a boolean (or 0/1) tensor, with Wilson's interval."""
    hits = hits.detach().flatten().cpu()
    return wilson(int(hits.sum()), len(hits))


def value_plus_minus(value: float, sd: float, n: int) -> Estimate:
    """A value plus or minus 1.96 bootstrap standard deviations (kind bootstrap-sd), floored at 0."""
    return Estimate(value, max(0.0, value - Z95 * sd), value + Z95 * sd, n, "bootstrap-sd")


def t_quantile(df: int, level: float = LEVEL) -> float:
    """Student's t quantile at (1 + level) / 2 with `df` degrees of freedom."""
    from scipy import stats

    return float(stats.t.ppf((1 + level) / 2, df))


def over_runs(values: list[float]) -> Estimate:
    """The mean of one value per training run, the runs' standard deviation and a t interval of the mean."""
    values = [float(v) for v in values]
    n = len(values)
    if n == 0:
        return Estimate.missing("no runs")
    mean = sum(values) / n
    if n == 1:
        return Estimate(mean, n=1, kind="runs", values=values, note="one run: no spread")
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = t_quantile(n - 1) * sd / math.sqrt(n)
    return Estimate(mean, mean - half, mean + half, n, "runs", spread=sd, values=values)


# ------------------------------------------------------------------ JSON
def to_json(obj):
    """`json.dumps(..., default=to_json)`: estimates as their fields, tensors and numpy scalars as numbers."""
    if isinstance(obj, Estimate):
        return obj.to_json()
    if hasattr(obj, "tolist"):
        return obj.tolist()
    return float(obj)


def read_estimates(data):
    """A JSON structure with every stored estimate (a dict with `value` and `kind`) turned back into an
    `Estimate`, at any depth."""
    if is_estimate(data):
        return Estimate.from_json(data)
    if isinstance(data, dict):
        return {k: read_estimates(v) for k, v in data.items()}
    if isinstance(data, list):
        return [read_estimates(v) for v in data]
    return data
