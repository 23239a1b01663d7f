"""Continue a finished training run in a new folder, leaving the original as it is.

    python experiments/continue_run.py runs/reference/wide-robust-seed0 runs/wide-robust-longer train.max_steps=21000
    python train.py --resume runs/wide-robust-longer       # or --train above: copy, then train on at once

The new folder gets the original's newest complete checkpoint, its kept snapshots (so that an
identification curve covers the whole run), its stats and its log, and its config with the new
folder's name and the given `train.*` settings. Nothing in training depends on `train.max_steps` but
where the loop ends, and a resume is exact on a CPU (tests/test_faults.py), so the continued run is
the run a longer `train.max_steps` would have given from the start, at the cost of the extra steps
only. `train.py --resume` on the original would do the same but change the original's snapshot, which
its scores were made from.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from infra.checkpoints import list_checkpoints  # noqa: E402
from infra.cli import Parser  # noqa: E402
from infra.config import load_config, read_yaml  # noqa: E402
from infra.errors import UserError, report_user_errors  # noqa: E402
from infra.runs import CONFIG_FILE, check_run_name, write_config  # noqa: E402
from inversion.config import Config  # noqa: E402

COPIED = ("stats.jsonl", "log.txt", "snapshot.safetensors")  # besides the checkpoint and the kept snapshots


def continue_run(source: Path, target: Path, overrides: list[str]) -> tuple[Path, Config]:
    """Make `target` a copy of `source`'s state at its newest checkpoint, with `overrides` (train.* only)
    in its config; returns the checkpoint copied and the new config. `train.py --resume target` trains on."""
    source, target = Path(source), Path(target)
    if not (source / CONFIG_FILE).is_file():
        raise UserError(f"{source} is not a run folder (no {CONFIG_FILE})")
    checkpoints = list_checkpoints(source)
    if not checkpoints:
        raise UserError(
            f"{source} has no complete checkpoint to continue from (a run put back from a ledger keeps none): "
            "train it again first"
        )
    if target.exists() and any(target.iterdir()):
        raise UserError(f"{target} already exists and is not empty; pick another folder")
    wrong = [o for o in overrides if not o.startswith("train.")]
    if wrong:
        raise UserError(f"only train.* settings can change when a run continues, not {', '.join(wrong)}")
    config = load_config(Config, None, overrides, base=read_yaml(source / CONFIG_FILE))
    config.name, config.runs_dir = check_run_name(target.name), str(target.parent)
    newest = checkpoints[-1]
    target.mkdir(parents=True, exist_ok=True)
    write_config(target, config)
    # Copied under another name, then renamed: cut off midway, no half checkpoint looks like one.
    staging = target / "checkpoints" / f".copying-{newest.name}"
    shutil.copytree(newest, staging)
    os.replace(staging, target / "checkpoints" / newest.name)
    if (source / "snapshots").is_dir():
        shutil.copytree(source / "snapshots", target / "snapshots")
    for name in COPIED:
        if (source / name).is_file():
            shutil.copyfile(source / name, target / name)
    with open(target / "log.txt", "a") as log:
        settings = " ".join(overrides) or "no changed settings"
        log.write(f"continued from {source} at its checkpoint {newest.name}, with {settings}\n")
    return newest, config


def main(argv: list[str] | None = None) -> int:
    p = Parser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("source", help="the finished run folder to continue (left as it is)")
    p.add_argument("target", help="the new run folder (must not exist, or be empty)")
    p.add_argument("overrides", nargs="*", help="train.* settings that change, e.g. train.max_steps=21000")
    p.add_argument("--train", action="store_true", help="then train on at once (train.py --resume TARGET)")
    args = p.parse_args(argv)

    def work() -> int:
        newest, config = continue_run(Path(args.source), Path(args.target), args.overrides)
        resume = [sys.executable, str(ROOT / "train.py"), "--resume", str(args.target)]
        print(
            f"{args.target}: {newest.name} of {args.source}, to train.max_steps={config.train.max_steps}; "
            f"train on with: python train.py --resume {args.target}",
            flush=True,
        )
        return subprocess.run(resume).returncode if args.train else 0

    return report_user_errors(work)


if __name__ == "__main__":
    sys.exit(main())
