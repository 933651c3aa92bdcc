"""Helpers for training loops: gradient clipping."""

from __future__ import annotations

from typing import Iterable

from minidl.autograd.tensor import Tensor


def clip_grad_norm_(parameters: Iterable[Tensor] | Tensor, max_norm: float, eps: float = 1e-6) -> Tensor:
    """Scale all gradients together so their joint L2 norm is at most ``max_norm``; return the norm before.

    The norm is that of all gradients concatenated into one vector. The
    scale ``min(1, max_norm / (norm + eps))`` is applied as an array
    operation, so on a GPU nothing waits for the norm to reach the host.

    >>> import minidl as md, minidl.nn as nn
    >>> w = nn.Parameter(md.zeros((2,)))
    >>> w.grad = md.tensor([3.0, 4.0])
    >>> nn.utils.clip_grad_norm_([w], max_norm=1.0).item()
    5.0
    >>> [round(g, 4) for g in w.grad.tolist()]
    [0.6, 0.8]
    """
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    with_grad = [p for p in parameters if p.grad is not None]
    if max_norm <= 0:
        raise ValueError(f"clip_grad_norm_: max_norm must be positive, got {max_norm}")
    if not with_grad:
        raise ValueError("clip_grad_norm_: no parameter has a gradient; call loss.backward() first")
    first = with_grad[0]
    xp = first.xp
    squares = [xp.sum(p.grad.data * p.grad.data) for p in with_grad]
    total = xp.sqrt(squares[0] if len(squares) == 1 else xp.sum(xp.stack(squares)))
    scale = xp.minimum(max_norm / (total + eps), xp.ones_like(total))
    for p in with_grad:
        p.grad = Tensor._wrap(p.grad.data * xp.astype(scale, p.grad.data.dtype), xp, p.backend)
    return Tensor._wrap(total, xp, first.backend)
