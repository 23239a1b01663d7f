"""`evaluate.py probe softmax-invariant`: how much of the image the mean logit predicts beyond the softmax."""

from __future__ import annotations

import argparse

from infra.cli import integer

from ..evaluation.scoring import first_indices, load_evaluator
from ..presentation.tables import table
from ..probes import softmax_invariant
from .base import Output, ProbeCommand, Result, device_of, load_checkpoints, register


@register
class SoftmaxInvariant(ProbeCommand):
    name = "softmax-invariant"
    help = "does the mean logit (invisible in the softmax) predict the image's brightness, contrast, features?"
    heading = "Probe: what the logits hold beyond the softmax"
    about = (
        "Adding a constant to every logit leaves the softmax unchanged, so the mean logit is invisible to anyone "
        "who sees only probabilities. Linear read-outs fitted on training images and scored by R^2 on test images "
        "ask how much of each image the mean logit predicts, alone and on top of the log-softmax, against "
        "a shuffled control."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--classifier", nargs="+", required=True, help="one or more checkpoints (standard, robust)")
        parser.add_argument(
            "--evaluator", help="an independent classifier checkpoint: its features become a target too (optional)"
        )
        parser.add_argument(
            "--train-images", type=integer(2), default=10000, help="training images the read-outs are fitted on"
        )
        parser.add_argument("--limit", type=integer(2), default=10000, help="test images they are scored on")
        parser.add_argument(
            "--bootstrap", type=integer(10), default=1000, help="bootstrap resamples per interval (default 1000)"
        )
        parser.add_argument("--batch-size", type=integer(1), default=500, help="images per batch (default 500)")

    def run(self, args: argparse.Namespace) -> Result:
        data = self.data(args)
        device = device_of(args)
        models = load_checkpoints(args.classifier, data.channels, device)
        evaluator = load_evaluator(args.evaluator, data.classes, data.channels, device, required=False)
        train_idx = first_indices(len(data.train), args.train_images)
        test_idx = first_indices(len(data.test), args.limit)
        train_logits, train_targets = softmax_invariant.image_targets(
            models, evaluator, data.train, train_idx, args.batch_size, device
        )
        test_logits, test_targets = softmax_invariant.image_targets(
            models, evaluator, data.test, test_idx, args.batch_size, device
        )
        results = {
            name: softmax_invariant.read_outs(
                train_logits[name], train_targets, test_logits[name], test_targets, samples=args.bootstrap
            )
            for name in models
        }
        return Result({"results": results, "train_images": len(train_idx), "test_images": len(test_idx)})

    def write(self, result: Result, args: argparse.Namespace, out: Output) -> str:
        r = result.numbers

        def cell(v: dict, key: str) -> str:
            return v[key].cell("{:+.3f}")

        def verdict(v: dict) -> str:
            low, high = v["gain"].interval
            return "the mean logit adds" if low > 0 else ("no evidence of a gain" if high >= 0 else "worse")

        rows = [
            [
                name,
                target,
                cell(v, "mean logit"),
                cell(v, "shuffled mean logit"),
                cell(v, "log-softmax"),
                cell(v, "log-softmax + mean logit"),
                cell(v, "gain"),
                cell(v, "shuffled gain"),
                verdict(v),
            ]
            for name, targets in r["results"].items()
            for target, v in targets.items()
        ]
        text = (
            f"R^2 of linear read-outs fitted on {r['train_images']} training images and scored on {r['test_images']} "
            "test images (95% bootstrap intervals over test images). 'gain' is what the mean logit, invisible in "
            "the softmax, adds to the log-softmax; 'shuffled gain' is the same with another image's mean logit, "
            "the control.\n\n"
            + table(
                [
                    "classifier",
                    "target",
                    "mean logit",
                    "shuffled mean logit",
                    "log-softmax",
                    "log-softmax + mean logit",
                    "gain",
                    "shuffled gain",
                    "verdict",
                ],
                rows,
            )
        )
        (out / "softmax_invariant.md").write_text(text)
        return text + f"{out.path}"
