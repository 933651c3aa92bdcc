"""Parity with PyTorch: reductions, shape ops and indexing, forward and gradients."""

from __future__ import annotations

import numpy
import pytest

import minidl as md
from parity import arrays, check, check_raises, torch

REDUCE_AXES = [None, 0, -1, (0, 2), (-1, -3)]


def _torch_reduce(name, axis, keepdims):
    def fn(t):
        if axis is None and not keepdims:
            return getattr(t, name)()
        dims = tuple(range(t.ndim)) if axis is None else axis
        if name in ("max", "min"):
            return getattr(torch, "amax" if name == "max" else "amin")(t, dim=dims, keepdim=keepdims)
        return getattr(t, name)(dim=dims, keepdim=keepdims)
    return fn


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", REDUCE_AXES, ids=str)
@pytest.mark.parametrize("name", ["sum", "mean", "max", "min"])
def test_reductions(backend, name, axis, keepdims):
    (x,) = arrays((2, 3, 4))
    check(lambda t: getattr(t, name)(axis=axis, keepdims=keepdims), x, torch_fn=_torch_reduce(name, axis, keepdims))


@pytest.mark.parametrize("axis", [None, 0, -1], ids=str)
@pytest.mark.parametrize("name", ["sum", "mean", "max", "min"])
def test_reductions_of_a_0d_tensor(backend, name, axis):
    x = numpy.array(1.5, "float32")
    torch_fn = (lambda t: getattr(t, name)()) if axis is None else (lambda t: getattr(t, name)(dim=axis)
                                                                    if name in ("sum", "mean") else
                                                                    getattr(torch, "a" + name)(t, dim=axis))
    check(lambda t: getattr(t, name)(axis=axis), x, torch_fn=torch_fn)


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_ties_share_the_gradient_as_pytorch_amax(backend, name):
    x = numpy.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]], "float32")
    check(lambda t: getattr(t, name)(axis=1), x, torch_fn=lambda t: getattr(torch, "a" + name)(t, dim=1))


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_with_nan_propagate_and_send_the_gradient_to_the_nan(backend, name):
    # as torch's max(dim) and max(); torch.amax gives NaN gradients to the whole row instead
    x = numpy.array([[1.0, numpy.nan, 3.0], [2.0, 5.0, -1.0]], "float32")
    check(lambda t: getattr(t, name)(axis=1), x, torch_fn=lambda t: getattr(t, name)(dim=1).values)
    check(lambda t: getattr(t, name)(), x, torch_fn=lambda t: getattr(t, name)())


def test_max_with_inf(backend):
    x = numpy.array([[1.0, numpy.inf], [-numpy.inf, -numpy.inf]], "float32")
    check(lambda t: t.max(axis=1), x, torch_fn=lambda t: torch.amax(t, dim=1))


def test_sum_of_an_empty_axis_is_zero(backend):
    x = numpy.zeros((0, 3), "float32")
    check(lambda t: t.sum(axis=0), x, torch_fn=lambda t: t.sum(dim=0))
    check(lambda t: t.sum(), x)


def test_max_of_an_empty_tensor_is_refused(backend):
    check_raises(lambda t: t.max(), numpy.zeros((0, 3), "float32"), torch_fn=lambda t: t.max(), error=ValueError)


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
@pytest.mark.parametrize("name", ["sum", "max", "min"])
def test_reductions_of_integers_and_bools(backend, name, dtype):
    (x,) = arrays((3, 4), dtype=dtype)
    check(lambda t: getattr(t, name)(axis=1), x, torch_fn=_torch_reduce(name, 1, False))
    check(lambda t: getattr(t, name)(), x, torch_fn=lambda t: getattr(t, name)())


def test_mean_of_integers_is_refused(backend):
    check_raises(lambda t: t.mean(), arrays((3,), dtype="int64")[0], error=TypeError)


# ---- shape -----------------------------------------------------------------------------------

SHAPE_OPS = {
    "reshape": (lambda t: t.reshape((4, -1)), lambda t: t.reshape((4, -1))),
    "transpose": (lambda t: t.T, lambda t: t.permute(2, 1, 0)),
    "mT": (lambda t: t.mT, lambda t: t.mT),
    "permute": (lambda t: md.permute_dims(t, (1, -1, 0)), lambda t: t.permute(1, -1, 0)),
    "expand_dims": (lambda t: md.expand_dims(t, -1), lambda t: t.unsqueeze(-1)),
    "squeeze": (lambda t: md.squeeze(t[:, :1], 1), lambda t: t[:, :1].squeeze(1)),
    "flatten": (lambda t: md.flatten(t, 1), lambda t: t.flatten(1)),
    "broadcast_to": (lambda t: md.broadcast_to(t[:1], (5, 3, 4)), lambda t: t[:1].expand(5, 3, 4)),
    "concat": (lambda t: md.concat([t, t * 2], axis=-1), lambda t: torch.cat([t, t * 2], dim=-1)),
    "stack": (lambda t: md.stack([t, t * 2], axis=1), lambda t: torch.stack([t, t * 2], dim=1)),
}


@pytest.mark.parametrize("name", sorted(SHAPE_OPS))
def test_shape_ops(backend, name):
    md_fn, torch_fn = SHAPE_OPS[name]
    (x,) = arrays((2, 3, 4))
    check(md_fn, x, torch_fn=torch_fn)


def test_squeeze_of_a_0d_tensor(backend):
    x = numpy.array(2.0, "float32")
    check(lambda t: md.squeeze(t, 0), x, torch_fn=lambda t: t.squeeze(0))
    check(lambda t: md.squeeze(t, -1), x, torch_fn=lambda t: t.squeeze(-1))


def test_reshape_of_an_empty_tensor(backend):
    check(lambda t: t.reshape((0, 5)), numpy.zeros((5, 0), "float32"))


# ---- indexing --------------------------------------------------------------------------------

KEYS = {
    "int": 1,
    "negative int": -1,
    "slice": slice(1, 3),
    "step": slice(None, None, 2),
    "negative step start": slice(-2, None),
    "out of range slice": slice(2, 100),
    "slice past the end": slice(10, 20),
    "tuple": (1, slice(None), 2),
    "ellipsis": (Ellipsis, 1),
    "None": (None, 0),
    "int list": [0, 2, 2],
    "negative int list": [-1, 0],
    "two int lists": ([0, 1], [2, 0]),
    "slice and int list": (slice(None), [3, 0, 3]),
}


@pytest.mark.parametrize("name", sorted(KEYS))
def test_getitem(backend, name):
    key = KEYS[name]
    (x,) = arrays((3, 4, 5))
    torch_key = tuple(torch.tensor(k) if isinstance(k, list) else k for k in key) if isinstance(key, tuple) \
        else (torch.tensor(key) if isinstance(key, list) else key)
    check(lambda t: t[key], x, torch_fn=lambda t: t[torch_key])


def test_getitem_with_an_integer_tensor(backend):
    (x,) = arrays((4, 3))
    index = numpy.array([[0, 3], [3, 3]], "int64")
    check(lambda t, i: t[i], x, index)


def test_getitem_with_a_bool_mask(backend):
    (x,) = arrays((4, 3))
    check(lambda t: t[t > 0], x)
    check(lambda t: t[t[:, 0] > 0], x)
    check(lambda t: t[:, t[0] > 0], x)
    check(lambda t, m: t[m], x, numpy.zeros((4,), bool))


def test_getitem_with_a_bool_mask_of_the_wrong_shape_is_refused(backend):
    check_raises(lambda t, m: t[m], arrays((4,))[0], numpy.ones((3,), bool), error=IndexError)


def test_getitem_out_of_range_int_is_refused(backend):
    check_raises(lambda t: t[5], arrays((3,))[0], error=IndexError)
