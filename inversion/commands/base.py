"""What every `evaluate.py` command shares: its interface, the registry, and the plumbing of loading.

A command is a `Command` subclass registered with `@register`:

- `add_arguments(parser)`: its options (shared groups below: run folder, device, evaluator, fidelity);
- `run(args) -> Result`: loads what it needs and calls the computation in `inversion.evaluation`,
  `inversion.baselines` or `inversion.probes`; the numbers it returns are what tests check;
- `write(result, args, out) -> str`: its Markdown tables and pictures in the `Output` folder `out`,
  through `inversion.presentation`, each picture with a caption; returns what the console shows;
- `heading` and `about`: the title and one-sentence explanation the HTML report shows.

`execute` runs both and writes `results.json`: the settings, the numbers, the heading, the captions
of the pictures and what was evaluated (the inverter and its classifier), which the report reads.
`evaluate.py` builds its command line from `REGISTRY` and dispatches to `execute`.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import torch

from classifiers import ClassifierConfig, FrozenClassifier, load_classifier
from classifiers.checkpoint import read_metadata
from infra.cli import integer
from infra.datasets import DataConfig, ImageData, load_data
from infra.devices import default_device
from infra.errors import UserError
from infra.estimate import Estimate, to_json
from infra.lock import FolderLock
from infra.outputs import staged

from ..evaluation.fidelity import Collected
from ..evaluation.scoring import (
    FidelitySettings,
    open_inverter,
    summarize_columns,
)
from ..inverter import Inverter, find_classifier
from ..presentation.images import save_image
from ..snapshot import SNAPSHOT, read_snapshot_meta, snapshot_file


@dataclass
class Result:
    """A command's outcome: `numbers` go to results.json (and tests); `pictures` only to `write`."""

    numbers: dict[str, Any]
    pictures: dict[str, Any] = field(default_factory=dict)


class Output:
    """A command's output folder: what it writes there, and a caption for each picture.

    `path` is the folder the user sees; the files go into `staging` inside it until the command has
    finished, then move into `path` together (`infra.outputs`)."""

    def __init__(self, path: Path, staging: Path | None = None):
        self.path, self.captions = Path(path), {}
        self.staging = Path(staging) if staging is not None else self.path

    def __truediv__(self, name: str) -> Path:
        return self.staging / name

    def picture(self, name: str, image, caption: str) -> Path:
        """Write a PNG (a PIL image, or a uint8 (C, H, W) tensor) and remember its caption; returns where
        it will be once the outputs are committed."""
        if isinstance(image, torch.Tensor):
            save_image(image, self / name)
        else:
            image.save(self / name)
        self.captions[name] = caption
        return self.path / name

    def plot(self, name: str, caption: str) -> Path:
        """The path a plot function writes to, with its caption remembered."""
        self.captions[name] = caption
        return self / name


class Command:
    name: ClassVar[str]
    help: ClassVar[str]
    heading: ClassVar[str] = ""  # the report's section title (default: the command's name)
    about: ClassVar[str] = ""  # one sentence: what the section shows
    group: ClassVar[str | None] = None  # "probe": listed as `evaluate.py probe <name>`
    takes_run: ClassVar[bool] = True  # --run, --out, --data-root
    takes_device: ClassVar[bool] = True  # --device

    def add_common_arguments(self, parser: argparse.ArgumentParser) -> None:
        if self.takes_run:
            parser.add_argument("--run", required=True, help="a run folder (or its snapshot.safetensors)")
            parser.add_argument(
                "--out",
                help="output folder (default: <run>/eval/<command>; for a snapshot file X.safetensors outside "
                "a run folder, runs/X/eval/<command>)",
            )
            parser.add_argument("--data-root", help="where the data set lives, if not where the run was trained")
        if self.takes_device:
            parser.add_argument("--device", help="cpu, cuda, cuda:1, ... (default: cuda when present)")

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """The command's own options."""

    def run(self, args: argparse.Namespace) -> Result:
        raise NotImplementedError

    def write(self, result: Result, args: argparse.Namespace, out: Output) -> str:
        raise NotImplementedError

    def title(self, args: argparse.Namespace) -> str:
        return self.heading or self.name

    def output_name(self, args: argparse.Namespace) -> str:
        """The folder under <run>/eval/ that holds this command's output."""
        return self.name

    def output_dir(self, args: argparse.Namespace) -> Path:
        out = Path(args.out) if args.out else run_folder(args.run) / "eval" / self.output_name(args)
        if out.exists() and not out.is_dir():
            raise UserError(f"--out {out} is a file; give a folder for the command's outputs")
        out.mkdir(parents=True, exist_ok=True)
        return out

    def execute(self, args: argparse.Namespace) -> str:
        folder = self.output_dir(args)
        # Two commands never write one folder at once, and a command stopped half-way leaves the previous
        # outputs whole: everything is written into a staging folder and committed together at the end.
        with FolderLock(folder, "evaluation folder"), staged(folder) as staging:
            out = Output(folder, staging)
            result = self.run(args)
            text = self.write(result, args, out)
            about = {"title": self.title(args), "about": self.about, "pictures": out.captions}
            if self.takes_run:
                about["inverter"] = describe_run(args.run)
            write_json(out / "results.json", {"settings": settings(args), **about, **result.numbers})
        return text


REGISTRY: dict[tuple[str | None, str], Command] = {}


def register(cls: type[Command]) -> type[Command]:
    """Class decorator: make the command available to `evaluate.py` (in registration order)."""
    key = (cls.group, cls.name)
    if key in REGISTRY:
        raise ValueError(f"two commands are called {' '.join(k for k in key if k)}")
    REGISTRY[key] = cls()
    return cls


# ------------------------------------------------------------------ argument groups
def add_evaluator_argument(parser: argparse.ArgumentParser, when: str = "(required)") -> None:
    parser.add_argument("--evaluator", help=f"the independent evaluator classifier's checkpoint {when}")


def add_fidelity_arguments(parser: argparse.ArgumentParser) -> None:
    """The fidelity options, with `FidelitySettings`' defaults (the API's)."""
    d, helps = FidelitySettings(), FidelitySettings.HELP
    parser.add_argument("--limit", type=integer(0), default=d.limit, help=helps["limit"])
    parser.add_argument("--noise-draws", type=integer(0), default=d.noise_draws, help=helps["noise_draws"])
    parser.add_argument("--candidates", type=integer(2), default=d.candidates, help=helps["candidates"])
    parser.add_argument("--batch-size", type=integer(1), default=d.batch_size, help=helps["batch_size"])
    parser.add_argument(
        "--lpips-weights",
        help="torchvision AlexNet weights for LPIPS (default: torchvision's cache; without them LPIPS is "
        "reported unavailable)",
    )
    parser.add_argument("--inception-weights", help=helps["inception_weights"])
    parser.add_argument("--no-realism", action="store_true", help="skip FID/KID")
    parser.add_argument(
        "--reference-images", type=integer(0), default=d.reference_images, help=helps["reference_images"]
    )


def fidelity_settings(args: argparse.Namespace) -> FidelitySettings:
    """The fidelity options of a command line as `FidelitySettings`."""
    return FidelitySettings(
        limit=args.limit,
        noise_draws=args.noise_draws,
        candidates=args.candidates,
        batch_size=args.batch_size,
        reference_images=args.reference_images,
        realism=not args.no_realism,
        inception_weights=args.inception_weights,
    )


# ------------------------------------------------------------------ loading
def run_folder(run: str) -> Path:
    """The folder a run's evaluations go under: the run folder itself (also when --run names its
    snapshot.safetensors), or runs/<file stem> for a snapshot file of another name (a shipped one)."""
    path = Path(run)
    if path.is_dir():
        return path
    if path.name == SNAPSHOT:
        return path.parent
    return Path("runs") / path.stem


def describe_run(run: str) -> dict:
    """What was evaluated, for the report: the inverter (kind, steps) and the classifier it inverts
    (its source and, for a project checkpoint, how it was trained and its measured accuracy)."""
    meta = read_snapshot_meta(run)
    classifier_cfg = meta["config"]["classifier"]
    classifier = {"name": classifier_cfg["name"], "checkpoint": classifier_cfg.get("checkpoint")}
    try:
        path = find_classifier(classifier_cfg.get("checkpoint"), Path(run), meta)
        if classifier_cfg["name"] == "project" and path:
            cmeta = read_metadata(path)
            robust = cmeta.get("robust_accuracy", (cmeta.get("evaluation") or {}).get("robust_accuracy"))
            attack = cmeta.get("robust_attack") or (cmeta.get("evaluation") or {}).get("attack") or {}
            classifier.update(
                arch=cmeta.get("arch"),
                training=cmeta.get("training"),
                adversarial=cmeta.get("adversarial"),
                test_accuracy=cmeta.get("test_accuracy"),
                robust_accuracy=robust,
                robust_attack=attack,
                autoattack=(cmeta.get("evaluation") or {}).get("autoattack"),
            )
    except UserError:  # the classifier's file is elsewhere: the report says less about it
        pass
    return {
        "snapshot": str(snapshot_file(run)),
        "kind": meta.get("kind", "gan"),
        "steps": meta.get("step"),
        "data": meta["config"]["data"]["name"],
        "classifier": classifier,
    }


def device_of(args: argparse.Namespace) -> torch.device:
    return default_device(getattr(args, "device", None))


def open_run(args: argparse.Namespace) -> tuple[Inverter, ImageData]:
    """The inverter named by --run and its data set (from --data-root when given)."""
    return open_inverter(args.run, device_of(args), args.data_root)


def load_checkpoints(paths: list[str], channels: int, device) -> dict[str, FrozenClassifier]:
    """Project classifier checkpoints by a short name: the run folder's, or the file's stem."""
    return {
        Path(p).parent.name if Path(p).name == "classifier.safetensors" else Path(p).stem: load_classifier(
            ClassifierConfig(name="project", checkpoint=str(p)), channels, device
        )
        for p in paths
    }


def fidelity_columns(
    collected: Collected, args: argparse.Namespace, masks: dict | None = None, evaluator=None, data=None, device="cpu"
) -> dict[str, dict[str, Estimate]]:
    """`summarize_columns` with the command line's settings."""
    return summarize_columns(collected, fidelity_settings(args), args.evaluator, masks, evaluator, data, device)


# ------------------------------------------------------------------ output
def settings(args: argparse.Namespace) -> dict:
    """The command line as results.json records it."""
    return {k: v for k, v in vars(args).items() if k != "handler" and not callable(v)}


def write_json(path: Path, data) -> Path:
    """JSON with every `Estimate` stored as its fields (`infra.estimate.read_estimates` reads them back)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, default=to_json) + "\n")
    return path


class ProbeCommand(Command):
    """A logit probe (`evaluate.py probe <name>`): it works on classifiers and a data set, not on a run."""

    group = "probe"
    takes_run = False
    takes_device = False

    def add_common_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--out", help=f"output folder (default runs/probes/{self.name})")
        parser.add_argument("--data", default="fashion-mnist", help="data set (default fashion-mnist)")
        parser.add_argument("--data-root", help="where the data set lives (default data)")
        parser.add_argument("--device", help="cpu, cuda, ... (default: cuda when present)")

    def output_dir(self, args: argparse.Namespace) -> Path:
        out = Path(args.out or f"runs/probes/{self.name}")
        out.mkdir(parents=True, exist_ok=True)
        return out

    @staticmethod
    def data(args: argparse.Namespace) -> ImageData:
        return load_data(DataConfig(name=args.data, root=args.data_root or "data", synthetic_channels=1))
