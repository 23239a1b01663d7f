"""Paired reconstruction terms of the generator loss: G(phi(x), noise) should look like x itself.

The paper (Teterwak et al. 2021) trains with the adversarial loss alone: the discriminator's
projection term only asks that an image be *plausible* for its logits, so the generator is free to
draw any garment the logits allow. Measured on Fashion-MNIST, such an inverter recovers a fifth of
what a nearest-neighbour lookup in logit space does (docs/RESULTS.md). Dosovitskiy and Brox (2016a,
"Generating images with perceptual similarity metrics based on deep networks", DeePSiM) combine
three terms instead: a pixel loss, a loss in the features of a fixed comparator network, and the
adversarial loss that keeps images sharp. This module holds the first two:

- `pixel_loss`: the mean absolute pixel error (L1 rather than L2: it blurs less, as in pix2pix);
- `feature_loss`: the squared error of the activations of each stage of a fixed network, each
  divided by the mean square of the source's activations so that no stage dominates by scale.

The comparator is the inverted classifier phi itself (its `stages`, frozen): it is the one network
every inversion has, and it is not the independent evaluator, which must never judge what it was
trained on. Both terms compare a reconstruction with the image whose logits produced it, drawn
with random noise like the adversarial term (one generator pass serves all three): a separate pass
at noise 0 would feed the batch norms a batch whose first feature map is the same for every image.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def pixel_loss(recon: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
    """Mean absolute error of two image batches in [-1, 1]."""
    return (recon.float() - images.float()).abs().mean()


def feature_loss(recon_stages: list[torch.Tensor], source_stages: list[torch.Tensor]) -> torch.Tensor:
    """Sum over stages of MSE(recon, source) / mean(source^2): each stage weighs the same whatever its scale."""
    total = recon_stages[0].new_zeros((), dtype=torch.float32)
    for r, s in zip(recon_stages, source_stages, strict=True):
        s = s.float()
        total = total + F.mse_loss(r.float(), s) / s.pow(2).mean().clamp_min(1e-8)
    return total
