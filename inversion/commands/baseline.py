"""`evaluate.py baseline decoder|optimize`: the baselines every inverter is held against.

`decoder` trains the pixel-loss decoder and writes an ordinary snapshot (score it with `fidelity`);
`optimize` runs optimisation-based inversion on test images and scores it with the fidelity table.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from classifiers import load_classifier
from infra.batches import eval_batches
from infra.config import load_config
from infra.datasets import load_data

from ..baselines.optimization import optimize_reconstruct
from ..baselines.pixel_decoder import train_decoder
from ..config import Config
from ..evaluation.fidelity import collect
from ..presentation.images import reconstruction_grid, save_image
from ..presentation.tables import fidelity_table
from .base import (
    Command,
    Result,
    add_evaluator_argument,
    add_fidelity_arguments,
    device_of,
    fidelity_columns,
    first_indices,
    load_evaluator,
    register,
)

DEFAULT_STEPS = {"decoder": 2000, "optimize": 200}
DEFAULT_LR = {"decoder": 2e-4, "optimize": 0.05}


@register
class Baseline(Command):
    name = "baseline"
    help = "baselines: the pixel-loss decoder (trains a snapshot) or optimisation-based inversion (scored directly)"
    takes_run = False

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("method", choices=["decoder", "optimize"], help="which baseline")
        parser.add_argument("--classifier", required=True, help="the classifier checkpoint to invert (project format)")
        parser.add_argument(
            "--config", default="configs/fmnist.yaml", help="data and G architecture (default configs/fmnist.yaml)"
        )
        parser.add_argument("--out", help="decoder: the run folder to create; optimize: where results go")
        parser.add_argument("--data-root", help="where the data set lives")
        parser.add_argument(
            "--steps",
            type=int,
            help="decoder: training steps (default 2000); optimize: Adam steps per image (default 200)",
        )
        parser.add_argument("--lr", type=float, help="learning rate (decoder 2e-4, optimize 0.05)")
        parser.add_argument("--tv", type=float, default=0.05, help="optimize: total-variation weight (default 0.05)")
        add_evaluator_argument(parser, "(optimize: required)")
        add_fidelity_arguments(parser)
        parser.add_argument(
            "overrides", nargs="*", metavar="key=value", help="config overrides for the decoder (train.batch_size=...)"
        )

    def config(self, args: argparse.Namespace) -> Config:
        overrides = ["classifier.name=project", f"classifier.checkpoint={args.classifier}", *args.overrides]
        if args.data_root:
            overrides.append(f"data.root={args.data_root}")
        return load_config(Config, args.config, overrides)

    def output_dir(self, args: argparse.Namespace) -> Path:
        root = Path(args.out or f"runs/{args.method}-{Path(args.classifier).parent.name or 'classifier'}")
        if args.method == "decoder":
            return root
        out = root / "eval" / "fidelity"
        out.mkdir(parents=True, exist_ok=True)
        return out

    def execute(self, args: argparse.Namespace) -> str:
        if args.steps is None:
            args.steps = DEFAULT_STEPS[args.method]
        if args.method == "decoder":
            out = self.output_dir(args)
            train_decoder(self.config(args), out, steps=args.steps, lr=args.lr or DEFAULT_LR["decoder"])
            return (
                f"decoder snapshot: {out / 'snapshot.safetensors'}; score it with "
                f"`python evaluate.py fidelity --run {out} --evaluator EVAL`"
            )
        return super().execute(args)

    def run(self, args: argparse.Namespace) -> Result:
        """Optimisation-based inversion of test images, scored with the fidelity table."""
        cfg = self.config(args)
        device = device_of(args)
        data = load_data(cfg.data)
        classifier = load_classifier(cfg.classifier, data.channels, device)
        evaluator = load_evaluator(args.evaluator, data.channels, device)
        shape = (data.channels, cfg.data.resolution, cfg.data.resolution)
        reconstruct = optimize_reconstruct(
            classifier, shape, steps=args.steps, lr=args.lr or DEFAULT_LR["optimize"], tv_weight=args.tv
        )
        start = time.perf_counter()
        collected = collect(
            reconstruct,
            classifier,
            evaluator,
            data.test,
            first_indices(len(data.test), args.limit),
            noise_draws=args.noise_draws,
            batch_size=args.batch_size,
            device=device,
            desc="optimize",
        )
        columns = fidelity_columns(collected, args)
        seconds = time.perf_counter() - start
        x, _ = next(eval_batches(data.test, min(16, len(data.test)), device))
        logits = classifier(x).float()
        examples = [reconstruct(logits, "zero", 0), reconstruct(logits, "random", 1)]
        return Result(
            {"fidelity": columns["all"], "seconds": seconds},
            {"originals": x, "reconstructions": examples, "device": device.type},
        )

    def write(self, result: Result, args: argparse.Namespace, out: Path) -> str:
        fidelity, seconds = result.numbers["fidelity"], result.numbers["seconds"]
        table = fidelity_table({"optimisation": fidelity})
        (out / "fidelity.md").write_text(
            f"Optimisation-based inversion (Mahendran and Vedaldi 2015): {args.steps} Adam steps, TV weight "
            f"{args.tv}, on {fidelity['images']} test images ({seconds:.1f} s on {result.pictures['device']})."
            f"\n\n{table}"
        )
        save_image(
            reconstruction_grid(result.pictures["originals"], result.pictures["reconstructions"]), out / "grid.png"
        )
        return table + f"\n{seconds:.1f} s; {out}"
