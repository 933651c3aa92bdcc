"""Random numbers on the host.

The Array API standard has no random module, so minidl draws on the host with
NumPy's ``default_rng`` and moves the numbers to the backend: one seed gives
the same weights on every backend (NumPy, CuPy, array-api-strict, PyTorch, JAX, ...).
"""

from __future__ import annotations

import contextlib
import contextvars
from typing import Any, Callable, Iterator

import numpy

# No shared default: a Generator is not thread-safe, and two threads drawing from one would get
# numbers that depend on scheduling.  Each thread (context) makes its own, seeded 0, on first use.
_rng: contextvars.ContextVar[numpy.random.Generator | None] = contextvars.ContextVar("minidl_rng", default=None)


# Who records draws (md.compile's tracer), if anyone: see `draw`.
_draw_observer: contextvars.ContextVar[Callable[..., Any] | None] = contextvars.ContextVar(
    "minidl_draw_observer", default=None)


def draw(make: Callable[..., Any], *args: Any) -> Any:
    """``make(*args)``: an array drawn from `host_rng` (a dropout mask), made where an observer can see it.

    ``md.compile`` observes draws while it traces a step and replays
    ``make(*args)`` at every call, so the generator advances as it would
    eagerly: one seed gives the same masks compiled and eager.
    """
    observer = _draw_observer.get()
    return make(*args) if observer is None else observer(make, args)


@contextlib.contextmanager
def observing_draws(observer: Callable[[Callable[..., Any], tuple], Any]) -> Iterator[None]:
    """Inside the block, `draw` calls ``observer(make, args)`` instead of ``make(*args)``."""
    token = _draw_observer.set(observer)
    try:
        yield
    finally:
        _draw_observer.reset(token)


def manual_seed(seed: int) -> None:
    """Reseed minidl's host random generator (weights, ``randn``, dropout, shuffling)."""
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"manual_seed takes a non-negative integer, got {seed!r}")
    _rng.set(numpy.random.default_rng(seed))


def host_rng() -> numpy.random.Generator:
    """The NumPy generator that all of minidl's random draws come from (one per thread)."""
    rng = _rng.get()
    if rng is None:
        rng = numpy.random.default_rng(0)
        _rng.set(rng)
    return rng


class Generator:
    """A random generator of its own, as ``torch.Generator``: pass it as ``generator=`` to a random function.

    It draws on the host like everything random in minidl, so one seed gives
    the same numbers on every backend (``device`` is accepted and ignored).

    >>> import minidl as md
    >>> g = md.Generator().manual_seed(3)
    >>> a = md.randn(2, generator=g)
    >>> bool((a == md.randn(2, generator=md.Generator().manual_seed(3))).all())
    True
    """

    def __init__(self, device: object = "cpu") -> None:
        self._seed = 0
        self.rng = numpy.random.default_rng(0)

    def manual_seed(self, seed: int) -> "Generator":
        """Restart the sequence from ``seed``; returns the generator (as PyTorch's does)."""
        if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
            raise ValueError(f"manual_seed takes a non-negative integer, got {seed!r}")
        self._seed, self.rng = seed, numpy.random.default_rng(seed)
        return self

    def initial_seed(self) -> int:
        return self._seed


def rng_of(generator: Generator | None) -> numpy.random.Generator:
    """The NumPy generator to draw from: ``generator``'s, or minidl's shared one when None."""
    if generator is None:
        return host_rng()
    if not isinstance(generator, Generator):
        raise TypeError(f"generator= takes an md.Generator, got {type(generator).__name__}")
    return generator.rng
