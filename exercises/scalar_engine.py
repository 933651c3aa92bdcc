"""Exercise, chapter "Autograd from scratch": the backward walk of a scalar engine.

``Value`` is given: each operation records its parents and a ``local_backward``
that adds its share of ``out.grad`` into its parents' ``grad``.  Write:

- ``topological_order(root)``: every Value ``root`` depends on (``root`` included),
  each one exactly once, ``root`` first and every value before all of its parents,
  without recursion (the page's recursive version fails on a graph 5,000 deep: use a stack);
- ``backward(root)``: set every ``grad`` in the graph to 0, ``root.grad`` to 1, then
  run each ``local_backward`` in that order.

Test: ``MINIDL_EXERCISES=skeletons python -m pytest exercises/tests/test_scalar_engine.py -q``
"""

from __future__ import annotations

import math


class Value:
    """A number that remembers the values it was computed from."""

    def __init__(self, data: float, parents: tuple = (), op: str = "") -> None:
        self.data = float(data)
        self.grad = 0.0
        self.parents = parents
        self.op = op
        self.local_backward = None

    def __repr__(self) -> str:
        return f"Value({self.data:.4f}, grad={self.grad:.4f})"

    @staticmethod
    def lift(other) -> "Value":
        return other if isinstance(other, Value) else Value(other)

    def __add__(self, other) -> "Value":
        other = Value.lift(other)
        out = Value(self.data + other.data, (self, other), "+")

        def local_backward():
            self.grad += out.grad
            other.grad += out.grad
        out.local_backward = local_backward
        return out

    def __mul__(self, other) -> "Value":
        other = Value.lift(other)
        out = Value(self.data * other.data, (self, other), "*")

        def local_backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out.local_backward = local_backward
        return out

    def exp(self) -> "Value":
        out = Value(math.exp(self.data), (self,), "exp")

        def local_backward():
            self.grad += out.data * out.grad
        out.local_backward = local_backward
        return out

    def tanh(self) -> "Value":
        out = Value(math.tanh(self.data), (self,), "tanh")

        def local_backward():
            self.grad += (1.0 - out.data * out.data) * out.grad
        out.local_backward = local_backward
        return out

    def __neg__(self) -> "Value":
        return self * -1.0

    def __sub__(self, other) -> "Value":
        return self + (-Value.lift(other))

    def __radd__(self, other) -> "Value":
        return self + other

    def __rmul__(self, other) -> "Value":
        return self * other


def topological_order(root: Value) -> list[Value]:
    """Every value ``root`` depends on, once each, ``root`` first, each before its parents."""
    raise NotImplementedError("exercise scalar_engine: write topological_order (a depth-first post-order, reversed)")


def backward(root: Value) -> None:
    """Fill in ``grad`` (d root / d value) of every value in ``root``'s graph."""
    raise NotImplementedError("exercise scalar_engine: write backward (zero, seed root.grad = 1, walk the order)")
