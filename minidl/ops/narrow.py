"""``md.narrow`` and ``md.select``: part of one axis, a view (PyTorch's ``torch.narrow`` and ``torch.select``)."""

from __future__ import annotations

from minidl.autograd.tensor import Tensor
from minidl.ops.checks import normalize_axis
from minidl.ops.indexing import getitem


def narrow(x: Tensor, dim: int, start: int, length: int) -> Tensor:
    """``x[..., start:start + length, ...]`` on axis ``dim``; ``start`` may be negative (from the end).

    >>> import minidl as md
    >>> md.narrow(md.arange(6).reshape((2, 3)), 1, 1, 2).tolist()
    [[1, 2], [4, 5]]
    """
    if x.ndim == 0:
        raise RuntimeError("narrow needs at least 1 dimension, got a 0-d tensor (PyTorch raises RuntimeError too)")
    axis = normalize_axis(dim, x.ndim, "narrow")
    size = x.shape[axis]
    start = int(start) + size if int(start) < 0 else int(start)
    if not 0 <= start <= size or length < 0 or start + length > size:
        raise IndexError(f"narrow: start {start} and length {length} do not fit axis {axis} of length {size} "
                         f"(shape {x.shape})")
    return getitem(x, (slice(None),) * axis + (slice(start, start + int(length), 1),))


def select(x: Tensor, dim: int, index: int) -> Tensor:
    """``x[..., index, ...]`` on axis ``dim`` (that axis removed); ``index`` may be negative. A view.

    >>> import minidl as md
    >>> md.select(md.arange(6).reshape((2, 3)), 1, -1).tolist()
    [2, 5]
    """
    if x.ndim == 0:
        raise IndexError("select needs at least 1 dimension, got a 0-d tensor")
    axis = normalize_axis(dim, x.ndim, "select")
    size = x.shape[axis]
    if not -size <= int(index) < size:
        raise IndexError(f"select: index {index} is out of range for axis {axis} of length {size} "
                         f"(shape {x.shape})")
    return getitem(x, (slice(None),) * axis + (int(index) % size,))
