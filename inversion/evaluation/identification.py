"""Identification: can a reconstruction pick out its own source among many candidates?

A reconstruction ranks candidate source images by the Euclidean distance between evaluator features,
its own source among them; its rank is the number of other candidates at least as near as its own
source (a tie counts against it, so features that cannot tell images apart score 0, not 100%).
Top-k is the share of reconstructions ranked below k among `candidates` images; chance is
k / candidates.

Which candidates a reconstruction meets is chance: cutting the test set into one fixed partition of
groups makes the number depend on that cut (over 50 random cuts of the 10,000 Fashion-MNIST test
images one inverter scored between 2.5% and 3.0%). So the number reported is the exact expectation
over all random draws of candidates: for reconstruction i, with m_i of the other N - 1 test images at
least as near as its own source, the other `candidates - 1` candidates are a uniform random draw
from those N - 1, the count of nearer ones among them is hypergeometric, and

    P(rank_i < k) = P(Hypergeometric(N - 1, m_i, candidates - 1) < k).

Top-k is the mean of these per-image probabilities over the reconstructions scored (any subset of
the test images, always against candidates drawn from all of them, so subsets are comparable), and
its interval is a bootstrap over those images.
"""

from __future__ import annotations

import torch


def nearer_counts(f_recon: torch.Tensor, f_source: torch.Tensor, own: torch.Tensor, chunk: int = 1000) -> torch.Tensor:
    """For each reconstruction r (rows of f_recon) whose source is f_source[own[r]]: how many *other*
    sources are at least as near to it as its own (the own source not counted)."""
    counts = []
    for start in range(0, len(f_recon), chunk):
        rec = f_recon[start : start + chunk].float()
        dist = torch.cdist(rec, f_source.float())  # (chunk, N)
        mine = dist.gather(1, own[start : start + chunk, None])
        counts.append((dist <= mine).sum(1) - 1)
    return torch.cat(counts) if counts else torch.zeros(0, dtype=torch.long)


def hit_probabilities(nearer: torch.Tensor, population: int, candidates: int, k: int) -> torch.Tensor:
    """P(fewer than k of the `nearer` images are among `candidates - 1` drawn from `population` others)."""
    from scipy.stats import hypergeom

    draws = min(candidates, population + 1) - 1
    m = nearer.cpu().numpy()
    return torch.as_tensor(hypergeom.cdf(k - 1, population, m, draws), dtype=torch.float64)


def identification(
    f_recon: torch.Tensor,
    f_source: torch.Tensor,
    candidates: int = 1000,
    ks=(1, 5),
    own: torch.Tensor | None = None,
) -> dict:
    """Expected top-k identification (module docstring) of the reconstructions `f_recon` of the sources
    `f_source[own]` (default: row i is the reconstruction of source i), among `candidates` images drawn
    from all of `f_source`. Returns per-image hit probabilities `p_top{k}`, their means `top{k}`, the
    chance levels, the candidate count and the number of reconstructions scored."""
    n = f_source.shape[0]
    candidates = min(candidates, n)
    own = torch.arange(len(f_recon), device=f_recon.device) if own is None else own.to(f_recon.device)
    nearer = nearer_counts(f_recon, f_source, own)
    out: dict = {"candidates": candidates, "images": len(f_recon)}
    for k in ks:
        p = hit_probabilities(nearer, n - 1, candidates, k)
        out[f"p_top{k}"] = p
        out[f"top{k}"] = float(p.mean()) if len(p) else float("nan")
        out[f"chance_top{k}"] = min(k, candidates) / candidates
    return out
