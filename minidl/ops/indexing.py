"""Indexing: ``x[key]`` with ints, slices, None, ``...`` and integer tensors.

Basic keys (ints, slices, None, ...) select a view; the gradient is written
back into a tensor of zeros at the same place.  Integer tensors gather
rows: minidl moves the indexed axes to the front, flattens them, and uses
one ``take``.  Its gradient is a scatter-add, where a row picked twice
receives both gradients: the standard has no scatter-add, so the backend
layer supplies one (`minidl.backend.scatter_add_rows()`).
"""

from __future__ import annotations

from typing import Any

from minidl import backend as _backend
from minidl.autograd.function import Function, check_same_backend
from minidl.autograd.tensor import Tensor
from minidl.ops.creation import tensor as _tensor
from minidl.ops.checks import broadcast_shapes
from minidl.ops.shape import permute_dims, reshape
from minidl.ops.views import make_view, view_op


@view_op
class GetItem(Function):
    """A basic index (ints, slices, None, ...): a view; then the result flipped along ``flip_axes`` (how a
    negative step is taken where the library refuses one, PyTorch: see `positive_steps`). Flipped or not,
    the result is a view: writing into it writes into its base on every library."""

    key: tuple
    flip_axes: tuple[int, ...] = ()

    def forward(self, a):
        out = a[self.key]
        return self.xp.flip(out, axis=self.flip_axes) if self.flip_axes else out

    def backward(self, grad, a):
        return SetIntoZeros.apply(grad, key=self.key, shape=tuple(a.shape), flip_axes=self.flip_axes)

    fresh_input_grads = True  # SetIntoZeros makes a new array

    def add_grad_into(self, accumulated, grad):
        """``accumulated`` (the input's gradient so far, held only by the engine) plus this op's input
        gradient, added into the slice in place: three slices of one result (q, k, v) then make one
        array of the result's shape in backward, not three arrays of zeros and two sums."""
        if self.flip_axes:
            grad = self.xp.flip(grad, axis=self.flip_axes)
        written, grad = _without_new_axes(self.xp, accumulated, self.key, grad)
        return _backend.add_at(accumulated, written, grad)

    def write_into(self, base, value):
        if self.flip_axes:  # back to the order of base[key]
            value = self.xp.flip(value, axis=self.flip_axes)
        return _write_at(self.xp, self.xp.asarray(base, copy=True), self.key, value)

    def view_strides(self, shape, strides):
        taken = sum(item is not None and item is not Ellipsis for item in self.key)
        out, axis = [], 0
        for item in self.key:
            if item is Ellipsis:
                out.extend(strides[axis:axis + len(shape) - taken])
                axis += len(shape) - taken
            elif item is None:
                out.append(0)
            elif isinstance(item, slice):
                out.append(strides[axis] * (1 if item.step is None else item.step))
                axis += 1
            else:  # an int: the axis goes
                axis += 1
        for flipped in self.flip_axes:  # taken backwards: the stride NumPy gives x[::-1]
            out[flipped] = -out[flipped]
        return tuple(out)


def _without_new_axes(xp, out, key: tuple, value):
    """``key`` without its ``None`` items (they only added axes of length 1), and ``value`` shaped to fit."""
    written = tuple(item for item in key if item is not None)
    if len(written) != len(key):
        value = xp.reshape(value, out[written].shape)
    return written, value


def _write_at(xp, out, key: tuple, value):
    """``out[key] = value`` for a basic ``key`` (``out`` is a fresh array); returns the result."""
    written, value = _without_new_axes(xp, out, key, value)
    return _backend.set_at(out, written, value)  # in place where the library can write (see set_at)


class SetIntoZeros(Function):
    """``zeros(shape)[key] = grad`` (``grad`` flipped back first): the gradient of a basic getitem."""

    key: tuple
    shape: tuple[int, ...]
    flip_axes: tuple[int, ...] = ()

    def forward(self, grad):
        if self.flip_axes:
            grad = self.xp.flip(grad, axis=self.flip_axes)
        return _write_at(self.xp, self.xp.zeros(self.shape, dtype=grad.dtype, device=_backend.array_device(grad)),
                         self.key, grad)

    def backward(self, grad, a):
        return GetItem.apply(grad, key=self.key, flip_axes=self.flip_axes)


class Take(Function):
    """Rows of ``a`` at ``index`` (a 1-D integer array), repeats allowed."""

    index: Any

    def forward(self, a):
        return self.xp.take(a, self.index, axis=0)

    def backward(self, grad, a):
        return ScatterAddRows.apply(grad, index=self.index, rows=a.shape[0])


class ScatterAddRows(Function):
    """``out[index[i]] += grad[i]``: the gradient of Take."""

    index: Any
    rows: int

    def forward(self, grad):
        return _backend.scatter_add_rows(self.xp, self.rows, self.index, grad)

    def backward(self, grad, a):
        return Take.apply(grad, index=self.index)


def take_rows(x: Tensor, index: Tensor) -> Tensor:
    """``x[index]`` for a 1-D integer tensor ``index``: rows gathered along axis 0."""
    if index.shape[0] and not _backend.library(x.backend).checks_bounds:  # JAX would clamp, not raise
        xp, rows = index.xp, x.shape[0]
        # One yes/no read (inside md.compile: one guard, the same at every step while the indices stay in range;
        # the smallest and largest index would change with every batch); the values only for the message.
        if bool(xp.any(xp.logical_or(index.data < -rows, index.data >= rows))):
            low, high = int(xp.min(index.data)), int(xp.max(index.data))
            raise IndexError(f"take_rows: indices from {low} to {high} for a tensor of {rows} rows")
    return Take.apply(x, index=index.data)


def _is_index_array(item: Any) -> bool:
    return isinstance(item, (Tensor, list)) or (hasattr(item, "shape") and hasattr(item, "dtype"))


def getitem(x: Tensor, key: Any) -> Tensor:
    """``x[key]``; integer-tensor keys gather, and their gradients add up over repeats."""
    key = key if isinstance(key, tuple) else (key,)
    key = _masks_to_indices(x, key)
    if not any(_is_index_array(item) for item in key):
        if Ellipsis not in key and sum(item is not None for item in key) < x.ndim:
            key = key + (Ellipsis,)  # NumPy's implicit trailing ':', spelled out for the standard
        key = clamp_slices(key, x.shape)
        if needs_flip_emulation(x, key):
            key, flips = positive_steps(key, x.ndim)
            return make_view(GetItem, x, key=key, flip_axes=flips)
        try:
            if any(isinstance(item, bool) for item in key):  # x[True]: a copy here
                return GetItem.apply(x, key=key)
            return make_view(GetItem, x, key=key)
        except (IndexError, TypeError, ValueError) as error:
            raise IndexError(f"getitem: index {key!r} does not fit a tensor of shape {x.shape}: {error}") from None
    return _gather(x, key)


def clamp_slices(key: tuple, shape: tuple[int, ...]) -> tuple:
    """Slices made to fit their axis, as Python and NumPy clamp them (array-api-strict refuses out-of-range ones).

    Integers are checked against their axis: NumPy raises for ``x[5]`` on
    a length-3 axis, and JAX would silently clamp it to ``x[2]``.
    """
    taken = sum(item is not None and item is not Ellipsis for item in key)
    clamped, axis = [], 0
    for item in key:
        if item is Ellipsis:
            axis += len(shape) - taken
        elif type(item) is int and axis < len(shape) and not -shape[axis] <= item < shape[axis]:
            raise IndexError(f"index {item} is out of range for axis {axis} of length {shape[axis]} "
                             f"(shape {tuple(shape)})")
        elif isinstance(item, slice) and axis < len(shape):
            start, stop, step = item.indices(shape[axis])
            if step < 0 and stop < 0:
                stop = None  # indices() says -1 for "before the first element", which a slice reads as the last
            item = slice(start, stop, step)
        if item is not None and item is not Ellipsis:
            axis += 1
        clamped.append(item)
    return tuple(clamped)


def needs_flip_emulation(x: Tensor, key: tuple) -> bool:
    """Whether ``key`` has a negative-step slice that ``x``'s library cannot take (PyTorch refuses ``x[::-1]``)."""
    return any(isinstance(item, slice) and item.step is not None and item.step < 0 for item in key) and \
        not _backend.library(x.backend).negative_step_slices


def positive_steps(key: tuple, ndim: int) -> tuple[tuple, tuple[int, ...]]:
    """``key`` (clamped) with each negative-step slice made positive, and the result's axes to flip afterwards.

    ``x[7:2:-2]`` picks 7, 5, 3: the same as ``flip(x[3:8:2])``.
    """
    taken = sum(item is not None and item is not Ellipsis for item in key)
    positive, flips, out_axis = [], [], 0
    for item in key:
        if item is Ellipsis:
            out_axis += ndim - taken
        elif item is None:
            out_axis += 1
        elif isinstance(item, slice):
            if item.step is not None and item.step < 0:
                count = len(range(item.start, -1 if item.stop is None else item.stop, item.step))
                if count == 0:
                    item = slice(0, 0)
                else:
                    last = item.start + (count - 1) * item.step
                    item = slice(last, item.start + 1, -item.step)
                    flips.append(out_axis)
            out_axis += 1
        positive.append(item)
    return tuple(positive), tuple(flips)


def _masks_to_indices(x: Tensor, key: tuple) -> tuple:
    """``x[mask]`` as PyTorch and NumPy read it: a bool tensor stands for the integer indices of its True entries."""
    if not any(isinstance(item, Tensor) and item.dtype.kind == "bool" for item in key):
        return key
    expanded: list = []
    for position, item in enumerate(key):
        if not (isinstance(item, Tensor) and item.dtype.kind == "bool"):
            expanded.append(item)
            continue
        if any(k is Ellipsis for k in key[:position]) or item.ndim == 0:
            raise IndexError("getitem: a bool mask must be at least 1-d and come before any '...'; "
                             "index with integer tensors instead")
        start = sum(k is not None for k in key[:position])
        covered = x.shape[start:start + item.ndim]
        if item.shape != covered:
            raise IndexError(f"getitem: the bool mask of shape {item.shape} does not match the axes {covered} "
                             f"of the tensor of shape {x.shape} that it indexes")
        check_same_backend("getitem", (x, item))
        expanded.extend(Tensor._wrap(index, item.xp, item.backend) for index in item.xp.nonzero(item.data))
    return tuple(expanded)


def _expand(key: tuple, ndim: int) -> tuple:
    if any(item is None for item in key):
        raise IndexError("getitem: None cannot be combined with integer-tensor indices; use md.expand_dims after")
    if sum(item is Ellipsis for item in key) > 1:
        raise IndexError("getitem: an index can only have a single ellipsis ('...')")
    if Ellipsis in [k for k in key if not _is_index_array(k)]:
        position = next(i for i, k in enumerate(key) if not _is_index_array(k) and k is Ellipsis)
        key = key[:position] + (slice(None),) * (ndim - len(key) + 1) + key[position + 1:]
    if len(key) > ndim:
        raise IndexError(f"getitem: too many indices ({len(key)}) for a tensor of shape {ndim}-d")
    return key + (slice(None),) * (ndim - len(key))


def _gather(x: Tensor, key: tuple) -> Tensor:
    key = _expand(key, x.ndim)
    # Slices first (they keep every axis), then the integer tensors on what remains.
    if any(isinstance(k, slice) and k != slice(None) for k in key):
        x = getitem(x, tuple(k if isinstance(k, slice) else slice(None) for k in key))
        key = tuple(slice(None) if isinstance(k, slice) else k for k in key)
    indices: dict[int, Tensor] = {}
    for axis, item in enumerate(key):
        if isinstance(item, slice):
            continue
        index = item if isinstance(item, Tensor) else _tensor(item, backend=x.backend)
        check_same_backend("getitem", (x, index))
        if not index.xp.isdtype(index.data.dtype, "integral"):
            raise IndexError(f"getitem: index tensors must hold integers, got {index.dtype.name}")
        indices[axis] = index
    axes = list(indices)
    rest = [a for a in range(x.ndim) if a not in indices]
    xp = x.xp
    index_shape = _common_shape([indices[a].shape for a in axes])
    flat = None
    for axis in axes:
        size = x.shape[axis]
        index = xp.reshape(xp.broadcast_to(indices[axis].data, index_shape), (-1,))
        if index.shape[0] and (int(xp.min(index)) < -size or int(xp.max(index)) >= size):
            raise IndexError(f"getitem: an index is out of range for axis {axis} of length {size} (shape {x.shape})")
        index = xp.where(index < 0, index + size, index)
        flat = index if flat is None else flat * size + index
    moved = permute_dims(x, tuple(axes + rest))
    rest_shape = tuple(x.shape[a] for a in rest)
    count = 1  # not -1: a slice may have left an axis of length 0, and then -1 is ambiguous
    for axis in axes:
        count *= x.shape[axis]
    rows = reshape(moved, (count,) + rest_shape)
    picked = Take.apply(rows, index=xp.astype(flat, xp.int64))
    result = reshape(picked, index_shape + rest_shape)
    first = axes[0]
    if axes == list(range(first, first + len(axes))) and first > 0:  # consecutive: result axes stay in place
        n = len(index_shape)
        order = list(range(n, n + first)) + list(range(n)) + list(range(n + first, n + len(rest_shape)))
        result = permute_dims(result, tuple(order))
    return result


def _common_shape(shapes: list[tuple[int, ...]]) -> tuple[int, ...]:
    result: tuple[int, ...] = ()
    for shape in shapes:
        result = broadcast_shapes("getitem", result, shape)
    return result
