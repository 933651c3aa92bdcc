"""Loss functions, each fused into one node with a short, exact backward.

Cross-entropy's gradient is ``(softmax(logits) - one_hot(target)) / N``:
fusing the log-softmax and the pick into one node makes it cheap and stable.
"""

from __future__ import annotations

from typing import Any

from minidl.autograd.autocast import _autocast_dtype
from minidl.autograd.dtypes import dtype_of
from minidl.autograd.function import Function, check_same_backend
from minidl.autograd.tensor import Tensor
from minidl.ops.autocasting import cast_to_float32
from minidl.ops.creation import constant_like
from minidl.ops.elementwise import Sigmoid
from minidl.ops.reduction import mean, sum
from minidl.ops.softmax import Softmax

_REDUCTIONS = ("mean", "sum")


def _check_reduction(reduction: str, op: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


class CrossEntropy(Function):
    """Log-softmax and the pick of each row's label, in one node.

    Its gradient is ``(softmax(logits) - one_hot) / N``. The forward pass
    already holds softmax(logits) and keeps it, so the backward on arrays is
    a subtraction and a multiply (under ``create_graph`` the softmax is
    recomputed from the logits, with its graph).
    """

    target: Any        # the labels, a 1-D integer array
    reduction: str

    def forward(self, logits):
        xp = self.xp
        count, classes = logits.shape
        shifted = logits - xp.max(logits, axis=-1, keepdims=True)  # exp never overflows
        exps = xp.exp(shifted)
        sums = xp.sum(exps, axis=-1, keepdims=True)
        log_probs = shifted - xp.log(sums)
        self.probabilities = exps / sums
        hit = self.target[:, None] == xp.arange(classes, dtype=self.target.dtype)
        self.one_hot = xp.astype(hit, logits.dtype)
        # A label outside [0, C) matches no class: its row of one_hot is all zeros.
        if int(xp.sum(self.one_hot)) != count:
            low, high = int(xp.min(self.target)), int(xp.max(self.target))
            raise ValueError(f"cross_entropy: labels must lie in [0, {classes - 1}] for {classes} classes, "
                             f"found labels from {low} to {high}")
        # where, not a product: a -inf logit of another class times 0 would be nan
        total = -xp.sum(xp.where(hit, log_probs, 0.0))
        return total / count if self.reduction == "mean" else total

    def backward(self, grad, logits):
        probabilities = self.saved_like(grad, self.probabilities, lambda: Softmax.apply(logits, axis=1))
        local_grad = probabilities - self.one_hot
        return local_grad * (grad / float(logits.shape[0]) if self.reduction == "mean" else grad)


def cross_entropy(logits: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Softmax cross-entropy between ``logits`` (N, C) and integer class labels ``target`` (N,).

    >>> import minidl as md, minidl.nn.functional as F
    >>> round(F.cross_entropy(md.zeros((2, 4)), md.tensor([0, 3])).item(), 4)  # log(4)
    1.3863
    """
    _check_reduction(reduction, "cross_entropy")
    target = constant_like(target, logits)
    check_same_backend("cross_entropy", (logits, target))
    if _autocast_dtype.get() is not None:  # losses in float32 under md.autocast()
        (logits,) = cast_to_float32(logits)
    logits_shape = logits.data.shape
    if len(logits_shape) != 2:
        raise ValueError(f"cross_entropy expects logits of shape (N, C), got {logits.shape}")
    if dtype_of(target.data.dtype).kind != "int":
        raise TypeError(
            f"cross_entropy expects integer class labels, got a {target.dtype.name} target; "
            "convert with target.astype(md.int64) (for probabilities or 0/1 targets, use "
            "binary_cross_entropy_with_logits or mse_loss)"
        )
    if tuple(target.data.shape) != tuple(logits_shape[:1]):
        raise ValueError(f"cross_entropy: target of shape {target.shape} does not match logits {logits.shape} "
                         f"(expected ({logits.shape[0]},))")
    if logits_shape[0] == 0 and reduction == "mean":  # PyTorch: nan (0/0); the sum of nothing is 0
        raise ValueError("cross_entropy of an empty batch (0 samples) has no mean; skip empty batches "
                         "or use reduction='sum'")
    return CrossEntropy.apply(logits, target=target.data, reduction=reduction)


class BCEWithLogits(Function):
    reduction: str

    def forward(self, logits, target):
        xp = self.xp
        # max(x, 0) - x * t + log(1 + exp(-|x|)): no overflow for any x.
        losses = xp.maximum(logits, 0.0) - logits * target + xp.log1p(xp.exp(-xp.abs(logits)))
        total = xp.sum(losses)
        return total / losses.size if self.reduction == "mean" else total

    def backward(self, grad, logits, target):
        wants_logits, wants_target = self.needs_input_grad
        size = 1
        for dim in logits.shape:
            size *= dim
        scale = grad / float(size) if self.reduction == "mean" else grad
        return ((Sigmoid.apply(logits) - target) * scale if wants_logits else None,
                -logits * scale if wants_target else None)


def binary_cross_entropy_with_logits(logits: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of ``sigmoid(logits)`` against targets in [0, 1], computed stably."""
    _check_reduction(reduction, "binary_cross_entropy_with_logits")
    target = constant_like(target, logits)
    if _autocast_dtype.get() is not None:  # losses in float32 under md.autocast()
        logits, target = cast_to_float32(logits, target)
    if target.shape != logits.shape:
        raise ValueError(f"binary_cross_entropy_with_logits: target shape {target.shape} differs from "
                         f"logits shape {logits.shape}")
    if not target.dtype.is_floating:
        target = target.astype(logits.dtype)
    if target.dtype is not logits.dtype:
        raise TypeError(f"binary_cross_entropy_with_logits got {logits.dtype.name} logits and a "
                        f"{target.dtype.name} target; minidl does not mix float widths silently: "
                        f"convert the target with .astype(md.{logits.dtype.name})")
    if reduction == "mean" and logits.size == 0:
        raise ValueError("binary_cross_entropy_with_logits of an empty batch (0 elements) has no mean; "
                         "skip empty batches")
    return BCEWithLogits.apply(logits, target, reduction=reduction)


def mse_loss(prediction: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Mean (or sum) of squared differences; shapes must match exactly."""
    _check_reduction(reduction, "mse_loss")
    target = constant_like(target, prediction)
    if _autocast_dtype.get() is not None:  # losses in float32 under md.autocast()
        prediction, target = cast_to_float32(prediction, target)
    if target.shape != prediction.shape:
        raise ValueError(f"mse_loss: prediction shape {prediction.shape} differs from target shape {target.shape}; "
                         "reshape one so they match (silent broadcasting here is a classic bug)")
    difference = prediction - target
    squared = difference * difference
    return mean(squared) if reduction == "mean" else sum(squared)
