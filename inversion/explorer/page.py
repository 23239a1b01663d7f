"""The explorer folder: a static page that runs inverters' generators in the browser with ONNX Runtime Web.

    OUT/index.html           the page (with explorer.js and explorer.css, copied from static/)
    OUT/data.js              the test images, each run's logits for them and what the page says of each run
    OUT/models.js            each run's generator as ONNX, base64 in a JavaScript string
    OUT/vendor/              ONNX Runtime Web (see ort_web.py) and its licence notice

Everything is loaded with classic `<script>` tags, so the folder works from disk (`file://`, where
browsers refuse fetch and module scripts) as well as from any static host, with no network.
"""

from __future__ import annotations

import base64
import json
import math
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from infra.errors import UserError
from infra.lock import LOCK
from infra.outputs import MARKER, STAGING

from . import ort_web

STATIC = Path(__file__).parent / "static"
PAGE_FILES = ("index.html", "explorer.js", "explorer.css")


@dataclass
class PageRun:
    """One inverter as the page shows it."""

    name: str  # short name (the snapshot's stem or the run folder's name)
    description: str  # the classifier it inverts, in words
    kind: str  # "gan" or "decoder" (the decoder ignores the noise)
    output: str  # the classifier's output model the inverter is given (classifiers/outputs.py): "logits" usually
    dim_noise: int
    unit: float  # mean per-dimension std of the training logits: the edits' unit, as in `evaluate.py manipulate`
    slider_range: tuple[float, float]  # the logit sliders' range
    logits: list[list[float]]  # (images, classes): the classifier's raw logits for each page image


def slider_range(logits: torch.Tensor, unit: float) -> tuple[float, float]:
    """From two units below the smallest logit of the page's images to two above the largest, rounded out to 0.1."""
    lo = float(logits.min()) - 2 * unit
    hi = float(logits.max()) + 2 * unit
    return math.floor(lo * 10) / 10, math.ceil(hi * 10) / 10


# What a folder being written holds besides its outputs: the writer's lock, its staging folder, its marker.
KEPT = (LOCK, STAGING, MARKER)


def refuse_foreign_folder(out: Path) -> None:
    """An explorer replaces what its folder holds: refuse a folder with other things in it."""
    entries = [p for p in out.iterdir() if p.name not in KEPT] if out.is_dir() else []
    if entries and not (out / "data.js").is_file():
        raise UserError(f"{out} is not empty and holds no explorer; choose another --out (it is emptied first)")


def write_page(
    out: Path,
    runs: list[PageRun],
    onnx_files: list[Path],
    images: torch.Tensor,
    labels: list[int],
    indices: list[int],
    classes: list[str],
    title: str,
    ort_files: Path,
    export_check: dict,
) -> dict[str, int]:
    """Write the explorer into `out` (emptied first); returns the size in bytes of each file written."""
    if images.dtype != torch.uint8:
        raise ValueError("the page's images must be uint8 (N, C, H, W)")
    refuse_foreign_folder(out)
    for entry in out.iterdir() if out.exists() else []:
        if entry.name not in KEPT:
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    out.mkdir(parents=True, exist_ok=True)
    for name in PAGE_FILES:
        shutil.copyfile(STATIC / name, out / name)
    ort_web.write_vendor(ort_files, out / "vendor")
    models = [base64.b64encode(Path(path).read_bytes()).decode() for path in onnx_files]
    (out / "models.js").write_text(f"window.EXPLORER_MODELS = {json.dumps(models)};\n")
    n, channels, height, width = images.shape
    data = {
        "title": title,
        "classes": list(classes),
        "channels": channels,
        "height": height,
        "width": width,
        "images": [
            {"index": int(idx), "label": int(label), "pixels": base64.b64encode(img.contiguous().numpy()).decode()}
            for img, label, idx in zip(images, labels, indices)
        ],
        "runs": [asdict(r) for r in runs],
        "ort_version": ort_web.VERSION,
        "export_check": export_check,
    }
    (out / "data.js").write_text(f"window.EXPLORER_DATA = {json.dumps(data)};\n")
    return {str(p.relative_to(out)): p.stat().st_size for p in sorted(out.rglob("*")) if p.is_file()}
