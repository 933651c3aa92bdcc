"""Cross-entropy and negative log-likelihood: PyTorch's options, one fused node.

Every variant PyTorch offers (class ``weight``, ``ignore_index``,
``label_smoothing``, probability targets) makes row ``i``'s loss a weighted
sum of log-probabilities,

    loss_i = -sum_c A[i, c] * log_softmax(x)[i, c]

with a constant matrix ``A``: a one-hot row times the label's weight, plus
``label_smoothing / C`` spread over all classes; zero for ignored rows. So
one node serves them all, and its gradient stays short and exact:
``d loss_i / d x[i] = p[i] * sum_c A[i, c] - A[i]`` (``p = softmax(x)``),
which for the plain case is the familiar ``softmax - one_hot``.
``mean`` divides by the summed label weights (the count of rows that are
not ignored, without ``weight``), as PyTorch does.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from minidl.autograd.autocast import _autocast_dtype
from minidl.autograd.function import Function, check_same_backend
from minidl.autograd.tensor import Tensor
from minidl.backend import array_device
from minidl.ops.autocasting import cast_to_float32
from minidl.ops.checks import expect_tensor
from minidl.ops.creation import constant_like
from minidl.ops.reduction import sum as reduce_sum
from minidl.ops.shape import permute_dims, reshape
from minidl.ops.softmax import Softmax

_REDUCTIONS = ("none", "mean", "sum")


def check_reduction(reduction: str, op: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


class CrossEntropy(Function):
    """Log-softmax and the weighted pick of each row, in one node.

    With ``scale`` None it returns one loss per row; with a number, the sum of
    the rows times it (``1 / divisor`` for ``mean``, 1 for ``sum``), so the
    usual reductions add no node. The forward pass already holds
    softmax(logits) and keeps it, so the backward on arrays is a multiply and
    a subtraction (under ``create_graph`` the softmax is recomputed from the
    logits, with its graph).
    """

    coefficients: Any   # A, an (N, C) array: what each log-probability counts
    row_totals: Any     # A summed over classes, (N, 1); None where every row sums to 1
    scale: Any          # None: per-row losses; a float: their sum times it
    picks: Any          # where A is one-hot: A as booleans (one label per row, weight 1); else None

    def forward(self, logits):
        xp = self.xp
        shifted = logits - xp.max(logits, axis=-1, keepdims=True)  # exp never overflows
        exps = xp.exp(shifted)
        sums = xp.sum(exps, axis=-1, keepdims=True)
        self.probabilities = exps / sums
        # -log p >= 0: no -0.0; where, not a bare product: a -inf logit that counts 0 would give 0 * inf = nan
        minus_log_p = xp.log(sums) - shifted
        if self.picks is not None:  # the plain case: each row's label picked, no weight to multiply by
            # coefficients, the one-hot as floats, is 0 wherever picks is False: an array there, not a Python
            # 0.0, which PyTorch would first turn into a tensor at every call
            counted = xp.where(self.picks, minus_log_p, self.coefficients)
        else:
            counted = xp.where(self.coefficients != 0, minus_log_p, 0.0) * self.coefficients
        if self.scale is None:
            return xp.sum(counted, axis=-1)
        return xp.sum(counted) * self.scale  # all rows in one sum: one array operation less per loss

    def backward(self, grad, logits):
        probabilities = self.saved_like(grad, self.probabilities, lambda: Softmax.apply(logits, axis=1))
        if self.row_totals is not None:
            probabilities = probabilities * self.row_totals
        per_row = grad[:, None] if self.scale is None else grad * self.scale
        return per_row * (probabilities - self.coefficients)


class ClassTargets(NamedTuple):
    """The rows of the logits and what each of their log-probabilities counts."""

    rows: Tensor               # the logits as (rows, C)
    coefficients: Any          # A, an array of the rows' shape
    row_totals: Any            # A summed over classes, (rows, 1); None where every row sums to 1
    loss_shape: tuple          # the shape of reduction="none"
    divisor: float             # what "mean" divides the summed losses by
    picks: Any = None          # A as booleans where it is one-hot (every row one valid label, no weights)


def _as_rows(t: Tensor) -> Tensor:
    """(C,) -> (1, C); (N, C) as is; (N, C, d1, ...) -> (N*d1*..., C), the class axis last."""
    if t.ndim == 2:
        return t
    if t.ndim == 1:
        return reshape(t, (1, t.shape[0]))
    if t.ndim > 2:
        t = permute_dims(t, (0,) + tuple(range(2, t.ndim)) + (1,))
    return reshape(t, (-1, t.shape[-1]))


def class_targets(op: str, x: Tensor, target: Any, weight: Any, ignore_index: int,
                  label_smoothing: float) -> ClassTargets:
    """Check ``x`` and ``target`` as PyTorch's cross_entropy takes them, and build ``A`` (see the module docstring)."""
    expect_tensor(op, x)
    target = constant_like(target, x)
    if target.backend != x.backend:
        check_same_backend(op, (x, target))
    logits, labels = x._data, target._data
    if (len(logits.shape) == 2 and _one_hot_case(weight, label_smoothing, ignore_index, logits.shape[1])
            and tuple(labels.shape) == tuple(logits.shape[:1]) and target.dtype.kind == "int"):
        # The usual call, (N, C) logits and N labels, with as few Python steps as its checks need (it runs at
        # every training step: docs/measurements/cpu-2026-12-05/torch-phases/); any other goes the long way.
        plain = _one_hot_targets(x, labels, tuple(labels.shape))
        if plain is not None:
            return plain
    shape = x.shape
    if not shape:
        raise ValueError(f"{op} expects logits of shape (N, C) (or (C,), or (N, C, d1, ...)), got a 0-d tensor")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must lie in [0, 1], got {label_smoothing}")
    xp, dtype, classes = x.xp, x._data.dtype, shape[1 if len(shape) > 1 else 0]
    if weight is not None:
        weight = constant_like(weight, x)
        if weight.shape != (classes,):
            raise ValueError(f"{op}: weight of shape {weight.shape} should have one entry per class: ({classes},)")
        weight = weight.astype(x.dtype).data
    rows = _as_rows(x)
    target_dtype, target_shape = target.dtype, target.shape
    if target_dtype.is_floating and target_shape == shape:  # class probabilities
        spread = _as_rows(target).data * (1.0 - label_smoothing) + label_smoothing / classes
        coefficients = spread * weight if weight is not None else spread
        return ClassTargets(rows, coefficients, xp.sum(coefficients, axis=1, keepdims=True),
                            shape[:1] + shape[2:], float(rows.shape[0]))
    loss_shape = shape[:1] + shape[2:] if len(shape) > 1 else ()
    if target_dtype.kind != "int":
        raise TypeError(f"{op} expects integer class labels, got a {target_dtype.name} target of shape "
                        f"{target_shape} for logits {shape}; convert with target.astype(md.int64) (class "
                        "probabilities must have the logits' shape; for 0/1 targets use "
                        "binary_cross_entropy_with_logits)")
    if target_shape != loss_shape:
        raise ValueError(f"{op}: target of shape {target_shape} does not match logits {shape} "
                         f"(expected {loss_shape}: one label per row)")
    labels = target._data if len(target_shape) == 1 else xp.reshape(target._data, (-1,))
    if len(shape) != 2 and _one_hot_case(weight, label_smoothing, ignore_index, classes):
        plain = _one_hot_targets(rows, labels, loss_shape)  # ((N, C) logits already tried it above)
        if plain is not None:
            return plain
    valid = labels != ignore_index
    outside = xp.logical_and(valid, xp.logical_or(labels < 0, labels >= classes))
    if bool(xp.any(outside)):
        kept = labels[valid]
        raise ValueError(f"{op}: labels must lie in [0, {classes - 1}] for {classes} classes, found labels from "
                         f"{int(xp.min(kept))} to {int(xp.max(kept))} (labels to skip: ignore_index, now "
                         f"{ignore_index})")
    safe = xp.where(valid, labels, xp.zeros_like(labels))
    classes_row = xp.arange(classes, dtype=labels.dtype, device=array_device(labels))
    one_hot = xp.astype(safe[:, None] == classes_row, dtype)
    kept = xp.astype(valid, dtype)
    row_weight = kept if weight is None else xp.take(weight, safe) * kept
    divisor = float(xp.sum(row_weight))
    if weight is None and not label_smoothing and divisor == rows.shape[0]:  # the plain case: A is one-hot
        return ClassTargets(rows, one_hot, None, loss_shape, divisor)
    coefficients = one_hot * (row_weight * (1.0 - label_smoothing))[:, None]
    if label_smoothing:
        uniform = xp.ones((1, classes), dtype=dtype, device=array_device(labels))
        spread = (weight[None, :] if weight is not None else uniform) / classes
        coefficients = coefficients + label_smoothing * spread * kept[:, None]
    return ClassTargets(rows, coefficients, xp.sum(coefficients, axis=1, keepdims=True), loss_shape, divisor)


def _one_hot_case(weight: Any, label_smoothing: float, ignore_index: int, classes: int) -> bool:
    """Whether A may be the one-hot of the labels: no weight, no smoothing, and no class is ignore_index."""
    return weight is None and label_smoothing == 0 and not 0 <= ignore_index < classes


def _one_hot_targets(rows: Tensor, labels: Any, loss_shape: tuple) -> ClassTargets | None:
    """The common case at the cost of the plain loss: one row of one_hot per label; or None if a label is not a class.

    Every label is valid exactly when the rows hold N trues (a label outside [0, C), ignore_index included,
    matches no class); class_targets then goes on to the check that names the labels.
    """
    xp, logits = rows.xp, rows._data
    picks = xp.reshape(labels, (-1, 1)) == xp.arange(logits.shape[1], dtype=labels.dtype, device=array_device(labels))
    if int(xp.count_nonzero(picks)) != logits.shape[0]:
        return None
    return ClassTargets(rows, xp.astype(picks, logits.dtype), None, loss_shape, float(logits.shape[0]), picks)


def _scale(targets: ClassTargets, reduction: str) -> float | None:
    """What the summed losses are multiplied by: None for "none"; NaN for the mean of nothing, as in PyTorch."""
    if reduction == "none":
        return None
    if reduction == "sum":
        return 1.0
    return 1.0 / targets.divisor if targets.divisor else math.nan


def cross_entropy(input: Tensor, target: Any, weight: Tensor | None = None, ignore_index: int = -100,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy of logits ``input`` (N, C) against class labels (N,) or class probabilities (N, C).

    As ``torch.nn.functional.cross_entropy``: ``weight`` per class,
    ``ignore_index`` for labels to skip, ``label_smoothing``, ``reduction``
    ``"mean" | "sum" | "none"``; logits (N, C, d1, ...) take labels (N, d1, ...).

    >>> import minidl as md, minidl.nn.functional as F
    >>> round(F.cross_entropy(md.zeros((2, 4)), md.tensor([0, 3])).item(), 4)  # log(4)
    1.3863
    """
    check_reduction(reduction, "cross_entropy")
    if _autocast_dtype.get() is not None:  # losses in float32 under md.autocast()
        (input,) = cast_to_float32(input)
    targets = class_targets("cross_entropy", input, target, weight, ignore_index, label_smoothing)
    if targets.rows.shape[0] == 0 and reduction == "mean":
        raise ValueError("cross_entropy of an empty batch (0 samples) is undefined; skip empty batches")
    scale = _scale(targets, reduction)
    losses = CrossEntropy.apply(targets.rows, coefficients=targets.coefficients, row_totals=targets.row_totals,
                                scale=scale, picks=targets.picks)
    return reshape(losses, targets.loss_shape) if scale is None else losses


def nll_loss(input: Tensor, target: Any, weight: Tensor | None = None, ignore_index: int = -100,
             reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of log-probabilities ``input`` (N, C) (from ``log_softmax``) at labels ``target``.

    ``nll_loss(log_softmax(x, axis=1), y) == cross_entropy(x, y)``.

    >>> import minidl as md, minidl.nn.functional as F
    >>> round(F.nll_loss(md.tensor([[-0.5, -2.0], [-1.0, -0.1]]), md.tensor([0, 1])).item(), 6)
    0.3
    """
    check_reduction(reduction, "nll_loss")
    if constant_like(target, input).dtype.is_floating:
        raise TypeError(f"nll_loss expects integer class labels, got a {constant_like(target, input).dtype.name} "
                        "target; convert with target.astype(md.int64)")
    if _autocast_dtype.get() is not None:  # losses in float32 under md.autocast()
        (input,) = cast_to_float32(input)
    targets = class_targets("nll_loss", input, target, weight, ignore_index, 0.0)
    losses = -reduce_sum(targets.rows * constant_like(targets.coefficients, targets.rows), axis=1)
    scale = _scale(targets, reduction)
    return reshape(losses, targets.loss_shape) if scale is None else reduce_sum(losses) * scale
