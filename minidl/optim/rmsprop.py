"""RMSprop: divide each gradient by a running root-mean-square of its recent values.

With gradient ``g`` (plus ``weight_decay * p``; Hinton's lecture 6e, PyTorch's conventions):

    v <- alpha * v + (1 - alpha) * g * g                 running mean of g squared
    centered:  m <- alpha * m + (1 - alpha) * g,  scale = sqrt(v - m * m) + eps
    otherwise:                                     scale = sqrt(v) + eps
    momentum:  buf <- momentum * buf + g / scale,  p <- p - lr * buf
    otherwise:                                     p <- p - lr * g / scale
"""

from __future__ import annotations

from typing import Any, Iterable

from minidl.optim.optimizer import Optimizer


class RMSprop(Optimizer):
    """RMSprop with optional momentum and centering (``centered=True`` divides by an estimate of the variance).

    >>> import minidl as md, minidl.nn as nn, minidl.optim as optim
    >>> w = nn.Parameter(md.tensor([1.0, -1.0]))
    >>> opt = optim.RMSprop([w], lr=0.01)
    >>> (w * 3.0).sum().backward()
    >>> opt.step()            # first step: g / sqrt(0.01 * g * g) = 10 * sign(g), times lr
    >>> [round(v, 4) for v in w.tolist()]
    [0.9, -1.1]
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False) -> None:
        if min(lr, eps, weight_decay, momentum) < 0:
            raise ValueError(f"RMSprop: lr, eps, weight_decay and momentum must be >= 0, "
                             f"got {lr}, {eps}, {weight_decay}, {momentum}")
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"RMSprop: alpha must lie in [0, 1], got {alpha}")
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                      centered=bool(centered)))

    def update(self) -> None:
        for group in self.param_groups:
            lr, alpha, eps, momentum = group["lr"], group["alpha"], group["eps"], group["momentum"]
            for p, grad in self.gradients(group):
                xp, state = p.xp, self.state_of(p)
                if "square_avg" not in state:
                    state["step"] = 0
                    state["square_avg"] = xp.zeros_like(p.data)
                    if momentum:
                        state["momentum_buffer"] = xp.zeros_like(p.data)
                    if group["centered"]:
                        state["grad_avg"] = xp.zeros_like(p.data)
                square_avg = state["square_avg"] = alpha * state["square_avg"] + (1.0 - alpha) * (grad * grad)
                if group["centered"]:
                    grad_avg = state["grad_avg"] = alpha * state["grad_avg"] + (1.0 - alpha) * grad
                    scale = xp.sqrt(square_avg - grad_avg * grad_avg) + eps
                else:
                    scale = xp.sqrt(square_avg) + eps
                state["step"] += 1
                if momentum:
                    buffer = state["momentum_buffer"] = momentum * state["momentum_buffer"] + grad / scale
                    p.data -= lr * buffer
                else:
                    p.data -= lr * (grad / scale)
