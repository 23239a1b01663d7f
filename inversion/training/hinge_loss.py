"""The hinge loss of the GAN (Lim and Ye 2017), as in BigGAN and Teterwak et al. 2021, Section 3.

    L_D = E[max(0, 1 - D(x, z))] + E[max(0, 1 + D(G(z, n), z))]
    L_G = -E[D(G(z, n), z)]

It is the only loss by default: the inverter learns to reconstruct from the discriminator's
judgement of (image, logits) pairs alone, with no pixel loss.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def hinge_d_loss(d_real: torch.Tensor, d_fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Returns the real and fake halves of the discriminator's loss; their sum is L_D."""
    return F.relu(1.0 - d_real).mean(), F.relu(1.0 + d_fake).mean()


def hinge_g_loss(d_fake: torch.Tensor) -> torch.Tensor:
    return -d_fake.mean()
