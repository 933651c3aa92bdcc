"""Softmax and log-softmax along an axis, stable for any size of logit.

Both subtract the row's maximum first, so ``exp`` never overflows, even at
logits of 1e4.
"""

from __future__ import annotations

from minidl.autograd.autocast import _autocast_dtype
from minidl.autograd.function import Function
from minidl.autograd.tensor import Tensor
from minidl.ops.autocasting import cast_to_float32
from minidl.ops.checks import normalize_axis
from minidl.ops.elementwise import Exp
from minidl.ops.reduction import Sum
from minidl.ops.shape import reshape
from minidl.ops.spelling import torch_keywords


class Softmax(Function):
    axis: int

    def forward(self, logits):
        xp = self.xp
        e = xp.exp(logits - xp.max(logits, axis=self.axis, keepdims=True))
        return e / xp.sum(e, axis=self.axis, keepdims=True)

    def backward(self, grad, logits):
        y = self.output_like(grad)
        return y * (grad - Sum.apply(grad * y, axes=(self.axis,), keepdims=True))


class LogSoftmax(Function):
    axis: int

    def forward(self, logits):
        xp = self.xp
        shifted = logits - xp.max(logits, axis=self.axis, keepdims=True)
        return shifted - xp.log(xp.sum(xp.exp(shifted), axis=self.axis, keepdims=True))

    def backward(self, grad, logits):
        probabilities = Exp.apply(self.output_like(grad))
        return grad - probabilities * Sum.apply(grad, axes=(self.axis,), keepdims=True)


@torch_keywords
def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``axis``: probabilities that add up to 1 (float32 under md.autocast)."""
    if _autocast_dtype.get() is not None:
        (x,) = cast_to_float32(x)
    return _along(Softmax, x, axis, "softmax")


@torch_keywords
def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """``log(softmax(x))`` along ``axis``, without the overflow of computing it in two steps."""
    if _autocast_dtype.get() is not None:
        (x,) = cast_to_float32(x)
    return _along(LogSoftmax, x, axis, "log_softmax")


def _along(cls, x: Tensor, axis: int, op: str) -> Tensor:
    if not x.dtype.is_floating:  # as PyTorch; NumPy would give float64 (or float16 for bools)
        raise TypeError(f"{op} needs a floating-point tensor, got {x.dtype.name}; convert with .astype(md.float32)")
    axis = normalize_axis(axis, x.ndim, op)
    if x.ndim == 0:  # a 0-d tensor is a row of one (PyTorch: softmax 1, log_softmax 0)
        return reshape(cls.apply(reshape(x, (1,)), axis=0), ())
    return cls.apply(x, axis=axis)
