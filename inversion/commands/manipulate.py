"""`evaluate.py manipulate`: edit the logits and reconstruct along each path."""

from __future__ import annotations

import argparse

import torch

from infra.batches import eval_batches
from infra.cli import integer

from ..evaluation.logit_edits import DEFAULT_LEVELS, EDITS, NOTES, edit_paths, partner_indices, summarize_paths
from ..presentation import plots
from ..presentation.images import table_grid
from ..presentation.tables import table
from .base import Command, Output, Result, add_evaluator_argument, load_evaluator, open_run, register


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
        parser.add_argument("--n", type=integer(1), default=8, help="number of paths (test images)")
        add_evaluator_argument(parser, "(optional: without it the inverted classifier judges)")

    def output_name(self, args: argparse.Namespace) -> str:
        return f"manipulate-{args.edit}"

    def title(self, args: argparse.Namespace) -> str:
        return f"Logit edit: {args.edit}"

    def run(self, args: argparse.Namespace) -> Result:
        inverter, data = open_run(args)
        evaluator = load_evaluator(
            args.evaluator, inverter.meta["classes"], inverter.channels, inverter.device, required=False
        )
        judge, judge_name = (
            (evaluator, "evaluator") if evaluator is not None else (inverter.classifier, "inverted classifier")
        )
        levels = args.levels or DEFAULT_LEVELS[args.edit]
        pool, pool_labels = next(eval_batches(data.test, min(len(data.test), 4 * args.n), inverter.device))
        partner = partner_indices(pool_labels.cpu())[: args.n].to(pool.device)
        x, labels = pool[: args.n], pool_labels[: args.n]
        numbers, reconstructions = edit_paths(inverter, judge, x, labels, pool[partner], args.edit, levels)
        cells = torch.cat([x[:, None], reconstructions], dim=1)
        names = [data.classes[int(y)][:12] for y in labels]
        if args.edit == "interpolate":  # show where each path goes: image b, and its class in the row label
            cells = torch.cat([cells, pool[partner][:, None]], dim=1)
            names = [f"{a} > {data.classes[int(pool_labels[j])][:12]}" for a, j in zip(names, partner)]
        return Result(
            {
                "edit": args.edit,
                "levels": levels,
                "judge": judge_name,
                "scale": numbers["unit"],
                "paths": numbers["paths"],
                "summary": summarize_paths(numbers["paths"], levels),
            },
            {"cells": cells, "row_labels": names},
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
            r["paths"],
            r["levels"],
            args.edit,
            r["judge"],
            out.plot(
                "confidence.png",
                f"The {r['judge']}'s probability of each image's own class on its "
                f"reconstruction along the edit (thin lines: images; thick: their mean).",
            ),
        )
        rows = [
            [
                f"{s['level']:g}",
                f"{s['judge_keeps_source']:.0%}",
                f"{s['judge_confidence']:.2f}",
                f"{s['softmax_keeps_source']:.0%}",
            ]
            for s in r["summary"]
        ]
        text = f"Edit `{args.edit}` ({NOTES[args.edit]}); class judged by the {r['judge']}.\n\n" + table(
            ["level", "judge keeps the source class", "judge confidence", "softmax top-1 = source"], rows
        )
        (out / "manipulate.md").write_text(text)
        return text + f"{out.path}"
