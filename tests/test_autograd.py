"""The backward engine: order, accumulation, freeing, higher-order gradients."""

import math

import pytest

import minidl as md


def test_readme_example_runs(backend):
    x = md.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    w = md.randn(2, 3, requires_grad=True)
    md.tanh(x @ w).sum().backward()
    assert x.grad.shape == (2, 2) and w.grad.shape == (2, 3)


def test_deep_graph_needs_no_recursion(backend):
    x = md.tensor(0.5, requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.backward()
    assert x.grad.item() == pytest.approx(1.0001 ** 10_000, rel=1e-3)


def test_reused_node_accumulates_its_gradient(backend):
    x = md.tensor(3.0, dtype=md.float64, requires_grad=True)
    y = x * x          # x used twice in one op
    z = y + y * x      # y used twice across ops
    z.backward()
    # z = x^2 + x^3 -> dz/dx = 2x + 3x^2
    assert x.grad.item() == pytest.approx(2 * 3 + 3 * 9)


def test_leaf_gradients_accumulate_across_backward_calls(backend):
    x = md.tensor([1.0, 2.0], requires_grad=True)
    (x * 2).sum().backward()
    (x * 3).sum().backward()
    assert x.grad.tolist() == [5.0, 5.0]


def test_graph_is_freed_after_backward(backend):
    x = md.tensor([1.0, 2.0], requires_grad=True)
    y = (md.exp(x) * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward(backend):
    x = md.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.tolist() == [4.0, 8.0]


def test_second_derivative_of_tanh(backend):
    x = md.tensor(0.7, dtype=md.float64, requires_grad=True)
    y = md.tanh(x)
    y.backward(create_graph=True)
    first = x.grad
    x.grad = None
    first.backward()
    t = math.tanh(0.7)
    assert first.item() == pytest.approx(1 - t * t)
    assert x.grad.item() == pytest.approx(-2 * t * (1 - t * t))


def test_newtons_method_with_second_derivatives(backend):
    # Minimise f(x) = x^4 - 3x^2 + x from x=2 using f'/f''.
    x = md.tensor(2.0, dtype=md.float64, requires_grad=True)
    for _ in range(8):
        x.grad = None
        f = x ** 4 - 3 * x ** 2 + x
        f.backward(create_graph=True)
        first = x.grad
        x.grad = None
        first.backward()
        second = x.grad
        x = (x - first / second).detach().requires_grad_()
    value = x.item()
    assert 4 * value ** 3 - 6 * value + 1 == pytest.approx(0.0, abs=1e-9)


def test_backward_with_explicit_gradient(backend):
    x = md.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.backward(md.tensor([1.0, 10.0]))
    assert x.grad.tolist() == [3.0, 30.0]


def test_inputs_without_requires_grad_get_no_gradient(backend):
    x = md.tensor([1.0], requires_grad=True)
    c = md.tensor([2.0])
    (x * c).sum().backward()
    assert c.grad is None and x.grad.tolist() == [2.0]


def test_intermediate_results_are_not_kept_as_grad(backend):
    x = md.tensor([1.0], requires_grad=True)
    h = x * 2
    (h * h).sum().backward()
    assert h.grad is None
