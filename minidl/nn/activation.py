"""Activation layers: the elementwise nonlinearities as Modules, with no parameters.

Between two GEMMs, a nonlinearity is what keeps a stack of layers from
collapsing into a single matrix product.
"""

from __future__ import annotations

from minidl.autograd.tensor import Tensor
from minidl.nn.module import Module
from minidl.ops.activation import elu, hardtanh, leaky_relu, silu, softplus
from minidl.ops.elementwise import sigmoid, tanh
from minidl.ops.piecewise import relu
from minidl.ops.gelu import gelu
from minidl.ops.softmax import log_softmax, softmax


class ReLU(Module):
    """``max(x, 0)`` elementwise.

    >>> import minidl as md, minidl.nn as nn
    >>> nn.ReLU()(md.tensor([-1.0, 2.0])).tolist() == [0.0, 2.0]
    True
    """

    def forward(self, x: Tensor) -> Tensor:
        return relu(x)


class Sigmoid(Module):
    """``1 / (1 + exp(-x))`` elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        return sigmoid(x)


class Tanh(Module):
    """``tanh(x)`` elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        return tanh(x)


class GELU(Module):
    """``x * Phi(x)`` (``approximate="none"``) or PyTorch's tanh formula (``approximate="tanh"``).

    >>> import minidl as md, minidl.nn as nn
    >>> round(nn.GELU()(md.tensor([1.0])).item(), 4)
    0.8413
    """

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x: Tensor) -> Tensor:
        return gelu(x, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Identity(Module):
    """Returns its input unchanged (a placeholder where a layer is optional); takes and ignores any arguments."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__()

    def forward(self, x: Tensor) -> Tensor:
        return x


class LeakyReLU(Module):
    """``x`` where positive, ``negative_slope * x`` elsewhere."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x: Tensor) -> Tensor:
        return leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class ELU(Module):
    """``x`` where positive, ``alpha * (exp(x) - 1)`` elsewhere."""

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = alpha

    def forward(self, x: Tensor) -> Tensor:
        return elu(x, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class SiLU(Module):
    """``x * sigmoid(x)``."""

    def forward(self, x: Tensor) -> Tensor:
        return silu(x)


class Softplus(Module):
    """``log(1 + exp(beta * x)) / beta``; ``x`` where ``beta * x > threshold``."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, x: Tensor) -> Tensor:
        return softplus(x, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Hardtanh(Module):
    """``x`` clipped to ``[min_val, max_val]``."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0) -> None:
        super().__init__()
        self.min_val, self.max_val = min_val, max_val

    def forward(self, x: Tensor) -> Tensor:
        return hardtanh(x, self.min_val, self.max_val)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}"


class _AlongDim(Module):
    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        if dim is None:
            raise TypeError(f"{type(self).__name__} needs the axis to normalise over: "
                            f"{type(self).__name__}(dim=1) for (N, C) scores, dim=-1 for the last axis")
        self.dim = dim

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax(_AlongDim):
    """``softmax(x, axis=dim)``: probabilities along ``dim`` (PyTorch's spelling; ``dim`` is required)."""

    def forward(self, x: Tensor) -> Tensor:
        return softmax(x, axis=self.dim)


class LogSoftmax(_AlongDim):
    """``log_softmax(x, axis=dim)``; feed it to ``NLLLoss`` (together: ``CrossEntropyLoss``)."""

    def forward(self, x: Tensor) -> Tensor:
        return log_softmax(x, axis=self.dim)
