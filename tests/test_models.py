import pytest
import torch

from infra.errors import UserError
from inversion.model.generator import Generator
from inversion.model.projection_discriminator import Discriminator


@pytest.mark.parametrize("resolution", [32, 64, 128])
@pytest.mark.parametrize("channels", [1, 3])
def test_generator_and_discriminator_shapes(resolution, channels):
    torch.manual_seed(0)
    num_classes, n = 7, 2
    G = Generator(num_classes, resolution=resolution, channels=channels, ch=2, dim_noise=24, cond_hidden=8)
    D = Discriminator(num_classes, resolution=resolution, channels=channels, ch=2)
    logits = torch.randn(n, num_classes)
    images = G(torch.randn(n, 24), logits)
    assert images.shape == (n, channels, resolution, resolution)
    assert images.abs().max() <= 1.0
    assert D(images, logits).shape == (n,)


@pytest.mark.parametrize("resolution,attention", [(32, 16), (64, 32)])
def test_attention_blocks_are_placed(resolution, attention):
    G = Generator(5, resolution=resolution, channels=3, ch=8, dim_noise=20, cond_hidden=8, attention=attention)
    D = Discriminator(5, resolution=resolution, channels=3, ch=8, attention=attention)
    assert len(G.attention) == 1 and len(D.attention) == 1
    x = G(torch.randn(2, 20), torch.randn(2, 5))
    assert D(x, torch.randn(2, 5)).shape == (2,)


def test_resolution_outside_the_table_is_a_clear_error():
    with pytest.raises(UserError, match="not in the architecture table; choose one of \\[32, 64, 128, 256\\]"):
        Generator(10, resolution=48)
    with pytest.raises(UserError, match="architecture table"):
        Discriminator(10, resolution=100)


def test_hierarchical_noise_reaches_every_block():
    torch.manual_seed(0)
    G = Generator(4, resolution=32, channels=1, ch=4, dim_noise=20, cond_hidden=8)
    assert sum(G.chunks) == 20 and len(G.chunks) == 4
    # the condition of each block has the logits plus one noise chunk
    assert G.blocks[0].bn1.gain[0].in_features == 4 + G.chunks[1]


def test_projection_term_is_linear_in_the_logits():
    torch.manual_seed(0)
    D = Discriminator(6, resolution=32, channels=3, ch=2).eval()  # eval: frozen spectral-norm vectors
    x = torch.randn(3, 3, 32, 32)
    z1, z2 = torch.randn(3, 6), torch.randn(3, 6)
    out1, out2, out0 = D(x, z1), D(x, z2), D(x, torch.zeros(3, 6))
    assert not torch.allclose(out1, out2)
    h = D.features(x)
    W2 = D.projection.weight  # (width, num_classes)
    torch.testing.assert_close(out1 - out0, ((z1 @ W2.T) * h).sum(1), rtol=1e-4, atol=1e-4)


def test_logit_standardisation_uses_stored_statistics():
    G = Generator(3, resolution=32, channels=1, ch=2, dim_noise=8, cond_hidden=4)
    G.logit_norm.set_statistics(torch.tensor([1.0, 2.0, 3.0]), torch.tensor([2.0, 2.0, 4.0]))
    out = G.logit_norm(torch.tensor([[3.0, 2.0, -1.0]]))
    torch.testing.assert_close(out, torch.tensor([[1.0, 0.0, -1.0]]), atol=1e-5, rtol=0)
    raw = Generator(3, resolution=32, channels=1, ch=2, dim_noise=8, cond_hidden=4, logit_norm="none")
    raw.logit_norm.set_statistics(torch.ones(3), torch.full((3,), 5.0))
    torch.testing.assert_close(raw.logit_norm(torch.tensor([[3.0, 2.0, -1.0]])), torch.tensor([[3.0, 2.0, -1.0]]))


def test_conditioning_mlps_are_not_spectrally_normalised():
    G = Generator(3, resolution=32, channels=1, ch=2, dim_noise=8, cond_hidden=4)
    for norm in G.conditional_norms():
        for mlp in (norm.gain, norm.bias):
            assert not hasattr(mlp[0], "parametrizations") and not hasattr(mlp[2], "parametrizations")
    assert hasattr(G.blocks[0].conv1, "parametrizations")


def test_logit_input_is_the_only_path_of_the_logits_at_initialisation():
    """The conditional batch norms start as the identity (their MLPs' last layers are zero), so at
    initialisation G's output does not depend on the logits at all, unless model.g.logit_input feeds them
    to the input layer too."""
    torch.manual_seed(0)
    noise, a, b = torch.randn(4, 16), torch.randn(4, 10), torch.randn(4, 10)
    plain = Generator(10, 32, 1, ch=4, dim_noise=16, cond_hidden=8).eval()
    with torch.no_grad():
        torch.testing.assert_close(plain(noise, a), plain(noise, b))
    fed = Generator(10, 32, 1, ch=4, dim_noise=16, cond_hidden=8, logit_input=True).eval()
    with torch.no_grad():
        assert not torch.allclose(fed(noise, a), fed(noise, b))
    assert fed.logit_input.in_features == 10 and plain.logit_input is None


def test_fourier_features_of_known_frequencies():
    """With B = [[0.25, 0.5]], z = 1 has phases pi/2 and pi: features [1, sin pi/2, sin pi, cos pi/2, cos pi]."""
    from inversion.model.logit_fourier_features import LogitFourierFeatures

    features = LogitFourierFeatures(1, 2, scale=1.0)
    features.frequencies.copy_(torch.tensor([[0.25, 0.5]]))
    out = features(torch.ones(1, 1))
    torch.testing.assert_close(out, torch.tensor([[1.0, 1.0, 0.0, 0.0, -1.0]]), atol=1e-6, rtol=0)
    with torch.autocast("cpu", dtype=torch.bfloat16):  # the phase stays float32 under autocast
        torch.testing.assert_close(features(torch.ones(1, 1)), out, atol=1e-6, rtol=0)


def test_fourier_features_reach_g_and_travel_with_its_weights():
    """The frequencies are a buffer of the state dict: a generator built with another seed that loads it
    gives the same images; without the option the state dict has no such key (older snapshots load)."""
    torch.manual_seed(0)
    noise, logits = torch.randn(4, 16), torch.randn(4, 10)
    kwargs = dict(ch=4, dim_noise=16, cond_hidden=8, logit_input=True, fourier_features=6, fourier_scale=2.0)
    g = Generator(10, 32, 1, **kwargs).eval()
    assert g.logit_input.in_features == 10 + 12
    assert g.conditional_norms()[0].gain[0].in_features == 10 + 12 + 4  # logits, features, a noise chunk
    torch.manual_seed(1)
    other = Generator(10, 32, 1, **kwargs).eval()
    assert not torch.equal(other.logit_features.frequencies, g.logit_features.frequencies)
    other.load_state_dict(g.state_dict())
    with torch.no_grad():
        torch.testing.assert_close(other(noise, logits), g(noise, logits))
    plain = Generator(10, 32, 1, ch=4, dim_noise=16, cond_hidden=8)
    assert not any("frequencies" in key for key in plain.state_dict())
