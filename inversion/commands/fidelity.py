"""`evaluate.py fidelity`: the fidelity table of an inverter on the test split."""

from __future__ import annotations

import argparse
import time

from ..evaluation.fidelity import collect, inverter_reconstruct
from ..evaluation.perceptual import default_alexnet_weights, lpips_model
from ..evaluation.scoring import first_indices, load_evaluator
from ..presentation.tables import INTERVALS_NOTE, fidelity_table
from .base import (
    Command,
    Output,
    Result,
    add_evaluator_argument,
    add_fidelity_arguments,
    fidelity_columns,
    open_run,
    register,
    run_folder,
)


@register
class Fidelity(Command):
    name = "fidelity"
    help = "the fidelity table (pixel, perceptual, identification, semantics, realism, diversity) on the test split"
    heading = "Fidelity"
    about = (
        "How close reconstructions are to their sources: in pixels, in the features of an independent evaluator "
        "network, whether a reconstruction picks out its own source among many, whether the classifiers still "
        "see the same class, and how real the reconstructions look (FID)."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_evaluator_argument(parser)
        add_fidelity_arguments(parser)

    def run(self, args: argparse.Namespace) -> Result:
        inverter, data = open_run(args)
        evaluator = load_evaluator(args.evaluator, inverter.meta["classes"], inverter.channels, inverter.device)
        lpips = lpips_model(args.lpips_weights or default_alexnet_weights(), inverter.device)
        start = time.perf_counter()
        collected = collect(
            inverter_reconstruct(inverter),
            inverter.classifier,
            evaluator,
            data.test,
            first_indices(len(data.test), args.limit),
            noise_draws=args.noise_draws,
            batch_size=args.batch_size,
            lpips_model=lpips,
            device=inverter.device,
            border=data.border,
        )
        columns = fidelity_columns(collected, args, evaluator=evaluator, data=data, device=inverter.device)
        seconds = time.perf_counter() - start
        return Result({"fidelity": columns["all"], "seconds": seconds, "device": str(inverter.device)})

    def write(self, result: Result, args: argparse.Namespace, out: Output) -> str:
        name = run_folder(args.run).name
        fidelity, seconds = result.numbers["fidelity"], result.numbers["seconds"]
        table = fidelity_table({name: fidelity})
        device = result.numbers["device"].split(":")[0]
        (out / "fidelity.md").write_text(
            f"Fidelity of {name} on {fidelity['images'].value:.0f} test images ({seconds:.1f} s on {device}).\n\n"
            f"{table}\n\n"
            f"{INTERVALS_NOTE}\n"
        )
        return table + f"\n{seconds:.1f} s; {out.path / 'results.json'}"
