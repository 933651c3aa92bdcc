"""md.amp.GradScaler: dynamic loss scaling, as torch.amp.GradScaler."""

import numpy as np
import pytest

import minidl as md
import minidl.nn as nn
import minidl.nn.functional as F
import minidl.optim as optim


def _model_and_batch():
    md.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
    return model, md.randn(32, 8), md.tensor([i % 4 for i in range(32)])


def _one_step(use_scaler, autocast=False):
    model, x, y = _model_and_batch()
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scaler = md.amp.GradScaler(init_scale=2.0 ** 10)
    with md.autocast(enabled=autocast):
        loss = F.cross_entropy(model(x), y)
    if use_scaler:
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
    else:
        loss.backward()
        optimizer.step()
    return [p.numpy() for p in model.parameters()], scaler


@pytest.mark.parametrize("autocast", [False, True])
def test_scaled_step_equals_unscaled_step_when_nothing_overflows(autocast):
    plain, _ = _one_step(use_scaler=False, autocast=autocast)
    scaled, scaler = _one_step(use_scaler=True, autocast=autocast)
    for a, b in zip(plain, scaled):
        assert np.allclose(a, b, rtol=1e-6, atol=1e-7)  # a power-of-two scale is exact in floating point
    assert scaler.get_scale() == 2.0 ** 10


def test_overflow_skips_the_step_and_halves_the_scale():
    model, x, y = _model_and_batch()
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    scaler = md.amp.GradScaler()
    before = [p.numpy().copy() for p in model.parameters()]
    scaler.scale(F.cross_entropy(model(x), y)).backward()
    first = next(iter(model.parameters()))
    first.grad = first.grad * float("inf")  # what a float16 overflow leaves behind
    assert scaler.step(optimizer) is None
    scaler.update()
    assert all(np.array_equal(a, p.numpy()) for a, p in zip(before, model.parameters()))
    assert scaler.get_scale() == 2.0 ** 15


def test_nan_gradient_also_skips():
    model, x, y = _model_and_batch()
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    scaler = md.amp.GradScaler(init_scale=8.0, backoff_factor=0.25)
    scaler.scale(F.cross_entropy(model(x), y)).backward()
    last = list(model.parameters())[-1]
    last.grad = last.grad * float("nan")
    scaler.step(optimizer)
    scaler.update()
    assert scaler.get_scale() == 2.0


def test_scale_grows_after_growth_interval_good_steps():
    model, x, y = _model_and_batch()
    optimizer = optim.SGD(model.parameters(), lr=0.01)
    scaler = md.amp.GradScaler(init_scale=4.0, growth_interval=3)
    scales = []
    for _ in range(7):
        optimizer.zero_grad()
        scaler.scale(F.cross_entropy(model(x), y)).backward()
        scaler.step(optimizer)
        scaler.update()
        scales.append(scaler.get_scale())
    assert scales == [4.0, 4.0, 8.0, 8.0, 8.0, 16.0, 16.0]


def test_scale_sequence_matches_torch_grad_scaler():
    torch = pytest.importorskip("torch")
    overflow_at = {1, 2, 6}
    ours = md.amp.GradScaler(init_scale=1024.0, growth_interval=2)
    theirs = torch.amp.GradScaler("cpu", init_scale=1024.0, growth_interval=2)
    md_param = md.ones((3,), requires_grad=True)
    torch_param = torch.ones(3, requires_grad=True)
    md_opt, torch_opt = optim.SGD([md_param], lr=0.1), torch.optim.SGD([torch_param], lr=0.1)
    for step in range(9):
        md_opt.zero_grad(), torch_opt.zero_grad()
        ours.scale((md_param * 2.0).sum()).backward()
        theirs.scale((torch_param * 2.0).sum()).backward()
        if step in overflow_at:
            md_param.grad = md_param.grad * float("inf")
            torch_param.grad.mul_(float("inf"))
        ours.step(md_opt), theirs.step(torch_opt)
        ours.update(), theirs.update()
        assert ours.get_scale() == theirs.get_scale(), step
    assert np.allclose(md_param.numpy(), torch_param.detach().numpy())
    assert set(ours.state_dict()) == set(theirs.state_dict())


def test_unscale_then_clip_then_step():
    model, x, y = _model_and_batch()
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    scaler = md.amp.GradScaler()
    scaler.scale(F.cross_entropy(model(x), y)).backward()
    scaler.unscale_(optimizer)
    plain = [g.numpy() for g in (p.grad for p in model.parameters())]
    with pytest.raises(RuntimeError, match="already been called"):
        scaler.unscale_(optimizer)
    scaler.step(optimizer)   # does not unscale a second time
    with pytest.raises(RuntimeError, match="already been called"):
        scaler.step(optimizer)
    scaler.update()
    model2, _, _ = _model_and_batch()
    F.cross_entropy(model2(x), y).backward()
    for g, p in zip(plain, model2.parameters()):
        assert np.allclose(g, p.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_update_without_step_is_an_error_and_state_dict_round_trips():
    scaler = md.amp.GradScaler(init_scale=64.0, growth_interval=5)
    with pytest.raises(RuntimeError, match="step"):
        scaler.update()
    other = md.amp.GradScaler()
    other.load_state_dict(scaler.state_dict())
    assert other.get_scale() == 64.0 and other.state_dict() == scaler.state_dict()


def test_disabled_scaler_is_transparent():
    scaler = md.amp.GradScaler(enabled=False)
    loss = md.ones((1,)).sum()
    assert scaler.scale(loss) is loss and scaler.get_scale() == 1.0 and scaler.state_dict() == {}


def test_mlp_trains_under_autocast_and_grad_scaler_on_float16():
    images, labels = md.data.digits("train").arrays
    x, y = md.tensor(images[:512]), md.tensor(labels[:512])
    md.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    optimizer = optim.SGD(model.parameters(), lr=0.2, momentum=0.9)
    scaler = md.amp.GradScaler(growth_interval=20)
    losses = []
    for _ in range(60):
        optimizer.zero_grad()
        with md.autocast(dtype=md.float16):
            loss = F.cross_entropy(model(x), y)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        losses.append(loss.item())
    assert all(p.dtype is md.float32 for p in model.parameters())
    assert losses[-1] < 0.35 * losses[0], losses[::10]


def test_scaled_step_equals_unscaled_step_on_every_backend(backend):
    plain, _ = _one_step(use_scaler=False)
    scaled, _ = _one_step(use_scaler=True)
    for a, b in zip(plain, scaled):
        assert np.allclose(a, b, rtol=1e-6, atol=1e-7)
