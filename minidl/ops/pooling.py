"""Max and average pooling: im2col, then a reduction over each window (adaptive: a mean per cell).

The same patch matrix that turns a convolution into a GEMM turns pooling
into a plain ``max`` or ``mean`` along one axis, so pooling needs no
backward of its own: the reduction's gradient goes back through col2im,
which also sums the contributions of overlapping windows (stride < kernel).

At ties, max pooling gives the whole gradient to the first maximum of the
window (in row-major order), as PyTorch does; the ``max`` reduction itself
shares it between tied entries, as PyTorch's ``amax``.
"""

from __future__ import annotations

from minidl.autograd.tensor import Tensor
from minidl.ops.conv import Im2Col, Pair, check_image, window_params
from minidl.ops.reduction import ReduceExtreme
from minidl.ops.reduction import mean as reduce_mean
from minidl.ops.indexing import getitem
from minidl.ops.shape import permute_dims, reshape, stack


def _windows(op: str, x: Tensor, kernel_size: int | Pair, stride: int | Pair | None, padding: int | Pair,
             pad_value: float) -> Tensor:
    """The pooling windows of ``x`` as a (N, OH, OW, C, kh*kw) tensor."""
    check_image(op, x)
    params = window_params(op, x.shape, kernel_size, kernel_size if stride is None else stride, padding)
    (kh, kw), (ph, pw) = params["kernel"], params["padding"]
    if 2 * ph > kh or 2 * pw > kw:
        raise ValueError(f"{op}: padding {(ph, pw)} should be at most half the kernel {(kh, kw)}, "
                         "or some windows would hold padding only")
    columns = Im2Col.apply(x, **params, pad_value=pad_value)
    (oh, ow) = params["out_size"]
    return reshape(columns, (x.shape[0], oh, ow, x.shape[1], kh * kw))


def max_pool2d(x: Tensor, kernel_size: int | Pair, stride: int | Pair | None = None,
               padding: int | Pair = 0) -> Tensor:
    """The largest value of each ``kernel_size`` window of ``x`` (N, C, H, W); ``stride`` defaults to the kernel.

    Padding counts as minus infinity, so it never wins.

    >>> import minidl as md, minidl.nn.functional as F
    >>> x = md.arange(16, dtype=md.float32).reshape((1, 1, 4, 4))
    >>> F.max_pool2d(x, 2)[0, 0].tolist()
    [[5.0, 7.0], [13.0, 15.0]]
    """
    windows = _windows("max_pool2d", x, kernel_size, stride, padding, pad_value=-float("inf"))
    best = ReduceExtreme.apply(windows, axes=(windows.ndim - 1,), keepdims=False, largest=True, first=True)
    return permute_dims(best, (0, 3, 1, 2))


def avg_pool2d(x: Tensor, kernel_size: int | Pair, stride: int | Pair | None = None,
               padding: int | Pair = 0) -> Tensor:
    """The mean of each ``kernel_size`` window of ``x`` (N, C, H, W); padding counts as zeros, as in PyTorch.

    >>> import minidl as md, minidl.nn.functional as F
    >>> x = md.arange(16, dtype=md.float32).reshape((1, 1, 4, 4))
    >>> F.avg_pool2d(x, 2)[0, 0].tolist()
    [[2.5, 4.5], [10.5, 12.5]]
    """
    windows = _windows("avg_pool2d", x, kernel_size, stride, padding, pad_value=0.0)
    return permute_dims(reduce_mean(windows, axis=-1), (0, 3, 1, 2))


def _adaptive_mean(x: Tensor, axis: int, out: int) -> Tensor:
    """Average ``x`` along ``axis`` down to ``out`` cells: cell i covers [floor(i*L/out), ceil((i+1)*L/out))."""
    length = x.shape[axis]
    cells = []
    for i in range(out):
        start, end = (i * length) // out, -((-(i + 1) * length) // out)
        key = (slice(None),) * axis + (slice(start, end),)
        cells.append(reduce_mean(getitem(x, key), axis=axis))
    return stack(cells, axis=axis)


def adaptive_avg_pool2d(x: Tensor, output_size: int | tuple[int | None, int | None]) -> Tensor:
    """Average-pool ``x`` (N, C, H, W) to ``output_size`` (OH, OW), whatever H and W are (``None`` keeps a size).

    Cell ``(i, j)`` averages rows ``floor(i*H/OH)`` to ``ceil((i+1)*H/OH)``
    (and likewise columns), as in PyTorch; when OH divides H it is
    ``avg_pool2d`` with kernel and stride ``H // OH``. Done one axis at a
    time, with one slice and mean per output row or column.

    >>> import minidl as md, minidl.nn.functional as F
    >>> x = md.arange(16, dtype=md.float32).reshape((1, 1, 4, 4))
    >>> F.adaptive_avg_pool2d(x, 1)[0, 0].tolist()
    [[7.5]]
    >>> F.adaptive_avg_pool2d(x, (2, 2)).tolist() == F.avg_pool2d(x, 2).tolist()
    True
    """
    check_image("adaptive_avg_pool2d", x)
    sizes = (output_size, output_size) if isinstance(output_size, int) else tuple(output_size)
    if len(sizes) != 2:
        raise ValueError(f"adaptive_avg_pool2d: output_size must be an int or a pair, got {output_size!r}")
    sizes = tuple(x.shape[2 + i] if s is None else s for i, s in enumerate(sizes))
    for axis, size in zip((2, 3), sizes):
        if not isinstance(size, int) or not 1 <= size:
            raise ValueError(f"adaptive_avg_pool2d: output sizes must be positive integers, got {output_size!r}")
        if x.shape[axis] == 0:
            raise ValueError(f"adaptive_avg_pool2d: the input {x.shape} has an empty spatial axis")
    rows = x if sizes[0] == x.shape[2] else _adaptive_mean(x, 2, sizes[0])
    return rows if sizes[1] == x.shape[3] else _adaptive_mean(rows, 3, sizes[1])


__all__ = ["adaptive_avg_pool2d", "avg_pool2d", "max_pool2d"]
