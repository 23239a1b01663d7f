"""Known answers for `infra.estimate`: Wilson's interval, the t interval over runs, the bootstrap of a
mean, and the round trip through results.json."""

import json
import math

import pytest
import torch

from infra.estimate import (
    Estimate,
    bootstrap_mean,
    over_runs,
    proportion,
    read_estimates,
    to_json,
    value_plus_minus,
    wilson,
)


def test_wilson_matches_the_textbook_values():
    half = wilson(50, 100)  # the usual worked example: [0.404, 0.596]
    assert half.value == 0.5 and half.low == pytest.approx(0.4038, abs=1e-4)
    assert half.high == pytest.approx(0.5962, abs=1e-4)
    none = wilson(0, 10)  # no successes: the upper end is z^2 / (n + z^2), not 0 as a bootstrap gives
    assert none.low == 0.0 and none.high == pytest.approx(1.959964**2 / (10 + 1.959964**2), rel=1e-6)
    every = wilson(10, 10)
    assert every.high == pytest.approx(1.0) and every.low == pytest.approx(1 - none.high, rel=1e-6)
    assert (half.kind, half.n) == ("wilson", 100)


def test_proportion_counts_true_values():
    hits = torch.tensor([True, False, True, True])
    assert proportion(hits) == wilson(3, 4)


def test_the_interval_over_runs_uses_the_t_quantile():
    e = over_runs([1.0, 2.0, 3.0])  # mean 2, SD 1, t(0.975, 2) = 4.3027
    assert e.value == 2.0 and e.spread == pytest.approx(1.0)
    assert e.low == pytest.approx(2 - 4.302653 / math.sqrt(3), rel=1e-5)
    assert e.high == pytest.approx(2 + 4.302653 / math.sqrt(3), rel=1e-5)
    assert e.cell("{:.1f}") == "2.0 ± 1.0 (3 runs)"
    one = over_runs([0.25])
    assert one.interval is None and one.n == 1 and "one run" in one.note


def test_the_bootstrap_interval_of_a_mean_holds_the_mean_and_shrinks_with_n():
    g = torch.Generator().manual_seed(0)
    small, large = torch.rand(100, generator=g), torch.rand(10000, generator=g)
    a, b = bootstrap_mean(small), bootstrap_mean(large)
    assert a.low < a.value < a.high and b.low < b.value < b.high
    # The half-width of a uniform's mean is about 1.96 * 0.2887 / sqrt(n).
    assert (b.high - b.low) / 2 == pytest.approx(1.96 * 0.2887 / 100, rel=0.1)
    assert (a.high - a.low) > 5 * (b.high - b.low)


def test_estimates_survive_results_json():
    data = {"fidelity": {"id_top1": wilson(20, 1000), "fid": value_plus_minus(3.0, 0.1, 500)}, "n": 3}
    back = read_estimates(json.loads(json.dumps(data, default=to_json)))
    assert back["fidelity"]["id_top1"] == wilson(20, 1000) and back["n"] == 3
    assert back["fidelity"]["fid"].interval == pytest.approx((3.0 - 0.196, 3.0 + 0.196), abs=1e-3)


def test_a_missing_number_says_why_and_cells_show_intervals():
    missing = Estimate.missing("not reported: 100 images < 2 x 64 feature dimensions")
    assert not missing.measured and missing.cell() == "not reported: 100 images < 2 x 64 feature dimensions"
    assert wilson(20, 1000).cell("{:.1%}") == "2.0% [1.3%, 3.1%]"
    with pytest.raises(ValueError):
        Estimate(1.0, low=0.5)
    with pytest.raises(ValueError):
        Estimate(1.0, kind="percentile")


def test_apart_needs_two_intervals_that_do_not_overlap():
    assert wilson(10, 1000).apart(wilson(60, 1000))
    assert not wilson(10, 1000).apart(wilson(14, 1000))
    assert not Estimate(1.0).apart(wilson(60, 1000))
