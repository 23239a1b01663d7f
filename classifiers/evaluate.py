"""Measure a classifier's clean, PGD and AutoAttack robust test accuracy and print them; store them in its
metadata only when asked (--write-metadata).

    python -m classifiers.evaluate runs/classifiers/fmnist_resnet18_robust/classifier.safetensors
    python -m classifiers.evaluate CKPT --norm l2 --eps 0.5 --steps 20 --samples 1000

The threat model defaults to the one the classifier was trained against (its metadata), else to the
data set's usual one (`classifiers.attacks.default_threat`: L-inf 0.1 for Fashion-MNIST, L2 0.5 for
CIFAR). Two attacks within it: PGD (`--steps`, single restart, step 2.5 eps / steps), and AutoAttack's
APGD-CE then APGD-T (`--autoattack-steps`, `classifiers/autoattack.py`; 0 skips it), which finds
what a fixed-step PGD misses. Robust accuracies carry Wilson's 95% interval. Evaluating never changes
its input: with --write-metadata the result lands in the checkpoint's metadata under `evaluation` (the
file rewritten atomically), and an evaluation on more test images already there is kept unless --force.
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
from infra.estimate import wilson

from .accuracy import accuracy
from .attacks import default_threat, pgd_config
from .autoattack import autoattack_accuracy
from .checkpoint import load_classifier_checkpoint, update_metadata


def binomial_interval(share: float, n: int) -> list[float]:
    """Wilson's 95% interval of a share of n test images (stored in the checkpoint's metadata as a list)."""
    return list(wilson(round(share * n), n).interval)


def interval_text(interval: list[float]) -> str:
    return f"[{interval[0]:.4f}, {interval[1]:.4f}]"


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
    p.add_argument(
        "--autoattack-steps",
        type=integer(0),
        default=100,
        help="APGD-CE and APGD-T steps (default 100, AutoAttack's; 0 skips AutoAttack)",
    )
    p.add_argument("--samples", type=integer(0), default=0, help="attack only the first N test images (default: all)")
    p.add_argument("--batch-size", type=integer(1), default=512, help="images per batch (default 512)")
    p.add_argument("--data", help="data set name (default: the one in the metadata)")
    p.add_argument("--data-root", default="data", help="where the data set lives (default: data)")
    p.add_argument(
        "--write-metadata",
        action="store_true",
        help="also store the result in the checkpoint's metadata (under 'evaluation'); without it the file is "
        "never changed",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="with --write-metadata: replace a stored evaluation on more test images than this one",
    )
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
        result = {
            "clean_accuracy": clean,
            "robust_accuracy": robust,
            "robust_accuracy_ci": binomial_interval(robust, n),
            "attack": {**to_dict(attack), "samples": n},
        }
        lines = [
            f"clean accuracy {clean:.4f}; {norm} eps {eps:g} robust accuracy on {n} test images:",
            f"  PGD-{attack.steps}: {robust:.4f} {interval_text(result['robust_accuracy_ci'])}",
        ]
        if args.autoattack_steps:
            auto = autoattack_accuracy(
                model, data.test, args.batch_size, acc, norm, eps, steps=args.autoattack_steps, limit=limit
            )
            result["autoattack"] = {
                "attacks": "APGD-CE, then APGD-T on the survivors (torchattacks)",
                "steps": args.autoattack_steps,
                "norm": norm,
                "eps": eps,
                "samples": auto["images"],
                "apgd_ce_accuracy": auto["apgd_ce_accuracy"],
                "robust_accuracy": auto["robust_accuracy"],
                "robust_accuracy_ci": binomial_interval(auto["robust_accuracy"], auto["images"]),
            }
            lines += [
                f"  APGD-CE-{args.autoattack_steps}: {auto['apgd_ce_accuracy']:.4f}",
                f"  APGD-CE + APGD-T ({args.autoattack_steps} steps each): {auto['robust_accuracy']:.4f} "
                + interval_text(result["autoattack"]["robust_accuracy_ci"]),
            ]
        if acc.is_main_process:
            print("\n".join(lines))
            if args.write_metadata:
                stored = (meta.get("evaluation") or {}).get("attack", {}).get("samples", 0)
                if stored > n and not args.force:
                    raise UserError(
                        f"{args.checkpoint} already holds an evaluation on {stored} test images, more than these {n}; "
                        f"pass --force to replace it"
                    )
                update_metadata(args.checkpoint, {"evaluation": result})
                print(f"stored under 'evaluation' in {args.checkpoint}")
        return 0

    return report_user_errors(work)


if __name__ == "__main__":
    sys.exit(main())
