"""Gather and scatter along one axis, ``masked_fill`` and ``one_hot``.

``gather(x, axis, index)`` picks ``x[..., index[i, j], ...]`` position by
position. minidl turns each picked position into its offset in the
flattened ``x`` and reuses the row gather of `minidl.ops.indexing`
(``Take``), whose gradient is already a scatter-add that adds repeated
indices: so ``scatter_add`` is the same pair of ops, run the other way.
"""

from __future__ import annotations

from typing import Any

from minidl.autograd.function import check_same_backend
from minidl.autograd.tensor import Tensor
from minidl.backend import array_device
from minidl.ops.checks import normalize_axis
from minidl.ops.elementwise import where
from minidl.ops.indexing import ScatterAddRows, Take
from minidl.ops.shape import reshape
from minidl.ops.spelling import torch_keywords


def _flat_offsets(op: str, x: Tensor, axis: int, index: Tensor) -> Any:
    """For each element of ``index``, its position in ``x`` flattened (index along ``axis``, own place elsewhere)."""
    check_same_backend(op, (x, index))
    xp = x.xp
    if not xp.isdtype(index.data.dtype, "integral"):
        raise TypeError(f"{op}: index must hold integers (md.long), got {index.dtype.name}")
    if index.ndim != x.ndim:
        raise ValueError(f"{op}: index has {index.ndim} dimensions but the tensor has {x.ndim} (shape {x.shape})")
    for a, (n, m) in enumerate(zip(index.shape, x.shape)):
        if a != axis and n > m:
            raise ValueError(f"{op}: index shape {index.shape} is larger than tensor shape {x.shape} on axis {a}")
    size = x.shape[axis]
    if index.size and (int(xp.min(index.data)) < -size or int(xp.max(index.data)) >= size):
        raise IndexError(f"{op}: an index is out of range for axis {axis} of length {size}")
    offsets, stride = None, 1
    for a in range(x.ndim - 1, -1, -1):
        if a == axis:
            along = xp.astype(index.data, xp.int64)
            along = xp.where(along < 0, along + size, along)
        else:
            shape = [1] * x.ndim
            shape[a] = index.shape[a]
            along = xp.reshape(xp.arange(index.shape[a], dtype=xp.int64, device=array_device(index.data)),
                               tuple(shape))
        term = along * stride
        offsets = term if offsets is None else offsets + term
        stride *= x.shape[a]
    return xp.reshape(xp.broadcast_to(offsets, index.shape), (-1,))


@torch_keywords
def gather(x: Tensor, axis: int, index: Tensor) -> Tensor:
    """``out[i][j] = x[index[i][j]][j]`` for ``axis=0`` (and so on): PyTorch's ``gather``.

    >>> import minidl as md
    >>> md.gather(md.tensor([[1.0, 2.0], [3.0, 4.0]]), 1, md.tensor([[1, 0], [0, 0]])).tolist()
    [[2.0, 1.0], [3.0, 3.0]]
    """
    axis = normalize_axis(axis, x.ndim, "gather")
    offsets = _flat_offsets("gather", x, axis, index)
    return reshape(Take.apply(reshape(x, (-1,)), index=offsets), index.shape)


@torch_keywords
def scatter_add(x: Tensor, axis: int, index: Tensor, src: Tensor) -> Tensor:
    """A copy of ``x`` with ``src`` added at ``index`` along ``axis`` (repeats add up): PyTorch's ``scatter_add``."""
    axis = normalize_axis(axis, x.ndim, "scatter_add")
    if src.shape != index.shape:
        raise ValueError(f"scatter_add: src shape {src.shape} must equal index shape {index.shape} in minidl; "
                         f"slice src to the index's shape")
    offsets = _flat_offsets("scatter_add", x, axis, index)
    spread = ScatterAddRows.apply(reshape(src, (-1,)), index=offsets, rows=x.size)
    return x + reshape(spread, x.shape)


def masked_fill(x: Tensor, mask: Any, value: float) -> Tensor:
    """``value`` where ``mask`` is true, ``x`` elsewhere (gradient flows where ``x`` is kept)."""
    return where(mask, value, x)


def one_hot(index: Tensor, num_classes: int = -1) -> Tensor:
    """A new last axis of length ``num_classes``, 1 at each index and 0 elsewhere (int64, as PyTorch)."""
    xp = index.xp
    if not xp.isdtype(index.data.dtype, "integral"):
        raise TypeError(f"one_hot needs an integer tensor (class indices), got {index.dtype.name}")
    if num_classes == -1:
        num_classes = int(xp.max(index.data)) + 1 if index.size else 0
    if index.size and (int(xp.min(index.data)) < 0 or int(xp.max(index.data)) >= num_classes):
        raise ValueError(f"one_hot: class indices must lie in [0, {num_classes})")
    classes = xp.arange(num_classes, dtype=index.data.dtype, device=array_device(index.data))
    hot = xp.astype(xp.expand_dims(index.data, axis=-1) == classes, xp.int64)
    return Tensor._wrap(hot, xp, index.backend)
