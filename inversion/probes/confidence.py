"""Confidence from the top two outputs (after the blog post "Output analysis"): can clean and
adversarially corrupted inputs be told apart by how sure the classifier is?

Scores per input (higher = more confident):
- ratio: the largest softmax output divided by the second largest (the "1-2 ratio");
- margin: the largest logit minus the second largest.
Reported for clean test images and their PGD-corrupted versions: the CDFs (a plot), the AUROC of
telling clean (positive) from corrupted by the score, and the share of corrupted inputs that a
threshold keeps when it is set to reject 10% (and 20%) of clean inputs.
"""

from __future__ import annotations

import numpy as np
import torch

from classifiers.attacks import PGDConfig, pgd
from infra.batches import eval_batches
from infra.optional import require


def ratio(logits: torch.Tensor) -> torch.Tensor:
    top = torch.softmax(logits.double(), 1).topk(2, dim=1).values
    return (top[:, 0] / top[:, 1].clamp(min=1e-300)).float()


def margin(logits: torch.Tensor) -> torch.Tensor:
    top = logits.topk(2, dim=1).values
    return top[:, 0] - top[:, 1]


SCORES = {"ratio": ratio, "margin": margin}


def auroc(clean: torch.Tensor, corrupted: torch.Tensor) -> float:
    """Area under the ROC curve with clean inputs as positives (ties count half)."""
    roc_auc_score = require("sklearn.metrics", "the confidence probe").roc_auc_score
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
        out[name] = {
            "auroc": auroc(c, a),
            "kept_at_10pct_clean_rejected": kept_at_clean_rejection(c, a, 0.10),
            "kept_at_20pct_clean_rejected": kept_at_clean_rejection(c, a, 0.20),
            "median_clean": float(c.median()),
            "median_corrupted": float(a.median()),
        }
    return out


def run(models: dict, dataset, indices: torch.Tensor, attack: PGDConfig, device) -> tuple[dict, dict]:
    """Per classifier: `summarize` of its clean and PGD-corrupted test logits, and the scores behind
    them (`curves[score][name] = (clean, corrupted)`, for the CDF plots)."""
    results, curves = {}, {score: {} for score in SCORES}
    g = torch.Generator().manual_seed(0)
    for name, model in models.items():
        clean, corrupted = [], []
        for x, y in eval_batches(dataset, 500, device, indices=indices):
            x_adv = pgd(model, x, y, attack, generator=g)
            with torch.no_grad():
                clean.append(model(x).float().cpu())
                corrupted.append(model(x_adv).float().cpu())
        clean, corrupted = torch.cat(clean), torch.cat(corrupted)
        results[name] = summarize(clean, corrupted)
        for score, fn in SCORES.items():
            curves[score][name] = (fn(clean), fn(corrupted))
    return results, curves
