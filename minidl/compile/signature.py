"""What a trace fixes about a compiled step's arguments, and the libraries it cannot trace.

A trace records the operations of one call, so the Tensors of the next call
must have the same shapes, dtypes and backends, and the Python values must
be equal: a replay checks the signature of its arguments against the
trace's, and says which argument changed.
"""

from __future__ import annotations

from typing import Iterable

from minidl.autograd.tensor import Tensor
from minidl.backend import get_backend, library
from minidl.compile.tracer import CompileError


def refuse_lazy(backends: Iterable[str]) -> None:
    """Raise a CompileError if one of ``backends`` is lazy (Dask): its operations already build a graph."""
    for name in sorted(set(backends)):
        if library(name).lazy:
            raise CompileError(f"md.compile cannot trace a step on the {name} backend: {name} is lazy, so each "
                               "operation already adds to a graph that runs later, and a trace has nothing to "
                               "add. Call the step itself: use `step` where you wrote `md.compile(step)`")


def backends_of(args: tuple) -> set[str]:
    """The backends of a step's Tensor arguments (the current backend where it takes none)."""
    return {arg.backend for arg in args if isinstance(arg, Tensor)} or {get_backend()}


def signature_of(args: tuple) -> list[tuple]:
    """What a trace fixes about each argument: a Tensor's shape, dtype and backend, or a Python value."""
    signature = []
    for arg in args:
        if isinstance(arg, Tensor):
            if arg.requires_grad:
                raise CompileError(f"a compiled step takes its batch as tensors that do not require grad, but "
                                   f"argument {len(signature)} (shape {arg.shape}) does: a replay would not fill "
                                   "its .grad; pass arg.detach(), or run this step without md.compile")
            signature.append(("tensor", arg.shape, arg.dtype.name, arg.backend))
        elif arg is None or isinstance(arg, (bool, int, float, str)):
            signature.append(("value", arg))
        else:
            raise TypeError(f"a compiled step takes Tensors and Python numbers, got a {type(arg).__name__}; "
                            "wrap arrays with md.tensor(...)")
    return signature


def check_signature(traced: list[tuple], now: list[tuple]) -> None:
    """Raise a CompileError naming the first argument whose signature differs from the trace's."""
    if len(traced) != len(now):
        raise CompileError(f"the compiled step was traced with {len(traced)} arguments, and is called with {len(now)}")
    for index, (then, current) in enumerate(zip(traced, now)):
        if then != current:
            raise CompileError(f"argument {index} of the compiled step was {_describe(then)} at the trace and is "
                               f"{_describe(current)} now: a trace fixes shapes, dtypes, backends and Python "
                               "values. Compile one step per shape (or drop the last partial batch), or call "
                               "step.reset() to trace again")


def _describe(entry: tuple) -> str:
    if entry[0] == "tensor":
        return f"a {entry[2]} tensor of shape {entry[1]} on {entry[3]!r}"
    return f"the value {entry[1]!r}"
