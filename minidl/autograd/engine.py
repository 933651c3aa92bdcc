"""Reverse-mode differentiation: walk the graph backwards in topological order.

The walk is iterative (an explicit stack), so a graph 10,000 nodes deep needs
no Python recursion.  Gradients of intermediate results live in a dict for
the length of one ``backward()``; only leaves (tensors that no op created)
keep theirs, in ``.grad``, accumulating over calls as in PyTorch.

Each node's one backward formula runs on raw arrays here, unless
``create_graph`` asks for a gradient that is itself differentiable: then it
runs on Tensors and records its own graph (see [`minidl.autograd.function`][minidl.autograd.function]).
"""

from __future__ import annotations

import contextvars
import weakref
from typing import TYPE_CHECKING, Any, Callable

from minidl.autograd.dtypes import dtype_of, same_dtype
from minidl.autograd.grad_mode import _grad_enabled, _raw_namespace
from minidl.autograd.hooks import installed_hooks, run_hooked

# Functions to call once the backward() now running has accumulated every leaf gradient (see queue_callback).
_final_callbacks: contextvars.ContextVar[list | None] = contextvars.ContextVar("minidl_final_callbacks", default=None)

if TYPE_CHECKING:
    from minidl.autograd.function import Function
    from minidl.autograd.tensor import Tensor


# How many in-place changes (minidl.ops.inplace) this process has made: while 0, as in most training
# loops, neither Function.apply nor backward() spends time on version counters.
inplace_changes = [0]


# For a tensor changed in place by a recorded op: its earlier values, by version, each a Tensor
# that still has the old array and creator (held weakly: the graph that needs one keeps it alive).
# Keyed by id() (Tensor's == is elementwise, so no WeakKeyDictionary); an entry goes when its tensor does.
_earlier_values: dict[int, dict[int, Any]] = {}


def remember_earlier_value(tensor: "Tensor", earlier: "Tensor", hold: bool = False) -> None:
    """Keep ``earlier`` (``tensor`` before an in-place change) for the ops that used that version.

    Weakly, as the new node that used ``earlier`` keeps it alive; with ``hold``, while ``tensor`` lives
    (a change that made no node: ``zero_()`` inside a graph, a view whose base it was).
    """
    versions = _earlier_values.get(id(tensor))
    if versions is None:
        versions = _earlier_values[id(tensor)] = {}
        weakref.finalize(tensor, _earlier_values.pop, id(tensor), None)
    versions[earlier._version] = (lambda: earlier) if hold else weakref.ref(earlier)


def _as_used(node: "Function") -> tuple:
    """``node.inputs``, each tensor changed in place since the node used it replaced by its earlier value."""
    versions, inputs, resolved = node.input_versions, node.inputs, None
    for index, tensor in enumerate(inputs):
        used = versions[index] if versions else 0
        if tensor._version != used:
            ref = _earlier_values.get(id(tensor), {}).get(used)
            earlier = ref() if ref is not None else None
            if earlier is None:  # changed without a record (under no_grad, by an optimizer, through .data)
                raise_modified(node, f"input {index}", tensor)
            resolved = list(inputs) if resolved is None else resolved
            resolved[index] = earlier
    return inputs if resolved is None else tuple(resolved)


def mark_changed_in_place(tensor: "Tensor") -> None:
    """Count a change made to ``tensor``'s array behind autograd's back (an optimizer's step), as PyTorch does."""
    tensor._version += 1
    inplace_changes[0] += 1


def topological_order(root: "Function", check_versions: bool = False) -> list["Function"]:
    """Every node that ``root`` depends on, each after all the nodes that use it.

    With ``check_versions``, a node whose input was changed in place since it ran is
    pointed at the earlier value it used (or refuses, where none was kept).
    """
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
        if check_versions:  # (inline: this runs for every node of every backward once an optimizer stepped)
            versions = node.input_versions
            if versions is None:
                for tensor in node.inputs:
                    if tensor._version:
                        node.inputs = _as_used(node)
                        break
            elif versions != tuple([tensor._version for tensor in node.inputs]):
                node.inputs = _as_used(node)
        for tensor in node.inputs:
            creator = tensor.creator
            if creator is not None and creator not in visited:
                stack.append((creator, False))
    post_order.reverse()
    return post_order


def backward(root: "Tensor", grad: "Tensor", retain_graph: bool, create_graph: bool) -> None:
    """Accumulate d(root)/d(leaf) * grad into ``leaf.grad`` for every leaf that requires grad."""
    check_versions = inplace_changes[0] != 0
    order = topological_order(root.creator, check_versions)
    # Gradients of intermediate results, keyed by the node that made them (Function hashes by identity).
    grad_of: dict = {root.creator: grad if create_graph else grad._data}
    hooks = installed_hooks()
    # Nodes whose gradient in grad_of is an array only the engine holds (a sum it made, or a fresh array
    # from an op that says so): later gradients are added into it in place, without a new array each.
    # Not under create_graph (the gradients are Tensors of a graph) or hooks (they may keep a gradient).
    owned: set | None = None if create_graph or hooks else set()
    callbacks: list = []
    callbacks_token = _final_callbacks.set(callbacks)
    # Grad mode on only under create_graph; outside it, ops given raw arrays compute on them.
    tokens = (_grad_enabled.set(create_graph), _raw_namespace.set(None if create_graph else root.xp))
    try:
        for node in order:
            grad_output = grad_of.pop(node, None)
            if grad_output is None:  # no path from root carries a gradient here
                continue
            inputs = node.inputs
            if owned is not None:
                owned.discard(node)
                if node.add_grad_into is not None and inputs[0].creator in owned and inputs[0].requires_grad:
                    creator = inputs[0].creator  # (a slice of a larger result: no zeros of the whole shape)
                    grad_of[creator] = node.add_grad_into(grad_of[creator], grad_output)
                    continue
            values = inputs if create_graph else [tensor._data for tensor in inputs]
            if hooks:
                input_grads = run_hooked(hooks, "backward", node, lambda: node.backward(grad_output, *values))
            else:
                input_grads = node.backward(grad_output, *values)
            if type(input_grads) is not tuple:
                input_grads = _as_tuple(node, input_grads)
            if len(input_grads) != len(inputs):
                raise TypeError(f"the backward of {node.name} returned {len(input_grads)} gradients for "
                                f"{len(inputs)} inputs; return one per input (None where there is none)")
            for index, tensor in enumerate(inputs):
                input_grad = input_grads[index]
                if input_grad is None or not tensor.requires_grad:
                    continue
                data = tensor._data
                if input_grad.shape != data.shape or input_grad.dtype is not data.dtype:  # fast when they fit
                    if not _fits(input_grad, tensor, create_graph):
                        _refuse(node, index, input_grad, tensor, create_graph)
                creator = tensor.creator
                if creator is None:
                    _accumulate(tensor, input_grad, create_graph)
                else:
                    previous = grad_of.get(creator)
                    if previous is None:
                        grad_of[creator] = input_grad
                        if owned is not None and node.fresh_input_grads:
                            owned.add(creator)
                    elif owned is not None and creator in owned:
                        previous += input_grad  # in place where the library can write (a new array on JAX)
                        grad_of[creator] = previous
                    else:
                        grad_of[creator] = previous + input_grad
                        if owned is not None:
                            owned.add(creator)
    finally:
        _raw_namespace.reset(tokens[1])
        _grad_enabled.reset(tokens[0])
        _final_callbacks.reset(callbacks_token)
    for callback in callbacks:  # every leaf gradient is in place; grad mode is the caller's again
        callback()
    if not retain_graph:
        # Only now: a node's backward may need tensors that a later node's inputs hold.
        for node in order:
            node.release()


def raise_modified(node: "Function", what: str, tensor: "Tensor") -> None:
    """PyTorch's error for a value changed in place after an op used it (never a silently wrong gradient)."""
    raise RuntimeError(
        f"one of the variables needed for gradient computation has been modified by an inplace operation: "
        f"{what} of {node.name} (shape {tensor.shape}) was changed in place after {node.name} used it (it is now "
        f"at version {tensor._version}); make the change outside md.no_grad() so that it is recorded, "
        f"write `x = x + y` instead of `x += y`, or change it after backward()"
    )


def queue_callback(callback: Callable[[], Any]) -> None:
    """Call ``callback()`` once, when the backward() now running has accumulated every leaf gradient.

    Only a gradient hook (which runs inside backward) can queue one; a callback
    queued again in the same backward still runs once. Data-parallel training uses
    it to wait for its gradient all-reduces before backward() returns.
    """
    callbacks = _final_callbacks.get()
    if callbacks is None:
        raise RuntimeError("queue_callback works only while backward() runs (call it from a gradient hook)")
    if callback not in callbacks:
        callbacks.append(callback)


def _accumulate(leaf: "Tensor", grad: Any, create_graph: bool) -> None:
    """``leaf.grad += grad`` (a Tensor op, so md.compile sees the old gradient), then the leaf's hooks."""
    if not create_graph:
        grad = type(leaf)._wrap(grad, leaf.xp, leaf.backend)
    leaf.grad = grad if leaf.grad is None else leaf.grad + grad
    if leaf.grad_hooks:
        for hook in list(leaf.grad_hooks.values()):
            hook(leaf)


def _as_tuple(node: "Function", grads: Any) -> tuple:
    """A backward may return a list, or for a one-input op the one gradient alone."""
    if isinstance(grads, list):
        return tuple(grads)
    if len(node.inputs) == 1 and (grads is None or hasattr(grads, "shape")):
        return (grads,)
    raise TypeError(f"the backward of {node.name} returned {type(grads).__name__}; "
                    f"return a tuple with one gradient (or None) per input ({len(node.inputs)})")


def _fits(grad: Any, tensor: "Tensor", create_graph: bool) -> bool:
    """Whether a gradient has its input's shape and dtype (Tensors under create_graph, else arrays)."""
    if create_graph:
        return grad.shape == tensor.shape and grad.dtype is tensor.dtype
    return tuple(grad.shape) == tuple(tensor._data.shape) and same_dtype(grad.dtype, tensor._data.dtype)


def _refuse(node: "Function", index: int, grad: Any, tensor: "Tensor", create_graph: bool) -> None:
    grad_dtype = grad.dtype if create_graph else dtype_of(grad.dtype)
    raise ValueError(
        f"the backward of {node.name} returned a gradient of shape {tuple(grad.shape)} and dtype "
        f"{grad_dtype.name} for input {index}, which has shape {tensor.shape} and dtype {tensor.dtype.name}; "
        "a gradient must have its input's shape and dtype (sum a broadcast gradient back with md.sum_to)"
    )
