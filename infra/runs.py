"""Run folders, shared by the inverter's trainer (`train.py`) and the classifiers' (`classifiers.train`).

A run folder `<runs_dir>/<name>/` holds the resolved `config.yaml`, `stats.jsonl` (one JSON line per
log step), TensorBoard events in `tb/`, and `checkpoints/` (see `infra.checkpoints`); the trainer
adds its own final artefact (a snapshot, a classifier checkpoint).

- `add_run_arguments` gives an entry point its `--config`, `--resume`, `--dry-run` and overrides;
- `plan_run` turns them into the config, the folder and whether the run continues: a resumed run
  keeps the settings that fix its networks' shapes (the trainer names them), while anything else
  may change;
- `ensure_new_run`: a new run never writes into a folder that already holds one;
- `RunLog` is what the main process writes while training: the config, the stats, TensorBoard
  scalars and images, and the progress bar.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from torch.utils.tensorboard import SummaryWriter

from .checkpoints import list_checkpoints
from .config import dump_yaml, load_config, read_yaml, to_dict
from .errors import UserError
from .progress import progress

T = TypeVar("T")
CONFIG_FILE = "config.yaml"


def add_run_arguments(parser: argparse.ArgumentParser, config_help: str, resume_help: str) -> None:
    parser.add_argument("--config", help=config_help)
    parser.add_argument("--resume", metavar="RUN_DIR", help=resume_help)
    parser.add_argument(
        "--dry-run", action="store_true", help="print the resolved config and the run folder, then exit"
    )
    parser.add_argument(
        "--accept-old-marker",
        action="store_true",
        help="with --resume: accept a newest checkpoint whose COMPLETE marker is of the project's first format (it "
        "lists no files, so nothing in it can be verified) and record its files as they are now",
    )
    parser.add_argument(
        "overrides", nargs="*", metavar="key=value", help="config overrides with dotted keys, e.g. train.max_steps=100"
    )


@dataclass
class RunPlan(Generic[T]):
    config: T
    run_dir: Path
    resume: bool
    accept_old_marker: bool = False

    def describe(self) -> str:
        """The --dry-run output: the folder, then the resolved config."""
        return f"# run folder: {self.run_dir}{' (resume)' if self.resume else ''}\n{dump_yaml(self.config)}"


def _flatten(data: Any, prefix: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        return {prefix: data}
    out = {}
    for key, value in data.items():
        out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return out


def _select(data: dict, dotted: str) -> Any:
    node: Any = data
    for part in dotted.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def changed_settings(saved: dict, new: dict, frozen: tuple[str, ...]) -> list[str]:
    """`key: old -> new` for every setting under the `frozen` dotted paths that differs."""
    diffs = []
    for path in frozen:
        old, now = _flatten(_select(saved, path), path), _flatten(_select(new, path), path)
        for key in sorted(set(old) | set(now)):
            if old.get(key) != now.get(key):
                diffs.append(f"{key}: {old.get(key)!r} -> {now.get(key)!r}")
    return diffs


RUN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+=-]{0,99}")


def check_run_name(name: str) -> str:
    """A run name is one plain folder name under the runs folder: letters, digits and `._+=-`, at most 100
    characters (no path separator, no space or newline that a shell command would split or hide)."""
    if not RUN_NAME.fullmatch(name or ""):
        raise UserError(
            f"name={name!r} must be a single folder name of letters, digits and . _ + = - (at most 100 "
            f"characters, starting with a letter or digit): the run goes to <runs_dir>/<name>"
        )
    return name


def plan_run(
    schema: type[T],
    args: argparse.Namespace,
    frozen: tuple[str, ...],
    frozen_reason: str,
    default_name: Callable[[T], str] | None = None,
) -> RunPlan[T]:
    """The config, the run folder and whether it continues an earlier run, from `add_run_arguments`' args.

    New run: defaults, then `--config`, then the overrides; `name` defaults to `default_name(config)`
    and the folder is `<runs_dir>/<name>`; without `default_name`, a new run needs `--config`.
    Resume: the folder's saved config (or `--config`, if given), then the overrides; the settings
    under `frozen` must equal the saved ones, because of `frozen_reason`.
    """
    if args.resume:
        run_dir = Path(args.resume)
        saved_path = run_dir / CONFIG_FILE
        if not saved_path.is_file():
            raise UserError(f"{run_dir} is not a run folder (no {CONFIG_FILE}); give the folder the trainer created")
        saved = read_yaml(saved_path)
        try:
            load_config(schema, base=saved)
        except UserError as err:
            raise UserError(f"{saved_path} is not a config of this trainer's runs ({err})") from err
        config = load_config(schema, args.config, args.overrides, base=None if args.config else saved)
        config.name, config.runs_dir = check_run_name(saved.get("name") or run_dir.name), str(run_dir.parent)
        diffs = changed_settings(saved, to_dict(config), frozen)
        if diffs:
            raise UserError(
                f"cannot resume with a changed {frozen_reason}: " + "; ".join(diffs) + ". Start a new run instead"
            )
        return RunPlan(config, run_dir, True, bool(getattr(args, "accept_old_marker", False)))
    if getattr(args, "accept_old_marker", False):
        raise UserError("--accept-old-marker goes with --resume RUN_DIR (it concerns an existing checkpoint)")
    if not args.config and default_name is None:
        raise UserError("give --config <file>.yaml for a new run, or --resume RUN_DIR to continue one")
    config = load_config(schema, args.config, args.overrides)
    if not config.name:
        config.name = Path(args.config).stem if args.config else default_name(config)
    return RunPlan(config, Path(config.runs_dir) / check_run_name(config.name), False)


def ensure_new_run(run_dir: Path, final_file: str) -> None:
    """A new run never writes into a folder that already holds one (a checkpoint or its `final_file`)."""
    run_dir = Path(run_dir)
    if list_checkpoints(run_dir) or (run_dir / final_file).exists():
        raise UserError(
            f"{run_dir} already holds a run; continue it with `--resume {run_dir}` or pick another name (name=...)"
        )


def write_config(run_dir: Path, config: Any) -> None:
    """The run folder's resolved config.yaml, written first thing, so that even a run stopped during
    start-up can be started again from it."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / CONFIG_FILE).write_text(dump_yaml(config))


class RunLog:
    """The main process's writing into a run folder: config.yaml, stats.jsonl, TensorBoard and the bar.

    Other processes get one too, with `main=False`: it draws and writes nothing, so the training loop
    needs no `if main` around its logging.
    """

    def __init__(self, run_dir: Path, config: Any, total: int, initial: int, desc: str, main: bool):
        """`initial` is the step the run starts from: 0 for a new run, whose folder may hold only what
        a start that never reached a checkpoint left (stats, TensorBoard events, grids), cleared here."""
        self.run_dir, self.main = Path(run_dir), main
        self.bar = progress(total=total, initial=initial, desc=desc, disable=not main)
        self.writer = self._stats = None
        if main:
            write_config(self.run_dir, config)
            if initial == 0:
                shutil.rmtree(self.run_dir / "tb", ignore_errors=True)
                shutil.rmtree(self.run_dir / "samples", ignore_errors=True)
            self.writer = SummaryWriter(str(self.run_dir / "tb"))
            self._stats = open(self.run_dir / "stats.jsonl", "a" if initial else "w")

    def scalars(self, step: int, record: dict[str, float], postfix: dict[str, str] | None = None) -> None:
        """One line of stats.jsonl, the same values as TensorBoard scalars, and the bar's postfix."""
        if not self.main:
            return
        for key, value in record.items():
            self.writer.add_scalar(key, value, step)
        self._stats.write(json.dumps({"step": step, **record}) + "\n")
        self._stats.flush()
        if postfix:
            self.bar.set_postfix(**postfix)
            self.note(f"step {step}: " + ", ".join(f"{k} {v}" for k, v in postfix.items()), console=False)

    def note(self, text: str, console: bool = True) -> None:
        """A line for the run's log.txt (with the time), and for the console unless `console` is False: the
        run folder keeps what was said about it."""
        if not self.main:
            return
        with open(self.run_dir / "log.txt", "a") as f:
            f.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {text}\n")
        if console:
            self.bar.write(text, file=sys.stderr)

    def summary(self, step: int, record: dict[str, float]) -> None:
        """Scalars for TensorBoard only (final results), not a line of stats.jsonl."""
        if self.main:
            for key, value in record.items():
                self.writer.add_scalar(key, value, step)

    def image(self, tag: str, image, step: int) -> None:
        if self.main:
            self.writer.add_image(tag, image, step)

    def advance(self, step: int) -> None:
        """Move the bar to `step`."""
        self.bar.update(step - self.bar.n)

    def close(self) -> None:
        self.bar.close()
        if self.main:
            self._stats.close()
            self.writer.close()

    def __enter__(self) -> RunLog:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
