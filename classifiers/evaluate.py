"""Measure a classifier's clean and PGD robust test accuracy, print them, and store them in its metadata.

    python -m classifiers.evaluate runs/classifiers/fmnist_resnet18_robust/classifier.safetensors
    python -m classifiers.evaluate CKPT --norm l2 --eps 0.5 --steps 20 --samples 1000

The attack defaults to the one the classifier was trained against (its metadata), else to the
data set's usual threat model (`classifiers.attacks.default_threat`: L-inf 0.1 for Fashion-MNIST,
L2 0.5 for CIFAR). Results land in the checkpoint's metadata under `evaluation` (the file is
rewritten atomically).
"""

from __future__ import annotations

import argparse
import sys

from accelerate import Accelerator

from infra.cli import Parser, integer, number
from infra.config import to_dict
from infra.datasets import DataConfig, load_data
from infra.devices import mixed_precision
from infra.errors import UserError, report_user_errors

from .accuracy import accuracy
from .attacks import default_threat, pgd_config
from .checkpoint import load_classifier_checkpoint, update_metadata


def main(argv: list[str] | None = None) -> int:
    p = Parser(
        prog="python -m classifiers.evaluate",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1],
    )
    p.add_argument("checkpoint", help="a project classifier checkpoint (.safetensors)")
    p.add_argument("--norm", choices=["linf", "l2"], help="PGD norm (default: from the metadata or the data set)")
    p.add_argument("--eps", type=number(at_least=0), help="PGD radius in [0, 1] pixel units")
    p.add_argument("--steps", type=integer(1), default=20, help="PGD steps (default 20)")
    p.add_argument(
        "--step-size", type=number(above=0), help="PGD step in [0, 1] pixel units (default 2.5 * eps / steps)"
    )
    p.add_argument("--samples", type=integer(0), default=0, help="attack only the first N test images (default: all)")
    p.add_argument("--batch-size", type=integer(1), default=512, help="images per batch (default 512)")
    p.add_argument("--data", help="data set name (default: the one in the metadata)")
    p.add_argument("--data-root", default="data", help="where the data set lives (default: data)")
    p.add_argument("--no-store", action="store_true", help="print only; leave the checkpoint unchanged")
    args = p.parse_args(argv)

    def work() -> int:
        model, info, meta = load_classifier_checkpoint(args.checkpoint)
        data_name = args.data or meta.get("data")
        if not data_name:
            raise UserError("the checkpoint does not name its data set; pass --data")
        trained = meta.get("adversarial") or {}
        norm, eps = default_threat(data_name)
        norm = args.norm or trained.get("norm") or norm
        eps = args.eps if args.eps is not None else trained.get("eps", eps)
        attack = pgd_config(norm, eps, args.steps, step_size=args.step_size)
        data = load_data(DataConfig(name=data_name, root=args.data_root, resolution=meta.get("resolution") or 32))
        acc = Accelerator(mixed_precision=mixed_precision("auto"))
        model = acc.prepare_model(model.eval(), evaluation_mode=True)
        limit = args.samples or None
        clean = accuracy(model, data.test, args.batch_size, acc, limit=limit)
        robust = accuracy(model, data.test, args.batch_size, acc, attack=attack, limit=limit, desc="PGD")
        n = min(limit or len(data.test), len(data.test))
        result = {"clean_accuracy": clean, "robust_accuracy": robust, "attack": {**to_dict(attack), "samples": n}}
        if acc.is_main_process:
            print(
                f"clean accuracy {clean:.4f}, PGD-{attack.steps} {norm} eps {eps} robust accuracy {robust:.4f} "
                f"({n} test images)"
            )
            if not args.no_store:
                update_metadata(args.checkpoint, {"evaluation": result})
                print(f"stored under 'evaluation' in {args.checkpoint}")
        return 0

    return report_user_errors(work)


if __name__ == "__main__":
    sys.exit(main())
