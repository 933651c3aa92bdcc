"""Operations that move elements around without changing them.

Each one's backward is its inverse: reshape back, permute back, and the
pair broadcast_to / sum_to, which are each other's gradient.
"""

from __future__ import annotations

from typing import Sequence

from minidl.autograd.function import Function
from minidl.autograd.tensor import Tensor


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


def _axis(axis: int, ndim: int, op: str) -> int:
    if not -ndim <= axis < max(ndim, 1):
        raise ValueError(f"{op}: axis {axis} is out of range for a tensor with {ndim} dimensions")
    return axis % ndim if ndim else 0


class Reshape(Function):
    def forward(self, a):
        return self.xp.reshape(a, self.shape)

    def backward(self, grad):
        return (reshape(grad, self.inputs[0].shape),)


class PermuteDims(Function):
    def forward(self, a):
        return self.xp.permute_dims(a, self.axes)

    def backward(self, grad):
        inverse = [0] * len(self.axes)
        for position, axis in enumerate(self.axes):
            inverse[axis] = position
        return (permute_dims(grad, tuple(inverse)),)


class BroadcastTo(Function):
    def forward(self, a):
        return self.xp.broadcast_to(a, self.shape)

    def backward(self, grad):
        return (sum_to(grad, self.inputs[0].shape),)


class SumTo(Function):
    """Sum over the axes that broadcasting added or stretched: the gradient of broadcast_to."""

    def forward(self, a):
        return sum_array_to(self.xp, a, self.shape)

    def backward(self, grad):
        return (broadcast_to(grad, self.inputs[0].shape),)


class Concat(Function):
    def forward(self, *arrays):
        return self.xp.concat(arrays, axis=self.axis)

    def backward(self, grad):
        grads, start = [], 0
        for tensor in self.inputs:
            stop = start + tensor.shape[self.axis]
            if tensor.requires_grad:
                key = (slice(None),) * self.axis + (slice(start, stop),)
                grads.append(grad[key])
            else:
                grads.append(None)
            start = stop
        return tuple(grads)


def reshape(x: Tensor, shape: Sequence[int]) -> Tensor:
    """The same elements in a new shape (one dimension may be -1)."""
    shape = tuple(int(d) for d in shape)
    known = 1
    for dim in shape:
        if dim != -1:
            known *= dim
    size = x.size
    if shape.count(-1) > 1 or (-1 in shape and (known == 0 or size % known)) or (-1 not in shape and known != size):
        raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} ({size} elements) into {shape}")
    if -1 in shape:
        shape = tuple(size // known if d == -1 else d for d in shape)
    if shape == x.shape:
        return x
    return Reshape.apply(x, shape=shape)


def permute_dims(x: Tensor, axes: Sequence[int]) -> Tensor:
    """Reorder the axes: ``permute_dims(x, (1, 0))`` is the matrix transpose."""
    axes = tuple(_axis(a, x.ndim, "permute_dims") for a in axes)
    if sorted(axes) != list(range(x.ndim)):
        raise ValueError(f"permute_dims: axes {axes} are not a permutation of the {x.ndim} axes of shape {x.shape}")
    return x if axes == tuple(range(x.ndim)) else PermuteDims.apply(x, axes=axes)


def matrix_transpose(x: Tensor) -> Tensor:
    """Swap the last two axes."""
    ndim = len(x.data.shape)
    if ndim < 2:
        raise ValueError(f"matrix_transpose needs at least 2 dimensions, got shape {x.shape}")
    axes = (1, 0) if ndim == 2 else tuple(range(ndim - 2)) + (ndim - 1, ndim - 2)
    return PermuteDims.apply(x, axes=axes)


def broadcast_to(x: Tensor, shape: Sequence[int]) -> Tensor:
    """Repeat ``x`` along new or size-1 axes to reach ``shape`` (no copy)."""
    shape = tuple(shape)
    if broadcast_shapes("broadcast_to", x.shape, shape) != shape:
        raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} to {shape}")
    if shape == x.shape:
        return x
    return BroadcastTo.apply(x, shape=shape)


def sum_to(x: Tensor, shape: Sequence[int]) -> Tensor:
    """Sum ``x`` down to ``shape`` (the inverse of broadcasting)."""
    shape = tuple(shape)
    if shape == x.shape:
        return x
    return SumTo.apply(x, shape=shape)


def sum_array_to(xp, a, shape: tuple[int, ...]):
    """``sum_to`` on a raw array (SumTo's forward, and the array backwards of broadcasting ops)."""
    if tuple(a.shape) == shape:
        return a
    lead = a.ndim - len(shape)
    stretched = tuple(lead + i for i, dim in enumerate(shape) if dim == 1 and a.shape[lead + i] != 1)
    if not stretched and shape:  # only leading axes were added (a bias): one sum, no reshape
        return xp.sum(a, axis=tuple(range(lead)))
    summed = xp.sum(a, axis=tuple(range(lead)) + stretched, keepdims=True)
    return xp.reshape(summed, shape)


def unbroadcast(grad: Tensor, shape: tuple[int, ...]) -> Tensor:
    """The gradient of an input that was broadcast: summed back to the input's shape."""
    return grad if grad.shape == shape else SumTo.apply(grad, shape=shape)


def expand_dims(x: Tensor, axis: int = 0) -> Tensor:
    """Insert a new axis of length 1 at ``axis``."""
    axis = _axis(axis, x.ndim + 1, "expand_dims")
    shape = x.shape
    return reshape(x, shape[:axis] + (1,) + shape[axis:])


def squeeze(x: Tensor, axis: int | Sequence[int]) -> Tensor:
    """Remove axes of length 1 (``axis`` must name them, as in the standard)."""
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    axes = {_axis(a, x.ndim, "squeeze") for a in axes}
    for a in axes:
        if x.shape[a] != 1:
            raise ValueError(f"squeeze: axis {a} of shape {x.shape} has length {x.shape[a]}, not 1")
    return reshape(x, tuple(d for i, d in enumerate(x.shape) if i not in axes))


def flatten(x: Tensor, start_axis: int = 0) -> Tensor:
    """Merge the axes from ``start_axis`` on into one."""
    start_axis = _axis(start_axis, x.ndim, "flatten")
    return reshape(x, x.shape[:start_axis] + (-1,))


def concat(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis."""
    tensors = tuple(tensors)
    if not tensors:
        raise ValueError("concat needs at least one tensor")
    first = tensors[0]
    axis = _axis(axis, first.ndim, "concat")
    for other in tensors[1:]:
        if other.ndim != first.ndim or any(
            i != axis and d1 != d2 for i, (d1, d2) in enumerate(zip(first.shape, other.shape))
        ):
            shapes = ", ".join(str(t.shape) for t in tensors)
            raise ValueError(f"concat: shapes {shapes} differ outside axis {axis}")
        if other.dtype is not first.dtype:  # xp.concat would promote silently
            dtypes = ", ".join(t.dtype.name for t in tensors)
            raise TypeError(f"concat: tensors have dtypes {dtypes}; convert them to one with .astype()")
    return Concat.apply(*tensors, axis=axis)


def stack(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join tensors of one shape along a new axis."""
    tensors = tuple(tensors)
    if not tensors:
        raise ValueError("stack needs at least one tensor")
    shapes = {t.shape for t in tensors}
    if len(shapes) > 1:
        raise ValueError(f"stack: all tensors need one shape, got {', '.join(str(t.shape) for t in tensors)}")
    axis = _axis(axis, tensors[0].ndim + 1, "stack")
    return concat([expand_dims(t, axis) for t in tensors], axis=axis)
