"""Embedding: row ``i`` of a weight table for each index ``i``.

The forward is a gather (``take`` along axis 0).  Its gradient is a
scatter-add: a row picked by several indices receives the sum of their
gradients.  The Array API has no scatter-add, so this goes through
[`minidl.ops.indexing.take_rows()`][minidl.ops.indexing.take_rows], whose backward calls
`minidl.backend.scatter_add_rows()`: ``numpy.add.at`` on NumPy,
``cupyx.scatter_add`` on CuPy, and elsewhere the one-hot GEMM
``one_hot(index).T @ grad`` (an embedding lookup *is* a matrix product
with a one-hot matrix; the gather is just the fast way to compute it).
"""

from __future__ import annotations

from typing import Any

from minidl.autograd.function import check_same_backend
from minidl.autograd.tensor import Tensor
from minidl.ops.creation import constant_like
from minidl.ops.indexing import take_rows
from minidl.ops.shape import reshape


def embedding(indices: Any, weight: Tensor) -> Tensor:
    """Rows of ``weight`` (num_embeddings, dim) at integer ``indices`` of any shape: shape ``indices.shape + (dim,)``.

    >>> import minidl as md, minidl.nn.functional as F
    >>> table = md.tensor([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]])
    >>> F.embedding(md.tensor([[2, 0], [1, 1]]), table).shape
    (2, 2, 2)
    """
    if weight.ndim != 2:
        raise ValueError(f"embedding expects a weight of shape (num_embeddings, dim), got {weight.shape}")
    indices = constant_like(indices, weight)
    check_same_backend("embedding", (indices, weight))
    xp = indices.xp
    if not xp.isdtype(indices.data.dtype, "integral"):
        raise TypeError(f"embedding indices must be integers, got {indices.dtype.name}; "
                        "convert with .astype(md.int64)")
    flat = reshape(indices, (-1,))
    rows = weight.shape[0]
    # One yes/no read (the same answer for every valid batch, so md.compile's guard on it holds); the range
    # itself is read only to word the error.
    if flat.shape[0] and not bool(xp.all((flat.data >= 0) & (flat.data < rows))):
        low, high = int(xp.min(flat.data)), int(xp.max(flat.data))
        if low < 0 or high >= rows:
            raise IndexError(f"embedding: indices must lie in [0, {rows - 1}] for a table of {rows} rows "
                             f"(weight {weight.shape}), found indices from {low} to {high}")
    return reshape(take_rows(weight, flat), indices.shape + (weight.shape[1],))
