"""Stochastic gradient descent, with momentum, Nesterov momentum and weight decay.

With gradient ``g`` of parameter ``p`` (PyTorch's conventions):

    g   <- g + weight_decay * p                       (L2 penalty)
    buf <- g                     on the first step,
    buf <- momentum * buf + (1 - dampening) * g      afterwards
    g   <- g + momentum * buf   (Nesterov)   or   g <- buf   (classic)
    p   <- p - lr * g
"""

from __future__ import annotations

from typing import Any, Iterable

from minidl.optim.optimizer import Optimizer


class SGD(Optimizer):
    """``p <- p - lr * g``, optionally with momentum, Nesterov momentum and L2 weight decay.

    >>> import minidl as md, minidl.nn as nn, minidl.optim as optim
    >>> w = nn.Parameter(md.tensor([1.0, 2.0]))
    >>> opt = optim.SGD([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> [round(v, 4) for v in w.tolist()]
    [0.8, 1.6]
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False) -> None:
        if lr < 0:
            raise ValueError(f"SGD: lr must be >= 0, got {lr}")
        if momentum < 0 or weight_decay < 0:
            raise ValueError(f"SGD: momentum and weight_decay must be >= 0, got {momentum} and {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: Nesterov momentum needs momentum > 0 and dampening = 0")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov))

    def update(self) -> None:
        for group in self.param_groups:
            lr, momentum = group["lr"], group["momentum"]
            dampening, nesterov = group["dampening"], group["nesterov"]
            for p, grad in self.gradients(group):
                if momentum:
                    state = self.state_of(p)
                    buffer = state.get("momentum_buffer")
                    if buffer is None:
                        # A copy: the buffer is updated in place from now on, and must not write into grad.
                        buffer = p.xp.asarray(grad, copy=True)
                    else:
                        buffer *= momentum
                        buffer += grad if dampening == 0.0 else (1.0 - dampening) * grad
                    state["momentum_buffer"] = buffer
                    grad = grad + momentum * buffer if nesterov else buffer
                # In place, as in PyTorch: the parameter keeps its array, which state_dict() views and a
                # captured CUDA graph rely on. A fresh array per step instead costs a few page faults
                # on NumPy and no time that stands out of the noise (measured at 784-1024-1024-10,
                # batch 512: docs/measurements/cpu-2026-12-04/gradient-release/).
                p.data -= lr * grad
