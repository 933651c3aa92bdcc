"""Regression and binary losses, with PyTorch's ``reduction="mean" | "sum" | "none"``.

Each is a short composition of differentiable ops, so its gradient (and the
gradient of that gradient) comes from theirs. Cross-entropy and NLL, which
fuse a log-softmax into one node, are in `minidl.ops.cross_entropy`.
"""

from __future__ import annotations

from typing import Any

from minidl.autograd.autocast import _autocast_dtype
from minidl.autograd.tensor import Tensor
from minidl.ops.autocasting import cast_to_float32
from minidl.ops.activation import softplus
from minidl.ops.checks import expect_tensor
from minidl.ops.creation import constant_like
from minidl.ops.cross_entropy import check_reduction
from minidl.ops.elementwise import log, where
from minidl.ops.piecewise import abs, clip
from minidl.ops.reduction import mean, sum


def reduce_losses(losses: Tensor, reduction: str, op: str) -> Tensor:
    """The per-element ``losses`` as they are (``"none"``), summed, or averaged."""
    if reduction == "none":
        return losses
    if reduction == "mean" and losses.size == 0:
        raise ValueError(f"{op} of an empty batch (0 elements) has no mean; skip empty batches")
    return mean(losses) if reduction == "mean" else sum(losses)


def _paired(op: str, prediction: Tensor, target: Any, reduction: str) -> tuple[Tensor, Tensor]:
    """``prediction`` and ``target`` as Tensors of the same shape and float dtype, after the checks
    (both in float32 under ``md.autocast()``, where losses compute in float32)."""
    check_reduction(reduction, op)
    expect_tensor(op, prediction)
    target = constant_like(target, prediction)
    if _autocast_dtype.get() is not None:
        prediction, target = cast_to_float32(prediction, target)
    if target.shape != prediction.shape:
        raise ValueError(f"{op}: prediction shape {prediction.shape} differs from target shape {target.shape}; "
                         "reshape one so they match (silent broadcasting here is a classic bug)")
    if not target.dtype.is_floating:
        target = target.astype(prediction.dtype)
    if target.dtype is not prediction.dtype:
        raise TypeError(f"{op} got a {prediction.dtype.name} input and a {target.dtype.name} target; minidl does "
                        f"not mix float widths silently: convert the target with .astype(md.{prediction.dtype.name})")
    return prediction, target


def mse_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Squared differences ``(input - target) ** 2``, averaged (or summed, or kept); shapes must match.

    >>> import minidl as md, minidl.nn.functional as F
    >>> F.mse_loss(md.tensor([1.0, 2.0]), md.tensor([0.0, 0.0]), reduction="none").tolist()
    [1.0, 4.0]
    """
    input, target = _paired("mse_loss", input, target, reduction)
    difference = input - target
    return reduce_losses(difference * difference, reduction, "mse_loss")


def l1_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Absolute differences ``|input - target|`` (gradient 0 where they are equal)."""
    input, target = _paired("l1_loss", input, target, reduction)
    return reduce_losses(abs(input - target), reduction, "l1_loss")


def smooth_l1_loss(input: Tensor, target: Any, reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """Huber-like: ``0.5 * d**2 / beta`` where ``|d| < beta``, ``|d| - 0.5 * beta`` elsewhere (``d = input - target``).

    >>> import minidl as md, minidl.nn.functional as F
    >>> F.smooth_l1_loss(md.tensor([0.5, 3.0]), md.tensor([0.0, 0.0]), reduction="none").tolist()
    [0.125, 2.5]
    """
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be >= 0, got {beta}")
    input, target = _paired("smooth_l1_loss", input, target, reduction)
    size = abs(input - target)
    if beta == 0:
        return reduce_losses(size, reduction, "smooth_l1_loss")  # the limit: plain L1, as in PyTorch
    losses = where(size < beta, (0.5 / beta) * size * size, size - 0.5 * beta)
    return reduce_losses(losses, reduction, "smooth_l1_loss")


def _as_factor(value: Any, like: Tensor) -> Tensor:
    """A weight as a constant of ``like``'s backend and dtype (a float32 class weight serves float64 models)."""
    return constant_like(value, like).astype(like.dtype)


def _weighted(losses: Tensor, weight: Any) -> Tensor:
    return losses if weight is None else losses * _as_factor(weight, losses)


def binary_cross_entropy(input: Tensor, target: Any, weight: Any = None, reduction: str = "mean") -> Tensor:
    """``-(t * log(p) + (1 - t) * log(1 - p))`` for probabilities ``input`` in [0, 1].

    Each log is clamped at -100, as in PyTorch, so a probability of exactly 0
    or 1 gives a large loss, not infinity. From logits, prefer
    `binary_cross_entropy_with_logits` (stable, and one op fewer).
    """
    input, target = _paired("binary_cross_entropy", input, target, reduction)
    xp = input.xp
    if input.size and bool(xp.any(xp.logical_or(input.data < 0, input.data > 1))):
        raise ValueError("binary_cross_entropy: every input must be a probability in [0, 1], found values from "
                         f"{float(xp.min(input.data))} to {float(xp.max(input.data))}; apply sigmoid first, or "
                         "use binary_cross_entropy_with_logits on the raw scores")
    losses = -(target * clip(log(input), min=-100.0) + (1.0 - target) * clip(log(1.0 - input), min=-100.0))
    return reduce_losses(_weighted(losses, weight), reduction, "binary_cross_entropy")


def binary_cross_entropy_with_logits(input: Tensor, target: Any, weight: Any = None, reduction: str = "mean",
                                     pos_weight: Any = None) -> Tensor:
    """Binary cross-entropy of ``sigmoid(input)`` against targets in [0, 1], computed stably from the logits.

    ``loss = (1 - t) * x + (1 + (pos_weight - 1) * t) * softplus(-x)``;
    ``pos_weight`` (broadcast along the last axis, one per class) weighs the
    positive examples, ``weight`` every element.

    >>> import minidl as md, minidl.nn.functional as F
    >>> round(F.binary_cross_entropy_with_logits(md.tensor([0.0]), md.tensor([1.0])).item(), 4)  # log(2)
    0.6931
    """
    input, target = _paired("binary_cross_entropy_with_logits", input, target, reduction)
    log_one_minus = softplus(-input, threshold=float("inf"))   # -log(sigmoid(x)), for any x without overflow
    if pos_weight is None:
        losses = (1.0 - target) * input + log_one_minus
    else:
        pos_weight = _as_factor(pos_weight, input)
        losses = (1.0 - target) * input + (1.0 + (pos_weight - 1.0) * target) * log_one_minus
    losses = _weighted(losses, weight)
    return reduce_losses(losses, reduction, "binary_cross_entropy_with_logits")
