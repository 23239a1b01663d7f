"""`evaluate.py grid`: a PNG of test images, each followed by its reconstructions."""

from __future__ import annotations

import argparse
from pathlib import Path

from infra.batches import eval_batches

from ..presentation.images import reconstruction_grid, save_image
from .base import Command, Result, open_run, register


@register
class Grid(Command):
    name = "grid"
    help = "a PNG of test images, each followed by its reconstructions"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--n", type=int, default=64, help="number of images (default 64)")
        parser.add_argument(
            "--noise-draws", type=int, default=3, help="random-noise reconstructions per image, besides noise 0"
        )
        parser.add_argument("--split", choices=["test", "train"], default="test", help="which split (default test)")
        parser.add_argument("--per-row", type=int, default=4, help="image groups per row (default 4)")

    def run(self, args: argparse.Namespace) -> Result:
        inverter, data = open_run(args)
        x, _ = next(eval_batches(data.test if args.split == "test" else data.train, args.n, inverter.device))
        logits = inverter.logits(x)
        draws = [inverter.generate(logits, noise="random", seed=s) for s in range(args.noise_draws)]
        return Result(
            {"images": len(x), "png": "grid.png"},
            {"originals": x, "reconstructions": [inverter.generate(logits), *draws]},
        )

    def write(self, result: Result, args: argparse.Namespace, out: Path) -> str:
        grid = reconstruction_grid(
            result.pictures["originals"], result.pictures["reconstructions"], groups_per_row=args.per_row
        )
        path = save_image(grid, out / result.numbers["png"])
        (out / "grid.md").write_text(
            f"Each group: the {args.split} image, its reconstruction at noise 0, then {args.noise_draws} "
            f"reconstructions with random noise (the same logits).\n"
        )
        return f"grid: {path}"
