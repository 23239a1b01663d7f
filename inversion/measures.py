"""The registry of the fidelity measures: one entry per number, used wherever one is computed or shown.

Each `Measure` says what the number is (its definition), which way is better, its level, and how
its interval is made; `inversion.evaluation.fidelity.summarize` computes each as an `infra.estimate.Estimate` by that
method, and the tables, the HTML report's glossary and docs/RESULTS.md read labels, formats and
directions from here. Levels:

- `instance`: how much of *this* image the reconstruction holds (pixels, identification, features);
- `class`: whether the reconstruction shows the right class. A class-conditional generator fed the
  label alone scores at the top on these, so they cannot say how much beyond the class the logits
  hold: read them apart from the instance-level ones;
- `distribution`: how real reconstructions look as a set (FID, KID, precision/recall);
- `describes`: a count or a property that is neither better nor worse.

Interval methods are `infra.estimate.KINDS`: proportions get Wilson's interval, means of per-image
values a percentile bootstrap, FID its value plus or minus 1.96 bootstrap standard deviations.
"""

from __future__ import annotations

from dataclasses import dataclass

LEVELS = ("instance", "class", "distribution", "describes")


@dataclass(frozen=True)
class Measure:
    key: str  # the results key
    label: str
    format: str
    better: str  # "higher", "lower" or "" (neither: it describes)
    level: str
    interval: str  # an infra.estimate kind
    definition: str

    @property
    def arrow(self) -> str:
        return {"higher": "↑", "lower": "↓"}.get(self.better, "")

    def cell(self, estimate) -> str:
        return estimate.cell(self.format)


def _m(key, label, fmt, better, level, interval, definition) -> Measure:
    return Measure(key, label, fmt, better, level, interval, definition)


EVALUATOR_FID = "fid[logit-inversion-evaluator]"

FIDELITY = [
    _m("images", "images", "{:.0f}", "", "describes", "none", "test images the numbers are computed on"),
    _m(
        "mse",
        "MSE (noise 0)",
        "{:.4f}",
        "lower",
        "instance",
        "bootstrap",
        "mean squared pixel error between x and its reconstruction at noise 0, pixels in [0, 1], on the data set's "
        "own pixels (Fashion-MNIST's padding to 32 px cropped away)",
    ),
    _m(
        "psnr",
        "PSNR dB of the mean MSE (noise 0)",
        "{:.2f}",
        "higher",
        "instance",
        "bootstrap",
        "10 log10(1 / mean MSE), the PSNR of the MSE row (a mean of per-image PSNRs is inf after one exact "
        "match); its interval is the MSE's, mapped",
    ),
    _m(
        "ssim",
        "SSIM (noise 0)",
        "{:.3f}",
        "higher",
        "instance",
        "bootstrap",
        "structural similarity (11x11 Gaussian window) of x and its reconstruction, padding cropped; 1 is identical",
    ),
    _m(
        "mse_noise_mean",
        "MSE (mean of noise draws)",
        "{:.4f}",
        "lower",
        "instance",
        "bootstrap",
        "MSE averaged over K random-noise draws",
    ),
    _m(
        "psnr_noise_mean",
        "PSNR dB of the mean MSE (noise draws)",
        "{:.2f}",
        "higher",
        "instance",
        "bootstrap",
        "10 log10(1 / the MSE row above)",
    ),
    _m(
        "ssim_noise_mean",
        "SSIM (mean of noise draws)",
        "{:.3f}",
        "higher",
        "instance",
        "bootstrap",
        "SSIM averaged over K random-noise draws",
    ),
    _m(
        "feature_distance",
        "evaluator feature distance (relative L2)",
        "{:.3f}",
        "lower",
        "instance",
        "bootstrap",
        "||f(x) - f(x_hat)|| / ||f(x)|| with f the independent evaluator's penultimate features",
    ),
    _m(
        "lpips",
        "LPIPS (AlexNet)",
        "{:.3f}",
        "lower",
        "instance",
        "bootstrap",
        "learned perceptual distance; unavailable without AlexNet's weights (never a random backbone)",
    ),
    _m(
        "id_top1",
        "identification top-1",
        "{:.1%}",
        "higher",
        "instance",
        "bootstrap",
        "share of reconstructions whose nearest source image (evaluator features) is their own, among the "
        "candidates: the expectation over every random draw of the other candidates from the test images",
    ),
    _m(
        "id_top5",
        "identification top-5",
        "{:.1%}",
        "higher",
        "instance",
        "bootstrap",
        "share of reconstructions whose own source is among the 5 nearest (the same expectation)",
    ),
    _m(
        "id_chance_top1",
        "  chance top-1",
        "{:.1%}",
        "",
        "describes",
        "none",
        "identification top-1 of a guess: 1 / candidates",
    ),
    _m(
        "id_candidates",
        "  candidates",
        "{:.0f}",
        "",
        "describes",
        "none",
        "source images each reconstruction is ranked among",
    ),
    _m(
        "logit_cosine",
        "cosine(phi(x), phi(x_hat))",
        "{:.3f}",
        "higher",
        "instance",
        "bootstrap",
        "cosine similarity of the inverted classifier's logits of x and of x_hat",
    ),
    _m(
        "evaluator_acc_recon",
        "evaluator accuracy on reconstructions",
        "{:.1%}",
        "higher",
        "class",
        "wilson",
        "the independent evaluator's top-1 on x_hat against the true label",
    ),
    _m(
        "evaluator_acc_recon_correct",
        "  on images the classifier gets right",
        "{:.1%}",
        "higher",
        "class",
        "wilson",
        "the same, on the test images the inverted classifier classifies correctly (its own errors left out)",
    ),
    _m(
        "evaluator_top5_recon",
        "evaluator top-5 on reconstructions",
        "{:.1%}",
        "higher",
        "class",
        "wilson",
        "the true label among the evaluator's 5 highest logits on x_hat (the model-inversion top-5 attack accuracy)",
    ),
    _m(
        "evaluator_acc_original",
        "evaluator accuracy on originals",
        "{:.1%}",
        "",
        "class",
        "wilson",
        "the evaluator's top-1 on x itself: the ceiling for the row above",
    ),
    _m(
        "top1_agreement",
        "classifier top-1 agreement x vs x_hat",
        "{:.1%}",
        "higher",
        "class",
        "wilson",
        "share of images whose inverted classifier's top-1 on x_hat equals its top-1 on x",
    ),
    _m(
        "knn_distance",
        "KNN distance to real images of the class",
        "{:.3f}",
        "lower",
        "class",
        "bootstrap",
        "evaluator-feature distance from x_hat to the nearest real training image of its true class",
    ),
    _m(
        "precision",
        "precision (k=5)",
        "{:.3f}",
        "higher",
        "distribution",
        "none",
        "share of reconstructions inside the real images' 5-NN balls (evaluator features; Naeem et al. 2020); "
        "the real set (training images) and the reconstructions cut to the same size",
    ),
    _m(
        "recall",
        "recall (k=5)",
        "{:.3f}",
        "higher",
        "distribution",
        "none",
        "share of real images inside the reconstructions' 5-NN balls",
    ),
    _m(
        "density",
        "density (k=5)",
        "{:.3f}",
        "higher",
        "distribution",
        "none",
        "mean count of real 5-NN balls holding a reconstruction, over 5 (1 when they match the real distribution)",
    ),
    _m(
        "coverage",
        "coverage (k=5)",
        "{:.3f}",
        "higher",
        "distribution",
        "none",
        "share of real images whose 5-NN ball holds at least one reconstruction",
    ),
    *(
        _m(
            f"{name}_real",
            f"  {name}: real test images instead",
            "{:.3f}",
            "",
            "describes",
            "none",
            f"the {name} row with the real test images in place of the reconstructions: what a perfect inverter "
            "would score",
        )
        for name in ("precision", "recall", "density", "coverage")
    ),
    _m(
        EVALUATOR_FID,
        "FID (evaluator features)",
        "{:.3f}",
        "lower",
        "distribution",
        "bootstrap-sd",
        "Frechet distance between evaluator features of reconstructions and of real test images",
    ),
    _m(
        "kid[logit-inversion-evaluator]",
        "KID (evaluator features)",
        "{:.4f}",
        "lower",
        "distribution",
        "none",
        "kernel inception distance on the same features (unbiased; can be slightly negative)",
    ),
    _m(
        "fid[inception-v3]",
        "FID (Inception-v3)",
        "{:.2f}",
        "lower",
        "distribution",
        "none",
        "FID with Inception-v3 features; unavailable without its weights",
    ),
    _m(
        "diversity",
        "diversity (RMS between noise draws)",
        "{:.4f}",
        "",
        "describes",
        "bootstrap",
        "root-mean-square pixel difference between noise draws of the same logits; 0 for a decoder",
    ),
]
MEASURES = {m.key: m for m in FIDELITY}
