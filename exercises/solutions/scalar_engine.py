"""Reference solution of exercises/scalar_engine.py."""

from __future__ import annotations

from exercises.scalar_engine import Value

__all__ = ["Value", "topological_order", "backward"]


def topological_order(root: Value) -> list[Value]:
    order, seen = [], set()
    stack = [(root, False)]                 # iterative: deep graphs need no recursion
    while stack:
        value, parents_done = stack.pop()
        if parents_done:
            order.append(value)             # after all of its parents
            continue
        if id(value) in seen:
            continue
        seen.add(id(value))
        stack.append((value, True))
        stack.extend((parent, False) for parent in value.parents if id(parent) not in seen)
    return order[::-1]


def backward(root: Value) -> None:
    order = topological_order(root)
    for value in order:
        value.grad = 0.0
    root.grad = 1.0
    for value in order:
        if value.local_backward is not None:
            value.local_backward()
