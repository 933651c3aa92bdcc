"""The checks every op shares: a Tensor where one is needed, axes in range, shapes that broadcast.

One function for each, so an error reads the same whichever op raised it.
(Tensors of two backends in one op: [`minidl.autograd.function.check_same_backend()`][minidl.autograd.function.check_same_backend].)
"""

from __future__ import annotations

from typing import Sequence

from minidl.autograd.tensor import Tensor


def expect_tensor(op: str, x: object) -> None:
    """Refuse a raw array (or list) where a Tensor is needed, saying how to make one.

    Without this, a NumPy batch fed to a model fails deep inside with an
    AttributeError about ``memoryview`` or ``dtype``.
    """
    if not isinstance(x, Tensor):
        kind = type(x).__name__ if type(x).__module__ == "builtins" else f"{type(x).__module__}.{type(x).__name__}"
        raise TypeError(f"{op} expects a minidl Tensor, got a {kind}; convert it with md.tensor(...)")


def normalize_axis(axis: int, ndim: int, op: str) -> int:
    """One axis as a non-negative int; a 0-d tensor accepts 0 and -1, as NumPy and PyTorch do."""
    if not (-ndim <= axis < ndim or (ndim == 0 and axis in (0, -1))):
        raise ValueError(f"{op}: axis {axis} is out of range for a tensor with {ndim} dimensions")
    return axis % ndim if ndim else 0


def normalize_axes(axis: int | Sequence[int] | None, ndim: int, op: str) -> tuple[int, ...]:
    """``axis`` as a sorted tuple of non-negative axes (all axes for None; none for a 0-d tensor)."""
    if axis is None:
        return tuple(range(ndim))
    axes = {normalize_axis(a, ndim, op) for a in ((axis,) if isinstance(axis, int) else tuple(axis))}
    return tuple(sorted(axes)) if ndim else ()


def broadcast_shapes(op: str, shape_a: Sequence[int], shape_b: Sequence[int]) -> tuple[int, ...]:
    """The broadcast shape of two shapes, or a ValueError naming the op and both shapes."""
    ndim = max(len(shape_a), len(shape_b))
    padded_a = (1,) * (ndim - len(shape_a)) + tuple(shape_a)
    padded_b = (1,) * (ndim - len(shape_b)) + tuple(shape_b)
    result = []
    for dim_a, dim_b in zip(padded_a, padded_b):
        if dim_a != dim_b and dim_a != 1 and dim_b != 1:
            raise ValueError(f"{op}: shapes {tuple(shape_a)} and {tuple(shape_b)} cannot be broadcast together")
        result.append(dim_a if dim_b == 1 else dim_b)
    return tuple(result)
