"""`evaluate.py ood`: reconstruct out-of-distribution images."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..evaluation.out_of_distribution import load_ood, score
from ..presentation.images import reconstruction_grid, save_image
from ..presentation.tables import table
from .base import Command, Result, add_evaluator_argument, load_evaluator, open_run, register

METRICS = ("mse", "psnr", "ssim", "feature_distance", "logit_cosine", "top1_agreement")


@register
class OutOfDistribution(Command):
    name = "ood"
    help = "reconstruct out-of-distribution images"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--images", required=True, help="a folder of images, sklearn-digits or skimage-samples")
        parser.add_argument("--limit", type=int, default=64, help="at most this many images (default 64)")
        parser.add_argument(
            "--noise-draws", type=int, default=2, help="random-noise reconstructions per image (default 2)"
        )
        parser.add_argument("--per-row", type=int, default=4, help="image groups per row in the grid (default 4)")
        add_evaluator_argument(parser, "(optional: adds the feature distance)")

    def output_name(self, args: argparse.Namespace) -> str:
        return "ood-" + (Path(args.images).name if Path(args.images).is_dir() else args.images)

    def run(self, args: argparse.Namespace) -> Result:
        inverter, _ = open_run(args)
        images, names, skipped = load_ood(args.images, inverter.resolution, inverter.channels, limit=args.limit)
        for file in skipped:
            print(f"warning: skipped unreadable image {file}", file=sys.stderr)
        evaluator = load_evaluator(args.evaluator, inverter.channels, inverter.device, required=False)
        numbers, reconstructions = score(inverter, images, args.noise_draws, evaluator)
        return Result(
            {**numbers, "names": names, "skipped": skipped},
            {"originals": images.to(inverter.device), "reconstructions": reconstructions},
        )

    def write(self, result: Result, args: argparse.Namespace, out: Path) -> str:
        r = result.numbers
        grid = reconstruction_grid(
            result.pictures["originals"], result.pictures["reconstructions"], groups_per_row=args.per_row
        )
        save_image(grid, out / "grid.png")
        rows = [[key, f"{r[key]:.4f}"] for key in METRICS if key in r]
        rows.append(["classes phi predicts", ", ".join(f"{c}: {n}" for c, n in r["predicted_classes"].items())])
        skipped = f"; {len(r['skipped'])} unreadable files skipped: {', '.join(r['skipped'])}" if r["skipped"] else ""
        text = (
            f"Out-of-distribution images from `{args.images}` ({r['images']} used{skipped}): each original, its "
            f"reconstruction at noise 0 and {args.noise_draws} noise draws.\n\n" + table(["metric", "value"], rows)
        )
        (out / "ood.md").write_text(text)
        return text + f"{out}"
