"""`evaluate.py ood`: reconstruct out-of-distribution images."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from infra.cli import integer

from ..evaluation.out_of_distribution import load_ood, score
from ..evaluation.scoring import load_evaluator
from ..presentation.images import group_grid
from ..presentation.tables import metric_table
from .base import Command, Output, Result, add_evaluator_argument, open_run, register

METRICS = ["mse", "psnr", "ssim", "feature_distance", "logit_cosine", "top1_agreement"]


@register
class OutOfDistribution(Command):
    name = "ood"
    help = "reconstruct out-of-distribution images"
    about = (
        "Images that are not from the training distribution, through the same classifier and inverter: the "
        "inverter can only draw what it learnt, so these show how the classifier maps the unfamiliar onto "
        "its classes."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--images", required=True, help="a folder of images, sklearn-digits or skimage-samples")
        parser.add_argument("--limit", type=integer(1), default=64, help="at most this many images (default 64)")
        parser.add_argument(
            "--noise-draws", type=integer(0), default=2, help="random-noise reconstructions per image (default 2)"
        )
        parser.add_argument(
            "--per-row", type=integer(1), default=4, help="image groups per row in the grid (default 4)"
        )
        add_evaluator_argument(parser, "(optional: adds the feature distance)")

    def title(self, args: argparse.Namespace) -> str:
        return f"Out-of-distribution images: {Path(args.images).name if Path(args.images).is_dir() else args.images}"

    def output_name(self, args: argparse.Namespace) -> str:
        return "ood-" + (Path(args.images).name if Path(args.images).is_dir() else args.images)

    def run(self, args: argparse.Namespace) -> Result:
        inverter, _ = open_run(args)
        images, names, skipped = load_ood(args.images, inverter.resolution, inverter.channels, limit=args.limit)
        for file in skipped:
            print(f"warning: skipped unreadable image {file}", file=sys.stderr)
        evaluator = load_evaluator(
            args.evaluator, inverter.meta["classes"], inverter.channels, inverter.device, required=False
        )
        numbers, reconstructions = score(inverter, images, args.noise_draws, evaluator)
        groups = torch.stack([images.to(inverter.device), *reconstructions], dim=1)
        return Result({**numbers, "names": names, "skipped": skipped}, {"groups": groups})

    def write(self, result: Result, args: argparse.Namespace, out: Output) -> str:
        r = result.numbers
        columns = ["input", "noise 0", *(f"draw {k + 1}" for k in range(args.noise_draws))]
        grid = group_grid(result.pictures["groups"], columns, r["names"], groups_per_row=args.per_row)
        caption = (
            f"Each group is one input image (its name under it), brought to the model's size and channels, then "
            f"its reconstruction with the noise at 0 and {args.noise_draws} with random noise."
        )
        out.picture("grid.png", grid, caption)
        skipped = f"; {len(r['skipped'])} unreadable files skipped: {', '.join(r['skipped'])}" if r["skipped"] else ""
        predicted = ", ".join(f"{c}: {n}" for c, n in r["predicted_classes"].items())
        text = (
            f"Out-of-distribution images from `{args.images}` ({r['images']} used{skipped}): each original, its "
            f"reconstruction at noise 0 and {args.noise_draws} noise draws. The classes the inverted classifier "
            f"predicts for them: {predicted}.\n\n" + metric_table(r, METRICS)
        )
        (out / "ood.md").write_text(text)
        return text + f"{out.path}"
