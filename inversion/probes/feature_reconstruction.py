"""Feature reconstruction (the FeatReconstruct experiments, "Reconstructing features from logits"):
one linear layer maps logits back to the penultimate features.

For a model with features f(x) and logits z(x) = W f(x) + b, fit f_hat = A z + c by least squares on
training images; on test images report
- MSE: the mean over images and feature dimensions of (f_hat - f)^2 ("averaged"), and the same
  summed over dimensions per image ("summed"), since work on this question reports either;
- top-1 match: the share of images whose top-1 through the model's own head, W f_hat + b, equals
  the top-1 of the original z.
Across models (logits of A -> features of B, head of B) the same numbers form a matrix.
"""

from __future__ import annotations

import torch

from .training import final_linear, outputs, subset


def fit_linear_map(z: torch.Tensor, f: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Least-squares A, c with f ~= z @ A.T + c."""
    ones = torch.ones(len(z), 1, dtype=torch.float64)
    solution = torch.linalg.lstsq(torch.cat([z.double(), ones], 1), f.double()).solution  # (k + 1, d)
    return solution[:-1].T.float(), solution[-1].float()


def evaluate_map(
    A: torch.Tensor,
    c: torch.Tensor,
    z: torch.Tensor,
    f: torch.Tensor,
    head: torch.nn.Linear,
    reference_logits: torch.Tensor,
) -> dict:
    f_hat = z @ A.T + c
    err = (f_hat - f).pow(2)
    with torch.no_grad():
        logits_hat = head.cpu().float()(f_hat)
    return {
        "mse_averaged": float(err.mean()),
        "mse_summed": float(err.sum(1).mean()),
        "top1_match": float((logits_hat.argmax(1) == reference_logits.argmax(1)).float().mean()),
    }


def run(models: dict[str, torch.nn.Module], train_outputs: dict, test_outputs: dict) -> dict:
    """`*_outputs[name] = (logits, features)`. Returns the matrix over (source logits, target model)."""
    matrix = {}
    for a in models:
        row = {}
        for b, model_b in models.items():
            A, c = fit_linear_map(train_outputs[a][0], train_outputs[b][1])
            row[b] = evaluate_map(
                A, c, test_outputs[a][0], test_outputs[b][1], final_linear(model_b), reference_logits=test_outputs[b][0]
            )
        matrix[a] = row
    return matrix


def run_on_data(models: dict[str, torch.nn.Module], data, train_images: int, test_images: int) -> dict:
    """`run` on the logits and features of (up to) `train_images` training and `test_images` test images."""
    train = subset(data.train, limit=train_images, seed=0)
    test = subset(data.test, limit=test_images, seed=0)
    train_out = {n: (outputs(m, train), outputs(m, train, features=True)) for n, m in models.items()}
    test_out = {n: (outputs(m, test), outputs(m, test, features=True)) for n, m in models.items()}
    return {"matrix": run(models, train_out, test_out), "train_images": len(train), "test_images": len(test)}
