"""Reductions: sum, mean, max, min over some axes (or all).

The backward of a reduction spreads the gradient back over the axes it
removed: evenly for sum and mean, onto the winners for max and min (split
evenly between tied winners).
"""

from __future__ import annotations

from typing import Sequence

from minidl.autograd.autocast import _autocast_dtype
from minidl.autograd.function import Function
from minidl.autograd.tensor import Tensor
from minidl.ops.autocasting import cast_to_float32
from minidl.ops.checks import normalize_axes
from minidl.ops.shape import BroadcastTo, Reshape
from minidl.ops.spelling import torch_keywords


def _spread(grad, node: Function, shape: tuple[int, ...]):
    """Put the reduced axes back into ``grad`` and broadcast it over the input's ``shape``."""
    if not node.keepdims:
        grad = Reshape.apply(grad, shape=tuple(1 if i in node.axes else d for i, d in enumerate(shape)))
    return BroadcastTo.apply(grad, shape=shape) if tuple(grad.shape) != shape else grad


class Sum(Function):
    axes: tuple[int, ...]
    keepdims: bool

    def forward(self, a):
        return self.xp.sum(a, axis=self.axes, keepdims=self.keepdims)

    def backward(self, grad, a):
        return _spread(grad, self, tuple(a.shape))


class Mean(Function):
    axes: tuple[int, ...]
    keepdims: bool

    def forward(self, a):
        return self.xp.mean(a, axis=self.axes, keepdims=self.keepdims)

    def backward(self, grad, a):
        count = 1
        for axis in self.axes:
            count *= a.shape[axis]
        return _spread(grad / float(count), self, tuple(a.shape))


class ReduceExtreme(Function):
    """max or min along axes; tied winners share the gradient equally."""

    axes: tuple[int, ...]
    keepdims: bool
    largest: bool
    first: bool  # one axis only: the whole gradient goes to the first winner (PyTorch's max_pool2d)

    first = False

    def forward(self, a):
        xp = self.xp
        if xp.isdtype(a.dtype, "bool"):  # the standard orders numbers only: max of bools is any, min is all
            reduce = xp.any if self.largest else xp.all
        else:
            reduce = xp.max if self.largest else xp.min
        kept = reduce(a, axis=self.axes, keepdims=True)
        if xp.isdtype(a.dtype, "real floating"):  # only floats have gradients
            # a NaN wins where there is one (max and min return it), as PyTorch's max() sends it the gradient
            winners = xp.astype(xp.logical_or(a == kept, xp.isnan(a)), a.dtype)
            if self.first:
                before = xp.cumulative_sum(winners, axis=self.axes[0])  # winners up to and including here
                self.share = winners * xp.astype(before == 1, a.dtype)
            else:
                self.share = winners / xp.sum(winners, axis=self.axes, keepdims=True)
        return kept if self.keepdims else xp.reshape(kept, tuple(
            d for i, d in enumerate(a.shape) if i not in self.axes))

    def backward(self, grad, a):
        return _spread(grad, self, tuple(a.shape)) * self.share


def _reduce(cls, x: Tensor, axis, keepdims: bool, op: str, nonempty: bool = False, **params) -> Tensor:
    axes = normalize_axes(axis, x.ndim, op)
    if nonempty:
        _check_not_empty(x, axes, op)
    return cls.apply(x, axes=axes, keepdims=bool(keepdims), **params)


@torch_keywords
def sum(x: Tensor, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
    """Sum over ``axis`` (all axes when None).

    The sum over an axis of length 0 is 0 (the empty sum), and its gradient is a
    tensor of zeros of the input's shape. Bools and integers sum as int64, as in PyTorch. Under
    ``md.autocast()`` a float16 input is summed in float32.
    """
    if _autocast_dtype.get() is not None:
        (x,) = cast_to_float32(x)
    if not x.dtype.is_floating and x.dtype.name != "int64":
        x = x.astype("int64")
    return _reduce(Sum, x, axis, keepdims, "sum")


@torch_keywords
def mean(x: Tensor, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
    """Arithmetic mean over ``axis`` (all axes when None).

    The mean over an axis of length 0 (an empty batch) is 0/0: minidl raises a
    ValueError rather than returning NaN, which would silently poison training.
    Under ``md.autocast()`` a float16 input is averaged in float32.
    """
    if _autocast_dtype.get() is not None:
        (x,) = cast_to_float32(x)
    if not x.dtype.is_floating:
        raise TypeError(f"mean needs a floating-point tensor, got {x.dtype.name}; use .astype(md.float32)")
    return _reduce(Mean, x, axis, keepdims, "mean", nonempty=True)


def _check_not_empty(x: Tensor, axes: tuple[int, ...], op: str) -> None:
    if any(x.shape[a] == 0 for a in axes):
        raise ValueError(f"{op} of an empty tensor (shape {x.shape}) has no value; check the batch is not empty")


@torch_keywords
def max(x: Tensor, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
    """Largest value over ``axis``; at ties the gradient is split evenly between the tied entries."""
    return _reduce(ReduceExtreme, x, axis, keepdims, "max", nonempty=True, largest=True)


@torch_keywords
def min(x: Tensor, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
    """Smallest value over ``axis``; at ties the gradient is split evenly between the tied entries."""
    return _reduce(ReduceExtreme, x, axis, keepdims, "min", nonempty=True, largest=False)
