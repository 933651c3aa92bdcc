"""PyTorch's shape functions, written on the standard's: transpose, unsqueeze, view, contiguous, expand,
repeat, split, chunk, flip, roll, tril, triu and constant padding.

Most are compositions of `minidl.ops.shape` and indexing (their
gradients come for free); ``flip``, ``roll``, ``tril``/``triu`` and ``pad``
are one Function each, whose backward is the same move undone.
"""

from __future__ import annotations

from typing import Sequence

from minidl import backend as _backend
from minidl.autograd.dtypes import DType
from minidl.autograd.function import Function
from minidl.autograd.tensor import Tensor
from minidl.ops.checks import normalize_axes, normalize_axis
from minidl.ops.indexing import GetItem
from minidl.ops.shape import broadcast_to, expand_dims, permute_dims, reshape, resolve_shape
from minidl.ops.spelling import torch_keywords
from minidl.ops.strides import is_contiguous, reshape_strides, strides_of


class Flip(Function):
    axes: tuple[int, ...]

    def forward(self, a):
        return self.xp.flip(a, axis=self.axes)

    def backward(self, grad, a):
        return Flip.apply(grad, axes=self.axes)


class Roll(Function):
    shifts: tuple[int, ...]
    axes: tuple[int, ...] | None

    def forward(self, a):
        if self.axes is None:  # the flattened tensor: one shift, passed as an int (NumPy, CuPy and strict agree)
            return self.xp.roll(a, shift=self.shifts[0])
        return self.xp.roll(a, shift=self.shifts, axis=self.axes)

    def backward(self, grad, a):
        return Roll.apply(grad, shifts=tuple(-s for s in self.shifts), axes=self.axes)


class Triangle(Function):
    """tril (``lower``) or triu of the last two axes, ``k`` diagonals above (k > 0) or below the main one."""

    k: int
    lower: bool

    def forward(self, a):
        return (self.xp.tril if self.lower else self.xp.triu)(a, k=self.k)

    def backward(self, grad, a):
        return Triangle.apply(grad, k=self.k, lower=self.lower)


class Pad(Function):
    """Constant padding: the input is written into the middle of a filled array; its gradient is that middle."""

    widths: tuple[tuple[int, int], ...]
    value: float

    def forward(self, a):
        xp = self.xp
        shape = tuple(d + before + after for d, (before, after) in zip(a.shape, self.widths))
        out = xp.full(shape, self.value, dtype=a.dtype, device=_backend.array_device(a))
        return _backend.set_at(out, self._middle(a.shape), a)

    def _middle(self, shape) -> tuple:
        return tuple(slice(before, before + d) for d, (before, _) in zip(shape, self.widths))

    def backward(self, grad, a):
        return GetItem.apply(grad, key=self._middle(a.shape))


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two axes (PyTorch's ``transpose``; the standard's is `permute_dims`)."""
    dim0, dim1 = normalize_axis(dim0, x.ndim, "transpose"), normalize_axis(dim1, x.ndim, "transpose")
    axes = list(range(x.ndim))
    axes[dim0], axes[dim1] = axes[dim1], axes[dim0]
    return permute_dims(x, tuple(axes))


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    """A new axis of length 1 at ``dim`` (the standard's `expand_dims`)."""
    return expand_dims(x, dim)


def expand(x: Tensor, *sizes: int) -> Tensor:
    """Broadcast to ``sizes``; -1 keeps that axis as it is (PyTorch's ``expand``)."""
    sizes = tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else sizes
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise ValueError(f"expand: {len(sizes)} sizes for a tensor of shape {x.shape}; give at least {x.ndim}")
    shape = tuple(x.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(sizes))
    return broadcast_to(x, shape)


def repeat(x: Tensor, *repeats: int) -> Tensor:
    """Tile ``x``: ``repeats[i]`` copies along axis i (PyTorch's ``repeat``, NumPy's ``tile``)."""
    repeats = tuple(repeats[0]) if len(repeats) == 1 and isinstance(repeats[0], (tuple, list)) else repeats
    if len(repeats) < x.ndim:
        raise ValueError(f"repeat: {len(repeats)} repeat counts for a tensor of shape {x.shape}; give one per axis")
    shape = (1,) * (len(repeats) - x.ndim) + x.shape
    interleaved = reshape(x, tuple(v for d in shape for v in (1, d)))
    spread = broadcast_to(interleaved, tuple(v for r, d in zip(repeats, shape) for v in (r, d)))
    return reshape(spread, tuple(r * d for r, d in zip(repeats, shape)))


@torch_keywords
def split(x: Tensor, split_size_or_sections: int | Sequence[int], axis: int = 0) -> tuple[Tensor, ...]:
    """Pieces along ``axis``: of ``split_size`` each (the last may be shorter), or of the given sizes."""
    axis = normalize_axis(axis, x.ndim, "split")
    length = x.shape[axis]
    if isinstance(split_size_or_sections, int):
        if split_size_or_sections <= 0:
            raise ValueError(f"split: split_size must be positive, got {split_size_or_sections}")
        sizes = [min(split_size_or_sections, length - s) for s in range(0, length, split_size_or_sections)]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != length:
            raise ValueError(f"split: sizes {sizes} add up to {sum(sizes)}, but axis {axis} has length {length}")
    pieces, start = [], 0
    for size in sizes:
        pieces.append(x[(slice(None),) * axis + (slice(start, start + size),)])
        start += size
    return tuple(pieces)


@torch_keywords
def chunk(x: Tensor, chunks: int, axis: int = 0) -> tuple[Tensor, ...]:
    """At most ``chunks`` pieces of equal length (the last may be shorter), as PyTorch's ``chunk``."""
    length = x.shape[normalize_axis(axis, x.ndim, "chunk")]
    return split(x, max(1, -(-length // chunks)), axis=axis)


@torch_keywords
def unbind(x: Tensor, axis: int = 0) -> tuple[Tensor, ...]:
    """The slices along ``axis``, that axis removed (``tuple(x)`` for axis 0)."""
    axis = normalize_axis(axis, x.ndim, "unbind")
    return tuple(x[(slice(None),) * axis + (i,)] for i in range(x.shape[axis]))


@torch_keywords
def flip(x: Tensor, axis: int | Sequence[int] | None = None) -> Tensor:
    """Reverse the order along ``axis`` (all axes when None)."""
    return Flip.apply(x, axes=normalize_axes(axis, x.ndim, "flip"))


@torch_keywords
def roll(x: Tensor, shifts: int | Sequence[int], axis: int | Sequence[int] | None = None) -> Tensor:
    """Shift elements along ``axis``, wrapping around (the flattened tensor when ``axis`` is None)."""
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    axes = None if axis is None else tuple(normalize_axis(a, x.ndim, "roll")
                                           for a in ((axis,) if isinstance(axis, int) else axis))
    if axes is None and len(shifts) != 1:
        raise ValueError(f"roll: without dims one shift rolls the flattened tensor; got shifts {shifts}")
    if axes is not None and len(axes) != len(shifts):
        raise ValueError(f"roll: {len(shifts)} shifts for {len(axes)} axes; give one shift per axis")
    return Roll.apply(x, shifts=shifts, axes=axes)


def _triangle(x: Tensor, diagonal: int, lower: bool) -> Tensor:
    if x.ndim < 2:
        raise ValueError(f"{'tril' if lower else 'triu'} needs at least 2 dimensions, got shape {x.shape}")
    return Triangle.apply(x, k=int(diagonal), lower=lower)


def tril(x: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two axes (above ``diagonal`` set to zero)."""
    return _triangle(x, diagonal, True)


def triu(x: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle of the last two axes (below ``diagonal`` set to zero)."""
    return _triangle(x, diagonal, False)


def pad(x: Tensor, pad: Sequence[int], mode: str = "constant", value: float = 0.0) -> Tensor:
    """Pad with ``value``, PyTorch's order: ``(last_before, last_after, second_last_before, ...)``.

    Only ``mode="constant"`` is implemented; the others raise.
    """
    if mode != "constant":
        raise NotImplementedError(f"pad: mode={mode!r} is not implemented; minidl pads with mode='constant'")
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(f"pad: {pad} must hold a (before, after) pair per axis, for at most {x.ndim} axes")
    if any(p < 0 for p in pad):
        raise ValueError(f"pad: negative padding {pad} (cropping) is not supported; slice the tensor instead")
    pairs = [(pad[i], pad[i + 1]) for i in range(0, len(pad), 2)]
    widths = ((0, 0),) * (x.ndim - len(pairs)) + tuple(reversed(pairs))
    return Pad.apply(x, widths=widths, value=float(value))


class Clone(Function):
    """A copy with its own memory; the gradient passes through unchanged."""

    def forward(self, a):
        return self.xp.asarray(a, copy=True)

    def backward(self, grad, a):
        return grad


def clone(x: Tensor) -> Tensor:
    """A copy of ``x`` that stays in the graph (``x.clone().detach()`` for a plain copy)."""
    return Clone.apply(x)


def view(x: Tensor, shape: Sequence[int]) -> Tensor:
    """``x.view(shape)``: a view with a new shape, or PyTorch's error where ``x``'s layout allows none."""
    if len(shape) == 1 and isinstance(shape[0], (DType, str, type)) or (
            len(shape) == 1 and hasattr(shape[0], "itemsize") and not hasattr(shape[0], "__index__")):  # a dtype
        raise TypeError(f"x.view({shape[0]!r}) reinterprets the bytes as another dtype in PyTorch; minidl has no "
                        f"such view: x.astype(...) converts the values (a new tensor)")
    shape = resolve_shape(x, shape)
    if reshape_strides(x.shape, strides_of(x), shape) is None:
        raise RuntimeError(f"view size is not compatible with input tensor's size and stride: a view of shape "
                           f"{shape} cannot be taken of this tensor of shape {x.shape} and strides "
                           f"{strides_of(x)} (at least one dimension spans across two contiguous subspaces); "
                           f"use .reshape(...) instead (it copies here)")
    return reshape(x, shape)


def contiguous(x: Tensor) -> Tensor:
    """``x`` itself when contiguous, else a contiguous copy (PyTorch's ``contiguous``)."""
    return x if is_contiguous(x) else clone(x)
