"""Adam and AdamW: momentum on the gradient, scaled by a running estimate of its size.

With gradient ``g`` at step ``t`` (Kingma & Ba, 2015; PyTorch's conventions):

    m <- beta1 * m + (1 - beta1) * g              first moment (mean)
    v <- beta2 * v + (1 - beta2) * g * g          second moment (uncentered variance)
    p <- p - lr * (m / (1 - beta1**t)) / (sqrt(v / (1 - beta2**t)) + eps)

Weight decay differs: Adam adds ``weight_decay * p`` to ``g`` (an L2 penalty,
which the ``v`` scaling then weakens for parameters with large gradients);
AdamW shrinks the parameter directly, ``p <- p * (1 - lr * weight_decay)``,
before the step (Loshchilov & Hutter, 2019).

``amsgrad=True`` divides by the largest ``v`` seen so far instead of the
current one, so a parameter's step size never grows back (Reddi et al., 2018).
"""

from __future__ import annotations

from typing import Any, Iterable

from minidl.optim.optimizer import Optimizer


class Adam(Optimizer):
    """Adam with bias correction; ``weight_decay`` is an L2 penalty added to the gradient.

    >>> import minidl as md, minidl.nn as nn, minidl.optim as optim
    >>> w = nn.Parameter(md.tensor([1.0, -1.0]))
    >>> opt = optim.Adam([w], lr=0.1)
    >>> (w * 3.0).sum().backward()
    >>> opt.step()            # the first step moves each weight by about lr, against the gradient's sign
    >>> [round(v, 4) for v in w.tolist()]
    [0.9, -1.1]
    """

    decoupled_weight_decay = False

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False) -> None:
        name = type(self).__name__
        if lr < 0 or eps < 0 or weight_decay < 0:
            raise ValueError(f"{name}: lr, eps and weight_decay must be >= 0, got {lr}, {eps}, {weight_decay}")
        if not (0.0 <= betas[0] < 1.0 and 0.0 <= betas[1] < 1.0):
            raise ValueError(f"{name}: betas must lie in [0, 1), got {betas}")
        super().__init__(params, dict(lr=lr, betas=(float(betas[0]), float(betas[1])), eps=eps,
                                      weight_decay=weight_decay, amsgrad=bool(amsgrad)))

    def update(self) -> None:
        decoupled = self.decoupled_weight_decay
        for group in self.param_groups:
            lr, eps, weight_decay = group["lr"], group["eps"], group["weight_decay"]
            beta1, beta2 = group["betas"]
            rest1, rest2 = 1.0 - beta1, 1.0 - beta2  # once per group (inside md.compile: two operations, not 2n)
            for p, grad in self.gradients(group, l2_penalty=not decoupled):
                xp = p.xp
                if decoupled and weight_decay:
                    p.data *= 1.0 - lr * weight_decay
                state = self.state_of(p)
                step = state.get("step", 0) + 1
                if "exp_avg" not in state:
                    state["exp_avg"] = xp.zeros_like(p.data)
                    state["exp_avg_sq"] = xp.zeros_like(p.data)
                    if group["amsgrad"]:
                        state["max_exp_avg_sq"] = xp.zeros_like(p.data)
                # The moments change in place (as in PyTorch: no fresh arrays per step), and go back
                # into the state dict (an immutable array library makes new ones; see Optimizer.gradients).
                # The temporaries are the update's own, so they change in place too: four new arrays per
                # parameter instead of seven (the same operations in the same order, so the same numbers; a library
                # without in-place writes, JAX or Dask, rebinds the name instead).
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                exp_avg *= beta1
                exp_avg += rest1 * grad
                squared = grad * grad
                squared *= rest2
                exp_avg_sq *= beta2
                exp_avg_sq += squared
                state["exp_avg"], state["exp_avg_sq"], state["step"] = exp_avg, exp_avg_sq, step
                if group["amsgrad"]:
                    exp_avg_sq = state["max_exp_avg_sq"] = xp.maximum(state["max_exp_avg_sq"], exp_avg_sq)
                # m_hat / (sqrt(v_hat) + eps) with both corrections folded into scalars:
                # (m / bc1) / (sqrt(v) / sqrt(bc2) + eps) = (sqrt(bc2) / bc1) * m / (sqrt(v) + eps * sqrt(bc2)).
                # ``** 0.5``, not math.sqrt: inside md.compile the step count is a traced value, which math.sqrt
                # would read into Python.
                root_correction2 = (1.0 - beta2 ** step) ** 0.5
                step_size = lr * root_correction2 / (1.0 - beta1 ** step)
                denominator = xp.sqrt(exp_avg_sq)
                denominator += eps * root_correction2
                change = exp_avg / denominator
                change *= step_size
                p.data -= change


class AdamW(Adam):
    """Adam with decoupled weight decay: ``p <- p * (1 - lr * weight_decay)`` before each Adam step."""

    decoupled_weight_decay = True

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)
