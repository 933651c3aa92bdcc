"""Function: one node of the graph, with its forward and its backward side by side.

A subclass computes ``forward`` on raw ``xp`` arrays and ``backward`` on
Tensors, using minidl's own differentiable ops.  Writing the backward with
Tensors is what makes ``backward(create_graph=True)`` work: the gradient
computation is itself recorded as a graph, so it can be differentiated again.
"""

from __future__ import annotations

import contextlib
import contextvars
import weakref
from typing import TYPE_CHECKING, Any, Iterator

if TYPE_CHECKING:
    from minidl.autograd.tensor import Tensor

_grad_enabled: contextvars.ContextVar[bool] = contextvars.ContextVar("minidl_grad_enabled", default=True)


def is_grad_enabled() -> bool:
    """True unless inside ``md.no_grad()``."""
    return _grad_enabled.get()


@contextlib.contextmanager
def set_grad_enabled(enabled: bool) -> Iterator[None]:
    """Turn graph recording on or off inside a ``with`` block."""
    token = _grad_enabled.set(bool(enabled))
    try:
        yield
    finally:
        _grad_enabled.reset(token)


def no_grad() -> contextlib.AbstractContextManager[None]:
    """A context manager in which operations record no graph (evaluation, optimizer steps).

    >>> import minidl as md
    >>> w = md.ones((2,), requires_grad=True)
    >>> with md.no_grad():
    ...     y = w * 2
    >>> y.requires_grad
    False
    """
    return set_grad_enabled(False)


class Function:
    """Base class of every differentiable operation.

    Subclasses implement ``forward(self, *arrays)`` returning one array, and
    ``backward(self, grad_output)`` returning one gradient Tensor (or None)
    per input.  ``self.inputs`` are the input Tensors; ``self.output`` is the
    output Tensor (held weakly, so the graph has no reference cycle).

    The ops that every training step runs (linear, matmul, relu, add,
    multiply, cross-entropy) also define ``backward_arrays(self, grad)``: the
    same formulas on raw arrays, which ``backward()`` uses unless it must
    record the gradient computation (``create_graph=True``).
    """

    __slots__ = ("inputs", "xp", "_output_ref", "__weakref__", "__dict__")

    # A class-level default, not a slot: apply() then need not set it on every node,
    # and release() sets it on the instance (in __dict__) once the node is used up.
    released = False
    backward_arrays = None  # optional fast path: see the class docstring

    def __init__(self) -> None:
        self.inputs: tuple[Tensor, ...] | None = None
        self._output_ref: weakref.ref | None = None

    @property
    def output(self) -> "Tensor":
        return self._output_ref()

    def forward(self, *arrays: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, grad_output: "Tensor") -> tuple["Tensor | None", ...]:  # pragma: no cover - abstract
        raise NotImplementedError

    def needs_grad(self, index: int) -> bool:
        """Whether input ``index`` wants a gradient (skip the work when not)."""
        return self.inputs[index].requires_grad

    def release(self) -> None:
        """Free what the node holds once backward has used it."""
        self.inputs = None
        self.__dict__.clear()
        self.released = True

    @property
    def name(self) -> str:
        return type(self).__name__

    @classmethod
    def apply(cls, *inputs: "Tensor", **params: Any) -> "Tensor":
        """Run the op on Tensors: compute forward, and record the node if needed.

        This runs for every operation, so it is written for speed: no generator
        expressions, no import, each attribute read once.
        """
        # object.__new__, not cls(): no __init__ call per op. apply() sets every slot
        # that later code reads (inputs, xp, and _output_ref when the node is recorded).
        node = object.__new__(cls)
        if params:
            node.__dict__.update(params)
        first = inputs[0]
        try:
            backend = first.backend
            if len(inputs) > 1:
                for other in inputs:
                    if other.backend != backend:
                        raise ValueError(
                            f"{cls.__name__} got tensors on two backends, {backend!r} and {other.backend!r}; "
                            f"move one with .to({backend!r}) (a model: model.to({backend!r}))"
                        )
        except AttributeError:
            names = ", ".join(type(t).__name__ for t in inputs)
            raise TypeError(f"{cls.__name__} expects minidl Tensors, got {names}; convert with md.tensor(...)") from None
        node.inputs = inputs
        node.xp = first.xp
        hooks = _hooks.get()
        if hooks:  # the arrays are read inside call(): a hook (md.compile) may swap them first
            data = run_hooked(hooks, "forward", node, lambda: node.forward(*[t.data for t in inputs]))
        else:
            data = node.forward(*[t.data for t in inputs])
        record = False
        if _grad_enabled.get():
            for tensor in inputs:
                if tensor.requires_grad:
                    record = True
                    break
        out = cls.tensor_type._wrap(data, first.xp, backend, record)  # first.xp: a hook may have swapped it
        if record:
            out.creator = node
            node._output_ref = weakref.ref(out)
        else:
            node.inputs = None
            node._output_ref = None
        return out


# ---- hooks: how tools (profiler, anomaly detection) watch every op -------------------------
# A hook is an object with ``forward(node, call)`` and ``backward(node, call)`` methods;
# ``call()`` runs the real work and returns its result, which the hook must return.
# With no hook installed, the only cost is one ContextVar lookup per op.
_hooks: contextvars.ContextVar[tuple] = contextvars.ContextVar("minidl_hooks", default=())


def run_hooked(hooks: tuple, phase: str, node: Function, call: Any) -> Any:
    """Run ``call`` wrapped by every installed hook (the first installed is outermost)."""
    if len(hooks) == 1:  # the usual case (one profiler): no wrapper closures
        return getattr(hooks[0], phase)(node, call)
    for hook in reversed(hooks):
        call = (lambda hook, inner: lambda: getattr(hook, phase)(node, inner))(hook, call)
    return call()


def installed_hooks() -> tuple:
    return _hooks.get()


@contextlib.contextmanager
def install_hook(hook: Any) -> Iterator[Any]:
    """Install ``hook`` for the duration of a ``with`` block (in this thread/context only)."""
    token = _hooks.set(_hooks.get() + (hook,))
    try:
        yield hook
    finally:
        _hooks.reset(token)
