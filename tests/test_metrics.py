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


def _frechet(a: torch.Tensor, b: torch.Tensor) -> float:
    """The Frechet distance of two Gaussians fitted to feature sets, written out with scipy (independent of
    torch-fidelity): |mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2))."""
    import numpy as np
    import scipy.linalg

    a, b = a.double().numpy(), b.double().numpy()
    sa, sb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = scipy.linalg.sqrtm(sa @ sb).real
    return float(((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(sa + sb - 2 * root))


@pytest.mark.filterwarnings("ignore:Matrix is singular")  # dead ReLU features: scipy's sqrtm warns, still exact
def test_fid_equals_the_frechet_distance_of_the_evaluators_features(tmp_path):
    from torch_fidelity import calculate_metrics
    from torch_fidelity.registry import FEATURE_EXTRACTORS_REGISTRY

    from classifiers import ClassifierConfig, load_classifier
    from inversion.evaluation.realism import EXTRACTOR, _UInt8Images, fid_kid, register

    path = _evaluator_file(tmp_path)  # 64 feature dimensions: FID needs at least 128 images
    register()
    register()  # idempotent
    assert EXTRACTOR in FEATURE_EXTRACTORS_REGISTRY
    torch.manual_seed(0)
    # Images already on the uint8 grid, so torch-fidelity's conversion loses nothing.
    x = torch.randint(0, 256, (160, 3, 32, 32)).float() / 127.5 - 1
    y = (torch.randint(0, 128, (160, 3, 32, 32)).float() / 127.5 - 1).clamp(-1, 1)
    evaluator = load_classifier(ClassifierConfig(name="project", checkpoint=str(path)), data_channels=3)
    with torch.no_grad():
        expected = _frechet(evaluator.features(x), evaluator.features(y))
    same, other = fid_kid(x, x, path, evaluator_dims=64), fid_kid(x, y, path, evaluator_dims=64)
    assert abs(same[f"fid[{EXTRACTOR}]"].value) < 1e-3
    assert other[f"fid[{EXTRACTOR}]"].value == pytest.approx(expected, rel=1e-3)
    # The features are extracted once and scored by torch-fidelity's own functions: the same numbers
    # as its one-call API.
    library = calculate_metrics(
        input1=_UInt8Images(x),
        input2=_UInt8Images(y),
        fid=True,
        kid=True,
        kid_subset_size=160,
        feature_extractor=EXTRACTOR,
        feature_layer_fid="features",
        feature_layer_kid="features",
        feature_extractor_weights_path=str(path),
        cuda=False,
        cache=False,
        save_cpu_ram=True,
        verbose=False,
    )
    assert other[f"fid[{EXTRACTOR}]"].value == pytest.approx(library["frechet_inception_distance"], rel=1e-6)
    kid = other[f"kid[{EXTRACTOR}]"]
    assert kid.value == pytest.approx(library["kernel_inception_distance_mean"], rel=1e-6)
    assert kid.spread == pytest.approx(library["kernel_inception_distance_std"], rel=1e-6)
    fid = other[f"fid[{EXTRACTOR}]"]
    assert fid.low < fid.value < fid.high and fid.kind == "bootstrap-sd"
    assert not same["fid[inception-v3]"].measured  # no Inception weights here: unavailable, not a stand-in
    few = fid_kid(x[:100], y[:100], path, evaluator_dims=64)  # 100 < 2 x 64: not reported, and says why
    assert few[f"fid[{EXTRACTOR}]"].note == "not reported: 100 images < 2 x 64 feature dimensions"


def test_fid_interval_matches_the_spread_over_fresh_samples():
    """The bootstrap interval's half-width over 1.96 estimates the standard deviation of FID across fresh
    test sets. Known answer by simulation: reconstructions = sources + a shift + small noise, drawn anew
    300 times. Resampling the two sets independently (ignoring that reconstruction i belongs to source i)
    would give about five times the spread; no resampling would give none."""
    from inversion.evaluation.realism import fid_estimate, frechet_distance

    def draw(generator):
        real = torch.randn(2000, 4, generator=generator)
        fake = real + torch.tensor([0.5, 0.0, 0.0, 0.0]) + 0.3 * torch.randn(2000, 4, generator=generator)
        return fake, real

    generator = torch.Generator().manual_seed(0)
    fresh = torch.tensor([frechet_distance(*draw(generator)) for _ in range(300)])
    fake, real = draw(generator)
    value = frechet_distance(fake, real)
    low, high = fid_estimate(fake, real).interval
    assert low < value < high
    assert (high - value) / 1.96 / fresh.std().item() == pytest.approx(1.0, abs=0.3)
    assert (value - low) == pytest.approx(high - value)


def test_fid_handles_grey_images(tmp_path):
    from inversion.evaluation.realism import EXTRACTOR, fid_kid

    path = _evaluator_file(tmp_path, width=4, channels=1)  # 16 feature dimensions
    x = torch.randint(0, 256, (40, 1, 32, 32)).float() / 127.5 - 1
    assert abs(fid_kid(x, x, path, evaluator_dims=16)[f"fid[{EXTRACTOR}]"].value) < 1e-3


def test_identification_counts_ties_against_the_reconstruction():
    collapsed = torch.ones(1000, 8)  # features that cannot tell images apart: every source ties
    result = identification(collapsed, collapsed, candidates=100)
    assert result["top1"] == 0.0 and result["top5"] == 0.0  # counting only strictly nearer sources gives 100%
    f = torch.eye(100)
    recon = f.clone()
    recon[0] = (f[0] + f[1]) / 2  # exactly between its own source and source 1: a tie, not a hit
    p = identification(recon, f, candidates=100)["p_top1"]
    assert p[0] == 0.0 and bool((p[1:] == 1.0).all())


def test_identification_is_the_expectation_over_random_candidates():
    """Known answer by simulation: the hypergeometric expectation equals the share of hits over many random
    draws of the candidate group, and it is exact where the nearer count is known. A reconstruction with
    m = 9 of 99 others nearer, among 10 candidates (9 others drawn), is a hit when none of the 9 nearer ones is
    drawn: C(90, 9) / C(99, 9)."""
    g = torch.Generator().manual_seed(0)
    source = torch.randn(100, 4, generator=g)
    recon = source + 0.8 * torch.randn(100, 4, generator=g)
    exact = identification(recon, source, candidates=10, ks=(1, 3))
    hits = {1: 0.0, 3: 0.0}
    draws = 4000
    dist = torch.cdist(recon, source)
    for _ in range(draws):
        i = int(torch.randint(100, (1,), generator=g))
        others = torch.tensor([j for j in torch.randperm(100, generator=g).tolist() if j != i][:9])
        rank = int((dist[i, others] <= dist[i, i]).sum())
        hits[1] += rank < 1
        hits[3] += rank < 3
    assert exact["top1"] == pytest.approx(hits[1] / draws, abs=0.025)
    assert exact["top3"] == pytest.approx(hits[3] / draws, abs=0.025)
    from inversion.evaluation.identification import hit_probabilities

    p = hit_probabilities(torch.tensor([9]), population=99, candidates=10, k=1)
    assert float(p) == pytest.approx(math.comb(90, 9) / math.comb(99, 9), rel=1e-9)


def test_identification_of_a_subset_draws_candidates_from_all_sources():
    f = torch.eye(50)
    own = torch.tensor([3, 7])
    result = identification(f[own], f, candidates=10, own=own)
    assert result["images"] == 2 and result["top1"] == 1.0  # each reconstruction is exactly its own source


def test_table_psnr_is_the_psnr_of_the_mean_mse():
    from inversion.evaluation.fidelity import psnr_of_mean

    mse = torch.tensor([0.0, 0.02, 0.01, 0.01])  # one exact match; mean MSE 0.01: 20 dB
    psnr = psnr_of_mean(mse)
    value, (low, high) = psnr.value, psnr.interval
    assert value == pytest.approx(20.0) and low <= 20.0 <= high and math.isfinite(low) and psnr.n == 4
    assert metrics.psnr_from_mse(0.0) == float("inf")


def test_knn_distance_is_to_the_nearest_real_image_of_the_own_class():
    from inversion.evaluation.model_inversion_metrics import knn_distances

    reference = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 3.0]])
    reference_labels = torch.tensor([0, 1, 1])
    recon = torch.tensor([[0.0, 4.0], [0.0, 4.0]])
    labels = torch.tensor([0, 1])
    # Class 0's only image is 4 away; class 1's nearest is (0, 3), 1 away (another class's nearer image
    # must not count).
    torch.testing.assert_close(knn_distances(recon, labels, reference, reference_labels), torch.tensor([4.0, 1.0]))


def test_precision_recall_density_coverage_known_answers():
    from inversion.evaluation.model_inversion_metrics import precision_recall_density_coverage

    torch.manual_seed(0)
    real = torch.randn(300, 8)
    same = precision_recall_density_coverage(real, real.clone())
    # Each real image's 5-NN ball (strict) holds itself and 4 neighbours: density exactly 1.
    assert same == pytest.approx({"precision": 1.0, "recall": 1.0, "density": 1.0, "coverage": 1.0})
    far = precision_recall_density_coverage(real, real + 100)
    assert far == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}
    half = precision_recall_density_coverage(real, torch.cat([real[:150], real[:150] + 100]))
    assert half["precision"] == pytest.approx(0.5)  # half the reconstructions lie among real images


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


def test_bootstrap_interval_known_answers():
    from infra.estimate import bootstrap_mean

    assert bootstrap_mean(torch.full((500,), 3.0)).interval == (3.0, 3.0)  # no spread, no interval
    coin = (torch.arange(10000) % 2).float()  # a mean of 0.5 over 10,000 images
    low, high = bootstrap_mean(coin).interval
    # The normal approximation's half-width is 1.96 * 0.5 / sqrt(10000) = 0.0098.
    assert low < 0.5 < high and abs((high - low) / 2 - 0.0098) < 0.0015
    assert bootstrap_mean(coin).interval == (low, high)  # seeded


def test_pixel_measures_leave_out_the_padding():
    """Known answer: a reconstruction that differs from its source only in the 2 px padding has MSE 0 and
    SSIM 1 on the data set's own pixels; counted over the padded image it would not."""
    from infra.datasets import TensorImages
    from inversion.evaluation.fidelity import collect

    class Net(torch.nn.Module):
        def forward(self, x):
            return x.flatten(1)[:, :10]

        def features(self, x):
            return x.flatten(1)

    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (4, 1, 32, 32), generator=g, dtype=torch.uint8)
    dataset = TensorImages(images, torch.zeros(4, dtype=torch.long))

    def reconstruct(logits, noise, seed):
        x = images.float() / 127.5 - 1
        out = x.clone()
        out[..., :2, :] = out[..., -2:, :] = out[..., :, :2] = out[..., :, -2:] = 1.0  # only the border changes
        return out

    cropped = collect(reconstruct, Net(), Net(), dataset, noise_draws=0, border=2)
    assert float(cropped.values["mse"].max()) == 0.0 and float(cropped.values["ssim"].min()) == pytest.approx(1.0)
    whole = collect(reconstruct, Net(), Net(), dataset, noise_draws=0)
    assert float(whole.values["mse"].min()) > 0


def test_fashion_mnist_knows_its_padding():
    from infra.datasets import DataConfig, load_data

    assert load_data(DataConfig(name="fashion-mnist")).border == 2
    assert load_data(DataConfig(name="synthetic", synthetic_size=8)).border == 0


def test_evaluator_accuracy_where_the_classifier_is_right_leaves_its_errors_out():
    """Known answer: 4 images, the classifier right on the first 3; the evaluator right on reconstructions
    1 and 4. Overall 2 of 4; on the classifier's correct images 1 of 3."""
    from inversion.evaluation.fidelity import Collected, summarize

    labels = torch.tensor([0, 1, 2, 3])
    collected = Collected(
        labels=labels,
        classifier_pred=torch.tensor([0, 1, 2, 0]),
        values={"mse": torch.zeros(4), "evaluator_acc_recon": torch.tensor([1.0, 0.0, 0.0, 1.0])},
        f_source=torch.eye(4),
        f_recon=torch.eye(4),
        originals=torch.zeros(4, 1, 4, 4, dtype=torch.uint8),
        recons=torch.zeros(4, 1, 4, 4, dtype=torch.uint8),
    )
    out = summarize(collected, candidates=4, realism=False)
    assert out["evaluator_acc_recon"].value == 0.5 and out["evaluator_acc_recon"].n == 4
    assert (
        out["evaluator_acc_recon_correct"].value == pytest.approx(1 / 3) and out["evaluator_acc_recon_correct"].n == 3
    )
