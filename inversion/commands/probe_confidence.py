"""`evaluate.py probe confidence`: top-1/top-2 ratio and margin of clean vs PGD-corrupted inputs."""

from __future__ import annotations

import argparse
import dataclasses

from classifiers.attacks import default_threat, pgd_config
from infra.cli import integer, number

from ..evaluation.scoring import first_indices
from ..presentation import plots
from ..presentation.tables import table
from ..probes import confidence
from .base import Output, ProbeCommand, Result, device_of, load_checkpoints, register


@register
class Confidence(ProbeCommand):
    name = "confidence"
    help = "top-1/top-2 ratio and margin: clean vs PGD-corrupted inputs"
    heading = "Probe: confidence on clean and adversarial inputs"
    about = (
        "How sure a classifier is (its top-1/top-2 softmax ratio and logit margin) on clean test images and on "
        "their PGD versions: can a threshold on confidence reject the adversarial ones?"
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--classifier", nargs="+", required=True, help="one or more checkpoints (standard, robust)")
        parser.add_argument("--attack", choices=["pgd"], default="pgd", help="how inputs are corrupted (default pgd)")
        parser.add_argument("--norm", choices=["linf", "l2"], help="PGD norm (default: the data set's usual)")
        parser.add_argument(
            "--eps", type=number(at_least=0), help="radius in [0, 1] pixel units (default: the data set's usual)"
        )
        parser.add_argument("--steps", type=integer(1), default=20, help="PGD steps (default 20)")
        parser.add_argument("--limit", type=integer(1), default=1000, help="test images (default 1000)")

    def run(self, args: argparse.Namespace) -> Result:
        data = self.data(args)
        device = device_of(args)
        models = load_checkpoints(args.classifier, data.channels, device)
        norm, eps = default_threat(args.data)
        attack = pgd_config(args.norm or norm, args.eps if args.eps is not None else eps, args.steps)
        results, curves = confidence.run(models, data.test, first_indices(len(data.test), args.limit), attack, device)
        return Result({"results": results, "attack": dataclasses.asdict(attack)}, {"curves": curves})

    def write(self, result: Result, args: argparse.Namespace, out: Output) -> str:
        for score, curves in result.pictures["curves"].items():
            what = "top-1/top-2 softmax ratio (log10)" if score == "ratio" else "top-1 minus top-2 logit"
            caption = f"Cumulative distribution of the {what} for clean (solid) and PGD-corrupted (dashed) test images."
            plots.confidence_cdfs(curves, score, out.plot(f"cdf_{score}.png", caption))
        attack = result.numbers["attack"]
        rows = [
            [
                name,
                score,
                f"{v['auroc']:.3f}",
                f"{v['kept_at_10pct_clean_rejected']:.1%}",
                f"{v['kept_at_20pct_clean_rejected']:.1%}",
                f"{v['median_clean']:.3g}",
                f"{v['median_corrupted']:.3g}",
            ]
            for name, r in result.numbers["results"].items()
            for score, v in r.items()
        ]
        text = (
            f"Clean vs PGD-corrupted test images ({attack['norm']}, eps {attack['eps']:g}, {attack['steps']} steps); "
            f"clean is the positive class.\n\n"
            + table(
                [
                    "classifier",
                    "score",
                    "AUROC",
                    "corrupted kept at 10% clean rejected",
                    "at 20%",
                    "median clean",
                    "median corrupted",
                ],
                rows,
            )
        )
        (out / "confidence.md").write_text(text)
        return text + f"\n{out.path}"
