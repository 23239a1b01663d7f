"""Identification: can a reconstruction pick out its own source among many candidates?

The test set is shuffled once (fixed seed) and cut into groups of `candidates` images (only whole
groups are used, so every rank is out of `candidates`). Within a group, each reconstruction ranks
the group's source images by the Euclidean distance between evaluator features, its own source
included; its rank is the number of other sources at least as near as its own (a tie counts against
it). Top-k is the share of reconstructions whose rank is below k; chance is k / candidates.
"""

from __future__ import annotations

import torch


def identification_ranks(
    f_recon: torch.Tensor, f_source: torch.Tensor, candidates: int = 1000, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Per counted image: its rank (sources strictly nearer than its own) and its index; and the group size."""
    n = f_source.shape[0]
    candidates = min(candidates, n)
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).to(f_source.device)
    ranks, indices = [], []
    for start in range(0, n - candidates + 1, candidates):  # whole groups only: every rank is out of `candidates`
        idx = order[start : start + candidates]
        dist = torch.cdist(f_recon[idx].float(), f_source[idx].float())  # recon i vs source j
        own = dist.diagonal()
        # Sources at least as near as the own source, the own one not counted: a tie counts against the
        # reconstruction, so features that cannot tell images apart score 0, not 100%.
        ranks.append((dist <= own[:, None]).sum(1) - 1)
        indices.append(idx)
    empty = torch.zeros(0, dtype=torch.long, device=f_source.device)
    return (torch.cat(ranks) if ranks else empty), (torch.cat(indices) if indices else empty), candidates


def identification(
    f_recon: torch.Tensor, f_source: torch.Tensor, candidates: int = 1000, ks=(1, 5), seed: int = 0
) -> dict:
    """Top-k identification rates (see the module docstring), the chance levels, the counts, and the
    per-image hits (`hits_top{k}`, booleans for the counted images, for intervals)."""
    ranks, _, candidates = identification_ranks(f_recon, f_source, candidates, seed)
    counted = len(ranks)
    out = {f"top{k}": float((ranks < k).float().mean()) if counted else float("nan") for k in ks}
    out.update({f"chance_top{k}": k / candidates for k in ks})
    out["candidates"] = candidates
    out["images"] = counted
    out.update({f"hits_top{k}": (ranks < k).cpu() for k in ks})
    return out
