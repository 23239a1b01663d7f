"""Robust accuracy by AutoAttack's gradient attacks (Croce and Hein 2020, "Reliable evaluation of
adversarial robustness with an ensemble of diverse parameter-free attacks"): APGD-CE and APGD-T.

Single-restart PGD with a fixed step size can overstate robustness (a step too large or too small,
a loss that saturates); AutoAttack's APGD adapts its step size and APGD-T attacks the margin to each
of the other classes in turn with the DLR loss. The attacks are torchattacks' implementations
(pinned in requirements-nodeps.txt; installed without its dependencies, which pin an old requests),
run as AutoAttack runs them: APGD-CE on every image, then APGD-T on those still classified correctly.
torchattacks reseeds torch's global generator at each call (its `seed`), so both attacks are
repeatable; whatever draws random numbers after them in the same process draws from that seed.
An image counts as robust only if it survives both. The standard AutoAttack suite adds FAB-T and
Square; for networks without gradient masking the two APGD attacks give nearly all of its success,
which is why they are the pair the robustness literature reports when it runs fewer than four.

torchattacks takes images in [0, 1]; the project's classifiers take [-1, 1]. `UnitRange` converts, and
eps is given in the same [0, 1] pixel units as `classifiers.attacks`.
"""

from __future__ import annotations

import math

import torch
from accelerate import Accelerator

from infra.batches import eval_batches
from infra.errors import UserError
from infra.optional import require
from infra.progress import progress

from .accuracy import Autocast

ATTACKS = ("apgd-ce", "apgd-t")
NORMS = {"linf": "Linf", "l2": "L2"}


class UnitRange(torch.nn.Module):
    """A [-1, 1] classifier as a [0, 1] one, with float32 logits, for torchattacks."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x * 2 - 1).float()


def build_attacks(model: torch.nn.Module, norm: str, eps: float, steps: int, num_classes: int, seed: int = 0) -> dict:
    """APGD-CE and APGD-T (all other classes as targets, one restart each) on `model` ([0, 1] inputs)."""
    torchattacks = require("torchattacks", "AutoAttack's APGD-CE and APGD-T")
    if norm not in NORMS:
        raise ValueError(f"norm must be one of {tuple(NORMS)}, got {norm!r}")
    if num_classes < 4:  # its DLR loss reads the 3rd and 4th largest logits
        raise UserError(
            f"AutoAttack's APGD-T needs at least 4 classes; this classifier has {num_classes}: "
            f"pass --autoattack-steps 0 for PGD only"
        )
    return {
        "apgd-ce": torchattacks.APGD(model, norm=NORMS[norm], eps=eps, steps=steps, n_restarts=1, seed=seed, loss="ce"),
        "apgd-t": torchattacks.APGDT(
            model, norm=NORMS[norm], eps=eps, steps=steps, n_restarts=1, seed=seed, n_classes=num_classes
        ),
    }


def autoattack_accuracy(
    model: torch.nn.Module,
    dataset,
    batch_size: int,
    accelerator: Accelerator,
    norm: str,
    eps: float,
    steps: int = 100,
    limit: int | None = None,
) -> dict:
    """Clean accuracy, accuracy under APGD-CE, and under APGD-CE then APGD-T (the worst case), on (the
    first `limit` images of) a split; each process scores its share and the counts are summed. Also
    the per-image robustness (worst case) of this process's images, for intervals."""
    n = len(dataset) if not limit else min(limit, len(dataset))
    indices = torch.arange(n)[accelerator.process_index :: accelerator.num_processes]
    net = UnitRange(Autocast(model, accelerator)).eval()
    num_classes = None
    counts = torch.zeros(4, device=accelerator.device)  # clean, after APGD-CE, after both, images
    robust_per_image = []
    batches = eval_batches(dataset, batch_size, accelerator.device, indices=indices)
    total = math.ceil(len(indices) / batch_size)
    for images, labels in progress(
        batches, total=total, desc="AutoAttack", leave=False, disable=not accelerator.is_main_process
    ):
        unit = (images + 1) / 2
        with torch.no_grad():
            logits = net(unit)
        if num_classes is None:
            num_classes = logits.shape[1]
            attacks = build_attacks(net, norm, eps, steps, num_classes)
        robust = logits.argmax(1) == labels
        counts[0] += robust.sum()
        for name in ATTACKS:
            idx = robust.nonzero().flatten()
            if len(idx):
                adv = attacks[name](unit[idx], labels[idx])
                with torch.no_grad():
                    robust[idx] = net(adv).argmax(1) == labels[idx]
            counts[1 + ATTACKS.index(name)] += robust.sum()
        counts[3] += len(labels)
        robust_per_image.append(robust.cpu())
    counts = accelerator.reduce(counts, reduction="sum")
    clean, after_ce, after_both, images = (float(c) for c in counts)
    return {
        "clean_accuracy": clean / images,
        "apgd_ce_accuracy": after_ce / images,
        "robust_accuracy": after_both / images,
        "images": int(images),
        "robust_per_image": torch.cat(robust_per_image) if robust_per_image else torch.zeros(0, dtype=torch.bool),
    }
