"""Copy the reference experiment's networks into checkpoints/<data set>/, ready to commit.

    python scripts/ship_checkpoints.py runs/reference --out checkpoints/fmnist
    python scripts/ship_checkpoints.py runs/reference --networks runs/networks   # classifiers trained anew

Takes the classifiers from --networks (the `networks` experiment's folder: {std,robust,evaluator}/
classifier.safetensors; default: the ones already in --out) and, from the reference experiment's
folder (experiments/manifest.py's names), the seed-0 inverters of the default recipe
(gan-{std,robust}-seed0) and of the paper's recipe (paper-{std,robust}-seed0), and writes (an inverter
whose run has not finished keeps the file shipped before, and says so)

    classifier-std.safetensors  classifier-robust.safetensors  evaluator.safetensors
    inverter-std.safetensors    inverter-robust.safetensors    (the default recipe)
    inverter-paper-std.safetensors  inverter-paper-robust.safetensors   (the paper's recipe)
    README.md (what each file is, measured)

and, for each classifier whose run has finished, the candidate recipe's inverter beside them
(wide-{std,robust}-seed0: the default recipe with G twice as wide) as inverter-wide-{std,robust}.safetensors.

Each file is stored in half precision when that is lossless enough on the first --images test images,
else in fp32: a classifier must keep every top-1 and move no logit by more than 1% of the logits'
standard deviation; an inverter must move no reconstructed pixel by more than 2/255. The inverters name
their classifier by file name, and Inverter.load finds it beside the snapshot.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from classifiers import ClassifierConfig, load_classifier  # noqa: E402
from classifiers.checkpoint import FORMAT, read_metadata  # noqa: E402
from infra.batches import eval_batches  # noqa: E402
from infra.datasets import DataConfig, load_data  # noqa: E402
from inversion.inverter import Inverter  # noqa: E402
from inversion.snapshot import SNAPSHOT_FORMAT, checksum, load_snapshot, read_snapshot_meta  # noqa: E402

LOGIT_TOLERANCE = 0.01  # of the logits' standard deviation
PIXEL_TOLERANCE = 2 / 255  # in [0, 1] pixel units
CANDIDATES = {f"inverter-wide-{kind}.safetensors" for kind in ("std", "robust")}  # optional: shipped once trained


def half(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.half() if v.is_floating_point() else v for k, v in state.items()}


def write(path: Path, state: dict, header: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    save_file({k: v.contiguous() for k, v in state.items()}, str(tmp), metadata=header)
    os.replace(tmp, path)


def classifier_logits(path: Path, images: torch.Tensor) -> torch.Tensor:
    model = load_classifier(ClassifierConfig(name="project", checkpoint=str(path)), images.shape[1], "cpu")
    with torch.no_grad():
        return torch.cat([model(chunk) for chunk in images.split(500)])


def ship_classifier(src: Path, dst: Path, images: torch.Tensor) -> dict:
    meta = read_metadata(src)
    state = load_file(str(src))
    halved = half(state)
    reference = classifier_logits(src, images)
    candidate = dst.with_name(dst.name + ".half")  # read back through the real loader
    write(candidate, halved, {"format": FORMAT, "meta": json.dumps(meta)})
    logits = classifier_logits(candidate, images)
    candidate.unlink()
    error = ((logits - reference).abs().max() / reference.std()).item()
    agree = (logits.argmax(1) == reference.argmax(1)).float().mean().item()
    precision = "fp16" if agree == 1.0 and error <= LOGIT_TOLERANCE else "fp32"
    meta["shipped"] = {
        "precision": precision,
        "from": str(src),
        "max_logit_error_of_fp16": error,
        "top1_agreement_of_fp16": agree,
        "checked_images": len(images),
    }
    write(dst, halved if precision == "fp16" else state, {"format": FORMAT, "meta": json.dumps(meta)})
    return meta


def ship_inverter(src: Path, dst: Path, classifier_file: str, images: torch.Tensor) -> dict:
    state, meta = load_snapshot(src)
    meta = dict(meta)
    meta["config"]["classifier"]["checkpoint"] = classifier_file
    meta.pop("classifier_checkpoint_absolute", None)
    classifier = load_classifier(
        ClassifierConfig(name="project", checkpoint=str(dst.parent / classifier_file)), images.shape[1], "cpu"
    )

    def reconstructions(tensors: dict) -> torch.Tensor:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "snapshot.safetensors"
            write(path, tensors, {"format": SNAPSHOT_FORMAT, "meta": json.dumps(meta)})
            inverter = Inverter.load(path, device="cpu", classifier=classifier)
            return torch.cat([inverter.reconstruct(chunk) for chunk in images.split(500)])

    reference = reconstructions(state)
    error = ((reconstructions(half(state)) - reference).abs().max() / 2).item()  # [-1, 1] to [0, 1] units
    precision = "fp16" if error <= PIXEL_TOLERANCE else "fp32"
    meta["shipped"] = {
        "precision": precision,
        "from": str(src),
        "max_pixel_error_of_fp16": error,
        "checked_images": len(images),
    }
    shipped = half(state) if precision == "fp16" else state
    write(dst, shipped, {"format": SNAPSHOT_FORMAT, "meta": json.dumps(meta), "sha256": checksum(shipped)})
    return meta


def finished(snapshot: Path) -> bool:
    """The run's final snapshot is there: its step is the run's train.max_steps."""
    if not snapshot.is_file():
        return False
    meta = read_snapshot_meta(snapshot)
    return meta["step"] >= meta["config"]["train"]["max_steps"]


def readme(out: Path, rows: list[tuple[str, str, dict]]) -> str:
    lines = [
        f"# Shipped networks ({out})",
        "",
        "Written by `python scripts/ship_checkpoints.py` from the reference experiment "
        "(`python experiments/run.py reference`; results in `docs/RESULTS.md`). Half precision only where the "
        "script measured it to be lossless enough (see its docstring); every tensor is read back as fp32.",
        "",
        "| file | what | measured | precision | size |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, what, meta in rows:
        size = (out / name).stat().st_size / 2**20
        if "config" not in meta:  # a classifier
            measured = f"test accuracy {meta['test_accuracy']:.1%}" if "test_accuracy" in meta else "not measured"
            robust = meta.get("robust_accuracy", meta.get("evaluation", {}).get("robust_accuracy"))
            if robust is not None:
                measured += f", PGD-20 L-inf 0.1: {robust:.1%}"
        else:
            measured = f"{meta['step']} steps against `{meta['config']['classifier']['checkpoint']}`"
        lines.append(f"| `{name}` | {what} | {measured} | {meta['shipped']['precision']} | {size:.2f} MiB |")
    total = sum((out / name).stat().st_size for name, _, _ in rows) / 2**20
    lines += ["", f"In all {total:.2f} MiB."]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("root", help="the reference experiment's folder (runs/reference)")
    p.add_argument("--out", default="checkpoints/fmnist", help="where to write (default checkpoints/fmnist)")
    p.add_argument("--networks", help="the networks experiment's folder (default: keep the classifiers in --out)")
    p.add_argument("--data-root", default="data", help="where Fashion-MNIST lives (default data)")
    p.add_argument("--images", type=int, default=2000, help="test images for the precision check (default 2000)")
    args = p.parse_args(argv)
    root, out = Path(args.root), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    test = load_data(DataConfig(name="fashion-mnist", root=args.data_root, num_workers=0)).test
    images, _ = next(eval_batches(test, args.images, torch.device("cpu")))
    rows = []
    for kind, name, what in (
        ("std", "classifier-std.safetensors", "standard classifier (inverted)"),
        ("robust", "classifier-robust.safetensors", "robust classifier (inverted)"),
        ("evaluator", "evaluator.safetensors", "independent evaluator"),
    ):
        if args.networks:
            meta = ship_classifier(Path(args.networks) / kind / "classifier.safetensors", out / name, images)
        else:
            meta = read_metadata(out / name)
        rows.append((name, what, meta))
        print(f"{out / name}: {meta['shipped']['precision']}")
    for kind in ("std", "robust"):
        label = "standard" if kind == "std" else "robust"
        for run, name, what in (
            (
                f"gan-{kind}-seed0",
                f"inverter-{kind}.safetensors",
                f"inverter of the {label} classifier (default recipe)",
            ),
            (
                f"paper-{kind}-seed0",
                f"inverter-paper-{kind}.safetensors",
                f"inverter of the {label} classifier (the paper's recipe)",
            ),
            (
                f"wide-{kind}-seed0",
                f"inverter-wide-{kind}.safetensors",
                f"inverter of the {label} classifier (the candidate: default recipe, G twice as wide)",
            ),
        ):
            snapshot = root / run / "snapshot.safetensors"
            if finished(snapshot):
                meta = ship_inverter(snapshot, out / name, f"classifier-{kind}.safetensors", images)
                print(f"{out / name}: {meta['shipped']['precision']}")
            elif (out / name).is_file():  # the run is not finished: the file shipped before stays
                meta = read_snapshot_meta(out / name)
                what += f"; kept from an earlier shipping (from `{meta['shipped']['from']}`: {run} has not finished)"
                print(f"{out / name}: kept ({run} has not finished)")
            elif name in CANDIDATES:  # a candidate not trained yet is simply not shipped
                print(f"{out / name}: not shipped ({run} has not finished)")
                continue
            else:
                print(f"error: {run} has not finished and {out / name} does not exist", file=sys.stderr)
                return 2
            rows.append((name, what, meta))
    (out / "README.md").write_text(readme(out, rows))
    print(f"wrote {out / 'README.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
