"""Reference solution of exercises/softplus.py."""

from __future__ import annotations

from exercises import softplus as skeleton
from minidl.ops.elementwise import Sigmoid


class Softplus(skeleton.Softplus):
    def backward(self, grad, a):
        return grad * Sigmoid.apply(a)     # d/da log(1 + e^a) = e^a / (1 + e^a) = sigmoid(a)
