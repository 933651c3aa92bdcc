"""Activation layers: the elementwise nonlinearities as Modules, with no parameters.

Between two GEMMs, a nonlinearity is what keeps a stack of layers from
collapsing into a single matrix product.
"""

from __future__ import annotations

from minidl.autograd.tensor import Tensor
from minidl.nn.module import Module
from minidl.ops.elementwise import relu, sigmoid, tanh
from minidl.ops.gelu import gelu


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
