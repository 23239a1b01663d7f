"""An optional extra generator loss (`train.logit_loss_weight`), off by default: an ablation only.

The mean squared error between the frozen classifier's standardised logits of a reconstruction and
the target logits: it asks G to draw images the classifier maps back to the same logits. The paper
uses the adversarial loss alone; this term is here so its effect can be measured, not assumed.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def logit_consistency_loss(recon_logits: torch.Tensor, target_logits: torch.Tensor) -> torch.Tensor:
    """MSE of two batches of logits, both already standardised."""
    return F.mse_loss(recon_logits.float(), target_logits.float())
