"""GELU, the activation of transformers: ``x * Phi(x)``, with ``Phi`` the standard normal CDF.

The Array API standard has no ``erf``, so ``Phi`` is computed from ``exp``
with the Chebyshev-fitted complementary error function of Numerical Recipes
(``erfcc``, 2nd ed., section 6.2): its relative error is below 1.2e-7 for
every x, so ``gelu`` agrees with PyTorch's exact GELU to about 1e-7 in
float64 (and to float32 rounding in float32). ``Phi`` and the density
``phi`` take thirty-four passes over the activations, the forward with the
derivative it keeps for the backward thirty-seven. Where the library has an
``erf`` of its own (CuPy, PyTorch, JAX: `minidl.backend.own_function`),
``Phi`` is ``(1 + erf(x / sqrt 2)) / 2``, as PyTorch computes it: eight
passes, and eleven for the forward.
``approximate="tanh"`` is PyTorch's tanh formula, composed from minidl's ops.
"""

from __future__ import annotations

import math

from minidl import backend as _backend
from minidl.autograd.function import Function
from minidl.autograd.tensor import Tensor
from minidl.ops.checks import expect_tensor
from minidl.ops.elementwise import Exp, tanh

_ERFC_COEFFICIENTS = (-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806,
                      0.27886807, -1.13520398, 1.48851587, -0.82215223, 0.17087277)
_INV_SQRT_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


# Elements per slice on a CPU: thirty-odd passes over a slice that stays in the cache cost less than as many
# passes over a whole activation that does not (the GELU forward of the GPT example, 393,216 float32
# values, went 4.0 -> 2.4 ms CPU time alone: docs/measurements/cpu-2026-12-03/README.txt, a live reading
# on a busy machine, not a stored benchmark). On a GPU one kernel per pass over everything is best.
_CPU_SLICE = 32768


def _slice_length(node: Function) -> int | None:
    return None if node.inputs[0].is_cuda else _CPU_SLICE  # CuPy, torch CUDA: one kernel per pass over all


def _gelu_arrays(xp, x, slice_length: int | None = None):
    """``(x * Phi(x), Phi(x) + x * phi(x))``: GELU and its derivative, ``slice_length`` elements at a time.

    Both come from the same intermediate values while a slice is in the cache:
    the derivative then costs a few passes more in the forward instead of a
    dozen over whole arrays in the backward (all at once when ``slice_length`` is None).
    """
    count = math.prod(x.shape)
    if slice_length is None or count <= slice_length:
        return _gelu_slice(xp, x)
    flat = xp.reshape(x, (-1,))
    parts = [_gelu_slice(xp, flat[start:start + slice_length]) for start in range(0, count, slice_length)]
    return (xp.reshape(xp.concat([y for y, _ in parts]), x.shape),
            xp.reshape(xp.concat([dy for _, dy in parts]), x.shape))


def _gelu_slice(xp, x):
    """GELU and its derivative on one slice (see `_normal_cdf_slice` for ``Phi``)."""
    cdf, density = _normal_cdf_slice(xp, x)
    density *= x       # x * phi(x)
    density += cdf     # Phi(x) + x * phi(x)
    cdf *= x           # x * Phi(x)
    return cdf, density


def _normal_cdf_slice(xp, x):
    """``(Phi(x), phi(x))`` on an array: ``Phi(x) = erfc(-x / sqrt 2) / 2``, relative error below 1.2e-7.

    Written with in-place updates of arrays it owns: thirty-four passes over
    the activations, and a new array for each would cost more than the passes.
    ``phi(x) = exp(-z^2) / sqrt(2 pi)`` with ``z = |x| / sqrt 2`` reuses ``z^2``.
    """
    erf = _backend.own_function(x, "erf")
    if erf is not None:
        return _normal_cdf_by_erf(xp, x, erf)
    z = xp.abs(x)
    z *= _INV_SQRT_2
    t = 0.5 * z
    t += 1.0
    t = 1.0 / t
    poly = t * _ERFC_COEFFICIENTS[-1]
    for coefficient in reversed(_ERFC_COEFFICIENTS[1:-1]):  # Horner's rule
        poly += coefficient
        poly *= t
    poly += _ERFC_COEFFICIENTS[0]
    z *= z
    poly -= z
    half_width = xp.exp(poly)  # erfc(|x| / sqrt 2) / 2 = 1 - Phi(|x|), after the two products below
    half_width *= t
    half_width *= -0.5
    half_width += 0.5          # Phi(|x|) - 1/2
    # Phi(x) = 1/2 + sign(x) (Phi(|x|) - 1/2), the sign copied from x in one pass (where() is slow on a
    # random sign pattern); Phi(|x|) - 1/2 >= 0, so copysign is the product with sign(x), but at x = 0, where
    # sign gives 0 and drops the series' 1.5e-8
    try:
        half_width = xp.copysign(half_width, x)
    except NotImplementedError:  # ndonnx names copysign but has none: the product, one pass more
        half_width = half_width * xp.sign(x)
    half_width += 0.5
    z *= -1.0
    density = xp.exp(z)
    density *= _INV_SQRT_2PI
    return half_width, density


def _normal_cdf_by_erf(xp, x, erf):
    """``(Phi(x), phi(x))`` with the library's own ``erf``: eight passes in all (four for ``Phi``)."""
    cdf = erf(x * _INV_SQRT_2)
    cdf += 1.0
    cdf *= 0.5
    square = x * x
    square *= -0.5
    density = xp.exp(square)
    density *= _INV_SQRT_2PI
    return cdf, density


def _normal_cdf_array(xp, x):
    """``Phi(x)`` on a whole array (the node of a differentiated GELU gradient; not the hot path)."""
    return _normal_cdf_slice(xp, x)[0]


def _normal_pdf(x):
    """``phi(x) = exp(-x^2 / 2) / sqrt(2 pi)``, on arrays (inside backward) or Tensors."""
    return Exp.apply(x * x * -0.5) * _INV_SQRT_2PI


class NormalCdf(Function):
    """``Phi(x)``: needed as a node only when a GELU gradient is itself differentiated."""

    def forward(self, a):
        return _normal_cdf_array(self.xp, a)

    def backward(self, grad, a):
        return grad * _normal_pdf(a)


class Gelu(Function):
    """``x * Phi(x)``; its derivative ``Phi(x) + x * phi(x)`` is computed in the forward, from the same slices."""

    def forward(self, a):
        y, self.derivative = _gelu_arrays(self.xp, a, _slice_length(self))
        return y

    def backward(self, grad, a):
        derivative = self.saved_like(grad, self.derivative, lambda: NormalCdf.apply(a) + a * _normal_pdf(a))
        return grad * derivative


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """Gaussian Error Linear Unit, as ``torch.nn.functional.gelu``: exact (``"none"``) or ``"tanh"``.

    >>> import minidl as md, minidl.nn.functional as F
    >>> [round(v, 4) for v in F.gelu(md.tensor([-1.0, 0.0, 1.0])).tolist()]
    [-0.1587, 0.0, 0.8413]
    """
    expect_tensor("gelu", x)
    if not x.dtype.is_floating:
        raise TypeError(f"gelu needs a floating-point tensor, got {x.dtype.name}")
    if approximate == "none":
        return Gelu.apply(x)
    if approximate == "tanh":
        inner = (x + x * x * x * 0.044715) * math.sqrt(2.0 / math.pi)
        return x * 0.5 * (tanh(inner) + 1.0)
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
