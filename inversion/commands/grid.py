"""`evaluate.py grid`: a PNG of test images, each followed by its reconstructions."""

from __future__ import annotations

import argparse

import torch

from infra.batches import eval_batches
from infra.cli import integer

from ..presentation.images import group_grid
from .base import Command, Output, Result, open_run, register


@register
class Grid(Command):
    name = "grid"
    help = "a PNG of test images, each followed by its reconstructions"
    heading = "Reconstructions"
    about = (
        "Test images rebuilt from the inverted classifier's logits alone: whatever a reconstruction gets right "
        "about its image (shape, brightness, pattern) was in the logits."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--n", type=integer(1), default=64, help="number of images (default 64)")
        parser.add_argument(
            "--noise-draws", type=integer(0), default=3, help="random-noise reconstructions per image, besides noise 0"
        )
        parser.add_argument("--split", choices=["test", "train"], default="test", help="which split (default test)")
        parser.add_argument("--per-row", type=integer(1), default=2, help="image groups per row (default 2)")

    def run(self, args: argparse.Namespace) -> Result:
        inverter, data = open_run(args)
        x, labels = next(eval_batches(data.test if args.split == "test" else data.train, args.n, inverter.device))
        logits = inverter.logits(x)
        draws = [inverter.generate(logits, noise="random", seed=s) for s in range(args.noise_draws)]
        groups = torch.stack([x, inverter.generate(logits), *draws], dim=1)
        return Result(
            {"images": len(x), "png": "grid.png"},
            {"groups": groups, "classes": [data.classes[int(y)] for y in labels]},
        )

    def write(self, result: Result, args: argparse.Namespace, out: Output) -> str:
        columns = [f"{args.split} image", "noise 0", *(f"draw {k + 1}" for k in range(args.noise_draws))]
        grid = group_grid(result.pictures["groups"], columns, result.pictures["classes"], groups_per_row=args.per_row)
        caption = (
            f"Each group is one {args.split} image (its class written under it), then its reconstruction from its "
            f"logits with the generator's noise at 0, then {args.noise_draws} reconstructions of the same logits "
            f"with random noise. What stays the same across the draws is what the logits fix."
        )
        path = out.picture(result.numbers["png"], grid, caption)
        (out / "grid.md").write_text(
            f"{result.numbers['images']} {args.split} images, each with its reconstruction at noise 0 and "
            f"{args.noise_draws} with random noise.\n"
        )
        return f"grid: {path}"
