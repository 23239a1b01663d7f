"""Train a logit-conditioned BigGAN inverter.

    accelerate launch train.py --config configs/fmnist.yaml classifier.checkpoint=PATH
    accelerate launch --multi_gpu --num_processes 8 train.py --config configs/imagenet64.yaml
    accelerate launch train.py --resume runs/fmnist          # continue where it stopped
    python train.py --config configs/tiny.yaml --dry-run     # print the resolved config
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from inversion.config import Config, dump_yaml, load_config, read_yaml, to_dict
from inversion.errors import UserError

# Sections that fix the networks' shapes or the meaning of their inputs: a resumed run must keep them.
FROZEN_ON_RESUME = {"model": None, "classifier": None, "data": ("name", "resolution", "synthetic_channels", "synthetic_classes")}


def _changed(saved: dict, new: dict) -> list[str]:
    diffs = []
    for section, keys in FROZEN_ON_RESUME.items():
        old_s, new_s = saved.get(section, {}), new.get(section, {})
        for key in keys or sorted(set(old_s) | set(new_s)):
            if old_s.get(key) != new_s.get(key):
                diffs.append(f"{section}.{key}: {old_s.get(key)!r} -> {new_s.get(key)!r}")
    return diffs


def resolve(args: argparse.Namespace) -> tuple[Config, Path, bool]:
    """The config, the run folder, and whether this continues an earlier run."""
    if args.resume:
        run_dir = Path(args.resume)
        saved_path = run_dir / "config.yaml"
        if not saved_path.is_file():
            raise UserError(f"{run_dir} is not a run folder (no config.yaml); give the folder train.py created")
        saved = read_yaml(saved_path)
        cfg = load_config(Config, args.config, args.overrides, base=None if args.config else saved)
        cfg.name, cfg.runs_dir = saved.get("name", run_dir.name), str(run_dir.parent)
        diffs = _changed(saved, to_dict(cfg))
        if diffs:
            raise UserError("cannot resume with a changed model, classifier or data config (the checkpoint's "
                            "networks would not match): " + "; ".join(diffs) + ". Start a new run instead")
        return cfg, run_dir, True
    if not args.config:
        raise UserError("give --config configs/<x>.yaml for a new run, or --resume RUN_DIR to continue one")
    cfg = load_config(Config, args.config, args.overrides)
    if not cfg.name:
        cfg.name = Path(args.config).stem
    return cfg, Path(cfg.runs_dir) / cfg.name, False


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description="Train a BigGAN-style generator to rebuild images from a frozen classifier's logits, "
                    "against a projection discriminator (Teterwak et al., ICML 2021). Run it under "
                    "`accelerate launch` for GPUs and multi-process training; plain `python` uses one device.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Every config key can be overridden as key=value with a dotted path, e.g.\n"
               "  train.max_steps=2000 train.batch_size=128 model.g.ch=64 classifier.checkpoint=ckpt.safetensors\n"
               "An unknown key is an error that lists the valid ones. Defaults: inversion/config.py.",
    )
    p.add_argument("--config", help="YAML file with the settings that differ from the defaults (configs/*.yaml)")
    p.add_argument("--resume", metavar="RUN_DIR",
                   help="continue the run in RUN_DIR from its newest complete checkpoint: same optimisers, EMA, "
                        "step, data position and random state; overrides may change train.* settings only")
    p.add_argument("--dry-run", action="store_true", help="print the resolved config and the run folder, then exit")
    p.add_argument("overrides", nargs="*", metavar="key=value", help="config overrides, e.g. train.max_steps=100")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        cfg, run_dir, resume = resolve(args)
        if args.dry_run:
            print(f"# run folder: {run_dir}{' (resume)' if resume else ''}")
            print(dump_yaml(cfg), end="")
            return 0
        from inversion.trainer import train

        train(cfg, run_dir, resume=resume)
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    from accelerate import PartialState

    if PartialState().is_main_process:
        print(f"done: snapshot {run_dir / 'snapshot.safetensors'}, grids in {run_dir / 'samples'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
