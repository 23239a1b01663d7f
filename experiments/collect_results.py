"""Gather the reference experiment's measured tables into one Markdown file (docs/RESULTS.md quotes it).

    python experiments/collect_results.py runs/reference-cpu > runs/reference-cpu/tables.md

Reads what experiments/fmnist_reference.sh wrote under ROOT: the classifiers' metadata, every
evaluate.py command's Markdown and results.json, the probes' Markdown, hardware.txt and timings.tsv.
Nothing here computes a metric; it only puts measured ones side by side.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from classifiers.checkpoint import read_metadata  # noqa: E402
from inversion.presentation.tables import fidelity_table  # noqa: E402


def timings(root: Path) -> list[dict]:
    """timings.tsv's rows: step, seconds (an int), command."""
    with open(root / "timings.tsv") as f:
        return [{**row, "seconds": int(row["seconds"])} for row in csv.DictReader(f, delimiter="\t")]


def minutes(seconds: int | None) -> str:
    return "n/a" if seconds is None else f"{seconds // 60} min {seconds % 60:02d} s"


def classifier_table(root: Path, times: dict) -> str:
    lines = [
        "| classifier | architecture | training | clean test accuracy | PGD-20 L-inf 0.1 accuracy | wall time |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for kind in ("std", "robust", "evaluator"):
        path = root / "classifiers" / kind / "classifier.safetensors"
        if not path.is_file():
            continue
        meta = read_metadata(path)
        robust = meta.get("robust_accuracy", meta.get("evaluation", {}).get("robust_accuracy"))
        adv = meta.get("adversarial")
        training = "standard" if not adv else (f"PGD-{adv['steps']} {adv['norm']} eps {adv['eps']}")
        lines.append(
            f"| {kind} | {meta['arch']} width {meta['width']} | {training}, {meta['steps']} steps | "
            f"{meta['test_accuracy']:.2%} | {'' if robust is None else f'{robust:.2%}'} | "
            f"{minutes(times.get(f'classifier-{kind}'))} |"
        )
    return "\n".join(lines) + "\n"


def fidelity(path: Path) -> dict | None:
    results = path / "results.json"
    return json.loads(results.read_text())["fidelity"] if results.is_file() else None


def section(title: str, *files: Path) -> str:
    parts = [f"### {title}", ""]
    for f in files:
        if f.is_file():
            parts += [f"`{f}`:", "", f.read_text().strip(), ""]
    return "\n".join(parts) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("root", help="the experiment's folder (runs/reference-cpu)")
    root = Path(p.parse_args(argv).root)
    rows = timings(root)
    times = {row["step"]: row["seconds"] for row in rows}
    out = [
        "## Hardware",
        "",
        "```",
        (root / "hardware.txt").read_text().strip(),
        "```",
        "",
        "## Wall time of every step",
        "",
        "| step | wall time | command |",
        "| --- | --- | --- |",
    ]
    out += [f"| {row['step']} | {minutes(row['seconds'])} | `{row['command']}` |" for row in rows]
    out += ["", "## Classifiers", "", classifier_table(root, times)]

    full = {
        name: fidelity(path)
        for name, path in (
            ("GAN, standard", root / "std/eval/fidelity"),
            ("GAN, robust", root / "robust/eval/fidelity"),
            ("decoder, standard", root / "decoder-std/eval/fidelity"),
            ("decoder, robust", root / "decoder-robust/eval/fidelity"),
        )
    }
    out += ["## Fidelity on all 10,000 test images", "", fidelity_table({k: v for k, v in full.items() if v})]
    subset = {
        name: fidelity(path)
        for name, path in (
            ("GAN, standard", root / "std/eval/fidelity-limit1000"),
            ("GAN, robust", root / "robust/eval/fidelity-limit1000"),
            ("optimisation, standard", root / "optimize-std/eval/fidelity"),
            ("optimisation, robust", root / "optimize-robust/eval/fidelity"),
        )
    }
    out += [
        "## Fidelity on the first 1,000 test images (with optimisation-based inversion)",
        "",
        fidelity_table({k: v for k, v in subset.items() if v}),
    ]
    for title, command, md in (
        ("Invariance", "invariance", "invariance.md"),
        ("Adversarial examples", "adversarial", "adversarial.md"),
        ("Correctly and wrongly classified test images", "adversarial", "subsets.md"),
        ("Out of distribution: scikit-learn digits", "ood-sklearn-digits", "ood.md"),
        ("Out of distribution: scikit-image photographs", "ood-skimage-samples", "ood.md"),
    ):
        out.append(section(title, root / "std/eval" / command / md, root / "robust/eval" / command / md))
    for edit in ("shift", "scale", "noise", "interpolate", "swap-top2"):
        out.append(
            section(
                f"Logit edit: {edit}",
                root / f"std/eval/manipulate-{edit}/manipulate.md",
                root / f"robust/eval/manipulate-{edit}/manipulate.md",
            )
        )
    probes = root / "probes"
    out.append("## Probes\n")
    for name in ("fingerprint", "features", "confidence", "novelty", "style-shift-std", "style-shift-robust"):
        out.append(section(name, *sorted((probes / name).glob("*.md"))))
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
