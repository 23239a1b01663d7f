"""The logit statistics that logit standardisation uses, measured once at the start of a run.

Per-dimension mean and standard deviation of the frozen classifier's logits over (up to) a fixed
random sample of training images, summed across processes so that every process gets the same
numbers. They are stored as buffers in G and D (and so in every checkpoint and snapshot).
"""

from __future__ import annotations

import math

import torch
from accelerate import Accelerator

from classifiers import FrozenClassifier
from infra.batches import eval_batches
from infra.errors import UserError
from infra.progress import progress


@torch.no_grad()
def measure_logit_statistics(
    classifier: FrozenClassifier, dataset, limit: int, batch_size: int, accelerator: Accelerator, num_workers: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-dimension mean and std of phi(x) over (up to) `limit` training images, shared across processes."""
    n = min(limit, len(dataset))
    indices = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(0))[:n]
    shard = indices[accelerator.process_index :: accelerator.num_processes]
    k = classifier.num_classes
    total = torch.zeros(2 * k + 1, dtype=torch.float64, device=accelerator.device)
    batches = eval_batches(dataset, batch_size, accelerator.device, indices=shard, num_workers=num_workers)
    for images, _ in progress(
        batches,
        total=math.ceil(len(shard) / batch_size),
        desc="logit statistics",
        disable=not accelerator.is_main_process,
        leave=False,
    ):
        with accelerator.autocast():
            logits = classifier(images).double()
        total += torch.cat([logits.sum(0), (logits**2).sum(0), logits.new_tensor([len(logits)])])
    total = accelerator.reduce(total, reduction="sum")
    count = total[-1]
    mean = total[:k] / count
    std = (total[k : 2 * k] / count - mean**2).clamp(min=0).sqrt()
    if not (torch.isfinite(mean).all() and torch.isfinite(std).all()):
        raise UserError(
            "the classifier produced non-finite logits on the training data; check its weights "
            "and its input normalisation (classifier.mean / classifier.std)"
        )
    return mean.float(), std.float()
