"""``md.diagonal``: the diagonal of two axes, a view (PyTorch's ``torch.diagonal``).

The standard has no diagonal of a batch, so the two axes go last, their
``n x m`` plane is flattened, and one ``take`` picks positions
``(i + row0) * m + (i + col0)``. The gradient puts the values back on the
diagonal of a zero plane: a ``take`` from the diagonal, kept by a mask
(gather, not scatter, so every backend can do it).
"""

from __future__ import annotations

from minidl.autograd.function import Function
from minidl.autograd.tensor import Tensor
from minidl.backend import array_device
from minidl.ops.checks import normalize_axis
from minidl.ops.views import make_view, view_op


def _plane(offset: int, rows: int, cols: int) -> tuple[int, int, int]:
    """Where the diagonal starts (row, col) and how long it is."""
    row0, col0 = (0, offset) if offset >= 0 else (-offset, 0)
    return row0, col0, max(0, min(rows - row0, cols - col0))


@view_op
class Diagonal(Function):
    """The diagonal of axes ``axis1`` and ``axis2`` at ``offset``, as a new last axis (a view op)."""

    offset: int
    axis1: int
    axis2: int

    def _last_two(self, ndim: int) -> tuple[int, ...]:
        rest = tuple(a for a in range(ndim) if a not in (self.axis1, self.axis2))
        return rest + (self.axis1, self.axis2)

    def forward(self, a):
        xp = self.xp
        plane = xp.permute_dims(a, self._last_two(a.ndim))
        rows, cols = plane.shape[-2], plane.shape[-1]
        row0, col0, length = _plane(self.offset, rows, cols)
        flat = xp.reshape(plane, plane.shape[:-2] + (rows * cols,))
        positions = xp.arange(length, dtype=xp.int64, device=array_device(plane))
        return xp.take(flat, (positions + row0) * cols + positions + col0, axis=flat.ndim - 1)

    def backward(self, grad, a):
        return DiagonalEmbed.apply(grad, offset=self.offset, axis1=self.axis1, axis2=self.axis2,
                                   shape=tuple(a.shape))

    def write_into(self, base, value):
        xp = self.xp
        order = self._last_two(base.ndim)
        plane = xp.permute_dims(base, order)
        rows, cols = plane.shape[-2], plane.shape[-1]
        row0, col0, length = _plane(self.offset, rows, cols)
        if length == 0:
            return base
        row = xp.reshape(xp.arange(rows, dtype=xp.int64, device=array_device(base)), (rows, 1))
        col = xp.reshape(xp.arange(cols, dtype=xp.int64, device=array_device(base)), (1, cols))
        on_diagonal = (col - row) == (col0 - row0)
        which = xp.reshape(xp.clip(row - row0, 0, length - 1) + 0 * col, (rows * cols,))
        spread = xp.take(value, which, axis=value.ndim - 1)
        spread = xp.reshape(spread, value.shape[:-1] + (rows, cols))
        written = xp.where(on_diagonal, spread, plane)
        inverse = [0] * len(order)
        for position, axis in enumerate(order):
            inverse[axis] = position
        return xp.permute_dims(written, tuple(inverse))

    def view_strides(self, shape, strides):
        rest = tuple(s for a, s in enumerate(strides) if a not in (self.axis1, self.axis2))
        return rest + (strides[self.axis1] + strides[self.axis2],)


class DiagonalEmbed(Function):
    """Zeros of ``shape`` with ``a`` on the diagonal: the gradient of Diagonal."""

    offset: int
    axis1: int
    axis2: int
    shape: tuple[int, ...]

    def _diagonal(self) -> Diagonal:
        step = object.__new__(Diagonal)
        step.offset, step.axis1, step.axis2, step.xp = self.offset, self.axis1, self.axis2, self.xp
        return step

    def forward(self, a):
        return self._diagonal().write_into(self.xp.zeros(self.shape, dtype=a.dtype, device=array_device(a)), a)

    def backward(self, grad, a):
        return Diagonal.apply(grad, offset=self.offset, axis1=self.axis1, axis2=self.axis2)


def diagonal(x: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal of axes ``dim1`` and ``dim2`` (``offset`` above it when positive, below when negative),
    as a new last axis; a view of ``x``.

    >>> import minidl as md
    >>> m = md.tensor([[1.0, 2.0], [3.0, 4.0]])
    >>> md.diagonal(m).tolist(), md.diagonal(m, 1).tolist()
    ([1.0, 4.0], [2.0])
    """
    if x.ndim < 2:
        raise IndexError(f"diagonal needs at least 2 dimensions, got shape {x.shape}")
    axis1, axis2 = normalize_axis(dim1, x.ndim, "diagonal"), normalize_axis(dim2, x.ndim, "diagonal")
    if axis1 == axis2:
        raise ValueError(f"diagonal: dim1 and dim2 are both axis {axis1}; give two different axes")
    return make_view(Diagonal, x, offset=int(offset), axis1=axis1, axis2=axis2)
