"""The model: G(noise, logits) and D(x, logits), one file per building block.

layers.py                    spectrally normalised, orthogonally initialised conv and linear layers
conditional_batch_norm.py    batch norm whose gain and bias are MLPs of the logits (how G is conditioned)
self_attention.py            BigGAN's non-local block
residual_blocks.py           GBlock (up) and DBlock (down)
logit_standardisation.py     (z - mean) / std with training-set statistics, inside G and D
generator.py                 G and its architecture table per resolution
projection_discriminator.py  D(x, z) = (w1 + W2 z)^T f(x) and its architecture table
"""

from .generator import Generator, build_generator
from .projection_discriminator import Discriminator, build_discriminator

__all__ = ["Discriminator", "Generator", "build_discriminator", "build_generator"]
