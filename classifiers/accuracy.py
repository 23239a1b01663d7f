"""Top-1 accuracy of a classifier on a split, clean or under a PGD attack, across processes."""

from __future__ import annotations

import math

import torch
from accelerate import Accelerator

from infra.batches import eval_batches
from infra.progress import progress

from .attacks import PGDConfig, pgd


class Autocast(torch.nn.Module):
    """Runs a model under accelerate's autocast, for attacks that call it directly."""

    def __init__(self, model: torch.nn.Module, accelerator: Accelerator):
        super().__init__()
        self.model, self.accelerator = model, accelerator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with self.accelerator.autocast():
            return self.model(x)


def accuracy(
    model: torch.nn.Module,
    dataset,
    batch_size: int,
    accelerator: Accelerator,
    attack: PGDConfig | None = None,
    limit: int | None = None,
    desc: str = "test",
) -> float:
    """Top-1 accuracy on (the first `limit` images of) a split, clean or under `attack`; each process
    scores its share and the counts are summed."""
    n = len(dataset) if not limit else min(limit, len(dataset))
    indices = torch.arange(n)[accelerator.process_index :: accelerator.num_processes]
    net = Autocast(model, accelerator)
    counts = torch.zeros(2, device=accelerator.device)
    g = torch.Generator().manual_seed(1234 + accelerator.process_index)
    batches = eval_batches(dataset, batch_size, accelerator.device, indices=indices)
    total = math.ceil(len(indices) / batch_size)
    for images, labels in progress(
        batches, total=total, desc=desc, leave=False, disable=not accelerator.is_main_process
    ):
        if attack is not None:
            images = pgd(net, images, labels, attack, generator=g)
        with torch.no_grad():
            pred = net(images).argmax(1)
        counts += torch.stack([(pred == labels).sum().float(), torch.tensor(float(len(labels)), device=counts.device)])
    counts = accelerator.reduce(counts, reduction="sum")
    return (counts[0] / counts[1]).item()
