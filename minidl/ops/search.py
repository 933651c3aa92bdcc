"""Where the values are: argmax/argmin, max/min with indices, sort, argsort and topk.

Indices carry no gradient; the values are gathered at the indices
(`minidl.ops.gather.gather`), so their gradient goes to exactly the
element picked, as in PyTorch.

``max`` and ``min`` answer in both styles. The standard's
``md.max(x, axis=1)`` is the largest values (ties share the gradient), and
so is ``md.max(x)``; PyTorch's ``md.max(x, 1)`` / ``md.max(x, dim=1)``
returns ``(values, indices)``; ``md.max(a, b)`` of two tensors is the
elementwise `maximum`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from minidl.autograd.tensor import Tensor
from minidl.ops import reduction
from minidl.ops.checks import normalize_axis
from minidl.ops.piecewise import maximum, minimum
from minidl.ops.along_axis import gather
from minidl.ops.shape import squeeze
from minidl.ops.spelling import torch_keywords


class ValuesIndices(NamedTuple):
    """What ``max(x, dim)``, ``sort``, ``topk`` return: ``values`` and ``indices`` (unpack or read by name)."""

    values: Tensor
    indices: Tensor


def _index_op(name: str, x: Tensor, axis: int | None, keepdims: bool) -> Tensor:
    xp = x.xp
    if x.size == 0:
        raise ValueError(f"{name} of an empty tensor (shape {x.shape}) has no answer")
    if axis is None:
        found = getattr(xp, name)(xp.reshape(x.data, (-1,)))
        if keepdims:
            found = xp.reshape(found, (1,) * x.ndim)
    else:
        axis = normalize_axis(axis, x.ndim, name)
        found = getattr(xp, name)(x.data, axis=axis, keepdims=bool(keepdims))
    return Tensor._wrap(xp.astype(found, xp.int64), xp, x.backend)


@torch_keywords
def argmax(x: Tensor, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """The index of the largest value along ``axis`` (of the flattened tensor when None); the first at ties."""
    return _index_op("argmax", x, axis, keepdims)


@torch_keywords
def argmin(x: Tensor, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """The index of the smallest value along ``axis`` (of the flattened tensor when None); the first at ties."""
    return _index_op("argmin", x, axis, keepdims)


def _extreme(largest: bool, x: Tensor, dim: Any, axis: Any, keepdims: Any, keepdim: Any) -> Any:
    name = "max" if largest else "min"
    if keepdims is not None and keepdim is not None:
        raise TypeError(f"{name}() got both keepdims= and keepdim=; pass one")
    keep = bool(keepdims if keepdims is not None else keepdim)
    if isinstance(dim, Tensor):  # torch.max(a, b): elementwise
        return (maximum if largest else minimum)(x, dim)
    if dim is not None and axis is not None:
        raise TypeError(f"{name}() got both dim and axis; pass one")
    if dim is None:  # the standard's form: values only
        return (reduction.max if largest else reduction.min)(x, axis=axis, keepdims=keep)
    if not isinstance(dim, int):
        raise TypeError(f"{name}(x, dim) with PyTorch's dim takes one int axis; for several axes write "
                        f"md.{name}(x, axis=(...)) (values only)")
    indices = _index_op("argmax" if largest else "argmin", x, dim, True)
    values = gather(x, dim, indices)
    if not keep:
        values, indices = squeeze(values, dim), squeeze(indices, dim)
    return ValuesIndices(values, indices)


def max(x: Tensor, dim: Any = None, keepdim: bool | None = None, *, axis: Any = None,
        keepdims: bool | None = None) -> Any:
    """Largest values: ``max(x)``/``max(x, axis=...)`` -> values; ``max(x, dim)`` -> (values, indices).

    >>> import minidl as md
    >>> x = md.tensor([[1.0, 5.0], [7.0, 2.0]])
    >>> x.max(axis=1).tolist(), x.max(dim=1).indices.tolist()
    ([5.0, 7.0], [1, 0])
    """
    return _extreme(True, x, dim, axis, keepdims, keepdim)


def min(x: Tensor, dim: Any = None, keepdim: bool | None = None, *, axis: Any = None,
        keepdims: bool | None = None) -> Any:
    """Smallest values: ``min(x)``/``min(x, axis=...)`` -> values; ``min(x, dim)`` -> (values, indices)."""
    return _extreme(False, x, dim, axis, keepdims, keepdim)


@torch_keywords
def argsort(x: Tensor, axis: int = -1, descending: bool = False, stable: bool = True) -> Tensor:
    """The indices that sort ``x`` along ``axis`` (int64, no gradient)."""
    axis = normalize_axis(axis, x.ndim, "argsort")
    xp = x.xp
    order = xp.argsort(x.data, axis=axis, descending=bool(descending), stable=bool(stable))
    return Tensor._wrap(xp.astype(order, xp.int64), xp, x.backend)


@torch_keywords
def sort(x: Tensor, axis: int = -1, descending: bool = False, stable: bool = True) -> ValuesIndices:
    """``(values, indices)`` sorted along ``axis``; the values' gradient returns to where each came from."""
    indices = argsort(x, axis=axis, descending=descending, stable=stable)
    return ValuesIndices(gather(x, axis, indices), indices)


@torch_keywords
def topk(x: Tensor, k: int, axis: int = -1, largest: bool = True, sorted: bool = True) -> ValuesIndices:
    """The ``k`` largest (or smallest) values along ``axis`` and their indices, largest first."""
    axis = normalize_axis(axis, x.ndim, "topk")
    if not 0 <= k <= x.shape[axis]:
        raise ValueError(f"topk: k={k} is out of range for axis {axis} of length {x.shape[axis]}")
    order = argsort(x, axis=axis, descending=largest)
    indices = order[(slice(None),) * axis + (slice(0, k),)]
    return ValuesIndices(gather(x, axis, indices), indices)


