"""`evaluate.py probe novelty`: seen vs novel classes from each layer's activations."""

from __future__ import annotations

import argparse

from infra.cli import integer, number
from infra.errors import UserError

from ..presentation.tables import table
from ..probes import novelty
from .base import Output, ProbeCommand, Result, register


@register
class Novelty(ProbeCommand):
    name = "novelty"
    help = "seen vs novel classes from each layer's activations"
    heading = "Probe: novel classes from activations"
    about = (
        "A small classifier on one layer's activations tells classes the backbone was trained on from classes it "
        "never saw, tested on unseen classes again (Powers and Keselman); chance is 50%."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--arch", default="resnet18", help="backbone architecture (default resnet18)")
        parser.add_argument("--split", default="4,3,3", help="class counts of sets 1, 2, 3 (default 4,3,3)")
        parser.add_argument("--width", type=integer(1), default=16, help="backbone width (default 16)")
        parser.add_argument(
            "--backbone-epochs", type=number(above=0), default=2.0, help="backbone training epochs (default 2)"
        )
        parser.add_argument(
            "--backbone-images", type=integer(1), default=6000, help="set-1 images for the backbone (default 6000)"
        )
        parser.add_argument(
            "--probe-images", type=integer(1), default=2000, help="seen and novel images each to train the probe"
        )
        parser.add_argument(
            "--test-images", type=integer(1), default=1000, help="seen and novel images each to test it"
        )
        parser.add_argument("--probe-epochs", type=integer(1), default=20, help="probe training epochs (default 20)")

    def run(self, args: argparse.Namespace) -> Result:
        split = tuple(int(v) for v in args.split.split(","))
        if len(split) != 3:
            raise UserError("--split takes three class counts, e.g. 4,3,3")
        data = self.data(args)
        settings = novelty.NoveltySettings(
            split=split,
            width=args.width,
            backbone_epochs=args.backbone_epochs,
            backbone_images=args.backbone_images,
            probe_images=args.probe_images,
            test_images=args.test_images,
            probe_epochs=args.probe_epochs,
        )
        return Result(novelty.run(args.arch, data, settings), {"classes": data.classes})

    def write(self, result: Result, args: argparse.Namespace, out: Output) -> str:
        r, classes = result.numbers, result.pictures["classes"]
        names = [[classes[c] for c in s] for s in r["sets"]]
        parts = [
            f"Set 1 (seen, backbone): {', '.join(names[0])}; set 2 (novel, probe training): {', '.join(names[1])}; "
            f"set 3 (novel, testing only): {', '.join(names[2])}. Layer 0 is the image itself; chance 50%.\n"
        ]
        header = ["layer", "MLP train", "MLP test", "MLP AUROC", "conv train", "conv test", "conv AUROC"]
        for key, layers in r["layers"].items():
            rows = [
                [
                    str(x["layer"]),
                    f"{x['mlp_train_acc']:.1%}",
                    f"{x['mlp_test_acc']:.1%}",
                    f"{x['mlp_test_auroc']:.3f}",
                    f"{x['conv_train_acc']:.1%}",
                    f"{x['conv_test_acc']:.1%}",
                    f"{x['conv_test_auroc']:.3f}",
                ]
                for x in layers
            ]
            parts.append(f"Backbone {key}:\n\n" + table(header, rows))
        text = "\n".join(parts)
        (out / "novelty.md").write_text(text)
        return text + f"\n{out.path}"
