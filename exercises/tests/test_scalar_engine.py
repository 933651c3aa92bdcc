"""Exercise scalar_engine: the backward walk, checked against finite differences."""

from __future__ import annotations

import math

EXERCISE = "scalar_engine"


def _numeric(f, x, h=1e-6):
    return (f(x + h) - f(x - h)) / (2 * h)


def test_gradients_of_a_small_expression(ex):
    a, b = ex.Value(0.5), ex.Value(-1.5)
    y = (a * b + 1.0).tanh()
    ex.backward(y)
    assert math.isclose(a.grad, _numeric(lambda t: math.tanh(t * -1.5 + 1.0), 0.5), rel_tol=1e-6)
    assert math.isclose(b.grad, _numeric(lambda t: math.tanh(0.5 * t + 1.0), -1.5), rel_tol=1e-6)


def test_a_value_used_on_two_paths_gets_both_contributions(ex):
    x = ex.Value(0.7)
    u = x * 2.0
    v = u * u + u.exp() - x       # x reaches v through u twice, through exp, and directly
    ex.backward(v)
    f = lambda t: (2 * t) ** 2 + math.exp(2 * t) - t  # noqa: E731
    assert math.isclose(x.grad, _numeric(f, 0.7), rel_tol=1e-6)
    assert math.isclose(u.grad, 2 * u.data + math.exp(u.data), rel_tol=1e-12)


def test_the_order_has_each_value_once_root_first_parents_after(ex):
    x = ex.Value(1.0)
    y = x * x
    z = (y + x) * y
    order = ex.topological_order(z)
    assert order[0] is z
    assert len(order) == len({id(v) for v in order}) == 4   # z, y + x, y, x
    position = {id(v): i for i, v in enumerate(order)}
    for value in order:
        for parent in value.parents:
            assert position[id(parent)] > position[id(value)], "a value came after one of its parents"


def test_backward_twice_gives_the_same_gradients(ex):
    x = ex.Value(0.3)
    y = (x * x).tanh()
    ex.backward(y)
    first = x.grad
    ex.backward(y)
    assert x.grad == first, "backward must reset the gradients of the graph before the walk"


def test_a_deep_chain_needs_no_recursion(ex):
    x = ex.Value(1.0)
    y = x
    for _ in range(5000):
        y = y * 1.0
    ex.backward(y)
    assert x.grad == 1.0
