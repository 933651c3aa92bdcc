"""Every differentiable op: forward value and float64 finite-difference gradient, on each backend."""

import math

import numpy as np
import pytest

import minidl as md
import minidl.nn.functional as F
from conftest import f64


def close(tensor, expected, tol=1e-6):
    np.testing.assert_allclose(tensor.numpy(), expected, rtol=tol, atol=tol)


# ---- elementwise ------------------------------------------------------------------------
UNARY = {
    "exp": (md.exp, np.exp, None),
    "log": (md.log, np.log, 0.5),
    "sqrt": (md.sqrt, np.sqrt, 0.5),
    "abs": (md.abs, np.abs, None),
    "tanh": (md.tanh, np.tanh, None),
    "sigmoid": (md.sigmoid, lambda a: 1 / (1 + np.exp(-a)), None),
    "relu": (md.relu, lambda a: np.maximum(a, 0), None),
    "negative": (lambda t: -t, np.negative, None),
    "clip": (lambda t: md.clip(t, -0.3, 0.4), lambda a: np.clip(a, -0.3, 0.4), None),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_forward_and_gradient(backend, name):
    op, reference, low = UNARY[name]
    x = f64(3, 4, low=low)
    close(op(x), reference(x.numpy()))
    assert md.gradcheck(op, [x])


def test_unary_on_0d_tensor(backend):
    x = md.tensor(0.3, dtype=md.float64)
    for name, (op, reference, low) in UNARY.items():
        assert md.gradcheck(op, [x if low is None else x + low]), name


BINARY = {
    "add": (lambda a, b: a + b, np.add),
    "subtract": (lambda a, b: a - b, np.subtract),
    "multiply": (lambda a, b: a * b, np.multiply),
    "divide": (lambda a, b: a / b, np.divide),
    "maximum": (md.maximum, np.maximum),
    "minimum": (md.minimum, np.minimum),
    "pow": (lambda a, b: a ** b, np.power),
}

BROADCAST_PAIRS = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((), (2, 3)), ((3, 1), (1, 5))]


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("shapes", BROADCAST_PAIRS, ids=str)
def test_binary_forward_and_gradient_with_broadcasting(backend, name, shapes):
    op, reference = BINARY[name]
    a, b = f64(*shapes[0]), f64(*shapes[1])
    if name == "pow":
        a = md.abs(a) + 0.5
    if name == "divide":
        b = md.abs(b) + 0.5
    close(op(a, b), reference(a.numpy(), b.numpy()))
    assert md.gradcheck(op, [a, b])


def test_scalar_operands_both_sides(backend):
    x = f64(2, 3)
    assert md.gradcheck(lambda t: 2.0 * t - 1.0 + t / 3.0 + 1.5 / (t * t + 1.0) + t ** 3 + 2.0 ** t, [x])


def test_maximum_splits_gradient_at_ties(backend):
    a = md.tensor([1.0, 2.0], requires_grad=True)
    b = md.tensor([1.0, 3.0], requires_grad=True)
    md.maximum(a, b).sum().backward()
    assert a.grad.tolist() == [0.5, 0.0] and b.grad.tolist() == [0.5, 1.0]


def test_where_gradient_goes_to_the_chosen_side(backend):
    a, b = f64(3, 4), f64(4)
    condition = a > 0
    close(md.where(condition, a, b), np.where(condition.numpy(), a.numpy(), b.numpy()))
    assert md.gradcheck(lambda a, b: md.where(a > 0, a, b), [a, b])


def test_comparisons_make_bool_tensors_without_grad(backend):
    x = md.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for result in (x < 2, x <= 2, x > 2, x >= 2, x == 2, x != 2):
        assert result.dtype == md.bool and not result.requires_grad
    assert (x > 1.5).tolist() == [False, True, True]


def test_int_and_float_meet_as_float(backend):
    assert (md.tensor([1, 2]) * 0.5).tolist() == [0.5, 1.0]
    assert (md.tensor([1.0, 2.0]) + md.tensor([1, 1])).dtype == md.float32


# ---- reductions ---------------------------------------------------------------------
AXES = [None, 0, -1, (0, 2), (-1, -2)]


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min"])
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions(backend, name, axis, keepdims):
    x = f64(2, 3, 4)
    result = getattr(md, name)(x, axis=axis, keepdims=keepdims)
    close(result, getattr(np, name)(x.numpy(), axis=axis, keepdims=keepdims))
    assert md.gradcheck(lambda t: getattr(t, name)(axis=axis, keepdims=keepdims), [x])


def test_reductions_of_0d_tensor(backend):
    x = md.tensor(1.5, dtype=md.float64)
    for name in ("sum", "mean", "max", "min"):
        assert getattr(x, name)().item() == 1.5
        assert md.gradcheck(lambda t: getattr(t, name)(), [x])


def test_max_splits_gradient_between_ties(backend):
    x = md.tensor([[1.0, 3.0, 3.0], [2.0, 0.0, 1.0]], requires_grad=True)
    x.max(axis=1).sum().backward()
    assert x.grad.tolist() == [[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]]


# ---- shape -------------------------------------------------------------------------
def test_shape_ops(backend):
    x = f64(2, 3, 4)
    cases = [
        (lambda t: t.reshape(4, 6), lambda a: a.reshape(4, 6)),
        (lambda t: t.reshape((-1, 2)), lambda a: a.reshape(-1, 2)),
        (lambda t: md.permute_dims(t, (2, 0, 1)), lambda a: a.transpose(2, 0, 1)),
        (lambda t: t.T, lambda a: a.T),
        (lambda t: t.mT, lambda a: a.swapaxes(-1, -2)),
        (lambda t: md.broadcast_to(t[:, :1], (5, 2, 3, 4)), lambda a: np.broadcast_to(a[:, :1], (5, 2, 3, 4))),
        (lambda t: md.expand_dims(t, -1), lambda a: a[..., None]),
        (lambda t: md.squeeze(t[:1], 0), lambda a: a[0]),
        (lambda t: md.flatten(t, 1), lambda a: a.reshape(2, 12)),
        (lambda t: md.concat([t, t * 2], axis=-1), lambda a: np.concatenate([a, a * 2], axis=-1)),
        (lambda t: md.stack([t, t * 2], axis=1), lambda a: np.stack([a, a * 2], axis=1)),
    ]
    for op, reference in cases:
        close(op(x), reference(x.numpy()))
        assert md.gradcheck(op, [x])


def test_concat_of_different_inputs_routes_each_gradient(backend):
    a, b = f64(2, 3), f64(4, 3)
    assert md.gradcheck(lambda a, b: md.concat([a, b, a], axis=0) * 2.0, [a, b])


# ---- indexing ------------------------------------------------------------------------
def test_basic_indexing(backend):
    x = f64(4, 5, 6)
    keys = [1, -1, (slice(1, 3),), (0, slice(None, None, 2)), (Ellipsis, 2), (None, 1), (slice(None), None, 3)]
    for key in keys:
        close(x[key], x.numpy()[key])
        assert md.gradcheck(lambda t: t[key], [x])


def test_integer_tensor_indexing_accumulates_over_repeats(backend):
    x = md.tensor([10.0, 20.0, 30.0], requires_grad=True)
    picked = x[md.tensor([0, 2, 0, 0])]
    assert picked.tolist() == [10.0, 30.0, 10.0, 10.0]
    picked.sum().backward()
    assert x.grad.tolist() == [3.0, 0.0, 1.0]


def test_advanced_indexing_matches_numpy(backend):
    x = f64(4, 5, 3)
    rows, cols = [0, 3, 3, 1], [4, 0, 0, 2]
    keys = [
        (md.tensor(rows),),
        (md.tensor(rows), md.tensor(cols)),
        (slice(None), md.tensor(cols)),
        (slice(1, 3), md.tensor(cols), 1),
        (md.tensor([[0, 1], [1, 1]]),),
        (Ellipsis, md.tensor([2, 2, 0])),
        (md.tensor(rows), slice(None), md.tensor([0, 1, 2, 2])),
    ]
    for key in keys:
        numpy_key = tuple(k.numpy() if isinstance(k, md.Tensor) else k for k in key)
        close(x[key], x.numpy()[numpy_key])
        assert md.gradcheck(lambda t: t[key], [x])


def test_negative_integer_indices(backend):
    x = md.tensor([1.0, 2.0, 3.0])
    assert x[md.tensor([-1, 0])].tolist() == [3.0, 1.0]


def test_out_of_range_index_is_a_clear_error(backend):
    with pytest.raises(IndexError, match="out of range"):
        md.zeros(3)[md.tensor([3])]


# ---- matmul -------------------------------------------------------------------------
MATMUL_SHAPES = [((3, 4), (4, 5)), ((4,), (4, 5)), ((3, 4), (4,)), ((4,), (4,)), ((2, 3, 4), (4, 5)),
                 ((2, 3, 4), (2, 4, 5)), ((1, 3, 4), (2, 4, 5)), ((3, 4), (2, 4, 5))]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul(backend, shapes):
    a, b = f64(*shapes[0]), f64(*shapes[1])
    close(a @ b, a.numpy() @ b.numpy(), tol=1e-10)
    assert md.gradcheck(md.matmul, [a, b])


def test_matmul_reused_operand(backend):
    a = f64(3, 3)
    assert md.gradcheck(lambda a: a @ a @ a.T, [a])


# ---- neural-network functions -------------------------------------------------------------
def test_softmax_and_log_softmax(backend):
    x = f64(3, 5)
    e = np.exp(x.numpy() - x.numpy().max(axis=-1, keepdims=True))
    close(F.softmax(x), e / e.sum(axis=-1, keepdims=True))
    close(F.log_softmax(x, axis=0), x.numpy() - np.log(np.exp(x.numpy()).sum(axis=0, keepdims=True)))
    for axis in (0, -1):
        assert md.gradcheck(lambda t: F.softmax(t, axis=axis), [x])
        assert md.gradcheck(lambda t: F.log_softmax(t, axis=axis), [x])


def test_log_softmax_is_stable_at_large_logits(backend):
    x = md.tensor([[1e4, 0.0, -1e4]])
    values = F.log_softmax(x).numpy()
    assert np.isfinite(values).all() and values[0, 0] == 0.0


def test_cross_entropy(backend):
    logits, target = f64(4, 3), md.tensor([0, 2, 1, 2])
    log_probs = logits.numpy() - np.log(np.exp(logits.numpy()).sum(axis=1, keepdims=True))
    close(F.cross_entropy(logits, target), -log_probs[np.arange(4), target.numpy()].mean())
    assert md.gradcheck(lambda t: F.cross_entropy(t, target), [logits])
    assert md.gradcheck(lambda t: F.cross_entropy(t, target, reduction="sum"), [logits])


def test_cross_entropy_second_derivative(backend):
    logits, target = f64(3, 4), md.tensor([0, 3, 1])
    assert md.gradcheck(lambda t: _grad_of(lambda u: F.cross_entropy(u, target), t), [logits])


def _grad_of(fn, t):
    """d fn / d t as a differentiable tensor (create_graph)."""
    with md.set_grad_enabled(True):  # gradcheck probes run under no_grad
        leaf = t if t.requires_grad else t.detach().requires_grad_()
        leaf.grad = None
        fn(leaf).backward(create_graph=True)
        grad, leaf.grad = leaf.grad, None
    return grad


def test_mse_and_bce_with_logits(backend):
    prediction, target = f64(4, 3), md.rand(4, 3, dtype=md.float64)
    close(F.mse_loss(prediction, target), ((prediction.numpy() - target.numpy()) ** 2).mean())
    p = prediction.numpy()
    bce = np.maximum(p, 0) - p * target.numpy() + np.log1p(np.exp(-np.abs(p)))
    close(F.binary_cross_entropy_with_logits(prediction, target), bce.mean())
    assert md.gradcheck(F.mse_loss, [prediction, target])
    assert md.gradcheck(F.binary_cross_entropy_with_logits, [prediction, target])


def test_linear(backend):
    x, weight, bias = f64(5, 4), f64(3, 4), f64(3)
    close(F.linear(x, weight, bias), x.numpy() @ weight.numpy().T + bias.numpy())
    assert md.gradcheck(F.linear, [x, weight, bias])
    assert md.gradcheck(F.linear, [f64(2, 5, 4), weight])
    assert md.gradcheck(F.linear, [f64(4), weight, bias])


def test_activation_functions_in_functional(backend):
    x = f64(3, 3)
    for op in (F.relu, F.sigmoid, F.tanh):
        assert md.gradcheck(op, [x])
    assert math.isclose(F.sigmoid(md.tensor(0.0)).item(), 0.5)


def test_transposed_matmul_node_and_its_second_derivative(backend):
    from minidl.ops.linalg import TransposedMatMul

    a, b = f64(5, 3), f64(5, 4)
    close(TransposedMatMul.apply(a, b), a.numpy().T @ b.numpy(), tol=1e-10)
    assert md.gradcheck(lambda a, b: TransposedMatMul.apply(a, b), [a, b])
    # Linear's weight gradient is this node: differentiate through it once more.
    x, weight = f64(5, 4), f64(3, 4)
    assert md.gradcheck(lambda w: _grad_of(lambda u: (F.linear(x, u) ** 2).sum(), w), [weight])


def test_relu_keeps_integer_and_float_dtypes(backend):
    for dtype in (md.int32, md.int64, md.float32, md.float64):
        out = md.relu(md.tensor([-2, 0, 3], dtype=dtype))
        assert out.dtype is dtype and out.tolist() == [0, 0, 3], dtype.name
