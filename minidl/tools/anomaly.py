"""Anomaly detection: stop at the first op that produces NaN or Inf, and say where it came from.

A NaN spreads: one ``log(0)`` or one overflowing ``exp`` in step 900 turns
every later number into NaN, and the loss curve only shows the end of the
story.  Inside ``md.detect_anomaly()`` every op's forward output and every
gradient its backward returns is checked, and the first non-finite one
raises an `AnomalyError` naming the op, its input shapes and dtypes,
the phase, and the line of *your* code that created the op.

It is a debugging tool: each check reads the whole array (and waits for the
GPU).  Outside the ``with`` block no hook is installed, so it costs nothing.
"""

from __future__ import annotations

import contextlib
import contextvars
import linecache
import os
import sys
import weakref
from typing import Any, Iterator

from minidl.autograd.function import Function
from minidl.autograd.tensor import Tensor
from minidl.autograd.hooks import install_hook, installed_hooks

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_UNKNOWN = "unknown: the op was created outside md.detect_anomaly(); run the forward pass inside it too"

# Where each op was created, kept beside the node rather than in it (graph drawings show a
# node's attributes), and forgotten when the node is collected.
_origins: "weakref.WeakKeyDictionary[Function, str]" = weakref.WeakKeyDictionary()

# The node whose backward is running: the ops that backward calls belong to it, not to the user.
_backward_of: contextvars.ContextVar[Function | None] = contextvars.ContextVar("minidl_anomaly_node", default=None)


class AnomalyError(RuntimeError):
    """An op produced NaN or Inf inside ``md.detect_anomaly()``.

    Besides its message it carries ``op`` (the op's name), ``phase``
    (``"forward"`` or ``"backward"``), ``inputs`` (a list of ``(shape, dtype name)``)
    and ``origin`` (``file:line`` of the user code that created the op).
    """

    def __init__(self, op: str, phase: str, inputs: list[tuple[tuple[int, ...], str]], origin: str,
                 problem: str, detail: str = "") -> None:
        self.op, self.phase, self.inputs, self.origin = op, phase, inputs, origin
        shapes = ", ".join(f"{shape} {dtype}" for shape, dtype in inputs)
        super().__init__(f"{op} produced {problem} in its {phase} pass{detail}\n"
                         f"  inputs:     {shapes}\n"
                         f"  created at: {origin}")


def _user_frame() -> str:
    """``file:line in function`` and the source line of the first caller outside the minidl package."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
    if frame is None:
        return "inside minidl (no caller outside the package)"
    filename, line = frame.f_code.co_filename, frame.f_lineno
    code = linecache.getline(filename, line).strip()
    return f"{filename}:{line} in {frame.f_code.co_name}" + (f"\n              {code}" if code else "")


def _finite(xp: Any, array: Any) -> bool:
    """True unless ``array`` is floating point and holds a NaN or an Inf."""
    if not xp.isdtype(array.dtype, "real floating"):
        return True
    return bool(xp.all(xp.isfinite(array)))


def _kind(xp: Any, array: Any) -> str:
    """``"NaN"``, ``"Inf"`` or ``"NaN and Inf"``."""
    found = [word for word, test in (("NaN", xp.isnan), ("Inf", xp.isinf)) if bool(xp.any(test(array)))]
    return " and ".join(found)


def _error(node: Function, inputs: tuple, phase: str, problem: str, detail: str = "") -> AnomalyError:
    described = [(tuple(t.shape), t.dtype.name) for t in inputs]
    return AnomalyError(node.name, phase, described, _origins.get(node, _UNKNOWN), problem, detail)


class _AnomalyHook:
    """The hook [`minidl.autograd.hooks.install_hook()`][minidl.autograd.hooks.install_hook] calls around every op."""

    def forward(self, node: Function, call: Any) -> Any:
        outer = _backward_of.get()
        if outer is not None:  # an op inside a backward: its result is checked as that backward's gradient
            _origins[node] = f"the backward of {outer.name}, created at {_origins.get(outer, _UNKNOWN)}"
            return call()
        _origins[node] = _user_frame()  # now: by backward time the user's frame is gone
        inputs = node.inputs
        data = call()
        if not _finite(node.xp, data):
            upstream = [i for i, t in enumerate(inputs) if not _finite(t.xp, t.data)]
            note = (f"; input {', '.join(map(str, upstream))} already held NaN/Inf, so the problem starts in "
                    "data that no op inside detect_anomaly made" if upstream else "")
            raise _error(node, inputs, "forward", _kind(node.xp, data), note)
        return data

    def backward(self, node: Function, call: Any) -> Any:
        inputs = node.inputs
        token = _backward_of.set(node)
        try:
            grads = call()
        finally:
            _backward_of.reset(token)
        for index, grad in enumerate(grads if isinstance(grads, (tuple, list)) else (grads,)):
            if grad is None:
                continue
            array = grad.data if isinstance(grad, Tensor) else grad  # arrays, or Tensors under create_graph
            if not _finite(node.xp, array):
                raise _error(node, inputs, "backward", _kind(node.xp, array),
                             f" (in the gradient of input {index}, shape {tuple(array.shape)})")
        return grads


@contextlib.contextmanager
def detect_anomaly() -> Iterator[None]:
    """Raise `AnomalyError` at the first op whose forward or backward makes NaN or Inf.

    Run both the forward pass and ``backward()`` inside the block, so that a
    backward error can name the line that created the op.  The setting is per
    thread (and per context), like ``md.no_grad()``; nesting is harmless.

    >>> import minidl as md
    >>> x = md.tensor([0.0, 1.0], requires_grad=True)
    >>> with md.detect_anomaly():  # doctest: +ELLIPSIS
    ...     y = md.log(x)
    Traceback (most recent call last):
    ...
    minidl.tools.anomaly.AnomalyError: Log produced Inf in its forward pass
    ...
    """
    if any(isinstance(hook, _AnomalyHook) for hook in installed_hooks()):
        yield
        return
    with install_hook(_AnomalyHook()):
        yield
