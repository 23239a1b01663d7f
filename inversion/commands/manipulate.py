"""`evaluate.py manipulate`: edit the logits and reconstruct along each path."""

from __future__ import annotations

import argparse

import torch

from infra.batches import eval_batches
from infra.cli import integer
from infra.progress import progress

from ..evaluation.logit_edits import DEFAULT_LEVELS, EDITS, NOTES, edit_paths, partner_indices, summarize_paths
from ..evaluation.scoring import load_evaluator
from ..presentation import plots
from ..presentation.images import table_grid
from ..presentation.tables import table
from .base import Command, Output, Result, add_evaluator_argument, open_run, register


@register
class Manipulate(Command):
    name = "manipulate"
    help = "edit the logits (shift, scale, noise, interpolate, swap-top2) and reconstruct along each path"
    about = (
        "The logits are edited step by step and each edited vector is reconstructed: what the generator draws "
        "shows what that direction of the logit space means to the inverter."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--edit",
            required=True,
            choices=list(EDITS),
            help="which logit edit (see inversion/evaluation/logit_edits.py)",
        )
        parser.add_argument(
            "--levels",
            type=float,
            nargs="+",
            help="edit levels (defaults per edit; see inversion/evaluation/logit_edits.py)",
        )
        parser.add_argument("--n", type=integer(1), default=8, help="test images in the picture (default 8)")
        parser.add_argument(
            "--table-images",
            type=integer(1),
            default=500,
            help="test images the table and the plot's mean are computed on (default 500; at least --n)",
        )
        parser.add_argument("--batch-size", type=integer(1), default=250, help="images per batch (default 250)")
        add_evaluator_argument(parser, "(the judge: never the inverted classifier, which would grade its own logits)")

    def output_name(self, args: argparse.Namespace) -> str:
        return f"manipulate-{args.edit}"

    def title(self, args: argparse.Namespace) -> str:
        return f"Logit edit: {args.edit}"

    def run(self, args: argparse.Namespace) -> Result:
        inverter, data = open_run(args)
        evaluator = load_evaluator(args.evaluator, inverter.meta["classes"], inverter.channels, inverter.device)
        levels = args.levels or DEFAULT_LEVELS[args.edit]
        count = min(len(data.test), max(args.table_images, args.n))
        images, labels = map(torch.cat, zip(*eval_batches(data.test, count, inverter.device, torch.arange(count))))
        partner = partner_indices(labels.cpu()).to(images.device)
        paths, pictured = [], None
        chunks = range(0, count, args.batch_size)
        for start in progress(chunks, total=len(chunks), desc="manipulate", leave=False):
            part = slice(start, start + args.batch_size)
            numbers, reconstructions = edit_paths(
                inverter, evaluator, images[part], labels[part], images[partner[part]], args.edit, levels
            )
            paths += numbers["paths"]
            pictured = reconstructions[: args.n] if pictured is None else pictured
        x, n = images[: args.n], min(args.n, count)
        cells = torch.cat([x[:, None], pictured[:n]], dim=1)
        names = [data.classes[int(y)][:12] for y in labels[:n]]
        if args.edit == "interpolate":  # show where each path goes: image b, and its class in the row label
            cells = torch.cat([cells, images[partner[:n]][:, None]], dim=1)
            names = [f"{a} > {data.classes[int(labels[j])][:12]}" for a, j in zip(names, partner[:n])]
        return Result(
            {
                "edit": args.edit,
                "levels": levels,
                "judge": "evaluator",
                "scale": numbers["unit"],
                "images": count,
                "paths": paths[:n],
                "summary": summarize_paths(paths, levels),
            },
            {"cells": cells, "row_labels": names, "paths": paths},
        )

    def write(self, result: Result, args: argparse.Namespace, out: Output) -> str:
        r = result.numbers
        col_labels = ["original"] + [f"{level:g}" for level in r["levels"]]
        caption = (
            f"Each row is one test image (its class on the left): the image, then the reconstruction of its "
            f"logits with the edit '{args.edit}' at each level, left to right ({NOTES[args.edit]})."
        )
        if args.edit == "interpolate":
            col_labels.append("image b")
            caption += " The last column is image b; the row label reads 'class of a > class of b'."
        grid = table_grid(
            result.pictures["cells"],
            title=f"{args.edit}: {NOTES[args.edit]}",
            col_labels=col_labels,
            row_labels=result.pictures["row_labels"],
        )
        out.picture("grid.png", grid, caption)
        plots.edit_paths(
            result.pictures["paths"],
            r["levels"],
            args.edit,
            r["judge"],
            out.plot(
                "confidence.png",
                f"The {r['judge']}'s probability of each image's own class on its reconstruction along the edit "
                f"(thin lines: the first 50 images; thick: the mean over all {r['images']}).",
            ),
        )

        rows = [
            [
                f"{s['level']:g}",
                s["judge_keeps_source"].cell("{:.1%}"),
                s["judge_prob_source"].cell("{:.2f}"),
                f"{s['judge_confidence'].value:.2f}",
                f"{s['softmax_keeps_source'].value:.1%}",
            ]
            for s in r["summary"]
        ]
        text = (
            f"Edit `{args.edit}` ({NOTES[args.edit]}) on {r['images']} test images; the reconstructions' class is "
            "judged by the independent evaluator (95% intervals over images: Wilson's for shares, a bootstrap for "
            "p(source)).\n\n"
            + table(
                [
                    "level",
                    "evaluator keeps the source class",
                    "evaluator p(source class)",
                    "evaluator confidence",
                    "softmax top-1 = source",
                ],
                rows,
            )
        )
        (out / "manipulate.md").write_text(text)
        return text + f"{out.path}"
