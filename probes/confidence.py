"""Confidence from the top two outputs (seed 002, "Output analysis"): can clean and adversarially
corrupted inputs be told apart by how sure the classifier is?

Scores per input (higher = more confident):
- ratio: the largest softmax output divided by the second largest (the source's "1-2 ratio");
- margin: the largest logit minus the second largest.
Reported for clean test images and their PGD-corrupted versions: the CDFs (a plot), the AUROC of
telling clean (positive) from corrupted by the score, and the share of corrupted inputs that a
threshold keeps when it is set to reject 10% (and 20%) of clean inputs.
"""

from __future__ import annotations

import numpy as np
import torch


def ratio(logits: torch.Tensor) -> torch.Tensor:
    top = torch.softmax(logits.double(), 1).topk(2, dim=1).values
    return (top[:, 0] / top[:, 1].clamp(min=1e-300)).float()


def margin(logits: torch.Tensor) -> torch.Tensor:
    top = logits.topk(2, dim=1).values
    return top[:, 0] - top[:, 1]


SCORES = {"ratio": ratio, "margin": margin}


def auroc(clean: torch.Tensor, corrupted: torch.Tensor) -> float:
    """Area under the ROC curve with clean inputs as positives (ties count half)."""
    from sklearn.metrics import roc_auc_score

    y = np.concatenate([np.ones(len(clean)), np.zeros(len(corrupted))])
    return float(roc_auc_score(y, np.concatenate([clean.double().numpy(), corrupted.double().numpy()])))


def kept_at_clean_rejection(clean: torch.Tensor, corrupted: torch.Tensor, reject: float) -> float:
    """Share of corrupted inputs scoring at or above the threshold that rejects `reject` of clean ones."""
    threshold = torch.quantile(clean.double(), reject)
    return float((corrupted.double() >= threshold).double().mean())


def summarize(clean_logits: torch.Tensor, corrupted_logits: torch.Tensor) -> dict:
    out = {}
    for name, fn in SCORES.items():
        c, a = fn(clean_logits), fn(corrupted_logits)
        out[name] = {"auroc": auroc(c, a), "kept_at_10pct_clean_rejected": kept_at_clean_rejection(c, a, 0.10),
                     "kept_at_20pct_clean_rejected": kept_at_clean_rejection(c, a, 0.20),
                     "median_clean": float(c.median()), "median_corrupted": float(a.median())}
    return out


def plot_cdfs(curves: dict[str, tuple[torch.Tensor, torch.Tensor]], score: str, path) -> None:
    """curves[classifier] = (clean scores, corrupted scores)."""
    from .common import pyplot

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.5), dpi=100)
    for i, (name, (clean, corrupted)) in enumerate(curves.items()):
        color = f"C{i}"
        for scores, style, label in ((clean, "-", "clean"), (corrupted, "--", "PGD")):
            s = np.sort(scores.double().numpy())
            s = np.log10(np.clip(s, 1e-12, None)) if score == "ratio" else s
            ax.plot(s, np.arange(1, len(s) + 1) / len(s), style, color=color, label=f"{name} {label}")
    ax.set_xlabel("log10 top-1 / top-2 softmax ratio" if score == "ratio" else "top-1 minus top-2 logit")
    ax.set_ylabel("CDF")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
