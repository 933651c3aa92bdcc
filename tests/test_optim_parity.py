"""Optimizers against PyTorch: the same weights and gradients, several steps, float64, to 1e-6 or better."""

import numpy as np
import pytest

import minidl as md
import minidl.nn as nn
import minidl.optim as optim

torch = pytest.importorskip("torch")

STEPS = 6
rng = np.random.default_rng(0)
WEIGHTS = [rng.standard_normal((3, 4)), rng.standard_normal((4,))]
GRADS = [[rng.standard_normal(w.shape) for w in WEIGHTS] for _ in range(STEPS)]


def groups_of(params, settings):
    """One group per parameter when ``settings`` is a list of per-group dicts, else a plain list."""
    if settings is None:
        return list(params)
    return [{"params": [p], **extra} for p, extra in zip(params, settings)]


def run_minidl(name, kwargs, groups=None):
    params = [nn.Parameter(md.tensor(w, dtype=md.float64)) for w in WEIGHTS]
    opt = getattr(optim, name)(groups_of(params, groups), **kwargs)
    for grads in GRADS:
        opt.zero_grad()
        for p, g in zip(params, grads):
            p.grad = md.tensor(g, dtype=md.float64)
        opt.step()
    return [p.numpy() for p in params]


def run_torch(name, kwargs, groups=None):
    params = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in WEIGHTS]
    opt = getattr(torch.optim, name)(groups_of(params, groups), **kwargs)
    for grads in GRADS:
        opt.zero_grad()
        for p, g in zip(params, grads):
            p.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
    return [p.detach().numpy() for p in params]


CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9, weight_decay=0.01, nesterov=True)),
    ("SGD", dict(lr=0.05, momentum=0.8, dampening=0.3)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.95), weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-6, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.5)),
    ("RMSprop", dict(lr=0.01, centered=True, weight_decay=0.01)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.5, eps=1e-6)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-4, weight_decay=0.1)),
]


@pytest.mark.parametrize("name, kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_optimizer_matches_pytorch(backend, name, kwargs):
    for got, want in zip(run_minidl(name, kwargs), run_torch(name, kwargs)):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "Adagrad", "Adadelta"])
def test_parameter_groups_with_their_own_settings_match_pytorch(backend, name):
    groups = [{"lr": 0.3, "weight_decay": 0.1}, {"weight_decay": 0.0}]
    kwargs = dict(lr=0.02, momentum=0.9) if name in ("SGD", "RMSprop") else dict(lr=0.02)
    for got, want in zip(run_minidl(name, kwargs, groups), run_torch(name, kwargs, groups)):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_add_param_group_takes_the_defaults_for_what_it_leaves_out():
    a, b = nn.Parameter(md.ones((2,))), nn.Parameter(md.ones((2,)))
    opt = optim.RMSprop([a], lr=0.1, alpha=0.9)
    opt.add_param_group({"params": b, "lr": 0.5})
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert opt.param_groups[1]["alpha"] == 0.9 and opt.param_groups[1]["params"] == [b]


@pytest.mark.parametrize("name", ["RMSprop", "Adagrad", "Adadelta", "Adam"])
def test_state_dict_round_trip_continues_identically(name):
    kwargs = dict(lr=0.05, momentum=0.9, centered=True) if name == "RMSprop" else dict(lr=0.05)
    if name == "Adam":
        kwargs["amsgrad"] = True
    straight = run_minidl(name, kwargs)
    params = [nn.Parameter(md.tensor(w, dtype=md.float64)) for w in WEIGHTS]
    opt = getattr(optim, name)(params, **kwargs)
    for index, grads in enumerate(GRADS):
        if index == 3:
            resumed = getattr(optim, name)(params, lr=1.0)
            resumed.load_state_dict(opt.state_dict())
            opt = resumed
        for p, g in zip(params, grads):
            p.grad = md.tensor(g, dtype=md.float64)
        opt.step()
    for got, want in zip((p.numpy() for p in params), straight):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_zero_grad_set_to_none_false_keeps_zero_gradients(backend):
    w = nn.Parameter(md.tensor([1.0, 2.0]))
    opt = optim.SGD([w], lr=0.1)
    (w * w).sum().backward()
    grad = w.grad
    opt.zero_grad(set_to_none=False)
    assert w.grad is grad and w.grad.tolist() == [0.0, 0.0]
    opt.zero_grad()
    assert w.grad is None


def test_state_is_stored_back_into_the_state_dict(backend):
    """Each new state array is the one in the state dict (right for array libraries without in-place updates)."""
    w = nn.Parameter(md.tensor([1.0, 2.0]))
    opt = optim.RMSprop([w], lr=0.1, momentum=0.9, centered=True)
    for _ in range(2):
        (w * w).sum().backward()
        opt.step()
        opt.zero_grad()
    state = opt.state[w]
    assert set(state) >= {"square_avg", "grad_avg", "momentum_buffer", "step"} and state["step"] == 2


@pytest.mark.parametrize("make", [
    lambda p: optim.RMSprop(p, alpha=1.5), lambda p: optim.Adagrad(p, lr=-1.0),
    lambda p: optim.Adadelta(p, rho=2.0), lambda p: optim.RMSprop(p, momentum=-0.1),
])
def test_bad_settings_are_refused(make):
    with pytest.raises(ValueError):
        make([nn.Parameter(md.ones((1,)))])
