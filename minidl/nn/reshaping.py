"""Reshaping layers: ``Flatten`` and ``Unflatten``, PyTorch's spellings of a reshape inside a model."""

from __future__ import annotations

from minidl.autograd.tensor import Tensor
from minidl.nn.module import Module
from minidl.ops.checks import expect_tensor
from minidl.ops.shape import reshape


class Flatten(Module):
    """Merge the axes ``start_dim`` to ``end_dim`` (default: all but the batch axis) into one.

    >>> import minidl as md, minidl.nn as nn
    >>> nn.Flatten()(md.ones((8, 16, 2, 2))).shape
    (8, 64)
    >>> nn.Flatten(0, 1)(md.ones((8, 16, 2, 2))).shape
    (128, 2, 2)
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Tensor) -> Tensor:
        expect_tensor("Flatten", x)
        start, end = self.start_dim, self.end_dim
        if not (-x.ndim <= start < x.ndim and -x.ndim <= end < x.ndim) or start % x.ndim > end % x.ndim:
            raise ValueError(f"Flatten(start_dim={start}, end_dim={end}) does not fit an input of shape {x.shape} "
                             f"({x.ndim} dimensions)")
        start, end = start % x.ndim, end % x.ndim
        merged = 1
        for size in x.shape[start:end + 1]:
            merged *= size
        return reshape(x, x.shape[:start] + (merged,) + x.shape[end + 1:])

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split axis ``dim`` into ``unflattened_size`` (the inverse of Flatten).

    >>> import minidl as md, minidl.nn as nn
    >>> nn.Unflatten(1, (16, 2, 2))(md.ones((8, 64))).shape
    (8, 16, 2, 2)
    """

    def __init__(self, dim: int, unflattened_size: tuple[int, ...]) -> None:
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, x: Tensor) -> Tensor:
        expect_tensor("Unflatten", x)
        if not -x.ndim <= self.dim < x.ndim:
            raise ValueError(f"Unflatten(dim={self.dim}) does not fit an input of shape {x.shape}")
        dim, sizes = self.dim % x.ndim, self.unflattened_size
        known = 1
        for size in sizes:
            known *= size if size != -1 else 1
        if sizes.count(-1) > 1 or (x.shape[dim] % known if -1 in sizes else x.shape[dim] != known):
            raise ValueError(f"Unflatten: axis {dim} of shape {x.shape} has length {x.shape[dim]}, which does not "
                             f"split into {sizes}")
        return reshape(x, x.shape[:dim] + sizes + x.shape[dim + 1:])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
