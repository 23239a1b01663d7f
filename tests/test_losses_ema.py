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
