"""`evaluate.py baseline decoder|retrieval|optimize`: the baselines every inverter is held against.

`baseline decoder` trains the pixel-loss decoder and `baseline retrieval` builds the nearest-neighbour
reference; both write an ordinary snapshot (score it with `fidelity`). `baseline optimize` runs
optimisation-based inversion on test images and scores it with the fidelity table.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from classifiers import load_classifier
from infra.batches import eval_batches
from infra.cli import integer, number
from infra.config import load_config
from infra.datasets import load_data

from ..baselines.optimization import optimize_reconstruct
from ..baselines.pixel_decoder import train_decoder
from ..baselines.retrieval import build_retrieval
from ..config import Config
from ..evaluation.fidelity import collect
from ..evaluation.scoring import first_indices, load_evaluator
from ..presentation.images import group_grid
from ..presentation.tables import fidelity_table
from .base import (
    Command,
    Output,
    Result,
    add_evaluator_argument,
    add_fidelity_arguments,
    device_of,
    fidelity_columns,
    register,
)


class _Baseline(Command):
    """What the baselines take: the classifier to invert, the config that names the data (and G's
    architecture, for the decoder), and the optimiser's steps and rate."""

    group = "baseline"
    takes_run = False
    default_steps: int
    default_lr: float

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--classifier", required=True, help="the classifier checkpoint to invert (project format)")
        parser.add_argument(
            "--config", default="configs/fmnist.yaml", help="data and G architecture (default configs/fmnist.yaml)"
        )
        parser.add_argument("--data-root", help="where the data set lives (default: the config's data.root)")

    def config(self, args: argparse.Namespace, overrides: list[str] = ()) -> Config:
        overrides = ["classifier.name=project", f"classifier.checkpoint={args.classifier}", *overrides]
        if args.data_root:
            overrides.append(f"data.root={args.data_root}")
        return load_config(Config, args.config, overrides)

    def default_root(self, args: argparse.Namespace) -> Path:
        return Path(args.out or f"runs/{self.name}-{Path(args.classifier).parent.name or 'classifier'}")


@register
class PixelDecoder(_Baseline):
    name = "decoder"
    help = "train the pixel-loss decoder (Dosovitskiy and Brox) and write an ordinary snapshot to score"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--out", help="the run folder to create (default runs/decoder-<classifier's folder>)")
        parser.add_argument("--steps", type=integer(1), default=2000, help="training steps (default 2000)")
        parser.add_argument("--lr", type=number(above=0), default=2e-4, help="Adam's learning rate (default 2e-4)")
        parser.add_argument(
            "overrides", nargs="*", metavar="key=value", help="config overrides, e.g. train.batch_size=64 model.g.ch=16"
        )

    def execute(self, args: argparse.Namespace) -> str:
        """Training writes a snapshot, which every other command then takes as a run; no results.json."""
        out = self.default_root(args)
        train_decoder(self.config(args, args.overrides), out, steps=args.steps, lr=args.lr)
        return (
            f"decoder snapshot: {out / 'snapshot.safetensors'}; score it with "
            f"`python evaluate.py fidelity --run {out} --evaluator EVAL`"
        )


@register
class Retrieval(_Baseline):
    name = "retrieval"
    help = (
        "the nearest-neighbour reference: the training image whose standardised classifier outputs are nearest "
        "(or the pixel mean of the k nearest), written as an ordinary snapshot to score"
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--out", help="the run folder to create (default runs/retrieval-<classifier's folder>)")
        parser.add_argument(
            "--k", type=integer(1), default=1, help="return the pixel mean of the k nearest training images (default 1)"
        )
        parser.add_argument(
            "--lookup-images",
            type=integer(1),
            help="look up among the first N training images only (default: all; fewer make a quick, weaker reference)",
        )
        parser.add_argument(
            "overrides",
            nargs="*",
            metavar="key=value",
            help="config overrides, e.g. classifier.output=softmax (the output model the lookup uses)",
        )

    def execute(self, args: argparse.Namespace) -> str:
        """No training: the lookup set goes into a snapshot, which every other command takes as a run."""
        out = self.default_root(args)
        build_retrieval(self.config(args, args.overrides), out, k=args.k, device=args.device, limit=args.lookup_images)
        return (
            f"retrieval snapshot: {out / 'snapshot.safetensors'}; score it with "
            f"`python evaluate.py fidelity --run {out} --evaluator EVAL`"
        )


@register
class Optimization(_Baseline):
    name = "optimize"
    help = "optimisation-based inversion (Mahendran and Vedaldi) of test images, scored with the fidelity table"
    heading = "Baseline: optimisation-based inversion"
    about = (
        "The classic alternative to a trained inverter: for each test image, gradient descent on an image until "
        "the classifier's logits match, with a smoothness prior; scored with the same fidelity table."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--out", help="results go to OUT/eval/fidelity (default runs/optimize-<classifier's folder>)"
        )
        parser.add_argument("--steps", type=integer(1), default=200, help="Adam steps per image (default 200)")
        parser.add_argument("--lr", type=number(above=0), default=0.05, help="Adam's learning rate (default 0.05)")
        parser.add_argument("--tv", type=number(at_least=0), default=0.05, help="total-variation weight (default 0.05)")
        add_evaluator_argument(parser)
        add_fidelity_arguments(parser)

    def output_dir(self, args: argparse.Namespace) -> Path:
        out = self.default_root(args) / "eval" / "fidelity"
        out.mkdir(parents=True, exist_ok=True)
        return out

    def run(self, args: argparse.Namespace) -> Result:
        """Optimisation-based inversion of test images, scored with the fidelity table."""
        cfg = self.config(args)
        device = device_of(args)
        data = load_data(cfg.data)
        classifier = load_classifier(cfg.classifier, data.channels, device)
        evaluator = load_evaluator(args.evaluator, data.classes, data.channels, device)
        shape = (data.channels, cfg.data.resolution, cfg.data.resolution)
        reconstruct = optimize_reconstruct(classifier, shape, steps=args.steps, lr=args.lr, tv_weight=args.tv)
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
            border=data.border,
        )
        columns = fidelity_columns(collected, args, evaluator=evaluator, data=data, device=device)
        seconds = time.perf_counter() - start
        x, labels = next(eval_batches(data.test, min(16, len(data.test)), device))
        logits = classifier(x).float()
        groups = torch.stack([x, reconstruct(logits, "zero", 0), reconstruct(logits, "random", 1)], dim=1)
        return Result(
            {"fidelity": columns["all"], "seconds": seconds},
            {"groups": groups, "classes": [data.classes[int(y)] for y in labels], "device": device.type},
        )

    def write(self, result: Result, args: argparse.Namespace, out: Output) -> str:
        fidelity, seconds = result.numbers["fidelity"], result.numbers["seconds"]
        table = fidelity_table({"optimisation": fidelity})
        (out / "fidelity.md").write_text(
            f"Optimisation-based inversion (Mahendran and Vedaldi 2015): {args.steps} Adam steps, TV weight "
            f"{args.tv}, on {fidelity['images'].value:.0f} test images "
            f"({seconds:.1f} s on {result.pictures['device']})."
            f"\n\n{table}"
        )
        grid = group_grid(
            result.pictures["groups"], ["test image", "from grey", "from noise"], result.pictures["classes"]
        )
        caption = (
            f"Each group is one test image, then the image that {args.steps} steps of gradient descent make from a "
            f"grey start and from a random start so that the classifier's logits match the test image's."
        )
        out.picture("grid.png", grid, caption)
        return table + f"\n{seconds:.1f} s; {out}"
