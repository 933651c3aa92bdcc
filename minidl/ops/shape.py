"""Operations that move elements around without changing them.

Each one's backward is its inverse: reshape back, permute back, and the
pair broadcast_to / sum_to, which are each other's gradient.
"""

from __future__ import annotations

from typing import Sequence

from minidl.autograd.function import Function
from minidl.autograd.grad_mode import raw_namespace
from minidl.autograd.tensor import Tensor
from minidl.ops.checks import broadcast_shapes, normalize_axis
from minidl.ops.spelling import torch_keywords
from minidl.ops.strides import reshape_strides
from minidl.ops.views import make_view, view_op


@view_op
class Reshape(Function):
    shape: tuple[int, ...]
    copies_when_strides_fail = True  # (PyTorch's reshape: a view where the strides allow, else a copy)

    def forward(self, a):
        return self.xp.reshape(a, self.shape)

    def backward(self, grad, a):
        return Reshape.apply(grad, shape=tuple(a.shape))

    def write_into(self, base, value):
        return self.xp.reshape(value, base.shape)

    def view_strides(self, shape, strides):
        return reshape_strides(shape, strides, self.shape)


@view_op
class PermuteDims(Function):
    axes: tuple[int, ...]

    def forward(self, a):
        return self.xp.permute_dims(a, self.axes)

    def backward(self, grad, a):
        inverse = [0] * len(self.axes)
        for position, axis in enumerate(self.axes):
            inverse[axis] = position
        return PermuteDims.apply(grad, axes=tuple(inverse))

    def write_into(self, base, value):
        inverse = [0] * len(self.axes)
        for position, axis in enumerate(self.axes):
            inverse[axis] = position
        return self.xp.permute_dims(value, tuple(inverse))

    def view_strides(self, shape, strides):
        return tuple(strides[axis] for axis in self.axes)


@view_op
class BroadcastTo(Function):
    shape: tuple[int, ...]

    def forward(self, a):
        return self.xp.broadcast_to(a, self.shape)

    def backward(self, grad, a):
        return SumTo.apply(grad, shape=tuple(a.shape))

    def write_into(self, base, value):  # (views.check_writable refuses first: elements repeat)
        raise RuntimeError("cannot write into an expanded view: several of its elements are one element")

    def view_strides(self, shape, strides):
        lead = len(self.shape) - len(shape)
        return (0,) * lead + tuple(0 if dim == 1 and new != 1 else stride
                                   for dim, new, stride in zip(shape, self.shape[lead:], strides))


class SumTo(Function):
    """Sum over the axes that broadcasting added or stretched: the gradient of broadcast_to."""

    shape: tuple[int, ...]

    def forward(self, a):
        return _sum_array_to(self.xp, a, self.shape, tuple(a.shape))

    def backward(self, grad, a):
        return BroadcastTo.apply(grad, shape=tuple(a.shape))


def _sum_array_to(xp, a, shape: tuple[int, ...], a_shape: tuple[int, ...]):
    lead = len(a_shape) - len(shape)
    if shape and a_shape[lead:] == shape:  # only leading axes were added (a bias): one sum, no reshape
        return xp.sum(a, axis=tuple(range(lead)))
    stretched = tuple(lead + i for i, dim in enumerate(shape) if dim == 1 and a_shape[lead + i] != 1)
    return xp.reshape(xp.sum(a, axis=tuple(range(lead)) + stretched, keepdims=True), shape)


def sum_to(x, shape: Sequence[int]):
    """Sum ``x`` (a Tensor, or a raw array inside a backward) down to ``shape``: the inverse of broadcasting.

    Every op that broadcasts its inputs returns ``sum_to(gradient, input.shape)``.
    (On raw arrays it sums at once, without the node machinery: it runs for every bias at every step.)
    """
    shape, x_shape = tuple(shape), tuple(x.shape)
    if x_shape == shape:
        return x
    if isinstance(x, Tensor):
        return SumTo.apply(x, shape=shape)
    return _sum_array_to(raw_namespace(), x, shape, x_shape)


class Concat(Function):
    axis: int

    def forward(self, *arrays):
        return self.xp.concat(arrays, axis=self.axis)

    def backward(self, grad, *inputs):
        grads, start = [], 0
        for wanted, value in zip(self.needs_input_grad, inputs):
            stop = start + value.shape[self.axis]
            key = (slice(None),) * self.axis + (slice(start, stop), Ellipsis)
            grads.append(grad[key] if wanted else None)
            start = stop
        return tuple(grads)


def reshape(x: Tensor, shape: Sequence[int]) -> Tensor:
    """The same elements in a new shape (one dimension may be -1): a view of ``x`` where its layout
    allows one (always, unless ``x`` is a view such as a transpose), else a copy, as in PyTorch."""
    shape = resolve_shape(x, shape)
    if shape == x.shape:
        return x
    return make_view(Reshape, x, shape=shape)


def resolve_shape(x: Tensor, shape: Sequence[int]) -> tuple[int, ...]:
    """``shape`` with its -1 worked out for ``x``'s element count (or a ValueError)."""
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
    return shape


def permute_dims(x: Tensor, axes: Sequence[int]) -> Tensor:
    """Reorder the axes: ``permute_dims(x, (1, 0))`` is the matrix transpose."""
    axes = tuple(normalize_axis(a, x.ndim, "permute_dims") for a in axes)
    if sorted(axes) != list(range(x.ndim)):
        raise ValueError(f"permute_dims: axes {axes} are not a permutation of the {x.ndim} axes of shape {x.shape}")
    return x if axes == tuple(range(x.ndim)) else make_view(PermuteDims, x, axes=axes)


def matrix_transpose(x: Tensor) -> Tensor:
    """Swap the last two axes."""
    ndim = len(x.data.shape)
    if ndim < 2:
        raise ValueError(f"matrix_transpose needs at least 2 dimensions, got shape {x.shape}")
    axes = (1, 0) if ndim == 2 else tuple(range(ndim - 2)) + (ndim - 1, ndim - 2)
    return make_view(PermuteDims, x, axes=axes)


def broadcast_to(x: Tensor, shape: Sequence[int]) -> Tensor:
    """Repeat ``x`` along new or size-1 axes to reach ``shape`` (no copy)."""
    shape = tuple(shape)
    if broadcast_shapes("broadcast_to", x.shape, shape) != shape:
        raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} to {shape}")
    if shape == x.shape:
        return x
    return make_view(BroadcastTo, x, shape=shape)


def expand_dims(x: Tensor, axis: int = 0) -> Tensor:
    """Insert a new axis of length 1 at ``axis``."""
    axis = normalize_axis(axis, x.ndim + 1, "expand_dims")
    shape = x.shape
    return reshape(x, shape[:axis] + (1,) + shape[axis:])


@torch_keywords
def squeeze(x: Tensor, axis: int | Sequence[int] | None = None) -> Tensor:
    """Remove axes of length 1: those ``axis`` names (each must have length 1, as in the standard),
    or, when ``axis`` is None, every axis of length 1 (PyTorch's ``squeeze()``)."""
    if axis is None:
        return reshape(x, tuple(d for d in x.shape if d != 1))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    axes = {normalize_axis(a, x.ndim, "squeeze") for a in axes}
    if x.ndim == 0:  # a 0-d tensor has no axis to remove; PyTorch returns it as it is
        return x
    for a in axes:
        if x.shape[a] != 1:
            raise ValueError(f"squeeze: axis {a} of shape {x.shape} has length {x.shape[a]}, not 1")
    return reshape(x, tuple(d for i, d in enumerate(x.shape) if i not in axes))


@torch_keywords
def flatten(x: Tensor, start_axis: int = 0, end_axis: int = -1) -> Tensor:
    """Merge the axes from ``start_axis`` to ``end_axis`` (both included) into one."""
    if x.ndim == 0:
        return reshape(x, (1,))
    start_axis = normalize_axis(start_axis, x.ndim, "flatten")
    end_axis = normalize_axis(end_axis, x.ndim, "flatten")
    if end_axis < start_axis:
        raise ValueError(f"flatten: end axis {end_axis} comes before start axis {start_axis}")
    return reshape(x, x.shape[:start_axis] + (-1,) + x.shape[end_axis + 1:])


@torch_keywords
def concat(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis."""
    tensors = tuple(tensors)
    if not tensors:
        raise ValueError("concat needs at least one tensor")
    first = tensors[0]
    axis = normalize_axis(axis, first.ndim, "concat")
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


@torch_keywords
def stack(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join tensors of one shape along a new axis."""
    tensors = tuple(tensors)
    if not tensors:
        raise ValueError("stack needs at least one tensor")
    shapes = {t.shape for t in tensors}
    if len(shapes) > 1:
        raise ValueError(f"stack: all tensors need one shape, got {', '.join(str(t.shape) for t in tensors)}")
    axis = normalize_axis(axis, tensors[0].ndim + 1, "stack")
    return concat([expand_dims(t, axis) for t in tensors], axis=axis)
