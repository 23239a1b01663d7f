"""Adversarial inputs (Teterwak et al. 2021, Section 4): PGD on the inverted classifier, then ask whose
class the reconstruction from the adversarial logits shows.

Only images the classifier gets right when clean are attacked: on an image it already gets wrong,
"the prediction differs from the label" holds before any attack, and counting it as a success would
mix the classifier's own errors into the adversary's. Those clean errors are reported apart, with
what the reconstruction from their (clean) logits shows: the true class or the classifier's wrong one.

For each attacked image and each mode (untargeted; targeted at a random class other than the label,
which for these images is also the clean prediction), PGD moves the image within the threat model; an
attack succeeds when the classifier's top-1 on it differs from the label (untargeted) or equals the
target (targeted). For the successful ones the independent evaluator judges G(phi(x_adv)): does it
show the source class or the adversary's? Every share is an `Estimate` with Wilson's 95% interval.

The same module splits the test images by whether the classifier got them right, for the fidelity
table by subset.
"""

from __future__ import annotations

import math

import torch

from classifiers.attacks import PGDConfig, pgd
from infra.batches import eval_batches
from infra.estimate import Estimate, proportion
from infra.progress import progress

MODES = ("untargeted", "targeted")


def random_other_class(labels: torch.Tensor, num_classes: int, generator: torch.Generator) -> torch.Tensor:
    """A uniformly random class other than each label."""
    shift = torch.randint(1, num_classes, labels.shape, generator=generator).to(labels.device)
    return (labels + shift) % num_classes


@torch.no_grad()
def _judge(inverter, evaluator, logits: torch.Tensor) -> torch.Tensor:
    """The evaluator's class for G(logits), for each row (none for no rows: G needs a batch)."""
    if len(logits) == 0:
        return torch.zeros(0, dtype=torch.long, device=logits.device)
    return evaluator(inverter.generate(logits)).argmax(1)


def attack_records(
    inverter, evaluator, x: torch.Tensor, y: torch.Tensor, attack: PGDConfig, generator, examples: int = 0
) -> tuple[dict, torch.Tensor | None]:
    """Per-image booleans for one batch: which images the classifier gets right clean, and for those,
    per mode, whether the attack succeeded and whose class the evaluator sees in G(phi(x_adv)); for the
    clean errors, whose class it sees in G(phi(x)). With `examples`, also rows of
    [x, x_adv, G(phi(x)), G(phi(x_adv))] of the first attacked images (untargeted), else None."""
    with torch.no_grad():
        clean_logits = inverter.classifier(x).float()
    clean_pred = clean_logits.argmax(1)
    correct = clean_pred == y
    judged_errors = _judge(inverter, evaluator, clean_logits[~correct])
    records = {
        "correct": correct.cpu(),
        "error_recon_is_label": (judged_errors == y[~correct]).cpu(),
        "error_recon_is_prediction": (judged_errors == clean_pred[~correct]).cpu(),
    }
    xc, yc = x[correct], y[correct]
    rows = None
    for mode in MODES:
        targets = random_other_class(yc, inverter.num_classes, generator) if mode == "targeted" else None
        if len(xc) == 0:
            empty = torch.zeros(0, dtype=torch.bool)
            records[mode] = {"success": empty, "recon_is_source": empty, "recon_is_adversary": empty}
            continue
        # The attacker differentiates the raw logits, whatever the API exposes to the inverter (a plain
        # function standing in for the classifier is its own raw logits).
        raw = getattr(inverter.classifier, "logits", inverter.classifier)
        x_adv = pgd(raw, xc, yc, attack, targets=targets, generator=generator)
        with torch.no_grad():
            z_adv = inverter.classifier(x_adv).float()
        adv_pred = z_adv.argmax(1)
        success = (adv_pred == targets) if targets is not None else (adv_pred != yc)
        adversary = targets if targets is not None else adv_pred
        judged = _judge(inverter, evaluator, z_adv[success])
        records[mode] = {
            "success": success.cpu(),
            "recon_is_source": (judged == yc[success]).cpu(),
            "recon_is_adversary": (judged == adversary[success]).cpu(),
        }
        if examples and mode == "untargeted":
            with torch.no_grad():
                recon_clean = inverter.generate(clean_logits[correct][:examples])
                recon_adv = inverter.generate(z_adv[:examples])
            rows = torch.stack([xc[:examples], x_adv[:examples], recon_clean, recon_adv], dim=1).cpu()
    return records, rows


def _share(values: list[torch.Tensor]) -> Estimate:
    return proportion(torch.cat(values) if values else torch.zeros(0, dtype=torch.bool))


def summarize_attacks(batches: list[dict]) -> dict:
    """The adversarial table's numbers from `attack_records` of every batch."""
    correct = torch.cat([b["correct"] for b in batches])
    summary = {
        "images": len(correct),
        "clean_correct": int(correct.sum()),
        "clean_errors": {
            "images": int((~correct).sum()),
            "recon_is_label": _share([b["error_recon_is_label"] for b in batches]),
            "recon_is_prediction": _share([b["error_recon_is_prediction"] for b in batches]),
        },
    }
    for mode in MODES:
        success = torch.cat([b[mode]["success"] for b in batches])
        summary[mode] = {
            "attacked": len(success),
            "successes": int(success.sum()),
            "attack_success": _share([success]),
            "recon_is_source": _share([b[mode]["recon_is_source"] for b in batches]),
            "recon_is_adversary": _share([b[mode]["recon_is_adversary"] for b in batches]),
        }
    return summary


def attack_reconstructions(
    inverter, evaluator, dataset, indices: torch.Tensor, attack: PGDConfig, batch_size: int, examples: int
) -> tuple[dict, torch.Tensor | None]:
    """`summarize_attacks` over the images at `indices`, and `examples` rows of
    [x, x_adv, G(phi(x)), G(phi(x_adv))] from the untargeted attack, (examples, 4, C, H, W)."""
    g = torch.Generator().manual_seed(0)
    batches, rows = [], []
    for x, y in progress(
        eval_batches(dataset, batch_size, inverter.device, indices=indices),
        total=math.ceil(len(indices) / batch_size),
        desc="adversarial",
        leave=False,
    ):
        wanted = examples - sum(len(r) for r in rows)
        records, pictured = attack_records(inverter, evaluator, x, y, attack, g, examples=max(wanted, 0))
        if pictured is not None:
            rows.append(pictured)
        batches.append(records)
    pictures = torch.cat(rows)[:examples] if rows else None
    return summarize_attacks(batches), pictures


def correctness_masks(labels: torch.Tensor, predictions: torch.Tensor) -> dict[str, torch.Tensor]:
    """The images the classifier got right and those it got wrong, as the fidelity table's subsets."""
    correct = predictions == labels
    return {"correctly classified": correct, "wrongly classified": ~correct}
