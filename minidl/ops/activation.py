"""The smooth and leaky nonlinearities: leaky_relu, elu, silu, softplus, hardtanh.

(``relu`` lives in `minidl.ops.piecewise`, ``sigmoid`` and ``tanh`` in `minidl.ops.elementwise`.)
Each backward is one formula that runs on arrays and, under
``create_graph``, on Tensors; only the piecewise-linear ones (leaky_relu,
hardtanh) keep a constant mask, since their second derivative is zero.
"""

from __future__ import annotations

import math

from minidl.autograd.tensor import Tensor
from minidl.autograd.function import Function
from minidl.ops.checks import expect_tensor
from minidl.ops.elementwise import Exp, Sigmoid, Where
from minidl.ops.piecewise import Masked


class LeakyReLU(Masked):
    negative_slope: float

    def forward(self, a):
        xp = self.xp
        positive = a > 0
        self.mask = xp.where(positive, xp.ones_like(a), xp.full_like(a, self.negative_slope))
        return xp.where(positive, a, a * self.negative_slope)


class Hardtanh(Masked):
    low: float
    high: float

    def forward(self, a):
        xp = self.xp
        # The gradient flows strictly inside (low, high), as in PyTorch.
        self.mask = xp.astype(xp.logical_and(a > self.low, a < self.high), a.dtype)
        return xp.clip(a, self.low, self.high)


class ELU(Function):
    alpha: float

    def forward(self, a):
        xp = self.xp
        return xp.where(a > 0, a, self.alpha * xp.expm1(xp.minimum(a, 0.0)))

    def backward(self, grad, a):
        return Where.apply(a > 0, grad, grad * self.alpha * Exp.apply(a))


class SiLU(Function):
    def forward(self, a):
        return a * Sigmoid.forward(self, a)  # the stable sigmoid's forward, on this node's xp

    def backward(self, grad, a):
        s = Sigmoid.apply(a)
        return grad * s * (1.0 + a * (1.0 - s))


class Softplus(Function):
    beta: float
    threshold: float

    def forward(self, a):
        xp = self.xp
        z = a * self.beta
        smooth = (xp.maximum(z, 0.0) + xp.log1p(xp.exp(-xp.abs(z)))) / self.beta  # no overflow for any z
        return xp.where(z > self.threshold, a, smooth)

    def backward(self, grad, a):
        z = a * self.beta
        return Where.apply(z > self.threshold, grad, grad * Sigmoid.apply(z))


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """``x`` where positive, ``negative_slope * x`` elsewhere.

    >>> import minidl as md, minidl.nn.functional as F
    >>> F.leaky_relu(md.tensor([-2.0, 3.0]), 0.25).tolist()
    [-0.5, 3.0]
    """
    expect_tensor("leaky_relu", x)
    return LeakyReLU.apply(x, negative_slope=float(negative_slope))


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """``x`` where positive, ``alpha * (exp(x) - 1)`` elsewhere (Clevert et al., 2016)."""
    expect_tensor("elu", x)
    return ELU.apply(x, alpha=float(alpha))


def silu(x: Tensor) -> Tensor:
    """``x * sigmoid(x)`` (also called swish)."""
    expect_tensor("silu", x)
    return SiLU.apply(x)


def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta * x)) / beta``, a smooth relu; ``x`` itself where ``beta * x > threshold``."""
    expect_tensor("softplus", x)
    if beta == 0 or not math.isfinite(beta):
        raise ValueError(f"softplus: beta must be a finite non-zero number, got {beta}")
    return Softplus.apply(x, beta=float(beta), threshold=float(threshold))


def hardtanh(x: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """``x`` clipped to ``[min_val, max_val]``; no gradient flows where it was clipped."""
    expect_tensor("hardtanh", x)
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) must not exceed max_val ({max_val})")
    return Hardtanh.apply(x, low=float(min_val), high=float(max_val))
