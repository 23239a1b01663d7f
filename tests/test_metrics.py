import math

import pytest
import torch

from inversion.evaluation import metrics
from inversion.evaluation.identification import identification


def test_pixel_metrics_on_known_cases():
    x = torch.rand(4, 3, 16, 16) * 2 - 1
    assert torch.equal(metrics.mse(x, x), torch.zeros(4))
    assert torch.isinf(metrics.psnr(x, x)).all()
    torch.testing.assert_close(metrics.ssim(x, x), torch.ones(4))
    black, white = -torch.ones(2, 1, 8, 8), torch.ones(2, 1, 8, 8)
    assert torch.equal(metrics.mse(black, white), torch.ones(2))  # [0, 1] units: (0 - 1)^2
    assert torch.equal(metrics.psnr(black, white), torch.zeros(2))
    half = torch.zeros(1, 1, 8, 8)  # 0.5 in [0, 1] units, against black: mse 0.25, psnr 10 log10(4)
    assert abs(metrics.psnr(half, black[:1]).item() - 10 * math.log10(4)) < 1e-5
    assert metrics.ssim(x, -x).mean() < 0.5


def test_identification_is_perfect_for_identical_features_and_chance_for_shuffled():
    torch.manual_seed(0)
    f = torch.randn(2000, 32)
    perfect = identification(f, f, candidates=1000)
    assert perfect["top1"] == 1.0 and perfect["top5"] == 1.0 and perfect["chance_top1"] == 0.001
    assert perfect["images"] == 2000
    shuffled = identification(f[torch.randperm(2000)], f, candidates=100)
    assert shuffled["top1"] < 0.05 and shuffled["top5"] < 0.12  # chance: 1% and 5%
    noisy = identification(f + 0.1 * torch.randn_like(f), f, candidates=1000)
    assert noisy["top1"] > 0.95


def test_diversity_and_feature_distance():
    a = torch.zeros(3, 1, 4, 4)
    assert torch.equal(metrics.diversity([a, a, a]), torch.zeros(3))
    b = a + 0.2  # 0.1 in [0, 1] units
    torch.testing.assert_close(metrics.diversity([a, b]), torch.full((3,), 0.1))
    with pytest.raises(ValueError):
        metrics.diversity([a])
    f = torch.tensor([[3.0, 4.0]])
    torch.testing.assert_close(metrics.relative_feature_distance(f, f * 0.5), torch.tensor([0.5]))


def _evaluator_file(tmp_path, width=16, channels=3):
    from classifiers import ClassifierInfo, save_classifier
    from classifiers.architectures import build_arch

    torch.manual_seed(0)
    model = build_arch("vgg_small", 10, channels, width=width)
    info = ClassifierInfo(10, channels, None, [0.5] * channels, [0.5] * channels)
    return save_classifier(tmp_path / "evaluator.safetensors", model, "vgg_small", width, info)


def test_fid_is_zero_for_identical_sets_and_the_extractor_registers_once(tmp_path):
    from torch_fidelity.registry import FEATURE_EXTRACTORS_REGISTRY

    from inversion.evaluation.realism import EXTRACTOR, fid_kid, register

    path = _evaluator_file(tmp_path)
    register()
    register()  # idempotent
    assert EXTRACTOR in FEATURE_EXTRACTORS_REGISTRY
    torch.manual_seed(0)
    x = torch.rand(40, 3, 32, 32) * 2 - 1
    same = fid_kid(x, x, path, kid_subset_size=20)
    other = fid_kid(x, torch.rand(40, 3, 32, 32) * 0.2 - 1, path, kid_subset_size=20)
    assert abs(same[f"fid[{EXTRACTOR}]"]) < 1e-6
    assert other[f"fid[{EXTRACTOR}]"] > 1000 * max(abs(same[f"fid[{EXTRACTOR}]"]), 1e-9)
    assert same["fid[inception-v3]"] is None  # no Inception weights here: unavailable, not a stand-in


def test_fid_handles_grey_images(tmp_path):
    from inversion.evaluation.realism import EXTRACTOR, fid_kid

    path = _evaluator_file(tmp_path, channels=1)
    x = torch.rand(20, 1, 32, 32) * 2 - 1
    assert abs(fid_kid(x, x, path, kid_subset_size=10)[f"fid[{EXTRACTOR}]"]) < 1e-6


def test_lpips_plumbing_with_a_random_backbone_file(tmp_path):
    import torchvision

    from inversion.evaluation.perceptual import lpips_distance, lpips_model

    assert lpips_model(None) is None  # no weights: the metric is unavailable
    torch.manual_seed(0)
    weights = tmp_path / "alexnet.pth"
    torch.save(torchvision.models.alexnet(weights=None).state_dict(), weights)
    model = lpips_model(weights)
    assert torch.equal(model.net.slice1[0].weight, torch.load(weights)["features.0.weight"])
    x = torch.rand(2, 1, 32, 32) * 2 - 1
    assert torch.equal(lpips_distance(model, x, x), torch.zeros(2))
    assert (lpips_distance(model, x, -x) > 0).all()
