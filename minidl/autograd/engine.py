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
    """Accumulate d(root)/d(leaf) * grad into ``leaf.grad`` for every leaf that requires grad.

    With ``create_graph`` every node runs its Tensor ``backward`` (recorded, so the
    gradient can be differentiated again).  Without it, a node that also defines
    ``backward_arrays`` runs that instead: the same formulas on raw arrays, with
    no graph node, no Tensor and no dispatch per product (6% of a 784-128-128-10
    step at batch 64 on NumPy, measured).  Both are tested to agree.
    """
    order = topological_order(root.creator)
    arrays = not create_graph  # then the gradients travel as raw arrays
    # Gradients of intermediate results, keyed by the node that made them (Function hashes by identity).
    grad_of: dict = {root.creator: grad.data if arrays else grad}
    hooks = installed_hooks()
    wrap = Function.tensor_type._wrap
    run = _step_on_arrays if arrays else _step_on_tensors
    with set_grad_enabled(create_graph):
        for node in order:
            grad_output = grad_of.pop(node, None)
            if grad_output is None:  # no path from root carries a gradient here
                continue
            if hooks:
                input_grads = run_hooked(hooks, "backward", node, lambda: run(node, grad_output))
            else:
                input_grads = run(node, grad_output)
            for tensor, input_grad in zip(node.inputs, input_grads):
                if input_grad is None or not tensor.requires_grad:
                    continue
                creator = tensor.creator
                if creator is None:
                    if arrays:
                        input_grad = wrap(input_grad, tensor.xp, tensor.backend)
                    # Summing into an earlier .grad is a Tensor op, so md.compile sees the old gradient.
                    tensor.grad = input_grad if tensor.grad is None else tensor.grad + input_grad
                else:
                    previous = grad_of.get(creator)
                    grad_of[creator] = input_grad if previous is None else previous + input_grad
    if not retain_graph:
        # Only now: a node's backward may need tensors that a later node's inputs hold.
        for node in order:
            node.release()


def _step_on_tensors(node: Function, grad: "Tensor") -> tuple:
    return node.backward(grad)


def _step_on_arrays(node: Function, grad: object) -> tuple:
    """One node's backward with arrays in and out: its ``backward_arrays``, or its Tensor backward wrapped."""
    if node.backward_arrays is not None:
        return node.backward_arrays(grad)
    first = node.inputs[0]
    grads = node.backward(Function.tensor_type._wrap(grad, node.xp, first.backend))
    return tuple(None if g is None else g.data for g in grads)
