"""Exercise softplus: a backward checked by finite differences, twice differentiable, and against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import minidl as md

EXERCISE = "softplus"


def _x():
    return md.tensor(np.linspace(-30.0, 30.0, 13).reshape(13, 1) * np.array([[1.0, 0.1]]), dtype=md.float64,
                     requires_grad=True)


def test_gradient_matches_finite_differences(ex):
    assert md.gradcheck(lambda x: ex.Softplus.apply(x), [md.tensor([[-3.0, -0.5], [0.0, 2.5]])])


def test_gradient_is_a_sigmoid_and_stays_finite_at_large_inputs(ex):
    x = _x()
    ex.Softplus.apply(x).sum().backward()
    expected = 1.0 / (1.0 + np.exp(-x.numpy()))
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12, atol=1e-300)


def test_second_derivative_through_create_graph(ex):
    x = md.tensor([-2.0, 0.0, 1.5], dtype=md.float64, requires_grad=True)
    ex.Softplus.apply(x).sum().backward(create_graph=True)
    first, x.grad = x.grad, None          # d softplus / dx, itself a graph
    first.sum().backward()
    s = 1.0 / (1.0 + np.exp(-x.numpy()))
    np.testing.assert_allclose(x.grad.numpy(), s * (1.0 - s), rtol=1e-12)


def test_matches_pytorch(ex):
    torch = pytest.importorskip("torch")
    x = _x()
    ex.Softplus.apply(x).sum().backward()
    t = torch.tensor(x.numpy(), requires_grad=True)
    torch.nn.functional.softplus(t).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-10)
