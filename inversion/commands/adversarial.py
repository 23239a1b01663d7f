"""`evaluate.py adversarial`: PGD on the inverted classifier, and fidelity of correct vs wrong images."""

from __future__ import annotations

import argparse
import dataclasses

from classifiers.attacks import default_threat, pgd_config
from infra.cli import integer, number
from infra.estimate import Estimate

from ..evaluation.adversarial import MODES, attack_reconstructions, correctness_masks
from ..evaluation.fidelity import collect, inverter_reconstruct
from ..evaluation.scoring import first_indices, load_evaluator
from ..presentation.images import table_grid
from ..presentation.tables import fidelity_table, table
from .base import (
    Command,
    Output,
    Result,
    add_evaluator_argument,
    add_fidelity_arguments,
    fidelity_columns,
    open_run,
    register,
)


@register
class Adversarial(Command):
    name = "adversarial"
    help = (
        "PGD on the inverted classifier: whose class does the reconstruction show? Plus fidelity of correct vs "
        "wrong images"
    )
    heading = "Adversarial inputs, and correctly vs wrongly classified images"
    about = (
        "PGD changes test images slightly until the inverted classifier changes its answer; the reconstruction "
        "from the adversarial logits shows what those logits carry. Below, the fidelity table split by whether "
        "the classifier got each image right."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_evaluator_argument(parser)
        add_fidelity_arguments(parser)
        parser.set_defaults(limit=1000, noise_draws=0)
        parser.add_argument("--norm", choices=["linf", "l2"], help="default: L-inf for Fashion-MNIST, L2 for CIFAR")
        parser.add_argument("--eps", type=number(at_least=0), help="radius in [0, 1] pixel units (default 0.1 / 0.5)")
        parser.add_argument("--steps", type=integer(1), default=20, help="PGD steps (default 20)")
        parser.add_argument("--examples", type=integer(1), default=8, help="example rows in the picture (default 8)")

    def run(self, args: argparse.Namespace) -> Result:
        inverter, data = open_run(args)
        evaluator = load_evaluator(args.evaluator, inverter.meta["classes"], inverter.channels, inverter.device)
        norm, eps = default_threat(inverter.config.data.name)
        attack = pgd_config(args.norm or norm, args.eps if args.eps is not None else eps, args.steps)
        indices = first_indices(len(data.test), args.limit)
        summary, examples = attack_reconstructions(
            inverter, evaluator, data.test, indices, attack, args.batch_size, args.examples
        )
        collected = collect(
            inverter_reconstruct(inverter),
            inverter.classifier,
            evaluator,
            data.test,
            indices,
            noise_draws=0,
            batch_size=args.batch_size,
            device=inverter.device,
            desc="subsets",
            border=data.border,
        )
        subsets = fidelity_columns(
            collected,
            args,
            correctness_masks(collected.labels, collected.classifier_pred),
            evaluator=evaluator,
            data=data,
            device=inverter.device,
        )
        return Result(
            {"attacks": summary, "attack": dataclasses.asdict(attack), "subsets": subsets}, {"examples": examples}
        )

    def write(self, result: Result, args: argparse.Namespace, out: Output) -> str:
        r, attack = result.numbers, result.numbers["attack"]

        def share(value: Estimate) -> str:
            return value.cell("{:.1%}", missing="n/a")

        rows = [
            [
                mode,
                str(v["attacked"]),
                share(v["attack_success"]),
                str(v["successes"]),
                share(v["recon_is_source"]),
                share(v["recon_is_adversary"]),
            ]
            for mode, v in ((m, r["attacks"][m]) for m in MODES)
        ]
        errors = r["attacks"]["clean_errors"]
        text = (
            f"PGD on the inverted classifier ({attack['norm']}, eps {attack['eps']:g}, {attack['steps']} steps), on "
            f"the {r['attacks']['clean_correct']} of {r['attacks']['images']} test images it classifies correctly "
            "when clean (an image it already gets wrong would count as a success with no attack at all); targeted "
            "attacks aim at a random class other than the label. The evaluator judges G(phi(x_adv)) for the "
            "successful attacks. Shares with 95% Wilson intervals.\n\n"
            + table(
                [
                    "attack",
                    "images attacked",
                    "attack success",
                    "successes",
                    "recon shows source class",
                    "recon shows adversary's class",
                ],
                rows,
            )
            + f"\nThe {errors['images']} clean errors, not attacked: the reconstruction from their clean logits shows "
            f"the true class for {share(errors['recon_is_label'])} and the classifier's wrong class for "
            f"{share(errors['recon_is_prediction'])}.\n"
        )
        subsets = "Fidelity by whether the inverted classifier got the image right:\n\n" + fidelity_table(r["subsets"])
        labels = ["x", "x_adv", "G(phi(x))", "G(phi(x_adv))"]
        if result.pictures["examples"] is None:  # the classifier got every image wrong: nothing was attacked
            (out / "adversarial.md").write_text(text)
            (out / "subsets.md").write_text(subsets)
            return text + "\n" + subsets + f"\n{out.path}"
        grid = table_grid(result.pictures["examples"], title="x | x_adv | G(phi(x)) | G(phi(x_adv))", col_labels=labels)
        caption = (
            "Each row is one test image: x, its untargeted PGD version x_adv (the change is small in pixels), and "
            "the reconstructions from the logits of each. Whose class the last column shows is what the "
            "adversarial logits carry."
        )
        out.picture("examples.png", grid, caption)
        (out / "adversarial.md").write_text(text)
        (out / "subsets.md").write_text(subsets)
        return text + "\n" + subsets + f"\n{out.path}"
