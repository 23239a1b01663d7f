"""Rebuild docs/RESULTS.md from the experiments' folders: nothing in it is typed by hand.

    python experiments/run.py reference runs/reference
    python experiments/run.py diagnosis runs/diagnosis
    python experiments/run.py leakage runs/leakage
    python experiments/collect_results.py --reference runs/reference --diagnosis runs/diagnosis --leakage runs/leakage

Every number is read, through the step names of experiments/manifest.py, from a command's
results.json (`infra.estimate.Estimate`s) or a shipped network's metadata; trained methods are
reported as the mean over their training runs (seeds) with the runs' standard deviation, and every
verdict is a test on seed means (experiments/verdicts.py). A step that has not finished is named,
with the command that runs it. Also writes docs/results/summary.json, the numbers the README quotes
(tests/test_readme.py checks the README against it), and copies the pictures to docs/results/.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from classifiers.checkpoint import read_metadata  # noqa: E402
from experiments import verdicts  # noqa: E402
from experiments.manifest import (  # noqa: E402
    CLASSIFIERS,
    CURVES,
    DIAGNOSIS,
    DIAGNOSIS_STEPS,
    LEAKAGE_GAN_KINDS,
    LEAKAGE_KINDS,
    LONGER,
    LONGER_STEPS,
    ROBUST_DIAGNOSIS,
    ROBUST_DIAGNOSIS_STEPS,
    SEEDS,
    SHIPPED,
    WIDE,
    Experiment,
    Step,
    experiment,
    leakage_gan_run,
    slug,
)
from infra.estimate import Estimate, read_estimates, to_json  # noqa: E402
from inversion.measures import EVALUATOR_FID, MEASURES  # noqa: E402
from inversion.presentation.tables import fidelity_table, table  # noqa: E402

# The columns of the summary tables: (measure key, short label).
MAIN = (
    ("id_top1", "identification top-1"),
    ("id_top5", "top-5"),
    ("psnr", "PSNR dB"),
    ("ssim", "SSIM"),
    (EVALUATOR_FID, "FID (evaluator)"),
    ("top1_agreement", "top-1 agreement"),
    ("evaluator_acc_recon", "evaluator accuracy (class)"),
    ("evaluator_acc_recon_correct", "… where phi is right (class)"),
)
TRAINED = {"gan": "GAN, default recipe", "paper": "GAN, paper recipe", "decoder": "pixel-loss decoder"}
# Candidate recipes trained for one classifier only: (method, classifier) -> label.
CANDIDATES = {(WIDE, kind): "GAN, default recipe, G twice as wide" for kind in ("robust", "std")}
REFERENCES = {"floor": "class floor (label only)", "lookup": "retrieval lookup", "knn10": "mean of 10 nearest"}


class Folder:
    """One experiment's folder, read through its manifest."""

    def __init__(self, exp: Experiment, root: Path):
        self.exp, self.root = exp, Path(root)
        # The folders whose finished steps price this one's unfinished ones (main() puts every folder here).
        self.peers: list[Folder] = [self]

    def done(self, name: str) -> bool:
        self.exp.step(name)  # a name the manifest does not define is an error, not "not run yet"
        path = self.root / "steps.tsv"
        if not path.is_file():
            return False
        with open(path) as f:
            return any(row["step"] == name for row in csv.DictReader(f, delimiter="\t"))

    def results(self, name: str) -> dict | None:
        step = self.exp.step(name)
        path = self.root / step.result
        if not self.done(name) or not path.is_file():
            return None
        return read_estimates(json.loads(path.read_text()))

    def fidelity(self, run: str) -> dict[str, Estimate] | None:
        data = self.results(f"{run}/fidelity")
        return data["fidelity"] if data else None

    def todo(self, names: list[str]) -> str:
        """The sentence naming steps that have not finished, with the command that runs them."""
        left = [n for n in names if not self.done(n)]
        if not left:
            return ""
        # The command runs them and every unfinished step they need (a score needs its training run).
        wanted: set[str] = set()
        stack = list(left)
        while stack:
            name = stack.pop()
            if name not in wanted and not self.done(name):
                wanted.add(name)
                stack += self.exp.step(name).needs
        patterns = " ".join(f"'{s.name}'" for s in self.exp.steps if s.name in wanted)
        finished = finished_steps(self.peers)
        hours = sum(price(self.exp.step(n), finished) for n in wanted) / 3600
        cost = f", {core_time(hours)} at the wall times of finished steps like them" if hours else ""
        return (
            f"Not finished{cost}: {', '.join(left[:6])}{' and more' if len(left) > 6 else ''} "
            f"(`python experiments/run.py {self.exp.name} {self.root} --records experiments/records/{self.exp.name} "
            f"--only {patterns}`)."
        )

    def timings(self) -> list[dict]:
        path = self.root / "steps.tsv"
        if not path.is_file():
            return []
        with open(path) as f:
            return list(csv.DictReader(f, delimiter="\t"))


def seeds_of(folder: Folder, method: str, kind: str, extra: str = "") -> list[str]:
    return [f"{method}-{kind}{extra}-seed{s}" for s in SEEDS]


def over_seeds(folder: Folder, runs: list[str], key: str) -> Estimate:
    """The seed mean of a measure over the runs that finished."""
    values = [f[key] for r in runs if (f := folder.fidelity(r)) and key in f]
    return verdicts.runs(values)


def fmt(key: str) -> str:
    return MEASURES[key].format


def cell(e: Estimate | None, key: str) -> str:
    if e is None:
        return "not run yet"
    if e.kind == "runs" and e.n == 0:
        return "not run yet"
    return e.cell(fmt(key))


# ------------------------------------------------------------------ sections
def trained_run(name: str) -> bool:
    """A step that trains one seed of a method (an inverter or a decoder), not a score of one."""
    return re.search(r"-seed\d+$", name) is not None


# What a step's command says beyond its configuration: the run's name and folder, its seed, the classifier
# and its output kind. Steps whose commands agree on the rest take about the same time.
VOLATILE = re.compile(r"\{root\}|^name=|^runs_dir=|^train\.seed=|^classifier\.|classifier-(std|robust)")


def command_key(step: Step) -> tuple[str, ...]:
    return tuple(part for part in step.command if not VOLATILE.search(part))


def finished_steps(folders: list[Folder]) -> list[tuple[Step, float]]:
    """Every finished step of these folders with its wall time in seconds."""
    finished = []
    for folder in folders:
        known = {s.name: s for s in folder.exp.steps}
        finished += [(known[r["step"]], float(r["seconds"])) for r in folder.timings() if r["step"] in known]
    return finished


def price(step: Step, finished: list[tuple[Step, float]]) -> float:
    """The seconds an unfinished step would take: the median wall time of the finished steps whose commands
    differ from its own only in name, seed and classifier, else of all finished steps of its sort (a trained
    run or not); 0 when nothing of either has finished."""
    same = [t for s, t in finished if command_key(s) == command_key(step)]
    sort = same or [t for s, t in finished if trained_run(s.name) == trained_run(step.name)]
    return statistics.median(sort) if sort else 0.0


def core_time(hours: float) -> str:
    if hours * 60 < 0.5:
        return "under a core-minute"
    if hours < 1:
        return f"about {hours * 60:.0f} core-minutes"
    return f"about {hours:.1f} core-hours" if hours < 10 else f"about {hours:.0f} core-hours"


def backlog(folders: list[Folder]) -> tuple[list[tuple[str, int, int]], float]:
    """Per experiment, trained runs finished and planned; and the core-hours the unfinished steps would take,
    each priced by `price` from the finished steps of all the folders."""
    finished = finished_steps(folders)
    counts, left = [], 0.0
    for folder in folders:
        left += sum(price(step, finished) for step in folder.exp.steps if not folder.done(step.name))
        runs = [s.name for s in folder.exp.steps if trained_run(s.name)]
        counts.append((folder.exp.name, sum(folder.done(n) for n in runs), len(runs)))
    return counts, left / 3600


def backlog_sentence(folders: list[Folder]) -> str:
    counts, hours = backlog(folders)
    text = "Trained runs finished: " + ", ".join(f"{name} {done} of {planned}" for name, done, planned in counts) + "."
    if hours:
        text += (
            f" The rest would take {core_time(hours)} at the wall times of the finished steps; each"
            " table names its unfinished steps and the command that runs them."
        )
    return text


def header(args, folders: list[Folder]) -> list[str]:
    roots = [(name, getattr(args, name)) for name in ("reference", "diagnosis", "leakage") if getattr(args, name)]
    hardware = ""
    for _, root in roots:
        path = Path(root) / "hardware.txt"
        if path.is_file():
            hardware = path.read_text().strip()
            break
    runs = "\n".join(
        f"python experiments/run.py {name} {root} --records experiments/records/{name}" for name, root in roots
    )
    flags = " ".join(f"--{name} {root}" for name, root in roots)
    return [
        "# Results: what Fashion-MNIST classifiers' logits give away",
        "",
        "Written by `experiments/collect_results.py` from the experiments' folders; every number is read from a",
        "command's `results.json` or a shipped network's metadata. To rebuild (the steps are listed in",
        "`experiments/manifest.py`; `docs/experiments.md` explains them):",
        "",
        "```",
        runs,
        f"python experiments/collect_results.py {flags}",
        "```",
        "",
        "**A training run is the unit.** Every trained method is planned at three seeds (`experiments/manifest.py`);",
        "its numbers are the mean over the runs that have finished ± their standard deviation, with their count",
        "beside them, and every verdict is a test on seed means (Welch's t, two-sided, 5%); with fewer than two",
        f"runs on a side it says it is not tested. {backlog_sentence(folders)} The retrieval references are not",
        "trained: their brackets are 95% intervals over test images. Identification is among 1,000 test images",
        "(its expectation over every random draw of the other candidates); chance is 0.1%. PSNR and SSIM are on",
        "Fashion-MNIST's own 28 px (the padding cropped). Class-level measures (evaluator accuracy, agreement, KNN",
        "distance) say whether a reconstruction shows the right class, which the label alone gives; instance-level",
        "ones (identification, pixels, features) say how much of the image it holds.",
        "",
        "Hardware:",
        "",
        "```",
        hardware or "not recorded",
        "```",
        "",
    ]


def method_rows(ref: Folder) -> dict[tuple[str, str], dict[str, Estimate]]:
    """(method, classifier) -> {measure: estimate} for the references (one run) and the trained methods (seeds)."""
    rows = {}
    for kind in CLASSIFIERS:
        for method in REFERENCES:
            f = ref.fidelity(f"{method}-{kind}")
            if f:
                rows[(method, kind)] = f
        optimised = ref.results(f"optimize-{kind}")
        if optimised:
            rows[("optimize", kind)] = optimised["fidelity"]
    for method, kind in [(m, k) for k in CLASSIFIERS for m in TRAINED] + list(CANDIDATES):
        runs = seeds_of(ref, method, kind)
        if any(ref.fidelity(r) for r in runs):
            rows[(method, kind)] = {key: over_seeds(ref, runs, key) for key, _ in MAIN}
    return rows


def summary(ref: Folder) -> dict:
    """The headline numbers, as data: what the README quotes and tests/test_readme.py checks."""
    out = {}
    for kind in CLASSIFIERS:
        for method in (*REFERENCES, *TRAINED):
            f = ref.fidelity(f"{method}-{kind}") if method in REFERENCES else None
            if method in TRAINED:
                runs = seeds_of(ref, method, kind)
                if any(ref.fidelity(r) for r in runs):
                    out[f"{method}-{kind}"] = {key: over_seeds(ref, runs, key) for key, _ in MAIN}
            elif f:
                out[f"{method}-{kind}"] = {key: f[key] for key, _ in MAIN if key in f}
    return out


ANSWER_START = "<!-- answer: written by experiments/collect_results.py from docs/results/summary.json -->"
ANSWER_END = "<!-- /answer -->"


def summary_from_file(path: Path) -> dict:
    return read_estimates(json.loads(Path(path).read_text())) if Path(path).is_file() else {}


def answer_sentence(s: dict) -> str:
    """The answer in one sentence, from the summary's numbers; "" when the runs are not there yet."""
    parts = []
    for kind, name in CLASSIFIERS.items():
        gan, lookup, floor = s.get(f"gan-{kind}"), s.get(f"lookup-{kind}"), s.get(f"floor-{kind}")
        if not (gan and lookup and floor):
            continue
        parts.append(
            f"from the {name} classifier's logits, the default inverter picks out its source among 1,000 test "
            f"images {cell(gan['id_top1'], 'id_top1')}, against {cell(floor['id_top1'], 'id_top1')} for the class "
            f"alone and {cell(lookup['id_top1'], 'id_top1')} for a nearest-neighbour lookup in logit space"
        )
    return ("; ".join(parts) + " (chance: 0.1%).") if parts else ""


def runs_phrase(s: dict) -> str:
    """How many training runs stand behind the inverters' numbers in the answer."""
    counts = sorted({s[f"gan-{kind}"]["id_top1"].n for kind in CLASSIFIERS if f"gan-{kind}" in s})
    if not counts:
        return ""
    if counts[-1] == 1:
        return f"one training run per inverter so far, of the {len(SEEDS)} planned"
    fewest = f"{counts[0]}" if len(counts) == 1 else f"{counts[0]} to {counts[-1]}"
    return f"mean ± SD over {fewest} training runs"


def answer_block(s: dict) -> str:
    """The README's block of numbers: the answer, or a line saying that nothing is measured yet."""
    sentence = answer_sentence(s)
    body = (
        f"On Fashion-MNIST ({runs_phrase(s)}; lookups with 95% intervals): {sentence[0].upper()}{sentence[1:]}"
        if sentence
        else "Not measured yet: `docs/results/summary.json` holds no finished runs."
    )
    return f"{ANSWER_START}\n{body}\n{ANSWER_END}"


def write_readme_answer(readme: Path, s: dict) -> None:
    text = readme.read_text()
    start, end = text.index(ANSWER_START), text.index(ANSWER_END) + len(ANSWER_END)
    readme.write_text(text[:start] + answer_block(s) + text[end:])


def headline(ref: Folder) -> list[str]:
    sentence = answer_sentence(summary(ref))
    if not sentence:
        names = [f"{m}-{k}/fidelity" for m in ("lookup", "floor") for k in CLASSIFIERS]
        names += [f"gan-{k}-seed{s}/fidelity" for k in CLASSIFIERS for s in SEEDS]
        return ["## The answer", "", ref.todo(names) or "Not measured yet.", ""]
    return ["## The answer", "", f"In one sentence ({runs_phrase(summary(ref))}): {sentence}", ""]


def main_table(ref: Folder) -> list[str]:
    rows = method_rows(ref)
    body = []
    labels = {**REFERENCES, **TRAINED, "optimize": "optimisation (first 1,000 test images)"}
    for kind, name in CLASSIFIERS.items():
        candidates = {method: label for (method, k), label in CANDIDATES.items() if k == kind}
        for method, label in {**labels, **candidates}.items():
            numbers = rows.get((method, kind))
            runs = "1" if method in REFERENCES or method == "optimize" else None
            if numbers is None:
                body.append([name, label, "", *["not run yet"] * len(MAIN)])
                continue
            n = runs or str(numbers["id_top1"].n)
            body.append([name, label, n, *(cell(numbers.get(key), key) for key, _ in MAIN)])
    names = (
        [f"{m}-{k}/fidelity" for k in CLASSIFIERS for m in REFERENCES]
        + [f"{r}/fidelity" for k in CLASSIFIERS for m in TRAINED for r in seeds_of(ref, m, k)]
        + [f"{r}/fidelity" for m, k in CANDIDATES for r in seeds_of(ref, m, k)]
    )
    return [
        "## Every method, both classifiers",
        "",
        "All 10,000 test images (optimisation: the first 1,000). Trained methods: mean ± SD over their runs;",
        "references: the value [95% interval over test images].",
        "",
        table(["classifier", "method", "runs", *(label for _, label in MAIN)], body),
        ref.todo(names),
        "",
    ]


def verdict_section(ref: Folder) -> list[str]:
    s = summary(ref)
    rows = []
    for kind, name in CLASSIFIERS.items():
        gan, lookup, paper = s.get(f"gan-{kind}"), s.get(f"lookup-{kind}"), s.get(f"paper-{kind}")
        if gan and lookup:
            rows.append(
                [
                    f"The default inverter recovers at least what a lookup does ({name})",
                    verdicts.against_reference(
                        "default GAN", gan["id_top1"], "lookup", lookup["id_top1"], fmt("id_top1"), "higher"
                    ),
                ]
            )
        if gan and paper:
            text = "; ".join(
                verdicts.compare_runs("default", gan[key], "paper", paper[key], label, fmt(key), MEASURES[key].better)
                for key, label in (
                    ("id_top1", "identification"),
                    (EVALUATOR_FID, "FID"),
                    ("top1_agreement", "agreement"),
                )
            )
            rows.append([f"The default recipe beats the paper's ({name})", text])
        decoder = s.get(f"decoder-{kind}")
        if gan and decoder:
            text = "; ".join(
                verdicts.compare_runs("GAN", gan[key], "decoder", decoder[key], label, fmt(key), MEASURES[key].better)
                for key, label in (("id_top1", "identification"), (EVALUATOR_FID, "FID"))
            )
            rows.append([f"The GAN beats the pixel-loss decoder ({name})", text])
    for method in ("gan", "paper"):
        std, robust = s.get(f"{method}-std"), s.get(f"{method}-robust")
        if std and robust:
            text = "; ".join(
                verdicts.compare_runs(
                    "robust", robust[key], "standard", std[key], label, fmt(key), MEASURES[key].better
                )
                for key, label in (
                    ("id_top1", "identification"),
                    ("psnr", "PSNR"),
                    (EVALUATOR_FID, "FID"),
                    ("top1_agreement", "agreement"),
                )
            )
            rows.append([f"Robust logits give better reconstructions than standard ones ({TRAINED[method]})", text])
    trained = method_rows(ref)
    for (method, kind), label in CANDIDATES.items():
        candidate, gan = trained.get((method, kind)), s.get(f"gan-{kind}")
        if candidate and gan:
            text = "; ".join(
                verdicts.compare_runs(
                    method, candidate[key], "default", gan[key], measure, fmt(key), MEASURES[key].better
                )
                for key, measure in (("id_top1", "identification"), (EVALUATOR_FID, "FID"))
            )
            rows.append([f"{label} beats the default recipe ({CLASSIFIERS[kind]})", text])
    if not rows:
        return []
    return ["## Verdicts", "", table(["claim", "what the runs say"], rows), ""]


def networks() -> list[str]:
    rows = []
    for file, label in (("classifier-std", "standard"), ("classifier-robust", "robust"), ("evaluator", "evaluator")):
        meta = read_metadata(ROOT / SHIPPED / f"{file}.safetensors")
        ev = meta.get("evaluation") or {}
        auto = ev.get("autoattack") or {}
        adv = meta.get("adversarial")
        training = "standard" if not adv else f"PGD-{adv['steps']} {adv['norm']} eps {adv['eps']}"
        rows.append(
            [
                label,
                f"{meta['arch']} width {meta['width']}, {training}",
                f"{meta['test_accuracy']:.1%}",
                f"{ev['robust_accuracy']:.1%}" if "robust_accuracy" in ev else "",
                f"{auto['robust_accuracy']:.1%}" if auto else "",
            ]
        )
    return [
        "## The networks",
        "",
        f"The shipped networks in `{SHIPPED}/` (their metadata): clean accuracy on all 10,000 test images; L-inf",
        "eps 0.1 accuracy under PGD-20 and AutoAttack (APGD-CE then APGD-T) on the first 1,000.",
        "",
        table(["network", "what", "clean", "PGD-20", "AutoAttack"], rows),
        "",
    ]


def change_table(diag: Folder, rows_of: dict[str, tuple[str, tuple[str, ...]]], base: str) -> tuple[str, str]:
    """One row per configuration (mean ± SD over its seeds), its identification tested against the `base`
    row's seed mean (Welch's t); and the steps not finished yet."""
    reference = over_seeds(diag, [f"{base}-seed{s}" for s in SEEDS], "id_top1")
    rows = []
    for label, (what, overrides) in rows_of.items():
        runs = [f"{label}-seed{s}" for s in SEEDS]
        numbers = {key: over_seeds(diag, runs, key) for key in ("id_top1", EVALUATOR_FID, "top1_agreement")}
        settings = f"{what} {' '.join(overrides)}".strip()
        if not numbers["id_top1"].values:
            rows.append([label, settings, *["not run yet"] * 4])
            continue
        moved = ""
        if label != base:
            test = verdicts.welch(numbers["id_top1"], reference) if reference.values else None
            moved = (
                "fewer than two runs on a side: not tested"
                if test is None
                else (f"{test.difference * 100:+.1f} points, p = {test.p:.2g}")
            )
        rows.append(
            [
                label,
                settings,
                cell(numbers["id_top1"], "id_top1"),
                moved,
                cell(numbers[EVALUATOR_FID], EVALUATOR_FID),
                cell(numbers["top1_agreement"], "top1_agreement"),
            ]
        )
    names = [f"{label}-seed{s}/fidelity" for label in rows_of for s in SEEDS]
    header = ["configuration", "settings", "identification top-1", f"vs {base}", "FID (evaluator)", "agreement"]
    return table(header, rows), diag.todo(names)


def diagnosis_section(diag: Folder | None) -> list[str]:
    if diag is None:
        return []
    paper = {label: (f"`{Path(config).name}`", overrides) for label, (config, overrides) in DIAGNOSIS.items()}
    paper_table, paper_todo = change_table(diag, paper, "paper")
    robust = {label: (f"{CLASSIFIERS[kind]} classifier", o) for label, (kind, o) in ROBUST_DIAGNOSIS.items()}
    robust_table, robust_todo = change_table(diag, robust, "robust")
    return [
        "## What limits the paper recipe",
        "",
        f"The standard classifier, {DIAGNOSIS_STEPS:,} steps of the CPU configs (half the paper recipe's 4,000),",
        "three seeds per row; the change in identification is against the paper recipe's seed mean (Welch's t).",
        "",
        paper_table,
        paper_todo,
        "",
        "## What holds the robust inverter back",
        "",
        "The default recipe's reconstruction phase alone (`configs/fmnist_cpu.yaml`, whose adversarial term starts at",
        f"step 13,000) for {ROBUST_DIAGNOSIS_STEPS:,} steps, one change at a time, three seeds per row; the change in",
        "identification is against the `robust` row's seed mean (Welch's t), and `std` is the standard classifier's",
        "gap at this budget.",
        "",
        robust_table,
        robust_todo,
        "",
    ]


def copy_picture(src: Path, docs: Path, name: str) -> str | None:
    if not src.is_file():
        return None
    target = docs / "results" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, target)
    return f"results/{name}"


def pictures(ref: Folder, docs: Path) -> list[str]:
    out = ["## Reconstructions", ""]
    link = copy_picture(ref.root / "comparison.png", docs, "comparison.png") if ref.done("comparison-figure") else None
    if link:
        out += [
            f"![every method]({link})",
            "",
            "The first 12 test images (top row), then every method from each",
            "classifier's logits, at noise 0 (`experiments/comparison_figure.py`).",
            "",
        ]
    else:
        out += [ref.todo(["comparison-figure"]), ""]
    for kind, name in CLASSIFIERS.items():
        results = ref.results(f"gan-{kind}-seed0/grid")
        link = copy_picture(ref.root / f"gan-{kind}-seed0/eval/grid/grid.png", docs, f"grid-{kind}.png")
        if link and results:
            out += [
                f"### Default inverter, {name} classifier",
                "",
                f"![{name}]({link})",
                "",
                results["pictures"]["grid.png"],
                "",
            ]
    return out


def budget_sentence(points: list[dict], lookup: Estimate | None, label: str) -> str:
    """What the curve says about the budget: the last point against the lookup, and, below it, the gain per
    1,000 steps over the last half of training and the steps a straight line at that gain would need."""
    last = points[-1]
    value = last["id_top1"].value
    if lookup is None:
        return f"{label}: {value:.1%} at step {last['step']}."
    if value >= lookup.value:
        return f"{label}: {value:.1%} at step {last['step']}, at or above the lookup's {lookup.value:.1%}."
    tail = [p for p in points if p["step"] >= last["step"] / 2]
    if len(tail) < 2:
        return f"{label}: {value:.1%} at step {last['step']}, below the lookup's {lookup.value:.1%}."
    steps = [p["step"] for p in tail]
    values = [p["id_top1"].value for p in tail]
    mean_s, mean_v = sum(steps) / len(steps), sum(values) / len(values)
    slope = sum((s - mean_s) * (v - mean_v) for s, v in zip(steps, values)) / sum((s - mean_s) ** 2 for s in steps)
    gap = lookup.value - value
    if slope <= 0:
        return (
            f"{label}: {value:.1%} at step {last['step']}, {100 * gap:.1f} points below the lookup's "
            f"{lookup.value:.1%}, and no longer rising over the last half of training (least-squares gain "
            f"{100_000 * slope:+.2f} points per 1,000 steps): more steps of this recipe do not close the gap."
        )
    return (
        f"{label}: {value:.1%} at step {last['step']}, {100 * gap:.1f} points below the lookup's "
        f"{lookup.value:.1%}; over the last half of training it gained {100_000 * slope:.2f} points per 1,000 "
        f"steps (least squares), so a straight line at that gain reaches the lookup after about "
        f"{last['step'] + gap / slope:,.0f} steps: an extrapolation, not a measurement, and a curve that "
        "flattens needs more."
    )


def curve_section(ref: Folder, docs: Path) -> list[str]:
    names = [f"curve-{method}-{kind}" for method, kind in CURVES]
    out = [
        "## Identification against training step",
        "",
        "Seed 0 of each recipe keeps its snapshot at every checkpoint (`train.keep_snapshots`);",
        "`experiments/identification_curve.py` scores each on all 10,000 test images. It says how far a",
        "budget is from converged, and what budget would reach the lookup.",
        "",
    ]
    labels = {
        "gan": "default recipe",
        "paper": "paper recipe",
        WIDE: "default recipe with G twice as wide",
        LONGER: f"default recipe with G twice as wide, trained on to {LONGER_STEPS:,} steps",
    }
    for method, kind in CURVES:
        name, label, step = CLASSIFIERS[kind], labels[method], f"curve-{method}-{kind}"
        if not ref.done(step):
            continue
        data = read_estimates(json.loads((ref.root / step / "curve.json").read_text()))
        points, lookup = data["points"], data["lookup"]
        rows = [[f"{p['step']:,}", cell(p["id_top1"], "id_top1"), cell(p["fid"], EVALUATOR_FID)] for p in points]
        out += [
            f"### {label[0].upper() + label[1:]}, {name} classifier",
            "",
            table(["training step", "identification top-1", "FID (evaluator)"], rows),
            "",
            budget_sentence(points, lookup, f"The {label} ({name})"),
            "",
        ]
        link = copy_picture(ref.root / step / "curve.png", docs, f"{step}.png")
        if link:
            out += [f"![{step}]({link})", ""]
    todo = ref.todo(names)
    return out + ([todo, ""] if todo else [])


def fidelity_tables(ref: Folder) -> list[str]:
    out = ["## Full fidelity tables (seed 0 of each trained method)", ""]
    for kind, name in CLASSIFIERS.items():
        columns = {}
        for run, label in (
            (f"floor-{kind}", "class floor"),
            (f"lookup-{kind}", "lookup"),
            (f"knn10-{kind}", "10-NN mean"),
            (f"gan-{kind}-seed0", "GAN default"),
            (f"paper-{kind}-seed0", "GAN paper"),
            (f"decoder-{kind}-seed0", "decoder"),
        ):
            f = ref.fidelity(run)
            if f:
                columns[label] = f
        if columns:
            out += [f"### {name.capitalize()} classifier", "", fidelity_table(columns), ""]
    return out if len(out) > 2 else []


def command_sections(ref: Folder) -> list[str]:
    out = []
    for title, folder, md in (
        ("Adversarial inputs", "adversarial", "adversarial.md"),
        ("Correctly and wrongly classified test images", "adversarial", "subsets.md"),
        ("Invariance to image transforms", "invariance", "invariance.md"),
        *(
            (f"Logit edit: {e}", f"manipulate-{e}", "manipulate.md")
            for e in ("shift", "scale", "noise", "interpolate", "swap-top2")
        ),
        ("Out of distribution: scikit-learn digits", "ood-sklearn-digits", "ood.md"),
        ("Out of distribution: scikit-image photographs", "ood-skimage-samples", "ood.md"),
    ):
        parts = []
        for kind, name in CLASSIFIERS.items():
            path = ref.root / f"gan-{kind}-seed0" / "eval" / folder / md
            if ref.done(f"gan-{kind}-seed0/{folder}") and path.is_file():
                parts += [f"### {title}: {name} classifier", "", path.read_text().strip(), ""]
        if parts:
            out += [f"## {title} (default inverter, seed 0)", "", *parts]
    return out


# What the leakage verdicts ask, each as one output kind against another: (question, a, b).
LEAKAGE_CLAIMS = (
    ("Does the attacker's log undo what the softmax flattens?", "softmax+log", "softmax"),
    ("Do log-probabilities hold what the logits hold?", "softmax+log", "logits"),
    ("Does keeping only the top 5 take something away?", "topk:5+log", "softmax+log"),
    ("Does rounding to 2 decimals take something away?", "round:2+log", "softmax+log"),
    ("Does the top-1 probability add to the label?", "topk:1+log", "label"),
)


def leakage_cells(leak: Folder, ref: Folder) -> dict[tuple[str, str], dict[str, Estimate | None]]:
    """Identification per (output, classifier) for each method: lookup, ridge, and the GAN's seed mean."""
    folders = {"reference": ref, "leakage": leak}
    cells = {}
    for output in LEAKAGE_KINDS:
        for kind in CLASSIFIERS:
            lookup = leak.fidelity(f"lookup-{kind}-{slug(output)}")
            ridge = leak.results(f"ridge-{kind}-{slug(output)}")
            gan = None
            if output in LEAKAGE_GAN_KINDS:
                where = [leakage_gan_run(kind, output, s) for s in SEEDS]
                gan = over_seeds(folders[where[0][0]], [run for _, run in where], "id_top1")
            cells[output, kind] = {
                "lookup": lookup["id_top1"] if lookup else None,
                "ridge": ridge["fidelity"]["id_top1"] if ridge else None,
                "gan": gan,
            }
    return cells


def leakage_verdicts(cells: dict[tuple[str, str], dict[str, Estimate | None]]) -> list[list[str]]:
    rows = []
    for question, a, b in LEAKAGE_CLAIMS:
        for kind, name in CLASSIFIERS.items():
            row = [f"{question} (`{a}` vs `{b}`)", name]
            for method in ("lookup", "ridge", "gan"):
                x, y = cells[a, kind][method], cells[b, kind][method]
                if method == "gan" and not (a in LEAKAGE_GAN_KINDS and b in LEAKAGE_GAN_KINDS):
                    row.append("not trained")
                elif x is None or y is None or x.value is None or y.value is None:
                    row.append("not run on both sides")
                else:
                    row.append(verdicts.difference(x, y, fmt("id_top1")))
            rows.append(row)
    return rows


def leakage_section(leak: Folder | None, ref: Folder) -> list[str]:
    if leak is None:
        return []
    cells = leakage_cells(leak, ref)
    rows = []
    for output in LEAKAGE_KINDS:
        for kind, name in CLASSIFIERS.items():
            c = cells[output, kind]
            rows.append(
                [
                    f"`{output}`",
                    name,
                    cell(c["lookup"], "id_top1") if c["lookup"] else "not run yet",
                    cell(c["ridge"], "id_top1") if c["ridge"] else "not run yet",
                    cell(c["gan"], "id_top1") if output in LEAKAGE_GAN_KINDS else "not trained",
                ]
            )
    names = [s.name for s in leak.exp.steps if s.name.endswith("/fidelity") or s.name.startswith("ridge-")]
    return [
        "## What does a prediction API leak?",
        "",
        "Identification top-1 (of 1,000) from what an API returns, as an attacker uses it: probabilities with the",
        "log taken (`+log`: log(max(p, 1e-7)); `classifiers/outputs.py`), the label alone, or raw logits (the",
        "reference run: a function of the image, not a bound). The retrieval lookup and the ridge regression to the",
        "evaluator's features (`evaluate.py baseline ridge`: linear, no image made) train no generator, so they",
        "measure what leaks without one generator's training in the way; raw `softmax` (no log) shows what the",
        "encoding alone costs. GAN: the default recipe, mean ± SD over three seeds (for `logits`, the reference",
        "experiment's default-recipe runs, which are the same command).",
        "",
        table(
            ["output", "classifier", "retrieval lookup", "ridge to evaluator features", "GAN (default recipe)"], rows
        ),
        leak.todo(names),
        "",
        "### What the leakage table says",
        "",
        "Each question compares two output kinds by each method that has both. The lookup and the ridge have no",
        "training seed, so two of their numbers differ when their 95% intervals over the test images are apart",
        "(the same images on both sides); the GAN's seed means are compared by Welch's test.",
        "",
        table(
            ["question", "classifier", "retrieval lookup", "ridge to evaluator features", "GAN (default recipe)"],
            leakage_verdicts(cells),
        ),
        "",
    ]


def shown(command: str) -> str:
    """A step's command as a reader types it: paths inside the repository relative, the project's Python `python`."""
    command = command.replace(f"{ROOT}{os.sep}", "")
    return "python" + command[len(".venv/bin/python") :] if command.startswith(".venv/bin/python ") else command


def wall_times(folders: list[Folder]) -> list[str]:
    out = []
    for folder in folders:
        rows = folder.timings()
        if not rows:
            continue
        out += [
            f"### {folder.exp.name}",
            "",
            table(
                ["step", "minutes", "command"],
                [[r["step"], f"{int(r['seconds']) / 60:.1f}", f"`{shown(r['command'])}`"] for r in rows],
            ),
            "",
        ]
    if not out:
        return []
    return [
        "## Every step's wall time",
        "",
        "From each folder's `steps.tsv` (two steps at a time, one thread each).",
        "",
        *out,
    ]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--reference", required=True, help="the reference experiment's folder (runs/reference)")
    p.add_argument("--diagnosis", help="the diagnosis experiment's folder (runs/diagnosis)")
    p.add_argument("--leakage", help="the leakage experiment's folder (runs/leakage)")
    p.add_argument("--out", default="docs/RESULTS.md", help="where the document goes (default docs/RESULTS.md)")
    p.add_argument(
        "--readme", default="README.md", help="the README whose answer block is rewritten (default README.md; '' skips)"
    )
    args = p.parse_args(argv)
    out = Path(args.out)
    ref = Folder(experiment("reference"), Path(args.reference))
    diag = Folder(experiment("diagnosis"), Path(args.diagnosis)) if args.diagnosis else None
    leak = Folder(experiment("leakage"), Path(args.leakage)) if args.leakage else None
    for folder in (ref, diag, leak):
        if folder is not None:
            folder.peers = [f for f in (ref, diag, leak) if f is not None]
    doc = [
        *header(args, [f for f in (ref, diag, leak) if f is not None]),
        *headline(ref),
        *verdict_section(ref),
        *main_table(ref),
        *diagnosis_section(diag),
        *curve_section(ref, out.parent),
        *networks(),
        *pictures(ref, out.parent),
        *fidelity_tables(ref),
        *command_sections(ref),
        *leakage_section(leak, ref),
        *wall_times([f for f in (ref, diag, leak) if f is not None]),
    ]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(doc).rstrip() + "\n")
    summary_path = out.parent / "results" / "summary.json"
    summary_path.parent.mkdir(parents=True, exist_ok=True)
    summary_path.write_text(json.dumps(summary(ref), indent=1, default=to_json) + "\n")
    if args.readme:
        write_readme_answer(Path(args.readme), summary(ref))
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
