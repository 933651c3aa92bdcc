"""Embedding: a learned table of vectors, looked up by integer index."""

from __future__ import annotations

from typing import Any

from minidl.autograd.dtypes import as_dtype
from minidl.autograd.tensor import Tensor
from minidl.nn import init
from minidl.nn.module import Module
from minidl.nn.parameter import Parameter
from minidl.ops.creation import zeros
from minidl.ops.embedding import embedding


class Embedding(Module):
    """A (num_embeddings, embedding_dim) table; ``layer(indices)`` has shape ``indices.shape + (dim,)``.

    Initialised from N(0, 1), as in PyTorch.

    >>> import minidl as md, minidl.nn as nn
    >>> table = nn.Embedding(10, 3)
    >>> table(md.tensor([[1, 2, 2], [9, 0, 1]])).shape
    (2, 3, 3)
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, dtype=None, backend: str | None = None) -> None:
        super().__init__()
        if num_embeddings <= 0 or embedding_dim <= 0:
            raise ValueError(f"Embedding needs positive sizes, got ({num_embeddings}, {embedding_dim})")
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        dtype = as_dtype(dtype) if dtype is not None else None
        self.weight = Parameter(zeros((num_embeddings, embedding_dim), dtype=dtype, backend=backend))
        init.normal_(self.weight)

    def forward(self, indices: Any) -> Tensor:
        return embedding(indices, self.weight)

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}"
