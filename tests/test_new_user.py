"""A new user's first hour: the shipped files, the configs the README names, the Python API, the
installed package, and inputs that are not quite right."""

import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

import evaluate
import train
from infra.errors import UserError
from inversion import Inverter

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "checkpoints" / "fmnist"
shipped = pytest.mark.skipif(not (SHIPPED / "inverter-std.safetensors").is_file(), reason="no shipped networks")


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("user")
    assert train.main(["--config", str(ROOT / "configs/tiny.yaml"), f"runs_dir={root}", "name=run"]) == 0
    return root / "run"


def test_a_snapshot_file_outside_a_run_folder_is_evaluated_into_runs(tiny_run, tmp_path, monkeypatch):
    snapshot = tmp_path / "models" / "my-inverter.safetensors"
    snapshot.parent.mkdir()
    shutil.copy(tiny_run / "snapshot.safetensors", snapshot)
    monkeypatch.chdir(tmp_path)
    assert evaluate.main(["grid", "--run", str(snapshot), "--n", "2", "--noise-draws", "1"]) == 0
    assert (tmp_path / "runs" / "my-inverter" / "eval" / "grid" / "grid.png").is_file()
    # The run folder's own snapshot file means the run folder.
    assert evaluate.main(["grid", "--run", str(tiny_run / "snapshot.safetensors"), "--n", "2"]) == 0
    assert (tiny_run / "eval" / "grid" / "grid.png").is_file()


def test_unreadable_images_are_skipped_by_name(tiny_run, tmp_path, capsys):
    from PIL import Image

    folder = tmp_path / "images"
    folder.mkdir()
    Image.fromarray((np.random.default_rng(0).random((20, 30, 3)) * 255).astype(np.uint8)).save(folder / "a.png")
    Image.fromarray(np.zeros((40, 40, 3), np.uint8)).save(folder / "b.jpg", quality=90)
    (folder / "c.jpg").write_bytes((folder / "b.jpg").read_bytes()[:200])  # truncated JPEG
    (folder / "d.png").write_bytes(b"")  # 0-byte PNG
    out = tmp_path / "out"
    assert evaluate.main(["ood", "--run", str(tiny_run), "--images", str(folder), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "c.jpg" in err and "d.png" in err
    import json

    results = json.loads((out / "results.json").read_text())
    assert results["images"] == 2 and results["names"] == ["a.png", "b.jpg"]
    assert [s.split(" ")[0] for s in results["skipped"]] == ["c.jpg", "d.png"]
    assert "2 used; 2 unreadable files skipped" in (out / "ood.md").read_text()


def test_a_folder_of_only_unreadable_files_is_one_clear_error(tiny_run, tmp_path, capsys):
    (tmp_path / "x.png").write_bytes(b"not a png")
    assert evaluate.main(["ood", "--run", str(tiny_run), "--images", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    assert "no readable images found" in capsys.readouterr().err


def test_a_missing_classifier_says_which_command_makes_it(capsys):
    code = train.main(["--config", str(ROOT / "configs/fmnist.yaml"), "runs_dir=/nonexistent", "train.max_steps=1"])
    assert code == 2
    assert "python -m classifiers.train --config configs/classifiers/fmnist_resnet18.yaml" in capsys.readouterr().err


@shipped
def test_the_configs_that_name_the_shipped_classifier_find_it():
    from infra.config import load_config
    from inversion.config import Config

    for name in ("demo", "fmnist_cpu"):
        cfg = load_config(Config, ROOT / "configs" / f"{name}.yaml")
        assert (ROOT / cfg.classifier.checkpoint).is_file(), name


def test_the_api_takes_numpy_and_warns_about_zero_one_images(tiny_run):
    inverter = Inverter.load(tiny_run, device="cpu")
    images = np.random.default_rng(0).random((2, 3, 32, 32)).astype(np.float32) * 2 - 1
    torch.testing.assert_close(inverter.reconstruct(images), inverter.reconstruct(torch.from_numpy(images)))
    logits = inverter.logits(images).numpy()
    assert inverter.generate(logits).shape == (2, 3, 32, 32)
    with pytest.warns(UserWarning, match=r"look like \[0, 1\]"):
        inverter.reconstruct((images + 1) / 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        inverter.reconstruct(images)  # [-1, 1]: no warning
    with pytest.raises(ValueError, match="padded to 32 px"):
        inverter.reconstruct(np.zeros((1, 3, 28, 28), np.float32))
    with pytest.raises(TypeError, match="torch tensor or a numpy array"):
        inverter.reconstruct([[0.0]])


def test_a_snapshot_copied_away_from_its_classifier_says_how_to_pass_one(tiny_run, tmp_path):
    from classifiers import ClassifierInfo, save_classifier
    from classifiers.architectures import build_arch
    from infra.config import load_config
    from inversion.config import Config

    classifier = save_classifier(
        tmp_path / "phi.safetensors",
        build_arch("vgg_small", 10, 3, width=4),
        "vgg_small",
        4,
        ClassifierInfo(10, 3, None, [0.5] * 3, [0.5] * 3),
    )
    runs = tmp_path / "runs"
    assert (
        train.main(
            [
                "--config",
                str(ROOT / "configs/tiny.yaml"),
                f"runs_dir={runs}",
                "name=r",
                "classifier.name=project",
                f"classifier.checkpoint={classifier}",
            ]
        )
        == 0
    )
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(runs / "r" / "snapshot.safetensors", alone / "inv.safetensors")
    classifier.rename(tmp_path / "moved.safetensors")
    with pytest.raises(UserError, match=r"neither there nor beside the snapshot.*classifier=load_classifier"):
        Inverter.load(alone / "inv.safetensors", device="cpu")
    from classifiers import ClassifierConfig, load_classifier

    phi = load_classifier(ClassifierConfig(checkpoint=str(tmp_path / "moved.safetensors")), data_channels=3)
    assert Inverter.load(alone / "inv.safetensors", device="cpu", classifier=phi).classifier is phi
    assert load_config(Config, runs / "r" / "config.yaml").classifier.checkpoint == str(classifier)


COMMANDS = (
    "logit-inversion-train",
    "logit-inversion-evaluate",
    "logit-inversion-train-classifier",
    "logit-inversion-evaluate-classifier",
    "logit-inversion-convert-classifier",
)


def _readme_api_snippet() -> str:
    text = (ROOT / "README.md").read_text()
    return text.split("## Python API", 1)[1].split("```python", 1)[1].split("```", 1)[0]


def test_a_non_editable_install_in_a_fresh_venv_works_from_another_folder(tmp_path):
    """`pip install .` as a user outside the repository does it: a wheel of the repository's files, in a
    fresh venv (the dependencies come from this one through a path file), run from an empty folder."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT, capture_output=True
    )
    if listed.returncode != 0:
        pytest.skip("not a git checkout: the repository's own files cannot be listed")
    source = tmp_path / "source"
    for name in filter(None, listed.stdout.decode().split("\0")):
        if (ROOT / name).is_file() and not name.startswith("checkpoints/"):
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    wheel = subprocess.run(
        [*pip, "wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(tmp_path), str(source)],
        capture_output=True,
        text=True,
    )
    assert wheel.returncode == 0, wheel.stderr[-2000:]
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], capture_output=True, text=True
    ).stdout.strip()
    here = [p for p in sys.path if p.endswith("site-packages")][0]
    (Path(purelib) / "dependencies.pth").write_text(here + "\n")  # a path line: this venv's .pth files stay off
    install = subprocess.run(
        [*pip, "--python", str(python), "install", "-q", "--no-deps", "--no-index", *map(str, tmp_path.glob("*.whl"))],
        capture_output=True,
        text=True,
    )
    assert install.returncode == 0, install.stderr[-2000:]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)} | {"HF_HUB_OFFLINE": "1"}

    def run(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run(argv, cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300)

    # One process (each costs a torch import): the packages, not the scripts, are installed; every console
    # command's entry point loads and explains itself; configs are found by name and by the README's path.
    check = f"""
import contextlib, importlib.metadata as m, importlib.util as u, io, inversion
assert inversion.__file__.startswith({str(venv)!r}) and u.find_spec("train") is None and u.find_spec("evaluate") is None
points = {{e.name: e for e in m.entry_points(group="console_scripts") if e.name.startswith("logit-inversion")}}
assert sorted(points) == {sorted(COMMANDS)!r}, sorted(points)
def call(name, *argv):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            code = points[name].load()(list(argv))
        except SystemExit as stop:
            code = stop.code
    assert code in (0, None), (name, argv, code)
    return out.getvalue()
for name in points:
    assert "usage:" in call(name, "--help"), name
for config in ("fmnist_cpu", "configs/fmnist_cpu.yaml", "tiny.yaml"):
    assert call("logit-inversion-train", "--config", config, "--dry-run").startswith("# run folder: runs/")
assert "arch:" in call("logit-inversion-train-classifier", "--config", "classifiers/tiny", "--dry-run")
print("checked")
"""
    done = run(str(python), "-c", check)
    assert done.stdout.strip().endswith("checked"), done.stderr[-3000:]
    done = run(str(venv / "bin" / "logit-inversion-evaluate"), "--help")  # the console script itself
    assert done.returncode == 0 and "usage:" in done.stdout, done.stderr[-1000:]
    if (SHIPPED / "inverter-robust.safetensors").is_file():  # the README's API snippet, the file given in full
        snippet = _readme_api_snippet().replace('"checkpoints/', f'"{ROOT}/checkpoints/')
        done = run(str(python), "-c", snippet + "\nprint(tuple(recon.shape), tuple(edited.shape))")
        assert done.returncode == 0 and "(8, 1, 32, 32) (8, 1, 32, 32)" in done.stdout, done.stderr[-2000:]
