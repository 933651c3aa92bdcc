"""Adagrad: each coordinate's step shrinks with the sum of all its squared gradients so far.

With gradient ``g`` (plus ``weight_decay * p``) at step ``t`` (Duchi et al., 2011; PyTorch's conventions):

    s <- s + g * g                                   (s starts at initial_accumulator_value)
    p <- p - lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps)

Rarely updated coordinates keep large steps; frequent ones slow down, forever.
"""

from __future__ import annotations

from typing import Any, Iterable

from minidl.optim.optimizer import Optimizer


class Adagrad(Optimizer):
    """Adagrad with PyTorch's ``lr_decay``, ``weight_decay`` and ``initial_accumulator_value``.

    >>> import minidl as md, minidl.nn as nn, minidl.optim as optim
    >>> w = nn.Parameter(md.tensor([1.0, -1.0]))
    >>> opt = optim.Adagrad([w], lr=0.1)
    >>> (w * 3.0).sum().backward()
    >>> opt.step()            # first step: g / sqrt(g * g) = sign(g), times lr
    >>> [round(v, 4) for v in w.tolist()]
    [0.9, -1.1]
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10) -> None:
        if min(lr, lr_decay, weight_decay, initial_accumulator_value, eps) < 0:
            raise ValueError("Adagrad: lr, lr_decay, weight_decay, initial_accumulator_value and eps must be "
                             f">= 0, got {lr}, {lr_decay}, {weight_decay}, {initial_accumulator_value}, {eps}")
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps))

    def update(self) -> None:
        for group in self.param_groups:
            for p, grad in self.gradients(group):
                xp, state = p.xp, self.state_of(p)
                if "sum" not in state:
                    state["step"] = 0
                    state["sum"] = xp.full_like(p.data, group["initial_accumulator_value"])
                state["step"] += 1
                step_size = group["lr"] / (1.0 + (state["step"] - 1) * group["lr_decay"])
                total = state["sum"] = state["sum"] + grad * grad
                p.data -= step_size * (grad / (xp.sqrt(total) + group["eps"]))
