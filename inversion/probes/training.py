"""What the probes share: quick in-process classifier training, class subsets, logits and features,
and the layer that maps features to logits."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from infra.datasets import TensorImages, to_model_range
from infra.devices import default_device
from infra.progress import progress


def subset(
    split: TensorImages,
    classes: list[int] | None = None,
    limit: int | None = None,
    seed: int = 0,
    relabel: bool = False,
) -> TensorImages:
    """Images of the given classes (optionally relabelled 0..len-1), at most `limit`, in a fixed random order."""
    keep = (
        torch.ones(len(split), dtype=torch.bool) if classes is None else torch.isin(split.labels, torch.tensor(classes))
    )
    idx = keep.nonzero().flatten()
    idx = idx[torch.randperm(len(idx), generator=torch.Generator().manual_seed(seed))]
    if limit:
        idx = idx[:limit]
    labels = split.labels[idx]
    if relabel and classes is not None:
        lookup = torch.full((int(split.labels.max()) + 1,), -1, dtype=torch.long)
        lookup[torch.tensor(classes)] = torch.arange(len(classes))
        labels = lookup[labels]
    return TensorImages(split.images[idx], labels)


def fit(
    model: nn.Module,
    data: TensorImages,
    epochs: float = 1.0,
    batch_size: int = 128,
    lr: float = 0.05,
    seed: int = 0,
    dev=None,
    desc: str = "fit",
    params=None,
) -> nn.Module:
    """Cross-entropy training with SGD (Nesterov) and a one-cycle schedule; returns the model in eval mode."""
    dev = dev or default_device()
    model.to(dev).train()
    g = torch.Generator().manual_seed(seed)
    steps_per_epoch = max(1, len(data) // batch_size)
    total = max(1, math.ceil(epochs * steps_per_epoch))
    opt = torch.optim.SGD(
        params if params is not None else model.parameters(), lr=lr, momentum=0.9, nesterov=True, weight_decay=5e-4
    )
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=total, pct_start=0.2)
    images, labels = data.images.to(dev), data.labels.to(dev)
    step = 0
    for _ in progress(range(math.ceil(total / steps_per_epoch)), desc=desc, leave=False):
        perm = torch.randperm(len(data), generator=g).to(dev)
        for b in range(steps_per_epoch):
            if step == total:
                break
            idx = perm[b * batch_size : (b + 1) * batch_size]
            loss = F.cross_entropy(model(to_model_range(images[idx])), labels[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            step += 1
    return model.eval()


@torch.no_grad()
def outputs(
    model: nn.Module, data: TensorImages, batch_size: int = 1000, dev=None, features: bool = False
) -> torch.Tensor:
    """Logits (or penultimate features) of `model` on `data`, on the CPU."""
    dev = dev or default_device()
    model.to(dev).eval()
    fn = model.features if features else model
    # Project networks trained here take [-1, 1] directly; a FrozenClassifier normalises for its network.
    return torch.cat(
        [
            fn(to_model_range(data.images[i : i + batch_size].to(dev))).float().cpu()
            for i in range(0, len(data), batch_size)
        ]
    )


def final_linear(model: nn.Module) -> nn.Linear:
    """The layer mapping penultimate features to logits (this project's architectures, timm, torchvision)."""
    model = getattr(model, "model", model)  # a FrozenClassifier's network
    for name in ("head", "linear", "fc2", "fc", "classifier"):
        layer = getattr(model, name, None)
        if isinstance(layer, nn.Linear):
            return layer
    if hasattr(model, "get_classifier") and isinstance(model.get_classifier(), nn.Linear):
        return model.get_classifier()
    raise TypeError(f"cannot find the final linear layer of {type(model).__name__}")
