"""Scaled dot-product attention: two batched GEMMs with a masked softmax between them.

For queries ``q`` (..., L, E), keys ``k`` (..., S, E) and values ``v`` (..., S, Ev):

    scores  = q @ k^T * scale            (..., L, S)   GEMM 1: every query against every key
    weights = softmax(masked(scores))    (..., L, S)   each row sums to 1 over the keys it may see
    output  = weights @ v                (..., L, Ev)  GEMM 2: a weighted average of the values

The leading axes (batch, heads) make both products batched GEMMs, and their
backward is four more batched GEMMs (``MatMul``'s). The mask is a boolean
array: where it is False the score becomes ``-inf``, so its weight is exactly 0.
Scaling, the boolean (or causal) mask and the softmax are one node,
`AttentionSoftmax`, with one backward: the step between the two GEMMs costs
a few passes over the scores instead of a node and a pass for each.
"""

from __future__ import annotations

import math

from minidl.autograd.autocast import _autocast_dtype
from minidl.autograd.dtypes import bool_
from minidl.autograd.function import Function
from minidl.autograd.tensor import Tensor
from minidl.ops.autocasting import cast_to_float32
from minidl.ops.checks import expect_tensor
from minidl.ops.creation import constant_like, ones
from minidl.ops.dropout import dropout
from minidl.ops.layout import tril
from minidl.ops.linalg import matmul
from minidl.ops.reduction import Sum
from minidl.ops.shape import matrix_transpose, sum_to
from minidl.ops.softmax import softmax


class AttentionSoftmax(Function):
    """``softmax(where(mask, scores * scale, -inf))`` over the last axis, one node.

    Inputs: the scores and, optionally, a boolean mask (True: may attend), which gets no gradient.
    The gradient of the scores is softmax's, ``y * (g - sum(g * y))``, times ``scale``;
    a masked position has ``y = 0``, so its gradient is 0 as the mask's ``where`` would give.
    """

    scale: float

    def forward(self, scores, mask=None):
        xp = self.xp
        shifted = scores * self.scale
        if mask is not None:
            shifted = xp.where(mask, shifted, xp.asarray(float("-inf"), dtype=shifted.dtype))
        shifted -= xp.max(shifted, axis=-1, keepdims=True)
        weights = xp.exp(shifted)
        weights /= xp.sum(weights, axis=-1, keepdims=True)
        return weights

    def backward(self, grad, scores, mask=None):
        y = self.output_like(grad)
        grad_scores = sum_to(y * (grad - Sum.apply(grad * y, axes=(-1,), keepdims=True)) * self.scale, scores.shape)
        return (grad_scores, None) if len(self.inputs) == 2 else (grad_scores,)


def causal_mask(like: Tensor, queries: int, keys: int) -> Tensor:
    """A (queries, keys) boolean Tensor, True on and below the diagonal (PyTorch's top-left alignment)."""
    return tril(ones((queries, keys), dtype=bool_, backend=like.backend))


def attention(q: Tensor, k: Tensor, v: Tensor, attn_mask: Tensor | None = None, dropout_p: float = 0.0,
              is_causal: bool = False, scale: float | None = None) -> tuple[Tensor, Tensor]:
    """``(output, weights)`` of scaled dot-product attention; see `scaled_dot_product_attention`."""
    for name, tensor in (("query", q), ("key", k), ("value", v)):
        expect_tensor("scaled_dot_product_attention", tensor)
        if tensor.ndim < 2:
            raise ValueError(f"scaled_dot_product_attention: {name} needs shape (..., length, features), "
                             f"got {tensor.shape}")
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ValueError(f"scaled_dot_product_attention: query {q.shape}, key {k.shape} and value {v.shape} "
                         f"do not fit: query and key need the same last axis, key and value the same length")
    if is_causal and attn_mask is not None:
        raise ValueError("scaled_dot_product_attention: give attn_mask or is_causal=True, not both (as PyTorch)")
    queries, keys = q.shape[-2], k.shape[-2]
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else float(scale)
    scores = matmul(q, matrix_transpose(k))
    if is_causal:
        attn_mask = causal_mask(q, queries, keys)
    if attn_mask is not None:
        attn_mask = constant_like(attn_mask, q)
    if attn_mask is not None and not attn_mask.xp.isdtype(attn_mask.data.dtype, "bool"):
        weights = softmax(scores * scale + attn_mask, axis=-1)  # a float mask is added to the scores, as PyTorch
    else:
        if not scores.dtype.is_floating:
            raise TypeError(f"scaled_dot_product_attention needs floating-point inputs, got {scores.dtype.name}")
        if _autocast_dtype.get() is not None:  # the softmax in float32 under md.autocast(), as softmax()
            (scores,) = cast_to_float32(scores)
        masks = () if attn_mask is None else (attn_mask,)
        weights = AttentionSoftmax.apply(scores, *masks, scale=scale)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p)
    return matmul(weights, v), weights


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask: Tensor | None = None,
                                 dropout_p: float = 0.0, is_causal: bool = False,
                                 scale: float | None = None) -> Tensor:
    """``softmax(q @ k^T * scale + mask) @ v``, as ``torch.nn.functional.scaled_dot_product_attention``.

    ``attn_mask`` is boolean (True: the query may attend to that key) or
    float (added to the scores); ``is_causal=True`` lets query ``i`` see keys
    ``0..i``; ``scale`` defaults to ``1 / sqrt(E)``. Dropout on the weights is
    applied whenever ``dropout_p > 0``, as in PyTorch (pass 0 in evaluation).

    >>> import minidl as md, minidl.nn.functional as F
    >>> q = k = v = md.randn(2, 4, 5, 8)          # (batch, heads, length, head size)
    >>> F.scaled_dot_product_attention(q, k, v, is_causal=True).shape
    (2, 4, 5, 8)
    """
    return attention(query, key, value, attn_mask, dropout_p, is_causal, scale)[0]
