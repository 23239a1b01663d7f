"""Class shift by style (Powers and Keselman, "Introspective neural networks", first experiment):
Gram-matrix style transfer (Gatys et al. 2016) from an exemplar of class B onto an image of class A,
using the classifier's own feature maps; does the classifier now rank class B higher?

The new image starts at A and minimises, by Adam on the pixels,
    sum over stages l of ||Gram_l(x) - Gram_l(B)||^2 (style)
  + content_weight * ||F_c(x) - F_c(A)||^2 (content: the last convolutional stage)
  + tv_weight * TV(x),
with Gram_l(F) = F F^T / (C H W) for the stage's (C, H*W) activations. The ordinal rank of class B
in the classifier's output (1 = top) is reported before (for A) and after (for the new image), for
intra-class pairs (B's class = A's class, another image) and inter-class pairs (another class), on a
fixed random sample.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from infra.datasets import to_model_range

from ..baselines.optimization import total_variation


@dataclass
class StyleSettings:
    pairs: int = 32  # per condition (intra, inter)
    steps: int = 150
    lr: float = 0.03
    content_weight: float = 1.0
    tv_weight: float = 0.05
    seed: int = 0


def gram(features: torch.Tensor) -> torch.Tensor:
    n, c = features.shape[:2]
    f = features.reshape(n, c, -1)
    return f @ f.transpose(1, 2) / f.shape[-1] / c


def rank_of(logits: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
    """Ordinal rank (1 = highest logit) of `classes` in each row."""
    target = logits.gather(1, classes[:, None])
    return (logits > target).sum(1) + 1


def transfer(model, source: torch.Tensor, style: torch.Tensor, settings: StyleSettings) -> torch.Tensor:
    """Images in [-1, 1]; returns the styled images."""
    with torch.no_grad():
        style_grams = [gram(s) for s in model.stages(style)[:-1]]
        content = model.stages(source)[-2]
    x = source.clone().clamp(-0.999, 0.999)
    v = torch.atanh(x).requires_grad_(True)
    opt = torch.optim.Adam([v], lr=settings.lr)
    for _ in range(settings.steps):
        with torch.enable_grad():
            x = torch.tanh(v)
            stages = model.stages(x)
            loss = sum((gram(s) - g).pow(2).sum((1, 2)) for s, g in zip(stages[:-1], style_grams))
            loss = loss + settings.content_weight * (stages[-2] - content).pow(2).flatten(1).mean(1)
            loss = (loss + settings.tv_weight * total_variation(x)).sum()
            (grad,) = torch.autograd.grad(loss, v)
        v.grad = grad
        opt.step()
    return torch.tanh(v).detach()


def pick_pairs(labels: torch.Tensor, n: int, seed: int) -> dict[str, list[tuple[int, int]]]:
    """Fixed random (source, exemplar) index pairs: intra-class and inter-class."""
    g = torch.Generator().manual_seed(seed)
    pairs = {"intra-class": [], "inter-class": []}
    order = torch.randperm(len(labels), generator=g).tolist()
    for i in order:
        same = (labels == labels[i]).nonzero().flatten().tolist()
        other = (labels != labels[i]).nonzero().flatten().tolist()
        if len(pairs["intra-class"]) < n and len(same) > 1:
            j = same[int(torch.randint(len(same), (1,), generator=g))]
            if j != i:
                pairs["intra-class"].append((i, j))
        if len(pairs["inter-class"]) < n and other:
            pairs["inter-class"].append((i, other[int(torch.randint(len(other), (1,), generator=g))]))
        if all(len(p) >= n for p in pairs.values()):
            break
    return pairs


def run(model, images, labels, settings: StyleSettings, dev) -> tuple[dict, dict]:
    model = model.to(dev).eval().requires_grad_(False)
    pairs = pick_pairs(labels, settings.pairs, settings.seed)
    results, examples = {}, {}
    for condition, idx in pairs.items():
        src = torch.tensor([i for i, _ in idx])
        sty = torch.tensor([j for _, j in idx])
        a = to_model_range(images[src]).to(dev)
        b = to_model_range(images[sty]).to(dev)
        new = transfer(model, a, b, settings)
        target = labels[sty].to(dev)
        with torch.no_grad():
            before, after = rank_of(model(a), target), rank_of(model(new), target)
        results[condition] = {
            "pairs": len(idx),
            "rank_before": float(before.float().mean()),
            "rank_after": float(after.float().mean()),
            "top1_before": float((before == 1).float().mean()),
            "top1_after": float((after == 1).float().mean()),
        }
        examples[condition] = torch.stack([a[:6], b[:6], new[:6]], dim=1).cpu()
    return results, examples
