"""The paired reconstruction terms of the generator loss (`train.pixel_loss_weight`,
`train.feature_loss_weight`) and the adversarial weight: known answers for the losses, and what the
trainer does with each weight."""

import json

import pytest
import torch
from torch import nn

from classifiers import ClassifierInfo, FrozenClassifier
from infra.config import load_config
from inversion.config import Config
from inversion.training.reconstruction_loss import feature_loss, pixel_loss
from inversion.training.trainer import Trainer


def test_pixel_loss_is_the_mean_absolute_error():
    a, b = torch.zeros(2, 1, 4, 4), torch.zeros(2, 1, 4, 4)
    b[0, 0, 0, 0] = 1.0
    b[1, 0, 1, 1] = -0.5
    assert pixel_loss(a, b).item() == pytest.approx(1.5 / 32)
    assert pixel_loss(b, b).item() == 0.0


def test_feature_loss_weighs_each_stage_the_same_whatever_its_scale():
    g = torch.Generator().manual_seed(0)
    source = [torch.randn(4, 8, 8, 8, generator=g), torch.randn(4, 16, 4, 4, generator=g)]
    recon = [s + 0.1 * torch.randn(s.shape, generator=g) for s in source]
    assert feature_loss(source, source).item() == 0.0
    base = feature_loss(recon, source).item()
    # Multiplying one stage's activations by 100 (recon and source alike) leaves the loss unchanged:
    # each stage's error is divided by its source's mean square.
    scaled = feature_loss([recon[0] * 100, recon[1]], [source[0] * 100, source[1]]).item()
    assert scaled == pytest.approx(base, rel=1e-5)
    # Each stage contributes MSE / mean(source^2): about 0.01 / 1 here, for two stages.
    assert base == pytest.approx(0.02, rel=0.1)


def test_spatial_stages_are_the_feature_maps_and_other_networks_say_they_have_none():
    from classifiers.architectures import build_arch

    info = ClassifierInfo(10, 1, None, [0.5], [0.5])
    cnn = FrozenClassifier(build_arch("vgg_small", 10, 1, width=4), info)
    stages = cnn.spatial_stages(torch.zeros(2, 1, 32, 32))
    assert [s.shape[-1] for s in stages] == [16, 8, 8] and all(s.dim() == 4 for s in stages)
    plain = FrozenClassifier(nn.Sequential(nn.Flatten(), nn.Linear(1024, 10)), info)
    assert cnn.has_spatial_stages and not plain.has_spatial_stages
    with pytest.raises(TypeError):
        plain.spatial_stages(torch.zeros(2, 1, 32, 32))


def _stats(run_dir):
    return [json.loads(line) for line in (run_dir / "stats.jsonl").read_text().splitlines()]


def test_a_run_with_reconstruction_terms_logs_them(run_tiny):
    code, run_dir = run_tiny("train.pixel_loss_weight=1", "train.feature_loss_weight=1")
    assert code == 0
    last = _stats(run_dir)[-1]
    assert last["loss/pixel"] > 0 and last["loss/feature"] > 0 and last["loss/d_real"] > 0
    code, paper = run_tiny(name="paper")  # the paper's recipe: the terms are not computed
    assert code == 0 and _stats(paper)[-1]["loss/pixel"] == 0 and _stats(paper)[-1]["loss/feature"] == 0


def test_without_the_adversarial_term_the_discriminator_never_trains(tmp_path, tiny_config):
    overrides = [f"runs_dir={tmp_path}", "name=noadv", "train.max_steps=2", "train.adversarial_weight=0"]
    cfg = load_config(Config, tiny_config, [*overrides, "train.pixel_loss_weight=1"])
    trainer = Trainer(cfg, tmp_path / "noadv")
    before_d = {k: v.clone() for k, v in trainer.D.state_dict().items()}
    before_g = {k: v.clone() for k, v in trainer.G.state_dict().items()}
    trainer.fit()
    assert all(torch.equal(before_d[k], v) for k, v in trainer.D.state_dict().items())
    assert any(not torch.equal(before_g[k], v) for k, v in trainer.G.state_dict().items() if k.endswith("original"))
    assert _stats(tmp_path / "noadv")[-1]["loss/g"] == 0


def test_a_classifier_without_stages_cannot_take_the_feature_loss(run_tiny, capsys, monkeypatch):
    monkeypatch.setattr(FrozenClassifier, "has_spatial_stages", property(lambda self: False))
    code, _ = run_tiny("train.feature_loss_weight=1")
    assert code == 2
    err = capsys.readouterr().err
    assert "exposes none" in err and "train.feature_loss_weight=0" in err and len(err.strip().splitlines()) == 1


def test_the_adversarial_term_starts_after_its_warm_up(tmp_path, tiny_config):
    overrides = [f"runs_dir={tmp_path}", "name=warm", "train.max_steps=4", "train.log_every=1"]
    cfg = load_config(Config, tiny_config, [*overrides, "train.pixel_loss_weight=1", "train.adversarial_start=2"])
    trainer = Trainer(cfg, tmp_path / "warm")
    before_d = {k: v.clone() for k, v in trainer.D.state_dict().items()}
    trainer.train_step(0)
    trainer.train_step(1)  # warm-up: D untouched, no adversarial loss
    assert all(torch.equal(before_d[k], v) for k, v in trainer.D.state_dict().items())
    out = trainer.train_step(2)
    assert float(out["g_loss"]) != 0 and float(out["loss_real"]) > 0
    assert any(not torch.equal(before_d[k], v) for k, v in trainer.D.state_dict().items() if k.endswith("original"))
