"""PyTorch's style of custom Function, next to minidl's own.

minidl's own style (see :mod:`minidl.autograd.function`) writes ``forward``
on raw arrays and one ``backward(self, grad, *inputs)``. PyTorch's writes two
static methods on Tensors with a context object::

    class MulConstant(md.Function):
        @staticmethod
        def forward(ctx, x, k):
            ctx.save_for_backward(x)
            ctx.k = k
            return x * k

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * ctx.k, None      # one gradient per forward argument

    y = MulConstant.apply(x, 3.0)

A Function subclass whose ``forward`` or ``backward`` is a ``@staticmethod``
is run this way: ``forward`` runs with grad mode off (as in PyTorch), and
the result is recorded as one node whose backward calls yours, on Tensors.
Unlike PyTorch, ``forward`` must return one Tensor (not a tuple).
"""

from __future__ import annotations

import weakref
from typing import Any

from minidl.autograd.grad_mode import _grad_enabled, no_grad
from minidl.autograd.tensor import Tensor


def is_ctx_style(cls: type) -> bool:
    """Whether a Function subclass is written in PyTorch's style (static forward/backward taking ctx)."""
    return any(isinstance(cls.__dict__.get(name), staticmethod) for name in ("forward", "backward"))


def check_ctx_style(cls: type) -> None:
    """Both methods static, or neither: a mix is a half-ported class, refused with both styles shown."""
    if not all(isinstance(cls.__dict__.get(name), staticmethod) for name in ("forward", "backward")):
        raise TypeError(
            f"{cls.__name__}: forward and backward must both be @staticmethod (PyTorch's style: "
            f"forward(ctx, *args) and backward(ctx, grad) on Tensors, with ctx.save_for_backward), or neither "
            f"(minidl's style: forward(self, *arrays) and backward(self, grad, *inputs))")


class Context:
    """What ``ctx`` offers in PyTorch's style: ``save_for_backward``, ``saved_tensors``, ``needs_input_grad``."""

    def __init__(self, needs_input_grad: tuple[bool, ...]) -> None:
        self.needs_input_grad = needs_input_grad
        self.saved_tensors: tuple = ()

    def save_for_backward(self, *tensors: Any) -> None:
        self.saved_tensors = tensors

    def mark_non_differentiable(self, *tensors: Any) -> None:
        """Accepted for compatibility: integer outputs carry no gradient in minidl anyway."""

    def set_materialize_grads(self, value: bool) -> None:
        """Accepted for compatibility: minidl always hands backward a gradient tensor."""


def apply_ctx_style(cls: type, node_class: type, *args: Any, **kwargs: Any) -> Tensor:
    """Run ``cls.forward(ctx, *args)`` without recording, then record one node that calls ``cls.backward``."""
    positions = [i for i, arg in enumerate(args) if isinstance(arg, Tensor)]
    if not positions:
        raise TypeError(f"{cls.__name__}.apply needs at least one minidl Tensor argument")
    ctx = Context(tuple(isinstance(arg, Tensor) and arg.requires_grad for arg in args))
    with no_grad():
        out = cls.forward(ctx, *args, **kwargs)
    if not isinstance(out, Tensor):
        raise TypeError(f"{cls.__name__}.forward returned {type(out).__name__}; in minidl a custom Function "
                        f"returns one Tensor (return several results from several Functions)")
    inputs = tuple(args[i] for i in positions)
    if not (_grad_enabled.get() and any(ctx.needs_input_grad)):
        return out
    node = object.__new__(node_class)
    node.inputs, node.xp = inputs, inputs[0].xp
    node.user_class, node.ctx, node.positions = cls, ctx, positions
    result = Tensor._wrap(out.data, out.xp, out.backend, True)
    result.creator = node
    node._output_ref = weakref.ref(result)
    return result


def backward_ctx_style(node: Any, grad: Any) -> tuple:
    """Call the user's ``backward(ctx, grad)`` on Tensors; return one gradient per Tensor input."""
    as_tensors = isinstance(grad, Tensor)
    first = node.inputs[0]
    grad_tensor = grad if as_tensors else Tensor._wrap(grad, first.xp, first.backend)
    grads = node.user_class.backward(node.ctx, grad_tensor)
    grads = grads if isinstance(grads, tuple) else (grads,)
    count = len(node.ctx.needs_input_grad)
    if len(grads) != count:
        raise TypeError(f"{node.user_class.__name__}.backward returned {len(grads)} gradients for {count} "
                        f"forward arguments; return one per argument (None for non-tensors)")
    picked = [grads[i] for i in node.positions]
    return tuple(g if g is None or as_tensors or not isinstance(g, Tensor) else g.data for g in picked)
