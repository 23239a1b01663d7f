"""Every command in the README and the guides in docs/ runs as written, in their order, in a fresh working
folder that sees the repository's configs, shipped networks and data: with arguments added that make it
take seconds (fewer steps, fewer images), with --dry-run where its data set cannot be had here, or not
at all for the few named below with the reason. A command the pages gain that this file does not know
fails the test, so that they cannot drift from what runs. The README's numbers are the block that
experiments/collect_results.py writes from docs/results/summary.json, checked here."""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

import evaluate
import train
from classifiers import evaluate as evaluate_classifier
from classifiers import train as train_classifier

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
# The pages whose commands run here, in this order, in one working folder.
PAGES = [README, *(ROOT / "docs" / f"{name}.md" for name in ("classifiers", "evaluation", "explorer", "experiments"))]

NOT_RUN = {
    "make demo": ".ci/run runs it after the tests",
    "make test": "it is what runs this test",
    "source .venv/bin/activate": "this test runs inside .venv",
    "python experiments/run.py reference runs/reference --list": "needs the experiment's folder; "
    "tests/test_experiment_runner.py runs the runner on an experiment it builds",
    "python experiments/run.py reference runs/reference --records experiments/records/reference": "hours of CPU; "
    "each of its steps is a command run here, and tests/test_experiment_runner.py runs the ledger",
    "python experiments/run.py diagnosis runs/diagnosis --records experiments/records/diagnosis --only 'paper-*'": (
        "hours of CPU; the same"
    ),
    "python experiments/collect_results.py --reference runs/reference --diagnosis runs/diagnosis --leakage "
    "runs/leakage": "needs the experiments' folders; tests/test_results_document.py runs it on folders it builds",
    "python -m classifiers.convert robustness:cifar_resnet50 cifar_l2_0_5.pt --out robust_c10.safetensors "
    "--trust-checkpoint": "needs MadryLab's published file; tests/test_robust.py converts one the library builds",
    "python -m classifiers.convert timm:resnet152 --out r152.safetensors": "needs timm's weights from the hub",
    "bash benchmarks/gpu_check.sh runs/gpu-check": "needs a CUDA device; tests/test_gpu_check.py runs its smoke mode",
    "python experiments/run.py leakage runs/leakage --records experiments/records/leakage --jobs 8": "eighteen "
    "training runs; tests/test_experiment_runner.py runs the runner with several jobs on an experiment it builds",
    "tar czf leakage-records.tgz experiments/records/leakage": "packs the ledger that the command before it fills",
}
DRY_RUN = {  # the data set or the weights cannot be had here: the config and arguments are checked
    "accelerate launch train.py --config configs/cifar10.yaml classifier.checkpoint=PATH",
    "accelerate launch train.py --config configs/imagenet64.yaml data.root=/data/imagenet",
}
TRAIN = [
    "train.max_steps=2",
    "train.batch_size=8",
    "train.logit_stats_samples=64",
    "train.standing_samples=64",  # 8 batches of standing statistics per grid, not 128: most of a 2-step run
    "train.sample_every=2",
    "train.checkpoint_every=2",
]
SMALL_G = ["model.g.ch=4", "model.d.ch=4", "model.g.cond_hidden=16"]
# Width 8, not 4: oneDNN 3.12 (torch 2.14's CPU convolutions) can hang in a 1x1 convolution's weight
# gradient of a ResNet-18 at width 4 on a 2-core CPU (with torch.backends.mkldnn off it does not).
CLASSIFIER = [
    "max_steps=2",
    "batch_size=16",
    "width=8",
    "robust_eval_samples=16",
    "adversarial.steps=1",
    "adversarial.eval_steps=1",
    "eval_batch_size=1000",
]
TINY = [  # (start of a README command, what is added to it)
    ("python train.py --config configs/demo.yaml", TRAIN),
    ("accelerate launch train.py --config configs/fmnist.yaml", TRAIN + SMALL_G),
    ("accelerate launch train.py --config configs/fmnist_cpu.yaml", TRAIN + SMALL_G),
    ("accelerate launch train.py --resume runs/fmnist-std", ["train.max_steps=4"]),
    ("python -m classifiers.train --config", CLASSIFIER),
    ("python -m classifiers.train --resume", []),
    ("python -m classifiers.evaluate", ["--samples", "16", "--steps", "2", "--autoattack-steps", "2"]),
    ("python evaluate.py grid", ["--n", "4"]),
    (
        "python evaluate.py fidelity",
        ["--limit", "64", "--candidates", "32", "--noise-draws", "1", "--reference-images", "200"],
    ),
    ("python evaluate.py manipulate", ["--n", "2", "--table-images", "16"]),
    ("python evaluate.py invariance", ["--limit", "16", "--batch-size", "16"]),
    (
        "python evaluate.py adversarial",
        ["--limit", "16", "--steps", "2", "--candidates", "8", "--no-realism", "--reference-images", "100"],
    ),
    ("python evaluate.py ood", ["--limit", "4"]),
    ("python evaluate.py baseline decoder", ["--steps", "3", *TRAIN[1:3]]),
    ("python evaluate.py baseline retrieval", ["--lookup-images", "2000"]),
    ("python evaluate.py baseline ridge", ["--train-images", "2000", "--limit", "500"]),
    (
        "python evaluate.py baseline optimize",
        ["--limit", "8", "--steps", "2", "--candidates", "8", "--no-realism", "--reference-images", "100"],
    ),
    ("python evaluate.py probe fingerprint", ["--epochs", "0.02", "--train-logits", "60", "--test-logits", "40"]),
    ("python evaluate.py probe features", ["--train-images", "200", "--test-images", "100"]),
    ("python evaluate.py probe confidence", ["--limit", "16", "--steps", "2"]),
    (
        "python evaluate.py probe novelty",
        [
            "--width",
            "4",
            "--backbone-epochs",
            "0.2",
            "--backbone-images",
            "200",
            "--probe-images",
            "60",
            "--test-images",
            "40",
            "--probe-epochs",
            "1",
        ],
    ),
    ("python evaluate.py probe style-shift", ["--pairs", "2", "--steps", "2", "--pool", "64"]),
    ("python evaluate.py probe softmax-invariant", ["--train-images", "200", "--limit", "100", "--bootstrap", "20"]),
    ("python evaluate.py report", []),
    ("python evaluate.py explore", ["--images", "4"]),
    ("python train.py --config configs/tiny.yaml --dry-run", []),
    ("ACCELERATE_USE_CPU=1 accelerate launch --multi_gpu --num_processes 2 train.py --config configs/tiny.yaml", []),
]
MAINS = {
    "train.py": train.main,
    "evaluate.py": evaluate.main,
    "-m classifiers.train": train_classifier.main,
    "-m classifiers.evaluate": evaluate_classifier.main,
}


def readme_blocks(pages=(README,)) -> list[tuple[str, str]]:
    return [block for page in pages for block in re.findall(r"```(\w*)\n(.*?)```", page.read_text(), flags=re.DOTALL)]


def readme_commands() -> list[str]:
    """Every command of the README's and the guides' shell blocks, in order, without its trailing comment."""
    commands = []
    for language, body in readme_blocks(PAGES):
        if language in ("python", "text"):  # the Python example runs below; a text block is a listing
            continue
        for line in body.replace("\\\n", " ").splitlines():
            command = re.sub(r"\s+#.*$", "", line).strip()
            if command:
                commands.append(" ".join(command.split()))
    return commands


def test_every_readme_command_is_known_here():
    unknown = [
        c
        for c in readme_commands()
        if c not in NOT_RUN and c not in DRY_RUN and not any(c.startswith(prefix) for prefix, _ in TINY)
    ]
    assert not unknown, "README commands this test does not know how to run: " + "; ".join(unknown)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A fresh working folder that sees the repository's configs, shipped networks and data."""
    if not (ROOT / "checkpoints" / "fmnist" / "inverter-robust.safetensors").is_file():
        pytest.skip("no shipped networks in checkpoints/fmnist/")
    data = ROOT / "data" / "FashionMNIST" / "raw"
    if not data.is_dir():
        pytest.skip("Fashion-MNIST is not in data/ (make data)")
    work = tmp_path_factory.mktemp("readme")
    for name in ("configs", "checkpoints", "data"):
        (work / name).symlink_to(ROOT / name)
    return work


def _run(command: str, work: Path, monkeypatch) -> int:
    words = shlex.split(command)
    if words[0] == "python" and words[1] in ("train.py", "evaluate.py"):
        main, argv = MAINS[words[1]], words[2:]
    elif words[0] == "python" and words[1] == "-m":
        main, argv = MAINS[f"-m {words[2]}"], words[3:]
    elif "--dry-run" in words:  # a launcher's start-up only to print a config: the script's own main says the same
        main, argv = MAINS["train.py"], words[words.index("train.py") + 1 :]
    else:  # accelerate launch, environment variables: a real subprocess, as a user runs it
        env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
        while "=" in words[0]:
            key, _, value = words.pop(0).partition("=")
            env[key] = value
        script = words.index("train.py")
        words[script] = str(ROOT / "train.py")
        executable = Path(sys.executable).parent / words[0]
        done = subprocess.run([str(executable), *words[1:]], cwd=work, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-3000:]
        return done.returncode
    monkeypatch.chdir(work)
    return main(argv)


def test_the_readme_commands_run(workdir, monkeypatch):
    ran = []
    for command in readme_commands():
        if command in NOT_RUN or command in ran:  # a page repeating a command already run here: the same output
            continue
        added = next((extra for prefix, extra in TINY if command.startswith(prefix)), [])
        if command in DRY_RUN:
            added = ["--dry-run"]
        line = command + "".join(f" {shlex.quote(a)}" for a in added)
        print(line, flush=True)  # shown with the failure: which command, with what added
        assert _run(line, workdir, monkeypatch) == 0, line
        ran.append(command)
    assert len(ran) >= 35
    assert (workdir / "runs" / "fmnist-std" / "snapshot.safetensors").is_file()
    assert (workdir / "runs" / "report" / "index.html").is_file()
    assert (workdir / "runs" / "lookup-std" / "snapshot.safetensors").is_file()


def test_the_readme_numbers_are_the_results_generators():
    """The README's answer is the block collect_results writes from the committed summary of the runs."""
    from experiments.collect_results import answer_block, summary_from_file

    expected = answer_block(summary_from_file(ROOT / "docs" / "results" / "summary.json"))
    assert expected in README.read_text()
    # And no other measured number in the README: percentages and timings appear only in that block.
    rest = README.read_text().replace(expected, "")
    assert not re.findall(r"\d+(?:\.\d+)?\s?%|\d+(?:\.\d+)? ?(?:ms|min|minutes|seconds|dB)\b", rest)


def test_the_readme_python_example_runs(workdir, monkeypatch):
    (code,) = [body for language, body in readme_blocks() if language == "python"]
    monkeypatch.chdir(workdir)
    namespace = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert namespace["recon"].shape == (8, 1, 32, 32) and namespace["edited"].shape == (8, 1, 32, 32)


def test_the_evaluation_guide_holds_the_registry_of_measures():
    from inversion.presentation.tables import measures_table

    assert measures_table() in (ROOT / "docs" / "evaluation.md").read_text()


def test_the_guides_quote_no_measured_number():
    """Measured numbers live in docs/RESULTS.md (generated) and the README's generated block, not in prose."""
    pattern = re.compile(r"\d+\.\d+\s?%|\d+(?:\.\d+)? ?(?:ms|dB|it/s|images/s)\b")
    for name in ("classifiers", "evaluation", "explorer", "experiments", "errors"):
        text = (ROOT / "docs" / f"{name}.md").read_text()
        assert not pattern.findall(text), (name, pattern.findall(text))
