"""Multi-head attention: project to queries, keys and values, attend per head, project back.

Four GEMMs of the model's width (the q, k, v and output projections) around
the two batched GEMMs of `minidl.nn.functional.scaled_dot_product_attention`.
The parameters are named and laid out as PyTorch's (``in_proj_weight`` of
shape (3E, E) holding the q, k, v projections one under the other,
``in_proj_bias``, ``out_proj.weight``, ``out_proj.bias``), so a PyTorch
state_dict loads as it is.
"""

from __future__ import annotations

from minidl.autograd.dtypes import as_dtype
from minidl.autograd.tensor import Tensor
from minidl.nn import init
from minidl.nn.linear import Linear
from minidl.nn.module import Module
from minidl.nn.parameter import Parameter
from minidl.ops.attention import attention
from minidl.ops.checks import expect_tensor
from minidl.ops.creation import constant_like, zeros
from minidl.ops.linalg import linear
from minidl.ops.shape import expand_dims, permute_dims, reshape, squeeze


class MultiheadAttention(Module):
    """``nn.MultiheadAttention(embed_dim, num_heads, dropout=0.0, bias=True, batch_first=False)``, as PyTorch's.

    ``forward(query, key, value, key_padding_mask=None, need_weights=True,
    attn_mask=None, average_attn_weights=True, is_causal=False)`` returns
    ``(output, weights)``; the weights are averaged over the heads unless
    ``average_attn_weights=False``, and None when ``need_weights=False``.
    As in PyTorch (and unlike ``scaled_dot_product_attention``), a boolean
    mask is True where attention is NOT allowed.

    >>> import minidl as md, minidl.nn as nn
    >>> mha = nn.MultiheadAttention(16, 4, batch_first=True)
    >>> x = md.randn(2, 5, 16)
    >>> out, weights = mha(x, x, x)
    >>> out.shape, weights.shape
    ((2, 5, 16), (2, 5, 5))
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 batch_first: bool = False, dtype=None, backend: str | None = None) -> None:
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0 or embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim ({embed_dim}) must be a positive multiple of "
                             f"num_heads ({num_heads})")
        self.embed_dim, self.num_heads, self.dropout = int(embed_dim), int(num_heads), float(dropout)
        self.head_dim, self.batch_first = embed_dim // num_heads, batch_first
        dtype = as_dtype(dtype) if dtype is not None else None
        self.in_proj_weight = Parameter(zeros((3 * embed_dim, embed_dim), dtype=dtype, backend=backend))
        self.in_proj_bias = Parameter(zeros((3 * embed_dim,), dtype=dtype, backend=backend)) if bias else None
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, dtype=dtype, backend=backend)
        init.xavier_uniform_(self.in_proj_weight)
        if bias:
            init.zeros_(self.out_proj.bias)

    def _project(self, x: Tensor, part: int) -> Tensor:
        """Project ``x`` (N, T, E) with the ``part``-th block of in_proj (0: q, 1: k, 2: v) into (N, H, T, D)."""
        rows = slice(part * self.embed_dim, (part + 1) * self.embed_dim)
        bias = self.in_proj_bias[rows] if self.in_proj_bias is not None else None
        y = linear(x, self.in_proj_weight[rows], bias)
        batch, length = x.shape[0], x.shape[1]
        return permute_dims(reshape(y, (batch, length, self.num_heads, self.head_dim)), (0, 2, 1, 3))

    def forward(self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask: Tensor | None = None,
                need_weights: bool = True, attn_mask: Tensor | None = None, average_attn_weights: bool = True,
                is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
        for tensor in (query, key, value):
            expect_tensor("MultiheadAttention", tensor)
        if query.ndim not in (2, 3) or query.shape[-1] != self.embed_dim:
            raise ValueError(f"MultiheadAttention({self.embed_dim}, {self.num_heads}): expected a query of shape "
                             f"{'(N, L, E)' if self.batch_first else '(L, N, E)'} or (L, E) with "
                             f"E={self.embed_dim}, got {query.shape}")
        if is_causal and attn_mask is None:
            raise ValueError("MultiheadAttention: is_causal=True is a hint that attn_mask is the causal mask "
                             "(as in PyTorch); pass attn_mask as well")
        unbatched = query.ndim == 2
        if unbatched:
            query, key, value = (expand_dims(t, 0) for t in (query, key, value))
            key_padding_mask = expand_dims(key_padding_mask, 0) if key_padding_mask is not None else None
        elif not self.batch_first:
            query, key, value = (permute_dims(t, (1, 0, 2)) for t in (query, key, value))
        batch, length = query.shape[0], query.shape[1]
        q, k, v = self._project(query, 0), self._project(key, 1), self._project(value, 2)
        mask = self._allowed(attn_mask, key_padding_mask, q, batch)
        dropout_p = self.dropout if self.training else 0.0
        heads, weights = attention(q, k, v, attn_mask=mask, dropout_p=dropout_p)
        output = self.out_proj(reshape(permute_dims(heads, (0, 2, 1, 3)), (batch, length, self.embed_dim)))
        if average_attn_weights:
            weights = weights.mean(axis=1)
        if unbatched:
            output, weights = squeeze(output, 0), squeeze(weights, 0)
        elif not self.batch_first:
            output = permute_dims(output, (1, 0, 2))
        return output, (weights if need_weights else None)

    def _allowed(self, attn_mask, key_padding_mask, like: Tensor, batch: int):
        """PyTorch's masks (True = blocked, or floats to add) as one mask for attention() (True = allowed)."""
        xp = like.xp
        masks = []
        if attn_mask is not None:
            attn_mask = constant_like(attn_mask, like)
            data = attn_mask.data
            if data.ndim == 3:  # (N * heads, L, S)
                data = xp.reshape(data, (batch, self.num_heads) + tuple(data.shape[1:]))
            masks.append(data)
        if key_padding_mask is not None:
            data = constant_like(key_padding_mask, like).data
            masks.append(xp.reshape(data, (batch, 1, 1, data.shape[-1])))
        if not masks:
            return None
        if all(xp.isdtype(m.dtype, "bool") for m in masks):
            allowed = xp.logical_not(masks[0])
            for m in masks[1:]:
                allowed = xp.logical_and(allowed, xp.logical_not(m))
            return Tensor._wrap(allowed, xp, like.backend)
        additive = None
        for m in masks:
            if xp.isdtype(m.dtype, "bool"):
                m = xp.where(m, xp.asarray(float("-inf"), dtype=like.data.dtype),
                             xp.asarray(0.0, dtype=like.data.dtype))
            additive = m if additive is None else additive + m
        return Tensor._wrap(xp.astype(additive, like.data.dtype), xp, like.backend)

    def extra_repr(self) -> str:
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, batch_first={self.batch_first}"
