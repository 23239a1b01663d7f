"""Train a logit-conditioned BigGAN inverter.

    accelerate launch train.py --config configs/fmnist.yaml classifier.checkpoint=PATH
    accelerate launch --multi_gpu --num_processes 8 train.py --config configs/imagenet64.yaml
    accelerate launch train.py --resume runs/fmnist          # continue where it stopped
    python train.py --config configs/tiny.yaml --dry-run     # print the resolved config

The settings are `inversion/config.py`'s; the run folder is runs/<name>/ (`infra/runs.py`).
"""

from __future__ import annotations

import argparse
import sys

from accelerate import PartialState

from infra.cli import Parser
from infra.errors import report_user_errors
from infra.runs import add_run_arguments, plan_run
from inversion.config import Config
from inversion.training.trainer import Interrupted, train

# Settings that fix the networks' shapes or the meaning of their inputs: a resumed run must keep them.
FROZEN_ON_RESUME = (
    "model",
    "classifier",
    "data.name",
    "data.resolution",
    "data.synthetic_channels",
    "data.synthetic_classes",
)


def parser() -> argparse.ArgumentParser:
    p = Parser(
        description="Train a BigGAN-style generator to rebuild images from a frozen classifier's logits, "
        "against a projection discriminator (Teterwak et al., ICML 2021). Run it under "
        "`accelerate launch` for GPUs and multi-process training; plain `python` uses one device.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Every config key can be overridden as key=value with a dotted path, e.g.\n"
        "  train.max_steps=2000 train.batch_size=128 model.g.ch=64 classifier.checkpoint=ckpt.safetensors\n"
        "An unknown key is an error that lists the valid ones. Defaults: inversion/config.py.",
    )
    add_run_arguments(
        p,
        config_help="YAML file with the settings that differ from the defaults (configs/*.yaml)",
        resume_help="continue the run in RUN_DIR from its newest complete checkpoint: same optimisers, EMA, step, "
        "data position and random state; overrides may change train.* settings only",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)

    def work() -> int:
        plan = plan_run(
            Config,
            args,
            frozen=FROZEN_ON_RESUME,
            frozen_reason="model, classifier or data config (the checkpoint's networks would not match)",
        )
        if args.dry_run:
            print(plan.describe(), end="")
            return 0
        # PartialState only after the trainer's Accelerator has set up the processes: made first, it would
        # fix a one-process state before accelerate reads the launcher's settings.
        resume = f"resume with: accelerate launch train.py --resume {plan.run_dir}"
        try:
            train(plan.config, plan.run_dir, resume=plan.resume, accept_old_marker=plan.accept_old_marker)
        except Interrupted as stop:
            if PartialState().is_main_process:
                print(f"stopped at step {stop.step}, checkpoint and snapshot written; {resume}", file=sys.stderr)
            return 130
        except KeyboardInterrupt:
            if PartialState().is_main_process:
                print(f"stopped at once; the newest complete checkpoint is kept; {resume}", file=sys.stderr)
            return 130
        if PartialState().is_main_process:
            print(f"done: snapshot {plan.run_dir / 'snapshot.safetensors'}, grids in {plan.run_dir / 'samples'}")
        return 0

    return report_user_errors(work)


if __name__ == "__main__":
    sys.exit(main())
