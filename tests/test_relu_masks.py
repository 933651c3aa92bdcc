"""ReLU's mask two ways, a comparison cast to float or float arithmetic (a record's ``float_masks``): same numbers."""

import dataclasses

import numpy as np
import pytest

import minidl as md
import minidl.nn.functional as F
from minidl.backend import capabilities
from conftest import linear_sgd_losses

VALUES = [-np.inf, -2.5, -1e-30, -0.0, 0.0, 1e-30, 0.5, 1.0, 3.0, np.inf]
SLOPES = [0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0]  # 0 at 0, as in PyTorch


@pytest.fixture(params=[False, True], ids=["comparison", "float-arithmetic"])
def float_masks(request, backend, monkeypatch):
    """The current backend's record, with ``float_masks`` set each way."""
    record = dataclasses.replace(capabilities.library(backend), float_masks=request.param)
    monkeypatch.setattr(capabilities, "_LIBRARIES", {**capabilities._LIBRARIES, backend: record})
    return request.param


def test_only_pytorch_builds_masks_with_float_arithmetic():
    assert capabilities.library("torch").float_masks
    assert not any(capabilities.library(name).float_masks
                   for name in ("numpy", "cupy", "array_api_strict", "jax", "dask", "ndonnx"))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_relu_and_its_gradient_are_the_same_either_way(float_masks, dtype):
    x = md.tensor(VALUES, dtype=dtype, requires_grad=True)
    y = F.relu(x)
    np.testing.assert_array_equal(y.numpy(), np.maximum(np.array(VALUES, dtype=dtype), 0))
    assert y.dtype == x.dtype
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), SLOPES)


def test_integer_relu_is_the_same_either_way(float_masks):
    x = md.tensor([-3, 0, 2, 7], dtype=md.int32)
    y = F.relu(x)
    assert y.dtype == md.int32
    assert y.tolist() == [0, 0, 2, 7]


def test_a_nan_stays_nan_and_its_gradient_depends_on_the_way(float_masks):
    """The one difference: at a NaN input the comparison's mask is 0, float arithmetic's is NaN.

    (PyTorch passes the gradient through a NaN; the loss is NaN by then in all three.)
    """
    x = md.tensor([float("nan"), 1.0], requires_grad=True)
    y = F.relu(x)
    assert np.isnan(y.numpy()[0]) and y.numpy()[1] == 1.0
    y.sum().backward()
    first = x.grad.numpy()[0]
    assert np.isnan(first) if float_masks else first == 0.0
    assert x.grad.numpy()[1] == 1.0


@pytest.mark.needs("eager")
def test_a_compiled_relu_step_equals_the_eager_one(float_masks):
    """md.compile traces with a stand-in array, which takes the comparison; the replay gives the eager losses."""
    losses = [linear_sgd_losses(lambda y: F.relu(y).sum(), compiled=compiled) for compiled in (False, True)]
    assert losses[1] == losses[0]
