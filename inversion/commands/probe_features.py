"""`evaluate.py probe features`: a linear map from logits back to penultimate features."""

from __future__ import annotations

import argparse

import torch

from infra.cli import integer

from ..presentation.tables import table
from ..probes import feature_reconstruction
from .base import Output, ProbeCommand, Result, load_checkpoints, register


@register
class Features(ProbeCommand):
    name = "features"
    help = "a linear map from logits back to penultimate features, within and across models"
    heading = "Probe: penultimate features from logits"
    about = (
        "One linear layer maps a network's logits back to its penultimate features: if the network's own head "
        "then gives the same top-1, the logits held what the features held, for that decision."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--models", nargs="+", required=True, help="classifier checkpoints")
        parser.add_argument(
            "--train-images", type=integer(2), default=10000, help="images that fit the map (default 10000)"
        )
        parser.add_argument(
            "--test-images", type=integer(1), default=10000, help="images that score it (default 10000)"
        )

    def run(self, args: argparse.Namespace) -> Result:
        data = self.data(args)
        models = load_checkpoints(args.models, data.channels, torch.device("cpu"))
        return Result(feature_reconstruction.run_on_data(models, data, args.train_images, args.test_images))

    def write(self, result: Result, args: argparse.Namespace, out: Output) -> str:
        matrix = result.numbers["matrix"]
        names = list(matrix)
        rows = [
            [a] + [f"{matrix[a][b]['top1_match']:.1%} / {matrix[a][b]['mse_averaged']:.4f}" for b in names]
            for a in names
        ]
        text = (
            "Rows: whose logits; columns: whose features (and head). Cells: top-1 match / MSE (averaged).\n\n"
            + table(["logits \\ features", *names], rows)
        )
        (out / "features.md").write_text(text)
        return text + f"\n{out.path}"
