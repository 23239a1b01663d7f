"""Nothing a user types can crash it or lose work.

- Kills: a training process is killed (SIGKILL, as by a crash or `kill -9`) at chosen points (after a
  step, inside a checkpoint write, between a checkpoint and its snapshot, during start-up, one of two
  processes); `--resume` must end with the same weights and snapshot as a run that was never killed.
- Damage: each file of a checkpoint is truncated, zeroed, deleted or has one byte flipped; resuming
  must stop with one line naming the file and the earlier checkpoint, and change nothing.
- Bad input: a table of mistakes across train.py, classifiers.train, classifiers.evaluate and
  evaluate.py; each must exit with code 2 and one line, with no traceback and no file changed in an
  existing run folder.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import evaluate
import train
from classifiers import evaluate as evaluate_classifier
from classifiers import train as train_classifier
from infra.checkpoints import list_checkpoints
from infra.faults import VARIABLE

ROOT = Path(__file__).resolve().parents[1]
TINY = str(ROOT / "configs" / "tiny.yaml")


# One thread per process: the same reductions in every run, so weights can be compared bit for bit.
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}


def _train(run_dir: Path, *args, kill_at: str | None = None, processes: int = 1) -> subprocess.CompletedProcess:
    """train.py in a subprocess (two processes through accelerate launch), killed at `kill_at` if given."""
    env = dict(ENV)
    env.pop(VARIABLE, None)
    if kill_at:
        env[VARIABLE] = kill_at
    where = (
        ["--resume", str(run_dir)]
        if "--resume" in args
        else ["--config", TINY, f"runs_dir={run_dir.parent}", f"name={run_dir.name}"]
    )
    rest = [a for a in args if a != "--resume"]
    if processes == 1:
        command = [sys.executable, str(ROOT / "train.py"), *where, *rest]
    else:
        env["ACCELERATE_USE_CPU"] = "1"
        accelerate = Path(sys.executable).parent / "accelerate"
        command = [
            str(accelerate),
            "launch",
            "--multi_gpu",
            "--num_processes",
            str(processes),
            "--main_process_port",
            "29521",  # not tests/test_distributed.py's 29517: make test runs files side by side
            str(ROOT / "train.py"),
            *where,
            *rest,
        ]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def _weights(run_dir: Path) -> dict[str, torch.Tensor]:
    """The final snapshot and the newest checkpoint's networks, EMA included."""
    out = {f"snapshot/{k}": v for k, v in load_file(str(run_dir / "snapshot.safetensors")).items()}
    latest = list_checkpoints(run_dir)[-1]
    for name in ("model.safetensors", "model_1.safetensors"):
        out.update({f"{name}/{k}": v for k, v in load_file(str(latest / name)).items()})
    out["ema"] = torch.cat(
        [
            v.flatten().float()
            for v in torch.load(latest / "custom_checkpoint_0.pkl", weights_only=True)["model"].values()
        ]
    )
    return out


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    run = tmp_path_factory.mktemp("faults") / "uninterrupted"
    done = _train(run)
    assert done.returncode == 0, done.stderr[-2000:]
    return _weights(run)


@pytest.mark.parametrize("kill_at", ["step:3", "checkpoint-write:4", "before-snapshot:4"])
def test_a_killed_run_resumes_to_the_same_weights_and_snapshot(tmp_path, reference, kill_at):
    run = tmp_path / "killed"
    killed = _train(run, kill_at=kill_at)
    assert killed.returncode == -9, killed.stderr[-2000:]
    if kill_at == "before-snapshot:4":  # the last checkpoint is complete, the snapshot is one behind
        assert [p.name for p in list_checkpoints(run)][-1] == "step-0000004"
    resumed = _train(run, "--resume")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert _same(_weights(run), reference)
    if kill_at == "before-snapshot:4":
        assert "rewrote the snapshot at step 4 (it was at step 2)" in resumed.stdout


def test_a_run_continued_in_a_new_folder_equals_a_longer_run_and_leaves_the_original(tmp_path, reference):
    """Known answer: two steps, continued to four in another folder (experiments/continue_run.py), end with
    the same weights as the uninterrupted four-step run; the two-step run's files do not change."""
    from experiments.continue_run import main as continue_main

    short = tmp_path / "short"
    assert _train(short, "train.max_steps=2").returncode == 0
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in short.rglob("*") if p.is_file()}
    longer = tmp_path / "longer"
    command = [sys.executable, str(ROOT / "experiments" / "continue_run.py"), str(short), str(longer)]
    resumed = subprocess.run([*command, "train.max_steps=4", "--train"], env=ENV, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert _same(_weights(longer), reference)
    assert {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in short.rglob("*") if p.is_file()} == before
    assert "name: longer" in (longer / "config.yaml").read_text()
    assert "continued from" in (longer / "log.txt").read_text()
    assert continue_main([str(short), str(longer)]) == 2  # never into a folder that holds a run
    assert continue_main([str(short), str(tmp_path / "other"), "model.g.ch=8"]) == 2  # only train.* may change


def test_a_run_killed_during_start_up_says_to_start_again_and_can(tmp_path, reference):
    run = tmp_path / "early"
    assert _train(run, kill_at="step:1").returncode == -9
    assert (run / "config.yaml").is_file() and not list_checkpoints(run)
    resumed = _train(run, "--resume")
    assert resumed.returncode == 2
    assert (
        "never reached its first checkpoint" in resumed.stderr and f"--config {run / 'config.yaml'}" in resumed.stderr
    )
    again = subprocess.run(
        [sys.executable, str(ROOT / "train.py"), "--config", str(run / "config.yaml")],
        env=ENV,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert again.returncode == 0, again.stderr[-2000:]
    assert _same(_weights(run), reference)


def test_a_lost_snapshot_is_rewritten_on_resume(tmp_path, reference):
    run = tmp_path / "lost"
    assert _train(run).returncode == 0
    (run / "snapshot.safetensors").write_bytes(b"truncated")
    resumed = _train(run, "--resume")
    assert (
        resumed.returncode == 0
        and "rewrote the snapshot at step 4 (it was missing, unreadable or damaged)" in resumed.stdout
    )
    assert _same(_weights(run), reference)


def test_one_of_two_processes_killed_ends_the_run_and_it_resumes_exactly(tmp_path):
    whole = tmp_path / "two"
    assert _train(whole, processes=2).returncode == 0
    run = tmp_path / "two-killed"
    killed = _train(run, kill_at="step:3:1", processes=2)
    assert killed.returncode != 0
    resumed = _train(run, "--resume", processes=2)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert _same(_weights(run), _weights(whole))


# ------------------------------------------------------------------ damaged checkpoints
@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("damage")
    assert train.main(["--config", TINY, f"runs_dir={root}", "name=run"]) == 0
    return root / "run"


def _hashes(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


DAMAGES = {
    "truncated": lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]),
    "zeroed": lambda p: p.write_bytes(bytes(p.stat().st_size)),
    "deleted": lambda p: p.unlink(),
    "one flipped byte": lambda p: p.write_bytes((lambda b: b[:-7] + bytes([b[-7] ^ 0x55]) + b[-6:])(p.read_bytes())),
}


def test_every_damaged_checkpoint_file_is_named_in_one_line(finished_run, tmp_path, capsys):
    latest = list_checkpoints(finished_run)[-1]
    files = sorted(p.relative_to(latest) for p in latest.rglob("*") if p.is_file() and p.name != "COMPLETE")
    assert len(files) >= 6  # two models, two optimisers, the random states, the EMA and the train state
    for name in files:
        for damage, apply in DAMAGES.items():
            run = tmp_path / f"{name}-{damage}".replace("/", "_").replace(" ", "_")
            shutil.copytree(finished_run, run)
            apply(run / "checkpoints" / latest.name / name)
            before = _hashes(run)
            capsys.readouterr()
            assert train.main(["--resume", str(run), "train.max_steps=6"]) == 2, (name, damage)
            err = capsys.readouterr().err
            assert err.count("\n") == 1 and "Traceback" not in err, (name, damage, err)
            assert f"is damaged: {name} " in err and "to resume from step-0000002" in err, (name, damage, err)
            assert _hashes(run) == before, (name, damage)
            shutil.rmtree(run)


def _marker_damages(latest: Path, earlier: Path) -> dict:
    marker = latest / "COMPLETE"

    def changed_digest(p: Path) -> None:
        record = json.loads(p.read_text())
        name = sorted(record["files"])[0]
        record["files"][name]["sha256"] = "0" * 64
        p.write_text(json.dumps(record))

    return {
        "truncated": (lambda: DAMAGES["truncated"](marker), "damaged COMPLETE marker (it does not parse"),
        "zeroed": (lambda: DAMAGES["zeroed"](marker), "damaged COMPLETE marker (it does not parse"),
        "emptied": (lambda: marker.write_text(""), "damaged COMPLETE marker (it does not parse"),
        "deleted": (lambda: marker.unlink(), "incomplete: has no COMPLETE marker (it was deleted"),
        "one digest changed": (lambda: changed_digest(marker), "its own checksum does not match"),
        "swapped for the older one": (
            lambda: shutil.copyfile(earlier / "COMPLETE", marker),
            "has the COMPLETE marker of step 2 (swapped in",
        ),
        "no file list": (lambda: marker.write_text('{"step": 4}'), "without its list of files"),
    }


def test_a_damaged_marker_is_blamed_itself_and_never_turns_checking_off(finished_run, tmp_path, capsys):
    latest, earlier = list_checkpoints(finished_run)[-1], list_checkpoints(finished_run)[0]
    for damage in _marker_damages(latest, earlier):
        run = tmp_path / damage.replace(" ", "_")
        shutil.copytree(finished_run, run)
        ckpt = run / "checkpoints"
        apply, says = _marker_damages(ckpt / latest.name, ckpt / earlier.name)[damage]
        apply()
        (ckpt / latest.name / "model.safetensors").write_bytes(b"damaged as well")  # the marker must still guard it
        before = _hashes(run)
        capsys.readouterr()
        assert train.main(["--resume", str(run), "train.max_steps=6"]) == 2, damage
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err, (damage, err)
        assert says in err and "to resume from step-0000002 (verified)" in err, (damage, err)
        assert "custom_checkpoint" not in err, (damage, err)  # the intact files are never blamed
        assert _hashes(run) == before, damage  # the newer snapshot is not replaced by an older one


def test_an_old_format_marker_needs_the_explicit_option_and_the_fallback_named_verifies(finished_run, tmp_path, capsys):
    run = tmp_path / "old"
    shutil.copytree(finished_run, run)
    latest, earlier = list_checkpoints(run)[-1], list_checkpoints(run)[0]
    (latest / "COMPLETE").write_text('{"step": 4}')
    capsys.readouterr()
    assert train.main(["--resume", str(run), "train.max_steps=6"]) == 2
    assert "if you trust it, resume with --accept-old-marker" in capsys.readouterr().err
    assert train.main(["--resume", str(run), "--accept-old-marker", "train.max_steps=6"]) == 0
    assert "accepted the old-format marker" in capsys.readouterr().out
    assert "model.safetensors" in json.loads((latest / "COMPLETE").read_text())["files"]  # recorded now
    # A fallback is only advised when it verifies itself.
    bad = tmp_path / "both"
    shutil.copytree(finished_run, bad)
    latest, earlier = list_checkpoints(bad)[-1], list_checkpoints(bad)[0]
    DAMAGES["one flipped byte"](latest / "model.safetensors")
    DAMAGES["one flipped byte"](earlier / "model.safetensors")
    assert train.main(["--resume", str(bad), "train.max_steps=6"]) == 2
    assert "no earlier checkpoint verifies; start the run again" in capsys.readouterr().err


# ------------------------------------------------------------------ bad input, one line each
def _tiny_classifier(tmp: Path) -> Path:
    out = tmp / "classifier.safetensors"
    assert (
        train_classifier.main(
            [
                "--config",
                str(ROOT / "configs/classifiers/tiny.yaml"),
                f"runs_dir={tmp}",
                "name=cls",
                f"out={out}",
                "data.synthetic_channels=3",
            ]
        )
        == 0
    )
    return out


def _five_class_evaluator(tmp: Path) -> Path:
    from classifiers import ClassifierInfo, save_classifier
    from classifiers.architectures import build_arch

    info = ClassifierInfo(5, 3, None, [0.5] * 3, [0.5] * 3, classes=[f"class{i}" for i in range(5)])
    return save_classifier(tmp / "five.safetensors", build_arch("vgg_small", 5, 3, width=4), "vgg_small", 4, info)


def _bad_inputs(run: Path, classifier: Path, five: Path, tmp: Path) -> list[tuple]:
    """(entry point, arguments, what the one line must say)."""
    new = ["--config", TINY, f"runs_dir={tmp}", "name=fresh"]
    resume = ["--resume", str(run)]
    cls_new = ["--config", str(ROOT / "configs/classifiers/tiny.yaml"), f"runs_dir={tmp}", "name=freshcls"]
    configs = {
        "twice": "train:\n  max_steps: 3\nmodel:\n  g: {ch: 4}\ntrain:\n  batch_size: 8\n",
        "empty": "# nothing here\n\n",
        "malformed": "train:\n  max_steps: [3\n",
    }
    for name, text in configs.items():
        (tmp / f"{name}.yaml").write_text(text)
    return [
        ("train", ["--config", str(tmp / "twice.yaml")], "the key 'train' appears twice (lines 1 and 5)"),
        ("train", ["--config", str(tmp / "empty.yaml")], "is empty: list the settings that differ"),
        ("train", ["--config", str(tmp / "malformed.yaml")], "is not valid YAML at line 3"),
        ("train", [*new, "train.batch_size=-1"], "train.batch_size=-1 is out of range: it must be an integer >= 1"),
        ("train", [*new, "train.batch_size=0"], "train.batch_size=0 is out of range"),
        ("train", [*new, "train.checkpoint_every=0"], "train.checkpoint_every=0 is out of range"),
        ("train", [*new, "train.log_every=0"], "train.log_every=0 is out of range"),
        ("train", [*new, "train.sample_every=0"], "train.sample_every=0 is out of range"),
        ("train", [*new, "train.num_d_steps=0"], "train.num_d_steps=0 is out of range"),
        ("train", [*new, "train.betas=[0.0]"], "train.betas=[0.0] must have 2 items"),
        ("train", [*new, "train.betas=[0.0, 1.5]"], "train.betas[1]=1.5 is out of range"),
        ("train", [*new, "model.g.ch=0"], "model.g.ch=0 is out of range"),
        ("train", [*new, "model.d.ch=-4"], "model.d.ch=-4 is out of range"),
        ("train", [*new, "train.g_lr=0"], "train.g_lr=0.0 is out of range: it must be a number > 0"),
        ("train", [*new, "train.d_lr=-1e-4"], "train.d_lr=-0.0001 is out of range"),
        ("train", [*new, "train.ema_decay=1.5"], "train.ema_decay=1.5 is out of range"),
        ("train", [*new, "train.adam_eps=0"], "train.adam_eps=0.0 is out of range"),
        ("train", [*new, "train.max_steps=0"], "train.max_steps=0 is out of range"),
        ("train", [*new, "train.seed=-1"], "train.seed=-1 is out of range"),
        ("train", [*new, "train.mixed_precision=fp16"], "train.mixed_precision='fp16' is not a valid choice"),
        ("train", [*new, "train.compile=fast"], "train.compile='fast' is not a valid choice"),
        ("train", [*new, "train.channels_last=maybe"], "train.channels_last='maybe' is not a valid choice"),
        ("train", [*new, "train.fused_adam=sometimes"], "train.fused_adam='sometimes' is not a valid choice"),
        ("train", [*new, "model.logit_norm=zscore"], "model.logit_norm='zscore' is not a valid choice"),
        ("train", [*new, "data.name=mnist"], "data.name='mnist' is not a valid choice"),
        ("train", [*new, "data.resolution=4"], "data.resolution=4 is out of range"),
        ("train", [*new, "data.resolution=48"], "resolution 48 is not in the architecture table"),
        ("train", [*new, "data.synthetic_channels=2"], "data.synthetic_channels=2 is not a valid choice"),
        ("train", [*new, "data.num_workers=-1"], "data.num_workers=-1 is out of range"),
        ("train", [*new, "classifier.std=[0.5, 0.0, 0.5]"], "classifier.std[1]=0.0 is out of range"),
        ("train", [*new, "classifier.name=project"], "classifier.name=project needs classifier.checkpoint=PATH"),
        ("train", [*new, "classifier.name=nonsense"], "unknown classifier 'nonsense'"),
        ("train", [*new, "train.max_stepz=3"], "unknown config key train.max_stepz; valid keys here"),
        ("train", [*new, "train.adversarial_weight=-1"], "train.adversarial_weight=-1.0 is out of range"),
        ("train", [*new, "train.pixel_loss_weight=-0.5"], "train.pixel_loss_weight=-0.5 is out of range"),
        ("train", [*new, "train.feature_loss_weight=-1"], "train.feature_loss_weight=-1.0 is out of range"),
        ("train", [*new, "train.adversarial_start=-3"], "train.adversarial_start=-3 is out of range"),
        ("train", [*new, "train.max_minutes=-1"], "train.max_minutes=-1.0 is out of range"),
        ("train", [*new, "model.g.logit_input=sometimes"], "model.g.logit_input"),
        ("train", [*new, "classifier.output=logits+log"], "+log applies to probabilities"),
        ("train", [*new, "train.max_steps=many"], "train.max_steps: Value 'many' of type 'str' could not be converted"),
        ("train", [*new, "train.max_steps"], "is not of the form key=value"),
        ("train", ["--config", TINY, "name=../escape"], "name='../escape' must be a single folder name"),
        ("train", ["--config", TINY, "name=/tmp/x"], "name='/tmp/x' must be a single folder name"),
        ("train", ["--config", TINY, "name=my run"], "name='my run' must be a single folder name"),
        ("train", ["--config", TINY, "name=a\nb"], "must be a single folder name of letters"),
        ("train", ["--config", TINY, "name=" + "x" * 300], "at most 100 characters"),
        ("train", ["--config", str(tmp / "missing.yaml")], "does not exist"),
        ("train", [], "give --config <file>.yaml for a new run"),
        ("train", ["--resume", str(tmp / "nowhere")], "is not a run folder (no config.yaml)"),
        ("train", [*resume, "model.d.ch=8"], "cannot resume with a changed model"),
        ("train", [*resume, "data.name=fashion-mnist"], "cannot resume with a changed model, classifier or data"),
        ("train", ["--config", TINY, f"runs_dir={run.parent}", f"name={run.name}"], "already holds a run"),
        ("train", ["--bogus-flag"], "unrecognized arguments: --bogus-flag"),
        ("classifiers.train", [*cls_new, "lr=0"], "lr=0.0 is out of range"),
        ("classifiers.train", [*cls_new, "batch_size=0"], "batch_size=0 is out of range"),
        ("classifiers.train", [*cls_new, "epochs=0"], "epochs=0.0 is out of range"),
        ("classifiers.train", [*cls_new, "adversarial.norm=l3"], "adversarial.norm='l3' is not a valid choice"),
        ("classifiers.train", [*cls_new, "adversarial.steps=0"], "adversarial.steps=0 is out of range"),
        ("classifiers.train", [*cls_new, "adversarial.clean_weight=2"], "adversarial.clean_weight=2.0 is out of range"),
        ("classifiers.train", [*cls_new, "arch=resnet9000"], "unknown arch 'resnet9000'"),
        ("classifiers.train", [*cls_new, "name=a/b"], "name='a/b' must be a single folder name"),
        ("classifiers.train", ["--resume", str(run)], "is not a config of this trainer's runs (unknown config key"),
        ("classifiers.evaluate", [str(classifier), "--steps", "0"], "argument --steps: must be an integer >= 1"),
        ("classifiers.evaluate", [str(classifier), "--eps", "-0.1"], "argument --eps: must be a number >= 0"),
        ("classifiers.evaluate", [str(classifier), "--samples", "-5"], "argument --samples: must be an integer >= 0"),
        ("classifiers.evaluate", [str(classifier), "--batch-size", "0"], "argument --batch-size"),
        ("classifiers.evaluate", [str(tmp / "none.safetensors")], "does not exist"),
        ("classifiers.evaluate", [TINY], "cannot be read"),
        ("evaluate", ["grid", "--run", str(run), "--n", "0"], "argument --n: must be an integer >= 1"),
        ("evaluate", ["grid", "--run", str(run), "--n", "many"], "argument --n: must be an integer >= 1, not 'many'"),
        ("evaluate", ["grid", "--run", str(tmp / "nowhere")], "no inverter snapshot at"),
        ("evaluate", ["fidelity", "--run", str(run)], "--evaluator PATH is required"),
        ("evaluate", ["fidelity", "--run", str(run), "--evaluator", str(five)], "has 5 classes but the data has 10"),
        (
            "evaluate",
            ["fidelity", "--run", str(run), "--evaluator", str(classifier), "--candidates", "1"],
            "argument --candidates: must be an integer >= 2",
        ),
        ("evaluate", ["manipulate", "--run", str(run), "--edit", "bogus"], "argument --edit: invalid choice"),
        (
            "evaluate",
            ["invariance", "--run", str(run), "--evaluator", str(classifier), "--transforms", "twirl"],
            "unknown transform 'twirl'",
        ),
        (
            "evaluate",
            ["adversarial", "--run", str(run), "--evaluator", str(classifier), "--steps", "0"],
            "argument --steps",
        ),
        ("evaluate", ["ood", "--run", str(run), "--images", str(tmp / "nowhere")], "not a folder, sklearn-digits"),
        ("evaluate", ["baseline", "decoder", "--classifier", str(classifier), "--lr", "0"], "argument --lr"),
        ("evaluate", ["baseline", "retrieval", "--classifier", str(classifier), "--k", "0"], "argument --k"),
        (
            "evaluate",
            ["baseline", "retrieval", "--classifier", str(classifier), "--config", TINY, "--out", str(run)],
            "already holds a snapshot",
        ),
        ("evaluate", ["report", "--runs", str(tmp / "nowhere")], "does not exist"),
        ("evaluate", ["probe", "novelty", "--split", "4,3", "--data", "synthetic"], "--split takes three class counts"),
        ("evaluate", ["unknown-command"], "invalid choice: 'unknown-command'"),
    ]


MAINS = {
    "train": train.main,
    "classifiers.train": train_classifier.main,
    "classifiers.evaluate": evaluate_classifier.main,
    "evaluate": evaluate.main,
}


def test_bad_input_is_one_line_and_changes_nothing(finished_run, tmp_path, capsys):
    classifier = _tiny_classifier(tmp_path)
    five = _five_class_evaluator(tmp_path)
    before = _hashes(finished_run)
    cases = _bad_inputs(finished_run, classifier, five, tmp_path)
    assert len(cases) >= 80  # with the Python API's 23 below, over 100 kinds of bad input
    capsys.readouterr()
    for entry, argv, expected in cases:
        try:
            code = MAINS[entry](argv)
        except SystemExit as exit_:  # argparse's errors
            code = exit_.code
        err = capsys.readouterr().err
        assert code == 2, (entry, argv[-2:], err[-300:])
        assert err.count("\n") == 1 and "Traceback" not in err, (entry, argv, err)
        assert expected in err, (entry, argv, err)
    assert _hashes(finished_run) == before


def _tampered(run: Path, tmp: Path, change) -> Path:
    """A copy of the run's snapshot with its metadata changed by `change(meta)`."""
    import json as _json

    from safetensors.torch import load_file, save_file

    from inversion.snapshot import SNAPSHOT_FORMAT, read_snapshot_meta

    meta = read_snapshot_meta(run)
    change(meta)
    path = tmp / f"tampered-{len(list(tmp.glob('tampered-*')))}.safetensors"
    save_file(
        load_file(str(run / "snapshot.safetensors")), str(path), {"format": SNAPSHOT_FORMAT, "meta": _json.dumps(meta)}
    )
    return path


def test_the_python_api_refuses_bad_input_with_a_value_error_that_says_what_was_given(finished_run, tmp_path):
    import numpy as np

    from infra.errors import UserError
    from inversion import Inverter

    inverter = Inverter.load(finished_run, device="cpu")
    good = np.random.default_rng(0).uniform(-1, 1, (2, 3, 32, 32))  # numpy's default: float64
    assert inverter.reconstruct(good).dtype == torch.float32  # converted, not refused
    logits = inverter.logits(good)
    cases = [
        (lambda: inverter.generate(torch.full((2, 10), float("nan"))), "NaN or infinite"),
        (lambda: inverter.generate(torch.tensor([[float("inf")] * 10])), "NaN or infinite"),
        (lambda: inverter.reconstruct(np.full((1, 3, 32, 32), np.nan)), "NaN or infinite"),
        (lambda: inverter.reconstruct(good * 255), "must be in [-1, 1], got values from"),
        (lambda: inverter.reconstruct(torch.zeros(0, 3, 32, 32)), "empty batch"),
        (lambda: inverter.generate(torch.zeros(0, 10)), "with N >= 1"),
        (lambda: inverter.generate(logits, batch_size=0), "batch_size must be a positive integer"),
        (lambda: inverter.reconstruct(good, batch_size=-1), "batch_size must be a positive integer"),
        (lambda: inverter.generate(logits[:, :5]), "logits must have shape (N, 10)"),
        (lambda: inverter.reconstruct(torch.zeros(2, 3, 28, 28)), "pad 2 px on each side"),
        (lambda: inverter.reconstruct(torch.zeros(3, 32, 32)), "images must have shape (N, 3, 32, 32)"),
        (lambda: inverter.reconstruct(torch.zeros(2, 1, 32, 32)), "got (2, 1, 32, 32)"),
        (lambda: inverter.reconstruct(torch.zeros(2, 3, 32, 32, dtype=torch.uint8)), "not uint8"),
        (lambda: inverter.generate(torch.zeros(10)), "logits must have shape (N, 10) with N >= 1, got (10,)"),
        (lambda: inverter.generate(torch.zeros(2, 10, dtype=torch.complex64)), "must be real numbers"),
        (lambda: inverter.generate(torch.zeros(2, 10, dtype=torch.bool)), "must be real numbers"),
        (lambda: inverter.generate(logits, noise=torch.zeros(3, 7)), "noise must have shape (2, "),
        (lambda: inverter.generate(logits, noise="gaussian"), "noise must be None/'zero', 'random' or a tensor"),
    ]
    for call, expected in cases:
        with pytest.raises(ValueError) as info:
            call()
        assert expected in str(info.value), (expected, str(info.value))
    for values in ("abc", [[0.0] * 10]):
        with pytest.raises(TypeError, match="must be a torch tensor or a numpy array"):
            inverter.generate(values)
    for change in (
        lambda meta: meta.update(num_classes=7),
        lambda meta: meta["config"]["model"]["g"].update(ch=16),
        lambda meta: meta.pop("resolution"),
    ):
        with pytest.raises(UserError, match="metadata does not describe its weights"):
            Inverter.load(_tampered(finished_run, tmp_path, change), device="cpu", classifier=False)


def test_a_damaged_snapshot_is_named_and_a_resume_rewrites_it(tmp_path, reference):
    from infra.errors import UserError
    from inversion import Inverter

    run = tmp_path / "flipped"
    assert _train(run).returncode == 0
    path = run / "snapshot.safetensors"
    data = bytearray(path.read_bytes())
    data[-100] ^= 0x01  # one bit of one weight, in the tensor data at the end of the file
    path.write_bytes(bytes(data))
    with pytest.raises(UserError, match="is damaged: its tensors do not match the checksum"):
        Inverter.load(run, device="cpu")
    code = evaluate.main(["grid", "--run", str(run), "--n", "2"])
    assert code == 2
    resumed = _train(run, "--resume")
    assert resumed.returncode == 0 and "(it was missing, unreadable or damaged)" in resumed.stdout
    assert _same(_weights(run), reference)


def test_a_generator_with_non_finite_values_never_replaces_a_snapshot(tmp_path):
    from infra.errors import UserError
    from inversion.model.generator import Generator
    from inversion.snapshot import save_snapshot

    G = Generator(10, 32, 1, ch=4, dim_noise=16, cond_hidden=8)
    first = save_snapshot(tmp_path, G, {"step": 1}).read_bytes()
    G.out_bn.running_var[0] = float("nan")  # statistics measured on an input that went non-finite
    with pytest.raises(UserError, match="non-finite values in out_bn.running_var; the previous snapshot"):
        save_snapshot(tmp_path, G, {"step": 2})
    assert (tmp_path / "snapshot.safetensors").read_bytes() == first


def test_a_second_writer_of_a_run_folder_is_refused_and_a_dead_holders_lock_is_taken_over(tmp_path, capsys):
    import json as _json
    import os
    import signal
    import socket
    import time

    run = tmp_path / "locked"
    slow = [sys.executable, str(ROOT / "train.py"), "--config", TINY, f"runs_dir={tmp_path}", "name=locked"]
    slow += ["train.max_steps=100000", "train.checkpoint_every=2", "train.keep_checkpoints=1"]
    first = subprocess.Popen(slow, cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while not list_checkpoints(run) and time.time() < deadline:
            time.sleep(0.2)
        capsys.readouterr()
        assert train.main(["--resume", str(run), "train.max_steps=50"]) == 2
        err = capsys.readouterr().err
        assert f"is being written by process {first.pid}" in err and len(err.strip().splitlines()) == 1
        assert train.main(["--config", TINY, f"runs_dir={tmp_path}", "name=locked"]) == 2  # a new run of that name
        assert f"process {first.pid}" in capsys.readouterr().err
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    # The holder died without removing its lock: the next writer takes it over.
    lock = run / ".lock"
    assert _json.loads(lock.read_text())["pid"] == first.pid
    assert train.main(["--resume", str(run), f"train.max_steps={int(list_checkpoints(run)[-1].name[5:]) + 2}"]) == 0
    assert not lock.exists()
    # An evaluation folder is locked the same way while a command writes it.
    out = tmp_path / "grid"
    out.mkdir()
    (out / ".lock").write_text(_json.dumps({"pid": os.getppid(), "host": socket.gethostname(), "since": 0}))
    assert evaluate.main(["grid", "--run", str(run), "--n", "2", "--out", str(out)]) == 2
    assert "the evaluation folder" in capsys.readouterr().err and not (out / "grid.png").exists()


def test_an_evaluation_stopped_while_writing_keeps_the_previous_outputs_and_the_report_names_a_broken_one(
    finished_run, tmp_path, capsys
):
    run = tmp_path / "evaluated"
    shutil.copytree(finished_run, run)
    out, report = run / "eval" / "grid", ["report", "--runs", str(run), "--out", str(tmp_path / "report")]

    def outputs() -> dict[str, str]:  # what a reader sees: not the lock, not the staging folder
        return {k: v for k, v in _hashes(out).items() if not k.startswith(".")}

    def one_line_error(says: str) -> None:
        capsys.readouterr()
        assert evaluate.main(report) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and says in err and str(out) in err, err

    def killed_grid(point: str) -> None:
        command = [sys.executable, str(ROOT / "evaluate.py"), "grid", "--run", str(run), "--n", "3"]
        done = subprocess.run(command, cwd=ROOT, env={**ENV, VARIABLE: point}, capture_output=True)
        assert done.returncode == -9, done.stderr[-2000:]

    capsys.readouterr()
    assert evaluate.main(["grid", "--run", str(run), "--n", "2"]) == 0
    said = capsys.readouterr().out
    assert f"grid: {out / 'grid.png'}" in said and ".staging" not in said  # where the picture is, not was
    before = outputs()
    assert {"COMPLETE", "grid.png", "results.json"} <= set(before)
    killed_grid("output-write:0")  # everything written, nothing committed: the previous outputs stand
    assert outputs() == before
    assert evaluate.main(report) == 0
    killed_grid("output-commit:0")  # half of the files moved: the marker says so, the report refuses
    assert outputs() != before
    one_line_error("the command was stopped while its outputs were being replaced")
    assert evaluate.main(["grid", "--run", str(run), "--n", "2"]) == 0  # running it again repairs the folder
    assert outputs() == before and not (out / ".staging").exists() and not (out / ".lock").exists()
    assert evaluate.main(report) == 0
    (out / "grid.png").write_bytes(b"")
    one_line_error("grid.png has 0 bytes instead of")
    # A folder from before markers existed: its results must parse and its pictures decode.
    assert evaluate.main(["grid", "--run", str(run), "--n", "2"]) == 0
    (out / "COMPLETE").unlink()
    assert evaluate.main(report) == 0
    (out / "results.json").write_text((out / "results.json").read_text()[:40])
    one_line_error("results.json does not parse")


# ------------------------------------------------------------------ faults of the machine
def _one_error_line(done: subprocess.CompletedProcess, says: str) -> None:
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert len(errors) == 1 and says in errors[0], done.stderr[-2000:]


def test_a_full_disk_a_read_only_folder_and_a_file_size_limit_are_one_line_and_lose_nothing(tmp_path, reference):
    import resource

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))

    command = [sys.executable, str(ROOT / "train.py"), "--config", TINY, f"runs_dir={tmp_path}", "name=limited"]
    done = subprocess.run(command, env=ENV, capture_output=True, text=True, timeout=300, preexec_fn=limited)
    _one_error_line(done, "exceed the size this process may write (ulimit -f)")

    disk = tmp_path / "disk"
    disk.mkdir()
    # A tmpfs that holds the first checkpoint (about 750 KiB) but not the second: root can mount one.
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1200k", "tmpfs", str(disk)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.decode().strip()}); the simulated test stands")
    try:
        run = disk / "run"
        _one_error_line(_train(run), "full disk is the usual cause")
        assert [p.name for p in list_checkpoints(run)] == ["step-0000002"]
        subprocess.run(["mount", "-o", "remount,size=64m", str(disk)], check=True)
        assert _train(run, "--resume").returncode == 0
        assert _same(_weights(run), reference)  # the disk that filled up cost nothing
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        _one_error_line(_train(run, "--resume", "train.max_steps=6"), "Read-only file system")
        grid = subprocess.run(
            [sys.executable, str(ROOT / "evaluate.py"), "grid", "--run", str(run), "--n", "2"],
            env=ENV,
            capture_output=True,
            text=True,
        )
        _one_error_line(grid, "the file system is read-only")
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


@pytest.mark.parametrize(
    "code, says",
    [
        (28, "the disk is full"),
        (30, "the file system is read-only"),
        (13, "permission denied"),
        (27, "ulimit -f"),
        (36, "a name is too long"),
        (20, "a file stands where a folder is needed"),
    ],
)
def test_faults_of_the_machine_are_one_line_wherever_they_strike(
    finished_run, tmp_path, capsys, monkeypatch, code, says
):
    """Simulated where a real one cannot be made (no root, no mount): the same OSError the kernel gives."""
    import errno as _errno

    from infra import runs

    assert _errno.errorcode[code]

    def fail(*args, **kwargs):
        raise OSError(code, os.strerror(code), str(tmp_path / "somewhere"))

    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    monkeypatch.setattr(runs.RunLog, "scalars", fail)  # strikes mid-training, at the first log step
    capsys.readouterr()
    assert train.main(["--resume", str(run), "train.max_steps=6"]) == 2
    err = capsys.readouterr().err
    assert [line for line in err.splitlines() if line.startswith("error:")] == [err.strip().splitlines()[-1]]
    assert says in err and str(tmp_path / "somewhere") in err and "--resume" in err
    assert [p.name for p in list_checkpoints(run)][-1] == "step-0000004"  # nothing complete was lost


def test_an_out_that_is_a_file_is_one_line(finished_run, tmp_path, capsys):
    target = tmp_path / "a-file"
    target.write_text("mine")
    assert evaluate.main(["grid", "--run", str(finished_run), "--n", "2", "--out", str(target)]) == 2
    assert "is a file; give a folder" in capsys.readouterr().err and target.read_text() == "mine"
