"""The two backward paths agree: ``backward_arrays`` (raw arrays) and the Tensor ``backward`` (create_graph).

``loss.backward()`` runs an op's ``backward_arrays`` when it has one; the
Tensor ``backward`` runs under ``create_graph=True``.  Finite differences
check the first (``test_ops_gradients``); here each op's two paths must give
the same gradients, so the second derivative tests check the same formulas.
"""

import numpy as np
import pytest

import minidl as md
import minidl.nn.functional as F
from minidl.autograd.function import Function
from minidl.ops.linalg import TransposedMatMul
from conftest import f64

LABELS = [0, 2, 1, 2]
CASES = {
    "linear": (lambda x, w, b: F.linear(x, w, b), [(4, 3), (5, 3), (5,)]),
    "linear batched, no bias": (lambda x, w: F.linear(x, w), [(2, 4, 3), (5, 3)]),
    "matmul broadcast": (lambda a, b: a @ b, [(2, 4, 3), (3, 5)]),
    "matmul 1-D": (lambda a, b: a @ b, [(3,), (3, 5)]),
    "transposed matmul": (lambda a, b: TransposedMatMul.apply(a, b), [(4, 3), (4, 5)]),
    "relu": (F.relu, [(4, 3)]),
    "abs": (md.abs, [(4, 3)]),
    "clip": (lambda x: md.clip(x, -0.3, 0.4), [(4, 3)]),
    "add broadcast": (lambda a, b: a + b, [(2, 1, 4), (3, 1)]),
    "multiply broadcast": (lambda a, b: a * b, [(3, 4), (4,)]),
    "multiply reused": (lambda a: a * a * a, [(3, 4)]),
    "cross_entropy": (lambda z: F.cross_entropy(z, md.tensor(LABELS)), [(4, 3)]),
    "cross_entropy sum": (lambda z: F.cross_entropy(z, md.tensor(LABELS), reduction="sum"), [(4, 3)]),
}


def _gradients(fn, leaves, create_graph):
    for leaf in leaves:
        leaf.grad = None
    out = fn(*leaves)
    weights = md.tensor(np.random.default_rng(1).standard_normal(out.shape), dtype=md.float64,
                        backend=out.backend)
    (out * weights).sum().backward(create_graph=create_graph)
    return [leaf.grad.numpy() for leaf in leaves]


@pytest.mark.parametrize("name", sorted(CASES))
def test_array_and_tensor_backward_agree(backend, name):
    fn, shapes = CASES[name]
    leaves = [f64(*shape).requires_grad_() for shape in shapes]
    on_arrays = _gradients(fn, leaves, create_graph=False)
    on_tensors = _gradients(fn, leaves, create_graph=True)
    for a, t in zip(on_arrays, on_tensors):
        np.testing.assert_allclose(a, t, rtol=1e-12, atol=1e-12)


def test_the_hot_ops_have_an_array_backward():
    from minidl.ops import elementwise, linalg, loss

    for op in (linalg.Linear, linalg.MatMul, linalg.TransposedMatMul, elementwise.ReLU, elementwise.Add,
               elementwise.Multiply, loss.CrossEntropy):
        assert op.backward_arrays is not Function.backward_arrays, op.__name__


def test_an_op_without_array_backward_runs_its_tensor_backward(backend):
    # tanh has no backward_arrays: backward() wraps the gradient and calls its Tensor backward.
    x = f64(3, 2).requires_grad_()
    md.tanh(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 1 - np.tanh(x.numpy()) ** 2, rtol=1e-12)
