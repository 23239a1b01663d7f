"""Known answers for the verdicts (experiments/verdicts.py): runs built to differ by a known amount, checked
against scipy's own Welch test, and the sentences that say what the test found."""

import pytest
from scipy import stats

from experiments.verdicts import against_reference, compare_runs, difference, runs, share_of_gap, welch
from infra.estimate import Estimate, over_runs, wilson

AHEAD = [0.10, 0.11, 0.12]
BEHIND = [0.05, 0.06, 0.07]  # five points lower, same spread: t = 0.05 / sqrt(2 x 0.01^2 / 3) = 6.12


def test_welch_matches_scipy_and_the_hand_computed_t():
    test = welch(over_runs(AHEAD), over_runs(BEHIND))
    reference = stats.ttest_ind(AHEAD, BEHIND, equal_var=False)
    assert test.t == pytest.approx(0.05 / (2 * 0.01**2 / 3) ** 0.5, rel=1e-9)
    assert test.t == pytest.approx(reference.statistic) and test.p == pytest.approx(reference.pvalue)
    assert test.df == pytest.approx(4.0) and test.significant
    unequal = welch(over_runs([1.0, 2.0, 4.0, 8.0]), over_runs([1.5, 1.6]))
    reference = stats.ttest_ind([1.0, 2.0, 4.0, 8.0], [1.5, 1.6], equal_var=False)
    assert unequal.p == pytest.approx(reference.pvalue) and not unequal.significant


def test_a_difference_smaller_than_the_spread_between_seeds_is_not_a_verdict():
    a, b = over_runs(AHEAD), over_runs([0.105, 0.115, 0.095])
    sentence = compare_runs("robust", a, "standard", b, "identification", "{:.1%}", "higher")
    assert "no difference shown" in sentence and "ahead" not in sentence
    sentence = compare_runs("robust", a, "standard", over_runs(BEHIND), "identification", "{:.1%}", "higher")
    assert sentence.endswith("robust ahead (Welch t = 6.1, df 4.0, p = 0.0036)")
    lower_better = compare_runs("robust", a, "standard", over_runs(BEHIND), "FID", "{:.2f}", "lower")
    assert "robust behind" in lower_better


def test_single_runs_are_never_compared():
    one = over_runs([0.2])
    assert welch(one, over_runs(AHEAD)) is None
    assert "not tested" in compare_runs("a", one, "b", over_runs(AHEAD), "identification", "{:.1%}", "higher")
    with pytest.raises(ValueError):
        welch(wilson(10, 100), over_runs(AHEAD))


def test_a_configuration_against_a_fixed_reference_uses_its_seed_interval():
    lookup = Estimate(0.195, 0.187, 0.203, 10000, "bootstrap")
    assert ": below it" in against_reference("GAN", over_runs(AHEAD), "lookup", lookup, "{:.1%}", "higher")
    assert ": above it" in against_reference("GAN", over_runs([0.30, 0.31, 0.32]), "lookup", lookup, "{:.1%}", "higher")
    wide = over_runs([0.10, 0.30, 0.20])  # mean 0.2, the interval holds 0.195
    assert "holds it" in against_reference("GAN", wide, "lookup", lookup, "{:.1%}", "higher")


def test_runs_take_the_measured_values_and_the_gap_share():
    values = [Estimate(0.1), Estimate(0.2), Estimate.missing("not run"), Estimate(0.3)]
    mean = runs(values)
    assert mean.n == 3 and mean.value == pytest.approx(0.2) and mean.values == [0.1, 0.2, 0.3]
    assert share_of_gap(0.1, 0.01, 0.19) == pytest.approx(0.5)


def test_a_table_cell_compares_seed_means_by_welch_and_references_by_their_intervals():
    """Seed means: the AHEAD/BEHIND runs above (p = 0.0036). References on the same images: 17.7% [17.1, 18.3]
    against 19.4% [18.8, 20.1] are apart (18.3 < 18.8); 18.0% [17.4, 18.7] against 18.5% [17.9, 19.1] overlap."""
    assert difference(over_runs(BEHIND), over_runs(AHEAD), "{:.1%}") == "6.0% vs 11.0%: lower (Welch p = 0.0036)"
    close = difference(over_runs(AHEAD), over_runs([0.105, 0.115, 0.095]), "{:.1%}")
    assert close.startswith("11.0% vs 10.5%: no difference shown (Welch p = ")
    one = difference(over_runs([0.2]), over_runs(AHEAD), "{:.1%}")
    assert one == "20.0% vs 11.0%: fewer than two runs on a side, not tested"

    def ref(value, low, high):
        return Estimate(value, low, high, 10000, "bootstrap")

    apart = difference(ref(0.177, 0.171, 0.183), ref(0.194, 0.188, 0.201), "{:.1%}")
    assert apart == "17.7% vs 19.4%: lower (95% intervals apart)"
    assert difference(ref(0.194, 0.188, 0.201), ref(0.177, 0.171, 0.183), "{:.1%}").endswith(
        ": higher (95% intervals apart)"
    )
    overlap = difference(ref(0.180, 0.174, 0.187), ref(0.185, 0.179, 0.191), "{:.1%}")
    assert overlap == "18.0% vs 18.5%: not shown apart (95% intervals overlap)"
    assert "not tested (a seed mean against a single value)" in difference(
        over_runs(AHEAD), ref(0.1, 0.09, 0.11), "{:.1%}"
    )
    assert difference(Estimate.missing("not run"), ref(0.1, 0.09, 0.11), "{:.1%}") == "not measured on both sides"
