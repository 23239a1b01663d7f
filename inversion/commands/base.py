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
import dataclasses
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

from ..evaluation.fidelity import Collected, reference_features, summarize
from ..inverter import Inverter, find_classifier
from ..presentation.images import save_image
from ..snapshot import SNAPSHOT, read_snapshot_meta, snapshot_file

EVALUATOR_HINT = (
    "train one with `python -m classifiers.train --config configs/classifiers/fmnist_evaluator.yaml` "
    "(another architecture and seed than the inverted classifier)"
)


@dataclass
class Result:
    """A command's outcome: `numbers` go to results.json (and tests); `pictures` only to `write`."""

    numbers: dict[str, Any]
    pictures: dict[str, Any] = field(default_factory=dict)


class Output:
    """A command's output folder: what it writes there, and a caption for each picture."""

    def __init__(self, path: Path):
        self.path, self.captions = Path(path), {}

    def __truediv__(self, name: str) -> Path:
        return self.path / name

    def picture(self, name: str, image, caption: str) -> Path:
        """Write a PNG (a PIL image, or a uint8 (C, H, W) tensor) and remember its caption."""
        path = self.path / name
        if isinstance(image, torch.Tensor):
            save_image(image, path)
        else:
            image.save(path)
        self.captions[name] = caption
        return path

    def plot(self, name: str, caption: str) -> Path:
        """The path a plot function writes to, with its caption remembered."""
        self.captions[name] = caption
        return self.path / name


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
        out.mkdir(parents=True, exist_ok=True)
        return out

    def execute(self, args: argparse.Namespace) -> str:
        result = self.run(args)
        out = Output(self.output_dir(args))
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
    parser.add_argument("--limit", type=integer(0), default=0, help="use the first N test images (default: all)")
    parser.add_argument("--noise-draws", type=integer(0), default=3, help="K random noise draws per image (default 3)")
    parser.add_argument(
        "--candidates", type=integer(2), default=1000, help="identification: sources per group (default 1000)"
    )
    parser.add_argument("--batch-size", type=integer(1), default=500, help="images per batch (default 500)")
    parser.add_argument(
        "--lpips-weights",
        help="torchvision AlexNet weights for LPIPS (default: torchvision's cache; without them LPIPS is "
        "reported unavailable)",
    )
    parser.add_argument("--inception-weights", help="torch-fidelity Inception-v3 weights for Inception FID (optional)")
    parser.add_argument("--no-realism", action="store_true", help="skip FID/KID")
    parser.add_argument(
        "--reference-images",
        type=integer(0),
        default=10000,
        help="real training images the KNN distance and precision/recall/density/coverage compare "
        "reconstructions with (default 10000; 0 skips these measures)",
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
    inverter = Inverter.load(args.run, device=device_of(args))
    data_cfg = inverter.config.data
    if args.data_root:
        data_cfg = dataclasses.replace(data_cfg, root=args.data_root)
    return inverter, load_data(data_cfg)


def load_evaluator(
    path: str | None, classes: list[str], channels: int, device, required: bool = True
) -> FrozenClassifier | None:
    """The independent evaluator, which must judge the same classes as the data it is given."""
    if path is None:
        if required:
            raise UserError(
                f"--evaluator PATH is required: the independent classifier whose features judge "
                f"reconstructions; {EVALUATOR_HINT}"
            )
        return None
    evaluator = load_classifier(ClassifierConfig(name="project", checkpoint=str(path)), channels, device)
    if evaluator.num_classes != len(classes):
        raise UserError(
            f"the evaluator {path} has {evaluator.num_classes} classes but the data has {len(classes)}: it cannot "
            f"judge these reconstructions; {EVALUATOR_HINT}"
        )
    if evaluator.info.classes and list(evaluator.info.classes) != list(classes):
        raise UserError(
            f"the evaluator {path} was trained on the classes {', '.join(evaluator.info.classes[:4])}, ... but the "
            f"data's are {', '.join(classes[:4])}, ...: it cannot judge these reconstructions; {EVALUATOR_HINT}"
        )
    return evaluator


def load_checkpoints(paths: list[str], channels: int, device) -> dict[str, FrozenClassifier]:
    """Project classifier checkpoints by a short name: the run folder's, or the file's stem."""
    return {
        Path(p).parent.name if Path(p).name == "classifier.safetensors" else Path(p).stem: load_classifier(
            ClassifierConfig(name="project", checkpoint=str(p)), channels, device
        )
        for p in paths
    }


def first_indices(n_total: int, limit: int | None) -> torch.Tensor:
    """The first `limit` indices of a split (all of them when `limit` is 0 or None)."""
    return torch.arange(n_total if not limit else min(limit, n_total))


def fidelity_columns(
    collected: Collected, args: argparse.Namespace, masks: dict | None = None, evaluator=None, data=None, device="cpu"
) -> dict[str, dict]:
    """The fidelity table's numbers for all images (or each named subset), with the command's settings;
    with the evaluator and the data, the model-inversion measures against `--reference-images` real
    training images too."""
    masks = masks or {"all": None}
    reference = None
    if args.reference_images and evaluator is not None and data is not None:
        reference = reference_features(evaluator, data.train, args.reference_images, device, args.batch_size)
    return {
        name: summarize(
            collected,
            mask,
            candidates=args.candidates,
            evaluator_checkpoint=args.evaluator,
            inception_weights=args.inception_weights,
            realism=not args.no_realism,
            reference=reference,
        )
        for name, mask in masks.items()
    }


# ------------------------------------------------------------------ output
def settings(args: argparse.Namespace) -> dict:
    """The command line as results.json records it."""
    return {k: v for k, v in vars(args).items() if k != "handler" and not callable(v)}


def write_json(path: Path, data) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, default=float) + "\n")
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
