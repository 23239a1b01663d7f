"""Markdown tables: a pipe-table writer and the fidelity table shared by several commands.

Each command writes its own small tables with `table`; the fidelity table, which `fidelity`,
`baseline optimize`, `adversarial` (by subset) and the reference experiment's collector all print,
lives here with its row labels and number formats.
"""

from __future__ import annotations

from dataclasses import dataclass


def table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown pipe table; cells are already formatted strings."""
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def with_interval(value: float, interval: list[float] | None = None, fmt: str = ".3f") -> str:
    """`value` in format `fmt`, followed by its 95% interval in brackets when there is one."""
    text = f"{value:{fmt}}"
    return text + (f" [{interval[0]:{fmt}}, {interval[1]:{fmt}}]" if interval else "")


@dataclass(frozen=True)
class Metric:
    """How a number of the evaluation is shown: its label, format, which way is better, what it is."""

    key: str  # the results key
    label: str
    format: str
    better: str  # "higher", "lower" or "" (neither: it describes)
    definition: str

    def cell(self, value, interval: list[float] | None = None) -> str:
        """The value, and its 95% interval in brackets when there is one."""
        if value is None:
            return "unavailable"
        if isinstance(value, str):  # a reason the number is not reported
            return value
        text = self.format.format(value)
        if interval:
            text += f" [{self.format.format(interval[0])}, {self.format.format(interval[1])}]"
        return text

    @property
    def arrow(self) -> str:
        return {"higher": "↑", "lower": "↓"}.get(self.better, "")


FIDELITY_ROWS = [
    Metric("images", "images", "{:.0f}", "", "test images the numbers are computed on"),
    Metric(
        "mse",
        "MSE (noise 0)",
        "{:.4f}",
        "lower",
        "mean squared pixel error between x and its reconstruction at noise 0, pixels in [0, 1]",
    ),
    Metric(
        "psnr",
        "PSNR dB of the mean MSE (noise 0)",
        "{:.2f}",
        "higher",
        "10 log10(1 / mean MSE), the PSNR of the MSE row (a mean of per-image PSNRs is inf after one exact match)",
    ),
    Metric(
        "ssim",
        "SSIM (noise 0)",
        "{:.3f}",
        "higher",
        "structural similarity (11x11 Gaussian window) of x and its reconstruction; 1 is identical",
    ),
    Metric("mse_noise_mean", "MSE (mean of noise draws)", "{:.4f}", "lower", "MSE averaged over K random-noise draws"),
    Metric(
        "psnr_noise_mean",
        "PSNR dB of the mean MSE (noise draws)",
        "{:.2f}",
        "higher",
        "10 log10(1 / the MSE row above)",
    ),
    Metric(
        "ssim_noise_mean", "SSIM (mean of noise draws)", "{:.3f}", "higher", "SSIM averaged over K random-noise draws"
    ),
    Metric(
        "feature_distance",
        "evaluator feature distance (relative L2)",
        "{:.3f}",
        "lower",
        "||f(x) - f(x_hat)|| / ||f(x)|| with f the independent evaluator's penultimate features",
    ),
    Metric(
        "lpips",
        "LPIPS (AlexNet)",
        "{:.3f}",
        "lower",
        "learned perceptual distance; unavailable without AlexNet's weights (never a random backbone)",
    ),
    Metric(
        "id_top1",
        "identification top-1",
        "{:.1%}",
        "higher",
        "share of reconstructions whose nearest source image (evaluator features) is their own, among the candidates",
    ),
    Metric(
        "id_top5",
        "identification top-5",
        "{:.1%}",
        "higher",
        "share of reconstructions whose own source is among the 5 nearest",
    ),
    Metric("id_chance_top1", "  chance top-1", "{:.1%}", "", "identification top-1 of a guess: 1 / candidates"),
    Metric("id_candidates", "  candidates", "{:.0f}", "", "source images each reconstruction is ranked among"),
    Metric(
        "evaluator_acc_recon",
        "evaluator accuracy on reconstructions",
        "{:.1%}",
        "higher",
        "the independent evaluator's top-1 on x_hat against the true label",
    ),
    Metric(
        "evaluator_top5_recon",
        "evaluator top-5 on reconstructions",
        "{:.1%}",
        "higher",
        "the true label among the evaluator's 5 highest logits on x_hat (the model-inversion top-5 attack accuracy)",
    ),
    Metric(
        "evaluator_acc_original",
        "evaluator accuracy on originals",
        "{:.1%}",
        "",
        "the evaluator's top-1 on x itself: the ceiling for the row above",
    ),
    Metric(
        "top1_agreement",
        "classifier top-1 agreement x vs x_hat",
        "{:.1%}",
        "higher",
        "share of images whose inverted classifier's top-1 on x_hat equals its top-1 on x",
    ),
    Metric(
        "logit_cosine",
        "cosine(phi(x), phi(x_hat))",
        "{:.3f}",
        "higher",
        "cosine similarity of the inverted classifier's logits of x and of x_hat",
    ),
    Metric(
        "knn_distance",
        "KNN distance to real images of the class",
        "{:.3f}",
        "lower",
        "evaluator-feature distance from x_hat to the nearest real training image of its true class",
    ),
    Metric(
        "precision",
        "precision (k=5)",
        "{:.3f}",
        "higher",
        "share of reconstructions inside the real images' 5-NN balls (evaluator features; Naeem et al. 2020)",
    ),
    Metric(
        "recall",
        "recall (k=5)",
        "{:.3f}",
        "higher",
        "share of real images inside the reconstructions' 5-NN balls",
    ),
    Metric(
        "density",
        "density (k=5)",
        "{:.3f}",
        "higher",
        "mean count of real 5-NN balls holding a reconstruction, over 5 (1 when they match the real distribution)",
    ),
    Metric(
        "coverage",
        "coverage (k=5)",
        "{:.3f}",
        "higher",
        "share of real images whose 5-NN ball holds at least one reconstruction",
    ),
    Metric(
        "fid[logit-inversion-evaluator]",
        "FID (evaluator features)",
        "{:.3f}",
        "lower",
        "Frechet distance between evaluator features of reconstructions and of real test images",
    ),
    Metric(
        "kid[logit-inversion-evaluator]",
        "KID (evaluator features)",
        "{:.4f}",
        "lower",
        "kernel inception distance on the same features (unbiased; can be slightly negative)",
    ),
    Metric(
        "fid[inception-v3]",
        "FID (Inception-v3)",
        "{:.2f}",
        "lower",
        "FID with Inception-v3 features; unavailable without its weights",
    ),
    Metric(
        "diversity",
        "diversity (RMS between noise draws)",
        "{:.4f}",
        "",
        "root-mean-square pixel difference between noise draws of the same logits; 0 for a decoder",
    ),
]
METRICS = {m.key: m for m in FIDELITY_ROWS}


INTERVALS_NOTE = (
    "In brackets: 95% bootstrap intervals over the test images (percentiles of 2,000 resamples; FID's is "
    "its value plus or minus 1.96 standard deviations of 200 resamples). They say how much a number would "
    "move on other test images, not between training runs."
)


def fidelity_table(columns: dict[str, dict]) -> str:
    """The fidelity table: one row per metric with the direction that is better (↑ higher, ↓ lower),
    one column per run (or subset), from `inversion.evaluation.fidelity.summarize`'s dicts; a value
    with a 95% bootstrap interval shows it in brackets. A metric that is None reads "unavailable"."""
    names = list(columns)
    header = ["metric", "better", *names]
    rows = [
        [m.label, m.arrow, *(m.cell(columns[n].get(m.key), columns[n].get(f"{m.key}_ci")) for n in names)]
        for m in FIDELITY_ROWS
        if any(m.key in col for col in columns.values())
    ]
    return table(header, rows)


def metric_table(values: dict, keys: list[str]) -> str:
    """A two-column table of the fidelity metrics in `keys` that `values` has, shown as the fidelity
    table shows them."""
    rows = [[METRICS[k].label, METRICS[k].arrow, METRICS[k].cell(values[k])] for k in keys if k in values]
    return table(["metric", "better", "value"], rows)
