"""`evaluate.py baseline decoder|retrieval|optimize|ridge`: the baselines every inverter is held against.

`baseline decoder` trains the pixel-loss decoder and `baseline retrieval` builds the nearest-neighbour
reference; both write an ordinary snapshot (score it with `fidelity`). `baseline optimize` runs
optimisation-based inversion on test images and scores it with the fidelity table. `baseline ridge`
makes no image: a linear map from the classifier's outputs to the evaluator's features, scored by
identification.
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
from infra.estimate import Estimate, bootstrap_mean

from ..baselines.optimization import optimize_reconstruct
from ..baselines.pixel_decoder import train_decoder
from ..baselines.retrieval import build_retrieval
from ..baselines.ridge import explained_variance, fit_ridge, outputs_and_features
from ..config import Config
from ..evaluation.fidelity import collect
from ..evaluation.identification import identification
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
        return table + f"\n{seconds:.1f} s; {out.path}"


@register
class Ridge(_Baseline):
    name = "ridge"
    help = (
        "a non-generative reference: ridge regression from the classifier's outputs to the evaluator's features "
        "(fitted on the training split), scored by identification of the test images"
    )
    heading = "Baseline: ridge regression to evaluator features"
    about = (
        "How much of the evaluator's view of an image a linear map of the classifier's outputs recovers, with no "
        "generator trained: each test image's predicted features pick out its source among the candidates."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--out", help="results go to OUT/eval/fidelity (default runs/ridge-<classifier's folder>)")
        add_evaluator_argument(parser)
        parser.add_argument(
            "--alpha",
            type=number(at_least=0),
            default=1.0,
            help="the ridge penalty on standardised inputs (default 1.0; 0 is least squares)",
        )
        parser.add_argument(
            "--train-images",
            type=integer(1),
            help="fit on the first N training images only (default: all)",
        )
        parser.add_argument("--limit", type=integer(0), default=0, help="score the first N test images (default: all)")
        parser.add_argument(
            "--candidates", type=integer(2), default=1000, help="identification: sources per group (default 1000)"
        )
        parser.add_argument("--batch-size", type=integer(1), default=500, help="images per batch (default 500)")
        parser.add_argument(
            "overrides",
            nargs="*",
            metavar="key=value",
            help="config overrides, e.g. classifier.output=softmax+log (what the regression is given)",
        )

    def output_dir(self, args: argparse.Namespace) -> Path:
        out = self.default_root(args) / "eval" / "fidelity"
        out.mkdir(parents=True, exist_ok=True)
        return out

    def run(self, args: argparse.Namespace) -> Result:
        """Fit on the training split, predict the test images' features, identify their sources."""
        cfg = self.config(args, args.overrides)
        device = device_of(args)
        data = load_data(cfg.data)
        classifier = load_classifier(cfg.classifier, data.channels, device)
        evaluator = load_evaluator(args.evaluator, data.classes, data.channels, device)
        start = time.perf_counter()
        train = first_indices(len(data.train), args.train_images)
        x_train, f_train = outputs_and_features(
            classifier, evaluator, data.train, train, device, args.batch_size, "training split"
        )
        fit = fit_ridge(x_train, f_train, alpha=args.alpha)
        test = first_indices(len(data.test), args.limit)
        x_test, f_test = outputs_and_features(classifier, evaluator, data.test, test, device, args.batch_size, "test")
        predicted = fit.predict(x_test)
        ident = identification(predicted, f_test, candidates=args.candidates)
        fidelity = {
            "images": Estimate.exact(len(test)),
            "id_top1": bootstrap_mean(ident["p_top1"]),
            "id_top5": bootstrap_mean(ident["p_top5"]),
            "id_chance_top1": Estimate.exact(ident["chance_top1"]),
            "id_candidates": Estimate.exact(ident["candidates"]),
        }
        ridge = {
            "alpha": fit.alpha,
            "train_images": len(train),
            "inputs": x_train.shape[1],
            "features": f_train.shape[1],
            "output": cfg.classifier.output,
            "explained_variance_train": explained_variance(f_train, fit.predict(x_train)),
            "explained_variance_test": explained_variance(f_test, predicted),
        }
        return Result({"fidelity": fidelity, "ridge": ridge, "seconds": time.perf_counter() - start})

    def write(self, result: Result, args: argparse.Namespace, out: Output) -> str:
        fidelity, ridge, seconds = result.numbers["fidelity"], result.numbers["ridge"], result.numbers["seconds"]
        table = fidelity_table({"ridge": fidelity})
        (out / "fidelity.md").write_text(
            f"Ridge regression (alpha {ridge['alpha']:g}) from the classifier's `{ridge['output']}` outputs "
            f"({ridge['inputs']} numbers) to the evaluator's {ridge['features']} features, fitted on "
            f"{ridge['train_images']} training images; it explains {ridge['explained_variance_test']:.1%} of the "
            f"test features' variance ({ridge['explained_variance_train']:.1%} on the training images). Scored on "
            f"{fidelity['images'].value:.0f} test images ({seconds:.1f} s).\n\n{table}"
        )
        explained = ridge["explained_variance_test"]
        return table + f"\nexplained variance (test) {explained:.1%}; {seconds:.1f} s; {out.path}"
