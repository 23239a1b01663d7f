"""Novel-class detection from activations (Powers and Keselman, "Introspective neural networks",
second experiment).

The classes are split into three sets. The backbone is trained on set 1 (fine-tuned), or keeps its
random initial weights with only its final layer trained on set 1 (not fine-tuned: the paper used an
ImageNet-pretrained ResNet here; with no pretrained weights available, random features are this
project's floor). A seen-vs-novel classifier is then trained on one stage's activations for set 1
images (seen) against set 2 images (novel), and tested on set 1 images and set 3 images that no step
has used before: test classes never overlap the novel classes it was trained on. All three steps use
different images. Chance is 0.5; the paper reports about 0.6 test accuracy.

Two seen-vs-novel classifiers, as in the paper: "mlp" (three fully connected layers with ReLUs on
the flattened activations, pooled to at most 4x4) and "conv" (two 3x3 conv layers, then the same
fully connected layers).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from classifiers.architectures import build_arch
from infra.datasets import TensorImages, to_model_range
from infra.devices import default_device
from infra.optional import require

from .training import final_linear, fit, subset


@dataclass
class NoveltySettings:
    split: tuple[int, int, int] = (4, 3, 3)  # class counts of sets 1, 2, 3
    width: int = 16  # backbone width
    backbone_epochs: float = 2.0
    backbone_images: int = 6000  # set-1 training images for the backbone
    probe_images: int = 2000  # per side (seen / novel) for the seen-vs-novel classifier
    test_images: int = 1000  # per side for testing
    probe_epochs: int = 20
    seed: int = 0


def class_sets(num_classes: int, split: tuple[int, int, int], seed: int) -> list[list[int]]:
    if sum(split) > num_classes:
        raise ValueError(f"split {split} needs {sum(split)} classes; the data set has {num_classes}")
    order = torch.randperm(num_classes, generator=torch.Generator().manual_seed(seed)).tolist()
    a, b, _ = split
    return [sorted(order[:a]), sorted(order[a : a + b]), sorted(order[a + b : sum(split)])]


class MLPProbe(nn.Module):
    def __init__(self, in_shape: tuple[int, ...], hidden: int = 128):
        super().__init__()
        self.pool = len(in_shape) == 3 and in_shape[-1] > 4
        dim = in_shape[0] * min(in_shape[-1], 4) ** 2 if len(in_shape) == 3 else in_shape[0]
        self.net = nn.Sequential(
            nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 2)
        )

    def forward(self, h):
        if self.pool:
            h = F.adaptive_avg_pool2d(h, 4)
        return self.net(h.flatten(1))


class ConvProbe(nn.Module):
    def __init__(self, in_shape: tuple[int, ...], ch: int = 32, hidden: int = 128):
        super().__init__()
        c = in_shape[0]
        self.convs = nn.Sequential(
            nn.Conv2d(c, ch, 3, padding=1), nn.ReLU(), nn.Conv2d(ch, ch, 3, padding=1), nn.ReLU()
        )
        self.mlp = MLPProbe((ch, *in_shape[1:]), hidden)

    def forward(self, h):
        if h.ndim == 2:
            h = h[:, :, None, None]
        return self.mlp(self.convs(h))


def _stage_data(backbone, images: TensorImages, stage: int, dev) -> torch.Tensor:
    with torch.no_grad():
        outs = []
        for i in range(0, len(images), 500):
            x = to_model_range(images.images[i : i + 500].to(dev))
            outs.append((x if stage == 0 else backbone.stages(x)[stage - 1]).float().cpu())
    return torch.cat(outs)


def _train_probe(probe: nn.Module, x: torch.Tensor, y: torch.Tensor, epochs: int, dev, seed: int) -> nn.Module:
    probe.to(dev).train()
    opt = torch.optim.Adam(probe.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        perm = torch.randperm(len(x), generator=g)
        for b in range(0, len(x), 128):
            idx = perm[b : b + 128]
            loss = F.cross_entropy(probe(x[idx].to(dev)), y[idx].to(dev))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return probe.eval()


def _score(probe: nn.Module, x: torch.Tensor, y: torch.Tensor, dev) -> tuple[float, float]:
    roc_auc_score = require("sklearn.metrics", "the novelty probe").roc_auc_score
    with torch.no_grad():
        logits = torch.cat([probe(x[i : i + 500].to(dev)).float().cpu() for i in range(0, len(x), 500)])
    acc = float((logits.argmax(1) == y).float().mean())
    auc = float(roc_auc_score(y.numpy(), torch.softmax(logits, 1)[:, 1].numpy()))
    return acc, auc


def backbone_for(arch: str, data, sets: list[list[int]], settings: NoveltySettings, finetune: bool) -> nn.Module:
    torch.manual_seed(settings.seed)
    model = build_arch(arch, len(sets[0]), data.channels, settings.width, image_size=data.resolution)
    train1 = subset(data.train, sets[0], limit=settings.backbone_images, seed=settings.seed, relabel=True)
    params = None if finetune else final_linear(model).parameters()  # not fine-tuned: only the final layer learns
    return fit(
        model,
        train1,
        epochs=settings.backbone_epochs,
        seed=settings.seed,
        params=params,
        desc="backbone" + ("" if finetune else " (head only)"),
    )


def run(arch: str, data, settings: NoveltySettings) -> dict:
    dev = default_device()
    sets = class_sets(len(data.classes), settings.split, settings.seed)
    n, t = settings.probe_images, settings.test_images
    # Images: the backbone's are the first `backbone_images` of set 1 (same seed); the probe's come after them.
    seen_pool = subset(data.train, sets[0], seed=settings.seed)
    seen_train = TensorImages(
        seen_pool.images[settings.backbone_images : settings.backbone_images + n],
        seen_pool.labels[settings.backbone_images : settings.backbone_images + n],
    )
    novel_train = subset(data.train, sets[1], limit=n, seed=settings.seed)
    seen_test = subset(data.test, sets[0], limit=t, seed=settings.seed)
    novel_test = subset(data.test, sets[2], limit=t, seed=settings.seed)
    m = min(len(seen_train), len(novel_train))
    mt = min(len(seen_test), len(novel_test))
    y_train = torch.cat([torch.zeros(m, dtype=torch.long), torch.ones(m, dtype=torch.long)])
    y_test = torch.cat([torch.zeros(mt, dtype=torch.long), torch.ones(mt, dtype=torch.long)])
    results = {"sets": sets, "images": {"probe_train_per_side": m, "test_per_side": mt}, "layers": {}}
    for finetune in (True, False):
        backbone = backbone_for(arch, data, sets, settings, finetune).to(dev)
        key = "fine-tuned" if finetune else "not fine-tuned"
        with torch.no_grad():
            n_stages = len(backbone.stages(to_model_range(data.train.images[:1].to(dev))))
        rows = []
        for stage in range(n_stages + 1):
            tr = torch.cat(
                [
                    _stage_data(backbone, TensorImages(seen_train.images[:m], seen_train.labels[:m]), stage, dev),
                    _stage_data(backbone, TensorImages(novel_train.images[:m], novel_train.labels[:m]), stage, dev),
                ]
            )
            te = torch.cat(
                [
                    _stage_data(backbone, TensorImages(seen_test.images[:mt], seen_test.labels[:mt]), stage, dev),
                    _stage_data(backbone, TensorImages(novel_test.images[:mt], novel_test.labels[:mt]), stage, dev),
                ]
            )
            row = {"layer": stage}
            for name, cls in (("mlp", MLPProbe), ("conv", ConvProbe)):
                torch.manual_seed(settings.seed)
                probe = _train_probe(cls(tuple(tr.shape[1:])), tr, y_train, settings.probe_epochs, dev, settings.seed)
                row[f"{name}_train_acc"], _ = _score(probe, tr, y_train, dev)
                row[f"{name}_test_acc"], row[f"{name}_test_auroc"] = _score(probe, te, y_test, dev)
            rows.append(row)
        results["layers"][key] = rows
    return results
