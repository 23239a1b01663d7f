"""Figures (matplotlib, drawn off-screen to PNG): one function per plot, each from numbers already computed.

matplotlib is an optional dependency; `figure()` selects the off-screen Agg backend before pyplot
is imported, so plotting works on machines without a display.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch

from infra.optional import require


@contextmanager
def figure(path: str | Path, size: tuple[float, float] = (5.5, 3.5)):
    """A figure and its axes; on leaving, the figure is laid out, saved to `path` and closed."""
    require("matplotlib", "plots").use("Agg")
    plt = require("matplotlib.pyplot", "plots")
    fig, ax = plt.subplots(figsize=size, dpi=100)
    try:
        yield fig, ax
        fig.tight_layout()
        fig.savefig(path)
    finally:
        plt.close(fig)


def edit_paths(paths: list[dict], levels: list[float], edit_name: str, judge_name: str, path: Path) -> None:
    """The judge's probability of the source class along the first 50 logit-edit paths, and the mean of all."""
    with figure(path, size=(5, 3.2)) as (_, ax):
        for p in paths[:50]:
            ax.plot(levels, [lv["judge_prob_source"] for lv in p["levels"]], color="tab:blue", alpha=0.3, lw=1)
        mean = [sum(p["levels"][j]["judge_prob_source"] for p in paths) / len(paths) for j in range(len(levels))]
        ax.plot(levels, mean, color="tab:blue", lw=2.5, label="mean")
        ax.set_xlabel(f"{edit_name} level")
        ax.set_ylabel(f"{judge_name}: p(source class)")
        ax.set_ylim(0, 1)
        ax.legend()


def confidence_cdfs(curves: dict[str, tuple[torch.Tensor, torch.Tensor]], score: str, path: Path) -> None:
    """CDFs of a confidence score for clean and corrupted inputs; curves[classifier] = (clean, corrupted)."""
    with figure(path) as (_, ax):
        for i, (name, (clean, corrupted)) in enumerate(curves.items()):
            for scores, style, label in ((clean, "-", "clean"), (corrupted, "--", "PGD")):
                s = np.sort(scores.double().numpy())
                s = np.log10(np.clip(s, 1e-12, None)) if score == "ratio" else s
                ax.plot(s, np.arange(1, len(s) + 1) / len(s), style, color=f"C{i}", label=f"{name} {label}")
        ax.set_xlabel("log10 top-1 / top-2 softmax ratio" if score == "ratio" else "top-1 minus top-2 logit")
        ax.set_ylabel("CDF")
        ax.legend(fontsize=7)


def fingerprint_curve(results: dict, path: Path) -> None:
    """Fingerprint accuracy against the number of training logits per network, one line per SVM/input."""
    with figure(path) as (_, ax):
        for key, curve in results["curve"].items():
            xs = sorted(int(n) for n in curve)
            ax.plot(xs, [curve[n] for n in xs], marker="o", label=key)
        ax.axhline(results["chance"], color="grey", ls="--", label="chance")
        ax.set_xscale("log")
        ax.set_xlabel("training logits per network")
        ax.set_ylabel("test accuracy")
        ax.set_ylim(0, 1.02)
        ax.legend(fontsize=7)
