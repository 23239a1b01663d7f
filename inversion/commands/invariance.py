"""`evaluate.py invariance`: does the reconstruction follow image transforms?"""

from __future__ import annotations

import argparse

from infra.batches import eval_batches
from infra.cli import integer
from infra.errors import UserError

from ..evaluation import invariance
from ..evaluation.fidelity import inverter_reconstruct
from ..evaluation.scoring import first_indices, load_evaluator
from ..presentation.images import table_grid
from ..presentation.tables import table
from .base import Command, Output, Result, add_evaluator_argument, open_run, register


@register
class Invariance(Command):
    name = "invariance"
    help = "does the reconstruction follow image transforms?"
    heading = "Invariance to image transforms"
    about = (
        "An image is flipped, shifted, rotated, brightened, blurred ...; if the reconstruction from the "
        "transformed image's logits follows the change, the logits kept it; if not, the classifier is invariant to it."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_evaluator_argument(parser)
        parser.add_argument("--transforms", nargs="+", help=f"subset of: {' '.join(invariance.TRANSFORMS)}")
        parser.add_argument("--limit", type=integer(0), default=1000, help="test images (default 1000; 0: all)")
        parser.add_argument("--examples", type=integer(1), default=3, help="example rows per transform in the picture")
        parser.add_argument("--batch-size", type=integer(1), default=500, help="images per batch (default 500)")

    def run(self, args: argparse.Namespace) -> Result:
        names = args.transforms or list(invariance.TRANSFORMS)
        unknown = [t for t in names if t not in invariance.TRANSFORMS]
        if unknown:
            raise UserError(f"unknown transform {unknown[0]!r}; choose from {', '.join(invariance.TRANSFORMS)}")
        inverter, data = open_run(args)
        evaluator = load_evaluator(args.evaluator, inverter.meta["classes"], inverter.channels, inverter.device)
        reconstruct = inverter_reconstruct(inverter)
        numbers = invariance.measure(
            names,
            data.test,
            first_indices(len(data.test), args.limit),
            inverter.classifier,
            evaluator,
            reconstruct,
            args.batch_size,
            inverter.device,
        )
        x, _ = next(eval_batches(data.test, args.examples, inverter.device))
        cells = invariance.examples(names, x, inverter.classifier, reconstruct)
        return Result(
            numbers, {"cells": cells, "row_labels": [t if i == 0 else "" for t in names for i in range(len(x))]}
        )

    def write(self, result: Result, args: argparse.Namespace, out: Output) -> str:
        r = result.numbers

        def share(v: dict, key: str, fmt: str = "{:.1%}") -> str:
            return v[key].cell(fmt)

        def verdict(v: dict) -> str:
            low, high = v["kept"].interval
            return "keeps T" if low > 0 else ("less than ignoring T" if high < 0 else "no evidence either way")

        rows = [
            [
                t,
                share(v, "follows_transform"),
                share(v, "follows_if_ignored"),
                share(v, "follows_random_pairing"),
                share(v, "kept", "{:+.1%}"),
                verdict(v),
                f"{v['logit_change'].value:.3f}",
                f"{v['top1_changed'].value:.1%}",
                f"{v['image_change'].value:.4f}",
                v["attribute_carried"].cell("{:.2f}") if "attribute_carried" in v else "",
            ]
            for t, v in r["transforms"].items()
        ]
        text = (
            f"Invariance on {r['images']} test images. 'follows T': the share of reconstructions G(phi(T x)) nearer "
            "(evaluator features) to T x than to x. Read it against its nulls, scored the same way: 'if phi ignored "
            "T' uses G(phi(x)), what a classifier invariant to T would give; 'random pairing' uses the "
            "reconstruction of another image's T x'. 'kept' is follows T minus the first null, per image; phi keeps "
            "T when its interval lies above 0: that says phi is not invariant to T, not how much of T the "
            "reconstruction shows. 'attribute carried' measures that on the image itself for the transforms "
            "that change one attribute (brightness: mean intensity; contrast: standard deviation; shift: "
            "horizontal centre of mass): the slope of the reconstruction's change on the input's, over the "
            "images whose class phi keeps (1: carried fully, 0: ignored). 95% bootstrap intervals over "
            "images.\n\n"
            + table(
                [
                    "transform",
                    "follows T",
                    "if phi ignored T",
                    "random pairing",
                    "kept",
                    "verdict",
                    "logit change (relative)",
                    "phi top-1 changed",
                    "pixel MSE of T",
                    "attribute carried",
                ],
                rows,
            )
        )
        labels = ["x", "T x", "G(phi(x))", "G(phi(Tx))"]
        grid = table_grid(
            result.pictures["cells"],
            title="x | T x | G(phi(x)) | G(phi(T x))",
            col_labels=labels,
            row_labels=result.pictures["row_labels"],
        )
        caption = (
            "For each transform T (named on the left), a few test images: x, the transformed T x, the "
            "reconstruction from x's logits, and the reconstruction from T x's logits. Where the last column "
            "shows the change that T made, the classifier's logits kept it."
        )
        out.picture("examples.png", grid, caption)
        (out / "invariance.md").write_text(text)
        return text + f"{out.path}"
