"""One derivative per op, on two kinds of values: raw arrays for ``backward()``, Tensors for ``create_graph``.

Each op writes its backward once.  An ordinary ``backward()`` runs it on raw
arrays; ``backward(create_graph=True)`` runs the same formula on Tensors, so
the gradient is a graph of its own and can be differentiated again.  Here
both kinds must give the same first gradients, and the second derivatives
(the formula differentiated through itself) must match finite differences
of the first.  (Each case is non-linear in its inputs, so its gradient depends
on them and has a graph: the gradient of a linear function is a constant.)
"""

import numpy as np
import pytest

import minidl as md
import minidl.nn.functional as F
from minidl.ops.linalg import TransposedMatMul
from conftest import f64

LABELS = [0, 2, 1, 2]
CASES = {
    "linear": (lambda x, w, b: F.linear(x, w, b), [(4, 3), (5, 3), (5,)]),
    "linear batched, no bias": (lambda x, w: F.linear(x, w), [(2, 4, 3), (5, 3)]),
    "matmul broadcast": (lambda a, b: a @ b, [(2, 4, 3), (3, 5)]),
    "matmul 1-D": (lambda a, b: a @ b, [(3,), (3, 5)]),
    "transposed matmul": (lambda a, b: TransposedMatMul.apply(a, b), [(4, 3), (4, 5)]),
    "relu": (lambda x: F.relu(x) * x, [(4, 3)]),
    "abs": (lambda x: md.abs(x) * x, [(4, 3)]),
    "clip": (lambda x: md.clip(x, -0.3, 0.4) * x, [(4, 3)]),
    "add broadcast": (lambda a, b: (a + b) * (a + b), [(2, 1, 4), (3, 1)]),
    "multiply broadcast": (lambda a, b: a * b, [(3, 4), (4,)]),
    "multiply reused": (lambda a: a * a * a, [(3, 4)]),
    "divide": (lambda a, b: a / (b * b + 1.0), [(3, 4), (4,)]),
    "exp log": (lambda a: md.log(md.exp(a) + 1.0), [(3, 4)]),
    "tanh sigmoid": (lambda a: md.tanh(a) * md.sigmoid(a), [(3, 4)]),
    "softmax": (lambda z: F.softmax(z, axis=-1), [(4, 3)]),
    "gelu": (lambda x: F.gelu(x), [(4, 3)]),
    "layer_norm": (lambda x, w: F.layer_norm(x, (3,), w), [(4, 3), (3,)]),
    "causal attention": (lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
                         [(2, 3, 2), (2, 3, 2), (2, 3, 2)]),
    "log_softmax": (lambda z: F.log_softmax(z, axis=0), [(4, 3)]),
    "max": (lambda a: a.max(axis=1) * a.sum(axis=1), [(4, 3)]),
    "mean of squares": (lambda a: (a * a).mean(axis=0, keepdims=True), [(4, 3)]),
    "getitem": (lambda a: a[1:, md.tensor([0, 2, 0])] * a[0, 0], [(4, 3)]),
    "cross_entropy": (lambda z: F.cross_entropy(z, md.tensor(LABELS)), [(4, 3)]),
    "cross_entropy sum": (lambda z: F.cross_entropy(z, md.tensor(LABELS), reduction="sum"), [(4, 3)]),
    "bce with logits": (lambda z, t: F.binary_cross_entropy_with_logits(z, t), [(4, 3), (4, 3)]),
}


def _leaves(shapes):
    return [f64(*shape).requires_grad_() for shape in shapes]


def _first_gradients(fn, leaves, create_graph):
    for leaf in leaves:
        leaf.grad = None
    out = fn(*leaves)
    weights = md.tensor(np.random.default_rng(1).standard_normal(out.shape), dtype=md.float64,
                        backend=out.backend)
    (out * weights).sum().backward(create_graph=create_graph)
    return [leaf.grad for leaf in leaves]


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_formula_gives_the_same_gradient_on_arrays_and_on_tensors(backend, name):
    fn, shapes = CASES[name]
    leaves = _leaves(shapes)
    on_arrays = [g.numpy() for g in _first_gradients(fn, leaves, create_graph=False)]
    on_tensors = _first_gradients(fn, leaves, create_graph=True)
    for array_grad, tensor_grad in zip(on_arrays, on_tensors):
        np.testing.assert_allclose(array_grad, tensor_grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", sorted(CASES))
def test_second_derivatives_match_finite_differences(backend, name):
    fn, shapes = CASES[name]
    probe = np.random.default_rng(2)

    def first_gradient_projected(*leaves):
        # gradcheck probes under no_grad, with inputs that do not require grad: differentiate copies then.
        leaves = [leaf if leaf.requires_grad else leaf.detach().requires_grad_() for leaf in leaves]
        held = [leaf.grad for leaf in leaves]  # gradcheck's own results: put back afterwards
        with md.enable_grad():
            grads = _first_gradients(fn, leaves, create_graph=True)
        for leaf, grad in zip(leaves, held):
            leaf.grad = grad
        total = None
        for grad in grads:
            direction = md.tensor(probe.standard_normal(grad.shape), dtype=md.float64, backend=grad.backend)
            term = (grad * direction).sum()
            total = term if total is None else total + term
        probe.bit_generator.state = np.random.default_rng(2).bit_generator.state  # same directions every call
        return total

    assert md.gradcheck(first_gradient_projected, _leaves(shapes), atol=1e-5, rtol=1e-4)


def test_a_backward_runs_on_raw_arrays_unless_create_graph(backend):
    seen = []

    class Spy(md.Function):
        def forward(self, a):
            return a * 2.0

        def backward(self, grad, a):
            seen.append((isinstance(grad, md.Tensor), isinstance(a, md.Tensor)))
            return grad * 2.0

    x = f64(3).requires_grad_()
    Spy.apply(x).sum().backward()
    Spy.apply(x).sum().backward(create_graph=True)
    assert seen[0] == (False, False)  # (PyTorch's arrays are also a class named Tensor: ask isinstance)
    assert seen[1] == (True, True)
    np.testing.assert_allclose(x.grad.numpy(), np.full(3, 4.0))
