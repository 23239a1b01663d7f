"""The verdicts of docs/RESULTS.md: comparisons of training runs by their seed means, in words.

A training run is the unit of evidence. Between seeds, identification moves five to ten times as far
as its interval over test images, so two single runs decide nothing. Every comparison here takes the
runs of each configuration (one value per run), and:

- two configurations: Welch's t-test on the two seed means (unequal variances), two-sided at 5%;
- a configuration against a fixed reference that has no training (the retrieval lookup, the class
  floor): the t interval of the configuration's seed mean against the reference's value;
- two references with no training, scored on the same test images: apart when their 95% intervals
  over test images do not overlap (the only spread they have; for two measures of the same images,
  which move together, that is stricter than a paired test);
- fewer than two runs on a side: no test, and the sentence says so.

Nothing here reads files or writes Markdown beyond the sentences: `collect_results.py` gives it
estimates and puts its sentences into the document.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from infra.estimate import Estimate, over_runs

LEVEL = 0.05


@dataclass(frozen=True)
class Welch:
    difference: float  # mean of a minus mean of b
    t: float
    df: float
    p: float

    @property
    def significant(self) -> bool:
        return self.p < LEVEL


def welch(a: Estimate, b: Estimate) -> Welch | None:
    """Welch's t-test of two seed means (estimates of kind "runs"); None with fewer than two runs on a side."""
    if a.kind != "runs" or b.kind != "runs":
        raise ValueError("welch compares means over runs (Estimate kind 'runs')")
    if a.n < 2 or b.n < 2:
        return None
    from scipy import stats

    va, vb = a.spread**2 / a.n, b.spread**2 / b.n
    difference = a.value - b.value
    if va + vb == 0:
        p = 1.0 if difference == 0 else 0.0
        return Welch(difference, math.copysign(math.inf, difference) if difference else 0.0, a.n + b.n - 2, p)
    t = difference / math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (a.n - 1) + vb**2 / (b.n - 1))
    return Welch(difference, t, df, float(2 * stats.t.sf(abs(t), df)))


def runs(values: list[Estimate]) -> Estimate:
    """The seed mean of one measure over runs (each run's own estimate), with the runs' spread."""
    measured = [v.value for v in values if v is not None and v.measured]
    return over_runs(measured)


def _word(difference: float, better: str) -> str:
    if better == "lower":
        difference = -difference
    return "ahead" if difference > 0 else "behind"


def compare_runs(name_a: str, a: Estimate, name_b: str, b: Estimate, label: str, fmt: str, better: str) -> str:
    """One sentence: `name_a` vs `name_b` on a measure, by their seed means and Welch's test."""
    text = f"{label}: {name_a} {a.cell(fmt)} vs {name_b} {b.cell(fmt)}"
    test = welch(a, b)
    if test is None:
        return text + " (fewer than two runs on a side: not tested)"
    stat = f"Welch t = {test.t:.1f}, df {test.df:.1f}, p = {test.p:.2g}"
    if not test.significant:
        return text + f": no difference shown ({stat})"
    return text + f": {name_a} {_word(test.difference, better)} ({stat})"


def against_reference(name: str, a: Estimate, reference_name: str, reference: Estimate, fmt: str, better: str) -> str:
    """One sentence: a configuration's seed mean against a fixed reference value (no training, no seeds)."""
    text = f"{name} {a.cell(fmt)} vs {reference_name} {reference.cell(fmt)}"
    if a.interval is None:
        return text + " (one run: not tested)"
    low, high = a.interval
    if low > reference.value:
        side = "above" if better != "lower" else "worse than"
    elif high < reference.value:
        side = "below" if better != "lower" else "better than"
    else:
        return text + f": the 95% interval of the seed mean ({fmt.format(low)} to {fmt.format(high)}) holds it"
    return text + f": {side} it (95% interval of the seed mean {fmt.format(low)} to {fmt.format(high)})"


def difference(a: Estimate, b: Estimate, fmt: str) -> str:
    """A table cell: `a` vs `b` and which is higher, if anything shows it.

    Two seed means (kind "runs"): Welch's test. Two untrained references: their 95% intervals over test
    images. Anything else (a missing side, one run, a seed mean against an interval) is not tested here.
    """
    if not a.measured or not b.measured:
        return "not measured on both sides"
    text = f"{fmt.format(a.value)} vs {fmt.format(b.value)}"
    if a.kind == "runs" or b.kind == "runs":
        if a.kind != b.kind:
            return text + ": not tested (a seed mean against a single value)"
        test = welch(a, b)
        if test is None:
            return text + ": fewer than two runs on a side, not tested"
        p = f"Welch p = {test.p:.2g}"
        return text + (f": {_higher(test.difference)} ({p})" if test.significant else f": no difference shown ({p})")
    if a.interval is None or b.interval is None:
        return text + ": no interval, not tested"
    if not a.apart(b):
        return text + ": not shown apart (95% intervals overlap)"
    return text + f": {_higher(a.value - b.value)} (95% intervals apart)"


def _higher(difference: float) -> str:
    return "higher" if difference > 0 else "lower"


def share_of_gap(value: float, floor: float, ceiling: float) -> float:
    """Where `value` sits from `floor` (0) to `ceiling` (1); outside [0, 1] when beyond them."""
    return (value - floor) / (ceiling - floor) if ceiling != floor else math.nan
