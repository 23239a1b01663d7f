import torch
from torch import nn

from inversion.training.ema import EMA
from inversion.training.hinge_loss import hinge_d_loss, hinge_g_loss


def test_hinge_losses_on_hand_made_scores():
    d_real = torch.tensor([2.0, 0.5, -1.0])  # relu(1 - x) = 0, 0.5, 2
    d_fake = torch.tensor([-2.0, 0.0, 1.0])  # relu(1 + x) = 0, 1, 2
    real, fake = hinge_d_loss(d_real, d_fake)
    assert abs(real.item() - 2.5 / 3) < 1e-6
    assert fake.item() == 1.0
    assert hinge_g_loss(torch.tensor([1.0, -3.0])).item() == 1.0


def test_ema_arithmetic():
    model = nn.Linear(1, 1, bias=False)
    model.register_buffer("count", torch.tensor(0.0))
    with torch.no_grad():
        model.weight.fill_(1.0)
    ema = EMA(model, decay=0.9, start=2)
    with torch.no_grad():
        model.weight.fill_(3.0)
        model.count.fill_(5.0)
    ema.update(model, step=0)  # before start: follows the model
    assert ema.model.weight.item() == 3.0
    assert ema.model.count.item() == 5.0
    with torch.no_grad():
        model.weight.fill_(13.0)
    ema.update(model, step=2)  # 0.9 * 3 + 0.1 * 13 = 4
    assert abs(ema.model.weight.item() - 4.0) < 1e-6
    ema.update(model, step=3)  # 0.9 * 4 + 0.1 * 13 = 4.9
    assert abs(ema.model.weight.item() - 4.9) < 1e-6
    state = ema.state_dict()
    other = EMA(model, decay=0.5, start=0)
    other.load_state_dict(state)
    assert other.decay == 0.9 and abs(other.model.weight.item() - 4.9) < 1e-6
    assert not any(p.requires_grad for p in ema.model.parameters())


class _TwoInputNet(nn.Module):
    """noise, logits -> Linear -> BatchNorm1d: the shape of G's interface, small enough to check by hand."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(6, 3)
        self.bn = nn.BatchNorm1d(3)

    def forward(self, noise, logits):
        return self.bn(self.linear(torch.cat([noise, logits], 1)))


def test_standing_statistics_are_the_exact_statistics_of_the_weights_own_activations():
    from inversion.training.standing_statistics import with_standing_statistics

    torch.manual_seed(0)
    net = _TwoInputNet().eval()
    net.bn.running_mean.fill_(5.0)  # statistics of some other weights
    net.bn.running_var.fill_(9.0)
    logits = torch.randn(32, 4)
    fixed = with_standing_statistics(net, logits, dim_noise=2, batch_size=8, seed=3)
    g = torch.Generator().manual_seed(3)
    batches = [net.linear(torch.cat([torch.randn(8, 2, generator=g), chunk], 1)) for chunk in logits.split(8)]
    with torch.no_grad():
        expected_mean = torch.stack([b.mean(0) for b in batches]).mean(0)
        expected_var = torch.stack([b.var(0, unbiased=True) for b in batches]).mean(0)
    torch.testing.assert_close(fixed.bn.running_mean, expected_mean)
    torch.testing.assert_close(fixed.bn.running_var, expected_var)
    assert not fixed.training and fixed.bn.momentum == net.bn.momentum
    assert net.bn.running_mean.eq(5.0).all()  # the EMA model itself is left alone
    again = with_standing_statistics(net, logits, dim_noise=2, batch_size=8, seed=3)
    assert torch.equal(again.bn.running_var, fixed.bn.running_var)  # seeded: the same every time


def test_the_ema_update_never_reads_the_device():
    """No value goes back to the host in an update (a synchronisation on a GPU): it runs on the meta
    device, where reading any value fails."""
    model = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4)).to("meta")
    ema = EMA(model, decay=0.9, start=2)
    for step in range(4):
        ema.update(model, step)
    assert next(ema.model.parameters()).device.type == "meta"
