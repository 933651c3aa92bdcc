"""More elementwise functions: trigonometry, rounding, ``erf``, ``log1p``/``expm1``, and the NaN/inf tests.

Each is one Function with its derivative beside it. Rounding and ``sign`` are
flat almost everywhere, so their gradient is zero (as in PyTorch). ``erf`` is
not in the Array API standard: it is computed here from standard functions
(see `Erf`).
"""

from __future__ import annotations

import math

from minidl import backend as _backend
from minidl.autograd.function import Function
from minidl.autograd.tensor import Tensor
from minidl.ops.elementwise import Exp, floating


class Sin(Function):
    def forward(self, a):
        return self.xp.sin(a)

    def backward(self, grad, a):
        return grad * Cos.apply(a)


class Cos(Function):
    def forward(self, a):
        return self.xp.cos(a)

    def backward(self, grad, a):
        return -(grad * Sin.apply(a))


class Log1p(Function):
    def forward(self, a):
        return self.xp.log1p(a)

    def backward(self, grad, a):
        return grad / (a + 1.0)


class Expm1(Function):
    def forward(self, a):
        return self.xp.expm1(a)

    def backward(self, grad, a):
        return grad * (self.output_like(grad) + 1.0)


class Rsqrt(Function):
    def forward(self, a):
        return 1.0 / self.xp.sqrt(a)

    def backward(self, grad, a):
        y = self.output_like(grad)
        return grad * -0.5 * y * y * y


class Flat(Function):
    """sign, floor, ceil, round: piecewise constant, so the gradient is zero (PyTorch's choice too)."""

    how: str

    def forward(self, a):
        return getattr(self.xp, self.how)(a)

    def backward(self, grad, a):
        return grad * 0.0


_TWO_OVER_ROOT_PI = 2.0 / math.sqrt(math.pi)
_SERIES_TERMS = 50        # Taylor series for |x| <= 3: the last term is below 1e-18
_FRACTION_DEPTH = 60      # continued fraction of erfc for |x| > 3: converged far below 1e-16


class Erf(Function):
    """The error function ``2/sqrt(pi) * integral_0^x exp(-t^2) dt``.

    The standard has no ``erf``, so it is built from ``+ * / exp``: the Taylor
    series ``2/sqrt(pi) * sum (-1)^n x^(2n+1) / (n! (2n+1))`` for ``|x| <= 3``
    and, beyond, ``1 - erfc(|x|)`` with erfc's continued fraction
    ``exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))``.
    In float64 it agrees with ``math.erf`` to 9e-14 on [-8, 8] (tests check
    1e-12); float32 and float16 input is summed in float64 (the series adds
    terms up to about 170 that cancel), so it is correct to their rounding.

    That is a few hundred passes over the array. A library with an ``erf`` of its
    own (CuPy, PyTorch, JAX: the ``erf`` of its `Library` record) runs that
    instead, one kernel, with that library's accuracy (PyTorch's float32 erf
    is within 3.3e-8 of ``math.erf``, JAX's within 3e-7, a few float32
    steps); NumPy, array-api-strict and Dask use the series.
    """

    def forward(self, a):
        own = _backend.own_function(a, "erf")
        if own is not None:
            return own(a)
        xp = self.xp
        if a.dtype != xp.float64:  # the series cancels terms near 170 at |x| = 3: sum them in float64
            return xp.astype(self._erf(xp.astype(a, xp.float64)), a.dtype)
        return self._erf(a)

    def _erf(self, a):
        xp = self.xp
        small = xp.clip(a, -3.0, 3.0)
        square = small * small
        term, series = small, small
        for n in range(1, _SERIES_TERMS):
            term = term * -square / float(n)
            series = series + term / float(2 * n + 1)
        series = series * _TWO_OVER_ROOT_PI
        large = xp.maximum(xp.abs(a), 3.0)
        fraction = large
        for k in range(_FRACTION_DEPTH, 0, -1):
            fraction = large + (k / 2.0) / fraction
        erfc = xp.exp(-large * large) / (math.sqrt(math.pi) * fraction)
        tail = xp.sign(a) * (1.0 - erfc)
        return xp.where(xp.abs(a) <= 3.0, series, tail)

    def backward(self, grad, a):
        return grad * _TWO_OVER_ROOT_PI * Exp.apply(-(a * a))


def sin(x: Tensor) -> Tensor:
    return Sin.apply(x)


def cos(x: Tensor) -> Tensor:
    return Cos.apply(x)


def log1p(x: Tensor) -> Tensor:
    """``log(1 + x)``, accurate for tiny ``x``."""
    return Log1p.apply(x)


def expm1(x: Tensor) -> Tensor:
    """``exp(x) - 1``, accurate for tiny ``x``."""
    return Expm1.apply(x)


def rsqrt(x: Tensor) -> Tensor:
    """``1 / sqrt(x)``."""
    return Rsqrt.apply(x)


def erf(x: Tensor) -> Tensor:
    """The error function (see `Erf` for how, and how accurate); integers give the default float, as in PyTorch."""
    return Erf.apply(floating(x))


def sign(x: Tensor) -> Tensor:
    """-1, 0 or 1 by the sign of each element (gradient zero)."""
    return Flat.apply(x, how="sign")


def floor(x: Tensor) -> Tensor:
    return Flat.apply(x, how="floor")


def ceil(x: Tensor) -> Tensor:
    return Flat.apply(x, how="ceil")


def round(x: Tensor) -> Tensor:  # noqa: A001 - md.round, as torch.round (halves to even)
    """Round to the nearest integer, halves to even (as PyTorch and NumPy)."""
    return Flat.apply(x, how="round")


def _test(name: str):
    def test(x: Tensor) -> Tensor:
        return Tensor._wrap(getattr(x.xp, name)(x.data), x.xp, x.backend)

    test.__name__ = name
    test.__doc__ = f"Elementwise ``{name}``: a boolean tensor, with no gradient."
    return test


isnan = _test("isnan")
isinf = _test("isinf")
isfinite = _test("isfinite")
