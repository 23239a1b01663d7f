"""Markdown tables: a pipe-table writer and the fidelity table shared by several commands.

Each command writes its own small tables with `table`; the fidelity table, which `fidelity`,
`baseline optimize`, `adversarial` (by subset) and the reference experiment's collector all print,
lives here with its row labels and number formats.
"""

from __future__ import annotations


def table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown pipe table; cells are already formatted strings."""
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


# (results key, row label, number format)
FIDELITY_ROWS = [
    ("images", "images", "{:.0f}"),
    ("mse", "MSE (noise 0)", "{:.4f}"),
    ("psnr", "PSNR dB (noise 0)", "{:.2f}"),
    ("ssim", "SSIM (noise 0)", "{:.3f}"),
    ("mse_noise_mean", "MSE (mean of noise draws)", "{:.4f}"),
    ("psnr_noise_mean", "PSNR dB (mean of noise draws)", "{:.2f}"),
    ("ssim_noise_mean", "SSIM (mean of noise draws)", "{:.3f}"),
    ("feature_distance", "evaluator feature distance (relative L2)", "{:.3f}"),
    ("lpips", "LPIPS (AlexNet)", "{:.3f}"),
    ("id_top1", "identification top-1", "{:.1%}"),
    ("id_top5", "identification top-5", "{:.1%}"),
    ("id_chance_top1", "  chance top-1", "{:.1%}"),
    ("id_candidates", "  candidates", "{:.0f}"),
    ("evaluator_acc_recon", "evaluator accuracy on reconstructions", "{:.1%}"),
    ("evaluator_acc_original", "evaluator accuracy on originals", "{:.1%}"),
    ("top1_agreement", "classifier top-1 agreement x vs x_hat", "{:.1%}"),
    ("logit_cosine", "cosine(phi(x), phi(x_hat))", "{:.3f}"),
    ("fid[logit-inversion-evaluator]", "FID (evaluator features)", "{:.3f}"),
    ("kid[logit-inversion-evaluator]", "KID (evaluator features)", "{:.4f}"),
    ("fid[inception-v3]", "FID (Inception-v3)", "{:.2f}"),
    ("diversity", "diversity (RMS between noise draws)", "{:.4f}"),
]


def fidelity_table(columns: dict[str, dict]) -> str:
    """The fidelity table: one row per metric, one column per run (or subset), from
    `inversion.evaluation.fidelity.summarize`'s dicts. A metric that is None reads "unavailable"."""
    names = list(columns)
    lines = ["| metric | " + " | ".join(names) + " |", "| --- |" + " --- |" * len(names)]
    for key, label, fmt in FIDELITY_ROWS:
        if not any(key in col for col in columns.values()):
            continue
        cells = []
        for name in names:
            value = columns[name].get(key)
            cells.append("unavailable" if value is None else fmt.format(value))
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
