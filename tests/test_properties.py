"""Property-based gradient checks: hypothesis draws the shapes, broadcasting pairs, axes and index sets;
``md.gradcheck`` compares every differentiable op with finite differences in float64, on every backend.

Values are kept away from the points where an op has no derivative (0 for relu and abs, ties for
max/min/maximum/minimum, the bounds of clip), because finite differences straddling a kink disagree
with any one-sided answer.  The runs are derandomized, so CI sees the same examples every time.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes

import minidl as md
import minidl.nn.functional as F

# The backend fixture is set once per test and holds for every example: the health check does not apply.
PROPERTY = settings(max_examples=30, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

SHAPES = array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)
SEEDS = st.integers(0, 2**32 - 1)
PAIRS = mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=1, max_side=3)


def values(shape, seed, positive=False):
    """Random float64 values on the current backend (in [0.5, 2] when ``positive``)."""
    rng = np.random.default_rng(seed)
    host = rng.uniform(0.5, 2.0, shape) if positive else rng.standard_normal(shape)
    return md.tensor(host, dtype=md.float64)


def distinct(shapes, seed):
    """Tensors whose entries are all different from each other and at least 0.05 from 0 (no ties, no kinks)."""
    sizes = [int(np.prod(shape)) for shape in shapes]
    total = sum(sizes)
    pool = (np.random.default_rng(seed).permutation(total) - total // 2) * 0.1 + 0.05
    tensors, start = [], 0
    for shape, size in zip(shapes, sizes):
        tensors.append(md.tensor(pool[start:start + size].reshape(shape), dtype=md.float64))
        start += size
    return tensors


def check(fn, *inputs):
    assert md.gradcheck(fn, list(inputs))


def same_values(tensor, expected):
    np.testing.assert_allclose(tensor.numpy(), expected, rtol=1e-12, atol=1e-12)


# ---- elementwise --------------------------------------------------------------------------
UNARY = {
    "negative": (lambda t: -t, False),
    "exp": (md.exp, False),
    "log": (md.log, True),
    "sqrt": (md.sqrt, True),
    "tanh": (md.tanh, False),
    "sigmoid": (md.sigmoid, False),
    "pow_scalar_exponent": (lambda t: t ** 2.5, True),
    "scalar_base_pow": (lambda t: 2.0 ** t, False),
    "scalar_operands": (lambda t: (3.0 - t) * 1.5 + 2.0 / (t + 4.0) - 1.0, True),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@PROPERTY
@given(shape=SHAPES, seed=SEEDS)
def test_smooth_unary_op_gradients(backend, name, shape, seed):
    op, positive = UNARY[name]
    check(op, values(shape, seed, positive))


KINKED = {"abs": md.abs, "relu": md.relu, "clip": lambda t: md.clip(t, -0.32, 0.33),
          "clip_low": lambda t: md.clip(t, min=-0.12), "clip_high": lambda t: md.clip(t, max=0.13)}


@pytest.mark.parametrize("name", sorted(KINKED))
@PROPERTY
@given(shape=SHAPES, seed=SEEDS)
def test_kinked_unary_op_gradients_away_from_kinks(backend, name, shape, seed):
    check(KINKED[name], *distinct([shape], seed))


BINARY = {
    "add": (lambda a, b: a + b, np.add, False),
    "subtract": (lambda a, b: a - b, np.subtract, False),
    "multiply": (lambda a, b: a * b, np.multiply, False),
    "divide": (lambda a, b: a / b, np.divide, True),
    "pow": (lambda a, b: a ** b, np.power, True),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@PROPERTY
@given(pair=PAIRS, seed=SEEDS)
def test_binary_op_gradients_under_broadcasting(backend, name, pair, seed):
    op, reference, positive = BINARY[name]
    a, b = values(pair.input_shapes[0], seed, positive), values(pair.input_shapes[1], seed + 1, positive)
    result = op(a, b)
    assert result.shape == pair.result_shape
    same_values(result, reference(a.numpy(), b.numpy()))
    check(op, a, b)


@pytest.mark.parametrize("op", [md.maximum, md.minimum], ids=["maximum", "minimum"])
@PROPERTY
@given(pair=PAIRS, seed=SEEDS)
def test_maximum_minimum_gradients_without_ties(backend, op, pair, seed):
    check(op, *distinct(pair.input_shapes, seed))


@PROPERTY
@given(shapes=mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, min_side=1, max_side=3),
       seed=SEEDS)
def test_where_gradients_under_broadcasting(backend, shapes, seed):
    condition_shape, a_shape, b_shape = shapes.input_shapes
    condition = md.tensor(np.random.default_rng(seed).random(condition_shape) > 0.5)
    a, b = values(a_shape, seed), values(b_shape, seed + 1)
    same_values(md.where(condition, a, b), np.where(condition.numpy(), a.numpy(), b.numpy()))
    check(lambda a, b: md.where(condition, a, b), a, b)


# ---- reductions ---------------------------------------------------------------------------
@st.composite
def shapes_with_axes(draw):
    """A shape, and an axis argument for it: None, one int or a tuple, each axis maybe negative."""
    shape = draw(SHAPES)
    ndim = len(shape)
    if ndim == 0:
        return shape, draw(st.sampled_from([None, ()]))
    form = draw(st.sampled_from(["none", "int", "tuple"]))
    if form == "none":
        return shape, None
    chosen = draw(st.lists(st.integers(0, ndim - 1), unique=True, min_size=1 if form == "int" else 0,
                           max_size=1 if form == "int" else ndim))
    signed = tuple(axis - ndim if draw(st.booleans()) else axis for axis in chosen)
    return shape, signed[0] if form == "int" else signed


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min"])
@PROPERTY
@given(case=shapes_with_axes(), keepdims=st.booleans(), seed=SEEDS)
def test_reduction_gradients_over_any_axes(backend, name, case, keepdims, seed):
    shape, axis = case
    (x,) = distinct([shape], seed)  # distinct values: max and min have one winner
    op = getattr(md, name)
    same_values(op(x, axis=axis, keepdims=keepdims), getattr(np, name)(x.numpy(), axis=axis, keepdims=keepdims))
    check(lambda t: op(t, axis=axis, keepdims=keepdims), x)


# ---- shape operations -----------------------------------------------------------------------
@PROPERTY
@given(shape=SHAPES, seed=SEEDS, data=st.data())
def test_reshape_gradients(backend, shape, seed, data):
    dims = data.draw(st.permutations(list(shape) + [1] * data.draw(st.integers(0, 2))))
    if dims and data.draw(st.booleans()):
        dims[data.draw(st.integers(0, len(dims) - 1))] = -1
    x = values(shape, seed)
    same_values(x.reshape(tuple(dims)), x.numpy().reshape(tuple(dims)))
    check(lambda t: t.reshape(tuple(dims)), x)


@PROPERTY
@given(shape=SHAPES, seed=SEEDS, data=st.data())
def test_permute_dims_and_transpose_gradients(backend, shape, seed, data):
    order = data.draw(st.permutations(range(len(shape))))
    axes = tuple(a - len(shape) if data.draw(st.booleans()) else a for a in order)
    x = values(shape, seed)
    same_values(md.permute_dims(x, axes), np.transpose(x.numpy(), axes))
    check(lambda t: md.permute_dims(t, axes), x)
    check(lambda t: t.T, x)
    if len(shape) >= 2:
        check(lambda t: t.mT, x)


@PROPERTY
@given(target=SHAPES, seed=SEEDS, data=st.data())
def test_broadcast_to_and_sum_to_gradients(backend, target, seed, data):
    kept = data.draw(st.integers(0, len(target)))
    source = tuple(1 if data.draw(st.booleans()) else d for d in target[len(target) - kept:])
    x = values(source, seed)
    same_values(md.broadcast_to(x, target), np.broadcast_to(x.numpy(), target))
    check(lambda t: md.broadcast_to(t, target), x)
    check(lambda t: md.sum_to(t, source), values(target, seed + 1))


@PROPERTY
@given(shape=SHAPES, seed=SEEDS, data=st.data())
def test_expand_dims_squeeze_flatten_gradients(backend, shape, seed, data):
    ndim = len(shape)
    axis = data.draw(st.integers(-ndim - 1, ndim))
    x = values(shape, seed)
    same_values(md.expand_dims(x, axis), np.expand_dims(x.numpy(), axis))
    check(lambda t: md.expand_dims(t, axis), x)
    ones = [i for i, d in enumerate(shape) if d == 1]
    if ones:
        squeezed = tuple(data.draw(st.lists(st.sampled_from(ones), min_size=1, unique=True)))
        same_values(md.squeeze(x, squeezed), np.squeeze(x.numpy(), squeezed))
        check(lambda t: md.squeeze(t, squeezed), x)
    if ndim:
        start = data.draw(st.integers(-ndim, ndim - 1))
        check(lambda t: md.flatten(t, start), x)


@PROPERTY
@given(shape=array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3), seed=SEEDS, data=st.data())
def test_concat_gradients(backend, shape, seed, data):
    ndim = len(shape)
    axis = data.draw(st.integers(-ndim, ndim - 1))
    lengths = data.draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    parts = [values(shape[:axis % ndim] + (n,) + shape[axis % ndim + 1:], seed + i) for i, n in enumerate(lengths)]
    same_values(md.concat(parts, axis=axis), np.concatenate([p.numpy() for p in parts], axis=axis))
    check(lambda *ts: md.concat(list(ts), axis=axis), *parts)


@PROPERTY
@given(shape=SHAPES, count=st.integers(1, 3), seed=SEEDS, data=st.data())
def test_stack_gradients(backend, shape, count, seed, data):
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)))
    parts = [values(shape, seed + i) for i in range(count)]
    same_values(md.stack(parts, axis=axis), np.stack([p.numpy() for p in parts], axis=axis))
    check(lambda *ts: md.stack(list(ts), axis=axis), *parts)


# ---- indexing ----------------------------------------------------------------------------------
@st.composite
def basic_keys(draw, shape):
    """Ints (negative too), slices (any start, stop and step sign), None and one ellipsis."""
    count = draw(st.integers(0, len(shape)))
    from_end = draw(st.booleans())  # with an ellipsis in front, the key addresses the last axes
    sizes = shape[len(shape) - count:] if from_end else shape[:count]
    key = []
    for size in sizes:
        form = draw(st.sampled_from(["int", "slice", "all"]))
        if form == "int":
            key.append(draw(st.integers(-size, size - 1)))
        elif form == "slice":
            # Bounds within [-size, size]: the standard leaves out-of-bounds slices unspecified (strict refuses).
            bound = st.none() | st.integers(-size, size)
            key.append(slice(draw(bound), draw(bound), draw(st.sampled_from([None, 1, 2, -1, -2]))))
        else:
            key.append(slice(None))
    for _ in range(draw(st.integers(0, 2))):
        key.insert(draw(st.integers(0, len(key))), None)
    if from_end or draw(st.booleans()):
        key.insert(0 if from_end else draw(st.integers(0, len(key))), Ellipsis)
    return tuple(key)


@PROPERTY
@given(shape=SHAPES, seed=SEEDS, data=st.data())
def test_basic_indexing_gradients(backend, shape, seed, data):
    key = data.draw(basic_keys(shape))
    x = values(shape, seed)
    same_values(x[key], x.numpy()[key])
    check(lambda t: t[key], x)


def is_full_slice(item):
    return isinstance(item, slice) and item == slice(None)


@st.composite
def integer_keys(draw, shape):
    """One or more integer-tensor (or list) indices with repeats, mixed with slices and maybe an ellipsis."""
    ndim = len(shape)
    chosen = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    index_shape = draw(array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=4))
    key = []
    for axis, size in enumerate(shape):
        if axis in chosen:
            flat = draw(st.lists(st.integers(-size, size - 1), min_size=int(np.prod(index_shape)),
                                 max_size=int(np.prod(index_shape))))
            index = np.array(flat, dtype=np.int64).reshape(index_shape)
            key.append(index.tolist() if index.ndim == 1 and draw(st.booleans()) else md.tensor(index))
        else:
            key.append(draw(st.sampled_from([slice(None), slice(1, None), slice(None, None, -1)])))
    while key and is_full_slice(key[-1]) and draw(st.booleans()):
        key.pop()  # trailing axes left implicit
    if key and is_full_slice(key[0]) and draw(st.booleans()):
        key[0] = Ellipsis
    return tuple(key)


@PROPERTY
@given(shape=array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3), seed=SEEDS, data=st.data())
def test_integer_tensor_indexing_gradients_accumulate_repeats(backend, shape, seed, data):
    key = data.draw(integer_keys(shape))
    numpy_key = tuple(k.numpy() if isinstance(k, md.Tensor) else k for k in key)
    x = values(shape, seed)
    same_values(x[key], x.numpy()[numpy_key])
    check(lambda t: t[key], x)


# ---- matmul -------------------------------------------------------------------------------------
@st.composite
def matmul_shapes(draw):
    """1-D and 2-D operands, and batched ones whose batch axes broadcast."""
    rows, inner, cols = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    batch = draw(mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, min_side=1, max_side=3))
    left = draw(st.sampled_from(["vector", "matrix", "batched"]))
    right = draw(st.sampled_from(["vector", "matrix", "batched"]))
    a = {"vector": (inner,), "matrix": (rows, inner), "batched": batch.input_shapes[0] + (rows, inner)}[left]
    b = {"vector": (inner,), "matrix": (inner, cols), "batched": batch.input_shapes[1] + (inner, cols)}[right]
    return a, b


@PROPERTY
@given(shapes=matmul_shapes(), seed=SEEDS)
def test_matmul_gradients_1d_2d_batched(backend, shapes, seed):
    a, b = values(shapes[0], seed), values(shapes[1], seed + 1)
    np.testing.assert_allclose((a @ b).numpy(), np.matmul(a.numpy(), b.numpy()), rtol=1e-10, atol=1e-12)
    check(md.matmul, a, b)


# ---- neural-network ops ----------------------------------------------------------------------------
@PROPERTY
@given(shape=array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), seed=SEEDS, data=st.data())
def test_softmax_and_log_softmax_gradients_along_any_axis(backend, shape, seed, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = values(shape, seed) * 3.0
    check(lambda t: F.softmax(t, axis=axis), x)
    check(lambda t: F.log_softmax(t, axis=axis), x)


@PROPERTY
@given(batch=st.integers(1, 4), classes=st.integers(1, 4), reduction=st.sampled_from(["mean", "sum"]),
       seed=SEEDS, data=st.data())
def test_cross_entropy_gradients(backend, batch, classes, reduction, seed, data):
    labels = md.tensor(data.draw(st.lists(st.integers(0, classes - 1), min_size=batch, max_size=batch)))
    check(lambda logits: F.cross_entropy(logits, labels, reduction=reduction), values((batch, classes), seed) * 3.0)


@PROPERTY
@given(shape=SHAPES, reduction=st.sampled_from(["mean", "sum"]), seed=SEEDS)
def test_mse_and_bce_with_logits_gradients(backend, shape, reduction, seed):
    prediction, target = values(shape, seed) * 3.0, values(shape, seed + 1)
    probabilities = md.sigmoid(target)
    check(lambda p, t: F.mse_loss(p, t, reduction=reduction), prediction, target)
    check(lambda p, t: F.binary_cross_entropy_with_logits(p, t, reduction=reduction), prediction, probabilities)


@PROPERTY
@given(batch=array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3), features=st.integers(1, 3),
       outputs=st.integers(1, 3), bias=st.booleans(), seed=SEEDS)
def test_linear_gradients(backend, batch, features, outputs, bias, seed):
    x, weight = values(batch + (features,), seed), values((outputs, features), seed + 1)
    inputs = [x, weight] + ([values((outputs,), seed + 2)] if bias else [])
    expected = x.numpy() @ weight.numpy().T + (inputs[2].numpy() if bias else 0.0)
    np.testing.assert_allclose(F.linear(*inputs).numpy(), expected, rtol=1e-10, atol=1e-12)
    check(F.linear, *inputs)
