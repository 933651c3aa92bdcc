"""The PyTorch-named modules: outputs and gradients against PyTorch, state_dict keys, and clear errors."""

import numpy as np
import pytest

import minidl as md
import minidl.nn as nn

torch = pytest.importorskip("torch")

rng = np.random.default_rng(1)


def copy_weights(ours, theirs):
    """Load the PyTorch module's weights into ours (matching names and shapes)."""
    ours.load_state_dict({k: md.tensor(v.detach().numpy(), dtype=md.float64) for k, v in theirs.state_dict().items()})


def check(ours, theirs, x, rtol=1e-10):
    ours, theirs = ours, theirs.double()
    if list(theirs.state_dict()):
        copy_weights(ours, theirs)
    mine = md.tensor(x, dtype=md.float64, requires_grad=True)
    their = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    got, want = ours(mine), theirs(their)
    np.testing.assert_allclose(got.numpy(), want.detach().numpy(), rtol=rtol, atol=1e-12)
    mix = rng.standard_normal(want.shape)
    (got * md.tensor(mix, dtype=md.float64)).sum().backward()
    (want * torch.tensor(mix)).sum().backward()
    np.testing.assert_allclose(mine.grad.numpy(), their.grad.numpy(), rtol=1e-9, atol=1e-12)
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("make", [
    lambda m: m.LeakyReLU(0.2), lambda m: m.ELU(0.5), lambda m: m.SiLU(), lambda m: m.Softplus(2.0, 5.0),
    lambda m: m.Hardtanh(-0.5, 0.5), lambda m: m.Softmax(dim=1), lambda m: m.LogSoftmax(dim=-1),
    lambda m: m.Identity(), lambda m: m.Flatten(), lambda m: m.Flatten(0, 1), lambda m: m.Flatten(1, 2),
], ids=["LeakyReLU", "ELU", "SiLU", "Softplus", "Hardtanh", "Softmax", "LogSoftmax", "Identity", "Flatten",
        "Flatten01", "Flatten12"])
def test_parameterless_modules_match_pytorch(backend, make):
    check(make(nn), make(torch.nn), rng.standard_normal((3, 4, 2, 2)) * 2)


def test_unflatten_matches_pytorch(backend):
    check(nn.Unflatten(1, (2, 3)), torch.nn.Unflatten(1, (2, 3)), rng.standard_normal((4, 6, 5)))


@pytest.mark.parametrize("output_size", [1, (2, 2), (3, 2), (None, 3), (5, 7)])
def test_adaptive_avg_pool2d_matches_pytorch(backend, output_size):
    check(nn.AdaptiveAvgPool2d(output_size), torch.nn.AdaptiveAvgPool2d(output_size), rng.standard_normal((2, 3, 6, 7)))


@pytest.mark.parametrize("kwargs", [dict(), dict(stride=2, padding=1), dict(bias=False, padding=2)])
def test_conv1d_matches_pytorch(backend, kwargs):
    check(nn.Conv1d(3, 5, 3, dtype=md.float64, **kwargs), torch.nn.Conv1d(3, 5, 3, **kwargs), rng.standard_normal((2, 3, 9)))


@pytest.mark.parametrize("name, kwargs, target", [
    ("CrossEntropyLoss", dict(label_smoothing=0.1, ignore_index=1), np.array([0, 1, 3])),
    ("CrossEntropyLoss", dict(weight=[1.0, 2.0, 0.5, 1.0], reduction="sum"), np.array([0, 2, 3])),
    ("NLLLoss", dict(reduction="none"), np.array([2, 1, 0])),
    ("MSELoss", dict(), rng.standard_normal((3, 4))),
    ("L1Loss", dict(reduction="sum"), rng.standard_normal((3, 4))),
    ("SmoothL1Loss", dict(beta=0.5), rng.standard_normal((3, 4))),
    ("BCEWithLogitsLoss", dict(pos_weight=[1.0, 2.0, 3.0, 0.5]), rng.uniform(0, 1, (3, 4))),
    ("BCELoss", dict(weight=[1.0, 2.0, 3.0, 0.5]), rng.uniform(0, 1, (3, 4))),
])
def test_loss_modules_match_pytorch(backend, name, kwargs, target):
    x = rng.uniform(0.05, 0.95, (3, 4)) if name == "BCELoss" else rng.standard_normal((3, 4))
    theirs_kwargs = {k: torch.tensor(v, dtype=torch.float64) if isinstance(v, list) else v for k, v in kwargs.items()}
    ours_kwargs = {k: md.tensor(v, dtype=md.float64) if isinstance(v, list) else v for k, v in kwargs.items()}
    ours, theirs = getattr(nn, name)(**ours_kwargs), getattr(torch.nn, name)(**theirs_kwargs)
    t_target = torch.tensor(target) if target.dtype.kind == "i" else torch.tensor(target, dtype=torch.float64)
    m_target = md.tensor(target) if target.dtype.kind == "i" else md.tensor(target, dtype=md.float64)
    x_ours, x_theirs = md.tensor(x, dtype=md.float64, requires_grad=True), torch.tensor(x, requires_grad=True)
    got, want = ours(x_ours, m_target), theirs(x_theirs, t_target)
    np.testing.assert_allclose(got.numpy(), want.detach().numpy(), rtol=1e-10)
    got.sum().backward(), want.sum().backward()
    np.testing.assert_allclose(x_ours.grad.numpy(), x_theirs.grad.numpy(), rtol=1e-9, atol=1e-12)
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())


class Both:
    """The same model built from ``nn`` (minidl's or PyTorch's)."""

    @staticmethod
    def build(m):
        model = m.Module()
        model.features = m.Sequential(m.Conv1d(2, 4, 3), m.ELU(), m.Flatten())
        model.heads = m.ModuleDict({"a": m.Linear(4 * 6, 3), "b": m.Linear(4 * 6, 2)})
        model.scales = m.ParameterList([m.Parameter(m_ones(m, 3)), m.Parameter(m_ones(m, 2))])
        model.extras = m.ParameterDict({"shift": m.Parameter(m_ones(m, 2))})
        model.pool = m.AdaptiveAvgPool2d(1)
        model.norm = m.BatchNorm1d(3)
        return model


def m_ones(m, n):
    return md.ones((n,)) if m is nn else torch.ones(n)


def test_state_dict_keys_match_pytorch_for_the_same_model():
    ours, theirs = Both.build(nn), Both.build(torch.nn)
    assert list(ours.state_dict()) == [k for k in theirs.state_dict() if not k.endswith("num_batches_tracked")]
    for key, value in theirs.state_dict().items():
        if key in ours.state_dict():
            assert ours.state_dict()[key].shape == tuple(value.shape), key


def test_containers_behave_like_dicts_and_lists():
    heads = nn.ModuleDict({"a": nn.Linear(2, 2)})
    heads["b"] = nn.ReLU()
    assert list(heads) == ["a", "b"] and "b" in heads and len(heads) == 2
    assert isinstance(heads.pop("b"), nn.ReLU) and list(heads.keys()) == ["a"]
    params = nn.ParameterList([md.ones((2,))])
    params.append(nn.Parameter(md.zeros((3,))))
    assert [p.shape for p in params] == [(2,), (3,)] and params[0].requires_grad
    with pytest.raises(KeyError, match="no module 'c'.*'a'"):
        heads["c"]
    with pytest.raises(TypeError, match="holds nn.Module"):
        heads["c"] = 3
    with pytest.raises(IndexError, match="out of range for 2"):
        params[5]


def test_shape_errors_name_the_shapes():
    with pytest.raises(ValueError, match=r"\(N, C, L\).*\(2, 9\)"):
        nn.Conv1d(3, 5, 3)(md.ones((2, 9)))
    with pytest.raises(ValueError, match=r"does not split into \(4, 4\)"):
        nn.Unflatten(1, (4, 4))(md.ones((2, 10)))
    with pytest.raises(ValueError, match=r"Flatten\(start_dim=2, end_dim=1\)"):
        nn.Flatten(2, 1)(md.ones((2, 3, 4)))
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        nn.AdaptiveAvgPool2d(2)(md.ones((3, 4)))
    with pytest.raises(TypeError, match="dim=1"):
        nn.Softmax()
