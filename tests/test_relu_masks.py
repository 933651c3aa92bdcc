"""ReLU's mask two ways, a comparison cast to float or float arithmetic (a record's ``float_masks``): same numbers."""

import numpy as np
import pytest

import minidl as md
import minidl.nn.functional as F
from minidl.backend import capabilities
from conftest import linear_sgd_losses, replace_record

# -inf, negatives, both zeros, the smallest subnormal of each dtype (added below), positives, +inf
VALUES = [-np.inf, -2.5, -1e-3, -0.0, 0.0, 0.5, 1.0, 3.0, np.inf]


@pytest.fixture(params=[False, True], ids=["comparison", "float-arithmetic"])
def float_masks(request, backend, monkeypatch):
    """The current backend's record, with ``float_masks`` set each way."""
    replace_record(monkeypatch, backend, float_masks=request.param)
    return request.param


def test_only_pytorch_builds_masks_with_float_arithmetic():
    assert capabilities.library("torch").float_masks
    assert not any(capabilities.library(name).float_masks
                   for name in ("numpy", "cupy", "array_api_strict", "jax", "dask", "ndonnx"))


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_relu_and_its_gradient_are_the_same_either_way(backend, monkeypatch, dtype):
    """The two ways agree bit for bit, up to the sign of a zero, and both are ReLU with slope 0 at 0."""
    if dtype == "float16":
        try:
            md.zeros((1,), dtype=md.float16)
        except TypeError:  # array-api-strict, Dask: the standard has no float16
            pytest.skip(f"{backend} has no float16")
    tiny = np.finfo(dtype).smallest_subnormal
    host = np.array(VALUES + [-tiny, tiny], dtype=dtype)
    results = {}
    for way in (False, True):
        replace_record(monkeypatch, backend, float_masks=way)
        x = md.tensor(host, dtype=dtype, requires_grad=True)
        y = F.relu(x)
        assert y.dtype == x.dtype
        y.sum().backward()
        results[way] = y.numpy(), x.grad.numpy()
    for comparison, arithmetic in zip(results[False], results[True]):
        np.testing.assert_array_equal(arithmetic, comparison)  # (assert_array_equal: -0.0 == 0.0)
    normal = (np.abs(host) >= np.finfo(dtype).tiny) | (host == 0)  # JAX flushes subnormals to zero, both ways
    np.testing.assert_array_equal(results[False][0][normal], np.maximum(host, 0)[normal])
    np.testing.assert_array_equal(results[False][1][normal], (host > 0).astype(dtype)[normal])
    # At a -0.0 input the comparison's gradient is +0.0; float arithmetic's is -0.0 on NumPy, array-api-strict and
    # PyTorch (clip keeps the sign of a zero) and +0.0 on JAX and Dask.
    assert not np.signbit(results[False][1][VALUES.index(-0.0)])


@pytest.mark.parametrize("dtype, values", [("int32", [-3, 0, 2, 7]), ("int64", [-3, 0, 2, 7]), ("uint8", [0, 2, 255])])
def test_integer_relu_is_the_same_either_way(float_masks, dtype, values):
    y = F.relu(md.tensor(values, dtype=dtype))
    assert y.dtype == getattr(md, dtype)
    assert y.tolist() == [max(v, 0) for v in values]


def test_a_nan_stays_nan_and_its_gradient_depends_on_the_way(float_masks):
    """The one difference: at a NaN input the comparison's mask is 0, float arithmetic's is NaN.

    (PyTorch passes the gradient through a NaN; the loss is NaN by then in all three.)
    """
    x = md.tensor([float("nan"), 1.0], requires_grad=True)
    y = F.relu(x)
    assert np.isnan(y.numpy()[0]) and y.numpy()[1] == 1.0
    y.sum().backward()
    first = x.grad.numpy()[0]
    assert (np.isnan(first) if float_masks else first == 0.0)
    assert x.grad.numpy()[1] == 1.0


@pytest.mark.needs("eager")
def test_a_compiled_replay_takes_the_comparison(float_masks):
    """md.compile traces (its second call) with a stand-in array of no library: the replays give 0 at a NaN."""
    weight = md.tensor([float("nan"), 1.0], requires_grad=True)

    def gradient(batch):
        weight.grad = None
        F.relu(weight * batch).sum().backward()
        return weight.grad

    compiled, ones = md.compile(gradient), md.ones((2,))
    firsts = [compiled(ones).numpy()[0] for _ in range(4)]  # the first call runs eagerly, the second traces
    assert (np.isnan(firsts[0]) if float_masks else firsts[0] == 0.0)
    assert firsts[2:] == [0.0, 0.0]


@pytest.mark.needs("eager")
def test_a_compiled_relu_step_equals_the_eager_one(float_masks):
    """md.compile traces with a stand-in array, which takes the comparison; the replay gives the eager losses."""
    losses = [linear_sgd_losses(lambda y: F.relu(y).sum(), compiled=compiled) for compiled in (False, True)]
    assert losses[1] == losses[0]
