"""experiments/collect_results.py: RESULTS.md is written from the experiments' folders through the manifest,
its verdicts test seed means, and a step that has not finished is named with the command that runs it."""

import json
import re
from pathlib import Path

import pytest

from experiments import collect_results
from experiments.manifest import experiment
from infra.estimate import Estimate, read_estimates, to_json

FID = "fid[logit-inversion-evaluator]"
LIKE = "at the wall times of finished steps like them"  # how a table prices its unfinished steps


def _finish(root: Path, name: str, fidelity: dict | None = None, seconds: int = 60):
    """Record a step as done (steps.tsv) and, for a fidelity step, write its results.json."""
    steps = root / "steps.tsv"
    if not steps.is_file():
        root.mkdir(parents=True, exist_ok=True)
        steps.write_text("step\tseconds\tcommand\n")
    with open(steps, "a") as f:
        f.write(f"{name}\t{seconds}\tpython step {name}\n")
    if fidelity is not None:
        step = experiment("diagnosis" if root.name == "diag" else "reference").step(name)
        path = root / step.result
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"fidelity": fidelity}, default=to_json))


def _numbers(id_top1: float, fid: float = 3.0, agree: float = 0.95, psnr: float = 14.0) -> dict:
    return {
        "images": Estimate.exact(10000),
        "id_top1": Estimate(id_top1, id_top1 - 0.004, id_top1 + 0.004, 10000, "bootstrap"),
        "id_top5": Estimate(3 * id_top1, n=10000),
        "psnr": Estimate(psnr, psnr - 0.05, psnr + 0.05, 10000, "bootstrap"),
        "ssim": Estimate(0.6, 0.59, 0.61, 10000, "bootstrap"),
        FID: Estimate(fid, fid - 0.1, fid + 0.1, 10000, "bootstrap-sd"),
        "top1_agreement": Estimate(agree, agree - 0.005, agree + 0.005, 10000, "wilson"),
        "evaluator_acc_recon": Estimate(0.85, 0.84, 0.86, 10000, "wilson"),
    }


@pytest.fixture
def reference(tmp_path):
    """Built so that the answers are known: the default GAN's seeds are 18.5, 19.0, 19.5% (mean 19.0,
    SD 0.5) against a lookup of 19.5%; the paper recipe's 2.6, 2.9, 3.2% (clearly behind); the robust
    default GAN's 19.1, 19.2, 19.3% (level with the standard one); the decoder has not run."""
    root = tmp_path / "reference"
    for kind in ("std", "robust"):
        _finish(root, f"floor-{kind}/fidelity", _numbers(0.010, fid=0.05))
        _finish(root, f"lookup-{kind}/fidelity", _numbers(0.195, fid=0.02))
    gan = {"std": (0.185, 0.190, 0.195), "robust": (0.191, 0.192, 0.193)}
    for kind, values in gan.items():
        for seed, value in enumerate(values):
            _finish(root, f"gan-{kind}-seed{seed}/fidelity", _numbers(value, fid=2.0 + seed * 0.1))
            _finish(
                root, f"paper-{kind}-seed{seed}/fidelity", _numbers((0.026, 0.029, 0.032)[seed], fid=3.2, agree=0.88)
            )
    return root


def test_the_answer_and_the_verdicts_come_from_seed_means(reference, tmp_path):
    out = tmp_path / "docs" / "RESULTS.md"
    assert collect_results.main(["--reference", str(reference), "--out", str(out), "--readme", ""]) == 0
    text = out.read_text()
    answer = next(line for line in text.splitlines() if line.startswith("In one sentence (mean ± SD over 3 training"))
    assert "19.0% ± 0.5% (3 runs)" in answer and "1.0% [0.6%, 1.4%]" in answer and "19.5% [19.1%, 19.9%]" in answer
    lookup = next(line for line in text.splitlines() if "at least what a lookup does (standard)" in line)
    assert "holds it" in lookup  # 19.0 +/- t(2) x 0.5 / sqrt(3) = [17.8, 20.2] holds 19.5
    paper = next(line for line in text.splitlines() if "beats the paper's (standard)" in line)
    assert "identification: default 19.0% ± 0.5% (3 runs) vs paper 2.9% ± 0.3% (3 runs): default ahead" in paper
    assert "FID: default 2.100 ± 0.100 (3 runs) vs paper 3.200 ± 0.000 (3 runs): default ahead" in paper
    robust = next(line for line in text.splitlines() if line.startswith("| Robust logits") and "default" in line)
    assert (
        "identification: robust 19.2% ± 0.1% (3 runs) vs standard 19.0% ± 0.5% (3 runs): no difference shown" in robust
    )
    assert "GAN beats the pixel-loss decoder" not in text  # no decoder runs: no verdict invented


def test_unfinished_steps_are_named_with_the_command_that_runs_them(reference, tmp_path):
    out = tmp_path / "RESULTS.md"
    assert collect_results.main(["--reference", str(reference), "--out", str(out), "--readme", ""]) == 0
    text = out.read_text()
    assert re.search(rf"Not finished, about \d+ core-minutes {LIKE}: knn10-std/fidelity", text)
    row = next(line for line in text.splitlines() if "| pixel-loss decoder |" in line)
    assert "not run yet" in row
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert headings[0].startswith("# ") and all(not h.startswith("####") for h in headings)


def test_the_summary_holds_the_numbers_the_readme_quotes(reference, tmp_path):
    out = tmp_path / "docs" / "RESULTS.md"
    collect_results.main(["--reference", str(reference), "--out", str(out), "--readme", ""])
    summary = read_estimates(json.loads((out.parent / "results" / "summary.json").read_text()))
    gan = summary["gan-std"]["id_top1"]
    assert gan.kind == "runs" and gan.values == [0.185, 0.19, 0.195] and gan.spread == pytest.approx(0.005)
    assert summary["lookup-std"]["id_top1"].value == 0.195


def test_a_step_the_manifest_does_not_define_is_an_error_not_a_missing_number(reference):
    folder = collect_results.Folder(experiment("reference"), reference)
    with pytest.raises(KeyError, match="no step"):
        folder.fidelity("gan-std-seed7")


def test_the_readme_block_is_rewritten_from_the_summary(reference, tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\nBefore.\n{collect_results.answer_block({})}\nAfter.\n")
    out = tmp_path / "docs" / "RESULTS.md"
    assert collect_results.main(["--reference", str(reference), "--out", str(out), "--readme", str(readme)]) == 0
    text = readme.read_text()
    assert text.startswith("# x\n\nBefore.\n") and text.endswith("After.\n")
    assert "the default inverter picks out its source among 1,000 test images 19.0% ± 0.5% (3 runs)" in text
    summary = collect_results.summary_from_file(out.parent / "results" / "summary.json")
    assert collect_results.answer_block(summary) in text


def test_the_answer_says_how_many_training_runs_stand_behind_it(reference, tmp_path):
    from experiments.collect_results import Folder, answer_block, summary

    three = answer_block(summary(Folder(experiment("reference"), reference)))
    assert "mean ± SD over 3 training runs" in three
    steps = reference / "steps.tsv"  # seeds 1 and 2 not finished yet: one run per inverter
    steps.write_text("".join(line for line in steps.open() if not ("gan-" in line and "seed0" not in line)))
    one = answer_block(summary(Folder(experiment("reference"), reference)))
    assert "one training run per inverter so far, of the 3 planned" in one and "18.5%" in one


def _point(step: int, value: float) -> dict:
    return {
        "step": step,
        "id_top1": Estimate(value, value - 0.004, value + 0.004, 10000, "bootstrap"),
        "fid": Estimate(1.0),
    }


def test_the_curve_gives_the_budget_a_straight_line_would_need(reference, tmp_path):
    lookup = Estimate(0.15, 0.145, 0.155, 10000, "bootstrap")
    # 1 point per 1,000 steps after a flat start: 10% at step 10,000 gaining 1% per 1,000 steps.
    points = [_point(s, 0.01 * s / 1000) for s in range(0, 11000, 1000)]
    sentence = collect_results.budget_sentence(points, lookup, "The default recipe")
    assert "10.0% at step 10000, 5.0 points below the lookup's 15.0%" in sentence
    assert "1.00 points per 1,000 steps" in sentence and "after about 15,000 steps" in sentence
    flat = [_point(s, 0.1) for s in range(0, 11000, 1000)]
    assert "no longer rising" in collect_results.budget_sentence(flat, lookup, "x")
    assert "at or above the lookup's" in collect_results.budget_sentence([_point(100, 0.2)], lookup, "x")
    # In the document: the table, the sentence, and the picture copied beside RESULTS.
    _finish(reference, "curve-gan-std")
    (reference / "curve-gan-std").mkdir()
    (reference / "curve-gan-std" / "curve.json").write_text(
        json.dumps({"run": "r", "points": points, "lookup": lookup}, default=to_json)
    )
    (reference / "curve-gan-std" / "curve.png").write_bytes(b"png")
    out = tmp_path / "docs" / "RESULTS.md"
    assert collect_results.main(["--reference", str(reference), "--out", str(out), "--readme", ""]) == 0
    text = out.read_text()
    assert "### Default recipe, standard classifier" in text and "| 10,000 | 10.0% [9.6%, 10.4%] |" in text
    assert "after about 15,000 steps" in text and (tmp_path / "docs/results/curve-gan-std.png").is_file()
    assert re.search(
        rf"Not finished, about \d+ core-minutes {LIKE}: curve-paper-std, curve-gan-robust, curve-paper-robust, ",
        text,
    )


def test_a_candidate_recipe_gets_its_row_and_its_verdict_against_the_default(reference, tmp_path):
    """The wider G for the robust classifier: 20, 21, 22% (mean 21.0, SD 1.0) against the robust default's 19.1,
    19.2, 19.3% (mean 19.2, SD 0.1): Welch's t = 1.8 / sqrt(1/3 + 0.01/3) = 3.1 on about 2 degrees of freedom,
    p about 0.09, so no difference is shown; at 24, 25, 26% it is clearly ahead."""
    out = tmp_path / "RESULTS.md"
    for values, expected in (((0.20, 0.21, 0.22), "no difference shown"), ((0.24, 0.25, 0.26), "wide ahead")):
        steps = reference / "steps.tsv"
        steps.write_text("".join(line for line in steps.open() if "wide-" not in line))
        for seed, value in enumerate(values):
            _finish(reference, f"wide-robust-seed{seed}/fidelity", _numbers(value, fid=1.5))
        assert collect_results.main(["--reference", str(reference), "--out", str(out), "--readme", ""]) == 0
        text = out.read_text()
        rows = [line for line in text.splitlines() if "| GAN, default recipe, G twice as wide |" in line]
        row = next(line for line in rows if line.startswith("| robust |"))
        assert f"{sum(values) / 3:.1%} ± 1.0%" in row
        verdict = next(
            line for line in text.splitlines() if "G twice as wide beats the default recipe (robust)" in line
        )
        assert f"identification: wide {sum(values) / 3:.1%} ± 1.0% (3 runs) vs default 19.2% ± 0.1% (3 runs)" in verdict
        assert expected in verdict
    standard = next(line for line in rows if line.startswith("| standard |"))
    assert "not run yet" in standard  # the standard candidate's runs are not there


def test_the_leakage_table_takes_its_logits_gan_from_the_reference_experiment(reference, tmp_path):
    """The `logits` cell's GAN runs are the reference experiment's default recipe (18.5, 19.0, 19.5%: mean
    19.0); the other trained cells are the leakage experiment's own (label: 1.0, 1.2, 1.4%: mean 1.2)."""
    leak = tmp_path / "leakage"
    leakage = experiment("leakage")
    for seed, value in enumerate((0.010, 0.012, 0.014)):
        name = f"gan-std-label-seed{seed}/fidelity"
        _finish(leak, name)
        path = leak / leakage.step(name).result
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"fidelity": _numbers(value)}, default=to_json))
    assert not any(s.name.startswith("gan-std-logits") for s in leakage.steps)  # nothing trained twice
    out = tmp_path / "RESULTS.md"
    args = ["--reference", str(reference), "--leakage", str(leak), "--out", str(out), "--readme", ""]
    assert collect_results.main(args) == 0
    cells = [line.split(" | ") for line in out.read_text().splitlines() if line.startswith("| `")]
    rows = {f"{c[0]} {c[1]}": " | ".join(c) for c in cells}
    assert rows["| `logits` standard"].endswith("| 19.0% ± 0.5% (3 runs) |")
    assert rows["| `label` standard"].endswith("| 1.2% ± 0.2% (3 runs) |")
    assert rows["| `softmax+log` robust"].endswith("| no runs |")


def test_the_leakage_verdicts_compare_output_kinds_by_intervals_and_seed_means(reference, tmp_path):
    """Known answers: the lookup's `softmax+log` 17.7% [17.3, 18.1] against `logits` 19.4% [19.0, 19.8] (apart:
    lower); against top-5's 17.5% [17.1, 17.9] (overlapping: nothing shown). The GAN's `label` seeds 1.0, 1.2,
    1.4% and nothing for `topk:1+log` or `softmax+log` (no test); the reference experiment's `logits` seeds."""
    leak = tmp_path / "leakage"
    leakage = experiment("leakage")

    def write(name, value):
        _finish(leak, name)
        path = leak / leakage.step(name).result
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"fidelity": _numbers(value)}, default=to_json))

    for slug, value in (("logits", 0.194), ("softmax-log", 0.177), ("topk5-log", 0.175)):
        write(f"lookup-std-{slug}/fidelity", value)
    for seed, value in enumerate((0.010, 0.012, 0.014)):
        write(f"gan-std-label-seed{seed}/fidelity", value)
    out = tmp_path / "RESULTS.md"
    args = ["--reference", str(reference), "--leakage", str(leak), "--out", str(out), "--readme", ""]
    assert collect_results.main(args) == 0
    text = out.read_text().split("### What the leakage table says", 1)[1]
    rows = {
        tuple(line.split(" | ")[:2]): line.split(" | ")[2:] for line in text.splitlines() if line.startswith("| Do")
    }
    logits = rows["| Do log-probabilities hold what the logits hold? (`softmax+log` vs `logits`)", "standard"]
    assert logits[0] == "17.7% vs 19.4%: lower (95% intervals apart)"
    assert logits[1] == "not run on both sides" and logits[2] == "not run on both sides |"  # no ridge; no GAN softmax
    top5 = rows["| Does keeping only the top 5 take something away? (`topk:5+log` vs `softmax+log`)", "standard"]
    assert top5[0] == "17.5% vs 17.7%: not shown apart (95% intervals overlap)"
    label = rows["| Does the top-1 probability add to the label? (`topk:1+log` vs `label`)", "standard"]
    assert label[0] == "not run on both sides" and label[2] == "not trained |"  # top-1 has no GAN cell


def test_the_wall_time_table_shows_commands_as_a_reader_types_them():
    root = collect_results.ROOT
    typed = f"{root}/.venv/bin/python evaluate.py fidelity --run {root}/runs/reference/x --evaluator e.safetensors"
    assert (
        collect_results.shown(typed) == "python evaluate.py fidelity --run runs/reference/x --evaluator e.safetensors"
    )
    assert collect_results.shown("/usr/bin/python3 train.py") == "/usr/bin/python3 train.py"  # another Python: as run


def test_the_diagnosis_tables_test_each_change_against_their_own_base(reference, tmp_path):
    """Known answers: the paper recipe's seeds 2.6, 2.9, 3.2% and the pixel term's 10, 11, 12% (+8.1 points);
    the robust rows' base 13, 14, 15% and the wider G's 18, 19, 20% (+5.0 points); the rest not run."""
    diag = tmp_path / "diag"
    cells = {"paper": (0.026, 0.029, 0.032), "pixel-term": (0.10, 0.11, 0.12)}
    cells |= {"robust": (0.13, 0.14, 0.15), "robust-g-width-16": (0.18, 0.19, 0.20)}
    for label, values in cells.items():
        for seed, value in enumerate(values):
            _finish(diag, f"{label}-seed{seed}/fidelity", _numbers(value))
    out = tmp_path / "RESULTS.md"
    args = ["--reference", str(reference), "--diagnosis", str(diag), "--out", str(out), "--readme", ""]
    assert collect_results.main(args) == 0
    text = out.read_text()
    rows = {line.split(" | ")[0][2:]: line for line in text.splitlines() if line.startswith("| ")}
    assert "| 11.0% ± 1.0% (3 runs) | +8.1 points, p = " in rows["pixel-term"]
    assert "| 19.0% ± 1.0% (3 runs) | +5.0 points, p = " in rows["robust-g-width-16"]
    assert "not run yet" in rows["robust-cond-width-256"] and "not run yet" in rows["logit-consistency"]
    _finish(diag, "std-seed0/fidelity", _numbers(0.16))  # one run: shown, not tested
    assert collect_results.main(args) == 0
    std = next(line for line in out.read_text().splitlines() if line.startswith("| std |"))
    assert "| 16.0% (1 run) | fewer than two runs on a side: not tested |" in std
    assert text.index("## What limits the paper recipe") < text.index("## What holds the robust inverter back")
    assert "| configuration | settings | identification top-1 | vs robust |" in text


def test_the_backlog_counts_trained_runs_and_prices_what_is_left_by_finished_steps_like_it(tmp_path):
    """Known answer: a-seed0 took an hour and its score 6 minutes. Left: a-seed1 and a-seed2 (an hour each, as
    a-seed0: the same command but for name and seed), b-seed0 (another config: nothing like it finished, so the
    median of finished trained runs, an hour), and three scores (6 minutes each): 3.3 core-hours, 1 of 4 runs."""
    from experiments.manifest import Experiment, Step

    toy = Experiment("toy", "a known backlog")
    for config, label in (("a.yaml", "a"), ("b.yaml", "b")):
        for seed in range(3 if label == "a" else 1):
            name = f"{label}-seed{seed}"
            toy.add(Step(name, ("{py}", "train.py", "--config", config, f"name={name}", f"train.seed={seed}"), name))
            score = ("{py}", "evaluate.py", "fidelity", "--run", f"{{root}}/{name}")
            toy.add(Step(f"{name}/fidelity", score, name, needs=(name,)))
    root = tmp_path / "toy"
    _finish(root, "a-seed0", seconds=3600)
    _finish(root, "a-seed0/fidelity", seconds=360)
    counts, hours = collect_results.backlog([collect_results.Folder(toy, root)])
    assert counts == [("toy", 1, 4)]
    assert hours == pytest.approx((3 * 3600 + 3 * 360) / 3600)
    sentence = collect_results.backlog_sentence([collect_results.Folder(toy, root)])
    assert sentence.startswith("Trained runs finished: toy 1 of 4. The rest would take about 3.3 core-hours")
    # A table's unfinished steps are priced the same way, with the runs they need: a-seed1's score needs
    # a-seed1 (an hour, as a-seed0) and takes 6 minutes itself; b-seed0 alone, an hour; nothing finished, no
    # price; a score whose run has finished, its own 6 minutes.
    folder = collect_results.Folder(toy, root)
    assert folder.todo(["a-seed0/fidelity"]) == ""
    assert folder.todo(["a-seed1/fidelity"]).startswith(
        "Not finished, about 1.1 core-hours at the wall times of finished steps like them: a-seed1/fidelity (`python"
    )
    assert folder.todo(["b-seed0"]).startswith("Not finished, about 1.0 core-hours at the wall times")
    assert collect_results.Folder(toy, tmp_path / "empty").todo(["a-seed0"]).startswith("Not finished: a-seed0 (`")
    _finish(root, "a-seed1", seconds=3000)  # its score alone is left
    assert folder.todo(["a-seed1/fidelity"]).startswith("Not finished, about 6 core-minutes at the wall times")
