"""Elementwise operations: each class holds its forward and its backward side by side.

Binary ops broadcast like the Array API; the gradient of a broadcast input
is summed back to that input's shape (``sum_to``). The piecewise-linear ops
(``relu``, ``abs``, ``clip``, ``maximum``, ``minimum``) are in
`minidl.ops.piecewise`.
"""

from __future__ import annotations

from typing import Any

from minidl.autograd.autocast import _autocast_dtype
from minidl.autograd.dtypes import DEFAULT_FLOAT, as_dtype, bool_, dtype_of, to_backend_dtype
from minidl.autograd.function import Function, check_same_backend
from minidl.autograd.tensor import Tensor
from minidl.ops.checks import broadcast_shapes
from minidl.ops.creation import constant_like
from minidl.ops.shape import sum_to


def operands(op: str, a: Any, b: Any) -> tuple[Tensor, Tensor]:
    """Make both operands Tensors on one backend, with one dtype, and check they broadcast."""
    if isinstance(a, Tensor):
        b = constant_like(b, a)
    elif isinstance(b, Tensor):
        a = constant_like(a, b)
    else:
        raise TypeError(f"{op} needs at least one minidl Tensor, got {type(a).__name__} and {type(b).__name__}")
    if a.backend != b.backend:
        check_same_backend(op, (a, b))
    data_a, data_b = a._data, b._data  # (not .data: a property, and this runs for every binary op)
    if data_a.dtype != data_b.dtype:
        a, b = _promote(op, a, b)
    if data_a.shape != data_b.shape:
        broadcast_shapes(op, data_a.shape, data_b.shape)
    return a, b


_FLOAT_WIDTH = {"float16": 16, "float32": 32, "float64": 64}


def _promote(op: str, a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """Integers and booleans meet floats as floats; two float widths mix only under md.autocast() (to the wider)."""
    kind_a, kind_b = dtype_of(a._data.dtype), dtype_of(b._data.dtype)
    if kind_a.is_floating and kind_b.is_floating:
        if _autocast_dtype.get() is not None:  # as PyTorch promotes: float16 with float32 is float32
            wider = kind_a if _FLOAT_WIDTH[kind_a.name] > _FLOAT_WIDTH[kind_b.name] else kind_b
            return astype(a, wider), astype(b, wider)
        raise TypeError(
            f"{op} got a {kind_a.name} tensor and a {kind_b.name} tensor; minidl does not mix float widths "
            f"silently: convert one with .astype(md.{kind_a.name}) or .astype(md.{kind_b.name})"
        )
    if _rank(kind_a) >= _rank(kind_b):
        return a, astype(b, kind_a)
    return astype(a, kind_b), b


# PyTorch's order for two non-float dtypes: the result is the wider (uint8 + int32 -> int32, bool + int -> int).
_RANKS = {"bool": 0, "uint8": 1, "int32": 2, "int64": 3}


def _rank(dtype) -> int:
    return 4 if dtype.is_floating else _RANKS[dtype.name]


def floating(x: Tensor) -> Tensor:
    """``x`` itself if floating point, else ``x`` as the default float (float32), as PyTorch does for exp, log, /."""
    if not isinstance(x, Tensor) or x.dtype.is_floating:  # (a raw array: apply() explains the refusal)
        return x
    return astype(x, DEFAULT_FLOAT)


def _is_bool(value: Any) -> bool:
    return type(value) is bool or (isinstance(value, Tensor) and value.dtype is bool_)


def refuse_bool(op: str, x: Tensor) -> None:
    """Raise PyTorch's refusal of an arithmetic op on a bool tensor, with the conversion to write instead."""
    if x.dtype is bool_:
        raise TypeError(f"{op} of a bool tensor is not defined (PyTorch refuses it too); "
                        f"convert first with .astype(md.int64) or .astype(md.float32)")


class Add(Function):
    def forward(self, a, b):
        return a + b

    def backward(self, grad, a, b):
        return sum_to(grad, a.shape), sum_to(grad, b.shape)


class Subtract(Function):
    def forward(self, a, b):
        return a - b

    def backward(self, grad, a, b):
        wants_a, wants_b = self.needs_input_grad
        return (sum_to(grad, a.shape) if wants_a else None,
                sum_to(-grad, b.shape) if wants_b else None)


class Multiply(Function):
    def forward(self, a, b):
        return a * b

    def backward(self, grad, a, b):
        wants_a, wants_b = self.needs_input_grad
        return (sum_to(grad * b, a.shape) if wants_a else None,
                sum_to(grad * a, b.shape) if wants_b else None)


class Divide(Function):
    def forward(self, a, b):
        return a / b

    def backward(self, grad, a, b):
        wants_a, wants_b = self.needs_input_grad
        return (sum_to(grad / b, a.shape) if wants_a else None,
                sum_to(-(grad * self.output_like(grad)) / b, b.shape) if wants_b else None)


class Pow(Function):
    """``a ** b``; at base 0 the gradients are PyTorch's: d/da is 0 where b == 0, d/db is 0 where b >= 0."""

    def forward(self, a, b):
        xp = self.xp
        if xp.isdtype(a.dtype, "real floating"):
            # 0/1 constants that move the formulas off 0 ** -1 and log(0) where PyTorch's answer is 0
            self.exponent_zero = xp.astype(b == 0, a.dtype)
            self.base_zero = xp.astype(xp.logical_and(a == 0, b >= 0), a.dtype)
        return xp.pow(a, b)

    def backward(self, grad, a, b):
        wants_a, wants_b = self.needs_input_grad
        return (sum_to(grad * b * a ** (b - 1 + self.exponent_zero), a.shape) if wants_a else None,
                sum_to(grad * self.output_like(grad) * Log.apply(a + self.base_zero), b.shape) if wants_b else None)


class Negative(Function):
    def forward(self, a):
        return -a

    def backward(self, grad, a):
        return -grad


class Exp(Function):
    def forward(self, a):
        return self.xp.exp(a)

    def backward(self, grad, a):
        return grad * self.output_like(grad)


class Log(Function):
    def forward(self, a):
        return self.xp.log(a)

    def backward(self, grad, a):
        return grad / a


class Sqrt(Function):
    def forward(self, a):
        return self.xp.sqrt(a)

    def backward(self, grad, a):
        return grad / (2.0 * self.output_like(grad))


class Tanh(Function):
    def forward(self, a):
        return self.xp.tanh(a)

    def backward(self, grad, a):
        y = self.output_like(grad)
        return grad * (1.0 - y * y)


class Sigmoid(Function):
    def forward(self, a):
        # exp of a negative number only: no overflow at large |a|.
        xp = self.xp
        e = xp.exp(-xp.abs(a))
        return xp.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))

    def backward(self, grad, a):
        y = self.output_like(grad)
        return grad * y * (1.0 - y)


class Where(Function):
    def forward(self, condition, a, b):
        return self.xp.where(condition, a, b)

    def backward(self, grad, condition, a, b):
        wants_a, wants_b = self.needs_input_grad[1:]
        zero = grad * 0.0
        return (None,
                sum_to(Where.apply(condition, grad, zero), a.shape) if wants_a else None,
                sum_to(Where.apply(condition, zero, grad), b.shape) if wants_b else None)


class AsType(Function):
    dtype: Any

    def forward(self, a):
        return self.xp.astype(a, to_backend_dtype(self.xp, self.dtype))

    def backward(self, grad, a):
        source = self.inputs[0].dtype
        return AsType.apply(grad, dtype=source) if source.is_floating else None


# ---- the functions users call ----------------------------------------------------------

def add(a: Any, b: Any) -> Tensor:
    """``a + b`` with broadcasting (of two bool tensors: logical or, as in PyTorch)."""
    a, b = operands("add", a, b)
    if a.dtype is bool_:
        return Tensor._wrap(a.xp.logical_or(a.data, b.data), a.xp, a.backend)
    return Add.apply(a, b)


def subtract(a: Any, b: Any) -> Tensor:
    """``a - b`` with broadcasting."""
    if _is_bool(a) or _is_bool(b):
        raise TypeError("subtracting bool tensors is not defined (PyTorch refuses it too); use a != b (exclusive or) "
                        "or convert with .astype(md.int64)")
    return Subtract.apply(*operands("subtract", a, b))


def multiply(a: Any, b: Any) -> Tensor:
    """``a * b`` with broadcasting (of two bool tensors: logical and, as in PyTorch)."""
    a, b = operands("multiply", a, b)
    if a.dtype is bool_:
        return Tensor._wrap(a.xp.logical_and(a.data, b.data), a.xp, a.backend)
    return Multiply.apply(a, b)


def divide(a: Any, b: Any) -> Tensor:
    """``a / b`` with broadcasting; integers divide as the default float (true division, as in PyTorch)."""
    a, b = operands("divide", a, b)
    return Divide.apply(floating(a), floating(b))


def pow(a: Any, b: Any) -> Tensor:
    """``a ** b`` with broadcasting."""
    return Pow.apply(*operands("pow", a, b))


def negative(a: Tensor) -> Tensor:
    refuse_bool("negative", a)
    return Negative.apply(a)


def exp(x: Tensor) -> Tensor:
    """e to the power ``x``, elementwise."""
    return Exp.apply(floating(x))


def log(x: Tensor) -> Tensor:
    """Natural logarithm, elementwise (``-inf`` at 0, as in the standard)."""
    return Log.apply(floating(x))


def sqrt(x: Tensor) -> Tensor:
    return Sqrt.apply(floating(x))


def tanh(x: Tensor) -> Tensor:
    return Tanh.apply(floating(x))


def sigmoid(x: Tensor) -> Tensor:
    """``1 / (1 + exp(-x))``, computed without overflow for large ``|x|``."""
    return Sigmoid.apply(floating(x))


def where(condition: Any, a: Any, b: Any) -> Tensor:
    """``a`` where ``condition`` is true, else ``b`` (gradients flow to the chosen side).

    ``a`` and ``b`` may be numbers, both of them too (``md.where(x > 0, 1.0, 0.0)``, float32 then).
    """
    if not isinstance(a, Tensor) and not isinstance(b, Tensor) and isinstance(condition, Tensor):
        kind = DEFAULT_FLOAT if isinstance(a, float) or isinstance(b, float) else "int64"  # as PyTorch
        a = Tensor._wrap(condition.xp.asarray(a, dtype=to_backend_dtype(condition.xp, kind)), condition.xp,
                         condition.backend)
    a, b = operands("where", a, b)
    condition = constant_like(condition, a)
    if not condition.xp.isdtype(condition.data.dtype, "bool"):
        raise TypeError(f"where needs a boolean condition, got {condition.dtype.name}; compare first (x > 0)")
    broadcast_shapes("where", condition.data.shape, broadcast_shapes("where", a.data.shape, b.data.shape))
    return Where.apply(condition, a, b)


def astype(x: Tensor, dtype: Any) -> Tensor:
    """``x`` converted to ``dtype`` (differentiable between float types)."""
    target = to_backend_dtype(x.xp, dtype)
    if x.data.dtype == target:
        return x
    if not as_dtype(dtype).is_floating:  # an integer or boolean result has no gradient (as in PyTorch)
        return Tensor._wrap(x.xp.astype(x.data, target), x.xp, x.backend)
    return AsType.apply(x, dtype=dtype)


def _compare(name: str):
    def compare(a: Any, b: Any) -> Tensor:
        a, b = operands(name, a, b)
        if a.dtype is bool_ and name not in ("equal", "not_equal"):  # the standard orders numbers only
            a, b = astype(a, "uint8"), astype(b, "uint8")
        return Tensor._wrap(getattr(a.xp, name)(a.data, b.data), a.xp, a.backend)

    compare.__name__ = name
    compare.__doc__ = f"Elementwise ``{name}``: a boolean tensor, with no gradient."
    return compare


less = _compare("less")
less_equal = _compare("less_equal")
greater = _compare("greater")
greater_equal = _compare("greater_equal")
equal = _compare("equal")
not_equal = _compare("not_equal")
