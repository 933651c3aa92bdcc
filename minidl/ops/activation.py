"""Softmax and log-softmax along an axis, stable for any size of logit.

Both subtract the row's maximum first, so ``exp`` never overflows, even at
logits of 1e4.
"""

from __future__ import annotations

from minidl.autograd.function import Function
from minidl.autograd.tensor import Tensor
from minidl.ops.elementwise import exp
from minidl.ops.reduction import sum
from minidl.ops.shape import _axis


def log_softmax_array(xp, logits, axis: int):
    """log(softmax(logits)) on a raw array, computed stably."""
    shifted = logits - xp.max(logits, axis=axis, keepdims=True)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))


class Softmax(Function):
    def forward(self, logits):
        xp = self.xp
        e = xp.exp(logits - xp.max(logits, axis=self.axis, keepdims=True))
        return e / xp.sum(e, axis=self.axis, keepdims=True)

    def backward(self, grad):
        y = self.output
        return (y * (grad - sum(grad * y, axis=self.axis, keepdims=True)),)


class LogSoftmax(Function):
    def forward(self, logits):
        return log_softmax_array(self.xp, logits, self.axis)

    def backward(self, grad):
        return (grad - exp(self.output) * sum(grad, axis=self.axis, keepdims=True),)


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``axis``: probabilities that add up to 1."""
    return Softmax.apply(x, axis=_axis(axis, x.ndim, "softmax"))


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """``log(softmax(x))`` along ``axis``, without the overflow of computing it in two steps."""
    return LogSoftmax.apply(x, axis=_axis(axis, x.ndim, "log_softmax"))
