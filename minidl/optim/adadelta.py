"""Adadelta: Adagrad's per-coordinate scaling with running averages, and steps in the parameter's own units.

With gradient ``g`` (plus ``weight_decay * p``) (Zeiler, 2012; PyTorch's conventions):

    v     <- rho * v + (1 - rho) * g * g                    running mean of g squared
    delta <- sqrt(u + eps) / sqrt(v + eps) * g              u: running mean of past steps squared
    u     <- rho * u + (1 - rho) * delta * delta
    p     <- p - lr * delta                                 (lr defaults to 1.0: the ratio sets the size)
"""

from __future__ import annotations

from typing import Any, Iterable

from minidl.optim.optimizer import Optimizer


class Adadelta(Optimizer):
    """Adadelta; ``lr`` (default 1.0) only scales the step that the two running averages set.

    >>> import minidl as md, minidl.nn as nn, minidl.optim as optim
    >>> w = nn.Parameter(md.tensor([1.0, -1.0], dtype=md.float64))
    >>> opt = optim.Adadelta([w])
    >>> (w * 3.0).sum().backward()
    >>> opt.step()            # the first steps are tiny: sqrt(eps) / sqrt(0.1 * g * g) * g
    >>> [round(v, 6) for v in w.tolist()]
    [0.996838, -1.003162]
    """

    def __init__(self, params: Iterable[Any], lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0.0) -> None:
        if min(lr, eps, weight_decay) < 0:
            raise ValueError(f"Adadelta: lr, eps and weight_decay must be >= 0, got {lr}, {eps}, {weight_decay}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Adadelta: rho must lie in [0, 1], got {rho}")
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay))

    def update(self) -> None:
        for group in self.param_groups:
            rho, eps = group["rho"], group["eps"]
            for p, grad in self.gradients(group):
                xp, state = p.xp, self.state_of(p)
                if "square_avg" not in state:
                    state["step"] = 0
                    state["square_avg"] = xp.zeros_like(p.data)
                    state["acc_delta"] = xp.zeros_like(p.data)
                state["step"] += 1
                square_avg = state["square_avg"] = rho * state["square_avg"] + (1.0 - rho) * (grad * grad)
                delta = xp.sqrt(state["acc_delta"] + eps) / xp.sqrt(square_avg + eps) * grad
                state["acc_delta"] = rho * state["acc_delta"] + (1.0 - rho) * (delta * delta)
                p.data -= group["lr"] * delta
