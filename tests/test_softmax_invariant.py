"""Known-answer tests of the softmax-invariant probe (inversion/probes/softmax_invariant.py)."""

import torch

from inversion.probes.softmax_invariant import r_squared, read_outs


def _case(n: int, seed: int, mean_carries_brightness: bool):
    """Logits 3 x one-hot(class) + a constant per image. The constant is 5 x brightness (drawn apart from
    the class) or unrelated noise. The softmax cannot see the constant either way."""
    g = torch.Generator().manual_seed(seed)
    classes = torch.randint(0, 10, (n,), generator=g)
    brightness = torch.rand(n, generator=g)
    constant = 5 * brightness if mean_carries_brightness else torch.randn(n, generator=g)
    logits = 3 * torch.nn.functional.one_hot(classes, 10).float() + constant[:, None]
    logits += 0.01 * torch.randn(n, 10, generator=g)
    return logits, {"brightness": brightness}


def test_the_mean_logit_gain_is_found_when_it_is_there_and_only_then():
    carried = read_outs(*_case(3000, 0, True), *_case(2000, 1, True), samples=200)["brightness"]
    # The mean logit is 5 x brightness + 0.3 + small noise: it predicts brightness almost exactly; the
    # log-softmax, blind to the constant, predicts nothing.
    assert carried["mean logit"].value > 0.99 and carried["log-softmax"].value < 0.01
    assert carried["gain"].low > 0.95
    assert (
        abs(carried["shuffled mean logit"].value) < 0.01
        and carried["shuffled gain"].low < 0 < carried["shuffled gain"].high
    )

    absent = read_outs(*_case(3000, 0, False), *_case(2000, 1, False), samples=200)["brightness"]
    assert absent["gain"].low < 0 < absent["gain"].high and abs(absent["gain"].value) < 0.01


def test_r_squared_known_values():
    y = torch.tensor([[1.0], [2.0], [3.0], [4.0]], dtype=torch.float64)
    assert r_squared(y, y) == 1.0
    assert r_squared(y, torch.full_like(y, 2.5)) == 0.0  # predicting the mean
    assert abs(r_squared(y, y + 1) - (1 - 4 / 5)) < 1e-12  # errors 1 each (sum 4) over a sum of squares of 5
