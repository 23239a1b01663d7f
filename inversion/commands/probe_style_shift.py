"""`evaluate.py probe style-shift`: Gram-matrix style transfer toward another class."""

from __future__ import annotations

import argparse

from infra.cli import integer

from ..presentation.images import table_grid
from ..presentation.tables import table
from ..probes import style_shift
from .base import Output, ProbeCommand, Result, device_of, load_checkpoints, register


@register
class StyleShift(ProbeCommand):
    name = "style-shift"
    help = "Gram-matrix style transfer toward another class: ordinal rank before and after"
    heading = "Probe: class shift by style transfer"
    about = (
        "The style (Gram matrices of the classifier's own feature maps) of an image of class B is transferred "
        "onto an image of class A: does the classifier now rank class B higher?"
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--classifier", required=True, help="the classifier checkpoint whose features carry the style"
        )
        parser.add_argument(
            "--pairs", type=integer(1), default=32, help="pairs per condition (intra-class, inter-class)"
        )
        parser.add_argument(
            "--steps", type=integer(1), default=150, help="Adam steps of the style transfer (default 150)"
        )
        parser.add_argument("--pool", type=integer(2), default=2000, help="test images to draw pairs from")

    def run(self, args: argparse.Namespace) -> Result:
        data = self.data(args)
        device = device_of(args)
        ((name, model),) = load_checkpoints([args.classifier], data.channels, device).items()
        n = min(len(data.test), args.pool)
        settings = style_shift.StyleSettings(pairs=args.pairs, steps=args.steps)
        results, examples = style_shift.run(model, data.test.images[:n], data.test.labels[:n], settings, device)
        return Result(
            {"classifier": name, "results": results}, {"examples": examples, "num_classes": len(data.classes)}
        )

    def write(self, result: Result, args: argparse.Namespace, out: Output) -> str:
        for condition, cells in result.pictures["examples"].items():
            grid = table_grid(
                cells, title=f"{condition}: A | style exemplar B | result", col_labels=["A", "B", "result"]
            )
            pair = "of the same class" if condition == "intra-class" else "of different classes"
            out.picture(
                f"{condition}.png",
                grid,
                f"Pairs {pair}: each row is image A, the style exemplar B, and A after the style transfer.",
            )
        rows = [
            [
                condition,
                str(r["pairs"]),
                f"{r['rank_before']:.2f}",
                f"{r['rank_after']:.2f}",
                f"{r['top1_before']:.1%}",
                f"{r['top1_after']:.1%}",
            ]
            for condition, r in result.numbers["results"].items()
        ]
        text = (
            f"Ordinal rank (1 = top of {result.pictures['num_classes']}) of the style exemplar's class, before and "
            f"after style transfer.\n\n"
            + table(["condition", "pairs", "rank before", "rank after", "top-1 before", "top-1 after"], rows)
        )
        (out / "style_shift.md").write_text(text)
        return text + f"\n{out.path}"
