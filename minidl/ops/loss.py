"""Loss functions, each fused into one node with a short, exact backward.

Cross-entropy's gradient is ``(softmax(logits) - one_hot(target)) / N``:
fusing the log-softmax and the pick into one node makes it cheap and stable.
"""

from __future__ import annotations

from typing import Any

from minidl.autograd.dtypes import dtype_of
from minidl.autograd.function import Function, is_grad_enabled
from minidl.autograd.tensor import Tensor
from minidl.ops.activation import softmax
from minidl.ops.creation import constant_like
from minidl.ops.elementwise import Multiply, sigmoid
from minidl.ops.reduction import mean, sum

_REDUCTIONS = ("mean", "sum")


def _check_reduction(reduction: str, op: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


class CrossEntropy(Function):
    """Log-softmax and the pick of each row's label, in one node.

    The forward pass already holds softmax(logits), so it also keeps the local
    gradient ``(softmax - one_hot) / N``: the backward is then one multiply.
    """

    def forward(self, logits):
        xp = self.xp
        count, classes = logits.shape
        shifted = logits - xp.max(logits, axis=-1, keepdims=True)  # exp never overflows
        exps = xp.exp(shifted)
        sums = xp.sum(exps, axis=-1, keepdims=True)
        log_probs = shifted - xp.log(sums)
        self.one_hot = xp.astype(self.target[:, None] == xp.arange(classes, dtype=self.target.dtype), logits.dtype)
        # A label outside [0, C) matches no class: its row of one_hot is all zeros.
        if int(xp.sum(self.one_hot)) != count:
            low, high = int(xp.min(self.target)), int(xp.max(self.target))
            raise ValueError(f"cross_entropy: labels must lie in [0, {classes - 1}] for {classes} classes, "
                             f"found labels from {low} to {high}")
        if self.inputs[0].requires_grad and is_grad_enabled():
            local_grad = exps / sums
            local_grad -= self.one_hot  # in place: local_grad is a fresh array
            if self.reduction == "mean":
                local_grad /= count
            self.local_grad = local_grad
        total = -xp.sum(log_probs * self.one_hot)
        return total / count if self.reduction == "mean" else total

    def backward(self, grad):
        logits = self.inputs[0]
        if is_grad_enabled():
            # create_graph: rebuild the local gradient from differentiable ops, so
            # that the gradient itself can be differentiated.
            local_grad = softmax(logits, axis=-1) - Tensor._wrap(self.one_hot, self.xp, logits.backend)
            if self.reduction == "mean":
                local_grad = local_grad / float(logits.shape[0])
        else:
            local_grad = Tensor._wrap(self.local_grad, self.xp, logits.backend)
        return (Multiply.apply(local_grad, grad),)  # one dtype, and grad (a scalar) broadcasts

    def backward_arrays(self, grad):
        return (self.local_grad * grad,)


def cross_entropy(logits: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Softmax cross-entropy between ``logits`` (N, C) and integer class labels ``target`` (N,).

    >>> import minidl as md, minidl.nn.functional as F
    >>> round(F.cross_entropy(md.zeros((2, 4)), md.tensor([0, 3])).item(), 4)  # log(4)
    1.3863
    """
    _check_reduction(reduction, "cross_entropy")
    target = constant_like(target, logits)
    if target.backend != logits.backend:
        raise ValueError(f"cross_entropy got logits on {logits.backend!r} and a target on {target.backend!r}; "
                         f"move the target with target.to({logits.backend!r})")
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
    if logits_shape[0] == 0:
        raise ValueError("cross_entropy of an empty batch (0 samples) is undefined; skip empty batches")
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
    if target.shape != prediction.shape:
        raise ValueError(f"mse_loss: prediction shape {prediction.shape} differs from target shape {target.shape}; "
                         "reshape one so they match (silent broadcasting here is a classic bug)")
    difference = prediction - target
    squared = difference * difference
    return mean(squared) if reduction == "mean" else sum(squared)
