"""The networks shipped in checkpoints/fmnist/ (skipped only where they are absent) and the script that
writes them."""

from pathlib import Path

import pytest
import torch

import infra.datasets as data_module
from classifiers import ClassifierConfig
from classifiers.load import load_classifier
from infra.batches import eval_batches
from infra.datasets import DataConfig, load_data
from inversion import Inverter

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "checkpoints" / "fmnist"
CLASSIFIERS = ("classifier-std", "classifier-robust", "evaluator")
has_fmnist = pytest.mark.skipif(
    not data_module.FMNIST_SYSTEM_DIR.is_dir() and not (ROOT / "data" / "FashionMNIST" / "raw").is_dir(),
    reason="Fashion-MNIST is not installed (make data)",
)


def fmnist_test_images(n: int):
    root = ROOT / "data" if (ROOT / "data" / "FashionMNIST" / "raw").is_dir() else data_module.FMNIST_SYSTEM_DIR
    test = load_data(DataConfig(name="fashion-mnist", root=str(root), download=False, num_workers=0)).test
    return next(eval_batches(test, n, torch.device("cpu")))


@has_fmnist
@pytest.mark.skipif(not (SHIPPED / "inverter-robust.safetensors").is_file(), reason="no shipped networks")
def test_shipped_networks_load_and_do_what_their_metadata_says():
    from classifiers.checkpoint import read_metadata

    images, labels = fmnist_test_images(1000)
    classifiers = {}
    for name in CLASSIFIERS:
        path = SHIPPED / f"{name}.safetensors"
        meta = read_metadata(path)
        model = load_classifier(ClassifierConfig(name="project", checkpoint=str(path)), 1, "cpu")
        with torch.no_grad():
            accuracy = (model(images).argmax(1) == labels).float().mean().item()
        # The metadata's accuracy is on all 10,000 test images; these are the first 1,000.
        assert abs(accuracy - meta["test_accuracy"]) < 0.03, (name, accuracy, meta["test_accuracy"])
        classifiers[name] = model
    evaluator = classifiers["evaluator"]
    shipped = sorted(SHIPPED.glob("inverter-*.safetensors"))  # the paper's recipe and the candidates too
    assert {"inverter-std.safetensors", "inverter-robust.safetensors"} <= {p.name for p in shipped}
    for path in shipped:
        kind = path.stem
        inverter = Inverter.load(path, device="cpu")  # finds its classifier beside it
        recon = inverter.reconstruct(images[:200])
        assert recon.shape == images[:200].shape and recon.abs().max() <= 1
        with torch.no_grad():
            agree = (inverter.logits(recon).argmax(1) == inverter.logits(images[:200]).argmax(1)).float().mean()
            judged = (evaluator(recon).argmax(1) == labels[:200]).float().mean()
        assert agree > 0.6 and judged > 0.5, (kind, agree, judged)


@has_fmnist
def test_ship_script_writes_relocatable_files(tmp_path, tiny_config, monkeypatch):
    import shutil
    import sys

    import train
    from classifiers.train import main as train_classifier

    sys.path.insert(0, str(ROOT / "scripts"))
    import ship_checkpoints

    data_root = str(ROOT / "data")
    networks, reference = tmp_path / "networks", tmp_path / "reference"
    for kind in ("std", "robust", "evaluator"):
        assert (
            train_classifier(
                [
                    "--config",
                    str(ROOT / "configs/classifiers/tiny.yaml"),
                    "data.name=fashion-mnist",
                    f"data.root={data_root}",
                    "max_steps=2",
                    f"name={kind}",
                    f"runs_dir={networks}",
                ]
            )
            == 0
        )
    for kind in ("std", "robust"):
        # The candidate recipe's run only for robust: its standard inverter is not shipped, and that is no error.
        for run in (f"gan-{kind}-seed0", f"paper-{kind}-seed0") + (("wide-robust-seed0",) if kind == "robust" else ()):
            assert (
                train.main(
                    [
                        "--config",
                        tiny_config,
                        "data.name=fashion-mnist",
                        f"data.root={data_root}",
                        "classifier.name=project",
                        "classifier.num_classes=null",
                        "train.max_steps=2",
                        f"classifier.checkpoint={networks / kind / 'classifier.safetensors'}",
                        f"runs_dir={reference}",
                        f"name={run}",
                    ]
                )
                == 0
            )
    out = tmp_path / "shipped"
    args = [str(reference), "--networks", str(networks), "--out", str(out), "--data-root", data_root, "--images", "64"]
    assert ship_checkpoints.main(args) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "README.md",
        "classifier-robust.safetensors",
        "classifier-std.safetensors",
        "evaluator.safetensors",
        "inverter-paper-robust.safetensors",
        "inverter-paper-std.safetensors",
        "inverter-robust.safetensors",
        "inverter-std.safetensors",
        "inverter-wide-robust.safetensors",
    ]
    readme = (out / "README.md").read_text()
    assert all(f"`{name}`" in readme for name in names if name.endswith(".safetensors"))
    # Shipping again without --networks keeps the classifiers already there; an inverter whose run has not
    # finished keeps the file shipped before, and one with neither is an error.
    kept = (out / "inverter-paper-std.safetensors").read_bytes()
    (reference / "paper-std-seed0" / "snapshot.safetensors").unlink()
    assert ship_checkpoints.main([str(reference), "--out", str(out), "--data-root", data_root, "--images", "64"]) == 0
    assert (out / "inverter-paper-std.safetensors").read_bytes() == kept
    (out / "inverter-paper-std.safetensors").rename(tmp_path / "aside.safetensors")
    assert ship_checkpoints.main([str(reference), "--out", str(out), "--data-root", data_root, "--images", "64"]) == 2
    (tmp_path / "aside.safetensors").rename(out / "inverter-paper-std.safetensors")

    moved = tmp_path / "elsewhere" / "fmnist"
    shutil.copytree(out, moved)
    shutil.rmtree(reference)  # nothing may point back at the training runs
    shutil.rmtree(networks)
    monkeypatch.chdir(tmp_path)
    for name in ("inverter-std", "inverter-paper-robust"):
        inverter = Inverter.load(moved / f"{name}.safetensors", device="cpu")
        assert inverter.meta["shipped"]["precision"] in ("fp16", "fp32")
        assert inverter.classifier is not None
        assert inverter.reconstruct(torch.zeros(2, 1, 32, 32)).dtype == torch.float32
