"""Identification: can a reconstruction pick out its own source among many candidates?

The test set is shuffled once (fixed seed) and cut into groups of `candidates` images (only whole
groups are used, so every rank is out of `candidates`). Within a group, each reconstruction ranks
the group's source images by the Euclidean distance between evaluator features, its own source
included; its rank is the number of sources strictly nearer than its own. Top-k is the share of
reconstructions whose rank is below k; chance is k / candidates.
"""

from __future__ import annotations

import torch


def identification(
    f_recon: torch.Tensor, f_source: torch.Tensor, candidates: int = 1000, ks=(1, 5), seed: int = 0
) -> dict:
    """Top-k identification rates (see the module docstring), the chance levels, and the counts."""
    n = f_source.shape[0]
    candidates = min(candidates, n)
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).to(f_source.device)
    hits = {k: 0 for k in ks}
    counted = 0
    for start in range(0, n - candidates + 1, candidates):  # whole groups only: every rank is out of `candidates`
        idx = order[start : start + candidates]
        dist = torch.cdist(f_recon[idx].float(), f_source[idx].float())  # recon i vs source j
        own = dist.diagonal()
        rank = (dist < own[:, None]).sum(1)  # sources strictly nearer than the own source
        for k in ks:
            hits[k] += int((rank < k).sum())
        counted += candidates
    out = {f"top{k}": hits[k] / counted for k in ks}
    out.update({f"chance_top{k}": k / candidates for k in ks})
    out["candidates"] = candidates
    out["images"] = counted
    return out
