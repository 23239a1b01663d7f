"""Convert a classifier once into this project's safetensors format (no pickle, no code on load).

    python -m classifiers.convert robustness:resnet50 imagenet_linf_4.pt --out robust_r50.safetensors --trust-checkpoint
    python -m classifiers.convert robustness:cifar_resnet50 cifar_l2_0_5.pt --out robust_c10.safetensors
    python -m classifiers.convert timm:resnet152 --out r152.safetensors        # timm's pretrained weights

MadryLab's robustness files are named by the library's architecture names: `cifar_<arch>` for its
CIFAR models, `<arch>` for its ImageNet ones (classifiers/robustness_architectures.py lists them).
"""

from __future__ import annotations

import argparse
import sys

from infra.cli import Parser
from infra.errors import UserError, report_user_errors

from .checkpoint import save_classifier
from .config import ClassifierConfig
from .load import load_classifier


def project_arch(name: str) -> str:
    """The architecture name the project format records for a classifier source."""
    kind, _, arch = name.partition(":")
    if kind == "robustness":
        # The project's own CIFAR ResNet-18 has the library's module names (and the probes' `stages`).
        return "resnet18" if arch.lower() == "cifar_resnet18" else name
    if kind in ("timm", "torchvision"):
        return name
    raise UserError(f"cannot convert {name!r}: give robustness:<arch>, timm:<name> or torchvision:<name>")


def main(argv: list[str] | None = None) -> int:
    p = Parser(
        prog="python -m classifiers.convert",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1],
    )
    p.add_argument("source", help="robustness:<arch>, timm:<name> or torchvision:<name>")
    p.add_argument("checkpoint", nargs="?", help="the weights file (required for robustness:; optional otherwise)")
    p.add_argument("--out", required=True, help="the .safetensors file to write")
    p.add_argument(
        "--trust-checkpoint",
        action="store_true",
        help="allow a pickled file that executes code on load (only for files from a trusted source)",
    )
    args = p.parse_args(argv)

    def work() -> int:
        cfg = ClassifierConfig(name=args.source, checkpoint=args.checkpoint, trust_checkpoint=args.trust_checkpoint)
        arch = project_arch(args.source)
        frozen = load_classifier(cfg, data_channels=3)
        cifar_resnet = arch == "resnet18" or arch.lower().startswith("robustness:cifar_resnet")
        width = frozen.model.conv1.weight.shape[0] if cifar_resnet else None
        save_classifier(
            args.out,
            frozen.model,
            arch,
            width,
            frozen.info,
            {"converted_from": frozen.info.source, "resolution": frozen.info.input_size},
        )
        print(
            f"wrote {args.out} ({arch}, {frozen.info.num_classes} classes, input {frozen.info.input_size} px, "
            f"mean {frozen.info.mean}, std {frozen.info.std})"
        )
        return 0

    return report_user_errors(work)


if __name__ == "__main__":
    sys.exit(main())
