"""Known-answer tests of the adversarial evaluation's definitions (inversion/evaluation/adversarial.py)."""

from types import SimpleNamespace

import torch

from classifiers.attacks import pgd_config
from inversion.evaluation.adversarial import attack_reconstructions, random_other_class


def _mean_classifier(x: torch.Tensor) -> torch.Tensor:
    """Two classes by the image's mean brightness s: logits (-10 s, 10 s), so class 1 iff s > 0."""
    s = x.flatten(1).mean(1)
    return torch.stack([-10 * s, 10 * s], dim=1)


def _case():
    """8 dark images (s = -0.05: the classifier says class 0); 4 labelled 0 (right), 4 labelled 1 (wrong).
    G draws tanh(z_1 - z_0) as a flat image and the evaluator is the mean classifier again, so a
    reconstruction shows exactly the class the logits it was made from point to."""
    inverter = SimpleNamespace(
        classifier=_mean_classifier,
        generate=lambda z: torch.tanh(z[:, 1] - z[:, 0])[:, None, None, None].expand(-1, 1, 4, 4),
        logits=_mean_classifier,
        num_classes=2,
        device=torch.device("cpu"),
    )
    evaluator = _mean_classifier
    # uint8 pixels, as data sets give them: 121 is -0.051 in [-1, 1].
    data = [(torch.full((1, 4, 4), 121, dtype=torch.uint8), torch.tensor(label)) for label in [0, 1] * 4]
    return inverter, evaluator, data


def test_only_clean_correct_images_are_attacked_and_clean_errors_are_apart():
    inverter, evaluator, data = _case()
    indices = torch.arange(len(data))
    # eps 0: no attack can change anything. The old definition (top-1 != label over all images) called
    # the 4 clean errors successful attacks (50%); only the 4 right ones are attacked, and none succeeds.
    none, _ = attack_reconstructions(inverter, evaluator, data, indices, pgd_config("linf", 0.0, 5), 8, 2)
    assert none["clean_correct"] == 4 and none["clean_errors"]["images"] == 4
    assert none["untargeted"]["attacked"] == 4 and none["untargeted"]["successes"] == 0
    assert none["targeted"]["successes"] == 0
    # Their reconstructions come from the clean logits, which say class 0: they show the classifier's
    # wrong class, never the label.
    assert (
        none["clean_errors"]["recon_is_prediction"].value == 1.0 and none["clean_errors"]["recon_is_label"].value == 0.0
    )

    # eps 0.1 ([0, 1] units; 0.2 here) moves the mean from -0.05 to +0.15: every attack succeeds, and the
    # reconstruction from the adversarial logits shows the adversary's class.
    full, pictures = attack_reconstructions(inverter, evaluator, data, indices, pgd_config("linf", 0.1, 10), 8, 2)
    for mode in ("untargeted", "targeted"):  # with two classes, the target is the other class
        assert full[mode]["attacked"] == 4 and full[mode]["attack_success"].value == 1.0
        assert full[mode]["recon_is_adversary"].value == 1.0 and full[mode]["recon_is_source"].value == 0.0
    assert pictures.shape == (2, 4, 1, 4, 4)


def test_targets_are_never_the_label():
    g = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 10, (5000,), generator=g)
    targets = random_other_class(labels, 10, g)
    assert (targets != labels).all() and len(targets.unique()) == 10
