"""Function: one node of the graph, with its forward and its backward side by side.

A subclass computes ``forward`` on raw ``xp`` arrays and writes its
derivative ONCE, in ``backward(self, grad, *inputs)``, with operators and
other ops' ``apply``. The engine decides what that formula computes on:

- an ordinary ``loss.backward()`` hands it raw arrays (``grad`` and the
  inputs' arrays), and every op the formula calls runs straight on those
  arrays, recording nothing: the chain rule at the cost of the array calls;
- ``loss.backward(create_graph=True)`` hands it Tensors, so the same formula
  records a graph of its own, which can be differentiated again.

>>> import minidl as md
>>> class Cube(md.Function):
...     def forward(self, a):
...         return a * a * a
...     def backward(self, grad, a):
...         return grad * 3.0 * a * a      # one input: a tuple of one gradient, or the gradient alone
>>> x = md.tensor([2.0], requires_grad=True)
>>> Cube.apply(x).backward(md.ones((1,)))
>>> x.grad.tolist()
[12.0]
"""

from __future__ import annotations

import weakref
from typing import Any

from minidl.autograd.engine import inplace_changes, raise_modified
from minidl.autograd.ctx_function import apply_ctx_style, backward_ctx_style, check_ctx_style, is_ctx_style
from minidl.autograd.grad_mode import _grad_enabled, _raw_namespace
from minidl.autograd.hooks import _hooks, run_hooked
from minidl.autograd.tensor import Tensor


class Function:
    """Base class of every differentiable operation.

    ``forward(self, *arrays)`` returns one array; ``backward(self, grad,
    *inputs)`` returns one gradient (or None) per input, of the input's shape
    and dtype, for inputs that are all arrays or all Tensors (see the module
    docstring). ``self.inputs`` are the input Tensors, ``self.output`` the
    output Tensor (held weakly, so the graph has no reference cycle).

    An op's parameters (an axis, a shape) are declared as class annotations
    and passed to ``apply`` by keyword: ``Sum.apply(x, axes=(0,), keepdims=False)``.
    """

    __slots__ = ("inputs", "xp", "_output_ref", "__weakref__", "__dict__")

    # A class-level default, not a slot: apply() then need not set it on every node,
    # and release() sets it on the instance (in __dict__) once the node is used up.
    released = False
    # The _version of each input when the node was recorded (None: all 0), and of the output (see
    # minidl.ops.inplace): backward() refuses to run on a value that was changed in place since.
    input_versions = None
    output_version = 0
    # Floating-point operations of one forward call, for ops that are GEMMs (read by the profiler).
    gemm_flops = None
    # On raw arrays, whether backward() returns new arrays that nothing else holds (the engine may then
    # add later gradients into them in place), and, for a one-input op, add_grad_into(accumulated, grad):
    # ``accumulated`` plus the input's gradient, written into ``accumulated`` (see minidl.autograd.engine).
    fresh_input_grads = False
    add_grad_into = None
    _param_names: frozenset[str] = frozenset()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if is_ctx_style(cls):  # PyTorch's style: static forward(ctx, ...) / backward(ctx, grad)
            check_ctx_style(cls)
            node_class = type(cls.__name__, (_CtxNode,), {"__module__": cls.__module__})  # named as the user's
            cls.apply = classmethod(lambda klass, *args, **params: apply_ctx_style(klass, node_class, *args, **params))
        declared = set(cls._param_names)
        declared.update(name for name in cls.__dict__.get("__annotations__", {}) if not name.startswith("_"))
        cls._param_names = frozenset(declared)

    @property
    def output(self) -> Tensor:
        return self._output_ref()

    def forward(self, *arrays: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, grad: Any, *inputs: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def needs_input_grad(self) -> tuple[bool, ...]:
        """For each input, whether it wants a gradient (skip the work when not), as in PyTorch."""
        return tuple([tensor.requires_grad for tensor in self.inputs])

    def output_like(self, grad: Any) -> Any:
        """The op's result in the kind of ``grad``: the output Tensor, or its array."""
        output = self._output_ref()
        if output._version != self.output_version:
            raise_modified(self, "its output", output)
        return output if isinstance(grad, Tensor) else output._data

    def saved_like(self, grad: Any, array: Any, recompute: Any) -> Any:
        """A value the forward already computed (``array``), in the kind of ``grad``.

        On raw arrays it is reused as it is; under ``create_graph`` it must
        carry a graph back to the inputs, so ``recompute()`` builds it again
        from Tensors. The formula that uses it stays one formula.
        """
        return recompute() if isinstance(grad, Tensor) else array

    def release(self) -> None:
        """Free what the node holds once backward has used it."""
        self.inputs = None
        self.__dict__.clear()
        self.released = True

    @property
    def name(self) -> str:
        return type(self).__name__

    @classmethod
    def apply(cls, *inputs: Any, **params: Any) -> Any:
        """Run the op: on Tensors, compute forward and record the node if needed; on raw arrays
        (inside a ``backward()`` walk), compute forward and return the array.

        This runs for every operation, so it is written for speed: no generator
        expressions, no import, each attribute read once.
        """
        # object.__new__, not cls(): no __init__ per op. apply() sets every slot that
        # later code reads (inputs, xp, and _output_ref when the node is recorded).
        node = object.__new__(cls)
        if params:
            node.__dict__.update(params)
        node.inputs = inputs
        first = inputs[0]
        hooks = _hooks.get()
        if not isinstance(first, Tensor):  # raw arrays, inside a backward() walk: compute, record nothing
            xp = node.xp = _raw_namespace.get()
            if xp is None:
                _refuse_arrays(cls.__name__, inputs)
            if hooks:
                return run_hooked(hooks, "forward", node, lambda: node.forward(*inputs))
            return node.forward(*inputs)
        if params and not cls._param_names.issuperset(params):  # (checked on Tensors, not again per backward)
            unknown = ", ".join(sorted(set(params) - cls._param_names))
            raise TypeError(f"{cls.__name__}.apply got undeclared parameters {unknown}; "
                            f"declare them as annotations on the class")
        backend = first.backend
        if len(inputs) > 1:
            try:
                for other in inputs:
                    if other.backend != backend:
                        check_same_backend(cls.__name__, inputs)
            except AttributeError:  # a non-Tensor among the inputs: the check explains
                check_same_backend(cls.__name__, inputs)
        node.xp = first.xp
        if hooks:  # the arrays are read inside call(): a hook (md.compile) may swap them first
            data = run_hooked(hooks, "forward", node, lambda: node.forward(*[t._data for t in inputs]))
        else:
            data = node.forward(*[t._data for t in inputs])
        record = False
        if _grad_enabled.get():
            for tensor in inputs:
                if tensor.requires_grad:
                    record = True
                    break
        out = Tensor._wrap(data, first.xp, backend, record)  # first.xp: a hook may have swapped it
        if record:
            out.creator = node
            node._output_ref = weakref.ref(out)
            if inplace_changes[0]:
                for tensor in inputs:
                    if tensor._version:  # changed in place before: remember the versions this node saw
                        node.input_versions = tuple([t._version for t in inputs])
                        break
        else:
            node.inputs = None
        return out


class _CtxNode(Function):
    """The recorded node of a PyTorch-style Function: its backward calls the user's (see ctx_function)."""

    def backward(self, grad: Any, *inputs: Any) -> Any:
        return backward_ctx_style(self, grad)


def _refuse_arrays(op: str, arrays: tuple) -> None:
    names = ", ".join(type(a).__name__ for a in arrays)
    raise TypeError(f"{op} expects minidl Tensors, got {names}; convert with md.tensor(...)")


def check_same_backend(op: str, tensors: Any) -> None:
    """Refuse Tensors of two backends in one op, naming both and the fix (the one place this is checked)."""
    try:
        backend = tensors[0].backend
        for other in tensors:
            if other.backend != backend:
                raise ValueError(f"{op} got tensors on two backends, {backend!r} and {other.backend!r}; "
                                 f"move one with .to({backend!r}) (a model: model.to({backend!r}))")
    except AttributeError:
        names = ", ".join(type(t).__name__ for t in tensors)
        raise TypeError(f"{op} expects minidl Tensors, got {names}; convert with md.tensor(...)") from None
