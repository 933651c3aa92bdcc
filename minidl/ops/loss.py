"""Loss functions, each fused into one node with a short, exact backward.

Cross-entropy's gradient is ``(softmax(logits) - one_hot(target)) / N``:
fusing the log-softmax and the pick into one node makes it cheap and stable.
"""

from __future__ import annotations

from typing import Any

from minidl.autograd.function import Function, is_grad_enabled
from minidl.autograd.tensor import Tensor
from minidl.ops.activation import log_softmax_array, softmax
from minidl.ops.creation import constant_like
from minidl.ops.elementwise import sigmoid
from minidl.ops.reduction import mean, sum

_REDUCTIONS = ("mean", "sum")


def _check_reduction(reduction: str, op: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


class CrossEntropy(Function):
    def forward(self, logits):
        xp = self.xp
        log_probs = log_softmax_array(xp, logits, axis=-1)
        classes = xp.arange(logits.shape[-1], dtype=self.target.dtype)
        self.one_hot = xp.astype(self.target[:, None] == classes[None, :], logits.dtype)
        self.probs = xp.exp(log_probs)
        total = -xp.sum(log_probs * self.one_hot)
        return total / logits.shape[0] if self.reduction == "mean" else total

    def backward(self, grad):
        logits = self.inputs[0]
        # Under create_graph, recompute softmax as a differentiable op, so the
        # gradient itself can be differentiated; otherwise reuse forward's array.
        probs = softmax(logits, axis=-1) if is_grad_enabled() else Tensor._wrap(self.probs, self.xp, logits.backend)
        one_hot = Tensor._wrap(self.one_hot, self.xp, logits.backend)
        scale = grad / float(logits.shape[0]) if self.reduction == "mean" else grad
        return ((probs - one_hot) * scale,)


def cross_entropy(logits: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Softmax cross-entropy between ``logits`` (N, C) and integer class labels ``target`` (N,).

    >>> import minidl as md, minidl.nn.functional as F
    >>> round(F.cross_entropy(md.zeros((2, 4)), md.tensor([0, 3])).item(), 4)  # log(4)
    1.3863
    """
    _check_reduction(reduction, "cross_entropy")
    target = constant_like(target, logits)
    if logits.ndim != 2:
        raise ValueError(f"cross_entropy expects logits of shape (N, C), got {logits.shape}")
    if not target.xp.isdtype(target.data.dtype, "integral"):
        raise TypeError(
            f"cross_entropy expects integer class labels, got a {target.dtype.name} target; "
            "convert with target.astype(md.int64) (for probabilities or 0/1 targets, use "
            "binary_cross_entropy_with_logits or mse_loss)"
        )
    if target.shape != logits.shape[:1]:
        raise ValueError(f"cross_entropy: target of shape {target.shape} does not match logits {logits.shape} "
                         f"(expected ({logits.shape[0]},))")
    if logits.shape[0] == 0:
        raise ValueError("cross_entropy of an empty batch (0 samples) is undefined; skip empty batches")
    xp, classes = target.xp, logits.shape[1]
    low, high = int(xp.min(target.data)), int(xp.max(target.data))
    if low < 0 or high >= classes:
        raise ValueError(f"cross_entropy: labels must lie in [0, {classes - 1}] for {classes} classes, "
                         f"found labels from {low} to {high}")
    return CrossEntropy.apply(logits, target=target.data, reduction=reduction)


class BCEWithLogits(Function):
    def forward(self, logits, target):
        xp = self.xp
        # max(x, 0) - x * t + log(1 + exp(-|x|)): no overflow for any x.
        losses = xp.maximum(logits, 0.0) - logits * target + xp.log1p(xp.exp(-xp.abs(logits)))
        total = xp.sum(losses)
        return total / losses.size if self.reduction == "mean" else total

    def backward(self, grad):
        logits, target = self.inputs
        scale = grad / float(logits.size) if self.reduction == "mean" else grad
        grad_logits = (sigmoid(logits) - target) * scale if logits.requires_grad else None
        grad_target = -logits * scale if target.requires_grad else None
        return grad_logits, grad_target


def binary_cross_entropy_with_logits(logits: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of ``sigmoid(logits)`` against targets in [0, 1], computed stably."""
    _check_reduction(reduction, "binary_cross_entropy_with_logits")
    target = constant_like(target, logits)
    if target.shape != logits.shape:
        raise ValueError(f"binary_cross_entropy_with_logits: target shape {target.shape} differs from "
                         f"logits shape {logits.shape}")
    if not target.dtype.is_floating:
        target = target.astype(logits.dtype)
    return BCEWithLogits.apply(logits, target, reduction=reduction)


def mse_loss(prediction: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Mean (or sum) of squared differences; shapes must match exactly."""
    _check_reduction(reduction, "mse_loss")
    target = constant_like(target, prediction)
    if target.shape != prediction.shape:
        raise ValueError(f"mse_loss: prediction shape {prediction.shape} differs from target shape {target.shape}; "
                         "reshape one so they match (silent broadcasting here is a classic bug)")
    difference = prediction - target
    squared = difference * difference
    return mean(squared) if reduction == "mean" else sum(squared)
