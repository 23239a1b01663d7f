"""Adversarial inputs (Teterwak et al. 2021, Section 4): PGD on the inverted classifier, then ask whose
class the reconstruction from the adversarial logits shows.

For each test image and each mode (untargeted; targeted at a random other class), PGD moves the
image within the threat model; an attack succeeds when the classifier's top-1 on it differs from the
label (untargeted) or equals the target (targeted). For the successful ones, the independent
evaluator judges G(phi(x_adv)): does it show the source class or the adversary's? The same module
splits the test images by whether the classifier got them right, for the fidelity table by subset.
"""

from __future__ import annotations

import math

import torch

from classifiers.attacks import PGDConfig, pgd
from infra.batches import eval_batches
from infra.progress import progress

MODES = ("untargeted", "targeted")


def attack_reconstructions(
    inverter, evaluator, dataset, indices: torch.Tensor, attack: PGDConfig, batch_size: int, examples: int
) -> tuple[dict, torch.Tensor]:
    """Per mode: images, attack success rate, and among the successes the share whose reconstruction the
    evaluator puts in the source class and in the adversary's. Also `examples` rows of
    [x, x_adv, G(phi(x)), G(phi(x_adv))] from the untargeted attack, (examples, 4, C, H, W)."""
    k = inverter.num_classes
    totals = {m: {"images": 0, "attack_success": 0, "recon_is_source": 0, "recon_is_adversary": 0} for m in MODES}
    pictures = None
    g = torch.Generator().manual_seed(0)
    batches = eval_batches(dataset, batch_size, inverter.device, indices=indices)
    for x, y in progress(batches, total=math.ceil(len(indices) / batch_size), desc="adversarial", leave=False):
        for mode in MODES:
            targets = (y + torch.randint(1, k, y.shape, generator=g).to(y.device)) % k if mode == "targeted" else None
            x_adv = pgd(inverter.classifier, x, y, attack, targets=targets, generator=g)
            with torch.no_grad():
                z_adv = inverter.classifier(x_adv).float()
                adversary = targets if targets is not None else z_adv.argmax(1)
                success = (z_adv.argmax(1) == targets) if targets is not None else (z_adv.argmax(1) != y)
                recon = inverter.generate(z_adv)
                judged = evaluator(recon).argmax(1)
            t = totals[mode]
            t["images"] += len(x)
            t["attack_success"] += int(success.sum())
            t["recon_is_source"] += int((judged == y)[success].sum())
            t["recon_is_adversary"] += int((judged == adversary)[success].sum())
            if pictures is None and mode == "untargeted":
                pictures = torch.stack([x, x_adv, inverter.generate(inverter.logits(x)), recon], dim=1)[:examples]
    summary = {}
    for mode, t in totals.items():
        successes = max(t["attack_success"], 1)
        summary[mode] = {
            "images": t["images"],
            "attack_success": t["attack_success"] / max(t["images"], 1),
            "recon_is_source": t["recon_is_source"] / successes,
            "recon_is_adversary": t["recon_is_adversary"] / successes,
        }
    return summary, pictures


def correctness_masks(labels: torch.Tensor, predictions: torch.Tensor) -> dict[str, torch.Tensor]:
    """The images the classifier got right and those it got wrong, as the fidelity table's subsets."""
    correct = predictions == labels
    return {"correctly classified": correct, "wrongly classified": ~correct}
