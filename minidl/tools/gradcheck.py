"""Check autograd against finite differences, in float64.

For a function ``f`` and random weights ``w`` of ``f``'s output shape, the
scalar ``L = sum(f(x) * w)`` has the gradient autograd computes; each entry
is compared with the central difference ``(L(x + eps) - L(x - eps)) / 2eps``.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy

from minidl import backend as _backend
from minidl.autograd.dtypes import float64
from minidl.autograd.grad_mode import no_grad
from minidl.autograd.tensor import Tensor


class GradcheckError(AssertionError):
    """Autograd and finite differences disagree."""


def gradcheck(fn: Callable[..., Tensor], inputs: Sequence[Any], eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-4, seed: int = 0) -> bool:
    """True if ``fn``'s autograd gradients match finite differences for every float input.

    Floating-point inputs are copied to float64 leaves that require grad;
    others (integer indices, booleans) pass through unchanged.  Raises
    `GradcheckError` naming the input, the element and both values.

    >>> import minidl as md
    >>> md.gradcheck(lambda x: (x * x).sum(), [md.tensor([1.0, -2.0])])
    True
    """
    leaves = [_as_leaf(value) for value in inputs]
    checked = [i for i, t in enumerate(leaves) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck needs at least one floating-point tensor among the inputs")
    output = fn(*leaves)
    if not isinstance(output, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {type(output).__name__}")
    weights_host = numpy.random.default_rng(seed).standard_normal(output.shape)
    weights = Tensor._wrap(_backend.from_host(weights_host, output.backend, output.data.dtype), output.xp,
                           output.backend)
    try:
        (output * weights).sum().backward()
    except ValueError as error:  # the engine refuses a gradient whose shape or dtype is not its input's
        raise GradcheckError(f"gradcheck: {error}") from None
    for index in checked:
        _compare(fn, leaves, index, weights, eps, atol, rtol)
    return True


def _as_leaf(value: Any) -> Any:
    if isinstance(value, Tensor) and value.dtype.is_floating:
        return value.detach().astype(float64).requires_grad_(True)  # detached first: astype records no node
    return value


def _scalar(fn, leaves, weights) -> float:
    with no_grad():
        return float((fn(*leaves) * weights).sum().item())


def _compare(fn, leaves, index, weights, eps, atol, rtol) -> None:
    leaf = leaves[index]
    grad = leaf.grad
    if grad is not None and (grad.shape != leaf.shape or grad.dtype is not leaf.dtype):
        raise GradcheckError(f"gradcheck: input {index} has shape {leaf.shape} and dtype {leaf.dtype.name}, but "
                             f"autograd gave a gradient of shape {grad.shape} and dtype {grad.dtype.name}")
    analytic = grad.numpy().reshape(-1) if grad is not None else None
    host = leaf.numpy().copy().reshape(-1)
    numeric = host * 0.0
    for k in range(host.size):
        original = host[k]
        values = []
        for shift in (eps, -eps):
            host[k] = original + shift
            probe = Tensor._wrap(_backend.from_host(host.reshape(leaf.shape), leaf.backend, leaf.data.dtype),
                                 leaf.xp, leaf.backend)
            trial = list(leaves)
            trial[index] = probe
            values.append(_scalar(fn, trial, weights))
        host[k] = original
        numeric[k] = (values[0] - values[1]) / (2 * eps)
    if analytic is None:
        analytic = numeric * 0.0
    error = abs(analytic - numeric)
    bad = error > atol + rtol * abs(numeric)
    if bad.any():
        k = int(bad.argmax())
        raise GradcheckError(
            f"gradcheck: input {index} (shape {leaf.shape}), flat element {k}: autograd gives {analytic[k]:.8g}, "
            f"finite differences give {numeric[k]:.8g} (max abs error {error.max():.3g})"
        )
