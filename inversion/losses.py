"""Hinge loss for the GAN (Lim and Ye 2017; as in seeds/003 Section 3 and BigGAN), and the
optional logit-consistency ablation.

    L_D = E[max(0, 1 - D(x, z))] + E[max(0, 1 + D(G(z, n), z))]
    L_G = -E[D(G(z, n), z)]
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def hinge_d_loss(d_real: torch.Tensor, d_fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Returns the real and fake halves of the discriminator's loss; their sum is L_D."""
    return F.relu(1.0 - d_real).mean(), F.relu(1.0 + d_fake).mean()


def hinge_g_loss(d_fake: torch.Tensor) -> torch.Tensor:
    return -d_fake.mean()


def logit_consistency_loss(recon_logits: torch.Tensor, target_logits: torch.Tensor) -> torch.Tensor:
    """Mean squared error between the classifier's logits of a reconstruction and the target logits,
    both already standardised. An ablation only: the paper uses the adversarial loss alone."""
    return F.mse_loss(recon_logits.float(), target_logits.float())
