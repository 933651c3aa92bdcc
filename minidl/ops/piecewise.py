"""Piecewise-linear ops: ``relu``, ``abs``, ``clip``, ``maximum``, ``minimum``.

Each is linear on either side of a boundary, so its derivative is a constant
per element that the forward pass already knows: a mask. ``Masked`` keeps
that mask and its backward is one multiply (dropout's too, in
`minidl.ops.dropout`). At a tie, ``maximum`` and ``minimum`` give each
input half of the gradient.
"""

from __future__ import annotations

from typing import Any

from minidl import backend as _backend
from minidl.autograd.function import Function
from minidl.autograd.tensor import Tensor
from minidl.ops.elementwise import floating, operands, refuse_bool
from minidl.ops.shape import sum_to


class Masked(Function):
    """Multiply by a constant mask (an array) computed in forward: the backward of relu, abs, clip, dropout."""

    def backward(self, grad, a):
        return (grad * self.mask,)


class ReLU(Masked):
    def forward(self, a):
        xp = self.xp
        if _backend.float_masks(a):
            # On PyTorch's CPU kernels a comparison cast to float took 354 us at 512 x 1024, ceil(clip(...))
            # 89, and maximum(a, 0) 2.9x clip's time at 64 x 128 (array-api-compat turns the 0 into a tensor):
            # the float way takes a third of the time (docs/measurements/cpu-2026-12-04/relu-torch/).
            # clip(a, 0, 1) is in (0, 1] where a > 0, and ceil turns that into 1; elsewhere it is 0 (-0.0 at
            # a = -0.0, which the comparison way makes +0.0: equal as numbers). A NaN gives NaN.
            self.mask = xp.ceil(xp.clip(a, min=0, max=1))
            return xp.clip(a, min=0)
        # A float mask and a multiply in backward, not a bool mask and where(): NumPy's where
        # took ~30x as long as a multiply on a random mask (512x1024 float32, one core:
        # docs/measurements/cpu-2026-12-04/relu-mask/).
        self.mask = xp.astype(a > 0, a.dtype)
        # maximum, not a * mask: one pass less than a multiply, and a NaN stays NaN
        return xp.maximum(a, 0)  # a Python int keeps the dtype of a, float or integer (Array API 2024.12)


class Abs(Masked):
    def forward(self, a):
        xp = self.xp
        self.mask = xp.sign(a)
        return xp.abs(a)


class Clip(Masked):
    low: float | None
    high: float | None

    def forward(self, a):
        xp = self.xp
        inside = xp.ones_like(a, dtype=xp.bool)
        if self.low is not None:
            inside = xp.logical_and(inside, a >= self.low)
        if self.high is not None:
            inside = xp.logical_and(inside, a <= self.high)
        self.mask = xp.astype(inside, a.dtype)
        # maximum then minimum, not xp.clip: with min > max PyTorch gives max everywhere (strict's clip refuses)
        out = a if self.low is None else xp.maximum(a, self.low)
        return out if self.high is None else xp.minimum(out, self.high)


class PairwiseExtremum(Function):
    """maximum / minimum of two tensors, elementwise; at ties the gradient is split in half."""

    largest: bool

    def forward(self, a, b):
        xp = self.xp
        if xp.isdtype(a.dtype, "bool"):  # PyTorch: maximum is logical or, minimum logical and
            return xp.logical_or(a, b) if self.largest else xp.logical_and(a, b)
        if xp.isdtype(a.dtype, "real floating"):  # only floats have gradients
            pick = a > b if self.largest else a < b
            # (array_api_strict refuses xp.where with two Python scalars, so the ties are an array.)
            share = xp.where(pick, 1.0, xp.astype(a == b, a.dtype) * 0.5)
            self.share_a = xp.astype(share, a.dtype)
        return xp.maximum(a, b) if self.largest else xp.minimum(a, b)

    def backward(self, grad, a, b):
        wants_a, wants_b = self.needs_input_grad
        return (sum_to(grad * self.share_a, a.shape) if wants_a else None,
                sum_to(grad * (1.0 - self.share_a), b.shape) if wants_b else None)


def abs(x: Tensor) -> Tensor:
    """Absolute value; its gradient at 0 is 0."""
    refuse_bool("abs", x)
    return Abs.apply(x)


def relu(x: Tensor) -> Tensor:
    """``max(x, 0)``; its gradient at 0 is 0.

    At a NaN input the output is NaN and the gradient 0, or NaN on a library
    whose record has ``float_masks`` (PyTorch; 0 again in an ``md.compile``
    replay, which records the comparison); PyTorch's own passes it through.
    """
    refuse_bool("relu", x)
    return ReLU.apply(x)


def clip(x: Tensor, min: float | None = None, max: float | None = None) -> Tensor:
    """Limit values to ``[min, max]``; no gradient flows where a value was clipped.

    With ``min > max`` every value becomes ``max``, as in PyTorch; float bounds on an
    integer tensor give the default float.
    """
    if isinstance(min, float) or isinstance(max, float):
        x = floating(x)
    refuse_bool("clip", x)
    return Clip.apply(x, low=min, high=max)


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise larger of ``a`` and ``b``; at ties each gets half the gradient."""
    return PairwiseExtremum.apply(*operands("maximum", a, b), largest=True)


def minimum(a: Any, b: Any) -> Tensor:
    """Elementwise smaller of ``a`` and ``b``; at ties each gets half the gradient."""
    return PairwiseExtremum.apply(*operands("minimum", a, b), largest=False)
