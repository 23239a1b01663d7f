import torch
import torch.nn.functional as F

from inversion.model.conditional_batch_norm import ConditionalBatchNorm2d
from inversion.model.layers import snconv2d, snlinear
from inversion.model.self_attention import SelfAttention


def test_conditional_bn_is_plain_batch_norm_at_init():
    torch.manual_seed(0)
    cbn = ConditionalBatchNorm2d(num_features=6, cond_dim=5, hidden=7)
    x = torch.randn(4, 6, 3, 3) * 3 + 2
    cond = torch.randn(4, 5) * 10
    expected = F.batch_norm(x, None, None, training=True, eps=cbn.bn.eps)
    torch.testing.assert_close(cbn(x, cond), expected)


def test_conditional_bn_depends_on_condition_after_update():
    torch.manual_seed(0)
    cbn = ConditionalBatchNorm2d(num_features=3, cond_dim=2, hidden=4)
    torch.nn.init.normal_(cbn.gain[2].weight)
    x = torch.randn(2, 3, 2, 2)
    assert not torch.allclose(cbn(x, torch.zeros(2, 2)), cbn(x, torch.ones(2, 2)))


def _top_singular_value(module) -> float:
    weight = module.weight  # the spectrally normalised weight
    return torch.linalg.matrix_norm(weight.detach().flatten(1), ord=2).item()


def test_spectral_norm_keeps_top_singular_value_near_one():
    torch.manual_seed(0)
    conv = snconv2d(8, 16)
    lin = snlinear(32, 10)
    with torch.no_grad():  # scale the raw weights far from norm 1
        conv.parametrizations.weight.original.mul_(7.0)
        lin.parametrizations.weight.original.mul_(0.05)
    for _ in range(30):  # power iterations run in training-mode forwards
        conv(torch.randn(2, 8, 5, 5))
        lin(torch.randn(2, 32))
    assert abs(_top_singular_value(conv) - 1.0) < 0.02
    assert abs(_top_singular_value(lin) - 1.0) < 0.02


def test_self_attention_starts_as_identity():
    attn = SelfAttention(16)
    x = torch.randn(2, 16, 8, 8)
    torch.testing.assert_close(attn(x), x)
