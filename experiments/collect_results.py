"""Rebuild docs/RESULTS.md from the reference experiment's run folder: nothing in it is typed by hand.

    bash experiments/fmnist_reference.sh shipped runs/reference-shipped
    python experiments/ema_statistics.py checkpoints/fmnist/inverter-std.safetensors \\
        checkpoints/fmnist/inverter-robust.safetensors --evaluator checkpoints/fmnist/evaluator.safetensors \\
        --out runs/ema-statistics
    python experiments/collect_results.py runs/reference-shipped --ema runs/ema-statistics

Reads what experiments/fmnist_reference.sh wrote under ROOT (the classifiers' metadata, every
evaluate.py command's results.json and Markdown, the probes', hardware.txt, timings.tsv) and, with
--ema, experiments/ema_statistics.py's folders; writes the whole document (--out, default
docs/RESULTS.md) and copies its pictures next to it (docs/results/). The verdicts' numbers are read
from the same files as the tables. Nothing here computes a metric; a part whose run has not
finished says so.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from classifiers.checkpoint import read_metadata  # noqa: E402
from inversion.evaluation.logit_edits import EDITS  # noqa: E402
from inversion.presentation.tables import fidelity_table, table, with_interval  # noqa: E402

KINDS = {"std": "standard", "robust": "robust"}
FID = "fid[logit-inversion-evaluator]"  # the fidelity results key of FID with evaluator features


# ------------------------------------------------------------------ reading
def load(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.is_file() else None


def timings(root: Path) -> list[dict]:
    path = root / "timings.tsv"
    if not path.is_file():
        return []
    with open(path) as f:
        return [{**row, "seconds": int(row["seconds"])} for row in csv.DictReader(f, delimiter="\t")]


def minutes(seconds: int | None) -> str:
    return "not run" if seconds is None else f"{seconds // 60} min {seconds % 60:02d} s"


def pct(value: float, interval: list[float] | None = None) -> str:
    return with_interval(value, interval, ".1%")


def num(value: float, interval: list[float] | None = None, fmt: str = ".2f") -> str:
    return with_interval(value, interval, fmt)


def apart(a: list[float], b: list[float]) -> bool:
    """Two 95% intervals that do not overlap."""
    return a[1] < b[0] or b[1] < a[0]


# ------------------------------------------------------------------ sections
def header(root: Path, ema: list[Path], leakage: str | None = None, seeds: str | None = None) -> list[str]:
    hardware = (root / "hardware.txt").read_text().strip() if (root / "hardware.txt").is_file() else "not recorded"
    ema_cmd = f" --ema {' '.join(str(e) for e in ema)}" if ema else ""
    ema_cmd += (f" --seeds {seeds}" if seeds else "") + (f" --leakage {leakage}" if leakage else "")
    return [
        "# Results: the reference experiment on Fashion-MNIST",
        "",
        "This document is written by `experiments/collect_results.py` from the run folders; every number in it",
        "is read from a command's `results.json` or a network's metadata. To rebuild it:",
        "",
        "```",
        f"bash experiments/fmnist_reference.sh {root.name.removeprefix('reference-')} {root}",
        f"python experiments/collect_results.py {root}{ema_cmd}",
        "```",
        "",
        "The networks are the ones in `checkpoints/fmnist/`, trained by `bash experiments/fmnist_reference.sh cpu`",
        "on this project's 2-core CPU machine at CPU size (the `shipped` profile evaluates them without",
        "training them again). **Each inverter is one training run** (one seed): the 95% intervals in",
        "brackets are bootstrap intervals over test images. They say how much a number would move on",
        "other test images for these networks, not how much it would move between training runs, which",
        (
            'the section "Run-to-run spread: a second seed" measures with one more run of each inverter.'
            if seeds
            else "only more runs would measure."
        ),
        "No GPU has been lent to the project yet: the GPU-size experiment, the speed benchmark and the",
        "quality goals of the GPU issue wait for one.",
        "",
        "Hardware of this run:",
        "",
        "```",
        hardware,
        "```",
        "",
    ]


def fidelity_of(path: Path) -> dict | None:
    data = load(path / "results.json")
    return data["fidelity"] if data else None


def robust_vs_standard(std: dict, robust: dict) -> str:
    """Which main measures put the robust inverter ahead, behind or level (95% intervals apart or not)."""
    keys = [
        ("id_top1", "identification top-1 of 1,000", pct),
        ("psnr", "PSNR dB", num),
        ("evaluator_acc_recon", "evaluator accuracy on reconstructions", pct),
        ("top1_agreement", "top-1 agreement", pct),
        ("knn_distance", "KNN distance (lower is better)", num),
        (FID, "FID (evaluator features, lower is better)", num),
    ]
    better, worse, level, no_interval = [], [], [], []
    for key, label, fmt in keys:
        if not isinstance(std.get(key), float) or not isinstance(robust.get(key), float):
            continue
        lower_better = key in ("knn_distance", FID)
        if key + "_ci" not in std or key + "_ci" not in robust:  # fidelity runs from before FID had one
            no_interval.append(f"{label} {fmt(robust[key])} vs {fmt(std[key])} (no interval)")
            continue
        text = f"{label} {fmt(robust[key], robust.get(key + '_ci'))} vs {fmt(std[key], std.get(key + '_ci'))}"
        if not apart(robust[key + "_ci"], std[key + "_ci"]):
            level.append(text)
        elif (robust[key] < std[key]) == lower_better:
            better.append(text)
        else:
            worse.append(text)
    no_interval_text = f" {'; '.join(no_interval)}." if no_interval else ""
    return (
        f"Robust ahead with intervals apart on {len(better)} of {len(better) + len(worse) + len(level)} main "
        f"measures: {'; '.join(better) or 'none'}. Behind: {'; '.join(worse) or 'none'}. Intervals overlap: "
        f"{'; '.join(level) or 'none'}.{no_interval_text}"
    )


def verdicts(root: Path, seeds: Path | None = None) -> list[str]:
    out = ["## Verdict on the paper's claims", ""]
    std, robust = fidelity_of(root / "std/eval/fidelity"), fidelity_of(root / "robust/eval/fidelity")
    rows = []
    if std and robust:
        summary = robust_vs_standard(std, robust)
        if seeds is not None:
            std1 = fidelity_of(seeds / "std-seed1" / "eval" / "fidelity")
            robust1 = fidelity_of(seeds / "robust-seed1" / "eval" / "fidelity")
            if std1 and robust1:
                summary += (
                    " **A second training run of each inverter (seed 1):** "
                    + robust_vs_standard(std1, robust1)
                    + " Read with the run-to-run spread section: a difference that one seed shows and the other"
                    " does not is not established."
                )
        rows.append(["Reconstructions from robust logits are better than from standard logits", summary])
    baselines = {
        name: fidelity_of(root / f"{name}/eval/fidelity")
        for name in ("decoder-std", "decoder-robust", "optimize-std", "optimize-robust")
    }
    if std and robust and any(baselines.values()):
        gan = {"std": std, "robust": robust}
        parts = []
        for kind in KINDS:
            g = gan[kind]
            cells = [f"GAN {pct(g['id_top1'], g['id_top1_ci'])}"]
            agree = [f"GAN {pct(g['top1_agreement'], g['top1_agreement_ci'])}"]
            fids = [f"GAN {num(g[FID], g.get(FID + '_ci'))}"]
            for label, name in (("decoder", f"decoder-{kind}"), ("optimisation", f"optimize-{kind}")):
                b = baselines[name]
                if b is None:
                    cells.append(f"{label} not run yet")
                    continue
                note = f" (its {b['images']} images)" if b["images"] != g["images"] else ""
                cells.append(f"{label} {pct(b['id_top1'], b['id_top1_ci'])}{note}")
                agree.append(f"{label} {pct(b['top1_agreement'], b['top1_agreement_ci'])}")
                fids.append(
                    f"{label} {num(b[FID], b.get(FID + '_ci'))}" if isinstance(b.get(FID), float) else f"{label} n/a"
                )
            parts.append(
                f"{KINDS[kind]}: identification top-1 {', '.join(cells)}; top-1 agreement {', '.join(agree)}; "
                f"FID (evaluator) {', '.join(fids)}"
            )
        rows.append(["The GAN beats the baselines on identification and realism", ". ".join(parts) + "."])
    else:
        rows.append(
            [
                "The GAN beats the baselines",
                "Not re-measured in this run yet: the baselines' steps (`decoder-*`, `optimize-*`) have not finished.",
            ]
        )
    probe = load(root / "probes/softmax-invariant/results.json")
    if probe:
        parts, gains = [], []
        for name, targets in probe["results"].items():
            parts.append(
                f"{name}: " + ", ".join(f"{t} {num(v['gain'], v['gain_ci'], '+.3f')}" for t, v in targets.items())
            )
            gains += [(v["gain"], v["gain_ci"][0] > 0) for v in targets.values()]
        above = sum(significant for _, significant in gains)
        rows.append(
            [
                "Logits hold more than the softmax",
                "Measured by `probe softmax-invariant` (the R^2 gain of linear read-outs when the mean logit, "
                f"invisible in the softmax, joins the log-softmax; {probe['test_images']} test images): "
                + "; ".join(parts)
                + f". {above} of {len(gains)} gains have an interval above 0, that is, information the softmax "
                f"does not show; the largest is {max(g for g, _ in gains):.3f} of R^2.",
            ]
        )
    for kind in KINDS:
        adv = load(root / f"{kind}/eval/adversarial/results.json")
        if adv:
            a = adv["attacks"]["untargeted"]
            rows.append(
                [
                    f"Adversarial logits reconstruct the adversary's class ({KINDS[kind]})",
                    f"Of {a['attacked']} correctly classified images attacked, PGD succeeded on "
                    f"{pct(*a['attack_success'])}; of those, the evaluator sees the adversary's class in "
                    f"{pct(*a['recon_is_adversary'])} of reconstructions and the source class in "
                    f"{pct(*a['recon_is_source'])}.",
                ]
            )
    for kind in KINDS:
        inv = load(root / f"{kind}/eval/invariance/results.json")
        if inv:
            kept = [t for t, v in inv["transforms"].items() if v["kept_ci"][0] > 0]
            rest = [t for t in inv["transforms"] if t not in kept]
            rows.append(
                [
                    f"Which image changes the logits keep ({KINDS[kind]})",
                    f"On {inv['images']} test images, the reconstruction follows T more often than G(phi(x)) does "
                    f"(interval of the difference above 0) for: {', '.join(kept) or 'none'}; no evidence for: "
                    f"{', '.join(rest) or 'none'}.",
                ]
            )
    out += [table(["claim (Teterwak et al. 2021)", "what the numbers say"], rows), ""]
    return out


def networks(root: Path, times: dict) -> list[str]:
    rows = []
    for kind, label in (("std", "standard classifier"), ("robust", "robust classifier"), ("evaluator", "evaluator")):
        path = root / "classifiers" / kind / "classifier.safetensors"
        if not path.is_file():
            continue
        meta = read_metadata(path)
        adv = meta.get("adversarial")
        training = "standard" if not adv else f"PGD-{adv['steps']} {adv['norm']} eps {adv['eps']}"
        ev = meta.get("evaluation") or {}
        auto = ev.get("autoattack") or {}
        pgd = f"{pct(ev['robust_accuracy'], ev.get('robust_accuracy_ci'))}" if "robust_accuracy" in ev else ""
        aa = f"{pct(auto['robust_accuracy'], auto.get('robust_accuracy_ci'))}" if auto else ""
        rows.append(
            [
                label,
                f"{meta['arch']} width {meta['width']}, {training}, {meta['steps']} steps",
                f"{meta['test_accuracy']:.2%}",
                pgd,
                aa,
                str(ev.get("attack", {}).get("samples", "")),
            ]
        )
    out = [
        "## The networks",
        "",
        "Clean accuracy on all 10,000 test images. Robust accuracy at L-inf eps 0.1 by single-restart PGD-20 and by",
        "AutoAttack's APGD-CE then APGD-T (100 steps each; an image counts only if it survives both), on the",
        f"first test images (`python -m classifiers.evaluate CKPT --norm linf --eps 0.1 --steps 20 --samples 1000`;"
        f" {minutes(times.get('classifier-std-attacks'))} and {minutes(times.get('classifier-robust-attacks'))}).",
        "The same numbers are in each shipped checkpoint's metadata under `evaluation`.",
        "",
        table(["network", "what", "clean accuracy", "PGD-20 accuracy", "AutoAttack accuracy", "attacked images"], rows),
        "",
    ]
    return out


def copy_picture(src: Path, docs: Path, name: str) -> str | None:
    if not src.is_file():
        return None
    target = docs / "results" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, target)
    return f"results/{name}"


def pictures(root: Path, docs: Path) -> list[str]:
    out = ["## Reconstructions", ""]
    link = copy_picture(root / "comparison.png", docs, "comparison.png")
    if link:
        out += [
            "### Every method on the same test images",
            "",
            f"![every method]({link})",
            "",
            "The first 12 test images (top row), then the GAN inverter, the pixel-loss decoder and",
            "optimisation-based inversion (200 Adam steps from a grey start, TV weight 0.05), each from the",
            "standard and from the robust classifier's logits, all at noise 0",
            f"(`python experiments/comparison_figure.py {root} --out {root}/comparison.png`).",
            "",
        ]
    for kind in KINDS:
        results = load(root / f"{kind}/eval/grid/results.json")
        link = copy_picture(root / f"{kind}/eval/grid/grid.png", docs, f"grid-{kind}.png")
        if link and results:
            caption = results.get("pictures", {}).get("grid.png", "")
            out += [f"### {KINDS[kind].capitalize()} classifier", "", f"![{KINDS[kind]}]({link})", "", caption, ""]
    return out


def fidelity_sections(root: Path) -> list[str]:
    full = {
        name: fidelity_of(path)
        for name, path in (
            ("GAN, standard", root / "std/eval/fidelity"),
            ("GAN, robust", root / "robust/eval/fidelity"),
            ("decoder, standard", root / "decoder-std/eval/fidelity"),
            ("decoder, robust", root / "decoder-robust/eval/fidelity"),
        )
    }
    subset = {
        name: fidelity_of(path)
        for name, path in (
            ("GAN, standard", root / "std/eval/fidelity-limit1000"),
            ("GAN, robust", root / "robust/eval/fidelity-limit1000"),
            ("optimisation, standard", root / "optimize-std/eval/fidelity"),
            ("optimisation, robust", root / "optimize-robust/eval/fidelity"),
        )
    }
    out = ["## Fidelity", ""]
    for title, columns, cmd in (
        (
            "All 10,000 test images",
            full,
            "python evaluate.py fidelity --run RUN --evaluator EVALUATOR",
        ),
        (
            "The first 1,000 test images, with optimisation-based inversion",
            subset,
            "python evaluate.py fidelity --run RUN --evaluator EVALUATOR --limit 1000",
        ),
    ):
        present = {k: v for k, v in columns.items() if v}
        missing = [k for k, v in columns.items() if not v]
        out += [f"### {title}", "", f"`{cmd}`. 95% bootstrap intervals over images in brackets.", ""]
        out += [fidelity_table(present) if present else "Not run yet.", ""]
        if missing and present:
            out += [f"Not run yet: {'; '.join(missing)}.", ""]
    return out


def command_sections(root: Path) -> list[str]:
    out = []
    for title, folder, md in (
        ("Adversarial inputs", "adversarial", "adversarial.md"),
        ("Correctly and wrongly classified test images", "adversarial", "subsets.md"),
        ("Invariance to image transforms", "invariance", "invariance.md"),
        *((f"Logit edit: {e}", f"manipulate-{e}", "manipulate.md") for e in EDITS),
        ("Out of distribution: scikit-learn digits", "ood-sklearn-digits", "ood.md"),
        ("Out of distribution: scikit-image photographs", "ood-skimage-samples", "ood.md"),
    ):
        parts = []
        for kind in KINDS:
            path = root / kind / "eval" / folder / md
            if path.is_file():
                parts += [f"### {title}: {KINDS[kind]} classifier", "", path.read_text().strip(), ""]
        if parts:
            out += [f"## {title}", "", *parts]
    return out


def probes(root: Path) -> list[str]:
    out = ["## Probes", ""]
    for name in (
        "softmax-invariant",
        "fingerprint",
        "features",
        "confidence",
        "novelty",
        "style-shift-std",
        "style-shift-robust",
    ):
        files = sorted((root / "probes" / name).glob("*.md"))
        if files:
            out += [f"### {name}", ""]
            for f in files:
                out += [f.read_text().strip(), ""]
    return out if len(out) > 2 else []


def ema_section(folders: list[Path]) -> list[str]:
    if not folders:
        return []
    out = [
        "## The EMA generator's batch-norm statistics",
        "",
        "Every snapshot and grid now runs the EMA weights with batch-norm statistics measured for them (standing",
        "statistics over the logits of 1,024 training images; `inversion/training/standing_statistics.py`).",
        "Before, the EMA copy ran the live generator's statistics. `experiments/ema_statistics.py` scores both",
        "on the same 10,000 test images (the shipped snapshots were written before the change: they hold the",
        "live statistics):",
        "",
    ]
    measured = {}
    for folder in folders:
        data = load(folder / "results.json") or {}
        measured.update({f"{label} ({folder.name})": columns for label, columns in data.items()})
    rows = []
    for label, columns in measured.items():
        live, standing = columns["live statistics"], columns["standing statistics"]
        cells = [label]
        for key, fmt in (("id_top1", pct), ("ssim", lambda v, ci: num(v, ci, ".3f")), ("top1_agreement", pct)):
            cells.append(f"{fmt(live[key], live[key + '_ci'])} → {fmt(standing[key], standing[key + '_ci'])}")
        cells.append(f"{live[FID]:.2f} → {standing[FID]:.2f}")
        twin = [
            other
            for other, o in measured.items()
            if other != label and abs(o["live statistics"][FID] - live[FID]) < 0.01
        ]
        note = f"within 0.01 FID of {', '.join(twin)}: the same config and seed, trained again" if twin else ""
        cells.append(note)
        rows.append(cells)
    out += [
        table(["inverter", "identification top-1", "SSIM", "top-1 agreement", "FID (evaluator)", "note"], rows),
        "",
        "Live statistics → standing statistics. An inverter retrained on the CPU with the shipped one's config",
        "and seed comes out nearly the same network: it repeats the measurement, it is not a second sample of",
        "training runs (that needs another seed).",
        "",
    ]
    for folder in folders:
        text = (folder / "ema_statistics.md").read_text().strip() if (folder / "ema_statistics.md").is_file() else ""
        out += [text.replace("### ", f"### EMA statistics ({folder.name}): "), ""] if text else []
    return out


SEED_METRICS = (
    ("id_top1", "identification top-1", pct),
    ("ssim", "SSIM", lambda v, ci: num(v, ci, ".3f")),
    ("top1_agreement", "top-1 agreement", pct),
    ("evaluator_acc_recon", "evaluator accuracy", pct),
    ("psnr", "PSNR dB", num),
)


def seeds_section(seed_root: Path | None, ema: list[Path]) -> list[str]:
    """Seed 0 (the shipped inverters with standing statistics, from experiments/ema_statistics.py) beside
    seed 1 (experiments/second_seed.sh): how far a number moves between two training runs."""
    if seed_root is None:
        return []
    seed0 = {}
    for folder in ema:
        for name, columns in (load(folder / "results.json") or {}).items():
            if name in ("inverter-std", "inverter-robust"):
                seed0[name.removeprefix("inverter-")] = columns["standing statistics"]
    out = [
        "## Run-to-run spread: a second seed",
        "",
        "Each inverter trained again with `train.seed=1` (`bash experiments/second_seed.sh "
        f"{seed_root}`), same config and budget, scored on the same 10,000 test images. Seed 0 is the shipped",
        "inverter with standing statistics (what the trainer writes now; the EMA section's right-hand numbers).",
        "Where the two seeds' intervals are apart, training runs differ by more than the choice of test images",
        "explains, and a single run's interval understates the uncertainty.",
        "",
    ]
    rows, moved = [], []
    for cls in KINDS:
        first, second = seed0.get(cls), fidelity_of(seed_root / f"{cls}-seed1" / "eval" / "fidelity")
        if not first or not second:
            rows.append([KINDS[cls], *["not run yet"] * len(SEED_METRICS)])
            continue
        cells = []
        for key, label, fmt in SEED_METRICS:
            a, b = (first[key], first[key + "_ci"]), (second[key], second[key + "_ci"])
            cells.append(f"{fmt(*a)} / {fmt(*b)}")
            if apart(a[1], b[1]):
                moved.append(f"{label} ({KINDS[cls]})")
        rows.append([KINDS[cls], *cells])
    out += [table(["classifier", *[f"{m[1]}: seed 0 / seed 1" for m in SEED_METRICS]], rows), ""]
    if moved:
        out += [f"Intervals apart between the seeds: {', '.join(moved)}; the others overlap.", ""]
    elif all("not run yet" not in r for r in rows):
        out += ["Every interval overlaps between the two seeds.", ""]
    return out


LEAKAGE_KINDS = {  # output kind -> how the leakage table names it, from the most to the least detail
    "logits": "logits (ceiling)",
    "log_softmax": "log-probabilities (softmax, log taken)",
    "softmax": "softmax",
    "topk:5": "top-5 probabilities",
    "round:2": "probabilities rounded to 2 decimals",
    "topk:1": "top-1 probability with its class",
    "label": "label only (floor)",
}
LEAKAGE_METRICS = (
    ("id_top1", "identification top-1", pct),
    ("evaluator_acc_recon", "evaluator accuracy", pct),
    ("knn_distance", "KNN distance ↓", lambda v, ci: num(v, ci, ".3f")),
    ("psnr", "PSNR dB", num),
)


def leakage_numbers(root: Path) -> dict[tuple[str, str, str], dict]:
    """(method, classifier, output kind) -> the fidelity numbers of that run, for the runs that finished."""
    found = {}
    for method in ("gan", "decoder"):
        for cls in KINDS:
            for kind in LEAKAGE_KINDS:
                numbers = fidelity_of(root / f"{method}-{cls}-{kind.replace(':', '')}" / "eval" / "fidelity")
                if numbers:
                    found[(method, cls, kind)] = numbers
    return found


def leakage_position(value: float, floor: float, ceiling: float) -> str:
    """Where a value sits from the floor (0%) to the ceiling (100%); outside them, by how many points."""
    if ceiling <= floor:
        return "the ceiling is not above the floor"
    if value > ceiling:
        return f"above the ceiling by {100 * (value - ceiling):.1f} points"
    if value < floor:
        return f"below the floor by {100 * (floor - value):.1f} points"
    return f"{(value - floor) / (ceiling - floor):.0%} of the way from the floor to the ceiling"


def leakage_verdict(found: dict) -> list[str]:
    lines = []
    for method, method_name in (("gan", "GAN inverter"), ("decoder", "pixel-loss decoder")):
        for cls in KINDS:
            floor, ceiling = found.get((method, cls, "label")), found.get((method, cls, "logits"))
            if not floor or not ceiling:
                continue
            f, c = floor["id_top1"], ceiling["id_top1"]
            parts = []
            for kind in list(LEAKAGE_KINDS)[1:-1]:
                run = found.get((method, cls, kind))
                if not run:
                    parts.append(f"{LEAKAGE_KINDS[kind]}: not run yet")
                    continue
                ci = run["id_top1_ci"]
                tie = [
                    name for name, ref in (("logits", ceiling), ("label", floor)) if not apart(ci, ref["id_top1_ci"])
                ]
                if tie:
                    note = f" (interval overlaps {' and '.join(tie)})"
                elif run["id_top1"] > c:
                    note = " (interval above the logits', apart)"
                else:
                    note = ""
                parts.append(
                    f"{LEAKAGE_KINDS[kind]} {pct(run['id_top1'], ci)}, {leakage_position(run['id_top1'], f, c)}{note}"
                )
            lines.append(
                f"- {method_name}, {KINDS[cls]} classifier: identification top-1 from the label alone "
                f"{pct(f, floor['id_top1_ci'])}, from the logits {pct(c, ceiling['id_top1_ci'])}; "
                + "; ".join(parts)
                + "."
            )
    return lines


def leakage_figure(found: dict, path: Path) -> bool:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kinds = list(LEAKAGE_KINDS)
    fig, ax = plt.subplots(figsize=(8, 4.2))
    drawn = False
    for method, style in (("gan", "-o"), ("decoder", "--s")):
        for cls, colour in (("std", "tab:blue"), ("robust", "tab:orange")):
            xs = [i for i, k in enumerate(kinds) if (method, cls, k) in found]
            if not xs:
                continue
            ys = [100 * found[(method, cls, kinds[i])]["id_top1"] for i in xs]
            cis = [found[(method, cls, kinds[i])]["id_top1_ci"] for i in xs]
            err = [[y - 100 * ci[0] for y, ci in zip(ys, cis)], [100 * ci[1] - y for y, ci in zip(ys, cis)]]
            label = f"{'GAN' if method == 'gan' else 'decoder'}, {KINDS[cls]} classifier"
            ax.errorbar(xs, ys, yerr=err, fmt=style[-1], color=colour, capsize=3, label=label)
            for i in range(len(xs) - 1):  # lines only between neighbouring kinds: none across a kind not run
                if xs[i + 1] == xs[i] + 1:
                    ax.plot(xs[i : i + 2], ys[i : i + 2], style[:-1], color=colour)
            drawn = True
    if not drawn:
        plt.close(fig)
        return False
    ax.axhline(0.1, color="grey", lw=0.8, ls=":", label="chance (0.1%)")
    ticks = {"log_softmax": "log softmax", "topk:5": "top-5", "round:2": "round 2", "topk:1": "top-1"}
    ax.set_xticks(range(len(kinds)), [ticks.get(k, k) for k in kinds])
    ax.set_xlabel("what the classifier's API returns")
    ax.set_ylabel("identification top-1 of 1,000 (%)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def leakage_section(root: Path | None, docs: Path) -> list[str]:
    if root is None:
        return []
    found = leakage_numbers(root)
    out = [
        "## What does an API leak?",
        "",
        "A prediction API rarely returns raw logits. `experiments/api_leakage.sh` trains one GAN inverter and one",
        "pixel-loss decoder on each output kind of the shipped classifiers (`classifier.output`; same config,",
        "budget and seed as the CPU reference inverters) and scores each on all 10,000 test images. The label",
        "alone is the floor (no detail of the instance), the logits the ceiling. To rebuild:",
        "",
        "```",
        f"bash experiments/api_leakage.sh {root}",
        "```",
        "",
    ]
    rows = []
    for kind, kind_name in LEAKAGE_KINDS.items():
        for method in ("gan", "decoder"):
            for cls in KINDS:
                run = found.get((method, cls, kind))
                name = [kind_name, "GAN" if method == "gan" else "decoder", KINDS[cls]]
                if run is None:
                    rows.append([*name, *["not run yet"] * (len(LEAKAGE_METRICS) + 1)])
                    continue
                cells = [fmt(run[key], run.get(key + "_ci")) for key, _, fmt in LEAKAGE_METRICS]
                fid = run.get(FID)
                rows.append([*name, *cells, num(fid, run.get(FID + "_ci")) if isinstance(fid, float) else str(fid)])
    out += [
        table(["output", "inverter", "classifier", *[m[1] for m in LEAKAGE_METRICS], "FID (evaluator) ↓"], rows),
        "",
        "95% bootstrap intervals over test images in brackets (FID's: its value plus or minus 1.96 bootstrap",
        "standard deviations, reconstruction and source resampled together). Identification: the reconstruction",
        "picks its own source among 1,000 test images (chance 0.1%).",
        "",
    ]
    figure = docs / "results" / "leakage.png"
    if leakage_figure(found, figure):
        out += ["![identification by output kind](results/leakage.png)", ""]
    link = copy_picture(root / "grid.png", docs, "leakage-grid.png")
    if link:
        out += [
            f"![the same test images from every output kind]({link})",
            "",
            "The first test image of each class, rebuilt by the GAN inverter of each output kind at noise 0",
            f"(`python experiments/leakage_grid.py {root} --out {root}/grid.png`).",
            "",
        ]
    verdict = leakage_verdict(found)
    out += ["### Verdict", "", *(verdict or ["Not enough runs yet: the verdict needs the label and logits runs."]), ""]
    times = timings(root)
    if times:
        out += [
            "Wall times (`timings.tsv`; two units side by side, one thread each; a step copied from the",
            "reference experiment shows the wall time it had there):",
            "",
            table(
                ["step", "wall time", "command"],
                [[r["step"], minutes(r["seconds"]), f"`{r['command']}`"] for r in times],
            ),
            "",
        ]
    return out


def wall_times(rows: list[dict]) -> list[str]:
    if not rows:
        return []
    return [
        "## Every step's wall time",
        "",
        "From the script's `timings.tsv`; the two tracks ran side by side, one thread each.",
        "",
        table(
            ["step", "wall time", "command"],
            [[r["step"], minutes(r["seconds"]), f"`{r['command']}`"] for r in rows],
        ),
        "",
    ]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("root", help="the experiment's folder (runs/reference-shipped)")
    p.add_argument("--ema", nargs="*", default=[], help="experiments/ema_statistics.py output folders")
    p.add_argument("--seeds", help="experiments/second_seed.sh's folder (runs/second-seed), for its section")
    p.add_argument("--leakage", help="experiments/api_leakage.sh's folder (runs/api-leakage), for its section")
    p.add_argument("--out", default="docs/RESULTS.md", help="where the document goes (default docs/RESULTS.md)")
    args = p.parse_args(argv)
    root, out = Path(args.root), Path(args.out)
    rows = timings(root)
    times = {row["step"]: row["seconds"] for row in rows}
    ema = [Path(e) for e in args.ema]
    doc = [
        *header(root, ema, args.leakage, args.seeds),
        *verdicts(root, Path(args.seeds) if args.seeds else None),
        *networks(root, times),
        *pictures(root, out.parent),
        *fidelity_sections(root),
        *command_sections(root),
        *probes(root),
        *ema_section(ema),
        *seeds_section(Path(args.seeds) if args.seeds else None, ema),
        *leakage_section(Path(args.leakage) if args.leakage else None, out.parent),
        *wall_times(rows),
    ]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(doc).rstrip() + "\n")
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
