"""Division that rounds: ``a // b`` (floor_divide), ``a % b`` (remainder), ``x.div(y, rounding_mode=...)``.

``//`` and ``%`` follow the floor: ``a // b`` is the largest integer not above ``a / b``
and ``a % b = a - (a // b) * b`` takes the sign of the divisor
(``-5 % 3 == 1``), as Python, PyTorch's ``remainder`` and the Array API's
``remainder`` do (C's ``fmod`` keeps the sign of the dividend instead).

Gradients, as in PyTorch: ``a % b`` has slope 1 in ``a`` and ``-(a // b)``
in ``b`` (the quotient is a step function, constant between its jumps);
``a // b`` has none, and ``backward()`` through it says so. One difference:
for ``number % tensor`` PyTorch has no derivative at all, and minidl gives
``-(number // tensor)``. PyTorch's ``x.div(y, rounding_mode="floor")`` and
``"trunc"`` (toward zero) have a zero gradient, as there.

Integer division by zero is an error, as PyTorch's on the CPU (NumPy would
give 0 and a warning). A number divisor is checked on the host for free; a
divisor array only where its library computes eagerly on the CPU (one read
of a yes/no; inside ``md.compile`` that read is a guard, so a zero divisor in
a later call stops the replay with a CompileError that points here). On a GPU
the check would wait for the device at every ``%``, and PyTorch's CUDA
kernels do not check either; Dask would compute its whole graph: there the
result for a zero divisor is the library's.
"""

from __future__ import annotations

from typing import Any

from minidl import backend as _backend
from minidl.autograd.function import Function
from minidl.autograd.tensor import Tensor
from minidl.ops.elementwise import divide, operands, refuse_bool
from minidl.ops.shape import sum_to


class Remainder(Function):
    def forward(self, a, b):
        return self.xp.remainder(a, b)

    def backward(self, grad, a, b):
        wants_a, wants_b = self.needs_input_grad
        if not wants_b:
            return sum_to(grad, a.shape) if wants_a else None, None
        # The quotient is piecewise constant: a constant from the inputs' arrays, also under create_graph.
        dividend, divisor = self.inputs
        quotient = self.xp.floor_divide(dividend._data, divisor._data)
        return sum_to(grad, a.shape) if wants_a else None, sum_to(-(grad * quotient), b.shape)


class FloorDivide(Function):
    def forward(self, a, b):
        return self.xp.floor_divide(a, b)

    def backward(self, grad, a, b):
        raise RuntimeError("floor_divide (a // b) has no derivative (PyTorch refuses it too): its slope is 0 "
                           "between jumps and undefined at them; for a zero gradient write md.floor(a / b), "
                           "or compute the quotient under md.no_grad() or from a.detach()")


class RoundedQuotient(Function):
    """``x.div(y, rounding_mode=...)``: ``"floor"`` (as ``//``) or ``"trunc"`` (toward zero); a zero gradient."""

    mode: str

    def forward(self, a, b):
        xp = self.xp
        if self.mode == "floor":
            return xp.floor_divide(a, b)
        if xp.isdtype(a.dtype, "integral"):  # C's integer division: the quotient of the sizes, signed
            return xp.sign(a) * xp.sign(b) * xp.floor_divide(xp.abs(a), xp.abs(b))
        return xp.trunc(a / b)

    def backward(self, grad, a, b):
        wants_a, wants_b = self.needs_input_grad
        zero = grad * 0.0
        return (sum_to(zero, a.shape) if wants_a else None, sum_to(zero, b.shape) if wants_b else None)


class IntegerDivisionByZero(ZeroDivisionError, RuntimeError):
    """An integer ``%`` or ``//`` by zero (a RuntimeError too, as PyTorch raises one)."""


def _operands(op: str, a: Any, b: Any) -> tuple[Tensor, Tensor]:
    divisor = b
    a, b = operands(op, a, b)
    refuse_bool(op, a)
    if not a.dtype.is_floating and a.size and b.size and _holds_zero(divisor, b):
        raise IntegerDivisionByZero(
            f"{op}: integer division by zero (the {b.dtype.name} divisor holds 0); PyTorch raises too. Mask the "
            f"zeros first, or divide as floats (a.astype(md.float32) first), where a zero divisor gives inf or nan")
    return a, b


def _holds_zero(divisor: Any, b: Tensor) -> bool:
    """Whether an integer divisor holds a 0, where the host can tell without waiting for a device."""
    if isinstance(divisor, (int, float)):  # a Python number (bool included)
        return divisor == 0
    if _backend.library(b.backend).lazy or b.is_cuda:
        return False
    return bool(b.xp.any(b._data == 0))  # a tensor, list, NumPy scalar or array, made a tensor by operands()


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


def divide_rounded(a: Any, b: Any, rounding_mode: str | None = None) -> Tensor:
    """PyTorch's ``torch.div(a, b, rounding_mode=...)``: true division (None), ``"floor"`` or ``"trunc"``.

    >>> import minidl as md
    >>> md.tensor([7, -7]).div(2, rounding_mode="trunc").tolist()
    [3, -3]
    """
    if rounding_mode is None:
        return divide(a, b)
    if rounding_mode not in ("floor", "trunc"):
        raise ValueError(f"div: rounding_mode must be None, 'floor' or 'trunc' (as in PyTorch), got {rounding_mode!r}")
    return RoundedQuotient.apply(*_operands(f"div(rounding_mode={rounding_mode!r})", a, b), mode=rounding_mode)
