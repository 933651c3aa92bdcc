"""Strides in elements of a base: where PyTorch's ``reshape`` copies, its ``view`` refuses, and a view overlaps.

minidl's views (`minidl.ops.views`) share values by bookkeeping, not memory,
but each carries the strides it would have in PyTorch, so that the choice
between a view and a copy, and the errors, are PyTorch's.
"""

from __future__ import annotations

from typing import Sequence

from minidl.autograd.tensor import Tensor


def contiguous_strides(shape: Sequence[int]) -> tuple[int, ...]:
    """The strides of a row-major array of ``shape``, in elements (the last axis 1)."""
    strides, step = [], 1
    for dim in reversed(tuple(shape)):
        strides.append(step)
        step *= max(dim, 1)
    return tuple(reversed(strides))


def strides_of(x: Tensor) -> tuple[int, ...]:
    """``x``'s strides in elements of its base (a tensor that is no view is contiguous)."""
    return x._base.strides if x._base is not None else contiguous_strides(x.shape)


def is_contiguous(x: Tensor) -> bool:
    """Whether ``x``'s elements lie in row-major order in its base with no gaps (PyTorch's ``is_contiguous``)."""
    if x._base is None:
        return True
    shape, strides = x.shape, x._base.strides
    if 0 in shape:
        return True
    expected = 1
    for dim, stride in zip(reversed(shape), reversed(strides)):
        if dim != 1:
            if stride != expected:
                return False
            expected *= dim
    return True


def reshape_strides(shape: Sequence[int], strides: Sequence[int], new_shape: Sequence[int]) -> tuple | None:
    """The strides of ``new_shape`` over the same elements, or None where no view can have them (then
    reshape copies). PyTorch's ``computeStride``: the old axes are cut into runs that are contiguous
    among themselves, and each run must map onto whole new axes."""
    shape, strides, new_shape = tuple(shape), tuple(strides), tuple(new_shape)
    if not shape or 0 in shape:
        return contiguous_strides(new_shape)
    new_strides = [0] * len(new_shape)
    view_axis = len(new_shape) - 1
    chunk_stride, tensor_count, view_count = strides[-1], 1, 1
    for axis in range(len(shape) - 1, -1, -1):
        tensor_count *= shape[axis]
        if axis == 0 or (shape[axis - 1] != 1 and strides[axis - 1] != tensor_count * chunk_stride):
            while view_axis >= 0 and (view_count < tensor_count or new_shape[view_axis] == 1):
                new_strides[view_axis] = view_count * chunk_stride
                view_count *= new_shape[view_axis]
                view_axis -= 1
            if view_count != tensor_count:
                return None
            if axis > 0:
                chunk_stride, tensor_count, view_count = strides[axis - 1], 1, 1
    return tuple(new_strides) if view_axis == -1 else None


def overlaps(shape: Sequence[int], strides: Sequence[int]) -> bool:
    """Whether two elements of a view are one element of its base (an ``expand``-ed axis)."""
    return any(stride == 0 and dim > 1 for dim, stride in zip(shape, strides))
