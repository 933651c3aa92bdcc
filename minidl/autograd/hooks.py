"""Hooks: how tools (profiler, anomaly detection, md.compile) watch every op.

A hook is an object with ``forward(node, call)`` and ``backward(node, call)``
methods; ``call()`` runs the real work and returns its result, which the hook
must return. With no hook installed, the only cost is one ContextVar lookup per op.
"""

from __future__ import annotations

import contextlib
import contextvars
from typing import Any, Callable, Iterator

_hooks: contextvars.ContextVar[tuple] = contextvars.ContextVar("minidl_hooks", default=())


def installed_hooks() -> tuple:
    return _hooks.get()


def run_hooked(hooks: tuple, phase: str, node: Any, call: Callable[[], Any]) -> Any:
    """Run ``call`` wrapped by every installed hook (the first installed is outermost)."""
    if len(hooks) == 1:  # the usual case (one profiler): no wrapper closures
        return getattr(hooks[0], phase)(node, call)
    for hook in reversed(hooks):
        call = (lambda hook, inner: lambda: getattr(hook, phase)(node, inner))(hook, call)
    return call()


@contextlib.contextmanager
def install_hook(hook: Any) -> Iterator[Any]:
    """Install ``hook`` for the duration of a ``with`` block (in this thread/context only)."""
    token = _hooks.set(_hooks.get() + (hook,))
    try:
        yield hook
    finally:
        _hooks.reset(token)
