"""The pixel-loss decoder learns images, not a flat average (on real Fashion-MNIST)."""

from pathlib import Path

import pytest
import torch

import infra.datasets as data_module
from infra.batches import eval_batches
from infra.config import load_config
from infra.datasets import load_data
from inversion import Inverter
from inversion.baselines.pixel_decoder import train_decoder
from inversion.config import Config

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(
    not data_module.FMNIST_SYSTEM_DIR.is_dir() and not (ROOT / "data/FashionMNIST/raw").is_dir(),
    reason="Fashion-MNIST is not installed (make data)",
)
def test_decoder_beats_the_mean_image(tmp_path):
    """With zero noise in training, batch norm erased G's spatial input and the decoder drew flat grey
    images; trained on random noise (used at noise 0) it must beat the best constant image."""
    cfg = load_config(
        Config,
        str(ROOT / "configs/tiny.yaml"),
        [
            "data.name=fashion-mnist",
            f"data.root={ROOT / 'data'}",
            "classifier.num_classes=10",
            "model.g.ch=8",
            "train.batch_size=32",
            "train.logit_stats_samples=512",
        ],
    )
    train_decoder(cfg, tmp_path / "decoder", steps=150, lr=1e-3)
    inverter = Inverter.load(tmp_path / "decoder", device="cpu")
    data = load_data(cfg.data)
    train_images, _ = next(eval_batches(data.train, 2000, torch.device("cpu")))
    test_images, _ = next(eval_batches(data.test, 500, torch.device("cpu")))
    mean_image_mse = (test_images - train_images.mean(0)).pow(2).mean()
    decoder_mse = (inverter.reconstruct(test_images) - test_images).pow(2).mean()
    assert decoder_mse < 0.8 * mean_image_mse, (decoder_mse, mean_image_mse)
