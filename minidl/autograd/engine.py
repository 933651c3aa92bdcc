"""Reverse-mode differentiation: walk the graph backwards in topological order.

The walk is iterative (an explicit stack), so a graph 10,000 nodes deep needs
no Python recursion.  Gradients of intermediate results live in a dict for
the length of one ``backward()``; only leaves (tensors that no op created)
keep theirs, in ``.grad``, accumulating over calls as in PyTorch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from minidl.autograd.function import Function, installed_hooks, run_hooked, set_grad_enabled

if TYPE_CHECKING:
    from minidl.autograd.tensor import Tensor


def topological_order(root: Function) -> list[Function]:
    """Every node that ``root`` depends on, each after all the nodes that use it."""
    post_order: list[Function] = []
    visited: set[Function] = set()
    stack: list[tuple[Function, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            post_order.append(node)
            continue
        if node in visited:
            continue
        visited.add(node)
        if node.released:
            raise RuntimeError(
                f"this graph was freed by an earlier backward() (at node {node.name}); "
                "pass backward(retain_graph=True) the first time to call backward twice"
            )
        stack.append((node, True))
        for tensor in node.inputs:
            creator = tensor.creator
            if creator is not None and creator not in visited:
                stack.append((creator, False))
    post_order.reverse()
    return post_order


def backward(root: "Tensor", grad: "Tensor", retain_graph: bool, create_graph: bool) -> None:
    """Accumulate d(root)/d(leaf) * grad into ``leaf.grad`` for every leaf that requires grad."""
    order = topological_order(root.creator)
    # Gradients of intermediate results, keyed by the node that made them (Function hashes by identity).
    grad_of: dict[Function, Tensor] = {root.creator: grad}
    hooks = installed_hooks()
    with set_grad_enabled(create_graph):
        for node in order:
            grad_output = grad_of.pop(node, None)
            if grad_output is None:  # no path from root carries a gradient here
                continue
            if hooks:
                input_grads = run_hooked(hooks, "backward", node, lambda: node.backward(grad_output))
            else:
                input_grads = node.backward(grad_output)
            for tensor, input_grad in zip(node.inputs, input_grads):
                if input_grad is None or not tensor.requires_grad:
                    continue
                creator = tensor.creator
                if creator is None:
                    tensor.grad = input_grad if tensor.grad is None else tensor.grad + input_grad
                else:
                    previous = grad_of.get(creator)
                    grad_of[creator] = input_grad if previous is None else previous + input_grad
    if not retain_graph:
        # Only now: a node's backward may need tensors that a later node's inputs hold.
        for node in order:
            node.release()
