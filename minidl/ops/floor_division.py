"""Division that rounds down: ``a // b`` (floor_divide) and ``a % b`` (remainder), as in Python and PyTorch.

Both follow the floor: ``a // b`` is the largest integer not above ``a / b``
and ``a % b = a - (a // b) * b`` takes the sign of the divisor
(``-5 % 3 == 1``), as Python, PyTorch's ``remainder`` and the Array API's
``remainder`` do (C's ``fmod`` keeps the sign of the dividend instead).

Gradients, as in PyTorch: ``a % b`` has slope 1 in ``a`` and ``-(a // b)``
in ``b`` (the quotient is a step function, constant between its jumps);
``a // b`` has none, and ``backward()`` through it says so. Integer division
by zero is an error, as in PyTorch (NumPy would give 0 and a warning).
"""

from __future__ import annotations

from typing import Any

from minidl.autograd.function import Function
from minidl.autograd.tensor import Tensor
from minidl.ops.elementwise import operands, refuse_bool
from minidl.ops.shape import sum_to


def _array(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else x


class Remainder(Function):
    def forward(self, a, b):
        return self.xp.remainder(a, b)

    def backward(self, grad, a, b):
        wants_a, wants_b = self.needs_input_grad
        # The quotient is piecewise constant, so it enters as a constant also under create_graph.
        quotient = self.xp.floor_divide(_array(a), _array(b))
        return (sum_to(grad, a.shape) if wants_a else None,
                sum_to(-(grad * quotient), b.shape) if wants_b else None)


class FloorDivide(Function):
    def forward(self, a, b):
        return self.xp.floor_divide(a, b)

    def backward(self, grad, a, b):
        raise RuntimeError("floor_divide (a // b) has no derivative (PyTorch refuses it too): its slope is 0 "
                           "between jumps and undefined at them; for a zero gradient write md.floor(a / b), "
                           "or compute the quotient under md.no_grad() or from a.detach()")


def _operands(op: str, a: Any, b: Any) -> tuple[Tensor, Tensor]:
    a, b = operands(op, a, b)
    refuse_bool(op, a)
    if not a.dtype.is_floating and bool(a.xp.any(b.data == 0)):
        raise ZeroDivisionError(f"{op}: integer division by zero (the {b.dtype.name} divisor holds 0); PyTorch "
                                f"raises too. Mask the zeros first, or divide as floats: "
                                f"a.astype(md.float32) {'//' if op == 'floor_divide' else '%'} b")
    return a, b


def remainder(a: Any, b: Any) -> Tensor:
    """``a % b``: ``a - (a // b) * b``, with the sign of ``b`` (Python's and PyTorch's ``remainder``).

    >>> import minidl as md
    >>> (md.tensor([5, -5, 7]) % 3).tolist()
    [2, 1, 1]
    """
    return Remainder.apply(*_operands("remainder", a, b))


def floor_divide(a: Any, b: Any) -> Tensor:
    """``a // b``: ``a / b`` rounded down (toward minus infinity, as Python and PyTorch since 1.13).

    >>> import minidl as md
    >>> (md.tensor([5, -5, 7]) // 2).tolist()
    [2, -3, 3]
    """
    return FloorDivide.apply(*_operands("floor_divide", a, b))
