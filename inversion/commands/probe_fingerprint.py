"""`evaluate.py probe fingerprint`: which of N networks produced a logit vector?"""

from __future__ import annotations

import argparse

import torch

from classifiers.architectures import SMALL_CNN_FAMILIES
from infra.cli import integer, number

from ..presentation import plots
from ..presentation.tables import table
from ..probes import fingerprint
from .base import Output, ProbeCommand, Result, load_checkpoints, register


@register
class Fingerprint(ProbeCommand):
    name = "fingerprint"
    help = "which of N networks produced a logit vector? SVMs on raw / normalised logits"
    heading = "Probe: which network produced these logits?"
    about = (
        "An SVM learns to tell which of several networks produced a logit vector (Borji 2022): well above "
        "chance means logits carry a fingerprint of the network, not only the class."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        families = ", ".join(f"{name} ({' '.join(archs)})" for name, archs in SMALL_CNN_FAMILIES.items())
        parser.add_argument(
            "--family",
            nargs="+",
            required=True,
            help=f"a family of small CNNs trained here: {families}; or classifier checkpoints",
        )
        parser.add_argument(
            "--epochs", type=number(above=0), default=1.0, help="training epochs of each family member (default 1)"
        )
        parser.add_argument(
            "--train-logits", type=integer(10), default=2000, help="training images per network for the SVM"
        )
        parser.add_argument("--test-logits", type=integer(1), default=1000, help="test images per network")

    def run(self, args: argparse.Namespace) -> Result:
        data = self.data(args)
        settings = fingerprint.FingerprintSettings(
            epochs=args.epochs, train_logits=args.train_logits, test_logits=args.test_logits
        )
        if len(args.family) == 1 and args.family[0] in SMALL_CNN_FAMILIES:
            family = args.family[0]
            names = SMALL_CNN_FAMILIES[family]
            nets = fingerprint.family_networks(family, data, settings, seed=0)
            transfer = fingerprint.family_networks(family, data, settings, seed=1)
            random_nets = fingerprint.family_networks(family, data, settings, seed=0, trained=False)
        else:
            frozen = load_checkpoints(args.family, data.channels, torch.device("cpu"))
            names, nets, transfer = list(frozen), list(frozen.values()), None
            torch.manual_seed(0)
            random_nets = [fingerprint.random_twin(p, n.num_classes, data.channels) for p, n in zip(args.family, nets)]
        results = fingerprint.run(nets, data, settings, transfer_nets=transfer, random_nets=random_nets)
        return Result({"networks": names, **results})

    def write(self, result: Result, args: argparse.Namespace, out: Output) -> str:
        r = result.numbers
        plots.fingerprint_curve(
            r,
            out.plot(
                "accuracy_vs_size.png",
                "Test accuracy of each SVM and input against "
                "the number of training logits per network; the dashed line is chance.",
            ),
        )
        header = ["SVM / input", "trained"]
        header += ["transfer to other seeds"] if "transfer" in r else []
        header += ["random-init networks"] if "random_init" in r else []
        rows = []
        for key, value in r["accuracy"].items():
            row = [key, f"{value:.1%}"]
            row += [f"{r['transfer'][key]:.1%}"] if "transfer" in r else []
            row += [f"{r['random_init'][key]:.1%}"] if "random_init" in r else []
            rows.append(row)
        text = f"Networks: {', '.join(r['networks'])}; chance {r['chance']:.1%}.\n\n" + table(header, rows)
        (out / "fingerprint.md").write_text(text)
        return text + f"\n{out.path}"
