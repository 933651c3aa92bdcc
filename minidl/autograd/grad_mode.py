"""The engine's two modes: whether ops record a graph, and which kind of value a backward computes on.

Grad mode is what ``md.no_grad()`` turns off. The second mode belongs to
``backward()``: an ordinary ``loss.backward()`` hands every op's backward raw
arrays, and the ops a backward formula calls then compute on those arrays
without recording anything (see `minidl.autograd.function.Function.apply()`);
``backward(create_graph=True)`` hands them Tensors instead, so the gradient is
itself a graph. Both settings live in `contextvars`: each thread has its own.
"""

from __future__ import annotations

import contextvars
import functools
from typing import Any, Callable

_grad_enabled: contextvars.ContextVar[bool] = contextvars.ContextVar("minidl_grad_enabled", default=True)
# The namespace of the raw arrays a backward() walk hands to the ops (None outside such a walk).
_raw_namespace: contextvars.ContextVar[Any] = contextvars.ContextVar("minidl_raw_namespace", default=None)


def is_grad_enabled() -> bool:
    """True unless inside ``md.no_grad()``."""
    return _grad_enabled.get()


class set_grad_enabled:
    """Turn graph recording on or off: as a ``with`` block, or as a decorator.

    >>> import minidl as md
    >>> with md.set_grad_enabled(False):
    ...     md.is_grad_enabled()
    False
    """

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = bool(enabled)
        self._tokens: list[contextvars.Token] = []

    def __enter__(self) -> None:
        self._tokens.append(_grad_enabled.set(self.enabled))

    def __exit__(self, *exc_info: Any) -> None:
        _grad_enabled.reset(self._tokens.pop())

    def __call__(self, function: Callable) -> Callable:
        @functools.wraps(function)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            with type(self)(self.enabled) if type(self) is set_grad_enabled else type(self)():
                return function(*args, **kwargs)
        return wrapped


class no_grad(set_grad_enabled):
    """Operations record no graph inside it (evaluation, optimizer steps); also a decorator, bare or called.

    >>> import minidl as md
    >>> w = md.ones((2,), requires_grad=True)
    >>> with md.no_grad():
    ...     y = w * 2
    >>> y.requires_grad
    False
    >>> @md.no_grad
    ... def evaluate(w):
    ...     return (w * 2).requires_grad
    >>> evaluate(w)
    False
    """

    def __new__(cls, function: Callable | None = None) -> Any:
        instance = super().__new__(cls)
        if function is not None:  # @md.no_grad without parentheses
            instance.__init__()
            return instance(function)
        return instance

    def __init__(self, function: Callable | None = None) -> None:
        super().__init__(False)


class enable_grad(no_grad):
    """Record a graph again inside ``md.no_grad()``; also a decorator, bare or called."""

    def __init__(self, function: Callable | None = None) -> None:
        set_grad_enabled.__init__(self, True)


def raw_namespace() -> Any:
    """The namespace of the raw arrays that the running ``backward()`` walks on, or None."""
    return _raw_namespace.get()
