"""Activation layers: the elementwise nonlinearities as Modules, with no parameters.

Between two GEMMs, a nonlinearity is what keeps a stack of layers from
collapsing into a single matrix product.
"""

from __future__ import annotations

from minidl.autograd.tensor import Tensor
from minidl.nn.module import Module
from minidl.ops.elementwise import relu, sigmoid, tanh


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
