"""The model-inversion field's own measures, so that privacy researchers can compare with their tools.

The model-inversion literature scores reconstructions of a classifier's training data by an
independent evaluator network (never the attacked classifier: it would grade its own answers), with
the reconstructions' class (attack accuracy, top-1 and top-5; here `evaluator_acc_recon` and
`evaluator_top5_recon` of the fidelity table) and with distances in the evaluator's feature space
to real images, a reference set of training images:

- KNN distance: for each reconstruction, the Euclidean distance (evaluator features) to the nearest
  reference image of its own class; lower means the reconstructions lie among real images of the
  class they should show.
- Precision, recall, density and coverage (Naeem et al. 2020, "Reliable fidelity and diversity
  metrics for generative models", with k = 5 nearest neighbours): whether reconstructions lie within
  the real images' manifold (precision, density) and whether they cover it (recall, coverage).
  Computed by the `prdc` package, its authors' implementation.
"""

from __future__ import annotations

import contextlib
import io

import torch

from infra.optional import require


def knn_distances(
    f_recon: torch.Tensor, labels: torch.Tensor, f_reference: torch.Tensor, reference_labels: torch.Tensor
) -> torch.Tensor:
    """Per reconstruction: the distance to the nearest reference feature of its own class (inf if none)."""
    out = torch.full((len(f_recon),), float("inf"))
    for label in labels.unique():
        mine, theirs = labels == label, reference_labels == label
        if theirs.any():
            out[mine] = torch.cdist(f_recon[mine].float(), f_reference[theirs].float()).min(1).values.cpu()
    return out


def precision_recall_density_coverage(f_real: torch.Tensor, f_fake: torch.Tensor, k: int = 5) -> dict[str, float | str]:
    """Naeem et al.'s four numbers of fake against real features (numpy inside, by the prdc package);
    each a string saying why when either set has no k-th neighbour to measure a radius with."""
    names = ("precision", "recall", "density", "coverage")
    if min(len(f_real), len(f_fake)) <= k:
        return dict.fromkeys(names, f"not reported: fewer than {k + 1} images")
    prdc = require("prdc", "precision, recall, density and coverage")
    with contextlib.redirect_stdout(io.StringIO()):  # prdc prints the sample sizes
        out = prdc.compute_prdc(
            real_features=f_real.float().cpu().numpy(), fake_features=f_fake.float().cpu().numpy(), nearest_k=k
        )
    return {key: float(value) for key, value in out.items()}
