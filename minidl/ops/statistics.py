"""More reductions: var and std, logsumexp, prod, cumsum, any and all.

``var``, ``std`` and ``logsumexp`` are compositions of other ops (their
gradients follow); ``prod`` and ``cumsum`` are one Function each.
"""

from __future__ import annotations

from typing import Sequence

from minidl.autograd.function import Function
from minidl.autograd.tensor import Tensor
from minidl.ops.checks import normalize_axes, normalize_axis
from minidl.ops.elementwise import log, exp, sqrt
from minidl.ops.layout import Flip
from minidl.ops.reduction import _spread, max as amax, mean, sum
from minidl.ops.spelling import torch_keywords

Axes = int | Sequence[int] | None


@torch_keywords
def var(x: Tensor, axis: Axes = None, keepdims: bool = False, *, correction: float | None = None,
        unbiased: bool | None = None) -> Tensor:
    """Variance over ``axis``, divided by ``n - correction``.

    PyTorch's default is ``correction=1`` (the unbiased estimate); ``unbiased=False``
    means ``correction=0``. The standard's ``var`` defaults to 0: minidl follows
    PyTorch here and says so in the docs' "Coming from PyTorch" page.
    """
    if unbiased is not None:
        if correction is not None:
            raise TypeError("var/std got both correction= and unbiased=; pass one (correction=0 is unbiased=False)")
        correction = 1 if unbiased else 0
    correction = 1 if correction is None else correction
    axes = normalize_axes(axis, x.ndim, "var")
    count = 1
    for a in axes:
        count *= x.shape[a]
    if count - correction <= 0:
        raise ValueError(f"var of {count} value(s) with correction={correction} divides by {count - correction}; "
                         f"pass correction=0 or reduce over more elements")
    centered = x - mean(x, axis=axes, keepdims=True)
    return sum(centered * centered, axis=axes, keepdims=keepdims) / float(count - correction)


@torch_keywords
def std(x: Tensor, axis: Axes = None, keepdims: bool = False, *, correction: float | None = None,
        unbiased: bool | None = None) -> Tensor:
    """Standard deviation: the square root of :func:`var` (same ``correction`` / ``unbiased``)."""
    return sqrt(var(x, axis, keepdims, correction=correction, unbiased=unbiased))


@torch_keywords
def logsumexp(x: Tensor, axis: Axes = None, keepdims: bool = False) -> Tensor:
    """``log(sum(exp(x)))`` over ``axis``, computed after subtracting the maximum (no overflow)."""
    axes = normalize_axes(axis, x.ndim, "logsumexp")
    peak = amax(x, axis=axes, keepdims=True).detach()
    peak = peak * (peak.abs() != float("inf"))  # an all -inf row keeps its -inf answer, not NaN
    total = log(sum(exp(x - peak), axis=axes, keepdims=True)) + peak
    return total if keepdims else total.reshape(tuple(d for i, d in enumerate(x.shape) if i not in axes))


class Prod(Function):
    """The product over axes; the gradient of each element is the product of the others (exact at zeros)."""

    axes: tuple[int, ...]
    keepdims: bool

    def forward(self, a):
        xp = self.xp
        kept = xp.prod(a, axis=self.axes, keepdims=True)
        if xp.isdtype(a.dtype, "real floating"):
            is_zero = a == 0
            zeros = xp.sum(xp.astype(is_zero, xp.int64), axis=self.axes, keepdims=True)
            others_nonzero = xp.prod(xp.where(is_zero, xp.ones_like(a), a), axis=self.axes, keepdims=True)
            safe = xp.where(is_zero, xp.ones_like(a), a)
            self.others = xp.where(is_zero, xp.where(zeros == 1, others_nonzero, 0.0),
                                   xp.where(zeros == 0, kept / safe, 0.0))
        return kept if self.keepdims else xp.reshape(kept, tuple(
            d for i, d in enumerate(a.shape) if i not in self.axes))

    def backward(self, grad, a):
        return _spread(grad, self, tuple(a.shape)) * self.saved_like(grad, self.others, self._no_second_order)

    def _no_second_order(self):
        raise NotImplementedError("prod has no second derivative in minidl (create_graph=True through prod)")


class CumSum(Function):
    axis: int

    def forward(self, a):
        return self.xp.cumulative_sum(a, axis=self.axis)

    def backward(self, grad, a):
        reverse = Flip.apply(grad, axes=(self.axis,))
        return Flip.apply(CumSum.apply(reverse, axis=self.axis), axes=(self.axis,))


@torch_keywords
def prod(x: Tensor, axis: Axes = None, keepdims: bool = False) -> Tensor:
    """The product of the elements over ``axis`` (all when None)."""
    return Prod.apply(x, axes=normalize_axes(axis, x.ndim, "prod"), keepdims=bool(keepdims))


@torch_keywords
def cumsum(x: Tensor, axis: int) -> Tensor:
    """Running sums along ``axis`` (the standard's ``cumulative_sum``)."""
    return CumSum.apply(x, axis=normalize_axis(axis, x.ndim, "cumsum"))


def _logical(name: str):
    @torch_keywords
    def reduce(x: Tensor, axis: Axes = None, keepdims: bool = False) -> Tensor:
        axes = normalize_axes(axis, x.ndim, name)
        return Tensor._wrap(getattr(x.xp, name)(x.data, axis=axes, keepdims=bool(keepdims)), x.xp, x.backend)

    reduce.__name__ = reduce.__qualname__ = name
    reduce.__doc__ = f"Whether {name} elements over ``axis`` are true (nonzero): a boolean tensor, no gradient."
    return reduce


any = _logical("any")  # noqa: A001 - md.any, as torch.any
all = _logical("all")  # noqa: A001
